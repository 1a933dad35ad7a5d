// Package outcome runs a call that may panic and holds it to its documented
// outcome, for the bad-input tables of the library's packages. It builds the
// tables' cases too, once for package ref and package kernel alike: a package
// describes each function (DenseOp, RowsOp) and runs the cases against it.
package outcome

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"unsafe"

	"github.com/adagrad-go/adagrad/internal/fbits"
	"github.com/adagrad-go/adagrad/ref"
)

// Of runs call and returns the panic's message, if it panicked, and the error. A
// panic value that is not a string (a runtime error, say) is reported with its
// type, so it never equals a documented message.
func Of(call func() error) (msg string, panicked bool, err error) {
	defer func() {
		if r := recover(); r != nil {
			panicked = true
			if s, ok := r.(string); ok {
				msg = s
			} else {
				msg = fmt.Sprintf("panic value of type %T: %v", r, r)
			}
		}
	}()
	return "", false, call()
}

// Panic runs f and returns its panic's message, "" when it did not panic.
func Panic(f func()) string {
	msg, _, _ := Of(func() error { f(); return nil })
	return msg
}

// Check fails t unless the call had the wanted outcome: the exact panic message
// wantPanic, the exact error wantErr, or (both empty) neither.
func Check(t testing.TB, msg string, panicked bool, err error, wantPanic, wantErr string) {
	t.Helper()
	switch {
	case wantPanic != "":
		if !panicked {
			t.Fatalf("no panic (error %v), want panic %q", err, wantPanic)
		}
		if msg != wantPanic {
			t.Fatalf("panic %q\nwant  %q", msg, wantPanic)
		}
	case panicked:
		t.Fatalf("panic %q, want none", msg)
	case wantErr != "":
		if err == nil || err.Error() != wantErr {
			t.Fatalf("error %v\nwant  %q", err, wantErr)
		}
	case err != nil:
		t.Fatalf("error %q, want none", err)
	}
}

// Mem is all the memory a table row's call can reach: every float slice the row
// passes is a window of Buf, every index slice a window of the indices, so that
// comparing them before and after a call shows any write, inside a slice or out.
type Mem[T ref.Float, I ref.Index] struct {
	Buf []T
	ix  []I
	n   int // index elements handed out
}

// BufLen is the length of Mem.Buf: four regions of 64 elements, at 0, 64, 128
// and 192, and slack.
const BufLen = 5 * 64

// NewMem returns the same contents for every call with one seed: positive values
// of mixed magnitude, so that a step moves every element and any write shows.
func NewMem[T ref.Float, I ref.Index](seed uint64) *Mem[T, I] {
	rng := rand.New(rand.NewPCG(seed, seed+1))
	m := &Mem[T, I]{Buf: make([]T, BufLen), ix: make([]I, 64)}
	for i := range m.Buf {
		m.Buf[i] = T(0.1 + math.Abs(rng.NormFloat64())*2)
	}
	for i := range m.ix {
		m.ix[i] = I(0x5a5a)
	}
	return m
}

// At returns n elements of Buf from lo, with no capacity beyond them.
func (m *Mem[T, I]) At(lo, n int) []T { return m.Buf[lo : lo+n : lo+n] }

// Rows returns the indices v as a window of the memory's indices.
func (m *Mem[T, I]) Rows(v ...int64) []I {
	r := m.ix[m.n : m.n+len(v) : m.n+len(v)]
	for k, e := range v {
		r[k] = I(e)
	}
	m.n += len(v)
	return r
}

// Snapshot copies the memory's bits and indices.
func (m *Mem[T, I]) Snapshot() ([]uint64, []I) {
	b := make([]uint64, len(m.Buf))
	for i, v := range m.Buf {
		b[i] = fbits.Bits(v)
	}
	return b, slices.Clone(m.ix)
}

// Unchanged fails t at the first bit of Buf that differs from the snapshot
// outside the windows written, or if an index changed.
func (m *Mem[T, I]) Unchanged(t testing.TB, b []uint64, ix []I, written ...[]T) {
	t.Helper()
	inside := func(i int) bool {
		for _, w := range written {
			if len(w) == 0 {
				continue
			}
			lo := int((uintptr(unsafe.Pointer(&w[0])) - uintptr(unsafe.Pointer(&m.Buf[0]))) / unsafe.Sizeof(w[0]))
			if lo <= i && i < lo+len(w) {
				return true
			}
		}
		return false
	}
	for i, v := range m.Buf {
		if !inside(i) && fbits.Bits(v) != b[i] {
			t.Fatalf("buf[%d] changed from %#x to %#x: the call wrote", i, b[i], fbits.Bits(v))
		}
	}
	if !slices.Equal(m.ix, ix) {
		t.Fatalf("the indices changed from %v to %v", ix, m.ix)
	}
}

// hold runs call, fails t unless it has the wanted outcome (as Check) and, when
// it steps, writes nothing but x and s, and otherwise nothing at all. It returns
// the call's error.
func (m *Mem[T, I]) hold(t testing.TB, call func() error, wantPanic, wantErr string, steps bool, x, s []T) error {
	t.Helper()
	b, ix := m.Snapshot()
	msg, panicked, err := Of(call)
	Check(t, msg, panicked, err, wantPanic, wantErr)
	if steps {
		m.Unchanged(t, b, ix, x, s)
	} else {
		m.Unchanged(t, b, ix)
	}
	return err
}

// Matches fails t at the first element of Buf that differs from want's: in its
// bits (a NaN's payload aside) or, with rel > 0, by more than rel relative to the
// larger of the two, both being finite.
func (m *Mem[T, I]) Matches(t testing.TB, want *Mem[T, I], rel float64) {
	t.Helper()
	for i, v := range m.Buf {
		w := want.Buf[i]
		if fbits.Same(v, w) {
			continue
		}
		g, f := float64(v), float64(w)
		finite := !math.IsNaN(g) && !math.IsNaN(f) && !math.IsInf(g, 0) && !math.IsInf(f, 0)
		if rel == 0 || !finite || math.Abs(g-f) > rel*math.Max(math.Abs(g), math.Abs(f)) {
			t.Fatalf("buf[%d] = %v (%#x), want %v (%#x)", i, v, fbits.Bits(v), w, fbits.Bits(w))
		}
	}
}
