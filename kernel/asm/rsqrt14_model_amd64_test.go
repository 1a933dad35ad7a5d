//go:build gc && !purego

package asm

// A bit-exact model of VRSQRT14PS/VRSQRT14SS on float32, after Intel's
// "Reference Implementations for Intel Architecture Approximation Instructions
// VRCP14, VRSQRT14, VRCP28, VRSQRT28, and VEXP2" (Marius Cornea, 2015):
//
//	https://www.intel.com/content/www/us/en/developer/articles/code-sample/reference-implementations-for-ia-approximation-instructions-vrcp14-vrsqrt14-vrcp28-vrsqrt28-vexp2.html
//	https://www.intel.com/content/dam/develop/external/us/en/documents/recip14.c
//
// whose RSQRT14S is the emulation routine of the scalar float32 instruction. The
// Intel file was read as Valgrind's AVX-512 port carries it (sasshka/valgrind,
// VEX/priv/RECIP14.c at 2a9d9c2a5e6021cd1b928e03aabb9e493cde5cdd), and its table
// checked entry by entry against a second, independent transcription (Unicorn's
// QEMU, NeverSight/unicorn qemu/target/i386/approx_14.c at
// 6e207612dc2fcd53c064a356c684dd2096a66a69). The code below is ours, in integer
// arithmetic; only the coefficients are Intel's.
//
// The algorithm: scale x by an even power of two, 4ⁿ, into [1, 4) (denormals
// first normalized, since Go never sets MXCSR.DAZ); the exponent's parity picks
// [1, 2) or [2, 4), the fraction's top 5 bits one of 32 segments of either; on
// the segment, 1/√x is the line c − d·(x − midpoint) with x cut to its top 15
// fraction bits, the line's value is truncated to 17 significant bits and the
// result scaled back by 2⁻ⁿ. 1/√1 is exactly 1 (so are all even powers of two).

import (
	"fmt"
	"math"
	"math/big"
	"math/bits"
	"testing"
	"time"

	"github.com/klauspost/cpuid/v2"
)

// rsqrt14Coeff is RSQRT14_Coeff of Intel's RECIP14.c, unchanged and in its
// order. For segment i (0 ≤ i < 32), entries 4i and 4i+1 are d and c of [1, 2),
// 4i+2 and 4i+3 d and c of [2, 4); c is the line's value at the segment's
// midpoint in units of 2⁻¹⁹, d minus its slope in units of 2⁻¹¹ on
// [1, 2) and of 2⁻¹² on [2, 4) (1001·2⁻¹¹ ≈ 0.49 at 1, 707·2⁻¹² ≈ 0.17 at 2).
var rsqrt14Coeff = [128]uint32{
	1001, 520261, 707, 367881, 955, 512437, 675, 362349,
	915, 504953, 647, 357056, 877, 497790, 619, 351992,
	841, 490922, 595, 347136, 807, 484331, 571, 342475,
	775, 478001, 549, 337997, 747, 471909, 527, 333693,
	719, 466046, 509, 329545, 693, 460397, 491, 325551,
	669, 454947, 473, 321697, 647, 449688, 457, 317977,
	625, 444606, 441, 314385, 603, 439694, 427, 310910,
	585, 434939, 413, 307549, 567, 430335, 401, 304295,
	549, 425875, 389, 301139, 533, 421551, 377, 298079,
	517, 417355, 365, 295115, 501, 413284, 355, 292237,
	487, 409329, 345, 289439, 473, 405487, 335, 286722,
	461, 401748, 325, 284080, 449, 398111, 317, 281508,
	437, 394571, 309, 279006, 425, 391127, 301, 276569,
	415, 387770, 293, 274195, 403, 384498, 285, 271882,
	393, 381307, 279, 269625, 385, 378194, 271, 267425,
	375, 375155, 265, 265276, 367, 372190, 259, 263178,
}

// rsqrt14Intel is VRSQRT14PS on the float32 whose bits are the low 32 of a, with
// MXCSR.DAZ clear: Intel's reference algorithm with Intel's table.
func rsqrt14Intel(a uint64) uint64 { return rsqrt14Table(&rsqrt14Coeff, a) }

// rsqrt14Table is rsqrt14Intel with the coefficients as an argument, so that a
// test can break one and see the bound test catch it.
func rsqrt14Table(coeff *[128]uint32, a uint64) uint64 {
	u := uint32(a)
	exp, frac := int(u>>23&0xff), u&0x7fffff
	switch {
	case exp == 0xff && frac != 0: // NaN: itself, made quiet
		return uint64(u | 0x00400000)
	case u&0x7fffffff == 0: // ±0 → ±∞
		return uint64(u | 0x7f800000)
	case u>>31 != 0: // negative, −∞ included → the default NaN
		return 0xffc00000
	case exp == 0xff: // +∞ → +0
		return 0
	}
	// x = 2^e · 1.frac, frac of 23 bits.
	e := exp - 127
	if exp == 0 {
		e = -126
		for frac&0x00800000 == 0 {
			frac <<= 1
			e--
		}
		frac &= 0x7fffff
	}
	odd := e&1 != 0
	n := e >> 1  // x = 4ⁿ·m, m = 1.frac in [1, 2) for even e, 2·1.frac in [2, 4) for odd
	var q uint64 // 1/√m ≈ q·2⁻²⁶
	if !odd && frac == 0 {
		q = 1 << 26
	} else {
		// m cut to 15 fraction bits (the reference clears the low 8) is
		// 1 + f15·2⁻¹⁵ on [1, 2), 2 + f15·2⁻¹⁴ on [2, 4); segment i's midpoint
		// is at f15 = (2i+1)·2⁹ on both, so m − midpoint = delta·2⁻¹⁵ or ·2⁻¹⁴.
		f15 := int64(frac >> 8)
		i := frac >> 18
		delta := f15 - int64(2*i+1)<<9
		k := 4 * i
		if odd {
			k += 2
		}
		d, c := int64(coeff[k]), int64(coeff[k+1])
		// c·2⁻¹⁹ − d·2⁻¹¹·delta·2⁻¹⁵ on [1, 2), c·2⁻¹⁹ − d·2⁻¹²·delta·2⁻¹⁴ on
		// [2, 4): both (128c − d·delta)·2⁻²⁶, an exact positive integer here.
		v := 128*c - d*delta
		if v <= 0 {
			panic(fmt.Sprintf("rsqrt14Table(%#08x): line value %d", u, v))
		}
		// Truncated to 17 significant bits.
		if l := bits.Len64(uint64(v)); l > 17 {
			v = v >> (l - 17) << (l - 17)
		}
		q = uint64(v)
	}
	// q has at most 17 bits and 2^(−26−n) stays within float64, so the product
	// is exact; the result, between 2⁻⁶⁴ and 2⁷⁵, is a normal float32 and the
	// conversion exact too.
	return uint64(math.Float32bits(float32(math.Ldexp(float64(q), -26-n))))
}

// rsqrt14Bound is what checkRsqrt14Bound found.
type rsqrt14Bound struct {
	checked    uint64   // positive finite non-zero inputs
	exact      uint64   // of them, decided with math/big
	violations uint64   // |y·√x − 1| ≥ 2⁻¹⁴
	first      []uint32 // the first few violating inputs
	worst      float64  // max |y·√x − 1| (float64, see below)
	worstAt    uint32
}

// rsqrt14Exact is Intel's bound decided exactly: |y·√x − 1| < 2⁻¹⁴, that is
// (1 − 2⁻¹⁴)² < y²·x < (1 + 2⁻¹⁴)², for x and y float32 values (held in
// float64), in math/big at 256 bits, where y²·x (at most 17+17+24 significant
// bits for the model's y) and the bounds are exact.
func rsqrt14Exact(x, y float64) bool {
	f := func(v float64) *big.Float { return new(big.Float).SetPrec(256).SetFloat64(v) }
	lo, hi := f(1-0x1p-14), f(1+0x1p-14)
	lo.Mul(lo, lo)
	hi.Mul(hi, hi)
	p := f(y)
	p.Mul(p, p).Mul(p, f(x))
	return lo.Cmp(p) < 0 && p.Cmp(hi) < 0
}

// checkRsqrt14Bound holds rsqrt to Intel's bound, |relative error| < 2⁻¹⁴, on
// every stride-th positive finite non-zero float32 bit pattern.
//
// The relative error of y for x is r = y·√x − 1. In float64, √x is correctly
// rounded and so is its product by y (each within a relative 2⁻⁵³), and as the
// product is within [1/2, 2] the subtraction of 1 is exact: the computed r is
// within 2⁻⁵¹ of the true one. Where it is within 2⁻⁴⁰ of 2⁻¹⁴ the input is
// decided exactly instead, by rsqrt14Exact.
func checkRsqrt14Bound(rsqrt func(uint64) uint64, stride uint64) rsqrt14Bound {
	const bound, margin = 0x1p-14, 0x1p-40
	var st rsqrt14Bound
	for b := uint64(1); b < 0x7f800000; b += stride {
		x := float64(math.Float32frombits(uint32(b)))
		y := float64(math.Float32frombits(uint32(rsqrt(b))))
		st.checked++
		r := math.Abs(y*math.Sqrt(x) - 1)
		if r != r {
			r = math.Inf(1) // a NaN result
		}
		if r > st.worst {
			st.worst, st.worstAt = r, uint32(b)
		}
		ok := r < bound-margin
		if !ok && r <= bound+margin {
			st.exact++
			ok = rsqrt14Exact(x, y)
		}
		if !ok {
			st.violations++
			if len(st.first) < 5 {
				st.first = append(st.first, uint32(b))
			}
		}
	}
	return st
}

func logRsqrt14Bound(t *testing.T, name string, st rsqrt14Bound, rsqrt func(uint64) uint64) {
	t.Helper()
	t.Logf("%s: %d positive finite non-zero inputs, %d decided exactly; worst |y·√x − 1| = %.6f·2⁻¹⁴ at %#08x; %d at or above 2⁻¹⁴",
		name, st.checked, st.exact, st.worst*0x1p14, st.worstAt, st.violations)
	for _, b := range st.first {
		x := math.Float32frombits(b)
		y := math.Float32frombits(uint32(rsqrt(uint64(b))))
		t.Logf("  x = %g (%#08x): y = %g (%#08x), y·√x − 1 = %.6f·2⁻¹⁴",
			x, b, y, math.Float32bits(y), (float64(y)*math.Sqrt(float64(x))-1)*0x1p14)
	}
}

// TestRsqrt14IntelModelBound: the model meets Intel's documented bound, and a
// model with one coefficient off does not.
func TestRsqrt14IntelModelBound(t *testing.T) {
	start := time.Now()
	st := checkRsqrt14Bound(rsqrt14Intel, rsqrtStride())
	logRsqrt14Bound(t, "Intel model", st, rsqrt14Intel)
	if st.violations != 0 {
		t.Errorf("the Intel model breaks |relative error| < 2⁻¹⁴ on %d inputs", st.violations)
	}
	if want := (0x7f800000 - 1 + rsqrtStride() - 1) / rsqrtStride(); st.checked != want {
		t.Errorf("checked %d inputs, want %d", st.checked, want)
	}

	// The exact decision at the bound itself, which the model's results never
	// come near enough to need: for x = 1, y = 1 ± 2⁻¹⁴ is out (the bound is
	// strict), the float32 next to it towards 1 in.
	for _, c := range []struct {
		y  float64
		in bool
	}{{1 - 0x1p-14, false}, {1 - 0x1p-14 + 0x1p-24, true}, {1 + 0x1p-14, false}, {1 + 0x1p-14 - 0x1p-23, true}} {
		if got := rsqrt14Exact(1, c.y); got != c.in {
			t.Errorf("rsqrt14Exact(1, %v) = %v, want %v", c.y, got, c.in)
		}
	}
	// y = 2⁻⁵⁰ and x = 2¹⁰⁰·(1 + 2⁻¹³): √(1 + 2⁻¹³) = 1 + 2⁻¹⁴ − 2⁻²⁹ + …, in;
	// x one ulp larger, 2¹⁰⁰·(1 + 2⁻¹³ + 2⁻²³): 1 + 2⁻¹⁴ + 2⁻²⁴ − 2⁻²⁹ + …, out.
	if !rsqrt14Exact(0x1p100*(1+0x1p-13), 0x1p-50) || rsqrt14Exact(0x1p100*(1+0x1p-13+0x1p-23), 0x1p-50) {
		t.Errorf("rsqrt14Exact misjudges 2⁻⁵⁰ for 2¹⁰⁰·(1 + 2⁻¹³) (in) or 2¹⁰⁰·(1 + 2⁻¹³ + 2⁻²³) (out)")
	}

	// The check can fail: c of [1, 2)'s first segment 64·2⁻¹⁹ too high puts
	// 1/√x near 1 about 2·2⁻¹⁴ off (c is about 2¹⁹, so 2⁻¹⁴ of it is 32).
	broken := rsqrt14Coeff
	broken[1] += 64
	bad := func(a uint64) uint64 { return rsqrt14Table(&broken, a) }
	bst := checkRsqrt14Bound(bad, 4099) // the sample is enough, even under -exhaustive
	logRsqrt14Bound(t, "broken model (RSQRT14_Coeff[1] + 64)", bst, bad)
	if bst.violations == 0 {
		t.Errorf("the bound test passed a model with a broken coefficient")
	}
	t.Logf("took %v", time.Since(start).Round(time.Millisecond))
}

// rsqrt14Specials are the inputs outside the positive finite non-zero floats,
// and some at their edges.
var rsqrt14Specials = []uint32{
	0x00000000, 0x80000000, // ±0
	0x7f800000, 0xff800000, // ±∞
	0x7fc00000, 0xffc00000, 0x7fffffff, 0xffffffff, 0x7fc12345, // quiet NaNs
	0x7f800001, 0xff800001, 0x7fbfffff, 0x7f812345, 0xffa00000, // signaling NaNs
	0x80000001, 0x807fffff, 0x80800000, 0xbf800000, 0xc0000000, 0xff7fffff, // negative
	0x00000001, 0x00000002, 0x007fffff, 0x00800000, 0x3f800000, 0x40000000, 0x7f7fffff, // positive edges
}

// TestRsqrt14IntelModelSpecials: the special cases as Intel documents them, and
// the exact results of even powers of two.
func TestRsqrt14IntelModelSpecials(t *testing.T) {
	want := map[uint32]uint32{
		0x00000000: 0x7f800000, 0x80000000: 0xff800000,
		0x7f800000: 0x00000000, 0xff800000: 0xffc00000,
		0x80000001: 0xffc00000, 0x807fffff: 0xffc00000, 0xbf800000: 0xffc00000, 0xff7fffff: 0xffc00000,
		0x7fc00000: 0x7fc00000, 0xffc00000: 0xffc00000, 0x7fffffff: 0x7fffffff,
		0x7f800001: 0x7fc00001, 0xff800001: 0xffc00001, 0x7fbfffff: 0x7fffffff, 0xffa00000: 0xffe00000,
	}
	for in, w := range want {
		if got := uint32(rsqrt14Intel(uint64(in))); got != w {
			t.Errorf("rsqrt14Intel(%#08x) = %#08x, want %#08x", in, got, w)
		}
	}
	// 4ⁿ for n from −74 (2⁻¹⁴⁸, a denormal) to 63: exactly 2⁻ⁿ.
	for n := -74; n <= 63; n++ {
		x := float32(math.Ldexp(1, 2*n))
		if got, w := math.Float32frombits(uint32(rsqrt14Intel(uint64(math.Float32bits(x))))), float32(math.Ldexp(1, -n)); got != w {
			t.Errorf("rsqrt14Intel(4^%d) = %g, want %g", n, got, w)
		}
	}
}

// TestRsqrt14CPUMatchesIntelModel compares this CPU's VRSQRT14PS (through
// RsqrtMul32AVX512 with g = 1, whose product is then exact, NaNs passing
// through) with the model on every rsqrtStride()-th positive finite non-zero
// float32 and the specials. A mismatch is reported, not failed: other vendors'
// VRSQRT14PS (AMD Zen 4 and 5) may use other tables within the same bound.
func TestRsqrt14CPUMatchesIntelModel(t *testing.T) {
	if !cpuid.CPU.Supports(cpuid.AVX512F) {
		t.Skip("no AVX-512 on this CPU")
	}
	t.Logf("CPU: %s (%s, family %d model %d)", cpuid.CPU.BrandName, cpuid.CPU.VendorID, cpuid.CPU.Family, cpuid.CPU.Model)
	start := time.Now()
	const batch = 1 << 16
	s, y, g := make([]float32, batch), make([]float32, batch), make([]float32, batch)
	for i := range g {
		g[i] = 1
	}
	var compared, mismatches uint64
	var shown []string
	compare := func(n int) {
		RsqrtMul32AVX512(y[:n], s[:n], g[:n])
		for i, si := range s[:n] {
			in := math.Float32bits(si)
			cpu, model := math.Float32bits(y[i]), uint32(rsqrt14Intel(uint64(in)))
			compared++
			if cpu != model {
				mismatches++
				if len(shown) < 10 {
					shown = append(shown, fmt.Sprintf("x = %g (%#08x): CPU %#08x (%g), model %#08x (%g)",
						si, in, cpu, y[i], model, math.Float32frombits(model)))
				}
			}
		}
	}
	stride := rsqrtStride()
	for lo := uint64(1); lo < 0x7f800000; lo += batch * stride {
		n := 0
		for b := lo; b < 0x7f800000 && n < batch; b += stride {
			s[n] = math.Float32frombits(uint32(b))
			n++
		}
		compare(n)
	}
	positives, positiveMismatches := compared, mismatches
	for i, b := range rsqrt14Specials {
		s[i] = math.Float32frombits(b)
	}
	compare(len(rsqrt14Specials))
	elapsed := time.Since(start).Round(time.Millisecond)

	for _, m := range shown {
		t.Log("  mismatch: " + m)
	}
	which := "all"
	if stride != 1 {
		which = fmt.Sprintf("every %d-th", stride)
	}
	t.Logf("positive finite non-zero floats: %d compared (%s of 2,139,095,039), %d mismatches", positives, which, positiveMismatches)
	t.Logf("specials: %d compared, %d mismatches", compared-positives, mismatches-positiveMismatches)
	if mismatches == 0 {
		t.Logf("MATCH: this CPU's VRSQRT14PS is bit for bit Intel's reference RSQRT14S on all %d inputs (%v)", compared, elapsed)
	} else {
		t.Logf("MISMATCH: this CPU's VRSQRT14PS differs from Intel's reference RSQRT14S on %d of %d inputs (%v)", mismatches, compared, elapsed)
	}
}
