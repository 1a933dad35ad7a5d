package kernel

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/adagrad-go/adagrad/internal/fastbound"
	"github.com/adagrad-go/adagrad/internal/fbits"
	"github.com/adagrad-go/adagrad/ref"
)

// checkFast runs m's UpdateFast kernel on copies of x and s and compares with
// ref.Update: s bit for bit, x within the path's derived bound (internal/fastbound: it
// depends on the estimate's documented accuracy, never on this CPU's table),
// non-finite results in kind. It returns the worst x error.
func checkFast(t *testing.T, m *impl, x, s, g []float32, lr, eps float32) float64 {
	t.Helper()
	bound := fastbound.Path(m.name).X
	n := len(g)
	fx, fs := append([]float32(nil), x...), append([]float32(nil), s...)
	fx, fs = append(fx, 7), append(fs, 7) // guards
	ex, es := append([]float32(nil), x...), append([]float32(nil), s...)
	fast32(m, fx[:n], fs[:n], g, lr, eps)
	ref.Update(ex, es, g, lr, eps)
	if fx[n] != 7 || fs[n] != 7 {
		t.Fatalf("n=%d: UpdateFast wrote past the slices", n)
	}
	worst := 0.0
	for i := range n {
		if !fbits.Same(fs[i], es[i]) {
			t.Fatalf("s[%d] = %v, Update's %v (g=%v s0=%v)", i, fs[i], es[i], g[i], s[i])
		}
		fi, ei := float64(fx[i]), float64(ex[i])
		v := es[i] + eps
		switch {
		case (m.name == "avx2" || m.name == "avx2div") && v != 0 && math.Abs(float64(v)) < 0x1p-126:
			// VRSQRTPS reads a denormal as zero: y = ±∞ (see UpdateFast).
		case math.IsNaN(ei) || math.IsInf(ei, 0) || math.IsNaN(fi) || math.IsInf(fi, 0):
			if math.IsNaN(ei) != math.IsNaN(fi) || (!math.IsNaN(ei) && fi != ei) {
				t.Fatalf("%s: x[%d] = %v, Update's %v (x0=%v s0=%v g=%v lr=%v eps=%v)", m.name, i, fx[i], ex[i], x[i], s[i], g[i], lr, eps)
			}
		case !fastbound.InDomain(lr, g[i], v):
			// A denormal quotient or step: no bound is claimed (see UpdateFast).
		default:
			u := fastbound.XError(x[i], fx[i], ex[i])
			if u > bound {
				t.Fatalf("%s: x[%d] = %v, Update's %v: %.2f ulps of the step, above %.3f (x0=%v s0=%v g=%v lr=%v eps=%v)",
					m.name, i, fx[i], ex[i], u, bound, x[i], s[i], g[i], lr, eps)
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
				worst = max(worst, checkFast(t, active.Load(), x, s, g, lr, eps))
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
		checkFast(t, active.Load(), x, s, g, 0.01, 0)
		checkFast(t, active.Load(), x, s, g, 0.01, 1e-7)
		t.Logf("worst %.3f ulps of the step beyond 1 ulp of x", worst)
	})
}

// TestUpdateFastEmeraldRapids is the input that took the avx2 path 5.3 ulps of the
// step from Update on an Intel Xeon (Emerald Rapids), above the 4 once documented
// from an AMD CPU's VRSQRTPS table; 2.0 on avx512. Every path must meet its
// derived bound on it, on every CPU.
func TestUpdateFastEmeraldRapids(t *testing.T) {
	f := math.Float32frombits
	forEachImpl(t, func(t *testing.T) {
		x, s, g := []float32{f(0x3df5f43a)}, []float32{f(0x3f579a40)}, []float32{f(0x3ed402b3)}
		t.Logf("x within %.3f ulps of the step; the bound is %.3f",
			checkFast(t, active.Load(), x, s, g, f(0x3e9abe8a), 0), fastbound.Path(Implementation()).X)
	})
}

// FuzzUpdateFast holds every fast kernel this CPU runs to its path's bound on
// arbitrary values.
func FuzzUpdateFast(f *testing.F) {
	f.Add(float32(0.5), float32(2), float32(0.3), float32(0.01), float32(1e-7))
	f.Add(float32(0), float32(0), float32(0), float32(0.1), float32(0))
	f.Add(float32(1e30), float32(1e-20), float32(-1e10), float32(1), float32(1e-6))
	f.Fuzz(func(t *testing.T, x, s, g, lr, eps float32) {
		if s < 0 || eps < 0 || lr < 0 {
			t.Skip("Adagrad's accumulator, eps and rate are not negative")
		}
		n := 17 // through a vector and the tail
		xs, ss, gs := make([]float32, n), make([]float32, n), make([]float32, n)
		for i := range n {
			xs[i], ss[i], gs[i] = x, s, g
		}
		for _, m := range impls {
			if m.supported() {
				checkFast(t, m, xs, ss, gs, lr, eps)
			}
		}
	})
}
