// Package ref is the specification of every adagrad kernel, written as plain Go.
//
// Each function performs the operations of its formula in the documented order, with
// one IEEE 754 rounding (round to nearest, ties to even) per operation. Every product
// that feeds an addition is wrapped in an explicit conversion, which the Go
// specification defines as a rounding point: without it the compiler may fuse the pair
// into one FMA (it does on arm64, ppc64le, s390x and with GOAMD64=v3), and the result
// would depend on the machine that compiled it.
//
// The kernels in package kernel must match these functions bit for bit; only the
// payload of a NaN may differ.
//
// Arguments are checked before anything is written, as in package kernel: slices
// of the wrong lengths, slices that share memory, dim ≤ 0 or an invalid Form panic
// with a message naming the function, and an index outside the table is an error.
// A nil slice is an empty one. The scalars (lr, eps, the weight decay, Decay and
// Gain) are not checked: they enter the formula as they are and IEEE 754 decides
// the result, so a NaN lr makes every x NaN, and a negative lr ascends.
package ref

import (
	"fmt"
	"math"
	"unsafe"
)

// Update applies one Adagrad step to x, with accumulator s and gradient g.
//
// For every i, in this order, each operation rounded to T (float32 or float64):
//
//	s[i] = s[i] + g[i]*g[i]
//	d    = sqrt(s[i] + eps)
//	x[i] = x[i] - (lr/d)*g[i]
//
// This is the form of the d2l book (eps inside the root; divide, then multiply).
// g is only read. It panics, before writing anything, when the lengths differ or
// two of the slices share memory.
func Update[T Float](x, s, g []T, lr, eps T) {
	if len(x) != len(s) || len(x) != len(g) {
		panic(fmt.Sprintf("ref.Update: len(x)=%d len(s)=%d len(g)=%d", len(x), len(s), len(g)))
	}
	if shares(x, s) || shares(x, g) || shares(s, g) {
		overlapPanic("ref.Update", x, s, g)
	}
	for i := range x {
		gi := g[i]
		si := s[i] + T(gi*gi)
		s[i] = si
		d := sqrt(si + eps)
		x[i] = x[i] - T(T(lr/d)*gi)
	}
}

// sqrt is the correctly rounded square root in T. For float32,
// float32(math.Sqrt(float64(v))) is it: the float64 root carries more than 2·24+2
// bits, so rounding twice cannot differ from rounding once, and the compiler
// emits a single SQRTSS (FSQRTS on arm64) for the pair, SQRTSD for float64. The
// root goes through the non-generic sqrt64: written in the generic body itself,
// math.Sqrt was called out of line once instantiated in another package (Go
// 1.26). TestCodegen checks the instructions.
func sqrt[T Float](v T) T { return T(sqrt64(float64(v))) }

func sqrt64(v float64) float64 { return math.Sqrt(v) }

// fma is a·b + c rounded once to T, as a hardware fused multiply-add does.
func fma[T Float](a, b, c T) T {
	if isFloat32[T]() {
		return T(FMA32(float32(a), float32(b), float32(c)))
	}
	return T(math.FMA(float64(a), float64(b), float64(c)))
}

// isFloat32 reports whether T is float32; it is a constant in each instantiation.
func isFloat32[T Float]() bool {
	var zero T
	return unsafe.Sizeof(zero) == 4
}

// shares reports whether a and b, of any lengths, share an element. Empty slices
// share nothing.
func shares[T Float](a, b []T) bool {
	if len(a) == 0 || len(b) == 0 {
		return false
	}
	size := unsafe.Sizeof(a[0])
	pa, pb := uintptr(unsafe.Pointer(unsafe.SliceData(a))), uintptr(unsafe.Pointer(unsafe.SliceData(b)))
	return pa < pb+uintptr(len(b))*size && pb < pa+uintptr(len(a))*size
}

// overlapPanic panics with "fn: x and s overlap", naming the first two slices that
// share memory. It is kept out of line so that the check adds little to the loop.
//
//go:noinline
func overlapPanic[T Float](fn string, x, s, g []T) {
	switch {
	case shares(x, s):
		panic(fn + ": x and s overlap")
	case shares(x, g):
		panic(fn + ": x and g overlap")
	}
	panic(fn + ": s and g overlap")
}
