package kernel

// The bad-input tables: every exported function of the package called with nil
// and empty slices, lengths that differ, slices that share memory, dim ≤ 0,
// indices out of range (int32 and int64), invalid forms and Duplicates values,
// workers < 1, and odd scalars (NaN, ±Inf, negative), on every implementation.
// internal/outcome builds the cases, the same for package ref; this file lists
// the functions and what each must compute, the reference's bits.

import (
	"fmt"
	"strings"
	"testing"

	"github.com/klauspost/cpuid/v2"

	"github.com/adagrad-go/adagrad/internal/outcome"
	"github.com/adagrad-go/adagrad/ref"
)

// splitAll splits every call in three.
var splitAll = NewPool(WithWorkers(3), WithMinSplit(1))

// denseOps lists every dense kernel for T.
func denseOps[T Float]() []outcome.DenseOp[T] {
	update := func(a outcome.DenseArgs[T]) { ref.Update(a.X, a.S, a.G, a.P.LR, a.P.Eps) }
	apply := func(a outcome.DenseArgs[T]) { ref.Apply(a.Form, a.X, a.S, a.G, a.P) }
	ops := []outcome.DenseOp[T]{
		{Name: "kernel.Update", Want: update, Call: func(a outcome.DenseArgs[T]) { Update(a.X, a.S, a.G, a.P.LR, a.P.Eps) }},
		{Name: "kernel.UpdateParallel", Want: update, Call: func(a outcome.DenseArgs[T]) { UpdateParallel(a.X, a.S, a.G, a.P.LR, a.P.Eps) }},
		{Name: "kernel.Apply", Form: true, Want: apply, Call: func(a outcome.DenseArgs[T]) { Apply(a.Form, a.X, a.S, a.G, a.P) }},
		{Name: "kernel.ApplyParallel", Form: true, Want: apply, Call: func(a outcome.DenseArgs[T]) { ApplyParallel(a.Form, a.X, a.S, a.G, a.P) }},
		// A Pool of 3 that splits from 1 element, so that the accepted calls split
		// into shares of whole lines and a ragged last one.
		{Name: "kernel.UpdateOn", Want: update, Call: func(a outcome.DenseArgs[T]) { UpdateOn(splitAll, a.X, a.S, a.G, a.P.LR, a.P.Eps) }},
		{Name: "kernel.ApplyOn", Form: true, Want: apply, Call: func(a outcome.DenseArgs[T]) { ApplyOn(splitAll, a.Form, a.X, a.S, a.G, a.P) }},
	}
	// UpdateFast exists in float32 alone, and is within a few ulps of Update.
	if ops32, ok := any(&ops).(*[]outcome.DenseOp[float32]); ok {
		*ops32 = append(*ops32, outcome.DenseOp[float32]{Name: "kernel.UpdateFast", Rel: 1e-5,
			Want: func(a outcome.DenseArgs[float32]) { ref.Update(a.X, a.S, a.G, a.P.LR, a.P.Eps) },
			Call: func(a outcome.DenseArgs[float32]) { UpdateFast(a.X, a.S, a.G, a.P.LR, a.P.Eps) }})
	}
	return ops
}

func testBadDense[T Float](t *testing.T) {
	for _, op := range denseOps[T]() {
		t.Run(op.Name, op.Test)
	}
}

func TestBadInputDense(t *testing.T) {
	forEachImpl(t, func(t *testing.T) {
		t.Run("float32", testBadDense[float32])
		t.Run("float64", testBadDense[float64])
	})
}

// kernelShape is the message of a sparse call whose lengths do not fit.
func kernelShape(s outcome.Shape) string {
	want := "want x and s of numRows·dim and g of len(rows)·dim"
	if s.RowWise {
		want = "want x of numRows·dim, s of numRows and g of len(rows)·dim"
	}
	return fmt.Sprintf("len(x)=%d len(s)=%d dim=%d len(rows)=%d len(g)=%d; %s", s.X, s.S, s.Dim, s.Rows, s.G, want)
}

// rowsOps lists every sparse kernel for T and I, each Duplicates mode apart.
func rowsOps[T Float, I Index]() []outcome.RowsOp[T, I] {
	var ops []outcome.RowsOp[T, I]
	for _, dup := range []Duplicates{DuplicatesInOrder, DuplicatesSummed} {
		sc := new(Scratch) // shared by the cases, as a caller's would be
		want := func(a outcome.RowsArgs[T, I]) error {
			return refRows(a.Form, dup, a.X, a.S, a.Dim, a.Rows, a.G, paramsOf(a.P))
		}
		ops = append(ops,
			outcome.RowsOp[T, I]{Name: "kernel.ApplyRows", Form: true, Dup: true, Mode: uint8(dup), Shape: kernelShape, Want: want,
				Call: func(a outcome.RowsArgs[T, I]) error {
					return ApplyRows(a.Form, Duplicates(a.Dup), a.X, a.S, a.Dim, a.Rows, a.G, a.P, sc)
				}},
			outcome.RowsOp[T, I]{Name: "kernel.ApplyRowsParallel", Form: true, Dup: true, Workers: true, Mode: uint8(dup), Shape: kernelShape, Want: want,
				Call: func(a outcome.RowsArgs[T, I]) error {
					return ApplyRowsParallel(a.Workers, a.Form, Duplicates(a.Dup), a.X, a.S, a.Dim, a.Rows, a.G, a.P, sc)
				}})
	}
	return append(ops,
		outcome.RowsOp[T, I]{Name: "kernel.UpdateRows", Shape: kernelShape,
			Call: func(a outcome.RowsArgs[T, I]) error { return UpdateRows(a.X, a.S, a.Dim, a.Rows, a.G, a.P.LR, a.P.Eps) },
			Want: func(a outcome.RowsArgs[T, I]) error {
				return ref.ApplyRows(Form{}, a.X, a.S, a.Dim, a.Rows, a.G, Params[T]{LR: a.P.LR, Eps: a.P.Eps})
			}},
		outcome.RowsOp[T, I]{Name: "kernel.RowWise", Form: true, RowWise: true, Shape: kernelShape,
			Call: func(a outcome.RowsArgs[T, I]) error { return RowWise(a.Form, a.X, a.S, a.Dim, a.Rows, a.G, a.P) },
			Want: func(a outcome.RowsArgs[T, I]) error { return ref.RowWise(a.Form, a.X, a.S, a.Dim, a.Rows, a.G, a.P) }})
}

// paramsOf is p as the tests' params, exactly: every float32 is a float64.
func paramsOf[T Float](p Params[T]) params {
	return params{lr: float64(p.LR), eps: float64(p.Eps), wd: float64(p.WeightDecay), decay: float64(p.Decay), gain: float64(p.Gain)}
}

func testBadRows[T Float, I Index](t *testing.T) {
	modes := [...]string{DuplicatesInOrder: "DuplicatesInOrder", DuplicatesSummed: "DuplicatesSummed"}
	for _, op := range rowsOps[T, I]() {
		name := strings.TrimPrefix(op.Name, "kernel.")
		if op.Dup {
			name += "/" + modes[op.Mode]
		}
		t.Run(name, op.Test)
	}
}

func TestBadInputRows(t *testing.T) {
	forEachImpl(t, func(t *testing.T) {
		t.Run("float32/int32", testBadRows[float32, int32])
		t.Run("float32/int64", testBadRows[float32, int64])
		t.Run("float64/int32", testBadRows[float64, int32])
		t.Run("float64/int64", testBadRows[float64, int64])
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
