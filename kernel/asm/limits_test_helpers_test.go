//go:build gc && !purego && (amd64 || arm64)

package asm

import (
	"math"
	"math/rand/v2"
	"testing"
)

// checkLimitKernels holds a pair of compute-ceiling kernels, which only benchmarks
// call, to their formulas at every length through a block, a vector and the tail:
// sqrtDiv exactly (one rounding for the root, one for the quotient), rsqrtMul
// within the relative error bound of its estimate. The element past y must stay.
func checkLimitKernels(t *testing.T, sqrtDiv, rsqrtMul func(y, s, g []float32), bound float64) {
	t.Helper()
	rng := rand.New(rand.NewPCG(3, 4))
	for n := range 70 {
		s, g := make([]float32, n), make([]float32, n)
		for i := range s {
			s[i] = float32(math.Exp(rng.Float64()*40 - 20))
			g[i] = float32(rng.NormFloat64())
		}
		y := make([]float32, n+1)
		y[n] = 7
		sqrtDiv(y[:n], s, g)
		for i := range s {
			want := g[i] / float32(math.Sqrt(float64(s[i])))
			if y[i] != want {
				t.Fatalf("sqrtDiv n=%d: y[%d] = %v, want %v", n, i, y[i], want)
			}
		}
		rsqrtMul(y[:n], s, g)
		worst := 0.0
		for i := range s {
			exact := float64(g[i]) / math.Sqrt(float64(s[i]))
			worst = max(worst, math.Abs(float64(y[i])-exact)/math.Abs(exact))
		}
		if worst > bound {
			t.Fatalf("rsqrtMul n=%d: relative error %.3g, bound %.3g", n, worst, bound)
		}
		if y[n] != 7 {
			t.Fatalf("n=%d: the element past y was written", n)
		}
	}
}
