// Package kernel is the fast Adagrad update: fused SIMD kernels chosen at start-up
// for the CPU at hand, each bit-identical to the specification in package ref.
//
// Every function is generic over the element type, float32 or float64 (the Float
// constraint), the width chosen when it is instantiated. Update computes, for
// every i, in this order and each operation rounded once in that width (no fused
// multiply-add):
//
//	s[i] = s[i] + g[i]*g[i]
//	d    = sqrt(s[i] + eps)
//	x[i] = x[i] - (lr/d)*g[i]
//
// Every implementation (see Implementations) returns the same bits as ref.Update
// for every length, alignment and input, ±0, denormals, ±Inf and
// NaN included; only the payload of a NaN may differ. Denormals are computed in full
// (Go never sets flush-to-zero).
//
// Apply runs any other Form, PyTorch's, Keras's or optax's among them,
// bit-identical to ref.Apply; Update is Apply with the zero Form. UpdateFast is
// the one float32-only call: an approximate mode with a documented bound, built on
// a float32 estimate instruction that has no float64 counterpart worth using.
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

// Update applies one Adagrad step to the parameters x, with accumulator s and
// gradient g, in place, in float32 or float64:
//
//	s[i] = s[i] + g[i]*g[i]
//	x[i] = x[i] - (lr/sqrt(s[i]+eps))*g[i]
//
// with the rounding and order of ref.Update, which it matches bit for bit. g is
// only read. Update panics before writing anything when the lengths differ or when
// any two of the slices share memory.
func Update[T Float](x, s, g []T, lr, eps T) {
	if len(x) != len(s) || len(x) != len(g) || overlaps(addr(x), addr(s), addr(g), uintptr(len(x))*unsafe.Sizeof(lr)) {
		badArgs("kernel.Update", x, s, g)
	}
	if is32[T]() {
		if len(x) <= smallUpdate32 {
			ref.Update(x, s, g, lr, eps)
			return
		}
		update32(active.Load(), as32(x), as32(s), as32(g), float32(lr), float32(eps))
		return
	}
	if len(x) <= smallUpdate64 {
		ref.Update(x, s, g, lr, eps)
		return
	}
	update64(active.Load(), as64(x), as64(s), as64(g), float64(lr), float64(eps))
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

// is32 reports whether T is float32. It is a constant in each instantiation, so
// the generic entry points compile to the one width's path.
func is32[T Float]() bool {
	var zero T
	return unsafe.Sizeof(zero) == 4
}

// as32 and as64 are v as the slice type of its width, the same header; the
// caller has checked the width with is32. Reinterpreting the header, rather than
// unsafe.Slice, adds no checks to the hot path.
func as32[T Float](v []T) []float32 { return *(*[]float32)(unsafe.Pointer(&v)) }

func as64[T Float](v []T) []float64 { return *(*[]float64)(unsafe.Pointer(&v)) }

// params32 and params64 are p in the width is32 chose.
func params32[T Float](p Params[T]) Params[float32] {
	return Params[float32]{LR: float32(p.LR), Eps: float32(p.Eps), WeightDecay: float32(p.WeightDecay), Decay: float32(p.Decay), Gain: float32(p.Gain)}
}

func params64[T Float](p Params[T]) Params[float64] {
	return Params[float64]{LR: float64(p.LR), Eps: float64(p.Eps), WeightDecay: float64(p.WeightDecay), Decay: float64(p.Decay), Gain: float64(p.Gain)}
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
