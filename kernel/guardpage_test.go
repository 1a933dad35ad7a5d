//go:build linux

package kernel

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"unsafe"

	"github.com/adagrad-go/adagrad/internal/guardmem"
	"github.com/adagrad-go/adagrad/ref"
)

// testGuardPages places x, s and g flush against a PROT_NONE page, first after their
// end and then before their start, so any read or write outside them faults.
func testGuardPages[T float](t *testing.T) {
	sizes := []int{1<<16 + 3, 1 << 16}
	for n := 0; n <= maxSmall; n++ {
		sizes = append(sizes, n)
	}
	var zero T
	elem := int(unsafe.Sizeof(zero))
	var regions [3]*guardmem.Region
	for i := range regions {
		r, err := guardmem.New(sizes[0] * elem)
		if err != nil {
			t.Fatal(err)
		}
		defer r.Free()
		regions[i] = r
	}
	forEachImpl(t, func(t *testing.T) {
		rng := rand.New(rand.NewPCG(7, 7))
		for _, n := range sizes {
			for _, flush := range []string{"end", "start"} {
				var sl [3][]T
				for i, r := range regions {
					b := r.Tail(n * elem)
					if flush == "start" {
						b = r.Head(n * elem)
					}
					sl[i] = guardmem.Floats[T](b)
				}
				x, s, g := sl[0], sl[1], sl[2]
				fill(rng, "anybits", x, s, g)
				wantX, wantS := append([]T(nil), x...), append([]T(nil), s...)
				refUpdate(wantX, wantS, g, 0.1, 1e-6)
				update(x, s, g, 0.1, 1e-6)
				what := fmt.Sprintf("n=%d flush against the guard page at the %s", n, flush)
				if !checkSame(t, what+": s", s, wantS) || !checkSame(t, what+": x", x, wantX) {
					t.FailNow()
				}
			}
		}
	})
}

func TestGuardPages32(t *testing.T) { testGuardPages[float32](t) }
func TestGuardPages64(t *testing.T) { testGuardPages[float64](t) }

// TestGuardPagesRows runs the sparse steps with the tables and the gradient rows
// flush against a PROT_NONE page, at either end, indexing the first and last rows.
func TestGuardPagesRows(t *testing.T) {
	const numRows = 5
	var regions [3]*guardmem.Region
	for i := range regions {
		r, err := guardmem.New(numRows * 129 * 4 * 3)
		if err != nil {
			t.Fatal(err)
		}
		defer r.Free()
		regions[i] = r
	}
	forEachImpl(t, func(t *testing.T) {
		rng := rand.New(rand.NewPCG(5, 6))
		for _, dim := range []int{1, 7, 16, 33, 129} {
			rows := []int32{0, numRows - 1, 2, numRows - 1, 0}
			for _, flush := range []string{"end", "start"} {
				take := func(r *guardmem.Region, n int) []float32 {
					if flush == "start" {
						return guardmem.Floats[float32](r.Head(n * 4))
					}
					return guardmem.Floats[float32](r.Tail(n * 4))
				}
				x, s, g := take(regions[0], numRows*dim), take(regions[1], numRows*dim), take(regions[2], len(rows)*dim)
				fill(rng, "ordinary", x, s, make([]float32, len(x)))
				fill(rng, "ordinary", make([]float32, len(g)), make([]float32, len(g)), g)
				for _, dup := range []Duplicates{Sequential, Coalesced} {
					wantX, wantS := append([]float32(nil), x...), append([]float32(nil), s...)
					if err := refRows(Form{}, dup, wantX, wantS, dim, rows, append([]float32(nil), g...), params{lr: 0.1, eps: 1e-6}); err != nil {
						t.Fatal(err)
					}
					if err := ApplyRows(Form{}, dup, x, s, dim, rows, g, Params32{LR: 0.1, Eps: 1e-6}, nil); err != nil {
						t.Fatal(err)
					}
					what := fmt.Sprintf("dim=%d dup=%d flush %s", dim, dup, flush)
					if !checkSame(t, what+": s", s, wantS) || !checkSame(t, what+": x", x, wantX) {
						t.FailNow()
					}
				}
				// Row-wise: one accumulator per row, flush against the page too.
				sr := take(regions[1], numRows)
				fill(rng, "ordinary", make([]float32, numRows), sr, make([]float32, numRows))
				wantX, wantS := append([]float32(nil), x...), append([]float32(nil), sr...)
				if err := ref.RowWise32(Form{}, wantX, wantS, dim, rows, append([]float32(nil), g...), Params32{LR: 0.1, Eps: 1e-6}); err != nil {
					t.Fatal(err)
				}
				if err := RowWise(Form{}, x, sr, dim, rows, g, Params32{LR: 0.1, Eps: 1e-6}); err != nil {
					t.Fatal(err)
				}
				what := fmt.Sprintf("RowWise dim=%d flush %s", dim, flush)
				if !checkSame(t, what+": s", sr, wantS) || !checkSame(t, what+": x", x, wantX) {
					t.FailNow()
				}
			}
		}
	})
}
