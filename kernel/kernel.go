// Package kernel is the fast Adagrad update: fused SIMD kernels chosen at start-up
// for the CPU at hand, each bit-identical to the specification in package ref.
//
// Update and Update64 compute, for every i, in this order and each operation rounded
// once (no fused multiply-add):
//
//	s[i] = s[i] + g[i]*g[i]
//	d    = sqrt(s[i] + eps)
//	x[i] = x[i] - (lr/d)*g[i]
//
// Every implementation (see Implementations) returns the same bits as ref.Update32
// and ref.Update64 for every length, alignment and input, ±0, denormals, ±Inf and
// NaN included; only the payload of a NaN may differ. Denormals are computed in full
// (Go never sets flush-to-zero).
//
// Apply and Apply64 run any other Form, PyTorch's, Keras's or optax's among them,
// bit-identical to ref.Apply32 and ref.Apply64; Update is Apply with the zero Form.
//
// The implementation is picked once, at start-up, as the widest one the CPU runs.
// Force another with Use, or with the environment variable ADAGRAD_KERNEL set to one
// of the names that Implementations reports (read once, at start-up). Building with
// -tags purego, or for an architecture without assembly, leaves only "generic".
//
// Every kernel checks its arguments before it writes anything, so a bad call
// changes nothing. Slices of the wrong lengths, slices that share memory, dim ≤ 0,
// an invalid Form or Duplicates value, or workers < 1 is a bug in the caller and
// panics with a message naming the function, such as "kernel.Update: len(x)=5
// len(s)=5 len(g)=4" or "kernel.Update: x and g overlap"; an index outside the
// table is bad data, and the sparse steps return an *IndexError, such as
// "kernel.ApplyRows: index 7 at offset 3 out of range [0, 5)". Every message
// starts with the one call that reports it; a bad Form reads "kernel.Apply:
// invalid form: …". A nil slice is an empty one. The scalars
// (lr, eps, the weight decay, Decay and Gain) are not checked: they enter the
// formula as they are, as in package ref, and IEEE 754 decides the result, so a
// NaN lr makes every x NaN and a negative lr ascends. adagrad.Config.Validate is
// where they are checked.
package kernel

import (
	"fmt"
	"unsafe"

	"github.com/adagrad-go/adagrad/ref"
)

// Update applies one Adagrad step to the float32 parameters x, with accumulator s
// and gradient g, in place:
//
//	s[i] = s[i] + g[i]*g[i]
//	x[i] = x[i] - (lr/sqrt(s[i]+eps))*g[i]
//
// with the rounding and order of ref.Update32, which it matches bit for bit. g is
// only read. Update panics before writing anything when the lengths differ or when
// any two of the slices share memory.
func Update(x, s, g []float32, lr, eps float32) {
	if len(x) != len(s) || len(x) != len(g) || overlaps(addr(x), addr(s), addr(g), uintptr(len(x))*4) {
		badArgs("kernel.Update", x, s, g)
	}
	if len(x) <= smallUpdate32 {
		ref.Update32(x, s, g, lr, eps)
		return
	}
	update32(active.Load(), x, s, g, lr, eps)
}

// Below these lengths Update and Apply run the reference's scalar loop on every
// path: a vector kernel's fixed cost (the call into assembly, the masked tail)
// exceeds the few elements' work. BenchmarkSmall measures the crossovers
// (BENCHMARKS.md has them for the CPUs measured); the same bounds serve every
// path. The results do not change: every path is bit-identical to ref.
const (
	smallUpdate32 = 8
	smallUpdate64 = 4
	smallApply    = 2
)

// Update64 is Update for float64, with the rounding and order of ref.Update64:
//
//	s[i] = s[i] + g[i]*g[i]
//	x[i] = x[i] - (lr/sqrt(s[i]+eps))*g[i]
//
// It panics before writing anything when the lengths differ or when any two of the
// slices share memory.
func Update64(x, s, g []float64, lr, eps float64) {
	if len(x) != len(s) || len(x) != len(g) || overlaps(addr(x), addr(s), addr(g), uintptr(len(x))*8) {
		badArgs("kernel.Update64", x, s, g)
	}
	if len(x) <= smallUpdate64 {
		ref.Update64(x, s, g, lr, eps)
		return
	}
	update64(active.Load(), x, s, g, lr, eps)
}

// overlaps reports whether any two of three ranges of size bytes, starting at x, s
// and g, share a byte. It takes addresses rather than slices so that it inlines into
// the hot path.
func overlaps(x, s, g, size uintptr) bool {
	return near(x, s, size) || near(x, g, size) || near(s, g, size)
}

// near reports whether two ranges of size bytes starting at a and b overlap: they do
// exactly when their starts are less than size apart, −size < a−b < size, which
// shifted by size−1 is one unsigned compare. Empty ranges (size 0) never overlap.
func near(a, b, size uintptr) bool { return size != 0 && a-b+size-1 < 2*size-1 }

func addr[T Float](a []T) uintptr { return uintptr(unsafe.Pointer(unsafe.SliceData(a))) }

// badArgs panics with a message that names what is wrong with the arguments. It is
// kept out of line so that the checks add little to the hot path.
//
//go:noinline
func badArgs[T Float](fn string, x, s, g []T) {
	if len(x) != len(s) || len(x) != len(g) {
		panic(fmt.Sprintf("%s: len(x)=%d len(s)=%d len(g)=%d", fn, len(x), len(s), len(g)))
	}
	size := uintptr(len(x)) * unsafe.Sizeof(x[:1][0])
	names := [3]string{"x", "s", "g"}
	for i, a := range [3]uintptr{addr(x), addr(s), addr(g)} {
		for j, b := range [3]uintptr{addr(x), addr(s), addr(g)} {
			if i < j && near(a, b, size) {
				panic(fmt.Sprintf("%s: %s and %s overlap", fn, names[i], names[j]))
			}
		}
	}
	panic(fn + ": bad arguments")
}
