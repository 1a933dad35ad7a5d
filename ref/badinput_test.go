package ref

// The bad-input table of package ref: every exported function called with nil
// and empty slices, lengths that differ, slices that share memory, dim ≤ 0,
// indices out of range (int32 and int64), invalid forms, and odd scalars. Each
// row asserts the documented outcome (an exact panic message, an exact error, or
// acceptance) and, for every rejected call, that not one bit of the memory the
// call could reach changed. The scalars are not checked (see the package
// comment): those rows assert that they go through the formula.

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"testing"
	"unsafe"

	"github.com/adagrad-go/adagrad/internal/fbits"
	"github.com/adagrad-go/adagrad/internal/outcome"
)

type badFloat interface{ float32 | float64 }

var (
	badNaN = math.NaN()
	badInf = math.Inf(1)
	// badForms are forms Validate rejects, with its error.
	badForms = []struct {
		f   Form
		why string
	}{
		{Form{Order: 3}, "invalid form: unknown step order 3"},
		{Form{Order: 255, EpsOutside: true}, "invalid form: unknown step order 255"},
		{Form{WeightDecay: 3}, "invalid form: unknown weight decay kind 3"},
		{Form{WeightDecay: 200, Order: 7}, "invalid form: unknown step order 7"},
		{Form{Guard: true}, "invalid form: the s > 0 guard needs the Recip order, not DivMul"},
		{Form{Order: MulDiv, Guard: true, Decay: true}, "invalid form: the s > 0 guard needs the Recip order, not MulDiv"},
	}
	// badMathForms are valid forms the scalar rows run.
	badMathForms = []Form{
		{},
		{EpsOutside: true, Order: MulDiv, WeightDecay: WeightDecayFMA, FusedAccumulator: true},
		{Order: Recip, Guard: true},
		{WeightDecay: WeightDecayAdd, Decay: true},
	}
	// badScalars are odd scalars: none is checked.
	badScalars = []struct {
		name string
		p    Params[float64]
	}{
		{"lr=NaN", Params[float64]{LR: badNaN, Eps: 1e-6, WeightDecay: 0.01, Decay: 0.9, Gain: 0.1}},
		{"lr=+Inf", Params[float64]{LR: badInf, Eps: 1e-6, WeightDecay: 0.01, Decay: 0.9, Gain: 0.1}},
		{"lr=-Inf", Params[float64]{LR: -badInf, Eps: 1e-6, WeightDecay: 0.01, Decay: 0.9, Gain: 0.1}},
		{"lr<0", Params[float64]{LR: -0.5, Eps: 1e-6, WeightDecay: 0.01, Decay: 0.9, Gain: 0.1}},
		{"eps=NaN", Params[float64]{LR: 0.1, Eps: badNaN, WeightDecay: 0.01, Decay: 0.9, Gain: 0.1}},
		{"eps=+Inf", Params[float64]{LR: 0.1, Eps: badInf, WeightDecay: 0.01, Decay: 0.9, Gain: 0.1}},
		{"eps<0", Params[float64]{LR: 0.1, Eps: -100, WeightDecay: 0.01, Decay: 0.9, Gain: 0.1}},
		{"wd=NaN", Params[float64]{LR: 0.1, Eps: 1e-6, WeightDecay: badNaN, Decay: 0.9, Gain: 0.1}},
		{"wd<0", Params[float64]{LR: 0.1, Eps: 1e-6, WeightDecay: -0.3, Decay: 0.9, Gain: 0.1}},
		{"decay=NaN", Params[float64]{LR: 0.1, Eps: 1e-6, WeightDecay: 0.01, Decay: badNaN, Gain: 0.1}},
		{"gain=+Inf", Params[float64]{LR: 0.1, Eps: 1e-6, WeightDecay: 0.01, Decay: 0.9, Gain: badInf}},
	}
)

func p32of(p Params[float64]) Params[float32] {
	return Params[float32]{LR: float32(p.LR), Eps: float32(p.Eps), WeightDecay: float32(p.WeightDecay), Decay: float32(p.Decay), Gain: float32(p.Gain)}
}

// badDenseOp is one of the dense functions for T.
type badDenseOp[T badFloat] struct {
	name string
	form bool
	call func(f Form, x, s, g []T, p Params[float64])
}

func badDenseOps[T badFloat]() []badDenseOp[T] {
	var ops []any
	switch any(T(0)).(type) {
	case float32:
		ops = []any{
			badDenseOp[float32]{"ref.Update", false, func(_ Form, x, s, g []float32, p Params[float64]) {
				Update(x, s, g, float32(p.LR), float32(p.Eps))
			}},
			badDenseOp[float32]{"ref.Apply", true, func(f Form, x, s, g []float32, p Params[float64]) { Apply(f, x, s, g, p32of(p)) }},
		}
	case float64:
		ops = []any{
			badDenseOp[float64]{"ref.Update", false, func(_ Form, x, s, g []float64, p Params[float64]) { Update(x, s, g, p.LR, p.Eps) }},
			badDenseOp[float64]{"ref.Apply", true, func(f Form, x, s, g []float64, p Params[float64]) { Apply(f, x, s, g, p) }},
		}
	}
	out := make([]badDenseOp[T], len(ops))
	for i, o := range ops {
		out[i] = o.(badDenseOp[T])
	}
	return out
}

// badDenseCase is a row of the dense table: want is the exact panic message, "FN"
// standing for the function's name; empty, the call is accepted, and math says
// whether it steps (the scalar rows) or must write nothing.
type badDenseCase[T badFloat] struct {
	name string
	form Form
	p    Params[float64]
	args func(m *outcome.Mem[T, int32]) (x, s, g []T)
	want string
	math bool
}

const badN = 11

func badDenseCases[T badFloat]() []badDenseCase[T] {
	const n = badN
	std := Params[float64]{LR: 0.1, Eps: 1e-6, WeightDecay: 0.01, Decay: 0.9, Gain: 0.1}
	fixed := func(xl, xn, sl, sn, gl, gn int) func(m *outcome.Mem[T, int32]) (x, s, g []T) {
		return func(m *outcome.Mem[T, int32]) (x, s, g []T) { return m.At(xl, xn), m.At(sl, sn), m.At(gl, gn) }
	}
	var cases []badDenseCase[T]
	// Nil and empty, in every combination: accepted, nothing written.
	for mask := range 8 {
		var parts []string
		for bit, v := range []string{"x", "s", "g"} {
			if mask&(1<<bit) != 0 {
				parts = append(parts, v+"=nil")
			} else {
				parts = append(parts, v+"=empty")
			}
		}
		cases = append(cases, badDenseCase[T]{name: strings.Join(parts, " "), p: std,
			args: func(m *outcome.Mem[T, int32]) (x, s, g []T) {
				pick := func(bit, lo int) []T {
					if mask&(1<<bit) != 0 {
						return nil
					}
					return m.At(lo, 0)
				}
				return pick(0, 0), pick(1, 64), pick(2, 128)
			}})
	}
	cases = append(cases,
		badDenseCase[T]{name: "one empty slice thrice", p: std, args: fixed(5, 0, 5, 0, 5, 0)},
		// Lengths that differ.
		badDenseCase[T]{name: "len(g) one short", p: std, args: fixed(0, n, 64, n, 128, n-1), want: "FN: len(x)=11 len(s)=11 len(g)=10"},
		badDenseCase[T]{name: "len(s) one short", p: std, args: fixed(0, n, 64, n-1, 128, n), want: "FN: len(x)=11 len(s)=10 len(g)=11"},
		badDenseCase[T]{name: "len(x) one long", p: std, args: fixed(0, n+1, 64, n, 128, n), want: "FN: len(x)=12 len(s)=11 len(g)=11"},
		badDenseCase[T]{name: "x nil", p: std, want: "FN: len(x)=0 len(s)=11 len(g)=11",
			args: func(m *outcome.Mem[T, int32]) (x, s, g []T) { return nil, m.At(64, n), m.At(128, n) }},
		badDenseCase[T]{name: "g nil", p: std, want: "FN: len(x)=11 len(s)=11 len(g)=0",
			args: func(m *outcome.Mem[T, int32]) (x, s, g []T) { return m.At(0, n), m.At(64, n), nil }},
		badDenseCase[T]{name: "lengths differ and overlap: the lengths are named", p: std, args: fixed(0, n, 0, n, 0, 1),
			want: "FN: len(x)=11 len(s)=11 len(g)=1"},
		// Slices that share memory.
		badDenseCase[T]{name: "x is s", p: std, args: fixed(0, n, 0, n, 128, n), want: "FN: x and s overlap"},
		badDenseCase[T]{name: "x is g", p: std, args: fixed(0, n, 64, n, 0, n), want: "FN: x and g overlap"},
		badDenseCase[T]{name: "s is g", p: std, args: fixed(0, n, 64, n, 64, n), want: "FN: s and g overlap"},
		badDenseCase[T]{name: "all three the same", p: std, args: fixed(0, n, 0, n, 0, n), want: "FN: x and s overlap"},
		badDenseCase[T]{name: "s starts on x's last element", p: std, args: fixed(0, n, n-1, n, 128, n), want: "FN: x and s overlap"},
		badDenseCase[T]{name: "g ends on x's first element", p: std, args: fixed(64, n, 128, n, 64-n+1, n), want: "FN: x and g overlap"},
		badDenseCase[T]{name: "s one element after g", p: std, args: fixed(0, n, 65, n, 64, n), want: "FN: s and g overlap"},
		badDenseCase[T]{name: "adjacent slices do not overlap", p: std, args: fixed(0, n, n, n, 2*n, n), math: true},
	)
	// Forms that are not valid, whatever the length.
	for _, bf := range badForms {
		cases = append(cases,
			badDenseCase[T]{name: "form " + bf.why, form: bf.f, p: std, args: fixed(0, n, 64, n, 128, n), want: "FN: " + bf.why},
			badDenseCase[T]{name: "nil slices, form " + bf.why, form: bf.f, p: std,
				args: func(*outcome.Mem[T, int32]) (x, s, g []T) { return nil, nil, nil }, want: "FN: " + bf.why})
	}
	cases = append(cases, badDenseCase[T]{name: "bad form and overlap: the overlap is named", form: Form{Order: 3}, p: std,
		args: fixed(0, n, 0, n, 128, n), want: "FN: x and s overlap"})
	// Odd scalars: accepted, through the formula.
	for _, f := range badMathForms {
		for _, r := range badScalars {
			cases = append(cases, badDenseCase[T]{name: fmt.Sprintf("%v %s", f, r.name), form: f, p: r.p,
				args: fixed(0, n, 64, n, 128, n), math: true})
		}
	}
	return cases
}

// oracleUpdate32 is Update element by element, each operation carried out in
// float64 and rounded to float32 (exact for these operations, see
// TestUpdate32RoundsEachOperation), scalars as they are.
func oracleUpdate32(x, s, g []float32, lr, eps float32) {
	r := func(v float64) float32 { return float32(v) }
	for i := range x {
		sq := r(float64(g[i]) * float64(g[i]))
		s[i] = r(float64(s[i]) + float64(sq))
		d := r(math.Sqrt(float64(r(float64(s[i]) + float64(eps)))))
		q := r(float64(lr) / float64(d))
		x[i] = r(float64(x[i]) - float64(r(float64(q)*float64(g[i]))))
	}
}

func testBadDense[T badFloat](t *testing.T) {
	for _, op := range badDenseOps[T]() {
		t.Run(op.name, func(t *testing.T) {
			for _, c := range badDenseCases[T]() {
				if !op.form && c.form != (Form{}) {
					continue
				}
				t.Run(c.name, func(t *testing.T) {
					m := outcome.NewMem[T, int32](21)
					x, s, g := c.args(m)
					b, ix := m.Snapshot()
					msg, panicked, err := outcome.Of(func() error { op.call(c.form, x, s, g, c.p); return nil })
					outcome.Check(t, msg, panicked, err, strings.ReplaceAll(c.want, "FN", op.name), "")
					if !c.math {
						m.Unchanged(t, b, ix)
						return
					}
					// The step writes x and s and nothing else.
					m.Unchanged(t, b, ix, x, s)
					checkScalarRow(t, op, c, x, s)
				})
			}
		})
	}
}

// checkScalarRow holds an accepted dense call to what its scalars mean: they go
// through the formula unchecked. lr does not enter s; a NaN lr makes every x NaN;
// a negative one moves x up where g > 0; Update is its oracle for every scalar.
func checkScalarRow[T badFloat](t *testing.T, op badDenseOp[T], c badDenseCase[T], x, s []T) {
	t.Helper()
	x0, _, g := c.args(outcome.NewMem[T, int32](21))
	std := outcome.NewMem[T, int32](21)
	sx, ss, sg := c.args(std)
	p := c.p
	p.LR = 0.1
	op.call(c.form, sx, ss, sg, p)
	for i := range s {
		if outcome.Bits(s[i]) != outcome.Bits(ss[i]) && !(s[i] != s[i] && ss[i] != ss[i]) {
			t.Fatalf("s[%d] = %v with lr %v, %v with lr 0.1: lr entered s", i, s[i], c.p.LR, ss[i])
		}
		switch {
		case math.IsNaN(c.p.LR):
			if x[i] == x[i] {
				t.Fatalf("x[%d] = %v with a NaN lr, want NaN", i, x[i])
			}
		case c.p.LR < 0 && !math.IsNaN(float64(s[i])) && g[i] > 0 && c.p.WeightDecay >= 0:
			if !(x[i] > x0[i]) {
				t.Fatalf("x[%d] went from %v to %v with lr %v and g %v: it should ascend", i, x0[i], x[i], c.p.LR, g[i])
			}
		}
	}
	if _, ok := any(x).([]float32); op.name != "ref.Update" || !ok {
		return
	}
	want := outcome.NewMem[float32, int32](21)
	wx, ws, wg := any(c.args).(func(*outcome.Mem[float32, int32]) ([]float32, []float32, []float32))(want)
	oracleUpdate32(wx, ws, wg, float32(c.p.LR), float32(c.p.Eps))
	for i := range wx {
		if !fbits.Same(any(x[i]).(float32), wx[i]) || !fbits.Same(any(s[i]).(float32), ws[i]) {
			t.Fatalf("element %d: x = %v, s = %v; the oracle gives x = %v, s = %v", i, x[i], s[i], wx[i], ws[i])
		}
	}
}

func TestBadInputDense32(t *testing.T) { testBadDense[float32](t) }
func TestBadInputDense64(t *testing.T) { testBadDense[float64](t) }

// badSparseOp is one of the sparse functions for T and I.
type badSparseOp[T badFloat, I Index] struct {
	name    string
	rowWise bool
	call    func(f Form, x, s []T, dim int, rows []I, g []T, p Params[float64]) error
}

func badSparseOps[T badFloat, I Index]() []badSparseOp[T, I] {
	var ops []any
	switch any(T(0)).(type) {
	case float32:
		ops = []any{
			badSparseOp[float32, I]{"ref.ApplyRows", false, func(f Form, x, s []float32, dim int, rows []I, g []float32, p Params[float64]) error {
				return ApplyRows(f, x, s, dim, rows, g, p32of(p))
			}},
			badSparseOp[float32, I]{"ref.RowWise", true, func(f Form, x, s []float32, dim int, rows []I, g []float32, p Params[float64]) error {
				return RowWise(f, x, s, dim, rows, g, p32of(p))
			}},
		}
	case float64:
		ops = []any{
			badSparseOp[float64, I]{"ref.ApplyRows", false, func(f Form, x, s []float64, dim int, rows []I, g []float64, p Params[float64]) error {
				return ApplyRows(f, x, s, dim, rows, g, p)
			}},
			badSparseOp[float64, I]{"ref.RowWise", true, func(f Form, x, s []float64, dim int, rows []I, g []float64, p Params[float64]) error {
				return RowWise(f, x, s, dim, rows, g, p)
			}},
		}
	}
	out := make([]badSparseOp[T, I], len(ops))
	for i, o := range ops {
		out[i] = o.(badSparseOp[T, I])
	}
	return out
}

// badSparseCase is a row of the sparse table, as badDenseCase with err, the exact
// error of an index out of range.
type badSparseCase[T badFloat, I Index] struct {
	name    string
	form    Form
	p       Params[float64]
	args    func(m *outcome.Mem[T, I], rowWise bool) (x, s []T, dim int, rows []I, g []T)
	only64  bool // indices only int64 holds
	rowWise int8 // 0: both kinds of op; 1: ApplyRows only; 2: RowWise only
	want    string
	err     string
	math    bool
}

// The sparse rows' table: 5 rows of 3 at buf[0:15], s at buf[64:] (15 elements,
// or 5 row-wise), the gradient rows at buf[128:].
const (
	tblRows = 5
	tblDim  = 3
)

func badTable[T badFloat, I Index](m *outcome.Mem[T, I], rowWise bool) (x, s []T) {
	if rowWise {
		return m.At(0, tblRows*tblDim), m.At(64, tblRows)
	}
	return m.At(0, tblRows*tblDim), m.At(64, tblRows*tblDim)
}

// checkRowsOutOfRange is badOutOfRange as CheckRows reports it.
func checkRowsOutOfRange(r int64, k, numRows int) string {
	return strings.ReplaceAll(badOutOfRange(r, k, numRows), "FN", "ref.CheckRows")
}

func badOutOfRange(r int64, k, numRows int) string {
	return fmt.Sprintf("FN: index %d at offset %d out of range [0, %d)", r, k, numRows)
}

func badSparseCases[T badFloat, I Index]() []badSparseCase[T, I] {
	std := Params[float64]{LR: 0.1, Eps: 1e-6, WeightDecay: 0.01, Decay: 0.9, Gain: 0.1}
	indexed := func(v ...int64) func(m *outcome.Mem[T, I], rowWise bool) ([]T, []T, int, []I, []T) {
		return func(m *outcome.Mem[T, I], rowWise bool) ([]T, []T, int, []I, []T) {
			x, s := badTable(m, rowWise)
			return x, s, tblDim, m.Rows(v...), m.At(128, len(v)*tblDim)
		}
	}
	var cases []badSparseCase[T, I]
	// Nil and empty, in every combination of x, s, rows and g, at dim 1 and 3.
	for _, dim := range []int{1, tblDim} {
		for mask := range 16 {
			var parts []string
			for bit, v := range []string{"x", "s", "rows", "g"} {
				if mask&(1<<bit) != 0 {
					parts = append(parts, v+"=nil")
				} else {
					parts = append(parts, v+"=empty")
				}
			}
			cases = append(cases, badSparseCase[T, I]{name: fmt.Sprintf("dim=%d %s", dim, strings.Join(parts, " ")), p: std,
				args: func(m *outcome.Mem[T, I], _ bool) ([]T, []T, int, []I, []T) {
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
		badSparseCase[T, I]{name: "a table and no index", p: Params[float64]{LR: badNaN}, args: indexed()},
		// dim ≤ 0.
		badSparseCase[T, I]{name: "dim=0", p: std, want: "FN: dim = 0; it must be > 0",
			args: func(m *outcome.Mem[T, I], rw bool) ([]T, []T, int, []I, []T) {
				x, s := badTable(m, rw)
				return x, s, 0, m.Rows(0), m.At(128, 3)
			}},
		badSparseCase[T, I]{name: "dim=0, all nil", p: std, want: "FN: dim = 0; it must be > 0",
			args: func(*outcome.Mem[T, I], bool) ([]T, []T, int, []I, []T) { return nil, nil, 0, nil, nil }},
		badSparseCase[T, I]{name: "dim=MinInt, bad index too", p: std, want: "FN: dim = " + strconv.Itoa(math.MinInt) + "; it must be > 0",
			args: func(m *outcome.Mem[T, I], rw bool) ([]T, []T, int, []I, []T) {
				x, s := badTable(m, rw)
				return x, s, math.MinInt, m.Rows(-1), m.At(128, 3)
			}},
	)
	// Shapes that do not fit; len(rows)·dim that overflows to len(g) = 0 too.
	huge := 1 << (strconv.IntSize - 2)
	for kind, ls := range map[int8]int{1: tblRows * tblDim, 2: tblRows} {
		for _, c := range []struct {
			name                   string
			lx, ls, dim, nrows, lg int
			want                   string
		}{
			{"len(x) not a multiple of dim", 14, ls, tblDim, 2, 6, "FN: len(x)=14 is not a multiple of dim=3"},
			{"len(s) one short", 15, ls - 1, tblDim, 2, 6, fmt.Sprintf("FN: len(s)=%d, want %d for 5 rows of 3", ls-1, ls)},
			{"len(s) one long", 15, ls + 1, tblDim, 2, 6, fmt.Sprintf("FN: len(s)=%d, want %d for 5 rows of 3", ls+1, ls)},
			{"len(g) one short", 15, ls, tblDim, 2, 5, "FN: len(g)=5, want len(rows)·dim = 2·3"},
			{"len(g) one row long", 15, ls, tblDim, 2, 9, "FN: len(g)=9, want len(rows)·dim = 2·3"},
			{"g empty for one index", 15, ls, tblDim, 1, 0, "FN: len(g)=0, want len(rows)·dim = 1·3"},
			{"len(rows)·dim overflows", 0, 0, huge, 4, 0, fmt.Sprintf("FN: len(g)=0, want len(rows)·dim = 4·%d", huge)},
		} {
			cases = append(cases, badSparseCase[T, I]{name: c.name, p: std, rowWise: kind, want: c.want,
				args: func(m *outcome.Mem[T, I], _ bool) ([]T, []T, int, []I, []T) {
					return m.At(0, c.lx), m.At(64, c.ls), c.dim, m.Rows(make([]int64, c.nrows)...), m.At(128, c.lg)
				}})
		}
	}
	// Tables that share memory.
	share := func(name string, pick func(m *outcome.Mem[T, I], rw bool) ([]T, []T, []T)) badSparseCase[T, I] {
		return badSparseCase[T, I]{name: name, p: std, want: "FN: x, s and g must not share memory",
			args: func(m *outcome.Mem[T, I], rw bool) ([]T, []T, int, []I, []T) {
				x, s, g := pick(m, rw)
				return x, s, tblDim, m.Rows(1, 4), g
			}}
	}
	cases = append(cases,
		share("s inside x", func(m *outcome.Mem[T, I], rw bool) ([]T, []T, []T) {
			_, s := badTable(m, rw)
			return m.At(0, 15), m.At(0, len(s)), m.At(128, 6)
		}),
		share("s starts on x's last element", func(m *outcome.Mem[T, I], rw bool) ([]T, []T, []T) {
			_, s := badTable(m, rw)
			return m.At(0, 15), m.At(14, len(s)), m.At(128, 6)
		}),
		share("g is x's last rows", func(m *outcome.Mem[T, I], rw bool) ([]T, []T, []T) {
			x, s := badTable(m, rw)
			return x, s, m.At(9, 6)
		}),
		share("g ends on s's first element", func(m *outcome.Mem[T, I], rw bool) ([]T, []T, []T) {
			x, s := badTable(m, rw)
			return x, s, m.At(59, 6)
		}),
		badSparseCase[T, I]{name: "overlap and a bad index: the overlap is named", p: std, want: "FN: x, s and g must not share memory",
			args: func(m *outcome.Mem[T, I], rw bool) ([]T, []T, int, []I, []T) {
				x, s := badTable(m, rw)
				return x, s, tblDim, m.Rows(9), m.At(12, 3)
			}},
	)
	// Forms that are not valid: before the indices, whether there are any.
	for _, bf := range badForms {
		cases = append(cases,
			badSparseCase[T, I]{name: "form " + bf.why, form: bf.f, p: std, args: indexed(0, 4), want: "FN: " + bf.why},
			badSparseCase[T, I]{name: "form " + bf.why + ", no index", form: bf.f, p: std, args: indexed(), want: "FN: " + bf.why},
			badSparseCase[T, I]{name: "form " + bf.why + ", bad index too", form: bf.f, p: std, args: indexed(0, 5), want: "FN: " + bf.why},
		)
	}
	// Indices out of range: an error naming the first, nothing written.
	for _, c := range []struct {
		rows   []int64
		k      int
		only64 bool
	}{
		{[]int64{-1}, 0, false},
		{[]int64{0, -1, 2}, 1, false},
		{[]int64{0, 1, 5}, 2, false},
		{[]int64{0, 1, 2, 3, 4, 4, 3, 2, 1, 0, 5}, 10, false},
		{[]int64{4, 6, -1}, 1, false},
		{[]int64{math.MaxInt32}, 0, false},
		{[]int64{math.MinInt32, 0}, 0, false},
		{[]int64{1 << 32}, 0, true}, // int32(1<<32) would be row 0
		{[]int64{0, 1<<32 + 4}, 1, true},
		{[]int64{-1 << 32}, 0, true},
		{[]int64{math.MaxInt64}, 0, true},
		{[]int64{2, math.MinInt64}, 1, true},
	} {
		cases = append(cases, badSparseCase[T, I]{name: fmt.Sprintf("rows %v", c.rows), p: std, args: indexed(c.rows...),
			only64: c.only64, err: badOutOfRange(c.rows[c.k], c.k, tblRows)})
	}
	cases = append(cases, badSparseCase[T, I]{name: "index 0 of an empty table", p: std, err: badOutOfRange(0, 0, 0),
		args: func(m *outcome.Mem[T, I], _ bool) ([]T, []T, int, []I, []T) {
			return nil, nil, tblDim, m.Rows(0), m.At(128, tblDim)
		}})
	// Odd scalars: accepted, repeated rows included.
	for _, f := range badMathForms {
		for _, r := range badScalars {
			cases = append(cases, badSparseCase[T, I]{name: fmt.Sprintf("%v %s", f, r.name), form: f, p: r.p,
				args: indexed(4, 0, 4, 2), math: true})
		}
	}
	return cases
}

func testBadSparse[T badFloat, I Index](t *testing.T) {
	is64 := unsafe.Sizeof(I(0)) == 8
	for _, op := range badSparseOps[T, I]() {
		t.Run(op.name, func(t *testing.T) {
			for _, c := range badSparseCases[T, I]() {
				if c.only64 && !is64 || c.rowWise == 1 && op.rowWise || c.rowWise == 2 && !op.rowWise {
					continue
				}
				t.Run(c.name, func(t *testing.T) {
					m := outcome.NewMem[T, I](21)
					x, s, dim, rows, g := c.args(m, op.rowWise)
					b, ix := m.Snapshot()
					msg, panicked, err := outcome.Of(func() error { return op.call(c.form, x, s, dim, rows, g, c.p) })
					outcome.Check(t, msg, panicked, err, strings.ReplaceAll(c.want, "FN", op.name), strings.ReplaceAll(c.err, "FN", op.name))
					if !c.math {
						m.Unchanged(t, b, ix)
						return
					}
					// x and s change, nothing else; a NaN lr makes every stepped x NaN.
					m.Unchanged(t, b, ix, x, s)
					if math.IsNaN(c.p.LR) {
						for _, r := range rows {
							for i, v := range x[int(r)*dim : int(r+1)*dim] {
								if v == v {
									t.Fatalf("row %d: x[%d] = %v with a NaN lr, want NaN", r, i, v)
								}
							}
						}
					}
				})
			}
		})
	}
}

func TestBadInputRows(t *testing.T) {
	t.Run("float32/int32", testBadSparse[float32, int32])
	t.Run("float32/int64", testBadSparse[float32, int64])
	t.Run("float64/int32", testBadSparse[float64, int32])
	t.Run("float64/int64", testBadSparse[float64, int64])
}

// CheckRows, Coalesce, RowScale, SumSquares, FMA32 and the Form methods.
func TestBadInputHelpers(t *testing.T) {
	type row struct {
		name      string
		call      func() error
		wantPanic string
		wantErr   string
	}
	var rows []row
	checkRows := func(name string, numRows int, idx32 []int32, idx64 []int64, wantPanic, wantErr string) {
		rows = append(rows,
			row{name + " int32", func() error { return CheckRows(numRows, idx32) }, wantPanic, wantErr},
			row{name + " int64", func() error { return CheckRows(numRows, idx64) }, wantPanic, wantErr})
	}
	checkRows("CheckRows nil", 5, nil, nil, "", "")
	checkRows("CheckRows empty", 5, []int32{}, []int64{}, "", "")
	checkRows("CheckRows numRows 0, no index", 0, nil, []int64{}, "", "")
	checkRows("CheckRows numRows 0", 0, []int32{0}, []int64{0}, "", checkRowsOutOfRange(0, 0, 0))
	checkRows("CheckRows numRows -1", -1, nil, nil, "ref.CheckRows: numRows = -1; it must be ≥ 0", "")
	checkRows("CheckRows numRows MinInt", math.MinInt, []int32{-1}, []int64{-1},
		"ref.CheckRows: numRows = "+strconv.Itoa(math.MinInt)+"; it must be ≥ 0", "")
	checkRows("CheckRows -1", 5, []int32{0, -1}, []int64{0, -1}, "", checkRowsOutOfRange(-1, 1, 5))
	checkRows("CheckRows numRows", 5, []int32{5}, []int64{5}, "", checkRowsOutOfRange(5, 0, 5))
	checkRows("CheckRows MaxInt32 rows", math.MaxInt32, []int32{math.MaxInt32 - 1, math.MaxInt32}, []int64{0, math.MaxInt32},
		"", checkRowsOutOfRange(math.MaxInt32, 1, math.MaxInt32))
	rows = append(rows,
		row{"CheckRows 1<<32 int64", func() error { return CheckRows(5, []int64{1 << 32}) }, "", checkRowsOutOfRange(1<<32, 0, 5)},
		row{"CheckRows MinInt64", func() error { return CheckRows(5, []int64{math.MinInt64}) }, "", checkRowsOutOfRange(math.MinInt64, 0, 5)},
	)

	// Coalesce reads rows and g and writes neither.
	g32 := []float32{1, 2, 3, 4, 5, 6}
	g64 := []float64{1, 2, 3, 4, 5, 6}
	r32, r64 := []int32{7, -1}, []int64{-3, 1 << 40, -3}
	coalesce := func(name string, dim int, idx32 []int32, g []float32, idx64 []int64, gg []float64, want string) {
		rows = append(rows,
			row{name + " float32/int32", func() error { Coalesce(dim, idx32, g); return nil }, want, ""},
			row{name + " float64/int64", func() error { Coalesce(dim, idx64, gg); return nil }, want, ""})
	}
	coalesce("Coalesce nil", 3, nil, nil, nil, nil, "")
	coalesce("Coalesce empty", 1, []int32{}, g32[:0], []int64{}, g64[:0], "")
	coalesce("Coalesce dim=0", 0, nil, nil, nil, nil, "ref.Coalesce: dim = 0; it must be > 0")
	coalesce("Coalesce dim=-2", -2, r32, g32, r64[:3], g64, "ref.Coalesce: dim = -2; it must be > 0")
	coalesce("Coalesce len(g) short", 3, r32, g32[:5], r64[:2], g64[:5], "ref.Coalesce: len(g)=5, want len(rows)·dim = 2·3")
	coalesce("Coalesce len(g) long", 2, r32, g32, r64[:2], g64, "ref.Coalesce: len(g)=6, want len(rows)·dim = 2·2")
	coalesce("Coalesce g nil", 1, r32, nil, r64[:2], nil, "ref.Coalesce: len(g)=0, want len(rows)·dim = 2·1")
	rows = append(rows,
		row{"Coalesce len(rows)·dim overflows, no row", func() error { Coalesce(1<<(strconv.IntSize-2), r64[:0:0], []float64(nil)); return nil }, "", ""},
		row{"Coalesce len(rows)·dim overflows, 4 rows", func() error {
			Coalesce(1<<(strconv.IntSize-2), []int64{0, 0, 0, 0}, []float64(nil))
			return nil
		}, fmt.Sprintf("ref.Coalesce: len(g)=0, want len(rows)·dim = 4·%d", 1<<(strconv.IntSize-2)), ""},
		row{"Coalesce negative and huge indices are not checked", func() error {
			got, sums := Coalesce(2, r64[:3], g64)
			if !slices.Equal(got, []int64{-3, 1 << 40}) || !slices.Equal(sums, []float64{6, 8, 3, 4}) {
				return fmt.Errorf("Coalesce gave %v %v", got, sums)
			}
			return nil
		}, "", ""},
	)
	// RowScale: dim ≤ 0 panics; scalars go through the formula.
	rows = append(rows,
		row{"RowScale dim=0", func() error { RowScale(Form{}, Params[float32]{LR: 1}, 1, 1, 0); return nil }, "ref.RowScale: dim = 0; it must be > 0", ""},
		row{"RowScale dim=-1", func() error { RowScale(Form{}, Params[float64]{LR: 1}, 1, 1, -1); return nil }, "ref.RowScale: dim = -1; it must be > 0", ""},
		row{"RowScale dim=MinInt", func() error { RowScale(Form{Order: Recip}, Params[float64]{}, 1, 1, math.MinInt); return nil },
			"ref.RowScale: dim = " + strconv.Itoa(math.MinInt) + "; it must be > 0", ""},
		row{"RowScale NaN lr", func() error {
			s, k := RowScale(Form{}, Params[float32]{LR: float32(badNaN), Eps: 1e-6}, 1, 6, 3)
			if s != 3 || k == k {
				return fmt.Errorf("RowScale = %v, %v; want 3, NaN", s, k)
			}
			return nil
		}, "", ""},
		row{"RowScale NaN s and q", func() error {
			s, k := RowScale(Form{Order: Recip, Guard: true}, Params[float64]{LR: 1}, badNaN, 1, 1)
			if s == s || k != 0 {
				return fmt.Errorf("RowScale = %v, %v; want NaN and the guard's 0", s, k)
			}
			return nil
		}, "", ""},
	)
	// SumSquares: empty is 0, NaN propagates, the input is only read.
	v32 := []float32{1, float32(badNaN), 2}
	rows = append(rows,
		row{"SumSquares nil", func() error { return badOK(SumSquares[float32](nil, false) == 0 && SumSquares([]float32{}, true) == 0) }, "", ""},
		row{"SumSquares nil", func() error { return badOK(SumSquares[float64](nil, true) == 0 && SumSquares([]float64{}, false) == 0) }, "", ""},
		row{"SumSquares NaN", func() error { v := SumSquares(v32, true); return badOK(v != v) }, "", ""},
		row{"SumSquares +Inf", func() error { return badOK(math.IsInf(SumSquares([]float64{badInf, 1}, false), 1)) }, "", ""},
		row{"FMA32 NaN", func() error { v := FMA32(float32(badNaN), 1, 1); return badOK(v != v) }, "", ""},
		row{"FMA32 Inf·0", func() error { v := FMA32(float32(badInf), 0, 1); return badOK(v != v) }, "", ""},
		row{"FMA32 Inf−Inf", func() error { v := FMA32(float32(badInf), 1, float32(-badInf)); return badOK(v != v) }, "", ""},
	)
	// Form: Validate names the problem; String names unknown values; ID means
	// nothing for an invalid form but does not panic.
	for _, bf := range badForms {
		rows = append(rows, row{"Validate " + bf.why, func() error { _ = bf.f.ID(); return bf.f.Validate() }, "", bf.why})
	}
	rows = append(rows,
		row{"Order(7).String", func() error { return badOK(Order(7).String() == "Order(7)") }, "", ""},
		row{"WeightDecay(9).String", func() error { return badOK(WeightDecay(9).String() == "WeightDecay(9)") }, "", ""},
		row{"bad Form.String", func() error {
			return badOK(Form{Order: 3, WeightDecay: 4, Guard: true}.String() == "InOrder(3)WeightDecay(4)Guard")
		}, "", ""},
		row{"Forms are all valid", func() error {
			for _, f := range Forms() {
				if err := f.Validate(); err != nil {
					return err
				}
			}
			return nil
		}, "", ""},
	)
	for _, r := range rows {
		t.Run(r.name, func(t *testing.T) {
			b32, b64, i32, i64 := slices.Clone(g32), slices.Clone(g64), slices.Clone(r32), slices.Clone(r64)
			v := slices.Clone(v32)
			msg, panicked, err := outcome.Of(r.call)
			outcome.Check(t, msg, panicked, err, r.wantPanic, r.wantErr)
			if !slices.Equal(b32, g32) || !slices.Equal(b64, g64) || !slices.Equal(i32, r32) || !slices.Equal(i64, r64) ||
				math.Float32bits(v[1]) != math.Float32bits(v32[1]) || v[0] != v32[0] || v[2] != v32[2] {
				t.Fatal("an input was written")
			}
		})
	}
}

// badOK is nil when ok, an error otherwise.
func badOK(ok bool) error {
	if !ok {
		return fmt.Errorf("not the documented result")
	}
	return nil
}
