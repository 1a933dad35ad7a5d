package kernel

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
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
	switch x := any(x).(type) {
	case []float32:
		return ref.ApplyRows(f, x, any(s).([]float32), dim, rows, any(g).([]float32), p.p32())
	default:
		return ref.ApplyRows(f, any(x).([]float64), any(s).([]float64), dim, rows, any(g).([]float64), p.p64())
	}
}

// kernelRows is the kernel's sparse step; workers > 0 runs ApplyRowsParallel.
func kernelRows[T float, I Index](f Form, dup Duplicates, x, s []T, dim int, rows []I, g []T, p params, sc *Scratch, workers int) error {
	switch x := any(x).(type) {
	case []float32:
		if workers > 0 {
			return ApplyRowsParallel(workers, f, dup, x, any(s).([]float32), dim, rows, any(g).([]float32), p.p32(), sc)
		}
		return ApplyRows(f, dup, x, any(s).([]float32), dim, rows, any(g).([]float32), p.p32(), sc)
	default:
		if workers > 0 {
			return ApplyRowsParallel(workers, f, dup, any(x).([]float64), any(s).([]float64), dim, rows, any(g).([]float64), p.p64(), sc)
		}
		return ApplyRows(f, dup, any(x).([]float64), any(s).([]float64), dim, rows, any(g).([]float64), p.p64(), sc)
	}
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
					rows := randomRows[I](rng, numRows, 1+rng.IntN(20))
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

func TestRowsBadInput(t *testing.T) {
	x, s := make([]float32, 10), make([]float32, 10) // 5 rows of 2
	g := []float32{1, 1, 1, 1, 1, 1, 1, 1}
	for _, tc := range []struct {
		rows   []int64
		offset int
		index  int64
		want   string
	}{
		{[]int64{0, 1, 2, 7}, 3, 7, "kernel.ApplyRows: index 7 at offset 3 out of range [0, 5)"},
		{[]int64{0, -1, 2, 3}, 1, -1, "kernel.ApplyRows: index -1 at offset 1 out of range [0, 5)"},
		{[]int64{4, 4, 5, 0}, 2, 5, "kernel.ApplyRows: index 5 at offset 2 out of range [0, 5)"},
	} {
		for _, dup := range []Duplicates{DuplicatesInOrder, DuplicatesSummed} {
			err := ApplyRows(Form{}, dup, x, s, 2, tc.rows, g, Params[float32]{LR: 1}, nil)
			if err == nil || err.Error() != tc.want {
				t.Errorf("rows %v: %v, want %q", tc.rows, err, tc.want)
			}
			var ie *IndexError
			if !errors.As(err, &ie) || ie.Offset != tc.offset || ie.Index != tc.index || ie.NumRows != 5 || ie.Func != "kernel.ApplyRows" {
				t.Errorf("rows %v: errors.As gives %+v, want offset %d, index %d, 5 rows, from kernel.ApplyRows", tc.rows, ie, tc.offset, tc.index)
			}
		}
	}
	for i := range x {
		if x[i] != 0 || s[i] != 0 {
			t.Fatal("written before the error")
		}
	}
	expectPanic(t, "kernel.ApplyRows: dim = 0; it must be > 0", func() {
		ApplyRows(Form{}, DuplicatesInOrder, x, s, 0, []int32{0}, g, Params[float32]{}, nil)
	})
	expectPanic(t, "kernel.ApplyRows: len(x)=10 len(s)=10 dim=2 len(rows)=3 len(g)=8; want x and s of numRows·dim and g of len(rows)·dim", func() {
		ApplyRows(Form{}, DuplicatesInOrder, x, s, 2, []int32{0, 1, 2}, g, Params[float32]{}, nil)
	})
	expectPanic(t, "kernel.ApplyRows: x, s and g must not share memory", func() {
		ApplyRows(Form{}, DuplicatesInOrder, x, x, 2, []int32{0}, g[:2], Params[float32]{}, nil)
	})
	if err := UpdateRows(x, s, 2, []int32{4, 4}, g[:4], 0.1, 1e-6); err != nil || x[8] == 0 {
		t.Fatalf("UpdateRows: %v, x = %v", err, x)
	}
	if err := UpdateRows(x, s, 2, []int32{5}, g[:2], 0.1, 1e-6); err == nil || !strings.Contains(err.Error(), "index 5") {
		t.Fatalf("UpdateRows accepted row 5 of 5: %v", err)
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

func TestRowWise(t *testing.T) {
	x, s := make([]float32, 12), make([]float32, 3) // 3 rows of 4
	g := []float32{1, 1, 1, 1, 2, 2, 2, 2}
	if err := RowWise(Form{}, x, s, 4, []int64{2, 3}, g, Params[float32]{LR: 0.5}); err == nil || err.Error() != "kernel.RowWise: index 3 at offset 1 out of range [0, 3)" {
		t.Fatalf("RowWise with row 3 of 3: %v", err)
	}
	if s[2] != 0 || x[8] != 0 {
		t.Fatal("written before the error")
	}
	expectPanic(t, "kernel.RowWise: len(x)=12 len(s)=12 dim=4 len(rows)=2 len(g)=8; want x of numRows·dim, s of numRows and g of len(rows)·dim", func() {
		RowWise(Form{}, x, make([]float32, 12), 4, []int32{0, 0}, g, Params[float32]{})
	})
	want, ws := append([]float32(nil), x...), append([]float32(nil), s...)
	if err := ref.RowWise(Form{}, want, ws, 4, []int32{2, 2}, g, Params[float32]{LR: 0.5}); err != nil {
		t.Fatal(err)
	}
	if err := RowWise(Form{}, x, s, 4, []int32{2, 2}, g, Params[float32]{LR: 0.5}); err != nil {
		t.Fatal(err)
	}
	for i := range x {
		if x[i] != want[i] {
			t.Fatalf("x[%d] = %v, ref %v", i, x[i], want[i])
		}
	}
	if s[2] != 5 {
		t.Fatalf("s = %v, want s[2] = 1 + 4", s)
	}
}
