package outcome

import (
	"fmt"
	"math"
	"testing"
)

// recorder is a testing.TB that notes a failure instead of stopping, so that
// the checks themselves can be shown to fail.
type recorder struct {
	testing.TB
	failed bool
}

func (r *recorder) Helper()                        {}
func (r *recorder) Fatalf(format string, _ ...any) { r.failed = true }

// fails reports whether check fails the recorder.
func fails(check func(t testing.TB)) bool {
	r := &recorder{}
	check(r)
	return r.failed
}

func TestChecksFail(t *testing.T) {
	m := NewMem[float32, int32](seed)
	x := m.At(0, 4)
	b, ix := m.Snapshot()
	want := NewMem[float32, int32](seed)
	for _, c := range []struct {
		name  string
		fails bool
		check func(t testing.TB)
	}{
		{"Check: the wanted panic", false, func(t testing.TB) { Check(t, "m", true, nil, "m", "") }},
		{"Check: another message", true, func(t testing.TB) { Check(t, "m2", true, nil, "m", "") }},
		{"Check: no panic", true, func(t testing.TB) { Check(t, "", false, nil, "m", "") }},
		{"Check: an error where none is wanted", true, func(t testing.TB) { Check(t, "", false, fmt.Errorf("e"), "", "") }},
		{"Check: another error", true, func(t testing.TB) { Check(t, "", false, fmt.Errorf("e2"), "", "e") }},
		{"Unchanged: nothing written", false, func(t testing.TB) { m.Unchanged(t, b, ix) }},
		{"Matches: the same bits", false, func(t testing.TB) { m.Matches(t, want, 0) }},
	} {
		if got := fails(c.check); got != c.fails {
			t.Errorf("%s: failed = %v, want %v", c.name, got, c.fails)
		}
	}

	x[3] = float32(math.Copysign(0, -1))
	want.Buf[3] = 0
	if !fails(func(t testing.TB) { m.Unchanged(t, b, ix) }) || fails(func(t testing.TB) { m.Unchanged(t, b, ix, x) }) {
		t.Error("Unchanged does not tell a write outside the windows from one inside")
	}
	if !fails(func(t testing.TB) { m.Matches(t, want, 0) }) {
		t.Error("Matches takes −0 for +0")
	}
	if fails(func(t testing.TB) { m.Matches(t, want, 1e-5) }) {
		t.Error("Matches with a tolerance rejects −0 for +0")
	}
	want.Buf[3], x[3] = float32(math.NaN()), math.Float32frombits(0x7fc00002)
	if fails(func(t testing.TB) { m.Matches(t, want, 0) }) {
		t.Error("Matches rejects a NaN of another payload")
	}
	m.Rows(7)
	if !fails(func(t testing.TB) { m.Unchanged(t, b, ix, x) }) {
		t.Error("Unchanged misses a changed index")
	}
}

// TestCaseNames: a subtest's name must be unique, or testing renames the second
// silently and a failure names the wrong case.
func TestCaseNames(t *testing.T) {
	shape := func(Shape) string { return "" }
	for _, op := range []RowsOp[float64, int64]{
		{Name: "f", Form: true, Dup: true, Workers: true, Shape: shape},
		{Name: "f", Form: true, RowWise: true, Shape: shape},
	} {
		seen := map[string]bool{}
		for _, c := range op.Cases() {
			if seen[c.Name] {
				t.Errorf("RowWise %v: two cases named %q", op.RowWise, c.Name)
			}
			seen[c.Name] = true
		}
	}
	seen := map[string]bool{}
	for _, c := range (DenseOp[float32]{Name: "f", Form: true}).Cases() {
		if seen[c.Name] {
			t.Errorf("two dense cases named %q", c.Name)
		}
		seen[c.Name] = true
	}
}
