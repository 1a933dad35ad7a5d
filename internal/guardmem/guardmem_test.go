//go:build linux

package guardmem

import (
	"errors"
	"fmt"
	"math"
	"os"
	"os/exec"
	"strings"
	"testing"
	"unsafe"

	"github.com/adagrad-go/adagrad/internal/fbits"
)

var sink byte

// TestGuardsFault proves the guard pages are really inaccessible: a child process
// reads one byte past Tail (or before Head, or past a flush Place) and must die
// with a fault, not exit cleanly.
func TestGuardsFault(t *testing.T) {
	for _, side := range []string{"before-head", "after-tail", "before-place-start", "after-place-end"} {
		t.Run(side, func(t *testing.T) {
			if os.Getenv("GUARDMEM_CHILD") == side {
				r, err := New(100)
				if err != nil {
					t.Fatal(err)
				}
				// Step one byte outside the usable pages with pointer arithmetic, as a
				// kernel's stray load would; slicing would stop at the bounds check.
				var p unsafe.Pointer
				switch side {
				case "after-tail":
					p = unsafe.Add(unsafe.Pointer(&r.Tail(1)[0]), 1)
				case "before-head":
					p = unsafe.Add(unsafe.Pointer(&r.Head(1)[0]), -1)
				case "before-place-start":
					p = unsafe.Add(unsafe.Pointer(&Place[float32](r, Start, 5, Flush[float32](Start, 5))[0]), -1)
				case "after-place-end":
					f := Place[float64](r, End, 3, Flush[float64](End, 3))
					p = unsafe.Add(unsafe.Pointer(&f[2]), 8)
				}
				sink = *(*byte)(p)
				os.Exit(0)
			}
			cmd := exec.Command(os.Args[0], "-test.run=^TestGuardsFault$/^"+side+"$")
			cmd.Env = append(os.Environ(), "GUARDMEM_CHILD="+side)
			out, err := cmd.CombinedOutput()
			var exit *exec.ExitError
			if err != nil && !errors.As(err, &exit) {
				// Under qemu-user without binfmt the test binary cannot start itself.
				t.Skipf("cannot re-run the test binary to watch it fault: %v", err)
			}
			if err == nil {
				t.Fatalf("touching the guard page %s did not fault:\n%s", side, out)
			}
			if !strings.Contains(string(out), "unexpected fault address") && !strings.Contains(string(out), "SIGSEGV") {
				t.Fatalf("child failed, but not with a memory fault:\n%s", out)
			}
		})
	}
}

func TestLayout(t *testing.T) {
	r, err := New(5000)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Free()
	if r.Size() < 5000 || r.Size()%os.Getpagesize() != 0 {
		t.Fatalf("Size() = %d", r.Size())
	}
	h, tl := r.Head(8), r.Tail(8)
	h[0], tl[7] = 1, 2 // the usable pages are writable at both ends
	if f := Floats[float64](r.Tail(16)); len(f) != 2 {
		t.Fatalf("Floats: len %d", len(f))
	}
}

// Place puts the slice's start at the offset asked for, inside the usable pages,
// flush against the side's guard page exactly when the offset is Flush's and
// otherwise within 64 bytes of it.
func TestPlace(t *testing.T) {
	r, err := New(3000)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Free()
	testPlace[float32](t, r)
	testPlace[float64](t, r)
}

func testPlace[T Float](t *testing.T, r *Region) {
	size := sizeOf[T]()
	base := uintptr(unsafe.Pointer(&r.Head(1)[0]))
	maxN := r.Size() / size
	for _, side := range []Side{Start, End} {
		for _, n := range []int{0, 1, 2, 3, 15, 16, 17, 100, maxN - 16, maxN - 1} {
			flushes := 0
			for off := 0; off < 64; off += size {
				what := fmt.Sprintf("%T %v n=%d off=%d", T(0), side, n, off)
				// The bytes between the slice and the guard page must fit too.
				need := n*size + off
				if side == End {
					need = n*size + (Flush[T](side, n)-off+64)%64
				}
				if need > r.Size() {
					expectPanic(t, func() { Place[T](r, side, n, off) })
					continue
				}
				f := Place[T](r, side, n, off)
				lo := uintptr(unsafe.Pointer(unsafe.SliceData(f))) - base
				gap := int(lo) // bytes between the guard page and the slice
				if side == End {
					gap = r.Size() - int(lo) - n*size
				}
				if len(f) != n || cap(f) != n || int(lo)%64 != off || gap < 0 || gap >= 64 {
					t.Fatalf("%s: len %d cap %d at byte %d, %d bytes from the guard page", what, len(f), cap(f), lo, gap)
				}
				if (gap == 0) != (off == Flush[T](side, n)) {
					t.Fatalf("%s: %d bytes from the guard page, Flush says %d", what, gap, Flush[T](side, n))
				}
				if gap == 0 {
					flushes++
				}
				if n > 0 {
					f[0], f[n-1] = 1, 2 // writable at both ends
				}
			}
			if flushes != 1 {
				t.Fatalf("%T %v n=%d: %d flush offsets", T(0), side, n, flushes)
			}
		}
	}
	expectPanic(t, func() { Place[T](r, Start, 1, size/2+1) })
	expectPanic(t, func() { Place[T](r, Start, 1, 64) })
	expectPanic(t, func() { Place[T](r, End, maxN+1, 0) })
	expectPanic(t, func() { Place[T](r, Start, maxN, size) })
}

func expectPanic(t *testing.T, f func()) {
	t.Helper()
	defer func() {
		if recover() == nil {
			t.Fatal("no panic")
		}
	}()
	f()
}

// Check finds a single changed element anywhere outside the kept slices, names
// where it is, ignores the kept slices' contents, and rejects a slice from
// elsewhere.
func TestFillCheck(t *testing.T) {
	r, err := New(5000)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Free()
	testFillCheck[float32](t, r, float32(math.Float32frombits(0x7fa5a5a5)))
	testFillCheck[float64](t, r, math.Float64frombits(0x7ff4a5a5a5a5a5a5))
}

func testFillCheck[T Float](t *testing.T, r *Region, guard T) {
	size := sizeOf[T]()
	all := Floats[T](r.Head(r.Size()))
	Fill(r, guard)
	for i, v := range all {
		if fbits.Bits(v) != fbits.Bits(guard) {
			t.Fatalf("element %d is %#x after Fill", i, fbits.Bits(v))
		}
	}
	a, b := Place[T](r, Start, 10, 2*size), Place[T](r, End, 7, Flush[T](End, 7)) // all[2:12], all[len-7:]
	for i := range a {
		a[i] = 1
	}
	for i := range b {
		b[i] = -1
	}
	if err := Check(r, guard, b, a, a[3:5]); err != nil {
		t.Fatalf("kept slices written, nothing else: %v", err)
	}
	if err := Check(r, guard, a); err == nil || !strings.Contains(err.Error(), "past the end of keep[0]") {
		t.Fatalf("b not kept: %v", err)
	}
	for _, c := range []struct {
		i    int
		near string
	}{
		{0, fmt.Sprintf("byte 0 of %d (%d bytes before keep[1])", r.Size(), size)},
		{1, "(0 bytes before keep[1])"},
		{12, "(0 bytes past the end of keep[1], "},
		{13, fmt.Sprintf("(%d bytes past the end of keep[1], ", size)},
		{len(all) - 8, fmt.Sprintf("byte %d of %d (%d bytes past the end of keep[1], 0 bytes before keep[0])",
			r.Size()-8*size, r.Size(), (len(all)-8-12)*size)},
	} {
		all[c.i] = 0
		err := Check(r, guard, b, a)
		all[c.i] = guard
		if err == nil || !strings.Contains(err.Error(), c.near) || !strings.Contains(err.Error(), "overwritten: 0x0, not 0x7f") {
			t.Errorf("element %d zeroed: %v; want it named %q", c.i, err, c.near)
		}
	}
	// A NaN with another payload is a change too.
	all[100] = fbits.FromBits[T](fbits.Bits(guard) ^ 1<<3)
	if err := Check(r, guard, a, b); err == nil {
		t.Error("a changed NaN payload passed")
	}
	all[100] = guard
	if err := Check(r, guard, a, b, make([]T, 3)); err == nil || !strings.Contains(err.Error(), "keep[2] is not in the region") {
		t.Errorf("a slice from elsewhere: %v", err)
	}
	if err := Check(r, guard, Floats[T](r.Head(size + 1)[1:])); err == nil || !strings.Contains(err.Error(), "element grid") {
		t.Errorf("a slice off the element grid: %v", err)
	}
	if err := Check(r, guard, a, b); err != nil {
		t.Errorf("restored: %v", err)
	}
}

// TestGuardsFaultInProcess touches the byte on either side of the usable pages,
// and of flush placements, with faults turned into panics, and checks that each
// access faulted at exactly that address. Unlike TestGuardsFault it needs no
// child process, so it runs under qemu-user too.
func TestGuardsFaultInProcess(t *testing.T) {
	r, err := New(100)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Free()
	first := unsafe.Pointer(&r.Head(1)[0])
	last := unsafe.Pointer(&r.Tail(1)[0])
	f32 := Place[float32](r, Start, 5, Flush[float32](Start, 5))
	f64 := Place[float64](r, End, 3, Flush[float64](End, 3))
	for _, c := range []struct {
		name  string
		p     unsafe.Pointer
		write bool
	}{
		{"read before Head", unsafe.Add(first, -1), false},
		{"write after Tail", unsafe.Add(last, 1), true},
		{"read before a flush Place at the start", unsafe.Add(unsafe.Pointer(&f32[0]), -4), false},
		{"write after a flush Place at the end", unsafe.Add(unsafe.Pointer(&f64[2]), 8), true},
	} {
		addr, faulted := touch(c.p, c.write)
		if !faulted || addr != uintptr(c.p) {
			t.Errorf("%s: faulted %v at %#x, want a fault at %#x", c.name, faulted, addr, uintptr(c.p))
		}
	}
	// The usable bytes at both ends do not fault.
	for _, p := range []unsafe.Pointer{first, last} {
		if addr, faulted := touch(p, true); faulted {
			t.Errorf("usable byte at %#x faulted at %#x", uintptr(p), addr)
		}
	}
}

// touch reads or writes the byte at p and returns the address of the fault
// that access raised, if it did.
func touch(p unsafe.Pointer, write bool) (addr uintptr, faulted bool) {
	return CatchFault(func() {
		if write {
			*(*byte)(p) = 1
		} else {
			sink = *(*byte)(p)
		}
	})
}
