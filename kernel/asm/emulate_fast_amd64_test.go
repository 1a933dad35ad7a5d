//go:build !purego

package asm

// The fast mode's kernels start from the hardware's reciprocal-square-root
// estimate, whose exact bits are the vendor's table, not a formula. The
// interpreter therefore takes VRSQRTPS from the CPU itself (so that it can be held
// to the CPU on the AVX2 kernel, bit for bit) and models VRSQRT14PS, which no CPU
// here has, as 1/√a scaled by each end of Intel's documented relative error,
// 2⁻¹⁴, and by nothing: the AVX-512 kernel must meet the fast mode's bounds with
// every one of them.

import (
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"testing"

	"github.com/klauspost/cpuid/v2"

	"github.com/adagrad-go/adagrad/ref"
)

// rsqrtHardware is this CPU's VRSQRTPS of one float32 (RsqrtMul32AVX2 with g = 1,
// whose product is then exact).
func rsqrtHardware(a uint64) uint64 {
	y := []float32{0}
	RsqrtMul32AVX2(y, []float32{math.Float32frombits(uint32(a))}, []float32{1})
	return uint64(math.Float32bits(y[0]))
}

// rsqrt14Bias selects the interpreter's VRSQRT14PS: the exact 1/√a times
// (1 + rsqrt14Bias·2⁻¹⁴), rounded to float32.
var rsqrt14Bias float64

// rsqrt14 is VRSQRT14PS as Intel documents it: ±0 → ±∞, +∞ → +0, negative → the
// default NaN, NaN → itself made quiet, and denormals read as the numbers they are
// (MXCSR.DAZ is never set in Go), others within a relative 2⁻¹⁴ of 1/√a.
func rsqrt14(a uint64) uint64 {
	v := math.Float32frombits(uint32(a))
	switch {
	case v != v:
		return a | 0x00400000
	case v == 0:
		return uint64(math.Float32bits(float32(math.Copysign(math.Inf(1), float64(v)))))
	case v < 0:
		return 0xffc00000
	case math.IsInf(float64(v), 1):
		return 0
	}
	return uint64(math.Float32bits(float32(1 / math.Sqrt(float64(v)) * (1 + rsqrt14Bias*0x1p-14))))
}

func loadFastProgram(t *testing.T, isa string) *program {
	t.Helper()
	file := map[string]string{"AVX2": "fast_avx2_amd64.s", "AVX512": "fast_avx512_amd64.s"}[isa]
	src, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	p, err := parseProgram(file, string(src))
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
		if err := emulate(p, "UpdateFast32AVX2", []string{"lr", "eps"}, ex, es, g, []float32{lr, eps}, rng); err != nil {
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

// TestEmulatedFastAVX512 runs UpdateFast32AVX512 in the interpreter with each
// model of VRSQRT14PS and holds it to the fast mode's contract: s bit-identical to
// ref.Update32; the refined root within maxRsqrtULP["AVX512"] of 1/√a for a over
// every exponent, denormals included; x within 4 ulps of the exact step plus one
// of x; ±0, ±∞ and NaN as in the exact mode.
func TestEmulatedFastAVX512(t *testing.T) {
	p := loadFastProgram(t, "AVX512")
	defer func() { rsqrt14Bias = 0 }()
	for _, bias := range []float64{-1, 0, 1} {
		rsqrt14Bias = bias
		t.Run(fmt.Sprintf("estimate×(1%+g·2⁻¹⁴)", bias), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(8, 2))
			worstRoot := rootThroughUpdate(t, p, rng)
			worstX := 0.0
			for _, n := range fastLengths {
				x, s, g, lr, eps := fastInputs(rng, n)
				x0 := append([]float32(nil), x...)
				fx, fs := append([]float32(nil), x...), append([]float32(nil), s...)
				if err := emulate(p, "UpdateFast32AVX512", []string{"lr", "eps"}, fx, fs, g, []float32{lr, eps}, rng); err != nil {
					t.Fatalf("n=%d: %v", n, err)
				}
				ref.Update32(x, s, g, lr, eps)
				if err := firstDiff(fmt.Sprintf("n=%d s", n), fs, s); err != nil {
					t.Fatal(err)
				}
				for i := range x {
					worstX = max(worstX, fastOff(t, x0[i], fx[i], x[i]))
				}
			}
			t.Logf("root within %.3f ulp; x within %.3f ulps of the step (beyond 1 ulp of x)", worstRoot, worstX)
			if worstX > 4 {
				t.Errorf("x is %.3f ulps of the step from the exact update, above 4", worstX)
			}
		})
	}
	checkReached(t, p, "UpdateFast32AVX512")
}

// checkReached requires that the inputs executed every instruction of fn.
func checkReached(t *testing.T, p *program, fn string) {
	for _, in := range p.funcs[fn].insts {
		if in.hits == 0 {
			t.Errorf("%s:%d: %s was never executed", p.file, in.line, in.text)
		}
	}
}

// fastOff is how far the fast update's x is from the exact one, xExact from x0, as
// kernel's tests measure it: |Δx| less one ulp of x, in ulps of the exact step.
// Non-finite results must be the exact mode's.
func fastOff(t *testing.T, x0, xFast, xExact float32) float64 {
	t.Helper()
	f, e := float64(xFast), float64(xExact)
	if math.IsNaN(e) || math.IsInf(e, 0) || math.IsNaN(f) || math.IsInf(f, 0) {
		if math.IsNaN(e) != math.IsNaN(f) || (!math.IsNaN(e) && f != e) {
			t.Fatalf("x0=%v: fast x = %v, exact %v", x0, xFast, xExact)
		}
		return 0
	}
	d := math.Abs(f-e) - ulpOf(xExact)
	if d <= 0 {
		return 0
	}
	step := math.Abs(float64(x0) - e)
	if step == 0 {
		t.Fatalf("x0=%v: fast x = %v, but the exact step is 0", x0, xFast)
	}
	return d / ulpOf(float32(step))
}

// ulpOf is the spacing of float32 at |v|.
func ulpOf(v float32) float64 {
	a := math.Abs(float64(v))
	if a < math.SmallestNonzeroFloat32 {
		return math.SmallestNonzeroFloat32
	}
	_, e := math.Frexp(a)
	return math.Max(math.Ldexp(1, e-24), math.SmallestNonzeroFloat32)
}

// rootThroughUpdate measures the kernel's refined root through the update itself:
// with x = 0, lr = 1, eps = 0 and g = −2⁻ᵏ, x becomes 2⁻ᵏ·y exactly and s + g² is
// s, for k = 60 when s ≥ 1 (g² = 2⁻¹²⁰ is absorbed) and k = 75 below (g² rounds to
// 0), so that 2⁻ᵏ·y stays normal. The inputs a take every exponent, denormals
// included, and the specials.
func rootThroughUpdate(t *testing.T, p *program, rng *rand.Rand) float64 {
	var a []float32
	for e := -149; e < 128; e++ {
		for range 24 {
			m := 1 + rng.Float64()
			if v := float32(math.Ldexp(m, e)); v > 0 && !math.IsInf(float64(v), 0) {
				a = append(a, v)
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
	if err := emulate(p, "UpdateFast32AVX512", []string{"lr", "eps"}, x, s, g, []float32{1, 0}, rng); err != nil {
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
		exact := 1 / math.Sqrt(float64(v))
		_, e := math.Frexp(exact)
		u := math.Abs(float64(y)-exact) / math.Ldexp(1, e-24)
		worst = max(worst, u)
		if u > maxRsqrtULP["AVX512"] {
			t.Fatalf("rsqrt(%v [%#08x]) = %v, %.3f ulp from %v: above the documented %v", v, math.Float32bits(v), y, u, exact, maxRsqrtULP["AVX512"])
		}
	}
	return worst
}
