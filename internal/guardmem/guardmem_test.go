//go:build linux

package guardmem

import (
	"errors"
	"os"
	"os/exec"
	"strings"
	"testing"
	"unsafe"
)

var sink byte

// TestGuardsFault proves the guard pages are really inaccessible: a child process
// reads one byte past Tail and must die with a fault, not exit cleanly.
func TestGuardsFault(t *testing.T) {
	for _, side := range []string{"before-head", "after-tail"} {
		t.Run(side, func(t *testing.T) {
			if os.Getenv("GUARDMEM_CHILD") == side {
				r, err := New(100)
				if err != nil {
					t.Fatal(err)
				}
				// Step one byte outside the usable pages with pointer arithmetic, as a
				// kernel's stray load would; slicing would stop at the bounds check.
				var p unsafe.Pointer
				if side == "after-tail" {
					p = unsafe.Add(unsafe.Pointer(&r.Tail(1)[0]), 1)
				} else {
					p = unsafe.Add(unsafe.Pointer(&r.Head(1)[0]), -1)
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
