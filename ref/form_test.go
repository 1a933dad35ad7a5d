package ref

import (
	"math"
	"math/big"
	"math/rand/v2"
	"testing"

	"github.com/adagrad-go/adagrad/internal/fbits"
)

// TestFormIDs checks that the IDs are dense enough for tables and unique.
func TestFormIDs(t *testing.T) {
	seen := map[int]Form{}
	for _, f := range Forms() {
		id := f.ID()
		if id < 0 || id >= NumIDs {
			t.Fatalf("%v: ID %d outside [0, %d)", f, id, NumIDs)
		}
		if g, dup := seen[id]; dup {
			t.Fatalf("%v and %v share ID %d", f, g, id)
		}
		seen[id] = f
	}
	if len(seen) != 144 {
		t.Fatalf("%d forms, want 144 (5 orders × 3 weight decays × eps × fused × decay, plus the Recip guards)", len(seen))
	}
	if (Form{Order: DivMul, Guard: true}).Validate() == nil {
		t.Fatal("a guard without the Recip order validated")
	}
}

// TestApplyD2LIsUpdate: the zero form with Decay = Gain = 1 is Update/Update to
// the bit, for every input, because multiplying by 1 is exact.
func TestApplyD2LIsUpdate(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 5))
	const n = 4096
	x, s, g := make([]float32, n), make([]float32, n), make([]float32, n)
	for i := range x {
		x[i], s[i], g[i] = math.Float32frombits(rng.Uint32()), math.Float32frombits(rng.Uint32()), math.Float32frombits(rng.Uint32())
	}
	x2, s2 := append([]float32(nil), x...), append([]float32(nil), s...)
	Update(x, s, g, 0.1, 1e-6)
	Apply(Form{}, x2, s2, g, Params[float32]{LR: 0.1, Eps: 1e-6, Decay: 1, Gain: 1})
	for i := range x {
		if !fbits.Same(x[i], x2[i]) || !fbits.Same(s[i], s2[i]) {
			t.Fatalf("element %d: Update gives x=%v s=%v, Apply x=%v s=%v", i, x[i], s[i], x2[i], s2[i])
		}
	}
}

// fma32Exact is a·b + c rounded once to float32, computed with math/big.
func fma32Exact(a, b, c float32) float32 {
	v := new(big.Float).SetPrec(200).SetFloat64(float64(a))
	v.Mul(v, new(big.Float).SetPrec(200).SetFloat64(float64(b)))
	v.Add(v, new(big.Float).SetPrec(200).SetFloat64(float64(c)))
	f, _ := new(big.Float).SetPrec(24).SetMode(big.ToNearestEven).Set(v).Float32()
	return f
}

// TestFMA32 compares FMA32 with math/big on random operands and on operands built to
// land exactly between two float32 values before the addend's low bits are seen,
// where double rounding through float64 would go wrong.
func TestFMA32(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 9))
	check := func(a, b, c float32) {
		t.Helper()
		want := fma32Exact(a, b, c)
		if got := FMA32(a, b, c); got != want && !(got == 0 && want == 0) {
			t.Fatalf("FMA32(%g, %g, %g) = %g (%#x), want %g (%#x)", a, b, c, got, math.Float32bits(got), want, math.Float32bits(want))
		}
	}
	for i := 0; i < 300000; i++ {
		a, b := float32(rng.NormFloat64()), float32(rng.NormFloat64())
		c := float32(rng.NormFloat64() * math.Pow(2, float64(rng.IntN(80)-40)))
		check(a, b, c)
	}
	// a·b = 1 + 2^-24 + 2^-48 (exactly between two float32s, plus a little); a
	// tiny c decides the direction only if nothing rounded it away first.
	a, b := float32(1+0x1p-12), float32(1+0x1p-12)
	for _, c := range []float32{0x1p-60, -0x1p-60, 0x1p-30, -0x1p-47, 0} {
		check(a, b, c)
	}
	// The classic double-rounding trap: the float64 sum is exactly a float32 tie.
	check(float32(1+0x1p-23), float32(1+0x1p-23), -0x1p-46)
	inf, nan := float32(math.Inf(1)), float32(math.NaN())
	for _, v := range [][4]float32{
		{0, 0, 0, 0}, {1, 1, inf, inf}, {inf, 0, 1, nan}, {3e38, 3e38, 1, inf}, {-3e38, 3e38, 1, -inf},
		{1e-30, 1e-30, 1e-45, 1e-45}, {0x1p-75, 0x1p-75, 0, 0}, {0x1p-70, 0x1p-70, 0, 0x1p-140}, {nan, 1, 1, nan},
	} {
		if got := FMA32(v[0], v[1], v[2]); !fbits.Same(got, v[3]) {
			t.Errorf("FMA32(%g, %g, %g) = %g, want %g", v[0], v[1], v[2], got, v[3])
		}
	}
}

// TestApplyAgainstOracle32 checks every form against an independent evaluation of
// the formula: each float32 operation done in float64 and rounded (exact, as in
// TestUpdate32RoundsEachOperation), and each fused one in math/big.
func TestApplyAgainstOracle32(t *testing.T) {
	rng := rand.New(rand.NewPCG(4, 4))
	r := func(v float64) float32 { return float32(v) }
	for _, f := range Forms() {
		for i := 0; i < 5000; i++ {
			x0, s0, g0 := float32(rng.NormFloat64()), float32(rng.Float64()*4), float32(rng.NormFloat64())
			if i%10 == 0 {
				s0 = 0
				g0 = 0
			}
			p := Params[float32]{LR: float32(rng.Float64()), Eps: float32(rng.Float64() * 1e-3), WeightDecay: float32(rng.Float64() * 0.1), Decay: 1, Gain: 1}
			if f.Decay {
				p.Decay = float32(rng.Float64())
				p.Gain = 1 - p.Decay
			} else if i%2 == 1 {
				p.Decay, p.Gain = 0.5, 0.25 // unused without the Decay form
			}
			g1 := g0
			switch f.WeightDecay {
			case WeightDecayAdd:
				g1 = r(float64(g0) + float64(r(float64(p.WeightDecay)*float64(x0))))
			case WeightDecayFMA:
				g1 = fma32Exact(p.WeightDecay, x0, g0)
			}
			decay, gain := p.Decay, p.Gain
			if !f.Decay {
				decay, gain = 1, 1 // exact: the oracle may multiply by them
			}
			var s1 float32
			if f.FusedAccumulator {
				s1 = fma32Exact(r(float64(gain)*float64(g1)), g1, r(float64(decay)*float64(s0)))
			} else {
				s1 = r(float64(r(float64(decay)*float64(s0))) + float64(r(float64(gain)*float64(r(float64(g1)*float64(g1))))))
			}
			var d float32
			if f.EpsOutside {
				d = r(float64(r(math.Sqrt(float64(s1)))) + float64(p.Eps))
			} else {
				d = r(math.Sqrt(float64(r(float64(s1) + float64(p.Eps)))))
			}
			var u float32
			switch f.Order {
			case DivMul:
				u = r(float64(r(float64(p.LR)/float64(d))) * float64(g1))
			case MulDiv:
				u = r(float64(r(float64(p.LR)*float64(g1))) / float64(d))
			case Recip:
				rc := r(1 / float64(d))
				if f.Guard && !(s1 > 0) {
					rc = 0
				}
				u = r(float64(p.LR) * float64(r(float64(g1)*float64(rc))))
			case MulRecip:
				u = r(float64(r(float64(p.LR)*float64(g1))) * float64(r(1/float64(d))))
			case QuotMul:
				u = r(float64(r(float64(g1)/float64(d))) * float64(p.LR))
			}
			x1 := r(float64(x0) - float64(u))

			x, s := []float32{x0}, []float32{s0}
			Apply(f, x, s, []float32{g0}, p)
			if !fbits.Same(x[0], x1) || !fbits.Same(s[0], s1) {
				t.Fatalf("%v x=%g s=%g g=%g %+v: got x=%g s=%g, want x=%g s=%g", f, x0, s0, g0, p, x[0], s[0], x1, s1)
			}
		}
	}
}

// TestApplyHelpers holds Apply's loop, which spells out the weight decay and the
// multiply-adds for speed, to gradient and fma, which RowWise uses: for every
// form, both widths, on values that include zeros, infinities, NaNs and sums
// whose multiply-add differs from the product rounded first.
func TestApplyHelpers(t *testing.T) {
	testApplyHelpers[float32](t)
	testApplyHelpers[float64](t)
}

func testApplyHelpers[T Float](t *testing.T) {
	vals := []T{0, T(math.Copysign(0, -1)), 1e-30, 0.3, 1 + 1.0/(1<<20), 2, 7e20, T(math.Inf(1)), T(math.Inf(-1)), T(math.NaN()), -0.5}
	p := Params[T]{LR: 0.1, Eps: 1e-6, WeightDecay: 1 - 1.0/(1<<21), Decay: 0.9, Gain: 0.1}
	for _, f := range Forms() {
		for _, x0 := range vals {
			for _, s0 := range vals {
				for _, g0 := range vals {
					gi := gradient(f, p, x0, g0)
					var si T
					switch {
					case f.Decay && f.FusedAccumulator:
						si = fma(T(p.Gain*gi), gi, T(p.Decay*s0))
					case f.Decay:
						si = T(p.Decay*s0) + T(p.Gain*T(gi*gi))
					case f.FusedAccumulator:
						si = fma(gi, gi, s0)
					default:
						si = s0 + T(gi*gi)
					}
					xi := x0 - step(f, p, gi, root(f, p, si), si)
					x, s := []T{x0}, []T{s0}
					Apply(f, x, s, []T{g0}, p)
					if !fbits.Same(x[0], xi) || !fbits.Same(s[0], si) {
						t.Fatalf("%T %v x=%v s=%v g=%v: Apply gives x=%v s=%v, the helpers x=%v s=%v", x0, f, x0, s0, g0, x[0], s[0], xi, si)
					}
				}
			}
		}
	}
}
