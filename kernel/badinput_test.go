package kernel

// The bad-input table: every exported function of the package called with nil and
// empty slices, lengths that differ, slices that share memory, dim ≤ 0, indices
// out of range (int32 and int64), invalid forms and Duplicates values, workers
// < 1, and odd scalars (NaN, ±Inf, negative). Each row asserts the documented
// outcome: an exact panic message, an exact error, or acceptance; and, for every
// rejected call, that not one bit of the memory the call could reach changed. The
// scalars are not checked (see the package comment): those rows assert that the
// result is the reference's, bit for bit.

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"testing"
	"unsafe"

	"github.com/klauspost/cpuid/v2"

	"github.com/adagrad-go/adagrad/internal/fbits"
	"github.com/adagrad-go/adagrad/internal/outcome"
)

// sameWithin reports whether got is want, or both are finite and within rel of
// each other: UpdateFast's results, which only the NaN, ±Inf and zero cases pin.
func sameWithin[T float](got, want T, rel float64) bool {
	if fbits.Same(got, want) {
		return true
	}
	g, w := float64(got), float64(want)
	if math.IsNaN(g) || math.IsNaN(w) || math.IsInf(g, 0) || math.IsInf(w, 0) {
		return false
	}
	return math.Abs(g-w) <= rel*math.Max(math.Abs(g), math.Abs(w))
}

// The odd scalars: none is checked, each gives what the formula gives.
var (
	nan  = math.NaN()
	inf  = math.Inf(1)
	ninf = math.Inf(-1)
	// scalarRows are the odd scalars of every form; wdRows only mean something to
	// a form with weight decay, decayRows to one with Decay.
	scalarRows = []struct {
		name   string
		p      params
		allNaN bool // every x the call steps becomes NaN
	}{
		{"lr=NaN", params{lr: nan, eps: 1e-6, wd: 0.01, decay: 0.9, gain: 0.1}, true},
		{"lr=+Inf", params{lr: inf, eps: 1e-6, wd: 0.01, decay: 0.9, gain: 0.1}, false},
		{"lr=-Inf", params{lr: ninf, eps: 1e-6, wd: 0.01, decay: 0.9, gain: 0.1}, false},
		{"lr<0", params{lr: -0.5, eps: 1e-6, wd: 0.01, decay: 0.9, gain: 0.1}, false},
		{"lr=-0", params{lr: math.Copysign(0, -1), eps: 1e-6, wd: 0.01, decay: 0.9, gain: 0.1}, false},
		{"lr=MaxFloat64", params{lr: math.MaxFloat64, eps: 1e-6, wd: 0.01, decay: 0.9, gain: 0.1}, false},
		{"eps=NaN", params{lr: 0.1, eps: nan, wd: 0.01, decay: 0.9, gain: 0.1}, false},
		{"eps=+Inf", params{lr: 0.1, eps: inf, wd: 0.01, decay: 0.9, gain: 0.1}, false},
		{"eps<0", params{lr: 0.1, eps: -100, wd: 0.01, decay: 0.9, gain: 0.1}, false},
		{"eps=-Inf", params{lr: 0.1, eps: ninf, wd: 0.01, decay: 0.9, gain: 0.1}, false},
	}
	wdRows = []struct {
		name string
		p    params
	}{
		{"wd=NaN", params{lr: 0.1, eps: 1e-6, wd: nan, decay: 0.9, gain: 0.1}},
		{"wd=-Inf", params{lr: 0.1, eps: 1e-6, wd: ninf, decay: 0.9, gain: 0.1}},
		{"wd<0", params{lr: 0.1, eps: 1e-6, wd: -0.3, decay: 0.9, gain: 0.1}},
	}
	decayRows = []struct {
		name string
		p    params
	}{
		{"decay=NaN", params{lr: 0.1, eps: 1e-6, wd: 0.01, decay: nan, gain: 0.1}},
		{"gain=+Inf", params{lr: 0.1, eps: 1e-6, wd: 0.01, decay: 0.9, gain: inf}},
		{"decay<0", params{lr: 0.1, eps: 1e-6, wd: 0.01, decay: -1, gain: 2}},
		{"decay=gain=0", params{lr: 0.1, eps: 1e-6, wd: 0.01, decay: 0, gain: 0}},
	}
	// badForms are forms that Validate rejects, with the reason.
	badForms = []struct {
		f   Form
		why string
	}{
		{Form{Order: 3}, "invalid form: unknown step order 3"},
		{Form{Order: 255, EpsOutside: true}, "invalid form: unknown step order 255"},
		{Form{WeightDecay: 3}, "invalid form: unknown weight decay kind 3"},
		{Form{Guard: true}, "invalid form: the s > 0 guard needs the Recip order, not DivMul"},
		{Form{Order: MulDiv, Guard: true, Decay: true}, "invalid form: the s > 0 guard needs the Recip order, not MulDiv"},
	}
	// mathForms are valid forms the scalar rows run: d2l, PyTorch's vector
	// kernels, optax (the guard), and the Decay form with weight decay.
	mathForms = []Form{
		{},
		{EpsOutside: true, Order: MulDiv, WeightDecay: WeightDecayFMA, FusedAccumulator: true},
		{Order: Recip, Guard: true},
		{WeightDecay: WeightDecayAdd, Decay: true},
	}
)

// denseOp is one of the dense kernels for T.
type denseOp[T float] struct {
	name     string // as its messages name it
	form     bool   // takes a Form
	fast     bool   // UpdateFast: within a few ulps of Update, not its bits
	parallel bool
	call     func(f Form, x, s, g []T, p params)
	ref      func(f Form, x, s, g []T, p params) // what it computes
}

// denseOps lists every dense kernel for T.
func denseOps[T float]() []denseOp[T] {
	refUpd := func(_ Form, x, s, g []T, p params) { refUpdate(x, s, g, T(p.lr), T(p.eps)) }
	var ops []any
	switch any(T(0)).(type) {
	case float32:
		ops = []any{
			denseOp[float32]{name: "kernel.Update", call: func(_ Form, x, s, g []float32, p params) {
				Update(x, s, g, float32(p.lr), float32(p.eps))
			}},
			denseOp[float32]{name: "kernel.UpdateFast", fast: true, call: func(_ Form, x, s, g []float32, p params) {
				UpdateFast(x, s, g, float32(p.lr), float32(p.eps))
			}},
			denseOp[float32]{name: "kernel.UpdateParallel", parallel: true, call: func(_ Form, x, s, g []float32, p params) {
				UpdateParallel(x, s, g, float32(p.lr), float32(p.eps))
			}},
			denseOp[float32]{name: "kernel.Apply", form: true, call: func(f Form, x, s, g []float32, p params) {
				Apply(f, x, s, g, p.p32())
			}},
			denseOp[float32]{name: "kernel.ApplyParallel", form: true, parallel: true, call: func(f Form, x, s, g []float32, p params) {
				ApplyParallel(f, x, s, g, p.p32())
			}},
		}
	case float64:
		ops = []any{
			denseOp[float64]{name: "kernel.Update", call: func(_ Form, x, s, g []float64, p params) {
				Update(x, s, g, p.lr, p.eps)
			}},
			denseOp[float64]{name: "kernel.UpdateParallel", parallel: true, call: func(_ Form, x, s, g []float64, p params) {
				UpdateParallel(x, s, g, p.lr, p.eps)
			}},
			denseOp[float64]{name: "kernel.Apply", form: true, call: func(f Form, x, s, g []float64, p params) {
				Apply(f, x, s, g, p.p64())
			}},
			denseOp[float64]{name: "kernel.ApplyParallel", form: true, parallel: true, call: func(f Form, x, s, g []float64, p params) {
				ApplyParallel(f, x, s, g, p.p64())
			}},
		}
	}
	out := make([]denseOp[T], len(ops))
	for i, o := range ops {
		out[i] = o.(denseOp[T])
		if out[i].form {
			out[i].ref = refApply[T]
		} else {
			out[i].ref = refUpd
		}
	}
	return out
}

// eachMathRow calls add with every row of scalars that means something to form f.
func eachMathRow(f Form, add func(name string, p params, allNaN bool)) {
	for _, r := range scalarRows {
		add(r.name, r.p, r.allNaN)
	}
	if f.WeightDecay != NoWeightDecay {
		for _, r := range wdRows {
			add(r.name, r.p, false)
		}
	}
	if f.Decay {
		for _, r := range decayRows {
			add(r.name, r.p, false)
		}
	}
}

// denseCase is a row of the dense table. want is the exact panic message with
// "FN" for the function's name; empty, the call is accepted: then math says it
// computes what the reference computes, and otherwise it must write nothing.
type denseCase[T float] struct {
	name   string
	form   Form // only for the ops that take one
	p      params
	args   func(m *outcome.Mem[T, int32]) (x, s, g []T)
	want   string
	math   bool
	allNaN bool
}

// badLen is the length of the dense rows: past every small-slice threshold and
// every vector width, with a tail.
const badLen = 37

func denseCases[T float]() []denseCase[T] {
	const n = badLen
	std := params{lr: 0.1, eps: 1e-6, wd: 0.01, decay: 0.9, gain: 0.1}
	fixed := func(xl, xn, sl, sn, gl, gn int) func(m *outcome.Mem[T, int32]) (x, s, g []T) {
		return func(m *outcome.Mem[T, int32]) (x, s, g []T) { return m.At(xl, xn), m.At(sl, sn), m.At(gl, gn) }
	}
	var cases []denseCase[T]
	// Nil and empty, in every combination: zero-length slices, accepted, nothing
	// written.
	for mask := range 8 {
		pick := func(bit, lo int, m *outcome.Mem[T, int32]) []T {
			if mask&(1<<bit) != 0 {
				return nil
			}
			return m.At(lo, 0)
		}
		name := ""
		for bit, v := range []string{"x", "s", "g"} {
			if mask&(1<<bit) != 0 {
				name += v + "=nil "
			} else {
				name += v + "=empty "
			}
		}
		cases = append(cases, denseCase[T]{name: strings.TrimSpace(name), p: std,
			args: func(m *outcome.Mem[T, int32]) (x, s, g []T) { return pick(0, 0, m), pick(1, 64, m), pick(2, 128, m) }})
	}
	cases = append(cases,
		denseCase[T]{name: "one empty slice thrice (empty never overlaps)", p: std, args: fixed(5, 0, 5, 0, 5, 0)},
		denseCase[T]{name: "empty slices with NaN lr", p: params{lr: nan, eps: nan}, args: fixed(0, 0, 64, 0, 128, 0)},

		// Lengths that differ.
		denseCase[T]{name: "len(g) one short", p: std, args: fixed(0, n, 64, n, 128, n-1), want: "FN: len(x)=37 len(s)=37 len(g)=36"},
		denseCase[T]{name: "len(s) one short", p: std, args: fixed(0, n, 64, n-1, 128, n), want: "FN: len(x)=37 len(s)=36 len(g)=37"},
		denseCase[T]{name: "len(x) one long", p: std, args: fixed(0, n+1, 64, n, 128, n), want: "FN: len(x)=38 len(s)=37 len(g)=37"},
		denseCase[T]{name: "x nil", p: std, want: "FN: len(x)=0 len(s)=37 len(g)=37",
			args: func(m *outcome.Mem[T, int32]) (x, s, g []T) { return nil, m.At(64, n), m.At(128, n) }},
		denseCase[T]{name: "g nil", p: std, want: "FN: len(x)=37 len(s)=37 len(g)=0",
			args: func(m *outcome.Mem[T, int32]) (x, s, g []T) { return m.At(0, n), m.At(64, n), nil }},
		denseCase[T]{name: "x and s nil, g of 1", p: std, want: "FN: len(x)=0 len(s)=0 len(g)=1",
			args: func(m *outcome.Mem[T, int32]) (x, s, g []T) { return nil, nil, m.At(128, 1) }},
		denseCase[T]{name: "lengths differ and overlap: the lengths are named", p: std, args: fixed(0, n, 0, n, 0, n-1),
			want: "FN: len(x)=37 len(s)=37 len(g)=36"},

		// Slices that share memory.
		denseCase[T]{name: "x is s", p: std, args: fixed(0, n, 0, n, 128, n), want: "FN: x and s overlap"},
		denseCase[T]{name: "x is g", p: std, args: fixed(0, n, 64, n, 0, n), want: "FN: x and g overlap"},
		denseCase[T]{name: "s is g", p: std, args: fixed(0, n, 64, n, 64, n), want: "FN: s and g overlap"},
		denseCase[T]{name: "x, s and g the same", p: std, args: fixed(0, n, 0, n, 0, n), want: "FN: x and s overlap"},
		denseCase[T]{name: "s starts on x's last element", p: std, args: fixed(0, n, n-1, n, 128, n), want: "FN: x and s overlap"},
		denseCase[T]{name: "x starts on s's last element", p: std, args: fixed(n-1, n, 0, n, 128, n), want: "FN: x and s overlap"},
		denseCase[T]{name: "g ends on x's first element", p: std, args: fixed(64, n, 128, n, 64-n+1, n), want: "FN: x and g overlap"},
		denseCase[T]{name: "s one element after g", p: std, args: fixed(0, n, 65, n, 64, n), want: "FN: s and g overlap"},
		denseCase[T]{name: "single elements, x is s", p: std, args: fixed(3, 1, 3, 1, 128, 1), want: "FN: x and s overlap"},
		denseCase[T]{name: "adjacent slices do not overlap", p: std, args: fixed(0, n, n, n, 2*n, n), math: true},
	)
	// Forms that are not valid: the ops that take a form reject them, after the
	// lengths and the overlap and whatever the length.
	for _, bf := range badForms {
		cases = append(cases,
			denseCase[T]{name: "form " + bf.why, form: bf.f, p: std, args: fixed(0, n, 64, n, 128, n), want: "FN: " + bf.why},
			denseCase[T]{name: "nil slices, form " + bf.why, form: bf.f, p: std,
				args: func(*outcome.Mem[T, int32]) (x, s, g []T) { return nil, nil, nil }, want: "FN: " + bf.why},
		)
	}
	cases = append(cases,
		denseCase[T]{name: "bad form and lengths: the lengths are named", form: Form{Order: 3}, p: std,
			args: fixed(0, n, 64, n, 128, 2), want: "FN: len(x)=37 len(s)=37 len(g)=2"},
		denseCase[T]{name: "bad form and overlap: the overlap is named", form: Form{Order: 3}, p: std,
			args: fixed(0, n, 64, n, 64, n), want: "FN: s and g overlap"},
	)
	// Scalars are not checked: each form computes what the reference does with
	// them, on the scalar path (3 elements) and the vector kernels (37).
	for _, f := range mathForms {
		for _, length := range []int{3, n} {
			add := func(name string, p params, allNaN bool) {
				cases = append(cases, denseCase[T]{name: fmt.Sprintf("%v n=%d %s", f, length, name), form: f, p: p,
					args: fixed(0, length, 64, length, 128, length), math: true, allNaN: allNaN})
			}
			eachMathRow(f, add)
		}
	}
	return cases
}

func testBadDense[T float](t *testing.T) {
	for _, op := range denseOps[T]() {
		t.Run(op.name, func(t *testing.T) {
			if op.parallel {
				withParallelMin(t, 1) // so that the accepted calls split too
			}
			for _, c := range denseCases[T]() {
				if !op.form && c.form != (Form{}) {
					continue
				}
				t.Run(c.name, func(t *testing.T) {
					m := outcome.NewMem[T, int32](11)
					x, s, g := c.args(m)
					b, ix := m.Snapshot()
					msg, panicked, err := outcome.Of(func() error { op.call(c.form, x, s, g, c.p); return nil })
					outcome.Check(t, msg, panicked, err, strings.ReplaceAll(c.want, "FN", op.name), "")
					if !c.math {
						m.Unchanged(t, b, ix)
						return
					}
					want := outcome.NewMem[T, int32](11)
					wx, ws, wg := c.args(want)
					op.ref(c.form, wx, ws, wg, c.p)
					for i := range m.Buf {
						if op.fast && !sameWithin(m.Buf[i], want.Buf[i], 1e-5) || !op.fast && !fbits.Same(m.Buf[i], want.Buf[i]) {
							t.Fatalf("buf[%d] = %v (%#x), the reference gives %v (%#x)", i, m.Buf[i], fbits.Bits(m.Buf[i]), want.Buf[i], fbits.Bits(want.Buf[i]))
						}
					}
					if c.allNaN {
						for i, v := range x {
							if v == v {
								t.Fatalf("x[%d] = %v, want NaN", i, v)
							}
						}
					}
				})
			}
		})
	}
}

func TestBadInputDense32(t *testing.T) { forEachImpl(t, testBadDense[float32]) }
func TestBadInputDense64(t *testing.T) { forEachImpl(t, testBadDense[float64]) }

// sparseOp is one of the sparse kernels for T and I, in one Duplicates mode.
type sparseOp[T float, I Index] struct {
	name     string // as its messages name it
	label    string // the subtest's name
	rowWise  bool   // s has one element per row
	form     bool   // takes a Form
	dup      bool   // takes a Duplicates
	workers  bool   // takes a number of workers
	defaults Duplicates
	call     func(f Form, dup Duplicates, x, s []T, dim int, rows []I, g []T, p params, sc *Scratch, workers int) error
}

// sparseOps lists every sparse kernel for T and I, each Duplicates mode apart.
func sparseOps[T float, I Index]() []sparseOp[T, I] {
	var ops []sparseOp[T, I]
	name := func(base string) string { return base }
	for _, dup := range []Duplicates{DuplicatesInOrder, DuplicatesSummed} {
		mode := map[Duplicates]string{DuplicatesInOrder: "DuplicatesInOrder", DuplicatesSummed: "DuplicatesSummed"}[dup]
		ops = append(ops,
			sparseOp[T, I]{name: "kernel." + name("ApplyRows"), label: name("ApplyRows") + "/" + mode, form: true, dup: true, defaults: dup,
				call: func(f Form, dup Duplicates, x, s []T, dim int, rows []I, g []T, p params, sc *Scratch, _ int) error {
					return kernelRows(f, dup, x, s, dim, rows, g, p, sc, 0)
				}},
			sparseOp[T, I]{name: "kernel." + name("ApplyRowsParallel"), label: name("ApplyRowsParallel") + "/" + mode, form: true, dup: true, workers: true, defaults: dup,
				call: func(f Form, dup Duplicates, x, s []T, dim int, rows []I, g []T, p params, sc *Scratch, workers int) error {
					switch x := any(x).(type) {
					case []float32:
						return ApplyRowsParallel(workers, f, dup, x, any(s).([]float32), dim, rows, any(g).([]float32), p.p32(), sc)
					default:
						return ApplyRowsParallel(workers, f, dup, any(x).([]float64), any(s).([]float64), dim, rows, any(g).([]float64), p.p64(), sc)
					}
				}},
		)
	}
	ops = append(ops,
		sparseOp[T, I]{name: "kernel.UpdateRows", label: "UpdateRows",
			call: func(_ Form, _ Duplicates, x, s []T, dim int, rows []I, g []T, p params, _ *Scratch, _ int) error {
				return UpdateRows(x, s, dim, rows, g, T(p.lr), T(p.eps))
			}},
		sparseOp[T, I]{name: "kernel." + name("RowWise"), label: name("RowWise"), rowWise: true, form: true,
			call: func(f Form, _ Duplicates, x, s []T, dim int, rows []I, g []T, p params, _ *Scratch, _ int) error {
				return kernelRowWise(f, x, s, dim, rows, g, p)
			}},
	)
	return ops
}

// refSparse is what op computes, by package ref.
func (op sparseOp[T, I]) refSparse(f Form, dup Duplicates, x, s []T, dim int, rows []I, g []T, p params) error {
	if op.rowWise {
		return refRowWise(f, x, s, dim, rows, g, p)
	}
	return refRows(f, dup, x, s, dim, rows, g, p)
}

// sparseCase is a row of the sparse table: the call's arguments, and its outcome
// as denseCase's, or the exact error err.
type sparseCase[T float, I Index] struct {
	name    string
	form    Form        // only for the ops that take one
	dup     *Duplicates // only for the ops that take one; nil: the op's own mode
	workers *int        // only for the parallel ops; nil means 2
	p       params
	args    func(m *outcome.Mem[T, I], op sparseOp[T, I]) (x, s []T, dim int, rows []I, g []T)
	only64  bool // the indices exist only in int64
	layout  int8 // 0: any op; denseTable or perRow: only the ops of that accumulator
	want    string
	err     string
	math    bool
	allNaN  bool
}

// The layouts of the accumulator, for the rows whose message names it.
const (
	denseTable int8 = 1 + iota // s has numRows·dim elements
	perRow                     // s has numRows elements: RowWise
)

// The table of the sparse rows: 5 rows of 3 at buf[0:15], its accumulator at
// buf[64:] (15 elements, or 5 row-wise), the gradient rows at buf[128:].
const (
	spRows = 5
	spDim  = 3
)

// table returns the sparse rows' x and s.
func table[T float, I Index](m *outcome.Mem[T, I], op sparseOp[T, I]) (x, s []T) {
	if op.rowWise {
		return m.At(0, spRows*spDim), m.At(64, spRows)
	}
	return m.At(0, spRows*spDim), m.At(64, spRows*spDim)
}

// shapeMsg is the documented message of a bad shape.
func shapeMsg(rowWise bool, lx, ls, dim, nrows, lg int) string {
	want := "want x and s of numRows·dim and g of len(rows)·dim"
	if rowWise {
		want = "want x of numRows·dim, s of numRows and g of len(rows)·dim"
	}
	return fmt.Sprintf("FN: len(x)=%d len(s)=%d dim=%d len(rows)=%d len(g)=%d; %s", lx, ls, dim, nrows, lg, want)
}

func sparseCases[T float, I Index]() []sparseCase[T, I] {
	std := params{lr: 0.1, eps: 1e-6, wd: 0.01, decay: 0.9, gain: 0.1}
	// indexed is the 5×3 table with the gradient rows of the indices v.
	indexed := func(v ...int64) func(m *outcome.Mem[T, I], op sparseOp[T, I]) ([]T, []T, int, []I, []T) {
		return func(m *outcome.Mem[T, I], op sparseOp[T, I]) ([]T, []T, int, []I, []T) {
			x, s := table(m, op)
			return x, s, spDim, m.Rows(v...), m.At(128, len(v)*spDim)
		}
	}
	outOfRange := func(r int64, k int, numRows int) string {
		return fmt.Sprintf("FN: index %d at offset %d out of range [0, %d)", r, k, numRows)
	}
	var cases []sparseCase[T, I]
	// Nil and empty, in every combination of x, s, rows and g, at dim 1 and 3: an
	// empty table and no index, accepted, nothing written.
	for _, dim := range []int{1, spDim} {
		for mask := range 16 {
			var parts []string
			for bit, v := range []string{"x", "s", "rows", "g"} {
				if mask&(1<<bit) != 0 {
					parts = append(parts, v+"=nil")
				} else {
					parts = append(parts, v+"=empty")
				}
			}
			cases = append(cases, sparseCase[T, I]{name: fmt.Sprintf("dim=%d %s", dim, strings.Join(parts, " ")), p: std,
				args: func(m *outcome.Mem[T, I], _ sparseOp[T, I]) ([]T, []T, int, []I, []T) {
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
					return f(0, 0), f(1, 64), dim, rows, f(3, 128)
				}})
		}
	}
	cases = append(cases,
		sparseCase[T, I]{name: "a table and no index (nil)", p: std,
			args: func(m *outcome.Mem[T, I], op sparseOp[T, I]) ([]T, []T, int, []I, []T) {
				x, s := table(m, op)
				return x, s, spDim, nil, nil
			}},
		sparseCase[T, I]{name: "a table and no index (empty)", p: params{lr: nan, eps: nan}, args: indexed()},

		// dim ≤ 0, before anything else is looked at.
		sparseCase[T, I]{name: "dim=0", p: std, want: "FN: dim = 0; it must be > 0",
			args: func(m *outcome.Mem[T, I], op sparseOp[T, I]) ([]T, []T, int, []I, []T) {
				x, s := table(m, op)
				return x, s, 0, m.Rows(0), m.At(128, 3)
			}},
		sparseCase[T, I]{name: "dim=0, all nil", p: std, want: "FN: dim = 0; it must be > 0",
			args: func(*outcome.Mem[T, I], sparseOp[T, I]) ([]T, []T, int, []I, []T) { return nil, nil, 0, nil, nil }},
		sparseCase[T, I]{name: "dim=-1", p: std, want: "FN: dim = -1; it must be > 0",
			args: func(m *outcome.Mem[T, I], op sparseOp[T, I]) ([]T, []T, int, []I, []T) {
				x, s := table(m, op)
				return x, s, -1, m.Rows(0), m.At(128, 3)
			}},
		sparseCase[T, I]{name: "dim=MinInt, bad index too", p: std, want: "FN: dim = " + strconv.Itoa(math.MinInt) + "; it must be > 0",
			args: func(m *outcome.Mem[T, I], op sparseOp[T, I]) ([]T, []T, int, []I, []T) {
				x, s := table(m, op)
				return x, s, math.MinInt, m.Rows(-1), m.At(128, 3)
			}},
	)
	// Shapes that do not fit.
	shape := func(name string, lx, ls, dim, nrows, lg int) sparseCase[T, I] {
		return sparseCase[T, I]{name: name, p: std,
			args: func(m *outcome.Mem[T, I], _ sparseOp[T, I]) ([]T, []T, int, []I, []T) {
				rows := make([]int64, nrows)
				return m.At(0, lx), m.At(64, ls), dim, m.Rows(rows...), m.At(128, lg)
			}}
	}
	for _, rowWise := range []bool{false, true} {
		ls := spRows * spDim
		if rowWise {
			ls = spRows
		}
		for _, c := range []struct {
			name                   string
			lx, ls, dim, nrows, lg int
		}{
			{"len(x) not a multiple of dim", 14, ls, spDim, 2, 6},
			{"len(s) one short", 15, ls - 1, spDim, 2, 6},
			{"len(s) one long", 15, ls + 1, spDim, 2, 6},
			{"len(g) one short", 15, ls, spDim, 2, 5},
			{"len(g) one row long", 15, ls, spDim, 2, 9},
			{"g empty for one index", 15, ls, spDim, 1, 0},
			{"no index, g of one row", 15, ls, spDim, 0, 3},
		} {
			sc := shape(c.name, c.lx, c.ls, c.dim, c.nrows, c.lg)
			sc.want = shapeMsg(rowWise, c.lx, c.ls, c.dim, c.nrows, c.lg)
			sc.layout = denseTable
			if rowWise {
				sc.layout = perRow
			}
			cases = append(cases, sc)
		}
		// len(rows)·dim overflows to 0 = len(g): the shape is still wrong.
		huge := 1 << (strconv.IntSize - 2)
		sc := shape("len(rows)·dim overflows", 0, 0, huge, 4, 0)
		sc.want, sc.layout = shapeMsg(rowWise, 0, 0, huge, 4, 0), denseTable
		if rowWise {
			sc.layout = perRow
		}
		cases = append(cases, sc)
	}
	// Tables that share memory.
	share := func(name string, pick func(m *outcome.Mem[T, I], op sparseOp[T, I]) ([]T, []T, []T)) sparseCase[T, I] {
		return sparseCase[T, I]{name: name, p: std, want: "FN: x, s and g must not share memory",
			args: func(m *outcome.Mem[T, I], op sparseOp[T, I]) ([]T, []T, int, []I, []T) {
				x, s, g := pick(m, op)
				return x, s, spDim, m.Rows(1, 4), g
			}}
	}
	cases = append(cases,
		share("s inside x", func(m *outcome.Mem[T, I], op sparseOp[T, I]) ([]T, []T, []T) {
			_, s := table(m, op)
			return m.At(0, 15), m.At(0, len(s)), m.At(128, 6)
		}),
		share("s starts on x's last element", func(m *outcome.Mem[T, I], op sparseOp[T, I]) ([]T, []T, []T) {
			_, s := table(m, op)
			return m.At(0, 15), m.At(14, len(s)), m.At(128, 6)
		}),
		share("g is x's last rows", func(m *outcome.Mem[T, I], op sparseOp[T, I]) ([]T, []T, []T) {
			x, s := table(m, op)
			return x, s, m.At(9, 6)
		}),
		share("g ends on s's first element", func(m *outcome.Mem[T, I], op sparseOp[T, I]) ([]T, []T, []T) {
			x, s := table(m, op)
			return x, s, m.At(64-5, 6)
		}),
		share("x, s and g the same memory", func(m *outcome.Mem[T, I], op sparseOp[T, I]) ([]T, []T, []T) {
			_, s := table(m, op)
			return m.At(0, 15), m.At(0, len(s)), m.At(0, 6)
		}),
		sparseCase[T, I]{name: "overlap and a bad index: the overlap is named", p: std, want: "FN: x, s and g must not share memory",
			args: func(m *outcome.Mem[T, I], op sparseOp[T, I]) ([]T, []T, int, []I, []T) {
				x, s := table(m, op)
				return x, s, spDim, m.Rows(9), m.At(12, 3)
			}},
	)
	// Forms and Duplicates values that do not exist.
	for _, bf := range badForms {
		cases = append(cases,
			sparseCase[T, I]{name: "form " + bf.why, form: bf.f, p: std, args: indexed(0, 4), want: "FN: " + bf.why},
			sparseCase[T, I]{name: "form " + bf.why + ", no index", form: bf.f, p: std, args: indexed(), want: "FN: " + bf.why},
		)
	}
	for _, d := range []Duplicates{2, 255} {
		cases = append(cases,
			sparseCase[T, I]{name: fmt.Sprintf("Duplicates(%d)", d), dup: &d, p: std, args: indexed(0, 4, 0),
				want: fmt.Sprintf("FN: unknown Duplicates %d", d)},
			sparseCase[T, I]{name: fmt.Sprintf("Duplicates(%d), bad index too", d), dup: &d, p: std, args: indexed(0, 5),
				want: fmt.Sprintf("FN: unknown Duplicates %d", d)})
	}
	cases = append(cases, sparseCase[T, I]{name: "bad form and a bad index: the form is named", form: Form{Order: 3}, p: std,
		args: indexed(7), want: "FN: invalid form: unknown step order 3"})
	// Workers: at least one.
	for _, w := range []int{0, -1, math.MinInt} {
		cases = append(cases,
			sparseCase[T, I]{name: fmt.Sprintf("workers=%d", w), workers: &w, p: std, args: indexed(0, 4),
				want: fmt.Sprintf("FN: workers = %d; it must be ≥ 1", w)},
			sparseCase[T, I]{name: fmt.Sprintf("workers=%d, bad index too", w), workers: &w, p: std, args: indexed(0, 9),
				want: fmt.Sprintf("FN: workers = %d; it must be ≥ 1", w)})
	}
	many := 64
	cases = append(cases, sparseCase[T, I]{name: "more workers than indices", workers: &many, p: std, args: indexed(4, 0, 4), math: true})
	// Indices out of range: bad data, an error naming the first.
	for _, c := range []struct {
		rows   []int64
		k      int
		only64 bool
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
		cases = append(cases, sparseCase[T, I]{name: fmt.Sprintf("rows %v", c.rows), p: std, args: indexed(c.rows...),
			only64: c.only64, err: outOfRange(c.rows[c.k], c.k, spRows)})
	}
	cases = append(cases,
		sparseCase[T, I]{name: "index 0 of an empty table (nil)", p: std, err: outOfRange(0, 0, 0),
			args: func(m *outcome.Mem[T, I], _ sparseOp[T, I]) ([]T, []T, int, []I, []T) {
				return nil, nil, spDim, m.Rows(0), m.At(128, spDim)
			}},
		sparseCase[T, I]{name: "bad index and NaN lr", p: params{lr: nan, eps: nan}, args: indexed(3, 5), err: outOfRange(5, 1, spRows)},
	)
	// Scalars are not checked: what the reference computes, repeated rows included.
	for _, f := range mathForms {
		add := func(name string, p params, allNaN bool) {
			cases = append(cases, sparseCase[T, I]{name: fmt.Sprintf("%v %s", f, name), form: f, p: p,
				args: indexed(4, 0, 4, 2, 4), math: true, allNaN: allNaN})
		}
		eachMathRow(f, add)
	}
	return cases
}

func testBadSparse[T float, I Index](t *testing.T) {
	is64 := unsafe.Sizeof(I(0)) == 8
	for _, op := range sparseOps[T, I]() {
		t.Run(op.label, func(t *testing.T) {
			sc := new(Scratch) // shared by the rows, as a caller's would be
			for _, c := range sparseCases[T, I]() {
				if c.only64 && !is64 || !op.form && c.form != (Form{}) || !op.dup && c.dup != nil || !op.workers && c.workers != nil ||
					c.layout == denseTable && op.rowWise || c.layout == perRow && !op.rowWise {
					continue
				}
				t.Run(c.name, func(t *testing.T) {
					dup, workers := op.defaults, 2
					if c.dup != nil {
						dup = *c.dup
					}
					if c.workers != nil {
						workers = *c.workers
					}
					m := outcome.NewMem[T, I](11)
					x, s, dim, rows, g := c.args(m, op)
					b, ix := m.Snapshot()
					msg, panicked, err := outcome.Of(func() error { return op.call(c.form, dup, x, s, dim, rows, g, c.p, sc, workers) })
					outcome.Check(t, msg, panicked, err, strings.ReplaceAll(c.want, "FN", op.name), strings.ReplaceAll(c.err, "FN", op.name))
					if !c.math {
						m.Unchanged(t, b, ix)
						return
					}
					want := outcome.NewMem[T, I](11)
					wx, ws, wdim, wrows, wg := c.args(want, op)
					if err := op.refSparse(c.form, dup, wx, ws, wdim, wrows, wg, c.p); err != nil {
						t.Fatal(err)
					}
					for i := range m.Buf {
						if !fbits.Same(m.Buf[i], want.Buf[i]) {
							t.Fatalf("buf[%d] = %v (%#x), the reference gives %v (%#x)", i, m.Buf[i], fbits.Bits(m.Buf[i]), want.Buf[i], fbits.Bits(want.Buf[i]))
						}
					}
					if c.allNaN {
						for _, r := range rows {
							for i, v := range x[int(r)*dim : int(r+1)*dim] {
								if v == v {
									t.Fatalf("row %d: x[%d] = %v, want NaN", r, i, v)
								}
							}
						}
					}
				})
			}
		})
	}
}

func TestBadInputRows32(t *testing.T) {
	forEachImpl(t, func(t *testing.T) {
		t.Run("int32", testBadSparse[float32, int32])
		t.Run("int64", testBadSparse[float32, int64])
	})
}

func TestBadInputRows64(t *testing.T) {
	forEachImpl(t, func(t *testing.T) {
		t.Run("int32", testBadSparse[float64, int32])
		t.Run("int64", testBadSparse[float64, int64])
	})
}

// Use: an unknown name or one this CPU cannot run is an error, exactly worded, and
// the implementation in use stays.
func TestBadInputUse(t *testing.T) {
	saved := Implementation()
	defer func() {
		if err := Use(saved); err != nil {
			t.Fatal(err)
		}
	}()
	var built []string
	for _, m := range impls {
		built = append(built, m.name)
	}
	unknown := func(name string) string {
		return fmt.Sprintf("kernel: unknown implementation %q (built with: %s)", name, strings.Join(built, ", "))
	}
	type row struct{ name, want string }
	rows := []row{
		{"", unknown("")},
		{"no-such-kernel", unknown("no-such-kernel")},
		{"GENERIC", unknown("GENERIC")},
		{" generic", unknown(" generic")},
		{"generic\x00", unknown("generic\x00")},
		{"avx", unknown("avx")},
		{"neon ", unknown("neon ")},
	}
	for _, m := range impls {
		if !m.supported() {
			rows = append(rows, row{m.name, fmt.Sprintf("kernel: implementation %q needs %s, which this CPU (%s) lacks",
				m.name, featureList(m.requires), cpuid.CPU.BrandName)})
		}
	}
	for _, start := range Implementations() {
		if err := Use(start); err != nil {
			t.Fatal(err)
		}
		for _, r := range rows {
			t.Run(fmt.Sprintf("from %s/%q", start, r.name), func(t *testing.T) {
				msg, panicked, err := outcome.Of(func() error { return Use(r.name) })
				outcome.Check(t, msg, panicked, err, "", r.want)
				if got := Implementation(); got != start {
					t.Fatalf("Implementation() = %q after the failed Use, want %q", got, start)
				}
			})
		}
	}
}

// AdviseHugePages: nil, empty and small tables are left alone, nil error.
func TestBadInputAdviseHugePages(t *testing.T) {
	m := outcome.NewMem[float32, int32](11)
	b, ix := m.Snapshot()
	m64 := outcome.NewMem[float64, int64](11)
	b64, ix64 := m64.Snapshot()
	for _, c := range []struct {
		name string
		call func() error
	}{
		{"nil float32", func() error { return AdviseHugePages[float32](nil) }},
		{"nil float64", func() error { return AdviseHugePages[float64](nil) }},
		{"empty float32", func() error { return AdviseHugePages(m.At(3, 0)) }},
		{"empty float64", func() error { return AdviseHugePages(m64.At(3, 0)) }},
		{"one element", func() error { return AdviseHugePages(m.At(7, 1)) }},
		{"no whole huge page", func() error { return AdviseHugePages(m64.At(0, outcome.BufLen)) }},
	} {
		t.Run(c.name, func(t *testing.T) {
			msg, panicked, err := outcome.Of(c.call)
			outcome.Check(t, msg, panicked, err, "", "")
			m.Unchanged(t, b, ix)
			m64.Unchanged(t, b64, ix64)
		})
	}
}
