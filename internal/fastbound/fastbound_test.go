package fastbound

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/adagrad-go/adagrad/ref"
)

// refine is the x86 kernels' refinement (internal/gen/fast.go) in exact float32
// arithmetic: the derivation's sequence, with no special-value handling.
func refine(v, y0 float32) float32 {
	t := v * y0
	e := ref.FMA32(-t, y0, 1)
	h := 0.5 * y0
	return ref.FMA32(h, e, y0)
}

// TestDerivedFigures pins the derived bounds to the values the documentation
// quotes, so that a change of the formula shows in the docs too.
func TestDerivedFigures(t *testing.T) {
	for _, c := range []struct {
		name       string
		got, quote float64
	}{
		{"AVX2 root", Path("avx2").Root, 4.376},
		{"AVX-512 root", Path("avx512").Root, 1.094},
		{"AVX2 x", Path("avx2").X, 8.88},
		{"AVX-512 x", Path("avx512").X, 5.59},
		{"NEON x", Path("neon").X, 7.90},
	} {
		t.Logf("%s: %.4f", c.name, c.got)
		if math.Abs(c.got-c.quote) > 0.005 {
			t.Errorf("%s: derived %.4f, documented %.3f", c.name, c.got, c.quote)
		}
	}
}

// roots are positive normal float32 over every exponent, concentrated where the
// root's significand is near 2 (v in [1, 1.11)·4ᵏ), where the bound is reached.
func roots(rng *rand.Rand) []float32 {
	var vs []float32
	for k := -63; k < 64; k++ {
		for range 400 {
			vs = append(vs, float32(math.Ldexp(1+0.11*rng.Float64(), 2*k)))
		}
		for range 40 {
			vs = append(vs, float32(math.Ldexp(1+3*rng.Float64(), 2*k)))
		}
	}
	return vs
}

// TestRootBound runs the refinement with estimates at both ends of each
// instruction's specification and between: never beyond RootULP and RootRel, and
// at the ends close to RootULP, which is what makes it the bound and not a guess.
func TestRootBound(t *testing.T) {
	for _, est := range []struct {
		name string
		E    float64
	}{{"VRSQRTPS", VRSQRTPS}, {"VRSQRT14PS", VRSQRT14PS}} {
		bound := RootULP(est.E)
		worstAll := 0.0
		for _, b := range []float64{-1, -0.5, 0, 0.5, 1} {
			t.Run(fmt.Sprintf("%s/b=%+g", est.name, b), func(t *testing.T) {
				worst, worstRel := 0.0, 0.0
				for _, v := range roots(rand.New(rand.NewPCG(1, 2))) {
					y0 := math.Float32frombits(Estimate(math.Float32bits(v), est.E, b, true))
					if Within(y0, v, est.E) != 0 {
						t.Fatalf("estimate %v of 1/√%v is outside its specification", y0, v)
					}
					y := refine(v, y0)
					u := RootError(y, v)
					rel := math.Abs(float64(y)*math.Sqrt(float64(v)) - 1)
					if u > bound || rel > RootRel(est.E) {
						t.Fatalf("1/√%v = %v: %.4f ulp, relative %.4g u; the bounds are %.4f and %.4g u",
							v, y, u, rel/U, bound, RootRel(est.E)/U)
					}
					worst, worstRel = max(worst, u), max(worstRel, rel)
				}
				t.Logf("worst %.4f ulp (bound %.4f), relative %.4f u (bound %.4f)", worst, bound, worstRel/U, RootRel(est.E)/U)
				worstAll = max(worstAll, worst)
			})
		}
		if worstAll < bound-0.25 {
			t.Errorf("%s: the estimates at the ends reach only %.4f of the bound %.4f: the derivation is loose", est.name, worstAll, bound)
		}
	}
}

// TestStepBound holds the update with the refined root (fused as the kernels do)
// to StepULP against ref.Update over ordinary values, with the worst estimate.
func TestStepBound(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for _, est := range []struct {
		name string
		E    float64
	}{{"VRSQRTPS", VRSQRTPS}, {"VRSQRT14PS", VRSQRT14PS}} {
		bound := StepULP(RootRel(est.E))
		worst := 0.0
		for range 200000 {
			x0 := float32(rng.NormFloat64())
			s := float32(math.Ldexp(1+0.11*rng.Float64(), 2*(rng.IntN(40)-20)))
			g := float32(rng.NormFloat64() * math.Exp(rng.Float64()*10-5))
			lr := float32(math.Exp(rng.Float64()*10 - 9))
			xs, ss := []float32{x0}, []float32{s}
			ref.Update(xs, ss, []float32{g}, lr, 0)
			v := ss[0]
			y := refine(v, math.Float32frombits(Estimate(math.Float32bits(v), est.E, 1, true)))
			xf := ref.FMA32(-(lr * y), g, x0)
			if e := XError(x0, xf, xs[0]); e > bound {
				t.Fatalf("x0=%v s=%v g=%v lr=%v: x %v against %v, %.3f ulps of the step, above %.3f", x0, s, g, lr, xf, xs[0], e, bound)
			} else {
				worst = max(worst, e)
			}
		}
		t.Logf("%s: x within %.3f ulps of the step (bound %.3f)", est.name, worst, bound)
	}
}

// TestXError checks the metric on cases worked by hand.
func TestXError(t *testing.T) {
	one := float32(1)
	next := math.Nextafter32(one, 2)
	below := math.Nextafter32(one, 0)
	for _, c := range []struct {
		x0, fast, exact float32
		want            float64
	}{
		{2, one, one, 0},
		{2, next, one, 0},  // adjacent
		{2, below, one, 0}, // adjacent across the power of two
		{2, math.Nextafter32(next, 2), one, 0x1p-23 / float64(ULP(1))},
		{0.5, 0.25, 0.25, 0},
		{1, math.Nextafter32(math.Nextafter32(one, 2), 2), one, math.Inf(1)},
	} {
		if got := XError(c.x0, c.fast, c.exact); got != c.want {
			t.Errorf("XError(%v, %v, %v) = %v, want %v", c.x0, c.fast, c.exact, got, c.want)
		}
	}
}

// TestWithin checks the exact comparison at the float32 values that straddle each
// end of a specification.
func TestWithin(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	for range 10000 {
		v := float32(math.Ldexp(1+3*rng.Float64(), rng.IntN(200)-100))
		for _, E := range []float64{VRSQRTPS, VRSQRT14PS} {
			for _, b := range []float64{-1, 1} {
				y := math.Float32frombits(Estimate(math.Float32bits(v), E, b, false))
				out := math.Nextafter32(y, float32(b)*float32(math.Inf(1)))
				exact := 1 / math.Sqrt(float64(v))
				if Within(y, v, E) != 0 || Within(out, v, E) != int(b) {
					t.Fatalf("v=%v E=%g b=%v: %v (%.3g) inside, %v (%.3g) outside?", v, E, b,
						y, float64(y)/exact-1, out, float64(out)/exact-1)
				}
			}
		}
	}
}
