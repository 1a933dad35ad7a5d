package kernel

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/adagrad-go/adagrad/ref"
)

// fastULPs is how far UpdateFast's x is from Update's: |Δx| in ulps of the
// exact step (x before − Update's x) after one ulp of x is allowed for the
// subtraction. The documented bound is 4.
func fastULPs(x0, xFast, xExact float32) float64 {
	d := math.Abs(float64(xFast) - float64(xExact))
	d -= ulp32(xExact)
	if d <= 0 {
		return 0
	}
	step := math.Abs(float64(x0) - float64(xExact))
	if step == 0 {
		return math.Inf(1)
	}
	return d / ulp32(float32(step))
}

// ulp32 is the spacing of float32 at |v|.
func ulp32(v float32) float64 {
	a := math.Abs(float64(v))
	if a < math.SmallestNonzeroFloat32 || math.IsInf(a, 0) {
		return math.SmallestNonzeroFloat32
	}
	_, e := math.Frexp(a)
	return math.Max(math.Ldexp(1, e-24), math.SmallestNonzeroFloat32)
}

const fastBound = 4.0

// checkFast runs UpdateFast on copies of x and s and compares with ref.Update32:
// s bit for bit, x within fastBound, non-finite results in kind.
func checkFast(t *testing.T, x, s, g []float32, lr, eps float32) float64 {
	t.Helper()
	n := len(g)
	fx, fs := append([]float32(nil), x...), append([]float32(nil), s...)
	fx, fs = append(fx, 7), append(fs, 7) // guards
	ex, es := append([]float32(nil), x...), append([]float32(nil), s...)
	UpdateFast(fx[:n], fs[:n], g, lr, eps)
	ref.Update32(ex, es, g, lr, eps)
	if fx[n] != 7 || fs[n] != 7 {
		t.Fatalf("n=%d: UpdateFast wrote past the slices", n)
	}
	worst := 0.0
	for i := range n {
		if !same(fs[i], es[i]) {
			t.Fatalf("s[%d] = %v, Update's %v (g=%v s0=%v)", i, fs[i], es[i], g[i], s[i])
		}
		fi, ei := float64(fx[i]), float64(ex[i])
		switch {
		case math.IsNaN(ei) || math.IsInf(ei, 0) || math.IsNaN(fi) || math.IsInf(fi, 0):
			if math.IsNaN(ei) != math.IsNaN(fi) || (!math.IsNaN(ei) && fi != ei) {
				t.Fatalf("x[%d] = %v, Update's %v (x0=%v s0=%v g=%v lr=%v eps=%v)", i, fx[i], ex[i], x[i], s[i], g[i], lr, eps)
			}
		default:
			u := fastULPs(x[i], fx[i], ex[i])
			if u > fastBound {
				t.Fatalf("x[%d] = %v, Update's %v: %.2f ulps of the step (x0=%v s0=%v g=%v lr=%v eps=%v)",
					i, fx[i], ex[i], u, x[i], s[i], g[i], lr, eps)
			}
			worst = max(worst, u)
		}
	}
	return worst
}

// UpdateFast on every path against Update: ordinary values over lengths through
// every loop and tail, and the special values (zero, infinite and NaN
// accumulators and gradients, eps = 0).
func TestUpdateFast(t *testing.T) {
	forEachImpl(t, func(t *testing.T) {
		rng := rand.New(rand.NewPCG(7, 8))
		worst := 0.0
		for n := range 80 {
			x, s, g := make([]float32, n), make([]float32, n), make([]float32, n)
			for trial := range 20 {
				for i := range n {
					x[i] = float32(rng.NormFloat64())
					s[i] = float32(math.Exp(rng.Float64()*40 - 20))
					g[i] = float32(rng.NormFloat64() * math.Exp(rng.Float64()*10-5))
				}
				lr := float32(math.Exp(rng.Float64()*10 - 9))
				eps := []float32{1e-10, 1e-7, 1e-6, 0.1}[trial%4]
				worst = max(worst, checkFast(t, x, s, g, lr, eps))
			}
		}
		specials := []float32{0, float32(math.Copysign(0, -1)), 1, -1, float32(math.Inf(1)), float32(math.NaN()), 1e-30, 3e38}
		var x, s, g []float32
		for _, a := range specials {
			for _, b := range specials {
				if b < 0 || math.Signbit(float64(b)) {
					continue // Adagrad's accumulator is never negative
				}
				x, s, g = append(x, 0.5), append(s, b), append(g, a)
			}
		}
		checkFast(t, x, s, g, 0.01, 0)
		checkFast(t, x, s, g, 0.01, 1e-7)
		t.Logf("worst %.3f ulps of the step beyond 1 ulp of x", worst)
	})
}

// FuzzUpdateFast holds UpdateFast to its bound on arbitrary values.
func FuzzUpdateFast(f *testing.F) {
	f.Add(float32(0.5), float32(2), float32(0.3), float32(0.01), float32(1e-7))
	f.Add(float32(0), float32(0), float32(0), float32(0.1), float32(0))
	f.Add(float32(1e30), float32(1e-20), float32(-1e10), float32(1), float32(1e-6))
	f.Fuzz(func(t *testing.T, x, s, g, lr, eps float32) {
		if s < 0 || eps < 0 || lr < 0 || !(s+eps >= 1.17549435e-38) && s+eps != 0 {
			t.Skip("the bound holds for s + eps ≥ 0 normal or zero and lr ≥ 0")
		}
		n := 17 // through a vector and the tail
		xs, ss, gs := make([]float32, n), make([]float32, n), make([]float32, n)
		for i := range n {
			xs[i], ss[i], gs[i] = x, s, g
		}
		checkFast(t, xs, ss, gs, lr, eps)
	})
}
