//go:build gc && !purego

package asm

// The fast mode's kernels start from the hardware's reciprocal-square-root
// estimate, whose exact bits are the vendor's table, not a formula: Intel's and
// AMD's VRSQRTPS differ, and the manuals promise only a bound. The interpreter
// therefore runs the kernels with estimates at both ends of each documented bound
// and between (fastbound.Estimate), with Intel's published algorithm for
// VRSQRT14PS (rsqrt14Intel), and with the CPU's own VRSQRTPS, so that it can be
// held to the CPU bit for bit. Every model must meet the bounds derived in
// internal/fastbound; the ones at the ends must come close to them.

import (
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"strings"
	"testing"

	"github.com/klauspost/cpuid/v2"

	"github.com/adagrad-go/adagrad/internal/fastbound"
	"github.com/adagrad-go/adagrad/internal/x86emu"
	"github.com/adagrad-go/adagrad/ref"
)

// rsqrtHardware is this CPU's VRSQRTPS of one float32 (RsqrtMul32AVX2 with g = 1,
// whose product is then exact).
func rsqrtHardware(a float32) float32 {
	y := []float32{0}
	RsqrtMul32AVX2(y, []float32{a}, []float32{1})
	return y[0]
}

// rsqrt14IntelModel is rsqrt14Intel (rsqrt14_model_amd64_test.go) as the
// interpreter's model of VRSQRT14PS.
func rsqrt14IntelModel(a float32) float32 {
	return math.Float32frombits(uint32(rsqrt14Intel(uint64(math.Float32bits(a)))))
}

// estimateModel is an estimate at b·E within its documented relative error E
// (fastbound.Estimate); daz reads denormals as zero, as VRSQRTPS does (Intel SDM:
// "a denormal source value is treated as a 0.0 (of the same sign)"), where
// VRSQRT14PS reads them as the numbers they are (Go never sets MXCSR.DAZ).
func estimateModel(E, b float64, daz bool) func(float32) float32 {
	return func(a float32) float32 {
		return math.Float32frombits(fastbound.Estimate(math.Float32bits(a), E, b, daz))
	}
}

// estimate is one model of an estimate instruction.
type estimate struct {
	name string
	fn   func(float32) float32
	end  bool // at an end of the specification: the bound must be nearly reached
}

// specModels are estimates at both ends of a specification (the floats just
// inside), halfway to each and exact.
func specModels(E float64, daz bool) []estimate {
	var ms []estimate
	for _, b := range []float64{-1, -0.5, 0, 0.5, 1} {
		ms = append(ms, estimate{fmt.Sprintf("1%+g·E", b), estimateModel(E, b, daz), b == -1 || b == 1})
	}
	return ms
}

func loadFastProgram(t *testing.T, isa string) *x86emu.Program {
	t.Helper()
	file := map[string]string{"AVX2": "fast_avx2_amd64.s", "AVX512": "fast_avx512_amd64.s"}[isa]
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

// fastInputs are random update inputs of every class randomValue makes, and the
// rate and eps of one call.
func fastInputs(rng *rand.Rand, n int) (x, s, g []float32, lr, eps float32) {
	x, s, g = randomInputs[float32](rng, n)
	return x, s, g, []float32{0.01, 1, 1e-30, 0}[rng.IntN(4)], []float32{1e-6, 0, 1e-38, 1}[rng.IntN(4)]
}

// fastLengths reach the block loop (4 or 8 vectors), the single vectors and every
// tail length of both kernels.
var fastLengths = lengths(300, 1000, 4099)

// TestEmulatedFastMatchesHardwareAVX2 runs UpdateFast32AVX2 in the interpreter
// (with the CPU's own estimate) and on the CPU: the same bits, so the interpreter
// models everything else the fast kernels do (the compare into a mask, the blend,
// the fused steps, the loop and the tail) as the CPU does.
func TestEmulatedFastMatchesHardwareAVX2(t *testing.T) {
	if !cpuid.CPU.Supports(cpuid.AVX, cpuid.AVX2, cpuid.FMA3) {
		t.Skip("no AVX2 and FMA")
	}
	p := loadFastProgram(t, "AVX2")
	rng := rand.New(rand.NewPCG(8, 1))
	for _, n := range fastLengths {
		x, s, g, lr, eps := fastInputs(rng, n)
		ex, es := append([]float32(nil), x...), append([]float32(nil), s...)
		cfg := x86emu.Config{Models: x86emu.Models{RsqrtPS: rsqrtHardware}, Rand: rng}
		if err := x86emu.Run(p, "UpdateFast32AVX2", []string{"lr", "eps"}, ex, es, g, []float32{lr, eps}, cfg); err != nil {
			t.Fatalf("n=%d: %v", n, err)
		}
		UpdateFast32AVX2(x, s, g, lr, eps)
		if err := firstDiff(fmt.Sprintf("n=%d x", n), ex, x); err != nil {
			t.Fatal(err)
		}
		if err := firstDiff(fmt.Sprintf("n=%d s", n), es, s); err != nil {
			t.Fatal(err)
		}
	}
	checkReached(t, p, "UpdateFast32AVX2")
}

// TestEmulatedFastAVX2 runs UpdateFast32AVX2 in the interpreter with VRSQRTPS at
// both ends of its documented error, 1.5·2⁻¹², and between (see testFastModels).
func TestEmulatedFastAVX2(t *testing.T) {
	models := func(est func(float32) float32) x86emu.Models { return x86emu.Models{RsqrtPS: est} }
	testFastModels(t, "AVX2", models, specModels(fastbound.VRSQRTPS, true))
}

// TestEmulatedFastAVX512 runs UpdateFast32AVX512 in the interpreter with
// VRSQRT14PS at both ends of its documented error, 2⁻¹⁴, between, and as Intel's
// reference implementation computes it (see testFastModels).
func TestEmulatedFastAVX512(t *testing.T) {
	ests := append(specModels(fastbound.VRSQRT14PS, false), estimate{"Intel's reference", rsqrt14IntelModel, false})
	models := func(est func(float32) float32) x86emu.Models { return x86emu.Models{Rsqrt14PS: est} }
	testFastModels(t, "AVX512", models, ests)
}

// testFastModels runs UpdateFast32<isa> in the interpreter with each of ests as
// its estimate, installed by models, and holds it to the fast mode's contract: s
// bit-identical to ref.Update; the refined root within the derived bound of 1/√a
// over every exponent (and, at the ends of the specification, within 0.25 ulp of
// it, so that the bound is the kernel's and the inputs reach its worst case); x
// within the derived bound of the exact update; ±0, ±∞ and NaN as in the exact
// mode. Every instruction of the kernel must have run.
func testFastModels(t *testing.T, isa string, models func(func(float32) float32) x86emu.Models, ests []estimate) {
	p := loadFastProgram(t, isa)
	bounds := fastbound.Path(strings.ToLower(isa))
	worstEnd := 0.0
	for _, m := range ests {
		t.Run(m.name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(8, 2))
			cfg := x86emu.Config{Models: models(m.fn), Rand: rng}
			worstRoot := rootThroughUpdate(t, p, isa, cfg)
			if m.end {
				worstEnd = max(worstEnd, worstRoot)
			}
			worstX := 0.0
			for _, n := range fastLengths {
				x, s, g, lr, eps := fastInputs(rng, n)
				x0 := append([]float32(nil), x...)
				fx, fs := append([]float32(nil), x...), append([]float32(nil), s...)
				if err := x86emu.Run(p, "UpdateFast32"+isa, []string{"lr", "eps"}, fx, fs, g, []float32{lr, eps}, cfg); err != nil {
					t.Fatalf("n=%d: %v", n, err)
				}
				ref.Update(x, s, g, lr, eps)
				if err := firstDiff(fmt.Sprintf("n=%d s", n), fs, s); err != nil {
					t.Fatal(err)
				}
				for i := range x {
					if v := s[i] + eps; fastbound.InDomain(lr, g[i], v) || isSpecial(v, isa) {
						worstX = max(worstX, fastOff(t, x0[i], fx[i], x[i]))
					}
				}
			}
			t.Logf("root within %.3f ulp (bound %.3f); x within %.3f ulps of the step (bound %.3f)", worstRoot, bounds.Root, worstX, bounds.X)
			if worstX > bounds.X {
				t.Errorf("x is %.3f ulps of the step from the exact update, above the derived %.3f", worstX, bounds.X)
			}
		})
	}
	if worstEnd < bounds.Root-0.25 {
		t.Errorf("the estimates at the ends of the specification took the root only %.3f ulp from 1/√v, the bound is %.3f: the inputs miss the worst case, or the kernel is not the derivation's", worstEnd, bounds.Root)
	}
	checkReached(t, p, "UpdateFast32"+isa)
}

// fastOff is how far the fast update's x is from the exact one, xExact from x0, as
// fastbound.XError measures it. Non-finite results must be the exact mode's.
func fastOff(t *testing.T, x0, xFast, xExact float32) float64 {
	t.Helper()
	f, e := float64(xFast), float64(xExact)
	if math.IsNaN(e) || math.IsInf(e, 0) || math.IsNaN(f) || math.IsInf(f, 0) {
		if math.IsNaN(e) != math.IsNaN(f) || (!math.IsNaN(e) && f != e) {
			t.Fatalf("x0=%v: fast x = %v, exact %v", x0, xFast, xExact)
		}
		return 0
	}
	d := fastbound.XError(x0, xFast, xExact)
	if math.IsInf(d, 1) {
		t.Fatalf("x0=%v: fast x = %v, but the exact step is 0", x0, xFast)
	}
	return d
}

// isSpecial reports whether v = s + eps is one of the special values whose x the
// fast mode gives exactly as the exact mode: ±0 and +∞, NaN, and on AVX-512, which
// reads them as numbers, denormals.
func isSpecial(v float32, isa string) bool {
	return v == 0 || v != v || math.IsInf(float64(v), 1) || isa == "AVX512" && v < 0x1p-126
}

// rootThroughUpdate measures the kernel's refined root through the update itself:
// with x = 0, lr = 1, eps = 0 and g = −2⁻ᵏ, x becomes 2⁻ᵏ·y exactly and s + g² is
// s, for k = 60 when s ≥ 1 (g² = 2⁻¹²⁰ is absorbed) and k = 75 below (g² rounds to
// 0), so that 2⁻ᵏ·y stays normal. The inputs a take every exponent, denormals
// included, most of them where the root's significand is near 2 (a in
// [1, 1.11)·4ⁿ), where the worst case lives, and the specials. On AVX2 a denormal
// a must give +∞ (VRSQRTPS reads it as zero). cfg's Rand draws the inputs too.
func rootThroughUpdate(t *testing.T, p *x86emu.Program, isa string, cfg x86emu.Config) float64 {
	rng := cfg.Rand
	var a []float32
	add := func(v float32) {
		if v > 0 && !math.IsInf(float64(v), 0) {
			a = append(a, v)
		}
	}
	for e := -149; e < 128; e++ {
		for range 24 {
			add(float32(math.Ldexp(1+rng.Float64(), e)))
		}
		if e%2 == 0 {
			for range 48 {
				add(float32(math.Ldexp(1+0.11*rng.Float64(), e)))
			}
		}
	}
	a = append(a, math.SmallestNonzeroFloat32, 0x1p-126, math.MaxFloat32, 1, 4)
	x, s, g := make([]float32, len(a)), append([]float32(nil), a...), make([]float32, len(a))
	for i, v := range a {
		g[i] = -0x1p-75
		if v >= 1 {
			g[i] = -0x1p-60
		}
	}
	if err := x86emu.Run(p, "UpdateFast32"+isa, []string{"lr", "eps"}, x, s, g, []float32{1, 0}, cfg); err != nil {
		t.Fatal(err)
	}
	worst := 0.0
	for i, v := range a {
		if s[i] != v {
			t.Fatalf("s + g² = %v for s = %v: the probe's g² was not absorbed", s[i], v)
		}
		k := 75
		if v >= 1 {
			k = 60
		}
		y := float32(math.Ldexp(float64(x[i]), k))
		if isa == "AVX2" && v < 0x1p-126 {
			if !math.IsInf(float64(y), 1) {
				t.Fatalf("rsqrt(%v) = %v on AVX2, want +Inf: VRSQRTPS reads denormals as zero", v, y)
			}
			continue
		}
		u := fastbound.RootError(y, v)
		worst = max(worst, u)
		if u > maxRsqrtULP(isa) {
			t.Fatalf("rsqrt(%v [%#08x]) = %v, %.3f ulp from %v: above the derived %.3f", v, math.Float32bits(v), y, u, 1/math.Sqrt(float64(v)), maxRsqrtULP(isa))
		}
	}
	return worst
}
