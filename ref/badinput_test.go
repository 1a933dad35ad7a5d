package ref_test

// The bad-input tables of package ref: every exported function called with nil
// and empty slices, lengths that differ, slices that share memory, dim ≤ 0,
// indices out of range (int32 and int64), invalid forms, and odd scalars.
// internal/outcome builds the cases, the same for package kernel; this file
// lists the functions and, where there is one apart from ref itself, what each
// must compute. An external test package, as internal/outcome imports ref.

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"testing"

	"github.com/adagrad-go/adagrad/internal/outcome"
	"github.com/adagrad-go/adagrad/ref"
)

// oracleUpdate is Update element by element, each operation carried out in
// float64 and rounded to T: exact for float32 (see
// TestUpdate32RoundsEachOperation), the formula itself for float64.
func oracleUpdate[T ref.Float](a outcome.DenseArgs[T]) {
	r := func(v float64) T { return T(v) }
	lr, eps := float64(a.P.LR), float64(a.P.Eps)
	for i := range a.X {
		g := float64(a.G[i])
		s := r(float64(a.S[i]) + float64(r(g*g)))
		d := r(math.Sqrt(float64(r(float64(s) + eps))))
		a.S[i], a.X[i] = s, r(float64(a.X[i])-float64(r(float64(r(lr/float64(d)))*g)))
	}
}

func testBadDense[T ref.Float](t *testing.T) {
	for _, op := range []outcome.DenseOp[T]{
		{Name: "ref.Update", Want: oracleUpdate[T], Call: func(a outcome.DenseArgs[T]) { ref.Update(a.X, a.S, a.G, a.P.LR, a.P.Eps) }},
		{Name: "ref.Apply", Form: true, Call: func(a outcome.DenseArgs[T]) { ref.Apply(a.Form, a.X, a.S, a.G, a.P) }},
	} {
		t.Run(op.Name, op.Test)
	}
}

func TestBadInputDense(t *testing.T) {
	t.Run("float32", testBadDense[float32])
	t.Run("float64", testBadDense[float64])
}

// refShape is the message of a sparse call whose lengths do not fit: ref names
// the first length that is wrong.
func refShape(s outcome.Shape) string {
	switch s.Fault {
	case outcome.BadX:
		return fmt.Sprintf("len(x)=%d is not a multiple of dim=%d", s.X, s.Dim)
	case outcome.BadS:
		rows, want := s.X/s.Dim, s.X
		if s.RowWise {
			want = rows
		}
		return fmt.Sprintf("len(s)=%d, want %d for %d rows of %d", s.S, want, rows, s.Dim)
	}
	return fmt.Sprintf("len(g)=%d, want len(rows)·dim = %d·%d", s.G, s.Rows, s.Dim)
}

// applyPerRow is ApplyRows as its documentation defines it: Apply on each
// indexed row in turn.
func applyPerRow[T ref.Float, I ref.Index](a outcome.RowsArgs[T, I]) error {
	for k, r := range a.Rows {
		lo := int(r) * a.Dim
		ref.Apply(a.Form, a.X[lo:lo+a.Dim], a.S[lo:lo+a.Dim], a.G[k*a.Dim:(k+1)*a.Dim], a.P)
	}
	return nil
}

func testBadRows[T ref.Float, I ref.Index](t *testing.T) {
	for _, op := range []outcome.RowsOp[T, I]{
		{Name: "ref.ApplyRows", Form: true, Shape: refShape, Want: applyPerRow[T, I],
			Call: func(a outcome.RowsArgs[T, I]) error { return ref.ApplyRows(a.Form, a.X, a.S, a.Dim, a.Rows, a.G, a.P) }},
		{Name: "ref.RowWise", Form: true, RowWise: true, Shape: refShape,
			Call: func(a outcome.RowsArgs[T, I]) error { return ref.RowWise(a.Form, a.X, a.S, a.Dim, a.Rows, a.G, a.P) }},
	} {
		t.Run(op.Name, op.Test)
	}
}

func TestBadInputRows(t *testing.T) {
	t.Run("float32/int32", testBadRows[float32, int32])
	t.Run("float32/int64", testBadRows[float32, int64])
	t.Run("float64/int32", testBadRows[float64, int32])
	t.Run("float64/int64", testBadRows[float64, int64])
}

var (
	badNaN = math.NaN()
	badInf = math.Inf(1)
)

// checkRowsOutOfRange is the error of CheckRows given index r at offset k.
func checkRowsOutOfRange(r int64, k, numRows int) string {
	return fmt.Sprintf("ref.CheckRows: index %d at offset %d out of range [0, %d)", r, k, numRows)
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
			row{name + " int32", func() error { return ref.CheckRows(numRows, idx32) }, wantPanic, wantErr},
			row{name + " int64", func() error { return ref.CheckRows(numRows, idx64) }, wantPanic, wantErr})
	}
	checkRows("CheckRows nil", 5, nil, nil, "", "")
	checkRows("CheckRows empty", 5, []int32{}, []int64{}, "", "")
	checkRows("CheckRows valid, repeated", 5, []int32{0, 4, 2, 4}, []int64{4, 0, 4}, "", "")
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
		row{"CheckRows 1<<32 int64", func() error { return ref.CheckRows(5, []int64{1 << 32}) }, "", checkRowsOutOfRange(1<<32, 0, 5)},
		row{"CheckRows MinInt64", func() error { return ref.CheckRows(5, []int64{math.MinInt64}) }, "", checkRowsOutOfRange(math.MinInt64, 0, 5)},
	)

	// Coalesce reads rows and g and writes neither.
	g32 := []float32{1, 2, 3, 4, 5, 6}
	g64 := []float64{1, 2, 3, 4, 5, 6}
	r32, r64 := []int32{7, -1}, []int64{-3, 1 << 40, -3}
	coalesce := func(name string, dim int, idx32 []int32, g []float32, idx64 []int64, gg []float64, want string) {
		rows = append(rows,
			row{name + " float32/int32", func() error { ref.Coalesce(dim, idx32, g); return nil }, want, ""},
			row{name + " float64/int64", func() error { ref.Coalesce(dim, idx64, gg); return nil }, want, ""})
	}
	coalesce("Coalesce nil", 3, nil, nil, nil, nil, "")
	coalesce("Coalesce empty", 1, []int32{}, g32[:0], []int64{}, g64[:0], "")
	coalesce("Coalesce dim=0", 0, nil, nil, nil, nil, "ref.Coalesce: dim = 0; it must be > 0")
	coalesce("Coalesce dim=-2", -2, r32, g32, r64[:3], g64, "ref.Coalesce: dim = -2; it must be > 0")
	coalesce("Coalesce len(g) short", 3, r32, g32[:5], r64[:2], g64[:5], "ref.Coalesce: len(g)=5, want len(rows)·dim = 2·3")
	coalesce("Coalesce len(g) long", 2, r32, g32, r64[:2], g64, "ref.Coalesce: len(g)=6, want len(rows)·dim = 2·2")
	coalesce("Coalesce g nil", 1, r32, nil, r64[:2], nil, "ref.Coalesce: len(g)=0, want len(rows)·dim = 2·1")
	rows = append(rows,
		row{"Coalesce len(rows)·dim overflows, no row", func() error { ref.Coalesce(1<<(strconv.IntSize-2), r64[:0:0], []float64(nil)); return nil }, "", ""},
		row{"Coalesce len(rows)·dim overflows, 4 rows", func() error {
			ref.Coalesce(1<<(strconv.IntSize-2), []int64{0, 0, 0, 0}, []float64(nil))
			return nil
		}, fmt.Sprintf("ref.Coalesce: len(g)=0, want len(rows)·dim = 4·%d", 1<<(strconv.IntSize-2)), ""},
		row{"Coalesce negative and huge indices are not checked", func() error {
			got, sums := ref.Coalesce(2, r64[:3], g64)
			if !slices.Equal(got, []int64{-3, 1 << 40}) || !slices.Equal(sums, []float64{6, 8, 3, 4}) {
				return fmt.Errorf("Coalesce gave %v %v", got, sums)
			}
			return nil
		}, "", ""},
	)
	// RowScale: dim ≤ 0 panics; scalars go through the formula.
	rows = append(rows,
		row{"RowScale dim=0", func() error { ref.RowScale(ref.Form{}, ref.Params[float32]{LR: 1}, 1, 1, 0); return nil }, "ref.RowScale: dim = 0; it must be > 0", ""},
		row{"RowScale dim=-1", func() error { ref.RowScale(ref.Form{}, ref.Params[float64]{LR: 1}, 1, 1, -1); return nil }, "ref.RowScale: dim = -1; it must be > 0", ""},
		row{"RowScale dim=MinInt", func() error {
			ref.RowScale(ref.Form{Order: ref.Recip}, ref.Params[float64]{}, 1, 1, math.MinInt)
			return nil
		},
			"ref.RowScale: dim = " + strconv.Itoa(math.MinInt) + "; it must be > 0", ""},
		row{"RowScale NaN lr", func() error {
			s, k := ref.RowScale(ref.Form{}, ref.Params[float32]{LR: float32(badNaN), Eps: 1e-6}, 1, 6, 3)
			if s != 3 || k == k {
				return fmt.Errorf("RowScale = %v, %v; want 3, NaN", s, k)
			}
			return nil
		}, "", ""},
		row{"RowScale NaN s and q", func() error {
			s, k := ref.RowScale(ref.Form{Order: ref.Recip, Guard: true}, ref.Params[float64]{LR: 1}, badNaN, 1, 1)
			if s == s || k != 0 {
				return fmt.Errorf("RowScale = %v, %v; want NaN and the guard's 0", s, k)
			}
			return nil
		}, "", ""},
	)
	// SumSquares: empty is 0, NaN propagates, the input is only read.
	v32 := []float32{1, float32(badNaN), 2}
	rows = append(rows,
		row{"SumSquares nil", func() error {
			return badOK(ref.SumSquares[float32](nil, false) == 0 && ref.SumSquares([]float32{}, true) == 0)
		}, "", ""},
		row{"SumSquares nil", func() error {
			return badOK(ref.SumSquares[float64](nil, true) == 0 && ref.SumSquares([]float64{}, false) == 0)
		}, "", ""},
		row{"SumSquares NaN", func() error { v := ref.SumSquares(v32, true); return badOK(v != v) }, "", ""},
		row{"SumSquares +Inf", func() error { return badOK(math.IsInf(ref.SumSquares([]float64{badInf, 1}, false), 1)) }, "", ""},
		row{"FMA32 NaN", func() error { v := ref.FMA32(float32(badNaN), 1, 1); return badOK(v != v) }, "", ""},
		row{"FMA32 Inf·0", func() error { v := ref.FMA32(float32(badInf), 0, 1); return badOK(v != v) }, "", ""},
		row{"FMA32 Inf−Inf", func() error { v := ref.FMA32(float32(badInf), 1, float32(-badInf)); return badOK(v != v) }, "", ""},
	)
	// Form: Validate names the problem; String names unknown values; ID means
	// nothing for an invalid form but does not panic.
	for _, bf := range outcome.BadForms {
		rows = append(rows, row{"Validate " + bf.Why, func() error { _ = bf.Form.ID(); return bf.Form.Validate() }, "", bf.Why})
	}
	rows = append(rows,
		row{"Order(7).String", func() error { return badOK(ref.Order(7).String() == "Order(7)") }, "", ""},
		row{"WeightDecay(9).String", func() error { return badOK(ref.WeightDecay(9).String() == "WeightDecay(9)") }, "", ""},
		row{"bad Form.String", func() error {
			return badOK(ref.Form{Order: 5, WeightDecay: 4, Guard: true}.String() == "InOrder(5)WeightDecay(4)Guard")
		}, "", ""},
		row{"Forms are all valid", func() error {
			for _, f := range ref.Forms() {
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
