//go:build gc && !purego

package asm

import (
	"math/rand/v2"
	"testing"
)

// TestTrafficNEON holds the NEON traffic kernels, which only benchmarks call, to
// their formula at every length through a block, a vector and the tail; the
// optimizer kernels are tested against package ref in package kernel.
func TestTrafficNEON(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for n := range 70 {
		x, s, g := make([]float32, n+1), make([]float32, n+1), make([]float32, n)
		x64, s64, g64 := make([]float64, n+1), make([]float64, n+1), make([]float64, n)
		for i := range g {
			x[i], s[i], g[i] = rng.Float32(), rng.Float32(), rng.Float32()
			x64[i], s64[i], g64[i] = rng.Float64(), rng.Float64(), rng.Float64()
		}
		x[n], s[n], x64[n], s64[n] = 7, 7, 7, 7 // past the slices: must stay
		wx, ws := append([]float32(nil), x...), append([]float32(nil), s...)
		wx64, ws64 := append([]float64(nil), x64...), append([]float64(nil), s64...)
		for i := range g {
			ws[i], wx[i] = ws[i]+g[i], wx[i]-g[i]
			ws64[i], wx64[i] = ws64[i]+g64[i], wx64[i]-g64[i]
		}
		Traffic32NEON(x[:n], s[:n], g)
		Traffic64NEON(x64[:n], s64[:n], g64)
		for i := range x {
			if x[i] != wx[i] || s[i] != ws[i] || x64[i] != wx64[i] || s64[i] != ws64[i] {
				t.Fatalf("n=%d: element %d differs", n, i)
			}
		}
	}
}

func TestLimitsNEON(t *testing.T) {
	// FRSQRTE has 8 bits: |relative error| < 2⁻⁸, plus the rounding of the product.
	checkLimitKernels(t, SqrtDiv32NEON, RsqrtMul32NEON, 1.0/256+1.0/(1<<23))
}

// The fast mode's reciprocal square root (see fast_test.go).
func TestRsqrtFastNEON(t *testing.T) {
	checkRsqrt(t, "NEON", rsqrtFast32NEON, rsqrtStride())
}
