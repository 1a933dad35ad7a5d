//go:build linux

package kernel

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"unsafe"

	"github.com/adagrad-go/adagrad/internal/guardmem"
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
