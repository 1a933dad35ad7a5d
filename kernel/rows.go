package kernel

import (
	"fmt"
	mathbits "math/bits"
	"unsafe"

	"github.com/adagrad-go/adagrad/ref"
)

// Index is the type of a row index: int32 or int64.
type Index = ref.Index

// Float is the element type of the generic functions: float32 or float64.
type Float = ref.Float

// IndexError is the error of a sparse step given a row index outside its table,
// returned before anything is written: "kernel.ApplyRows: index 7 at offset 3 out
// of range [0, 5)". errors.As reads its fields.
type IndexError = ref.IndexError

// indexError is err, a *IndexError from ref.CheckRows or nil, as fn's.
func indexError(fn string, err error) error {
	if err == nil {
		return nil
	}
	e := err.(*IndexError)
	e.Func = fn
	return e
}

// Duplicates is how a sparse step treats a row that appears more than once:
// DuplicatesInOrder or DuplicatesSummed; any other value panics.
type Duplicates uint8

const (
	// DuplicatesInOrder applies every occurrence, in order, as TensorFlow's CPU kernel
	// and FBGEMM do. It is ref.ApplyRows.
	DuplicatesInOrder Duplicates = iota
	// DuplicatesSummed sums the gradient rows of a repeated index first, in order of
	// appearance, and applies the sum once, as PyTorch and Keras do. It is
	// ref.Coalesce followed by ref.ApplyRows.
	DuplicatesSummed
)

// Scratch is the memory a DuplicatesSummed step reuses from call to call, so that once it
// has grown to the largest call it allocates nothing. The zero value is ready to
// use. A Scratch must not be used by two calls at once.
type Scratch struct {
	groups
	sum32   []float32
	sum64   []float64
	workers []Scratch
}

// ApplyRows is the sparse step of form f on tables x and s of numRows·dim
// elements: row k of g, g[k·dim:(k+1)·dim], updates row rows[k], bit-identical to
// the reference of the chosen Duplicates mode. scratch may be nil (DuplicatesInOrder
// needs none; DuplicatesSummed then allocates).
//
// It returns an *IndexError when an index is outside [0, numRows), and panics when
// dim ≤ 0, the lengths do not fit, two of x, s and g share memory, f is not valid
// or dup is neither DuplicatesInOrder nor DuplicatesSummed; in every case before
// writing anything.
func ApplyRows[T Float, I Index](f Form, dup Duplicates, x, s []T, dim int, rows []I, g []T, p Params[T], scratch *Scratch) error {
	if err := checkRows("kernel.ApplyRows", f, dup, x, s, dim, rows, g); err != nil {
		return err
	}
	oneWorker(dup, x, s, dim, rows, g, newStep(f, p), scratch)
	return nil
}

// UpdateRows is Update for rows of embedding tables: the d2l form, each occurrence
// of a row applied in order. It errs and panics as ApplyRows does, its messages
// naming kernel.UpdateRows.
func UpdateRows[T Float, I Index](x, s []T, dim int, rows []I, g []T, lr, eps T) error {
	if err := checkRows("kernel.UpdateRows", Form{}, DuplicatesInOrder, x, s, dim, rows, g); err != nil {
		return err
	}
	oneWorker(DuplicatesInOrder, x, s, dim, rows, g, newStep(Form{}, Params[T]{LR: lr, Eps: eps}), nil)
	return nil
}

// ApplyRowsParallel is ApplyRows split across workers goroutines (callers usually
// pass runtime.GOMAXPROCS(0)): the caller and workers − 1 of the helpers the
// parallel calls share (see Pool), so that no call starts a goroutine; while
// another call holds the helpers it runs on the caller alone. Every occurrence of
// a row goes to the same worker (row % workers), in its original order, so the
// result is bit-identical to ApplyRows for any number of workers and any timing.
// DuplicatesSummed keeps a scratch per worker inside scratch. It panics when
// workers < 1, and otherwise errs and panics as ApplyRows does; in every case
// before writing anything.
func ApplyRowsParallel[T Float, I Index](workers int, f Form, dup Duplicates, x, s []T, dim int, rows []I, g []T, p Params[T], scratch *Scratch) error {
	const fn = "kernel.ApplyRowsParallel"
	checkWorkers(fn, workers)
	if err := checkRows(fn, f, dup, x, s, dim, rows, g); err != nil {
		return err
	}
	parallel(workers, dup, x, s, dim, rows, g, newStep(f, p), scratch)
	return nil
}

// stepper applies the step of one row and sums two gradient rows in T: step, or a
// benchmark's traffic kernel. Implementations are small values passed as type
// arguments, not closures, so that a warm single-worker call allocates nothing.
type stepper[T Float] interface {
	step(x, s, g []T)
	add(dst, a, b []T)
}

// step is the stepper of a sparse call:
// the form's kernel of the active implementation, looked up once per call.
type step[T Float] struct {
	k     func(x, s, g []T, lr, eps, wd, decay, gain T) // nil: the reference
	addFn func(dst, a, b []T)
	f     Form
	p     Params[T]
}

func newStep[T Float](f Form, p Params[T]) step[T] {
	m := active.Load()
	st := step[T]{f: f, p: p}
	switch st := any(&st).(type) {
	case *step[float32]:
		st.k, st.addFn = m.rows.kernel32(f), m.rows.add32
	case *step[float64]:
		st.k, st.addFn = m.rows.kernel64(f), m.rows.add64
	}
	return st
}

func (st step[T]) step(x, s, g []T) {
	if st.k == nil {
		ref.Apply(st.f, x, s, g, st.p)
		return
	}
	st.k(x, s, g, st.p.LR, st.p.Eps, st.p.WeightDecay, st.p.Decay, st.p.Gain)
}

func (st step[T]) add(dst, a, b []T) { st.addFn(dst, a, b) }

// sumRow is the scratch row of T's width in sc.
func sumRow[T Float](sc *Scratch) *[]T {
	if p, ok := any(&sc.sum32).(*[]T); ok {
		return p
	}
	return any(&sc.sum64).(*[]T)
}

// oneWorker runs a checked sparse step on the calling goroutine.
func oneWorker[T Float, I Index, S stepper[T]](dup Duplicates, x, s []T, dim int, rows []I, g []T, st S, scratch *Scratch) {
	if dup == DuplicatesSummed {
		if scratch == nil {
			scratch = new(Scratch)
		}
		coalesced(scratch, x, s, dim, rows, g, st, part{n: 1})
		return
	}
	sequential(x, s, dim, rows, g, st, part{n: 1})
}

// checkWorkers panics unless a parallel sparse step has at least one worker.
func checkWorkers(fn string, workers int) {
	if workers < 1 {
		panic(fmt.Sprintf("%s: workers = %d; it must be ≥ 1", fn, workers))
	}
}

// parallel runs a checked sparse step on workers ≥ 1 goroutines: the caller and
// the helpers of the parallel calls, each worker the rows r with r % workers its
// part (runParts).
func parallel[T Float, I Index, S stepper[T]](workers int, dup Duplicates, x, s []T, dim int, rows []I, g []T, st S, scratch *Scratch) {
	if dup == DuplicatesSummed {
		if scratch == nil {
			scratch = new(Scratch)
		}
		for len(scratch.workers) < workers {
			scratch.workers = append(scratch.workers, Scratch{})
		}
	}
	if workers == 1 || !runParts(workers, func(w int) {
		pt := newPart(w, workers, len(x)/dim)
		if dup == DuplicatesSummed {
			coalesced(&scratch.workers[w], x, s, dim, rows, g, st, pt)
			return
		}
		sequential(x, s, dim, rows, g, st, pt)
	}) {
		// The helpers are busy with another call: one goroutine gives the same
		// bits (every row's occurrences in order either way).
		oneWorker(dup, x, s, dim, rows, g, st, scratch)
	}
}

// checkRows validates a sparse call completely before anything is written.
func checkRows[T Float, I Index](fn string, f Form, dup Duplicates, x, s []T, dim int, rows []I, g []T) error {
	if dim <= 0 {
		panic(fmt.Sprintf("%s: dim = %d; it must be > 0", fn, dim))
	}
	// len(g)/dim, not len(rows)·dim, which could overflow.
	if len(x)%dim != 0 || len(s) != len(x) || len(g)%dim != 0 || len(g)/dim != len(rows) {
		panic(fmt.Sprintf("%s: len(x)=%d len(s)=%d dim=%d len(rows)=%d len(g)=%d; want x and s of numRows·dim and g of len(rows)·dim",
			fn, len(x), len(s), dim, len(rows), len(g)))
	}
	if sharesMemory(x, s) || sharesMemory(x, g) || sharesMemory(s, g) {
		panic(fn + ": x, s and g must not share memory")
	}
	if err := f.Validate(); err != nil {
		panic(fn + ": " + err.Error())
	}
	if dup > DuplicatesSummed {
		panic(fmt.Sprintf("%s: unknown Duplicates %d", fn, dup))
	}
	return indexError(fn, ref.CheckRows(len(x)/dim, rows))
}

// sharesMemory reports whether a and b, of any lengths, share an element.
func sharesMemory[T Float](a, b []T) bool {
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

// chainAhead is how many repeats of a row ahead a coalesced step fetches the
// gradient rows it is about to add.
const chainAhead = 4

// prefetchRow hints that table row r of x and s is next.
func prefetchRow[T Float](x, s []T, r, dim int) {
	lo := r * dim
	bytes := uintptr(dim) * unsafe.Sizeof(x[0])
	prefetch(addr(x[lo:]), bytes)
	prefetch(addr(s[lo:]), bytes)
}

// part is worker w of n's share of a sparse step: the rows r with r % n == w.
type part struct {
	w, n int
	// m is 2⁶⁴/n rounded up when n > 1 and every row is below 2³², else 0:
	// Lemire's remainder by multiplication, because a division per index, two
	// per index in sequential, was a measurable part of a sparse step
	// (BENCHMARKS.md).
	m uint64
}

// newPart is worker w of n's part of a table of numRows rows.
func newPart(w, n, numRows int) part {
	pt := part{w: w, n: n}
	if n > 1 && uint64(numRows) <= 1<<32 && uint64(n) < 1<<32 {
		pt.m = ^uint64(0)/uint64(n) + 1
	}
	return pt
}

// of is the worker whose part row r, in range, is in: r % n.
func (pt part) of(r int) int {
	switch {
	case pt.n == 1:
		return 0
	case pt.m != 0:
		// Lemire, Kaser and Kurz, "Faster remainder by direct computation"
		// (2019): for a, n < 2³², a mod n = ((m·a mod 2⁶⁴)·n) >> 64.
		hi, _ := mathbits.Mul64(pt.m*uint64(r), uint64(pt.n))
		return int(hi)
	}
	return r % pt.n
}

// sequential applies the occurrences whose row is in pt, in order.
func sequential[T Float, I Index, S stepper[T]](x, s []T, dim int, rows []I, g []T, st S, pt part) {
	if pt.n == 1 {
		for k, r := range rows {
			if k+prefetchAhead < len(rows) {
				prefetchRow(x, s, int(rows[k+prefetchAhead]), dim)
			}
			lo := int(r) * dim
			st.step(x[lo:lo+dim:lo+dim], s[lo:lo+dim:lo+dim], g[k*dim:(k+1)*dim:(k+1)*dim])
		}
		return
	}
	// A worker of several lists its occurrences a block ahead, without a
	// branch: a branch on whose row comes next is a coin toss the CPU loses
	// half the time (BENCHMARKS.md has what it cost). It prefetches its
	// own rows only, as far ahead among them as one worker does among all (the
	// others' would double the traffic), and their rows of g, no longer a
	// stream the hardware follows.
	rowBytes := uintptr(dim) * unsafe.Sizeof(g[0])
	var lists [2][ownBlock]int
	cur := collect(pt, &lists[0], rows, 0)
	for lo, b := 0, 1; lo < len(rows); lo, b = lo+ownBlock, b^1 {
		next := collect(pt, &lists[b], rows, lo+ownBlock)
		for i, k := range cur {
			a := -1
			if j := i + prefetchAhead; j < len(cur) {
				a = cur[j]
			} else if j -= len(cur); j < len(next) {
				a = next[j]
			}
			if a >= 0 {
				prefetchRow(x, s, int(rows[a]), dim)
				prefetch(addr(g[a*dim:]), rowBytes)
			}
			lo := int(rows[k]) * dim
			st.step(x[lo:lo+dim:lo+dim], s[lo:lo+dim:lo+dim], g[k*dim:(k+1)*dim:(k+1)*dim])
		}
		cur = next
	}
}

// ownBlock is how many indices a worker of a parallel sparse step sorts out at
// a time.
const ownBlock = 256

// collect lists in list the occurrences k in [lo, lo+ownBlock) whose row is in
// pt.
func collect[I Index](pt part, list *[ownBlock]int, rows []I, lo int) []int {
	n := 0
	for k := lo; k < min(lo+ownBlock, len(rows)); k++ {
		list[uint(n)%ownBlock] = k
		// 1 when of is w, without a branch: of ^ w ≥ 0 and only 0 − 1 < 0.
		n += int(uint(pt.of(int(rows[k]))^pt.w-1) >> 63)
	}
	return list[:n]
}

// coalesced sums the gradients of repeated rows in pt,
// in their order of appearance, then steps each distinct row once, in order of
// first appearance, as ref.Coalesce lists them. Distinct rows are independent, so
// only the order within each row's sum matters to the result.
func coalesced[T Float, I Index, S stepper[T]](sc *Scratch, x, s []T, dim int, rows []I, g []T, st S, pt part) {
	group(&sc.groups, rows, pt)
	sum := sumRow[T](sc)
	if cap(*sum) < dim {
		*sum = make([]T, dim)
	}
	acc := (*sum)[:dim:dim]
	rowBytes := uintptr(dim) * unsafe.Sizeof(g[0])
	row := func(k int32) []T { return g[int(k)*dim : int(k+1)*dim : int(k+1)*dim] }
	for d, r := range sc.distinct {
		if d+prefetchAhead < len(sc.distinct) {
			prefetchRow(x, s, int(sc.distinct[d+prefetchAhead]), dim)
			if pt.n > 1 {
				// A worker of several: its first occurrences are not a
				// stream of g either.
				prefetch(addr(g[int(sc.head[d+prefetchAhead])*dim:]), rowBytes)
			}
		}
		k := sc.head[d]
		gr := row(k)
		if k2 := sc.next[k]; k2 >= 0 {
			// The repeats of a popular row lie anywhere in g: fetch a few ahead.
			ahead := k2
			for i := 0; i < chainAhead && ahead >= 0; i++ {
				prefetch(addr(g[int(ahead)*dim:]), rowBytes)
				ahead = sc.next[ahead]
			}
			st.add(acc, gr, row(k2))
			for k3 := sc.next[k2]; k3 >= 0; k3 = sc.next[k3] {
				if ahead >= 0 {
					prefetch(addr(g[int(ahead)*dim:]), rowBytes)
					ahead = sc.next[ahead]
				}
				st.add(acc, acc, row(k3))
			}
			gr = acc
		}
		lo := int(r) * dim
		st.step(x[lo:lo+dim:lo+dim], s[lo:lo+dim:lo+dim], gr)
	}
}

// RowWise is row-wise Adagrad of form f, with one accumulator per table row (s has
// numRows elements): each indexed row adds the mean of its squared gradient to its
// accumulator and steps every element by the row's d, bit-identical to
// ref.RowWise, whose summation order every path follows. Repeated rows are
// updated again, in order. Errors and panics are those of ApplyRows.
//
// The vector paths split each row in three: a kernel sums the squares, the scalar
// middle is ref.RowScale itself, and a kernel updates the row.
func RowWise[T Float, I Index](f Form, x, s []T, dim int, rows []I, g []T, p Params[T]) error {
	if err := checkRowWise("kernel.RowWise", f, x, s, dim, rows, g); err != nil {
		return err
	}
	sum, step := rowWiseKernels[T](active.Load(), f)
	if sum == nil {
		return ref.RowWise(f, x, s, dim, rows, g, p)
	}
	rowWise(f, x, s, dim, rows, g, p.LR, p.WeightDecay, sum, step,
		func(s, q T) (T, T) { return ref.RowScale(f, p, s, q, dim) })
	return nil
}

// rowWiseKernels are m's two vector halves of a row-wise step of form f in T, or
// nil when m has none.
func rowWiseKernels[T Float](m *impl, f Form) (sum func(x, g []T, wd T) T, step func(x, g []T, lr, k, wd T)) {
	switch sp := any(&sum).(type) {
	case *func(x, g []float32, wd float32) float32:
		if m.rows.rowWise32 != nil {
			*sp, *any(&step).(*func(x, g []float32, lr, k, wd float32)) = m.rows.rowWise32(f)
		}
	case *func(x, g []float64, wd float64) float64:
		if m.rows.rowWise64 != nil {
			*sp, *any(&step).(*func(x, g []float64, lr, k, wd float64)) = m.rows.rowWise64(f)
		}
	}
	return sum, step
}

// rowWise runs a checked row-wise step with the vector halves sum and step and the
// scalar middle scale.
func rowWise[T Float, I Index](f Form, x, s []T, dim int, rows []I, g []T, lr, wd T,
	sum func(x, g []T, wd T) T, step func(x, g []T, lr, k, wd T), scale func(s, q T) (T, T)) {
	for k, r := range rows {
		if k+prefetchAhead < len(rows) {
			ahead := int(rows[k+prefetchAhead])
			prefetch(addr(x[ahead*dim:]), uintptr(dim)*unsafe.Sizeof(x[0]))
		}
		lo := int(r) * dim
		xr, gr := x[lo:lo+dim:lo+dim], g[k*dim:(k+1)*dim:(k+1)*dim]
		var c T
		s[r], c = scale(s[r], sum(xr, gr, wd))
		step(xr, gr, lr, c, wd)
	}
}

// checkRowWise is checkRows for a per-row accumulator of numRows elements.
func checkRowWise[T Float, I Index](fn string, f Form, x, s []T, dim int, rows []I, g []T) error {
	if dim <= 0 {
		panic(fmt.Sprintf("%s: dim = %d; it must be > 0", fn, dim))
	}
	if len(x)%dim != 0 || len(s) != len(x)/dim || len(g)%dim != 0 || len(g)/dim != len(rows) {
		panic(fmt.Sprintf("%s: len(x)=%d len(s)=%d dim=%d len(rows)=%d len(g)=%d; want x of numRows·dim, s of numRows and g of len(rows)·dim",
			fn, len(x), len(s), dim, len(rows), len(g)))
	}
	if sharesMemory(x, s) || sharesMemory(x, g) || sharesMemory(s, g) {
		panic(fn + ": x, s and g must not share memory")
	}
	if err := f.Validate(); err != nil {
		panic(fn + ": " + err.Error())
	}
	return indexError(fn, ref.CheckRows(len(x)/dim, rows))
}
