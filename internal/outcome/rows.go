package outcome

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"testing"
	"unsafe"

	"github.com/adagrad-go/adagrad/ref"
)

// RowsArgs are the arguments of one call of a sparse step: every slice a window
// of a Mem.
type RowsArgs[T ref.Float, I ref.Index] struct {
	Form    ref.Form // the zero Form for a function that takes none
	Dup     uint8    // the Duplicates value, for a function that takes one
	Workers int      // for a function that takes a number of workers
	X, S    []T
	Dim     int
	Rows    []I
	G       []T
	P       ref.Params[T]
}

// RowsOp is a sparse step under test, such as kernel.ApplyRows[float32, int64]
// in one Duplicates mode: what its messages call it, what it takes, and how to
// call it.
type RowsOp[T ref.Float, I ref.Index] struct {
	Name    string // as its messages name it: "kernel.ApplyRows"
	Form    bool   // it takes a Form; without one it runs only the cases of the zero Form
	Dup     bool   // it takes a Duplicates value: the cases that pass a bad one apply
	Workers bool   // it takes a number of workers: the cases that pass a bad one apply
	RowWise bool   // s holds one accumulator per table row, not one per element
	Mode    uint8  // the Duplicates value passed by every case but those about it
	// Shape is the message of a shape that does not fit, after "Name: ": each
	// package words it its own way.
	Shape func(Shape) string
	Call  func(RowsArgs[T, I]) error
	// Want computes what Call must by another route, as DenseOp's; nil leaves an
	// accepted step to the checks every step must pass (see Test).
	Want func(RowsArgs[T, I]) error
}

// Shape is a sparse call whose lengths do not fit, for RowsOp.Shape.
type Shape struct {
	Fault              ShapeFault
	X, S, Dim, Rows, G int // len(x), len(s), dim, len(rows), len(g)
	RowWise            bool
}

// ShapeFault is the first length that is wrong, checked in the order x, s, g.
type ShapeFault uint8

const (
	BadX ShapeFault = 1 + iota // len(x) is not a multiple of dim
	BadS                       // len(s) is not the accumulator's length for len(x)/dim rows
	BadG                       // len(g) is not len(rows)·dim
)

// RowsCase is one row of the sparse table.
type RowsCase[T ref.Float, I ref.Index] struct {
	Name  string
	Args  func(m *Mem[T, I]) RowsArgs[T, I]
	Panic string          // the exact message, naming the op; "" for none
	Err   *ref.IndexError // the error wanted, nil for none
	Steps bool            // the accepted call steps; otherwise it must write nothing
}

// The table of the sparse cases: 5 rows of 3 at buf[0:15], its accumulator at
// buf[64:] (15 elements, or 5 row-wise), the gradient rows at buf[128:].
const (
	tableRows = 5
	tableDim  = 3
)

// Cases lists the sparse cases that apply to op: nil and empty slices in every
// combination, dim ≤ 0, shapes that do not fit (len(rows)·dim overflowing too),
// tables sharing memory, invalid forms, Duplicates values and numbers of
// workers (for the ops that take them), indices out of range in either index
// type, and the odd scalars with repeated rows. Where a call has two faults, the
// cases pin which one is reported.
func (op RowsOp[T, I]) Cases() []RowsCase[T, I] {
	type args = func(m *Mem[T, I]) RowsArgs[T, I]
	call := func(x, s []T, dim int, rows []I, g []T) RowsArgs[T, I] {
		return RowsArgs[T, I]{Dup: op.Mode, Workers: 2, X: x, S: s, Dim: dim, Rows: rows, G: g, P: paramsOf[T](std)}
	}
	table := func(m *Mem[T, I]) (x, s []T) {
		if op.RowWise {
			return m.At(0, tableRows*tableDim), m.At(64, tableRows)
		}
		return m.At(0, tableRows*tableDim), m.At(64, tableRows*tableDim)
	}
	// indexed is the table with the gradient rows of the indices v.
	indexed := func(v ...int64) args {
		return func(m *Mem[T, I]) RowsArgs[T, I] {
			x, s := table(m)
			return call(x, s, tableDim, m.Rows(v...), m.At(128, len(v)*tableDim))
		}
	}
	with := func(a args, change func(*RowsArgs[T, I])) args {
		return func(m *Mem[T, I]) RowsArgs[T, I] { c := a(m); change(&c); return c }
	}
	msg := func(format string, v ...any) string { return op.Name + ": " + fmt.Sprintf(format, v...) }
	outOfRange := func(r int64, k, numRows int) *ref.IndexError {
		return &ref.IndexError{Func: op.Name, Offset: k, Index: r, NumRows: numRows}
	}

	var cases []RowsCase[T, I]
	// Nil and empty, in every combination of x, s, rows and g, at dim 1 and 3: an
	// empty table and no index, accepted, nothing written.
	for _, dim := range []int{1, tableDim} {
		for mask := range 16 {
			var parts []string
			for bit, v := range []string{"x", "s", "rows", "g"} {
				if mask&(1<<bit) != 0 {
					parts = append(parts, v+"=nil")
				} else {
					parts = append(parts, v+"=empty")
				}
			}
			cases = append(cases, RowsCase[T, I]{Name: fmt.Sprintf("dim=%d %s", dim, strings.Join(parts, " ")),
				Args: func(m *Mem[T, I]) RowsArgs[T, I] {
					f := func(bit, lo int) []T {
						if mask&(1<<bit) != 0 {
							return nil
						}
						return m.At(lo, 0)
					}
					var rows []I
					if mask&4 == 0 {
						rows = m.Rows()
					}
					return call(f(0, 0), f(1, 64), dim, rows, f(3, 128))
				}})
		}
	}
	cases = append(cases,
		RowsCase[T, I]{Name: "a table and no index (nil)", Args: func(m *Mem[T, I]) RowsArgs[T, I] {
			x, s := table(m)
			return call(x, s, tableDim, nil, nil)
		}},
		RowsCase[T, I]{Name: "a table and no index (empty), NaN lr", Args: with(indexed(), func(a *RowsArgs[T, I]) {
			a.P = paramsOf[T](scalars{lr: nan, eps: nan})
		})},
	)

	// dim ≤ 0, before anything else is looked at.
	for _, c := range []struct {
		name string
		dim  int
		a    args
	}{
		{"dim=0", 0, indexed(0)},
		{"dim=0, all nil", 0, func(*Mem[T, I]) RowsArgs[T, I] { return call(nil, nil, 0, nil, nil) }},
		{"dim=-1", -1, indexed(0)},
		{"dim=MinInt, bad index too", math.MinInt, indexed(-1)},
	} {
		cases = append(cases, RowsCase[T, I]{Name: c.name, Panic: msg("dim = %d; it must be > 0", c.dim),
			Args: with(c.a, func(a *RowsArgs[T, I]) { a.Dim = c.dim })})
	}

	// Shapes that do not fit.
	ls := tableRows * tableDim
	if op.RowWise {
		ls = tableRows
	}
	huge := 1 << (strconv.IntSize - 2)
	for _, c := range []struct {
		name  string
		shape Shape
	}{
		{"len(x) not a multiple of dim", Shape{BadX, 14, ls, tableDim, 2, 6, op.RowWise}},
		{"len(s) one short", Shape{BadS, 15, ls - 1, tableDim, 2, 6, op.RowWise}},
		{"len(s) one long", Shape{BadS, 15, ls + 1, tableDim, 2, 6, op.RowWise}},
		{"len(g) one short", Shape{BadG, 15, ls, tableDim, 2, 5, op.RowWise}},
		{"len(g) one row long", Shape{BadG, 15, ls, tableDim, 2, 9, op.RowWise}},
		{"g empty for one index", Shape{BadG, 15, ls, tableDim, 1, 0, op.RowWise}},
		{"no index, g of one row", Shape{BadG, 15, ls, tableDim, 0, 3, op.RowWise}},
		{"len(rows)·dim overflows to len(g)", Shape{BadG, 0, 0, huge, 4, 0, op.RowWise}},
	} {
		sh := c.shape
		cases = append(cases, RowsCase[T, I]{Name: c.name, Panic: op.Name + ": " + op.Shape(sh),
			Args: func(m *Mem[T, I]) RowsArgs[T, I] {
				return call(m.At(0, sh.X), m.At(64, sh.S), sh.Dim, m.Rows(make([]int64, sh.Rows)...), m.At(128, sh.G))
			}})
	}

	// Tables that share memory.
	share := msg("x, s and g must not share memory")
	shared := func(pick func(m *Mem[T, I], x, s []T) (x2, s2, g []T)) args {
		return func(m *Mem[T, I]) RowsArgs[T, I] {
			x, s := table(m)
			x, s, g := pick(m, x, s)
			return call(x, s, tableDim, m.Rows(1, 4), g)
		}
	}
	cases = append(cases,
		RowsCase[T, I]{Name: "s inside x", Panic: share, Args: shared(func(m *Mem[T, I], x, s []T) ([]T, []T, []T) {
			return x, m.At(0, len(s)), m.At(128, 6)
		})},
		RowsCase[T, I]{Name: "s starts on x's last element", Panic: share, Args: shared(func(m *Mem[T, I], x, s []T) ([]T, []T, []T) {
			return x, m.At(len(x)-1, len(s)), m.At(128, 6)
		})},
		RowsCase[T, I]{Name: "g is x's last rows", Panic: share, Args: shared(func(m *Mem[T, I], x, s []T) ([]T, []T, []T) {
			return x, s, m.At(len(x)-6, 6)
		})},
		RowsCase[T, I]{Name: "g ends on s's first element", Panic: share, Args: shared(func(m *Mem[T, I], x, s []T) ([]T, []T, []T) {
			return x, s, m.At(64-5, 6)
		})},
		RowsCase[T, I]{Name: "x, s and g the same memory", Panic: share, Args: shared(func(m *Mem[T, I], x, s []T) ([]T, []T, []T) {
			return x, m.At(0, len(s)), m.At(0, 6)
		})},
		RowsCase[T, I]{Name: "overlap and a bad index: the overlap is named", Panic: share,
			Args: with(indexed(9), func(a *RowsArgs[T, I]) { a.G = a.X[12:15:15] })},
	)

	// Forms, Duplicates values and numbers of workers that are not valid: before
	// the indices are looked at, whether there are any.
	if op.Form {
		for _, bf := range BadForms {
			form := func(a *RowsArgs[T, I]) { a.Form = bf.Form }
			cases = append(cases,
				RowsCase[T, I]{Name: "form " + bf.Why, Args: with(indexed(0, 4), form), Panic: msg("%s", bf.Why)},
				RowsCase[T, I]{Name: "form " + bf.Why + ", no index", Args: with(indexed(), form), Panic: msg("%s", bf.Why)},
				RowsCase[T, I]{Name: "form " + bf.Why + ", bad index too", Args: with(indexed(0, 5), form), Panic: msg("%s", bf.Why)},
			)
		}
	}
	if op.Dup {
		for _, d := range []uint8{2, 255} {
			dup := func(a *RowsArgs[T, I]) { a.Dup = d }
			cases = append(cases,
				RowsCase[T, I]{Name: fmt.Sprintf("Duplicates(%d)", d), Args: with(indexed(0, 4, 0), dup), Panic: msg("unknown Duplicates %d", d)},
				RowsCase[T, I]{Name: fmt.Sprintf("Duplicates(%d), bad index too", d), Args: with(indexed(0, 5), dup), Panic: msg("unknown Duplicates %d", d)},
			)
		}
	}
	if op.Workers {
		for _, w := range []int{0, -1, math.MinInt} {
			workers := func(a *RowsArgs[T, I]) { a.Workers = w }
			cases = append(cases,
				RowsCase[T, I]{Name: fmt.Sprintf("workers=%d", w), Args: with(indexed(0, 4), workers), Panic: msg("workers = %d; it must be ≥ 1", w)},
				RowsCase[T, I]{Name: fmt.Sprintf("workers=%d, bad index too", w), Args: with(indexed(0, 9), workers), Panic: msg("workers = %d; it must be ≥ 1", w)},
			)
		}
		cases = append(cases, RowsCase[T, I]{Name: "more workers than indices", Steps: true,
			Args: with(indexed(4, 0, 4), func(a *RowsArgs[T, I]) { a.Workers = 64 })})
	}

	// Indices out of range: bad data, an error naming the first, nothing written.
	is64 := unsafe.Sizeof(I(0)) == 8
	for _, c := range []struct {
		rows   []int64
		k      int
		only64 bool // the indices exist only in int64
	}{
		{[]int64{-1}, 0, false},
		{[]int64{0, -1, 2}, 1, false},
		{[]int64{0, 1, 5}, 2, false},
		{[]int64{0, 1, 2, 3, 4, 4, 3, 2, 1, 0, 5}, 10, false}, // valid rows first: none may be written
		{[]int64{4, 6, -1}, 1, false},                         // the first bad one is named
		{[]int64{math.MaxInt32}, 0, false},
		{[]int64{math.MinInt32, 0}, 0, false},
		{[]int64{1, math.MaxInt32, math.MinInt32}, 1, false},
		{[]int64{1 << 32}, 0, true}, // int32(1<<32) would be row 0
		{[]int64{0, 1<<32 + 4}, 1, true},
		{[]int64{-1 << 32}, 0, true},
		{[]int64{math.MaxInt64}, 0, true},
		{[]int64{2, math.MinInt64}, 1, true},
		{[]int64{1<<31 + 3}, 0, true},
	} {
		if c.only64 && !is64 {
			continue
		}
		cases = append(cases, RowsCase[T, I]{Name: fmt.Sprintf("rows %v", c.rows), Args: indexed(c.rows...),
			Err: outOfRange(c.rows[c.k], c.k, tableRows)})
	}
	cases = append(cases,
		RowsCase[T, I]{Name: "index 0 of an empty table (nil)", Err: outOfRange(0, 0, 0),
			Args: func(m *Mem[T, I]) RowsArgs[T, I] { return call(nil, nil, tableDim, m.Rows(0), m.At(128, tableDim)) }},
		RowsCase[T, I]{Name: "bad index and NaN lr", Err: outOfRange(5, 1, tableRows),
			Args: with(indexed(3, 5), func(a *RowsArgs[T, I]) { a.P = paramsOf[T](scalars{lr: nan, eps: nan}) })},
	)

	// Scalars are not checked: each form computes with them what the formula
	// gives, repeated rows included.
	for _, f := range formsOf(op.Form) {
		eachMathRow(f, func(name string, p scalars) {
			cases = append(cases, RowsCase[T, I]{Name: fmt.Sprintf("%v %s", f, name), Steps: true,
				Args: with(indexed(4, 0, 4, 2, 4), func(a *RowsArgs[T, I]) { a.Form, a.P = f, paramsOf[T](p) })})
		})
	}
	return cases
}

// Test runs every case of op as a subtest. A call must have the case's outcome,
// an index out of range being an *ref.IndexError with the case's fields; one
// that is rejected, or accepted without a step, must leave every bit of the
// memory as it was. One that steps may write x and s alone, must give Want's
// bits where there is a Want, and with a NaN lr must make every indexed row of x
// NaN.
func (op RowsOp[T, I]) Test(t *testing.T) {
	for _, c := range op.Cases() {
		t.Run(c.Name, func(t *testing.T) {
			m := NewMem[T, I](seed)
			a := c.Args(m)
			err := m.hold(t, func() error { return op.Call(a) }, c.Panic, errorText(c.Err), c.Steps, a.X, a.S)
			if c.Err != nil {
				var got *ref.IndexError
				if !errors.As(err, &got) || *got != *c.Err {
					t.Fatalf("error %#v, want the *ref.IndexError %#v", err, c.Err)
				}
			}
			if !c.Steps {
				return
			}
			if op.Want != nil {
				want := NewMem[T, I](seed)
				if err := op.Want(c.Args(want)); err != nil {
					t.Fatal(err)
				}
				m.Matches(t, want, 0)
			}
			if lr := a.P.LR; lr == lr {
				return
			}
			for _, r := range a.Rows {
				for i, v := range a.X[int(r)*a.Dim : int(r+1)*a.Dim] {
					if v == v {
						t.Fatalf("row %d: x[%d] = %v with a NaN lr, want NaN", r, i, v)
					}
				}
			}
		})
	}
}

// errorText is the message of e, written out here rather than by its Error
// method, which is under test too; "" for nil.
func errorText(e *ref.IndexError) string {
	if e == nil {
		return ""
	}
	return fmt.Sprintf("%s: index %d at offset %d out of range [0, %d)", e.Func, e.Index, e.Offset, e.NumRows)
}
