package kernel

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/adagrad-go/adagrad/ref"
)

// rowForms are the forms the sparse tests run: every preset's and two more.
var rowForms = []Form{
	{},
	{EpsOutside: true, Order: MulDiv, WeightDecay: WeightDecayFMA, FusedAccumulator: true},
	{Order: MulDiv},
	{Order: Recip, Guard: true},
	{WeightDecay: WeightDecayAdd, Decay: true},
}

// refRows is the reference of a sparse step in mode dup.
func refRows[T float, I Index](f Form, dup Duplicates, x, s []T, dim int, rows []I, g []T, p params) error {
	if dup == DuplicatesSummed {
		if err := ref.CheckRows(len(x)/dim, rows); err != nil {
			return err
		}
		rows, g = ref.Coalesce(dim, rows, g)
	}
	return ref.ApplyRows(f, x, s, dim, rows, g, paramsIn[T](p))
}

// kernelRows is the kernel's sparse step; workers > 0 runs ApplyRowsParallel.
func kernelRows[T float, I Index](f Form, dup Duplicates, x, s []T, dim int, rows []I, g []T, p params, sc *Scratch, workers int) error {
	if workers > 0 {
		return ApplyRowsParallel(workers, f, dup, x, s, dim, rows, g, paramsIn[T](p), sc)
	}
	return ApplyRows(f, dup, x, s, dim, rows, g, paramsIn[T](p), sc)
}

// randomRows draws n indices in [0, numRows) with many repeats, always including
// the first and the last row.
func randomRows[I Index](rng *rand.Rand, numRows, n int) []I {
	rows := make([]I, n)
	for k := range rows {
		switch k % 5 {
		case 0:
			rows[k] = 0
		case 1:
			rows[k] = I(numRows - 1)
		default:
			rows[k] = I(rng.IntN(numRows))
		}
	}
	rng.Shuffle(n, func(i, j int) { rows[i], rows[j] = rows[j], rows[i] })
	return rows
}

func testRows[T float, I Index](t *testing.T, workers int) {
	forEachImpl(t, func(t *testing.T) {
		rng := rand.New(rand.NewPCG(21, 22))
		var sc Scratch
		for _, f := range rowForms {
			for _, dup := range []Duplicates{DuplicatesInOrder, DuplicatesSummed} {
				for _, dim := range []int{1, 3, 16, 17, 64, 129} {
					const numRows = 7
					n := 1 + rng.IntN(20)
					switch dim {
					case 1: // a parallel worker lists its rows in blocks of ownBlock
						n = 3*ownBlock - 1 - rng.IntN(2)
					case 17:
						n = ownBlock + rng.IntN(2)
					}
					rows := randomRows[I](rng, numRows, n)
					x, s := newGuarded[T](numRows*dim, dim%16), newGuarded[T](numRows*dim, (dim+5)%16)
					g := newGuarded[T](len(rows)*dim, 3)
					gx := make([]T, len(g.data))
					fill(rng, "ordinary", x.data, s.data, make([]T, len(x.data)))
					fill(rng, "ordinary", make([]T, len(gx)), make([]T, len(gx)), gx)
					copy(g.data, gx)
					for i := range s.data {
						s.data[i] = abs(s.data[i])
					}
					wantX, wantS := append([]T(nil), x.data...), append([]T(nil), s.data...)
					p := formParams[dim%len(formParams)]
					p.lr = abs(p.lr)
					if err := refRows(f, dup, wantX, wantS, dim, rows, append([]T(nil), gx...), p); err != nil {
						t.Fatal(err)
					}
					if err := kernelRows(f, dup, x.data, s.data, dim, rows, g.data, p, &sc, workers); err != nil {
						t.Fatal(err)
					}
					verify(t, fmt.Sprintf("%v dup=%d dim=%d rows=%v", f, dup, dim, rows), x, s, g, wantX, wantS, gx)
				}
			}
		}
	})
}

func abs[T float](v T) T {
	if v < 0 {
		return -v
	}
	return v
}

func TestRows32(t *testing.T)      { testRows[float32, int32](t, 0) }
func TestRows64(t *testing.T)      { testRows[float64, int64](t, 0) }
func TestRows32Int64(t *testing.T) { testRows[float32, int64](t, 0) }

// TestRowsParallel: any number of workers gives the sequential call's bits. Run it
// with -race (make test does) to show the workers never touch the same row.
func TestRowsParallel(t *testing.T) {
	for _, w := range []int{1, 2, 3, 8} {
		t.Run(fmt.Sprint("workers=", w), func(t *testing.T) { testRows[float32, int32](t, w) })
		t.Run(fmt.Sprint("float64/workers=", w), func(t *testing.T) { testRows[float64, int64](t, w) })
	}
}

// TestCoalescedAllocatesNothingWarm: with a Scratch that has seen a call of this
// size, a coalesced step makes no allocation.
func TestCoalescedAllocatesNothingWarm(t *testing.T) {
	const numRows, dim, n = 100, 64, 1000
	rng := rand.New(rand.NewPCG(3, 3))
	x, s := make([]float32, numRows*dim), make([]float32, numRows*dim)
	g := make([]float32, n*dim)
	rows := randomRows[int32](rng, numRows, n)
	var sc Scratch
	p := Params[float32]{LR: 0.01, Eps: 1e-7}
	ApplyRows(Form{}, DuplicatesSummed, x, s, dim, rows, g, p, &sc)
	if a := testing.AllocsPerRun(20, func() { ApplyRows(Form{}, DuplicatesSummed, x, s, dim, rows, g, p, &sc) }); a != 0 {
		t.Fatalf("%v allocations per warm call", a)
	}
}

// TestPartOwns checks the remainder by multiplication that assigns rows to the
// workers of a sparse step against %, at the edges of its 32-bit range and past
// them, where a part falls back to %.
func TestPartOwns(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 5))
	for _, n := range []int{1, 2, 3, 5, 7, 8, 63, 64, 1000, 1<<31 + 11, 1<<32 - 1} {
		for _, numRows := range []int{1 << 20, 1 << 32, 1<<32 + 1, 1 << 40} {
			rows := []int{0, 1, n - 1, n, n + 1, 2*n - 1, numRows - 1, numRows - 2}
			for range 2000 {
				rows = append(rows, rng.IntN(numRows))
			}
			for _, r := range rows {
				if r < 0 || r >= numRows {
					continue
				}
				if want, got := r%n, newPart(0, n, numRows).of(r); got != want {
					t.Fatalf("n=%d numRows=%d: row %d in part %d, want %d", n, numRows, r, got, want)
				}
			}
		}
	}
	if newPart(0, 2, 1<<32+1).m != 0 {
		t.Error("a table of more than 2³² rows takes the multiplication")
	}
}
