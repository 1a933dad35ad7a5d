//go:build gc && !purego

package asm

// The hybrid kernels' FMA sequences with estimates that no one CPU's table
// gives: VRSQRT14PS and VRCP14PS at both ends of their documented error, 2⁻¹⁴,
// halfway and exact, in the interpreter, so that machines without AVX-512 test
// them too and the proofs of DESIGN.md meet their worst cases.

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/adagrad-go/adagrad/internal/fastbound"
	"github.com/adagrad-go/adagrad/internal/x86emu"
	"github.com/adagrad-go/adagrad/ref"
)

const (
	est14 = 0x1p-14       // VRSQRT14PS and VRCP14PS: |relative error| < 2⁻¹⁴
	est12 = 1.5 * 0x1p-12 // VRSQRTPS and VRCPPS: |relative error| ≤ 1.5·2⁻¹²
)

// rcpEstimate models a reciprocal estimate of a at a chosen place in its
// specification, |relative error| ≤ E: the float32 nearest to (1 + b·E)/a for b
// in [−1, 1], moved inside the bound when rounding took it out. Special values as
// VRCP14PS: ±0 → ±∞, ±∞ → ±0, NaN → itself made quiet; denormals are read as
// they are.
func rcpEstimate(a float32, E, b float64) float32 {
	switch {
	case a != a:
		return math.Float32frombits(math.Float32bits(a) | 0x00400000)
	case a == 0:
		return float32(math.Copysign(math.Inf(1), float64(a)))
	case math.IsInf(float64(a), 0):
		return float32(math.Copysign(0, float64(a)))
	}
	y := float32(1 / float64(a) * (1 + b*E))
	for {
		// y·a is exact in float64 and within [½, 2], so y·a − 1 is exact too.
		switch e := float64(y)*float64(a) - 1; {
		case e > E:
			y = math.Nextafter32(y, 0)
		case e < -E:
			y = math.Nextafter32(y, float32(math.Copysign(math.Inf(1), float64(a))))
		default:
			return y
		}
	}
}

// namedModels is one choice of the estimates, named for the subtests.
type namedModels struct {
	name   string
	models x86emu.Models
}

// modelEnds are the places within the specification the estimates are taken
// at, as b in (1 + b·E)/exact, the root's and the reciprocal's: each end of each
// against each end of the other, both halfway, both exact.
var modelEnds = [][2]float64{{-1, -1}, {-1, 1}, {1, -1}, {1, 1}, {-0.5, 0.5}, {0, 0}}

// fmaModels are modelEnds' estimates of the float32 probes and hybrid kernels of
// isa. AVX2's VRSQRTPS reads denormals as zero.
func fmaModels(isa string) []namedModels {
	var ms []namedModels
	for _, b := range modelEnds {
		rs, rc := b[0], b[1]
		ms = append(ms, namedModels{fmt.Sprintf("%s/rsqrt1%+g·E/rcp1%+g·E", isa, rs, rc), x86emu.Models{
			Rsqrt14PS: func(v float32) float32 {
				return math.Float32frombits(fastbound.Estimate(math.Float32bits(v), est14, rs, false))
			},
			Rcp14PS: func(d float32) float32 { return rcpEstimate(d, est14, rc) },
			RsqrtPS: func(v float32) float32 {
				return math.Float32frombits(fastbound.Estimate(math.Float32bits(v), est12, rs, true))
			},
			RcpPS: func(d float32) float32 { return rcpEstimate(d, est12, rc) },
		}})
	}
	return ms
}

func loadLimits(t *testing.T, isa string) *x86emu.Program {
	t.Helper()
	file := "limits_" + strings.ToLower(isa) + "_amd64.s"
	src, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	p, err := x86emu.Parse(file, string(src))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// inDomain draws n float32 with bits uniform in [lo, hi), then appends extra.
func inDomain(rng *rand.Rand, n int, lo, hi uint32, extra []float32) []float32 {
	out := make([]float32, 0, n+len(extra))
	for range n {
		out = append(out, math.Float32frombits(lo+rng.Uint32N(hi-lo)))
	}
	return append(out, extra...)
}

// probe runs the probe name, whose slices are names, on y (written) and a, b in
// the interpreter.
func probe(t *testing.T, p *x86emu.Program, name string, names []string, m x86emu.Models, a, b []float32) []float32 {
	t.Helper()
	y := make([]float32, len(a))
	cfg := x86emu.Config{Models: m, Probe: true, Names: names}
	g := make([]float32, len(a))
	if b != nil {
		g = b
	}
	if err := x86emu.Run(p, name, nil, y, slices.Clone(a), g, nil, cfg); err != nil {
		t.Fatal(err)
	}
	return y
}

// TestEmulatedFMA runs the probes of √, 1/d and a/d in the interpreter under
// each of fmaModels, on the hard cases and a random sample of each domain, and
// holds them to the correctly rounded results, as the proofs say they are. The
// reciprocal's exception (a power of two, for an all-ones significand) must be
// the only one.
func TestEmulatedFMA(t *testing.T) {
	for _, isa := range []string{"AVX512", "AVX2"} {
		testEmulatedFMA(t, isa)
	}
}

func testEmulatedFMA(t *testing.T, isa string) {
	p := loadLimits(t, isa)
	markstein := isa == "AVX512" // AVX2's quotient ends on the rounding test
	for _, m := range fmaModels(isa) {
		t.Run(m.name, func(t *testing.T) {
			t.Parallel()
			rng := rand.New(rand.NewPCG(18, 1))
			v := inDomain(rng, 4000, rootLo, rootHi, midpointSquares())
			for i, y := range probe(t, p, "SqrtFMA32"+isa, []string{"y", "v"}, m.models, v, nil) {
				if want := sqrt32(v[i]); math.Float32bits(y) != math.Float32bits(want) {
					t.Fatalf("√%g (%#x) = %g, want %g", v[i], math.Float32bits(v[i]), y, want)
				}
			}
			d := inDomain(rng, 4000, divLo, divHi, allOnes())
			exceptions := 0
			r := probe(t, p, "RecipFMA32"+isa, []string{"y", "d"}, m.models, d, nil)
			for i, y := range r {
				want := div32(1, d[i])
				if markstein && math.Float32bits(y)&0x7fffff == 0 {
					if md := math.Float32bits(d[i]) & 0x7fffff; md != 0 && md != 0x7fffff {
						t.Fatalf("1/%g (%#x) = %g, a power of two, for a divisor that is neither 2ⁿ nor all ones", d[i], math.Float32bits(d[i]), y)
					}
					if y != want {
						exceptions++
					}
					continue
				}
				if math.Float32bits(y) != math.Float32bits(want) {
					t.Fatalf("1/%g (%#x) = %g, want %g", d[i], math.Float32bits(d[i]), y, want)
				}
			}
			a := make([]float32, len(d))
			for i := range a {
				a[i] = numerators[i%len(numerators)]
				if i%7 == 0 {
					a[i] = math.Float32frombits(numLo + rng.Uint32N(numHi-numLo))
				}
			}
			for i, q := range probe(t, p, "DivFMA32"+isa, []string{"q", "a", "d"}, m.models, a, d) {
				if markstein && math.Float32bits(r[i])&0x7fffff == 0 {
					continue
				}
				if want := div32(a[i], d[i]); math.Float32bits(q) != math.Float32bits(want) {
					t.Fatalf("%g/%g (%#x) = %g, want %g", a[i], d[i], math.Float32bits(d[i]), q, want)
				}
			}
			t.Logf("%d all-ones divisors met the reciprocal's exception", exceptions)
		})
	}
}

// nearMidpoints returns accumulators s, over the domain, whose √s or, with √s
// exact, 1/√s lies within 2⁻⁴² (relative) of a midpoint between floats: the
// inputs on which AVX2's candidates, a few u² from the result, may round to
// the wrong side; and gradients g, powers of two too small to move s (g² below
// half its ulp) with random signs, so that the accumulation keeps s and a step
// x = 0 − (lr·g)·(1/√s) or (lr/√s)·g with lr = 1 shows every bit of the root or
// quotient. The search, over [1, 4) in float64 (error 2⁻⁵³, far below the
// distance), runs once.
func nearMidpoints(rng *rand.Rand) (s, g []float32) {
	s = slices.Clone(nearMidpointRadicands())
	g = make([]float32, len(s))
	for i, v := range s {
		_, e := math.Frexp(float64(v))
		g[i] = float32(math.Copysign(math.Ldexp(1, (e-28)/2), float64(1-2*rng.IntN(2))))
	}
	return s, g
}

var nearMidpointRadicands = sync.OnceValue(func() []float32 {
	near := func(r float64) bool {
		ulp := float64(math.Nextafter32(float32(r), float32(math.Inf(1))) - float32(r))
		f := r/ulp - math.Floor(r/ulp)
		return math.Abs(f-0.5)*ulp/r < 0x1p-42
	}
	var s []float32
	scale := func(v float32) {
		for _, e := range []int{-30, -10, 0, 2, 15} {
			s = append(s, float32(math.Ldexp(float64(v), 2*e)))
		}
	}
	for b := math.Float32bits(1); b < math.Float32bits(4); b++ {
		v := math.Float32frombits(b)
		if near(math.Sqrt(float64(v))) {
			scale(v)
		}
		if d := float64(v); d < 2 && near(1/d) {
			scale(float32(d * d)) // d² rounded: √ of it is d again
		}
	}
	return s
})

// hybridArgs keeps the scalars of a hybrid kernel's call in the domain its
// caller guarantees (kernel's hybridScalars): lr is the numerator of DivMul, eps
// bounds the divisor when it is outside the root.
func hybridArgs(f ref.Form, a []float32) []float32 {
	a = slices.Clone(a)
	if b := math.Float32bits(a[0]) &^ (1 << 31); f.Order == ref.DivMul && b != 0 && (b < numLo || b >= numHi) {
		a[0] = 0.01
	}
	if b := math.Float32bits(a[1]); f.EpsOutside && (b < 0x27800000 || b >= 0x4f800000) {
		a[1] = 1e-8
	}
	return a
}

// hybridInputs are x, s and g of length n where most vectors of 16 are in the
// FMA vectors' domain and some have one lane outside it, so that both the FMA
// path and the fallback run.
func hybridInputs(rng *rand.Rand, n int) (x, s, g []float32) {
	x, s, g = make([]float32, n), make([]float32, n), make([]float32, n)
	for i := range n {
		x[i] = float32(rng.NormFloat64())
		if rng.IntN(4) == 0 {
			x[i] = 0 // x − step = −step: every bit of the step shows
		}
		s[i] = float32(math.Ldexp(1+rng.Float64(), rng.IntN(60)-40))
		g[i] = float32(rng.NormFloat64() * math.Ldexp(1, rng.IntN(20)-10))
		if rng.IntN(8) == 0 {
			g[i] = 0
		}
		if rng.IntN(16) == 0 {
			s[i] = 0
		}
	}
	// Divisors with an all-ones significand, the reciprocal's exception: s with
	// √s just above one, which eps within the root rarely moves.
	for i := range n {
		if rng.IntN(16) == 0 {
			d := math.Ldexp(2-0x1p-23, rng.IntN(20)-10)
			s[i] = float32(d * d)
		}
	}
	for v := 0; v < n; v += 16 {
		if rng.IntN(3) == 0 {
			i := v + rng.IntN(16)
			if i < n {
				x[i], s[i], g[i] = randomValue[float32](rng), randomValue[float32](rng), randomValue[float32](rng)
			}
		}
	}
	return x, s, g
}

// runError is an error of the interpreter, not a difference from ref.
type runError struct{ error }

// matchesRef runs the hybrid kernel name of form f in p on x, s, g and the
// scalars args under models, and ref.Apply on copies, and returns the first
// difference of x or s, or a *runError if the kernel did not run to its end.
func matchesRef[T float](p *x86emu.Program, name string, f ref.Form, x, s, g, args []T, models x86emu.Models, rng *rand.Rand) error {
	wx, ws := slices.Clone(x), slices.Clone(s)
	ref.Apply(f, wx, ws, g, ref.Params[T]{LR: args[0], Eps: args[1], WeightDecay: args[2], Decay: args[3], Gain: args[4]})
	if err := x86emu.Run(p, name, applyParams, x, s, g, args, x86emu.Config{Models: models, Rand: rng}); err != nil {
		return &runError{err}
	}
	if err := firstDiff("x", x, wx); err != nil {
		return err
	}
	return firstDiff("s", s, ws)
}

// TestEmulatedHybrid runs the hybrid kernel of every form in the interpreter
// under each of fmaModels and holds it to ref.Apply bit for bit, on inputs that
// take both the FMA sequences and the fallback, and requires that every
// instruction ran.
func TestEmulatedHybrid(t *testing.T) {
	for _, isa := range []string{"AVX512", "AVX2"} {
		testEmulatedHybrid(t, isa)
	}
}

// hasHybrid32 reports whether form f has a float32 hybrid kernel on isa: every
// form on AVX-512, on AVX2 those whose vectors keep no more than g and d
// between stages (internal/gen's avx2Splits).
func hasHybrid32(isa string, f ref.Form) bool {
	return isa == "AVX512" || !f.Guard && f.WeightDecay == ref.NoWeightDecay
}

func testEmulatedHybrid(t *testing.T, isa string) {
	p := loadProgram(t, isa)
	lens := []int{0, 1, 15, 16, 17, 63, 64, 65, 127, 128, 129, 200, 511, 512, 513, 1000}
	for _, f := range ref.Forms() {
		if !hasHybrid32(isa, f) {
			continue
		}
		name := "apply32" + isa + "Hybrid" + f.String()
		t.Run(isa+"/"+f.String(), func(t *testing.T) {
			t.Parallel()
			for mi, m := range fmaModels(isa) {
				rng := rand.New(rand.NewPCG(uint64(f.ID()), uint64(mi)))
				for _, n := range append(lens, -1) {
					for _, args := range [][]float32{typicalArgs[float32]()[n&7%7], randomArgs[float32](rng)} {
						args = hybridArgs(f, args)
						var x, s, g []float32
						if n >= 0 {
							x, s, g = hybridInputs(rng, n)
						} else {
							// Roots and reciprocals next to midpoints, with lr = 1
							// and x = 0 so that every bit of the step shows.
							s, g = nearMidpoints(rng)
							x = make([]float32, len(s))
							args[0] = 1
						}
						if err := matchesRef(p, name, f, x, s, g, args, m.models, rng); err != nil {
							t.Fatalf("%s n=%d args=%v: %v", m.name, n, args, err)
						}
					}
				}
			}
			checkReached(t, p, name)
		})
	}
}

// TestEmulatorCatchesBrokenHybrid shows that TestEmulatedHybrid can fail: with
// the check for the reciprocal's exception gone (seen where the reciprocal is
// the step's, the Recip order), or one side of Tuckerman's test, or on AVX2 one
// side of the quotient's rounding test, a hybrid kernel must part from
// ref.Apply under some estimate within the specification.
func TestEmulatorCatchesBrokenHybrid(t *testing.T) {
	for _, c := range []struct {
		isa, what, re, repl string
		f                   ref.Form
	}{
		{"AVX512", "no check of 1/d", `\n\tVPTESTMD\s+hybridconsts<>\+192\(SB\), Z\d+, K\d, K\d`, "", ref.Form{Order: ref.Recip}},
		{"AVX512", "no d⁻ in Tuckerman's test", `\n\tVPSUBD\s+hybridconsts<>\+\d+\(SB\), (Z\d+), K\d, Z\d+`, "", ref.Form{}},
		// AVX2's tests take their masks from signs and compares: q − (−1) after
		// the compare of |d·q⁺ − a|, d + 1 from the sign of d·d⁺ − v.
		{"AVX2", "no q⁺ in the quotient's test", `\n\tVPSUBD\s+Y\d+, Y\d+, Y\d+(\n\tVPADDD\s+Y\d+, Y\d+, Y\d+\n)`, "$1", ref.Form{}},
		{"AVX2", "no d⁺ in Tuckerman's test", `(\n\tVPSRLD\s+\$0x1f, Y\d+, Y\d+)\n\tVPADDD\s+Y\d+, Y\d+, Y\d+`, "$1", ref.Form{Order: ref.Recip}},
	} {
		full := readSource(t, c.isa)
		name, f := "apply32"+c.isa+"Hybrid"+c.f.String(), c.f
		t.Run(c.isa+"/"+c.what, func(t *testing.T) {
			src, hits := mutate(full, name, regexp.MustCompile(c.re), c.repl)
			if hits == 0 {
				t.Fatalf("the mutation %q matches nothing in %s", c.re, name)
			}
			p, err := x86emu.Parse("mutated.s", excerpt(src, name))
			if err != nil {
				t.Fatal(err)
			}
			for mi, m := range fmaModels(c.isa) {
				rng := rand.New(rand.NewPCG(5, uint64(mi)))
				for range 20 {
					x, s, g := hybridInputs(rng, 1024)
					args := []float32{0.01, 0, 0, 1, 1} // eps 0 keeps the all-ones roots of hybridInputs
					if c.isa == "AVX2" {
						// Twelve-bit estimates and a step more leave candidates within a
						// few u² of the result: only roots and reciprocals that close to
						// a midpoint need the tests, and x = −1/√s shows every bit.
						s, g = nearMidpoints(rng)
						x = make([]float32, len(s))
						args[0] = 1
					}
					clear(x) // x − step = −step: every bit of the step shows
					if err := matchesRef(p, name, f, x, s, g, args, m.models, rng); errors.As(err, new(*runError)) {
						t.Fatal(err)
					} else if err != nil {
						return
					}
				}
			}
			t.Error("the broken kernel still matches ref.Apply")
		})
	}
}
