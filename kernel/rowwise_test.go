package kernel

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/adagrad-go/adagrad/ref"
)

// rowWiseDims cross every boundary of the row-wise kernels: the 16 (float32) or
// 8 (float64) partial sums, the AVX2 vector and its 4-vector block, and a tail of
// every length.
var rowWiseDims = []int{1, 2, 3, 4, 5, 7, 8, 9, 12, 15, 16, 17, 23, 24, 31, 32, 33, 40, 47, 48, 63, 64, 65, 100, 128, 257}

// rowWiseParams adds an infinite weight decay to formParams: it turns the zeros a
// masked tail loads into NaN unless the kernel clears them again.
var rowWiseParams = append(formParams[:len(formParams):len(formParams)],
	params{lr: 0.1, eps: 1e-6, wd: math.Inf(1), decay: 1, gain: 1})

func refRowWise[T float, I Index](f Form, x, s []T, dim int, rows []I, g []T, p params) error {
	return ref.RowWise(f, x, s, dim, rows, g, paramsIn[T](p))
}

func kernelRowWise[T float, I Index](f Form, x, s []T, dim int, rows []I, g []T, p params) error {
	return RowWise(f, x, s, dim, rows, g, paramsIn[T](p))
}

// testRowWise holds every implementation's RowWise, for every form, to the
// reference bit for bit, on every input class, with repeated rows, at offsets
// that leave the rows unaligned, and with guards around x, s and g.
func testRowWise[T float, I Index](t *testing.T) {
	forEachImpl(t, func(t *testing.T) {
		rng := rand.New(rand.NewPCG(5, 8))
		for _, f := range ref.Forms() {
			for ci, class := range classes {
				for di, dim := range rowWiseDims {
					const numRows = 5
					rows := randomRows[I](rng, numRows, 1+rng.IntN(7))
					x, s := newGuarded[T](numRows*dim, (di+ci)%16), newGuarded[T](numRows, di%16)
					g := newGuarded[T](len(rows)*dim, (ci+3)%16)
					gx := make([]T, len(g.data))
					fill(rng, class, x.data, make([]T, len(x.data)), make([]T, len(x.data)))
					fill(rng, class, make([]T, len(gx)), make([]T, len(gx)), gx)
					fill(rng, class, make([]T, numRows), s.data, make([]T, numRows))
					copy(g.data, gx)
					wantX, wantS := append([]T(nil), x.data...), append([]T(nil), s.data...)
					p := rowWiseParams[(di+ci)%len(rowWiseParams)]
					if err := refRowWise(f, wantX, wantS, dim, rows, append([]T(nil), gx...), p); err != nil {
						t.Fatal(err)
					}
					if err := kernelRowWise(f, x.data, s.data, dim, rows, g.data, p); err != nil {
						t.Fatal(err)
					}
					verify(t, fmt.Sprintf("%v %s dim=%d rows=%v %+v", f, class, dim, rows, p), x, s, g, wantX, wantS, gx)
				}
			}
		}
	})
}

func TestRowWiseForms32(t *testing.T) { testRowWise[float32, int32](t) }
func TestRowWiseForms64(t *testing.T) { testRowWise[float64, int64](t) }
func TestRowWiseForms32Int64(t *testing.T) {
	if testing.Short() {
		t.Skip("the index type does not reach the kernels; -short runs under qemu")
	}
	testRowWise[float32, int64](t)
}
