package kernel

import (
	"fmt"
	"slices"
	"sync"
	"unsafe"

	"github.com/adagrad-go/adagrad/ref"
)

// Index is the type of a row index: int32 or int64.
type Index = ref.Index

// Duplicates is how a sparse step treats a row that appears more than once.
type Duplicates uint8

const (
	// Sequential applies every occurrence, in order, as TensorFlow's CPU kernel
	// and FBGEMM do. It is ref.ApplyRows32.
	Sequential Duplicates = iota
	// Coalesced sums the gradient rows of a repeated index first, in order of
	// appearance, and applies the sum once, as PyTorch and Keras do. It is
	// ref.Coalesce followed by ref.ApplyRows32.
	Coalesced
)

// Scratch is the memory a Coalesced step reuses from call to call, so that once it
// has grown to the largest call it allocates nothing. The zero value is ready to
// use. A Scratch must not be used by two calls at once.
type Scratch struct {
	order   []uint64 // row<<32 | occurrence: sorting it groups rows, occurrences in order
	sum32   []float32
	sum64   []float64
	workers []Scratch
}

// ApplyRows is the sparse step of form f on tables x and s of numRows·dim float32
// elements: row k of g, g[k·dim:(k+1)·dim], updates row rows[k], bit-identical to
// the reference of the chosen Duplicates mode. scratch may be nil (Sequential
// needs none; Coalesced then allocates).
//
// It returns an error naming the offset and the index when an index is outside
// [0, numRows), and panics when dim ≤ 0, the lengths do not fit, the tables overlap
// or f is not valid; in every case before writing anything.
func ApplyRows[I Index](f Form, dup Duplicates, x, s []float32, dim int, rows []I, g []float32, p Params32, scratch *Scratch) error {
	m := active.Load()
	return applyRows("kernel.ApplyRows", f, dup, x, s, dim, rows, g, scratch,
		func(sc *Scratch) *[]float32 { return &sc.sum32 },
		func(xr, sr, gr []float32) { m.apply32(f, xr, sr, gr, p) })
}

// ApplyRows64 is ApplyRows for float64 tables.
func ApplyRows64[I Index](f Form, dup Duplicates, x, s []float64, dim int, rows []I, g []float64, p Params64, scratch *Scratch) error {
	m := active.Load()
	return applyRows("kernel.ApplyRows64", f, dup, x, s, dim, rows, g, scratch,
		func(sc *Scratch) *[]float64 { return &sc.sum64 },
		func(xr, sr, gr []float64) { m.apply64(f, xr, sr, gr, p) })
}

// applyRows checks a sparse call, then runs it with step applying one row; sum
// picks the scratch buffer of the element type.
func applyRows[T float32 | float64, I Index](fn string, f Form, dup Duplicates, x, s []T, dim int, rows []I, g []T,
	scratch *Scratch, sum func(*Scratch) *[]T, step func(xr, sr, gr []T)) error {
	if err := checkRows(fn, f, x, s, dim, rows, g); err != nil {
		return err
	}
	if dup == Coalesced {
		if scratch == nil {
			scratch = new(Scratch)
		}
		coalesced(scratch, sum(scratch), x, s, dim, rows, g, step, 0, 1)
		return nil
	}
	sequential(x, s, dim, rows, g, step, 0, 1)
	return nil
}

// UpdateRows is Update for rows of embedding tables: the d2l form, each occurrence
// of a row applied in order. See ApplyRows.
func UpdateRows[T float32 | float64, I Index](x, s []T, dim int, rows []I, g []T, lr, eps T) error {
	switch x := any(x).(type) {
	case []float32:
		p := Params32{LR: float32(lr), Eps: float32(eps)}
		return ApplyRows(Form{}, Sequential, x, any(s).([]float32), dim, rows, any(g).([]float32), p, nil)
	default:
		p := Params64{LR: float64(lr), Eps: float64(eps)}
		return ApplyRows64(Form{}, Sequential, any(x).([]float64), any(s).([]float64), dim, rows, any(g).([]float64), p, nil)
	}
}

// ApplyRowsParallel is ApplyRows split across workers goroutines (GOMAXPROCS-like
// callers pass runtime.GOMAXPROCS(0)). Every occurrence of a row goes to the same
// worker, in its original order, so the result is bit-identical to ApplyRows for
// any number of workers. Coalesced needs a scratch per worker, kept in scratch.
func ApplyRowsParallel[I Index](workers int, f Form, dup Duplicates, x, s []float32, dim int, rows []I, g []float32, p Params32, scratch *Scratch) error {
	if err := checkRows("kernel.ApplyRowsParallel", f, x, s, dim, rows, g); err != nil {
		return err
	}
	if workers < 1 {
		panic(fmt.Sprintf("kernel.ApplyRowsParallel: workers = %d; it must be ≥ 1", workers))
	}
	m := active.Load()
	step := func(xr, sr, gr []float32) { m.apply32(f, xr, sr, gr, p) }
	if dup == Coalesced {
		if scratch == nil {
			scratch = new(Scratch)
		}
		for len(scratch.workers) < workers {
			scratch.workers = append(scratch.workers, Scratch{})
		}
	}
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if dup == Coalesced {
				ws := &scratch.workers[w]
				coalesced(ws, &ws.sum32, x, s, dim, rows, g, step, w, workers)
				return
			}
			sequential(x, s, dim, rows, g, step, w, workers)
		}()
	}
	wg.Wait()
	return nil
}

// checkRows validates a sparse call completely before anything is written.
func checkRows[T float32 | float64, I Index](fn string, f Form, x, s []T, dim int, rows []I, g []T) error {
	if dim <= 0 {
		panic(fmt.Sprintf("%s: dim = %d; it must be > 0", fn, dim))
	}
	if len(x)%dim != 0 || len(s) != len(x) || len(g) != len(rows)*dim {
		panic(fmt.Sprintf("%s: len(x)=%d len(s)=%d dim=%d len(rows)=%d len(g)=%d; want x and s of numRows·dim and g of len(rows)·dim",
			fn, len(x), len(s), dim, len(rows), len(g)))
	}
	if sharesMemory(x, s) || sharesMemory(x, g) || sharesMemory(s, g) {
		panic(fn + ": x, s and g must not share memory")
	}
	if err := f.Validate(); err != nil {
		panic(fn + ": " + err.Error())
	}
	return ref.CheckRows(len(x)/dim, rows)
}

// sharesMemory reports whether a and b, of any lengths, share an element.
func sharesMemory[T float32 | float64](a, b []T) bool {
	if len(a) == 0 || len(b) == 0 {
		return false
	}
	size := unsafe.Sizeof(a[0])
	pa, pb := addr(a), addr(b)
	return pa < pb+uintptr(len(b))*size && pb < pa+uintptr(len(a))*size
}

// prefetchAhead is how many indices ahead the sparse steps fetch table rows, as
// FBGEMM does: far enough to hide a DRAM miss behind the rows in between.
const prefetchAhead = 16

// prefetchRow hints that table row r of x and s is next.
func prefetchRow[T float32 | float64](x, s []T, r, dim int) {
	lo := r * dim
	bytes := uintptr(dim) * unsafe.Sizeof(x[0])
	prefetch(addr(x[lo:]), bytes)
	prefetch(addr(s[lo:]), bytes)
}

// sequential applies the occurrences whose row belongs to worker w of n (row % n
// == w), in order.
func sequential[T float32 | float64, I Index](x, s []T, dim int, rows []I, g []T, step func(xr, sr, gr []T), w, n int) {
	for k, r := range rows {
		if k+prefetchAhead < len(rows) {
			prefetchRow(x, s, int(rows[k+prefetchAhead]), dim)
		}
		if n > 1 && int(r)%n != w {
			continue
		}
		lo := int(r) * dim
		step(x[lo:lo+dim:lo+dim], s[lo:lo+dim:lo+dim], g[k*dim:(k+1)*dim:(k+1)*dim])
	}
}

// coalesced sums the gradients of repeated rows of worker w of n (row % n == w),
// then steps each distinct row once. Sorting the occurrences by row keeps each
// row's gradients in their order of appearance, so the sums are added in the
// documented order; distinct rows are independent, so stepping them in row order
// instead of first appearance changes nothing.
func coalesced[T float32 | float64, I Index](sc *Scratch, sum *[]T, x, s []T, dim int, rows []I, g []T, step func(xr, sr, gr []T), w, n int) {
	if uint64(len(rows)) > 1<<32 || uint64(len(x)/dim) > 1<<32 {
		panic("kernel: a coalesced step takes at most 2³² rows and 2³² indices")
	}
	order := sc.order[:0]
	for k, r := range rows {
		if n == 1 || int(r)%n == w {
			order = append(order, uint64(r)<<32|uint64(k))
		}
	}
	sc.order = order
	// Indices are validated non-negative and below numRows, so the packed keys sort
	// by row, then by occurrence: a plain sort is as good as a stable one.
	slices.Sort(order)
	if cap(*sum) < dim {
		*sum = make([]T, dim)
	}
	acc := (*sum)[:dim:dim]
	for i := 0; i < len(order); {
		if i+prefetchAhead < len(order) {
			prefetchRow(x, s, int(order[i+prefetchAhead]>>32), dim)
		}
		r, k := order[i]>>32, int(order[i]&(1<<32-1))
		j := i + 1
		for j < len(order) && order[j]>>32 == r {
			j++
		}
		gr := g[k*dim : (k+1)*dim : (k+1)*dim]
		if j > i+1 {
			copy(acc, gr)
			for _, o := range order[i+1 : j] {
				k2 := int(o & (1<<32 - 1))
				for e, v := range g[k2*dim : (k2+1)*dim] {
					acc[e] += v
				}
			}
			gr = acc
		}
		lo := int(r) * dim
		step(x[lo:lo+dim:lo+dim], s[lo:lo+dim:lo+dim], gr)
		i = j
	}
}

// RowWise is row-wise Adagrad of form f, with one accumulator per table row (s has
// numRows elements): each indexed row adds the mean of its squared gradient to its
// accumulator and steps every element by the row's d, bit-identical to
// ref.RowWise32, whose summation order every path follows. Repeated rows are
// updated again, in order. Errors and panics are those of ApplyRows.
//
// Every path runs the reference loop for now; its SIMD kernels are still to come.
func RowWise[I Index](f Form, x, s []float32, dim int, rows []I, g []float32, p Params32) error {
	if err := checkRowWise("kernel.RowWise", f, x, s, dim, rows, g); err != nil {
		return err
	}
	return ref.RowWise32(f, x, s, dim, rows, g, p)
}

// RowWise64 is RowWise for float64, bit-identical to ref.RowWise64.
func RowWise64[I Index](f Form, x, s []float64, dim int, rows []I, g []float64, p Params64) error {
	if err := checkRowWise("kernel.RowWise64", f, x, s, dim, rows, g); err != nil {
		return err
	}
	return ref.RowWise64(f, x, s, dim, rows, g, p)
}

// checkRowWise is checkRows for a per-row accumulator of numRows elements.
func checkRowWise[T float32 | float64, I Index](fn string, f Form, x, s []T, dim int, rows []I, g []T) error {
	if dim <= 0 {
		panic(fmt.Sprintf("%s: dim = %d; it must be > 0", fn, dim))
	}
	if len(x)%dim != 0 || len(s) != len(x)/dim || len(g) != len(rows)*dim {
		panic(fmt.Sprintf("%s: len(x)=%d len(s)=%d dim=%d len(rows)=%d len(g)=%d; want x of numRows·dim, s of numRows and g of len(rows)·dim",
			fn, len(x), len(s), dim, len(rows), len(g)))
	}
	if sharesMemory(x, s) || sharesMemory(x, g) || sharesMemory(s, g) {
		panic(fn + ": x, s and g must not share memory")
	}
	if err := f.Validate(); err != nil {
		panic(fn + ": " + err.Error())
	}
	return ref.CheckRows(len(x)/dim, rows)
}
