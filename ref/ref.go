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
package ref

import (
	"fmt"
	"math"
)

// Update32 applies one Adagrad step to x, with accumulator s and gradient g.
//
// For every i, in this order, each operation rounded to float32:
//
//	s[i] = s[i] + g[i]*g[i]
//	d    = sqrt(s[i] + eps)
//	x[i] = x[i] - (lr/d)*g[i]
//
// This is the form of the d2l book (eps inside the root; divide, then multiply).
// g is only read. It panics, before writing anything, when the lengths differ.
func Update32(x, s, g []float32, lr, eps float32) {
	if len(x) != len(s) || len(x) != len(g) {
		panic(fmt.Sprintf("ref.Update32: len(x)=%d len(s)=%d len(g)=%d", len(x), len(s), len(g)))
	}
	for i := range x {
		gi := g[i]
		si := s[i] + float32(gi*gi)
		s[i] = si
		// float32(math.Sqrt(float64(v))) is the correctly rounded float32 root: the
		// float64 root carries more than 2·24+2 bits, so rounding twice cannot differ
		// from rounding once. The compiler emits a single SQRTSS for it.
		d := float32(math.Sqrt(float64(si + eps)))
		x[i] = x[i] - float32(float32(lr/d)*gi)
	}
}

// Update64 is Update32 for float64: for every i, in this order, each operation
// rounded to float64:
//
//	s[i] = s[i] + g[i]*g[i]
//	d    = sqrt(s[i] + eps)
//	x[i] = x[i] - (lr/d)*g[i]
//
// g is only read. It panics, before writing anything, when the lengths differ.
func Update64(x, s, g []float64, lr, eps float64) {
	if len(x) != len(s) || len(x) != len(g) {
		panic(fmt.Sprintf("ref.Update64: len(x)=%d len(s)=%d len(g)=%d", len(x), len(s), len(g)))
	}
	for i := range x {
		gi := g[i]
		si := s[i] + float64(gi*gi)
		s[i] = si
		d := math.Sqrt(si + eps)
		x[i] = x[i] - float64(float64(lr/d)*gi)
	}
}
