//go:build gc && !purego && (amd64 || arm64)

package asm

// A bit-exact model of the fast mode's NEON reciprocal square root
// (internal/gen/neon.go, neonRsqrtNR): FRSQRTE, then twice
//
//	t = FMUL(y, y);  t = FRSQRTS(v, t);  y = FMUL(y, t)
//
// in float32 with FPCR.AH = 0, DN = 0, FZ = 0 and round-to-nearest-even, which
// is how Go runs arm64 code. FRSQRTE is not an approximation that each core may
// choose: the Arm Architecture Reference Manual (DDI 0487, shared pseudocode
// FPRSqrtEstimate and RecipSqrtEstimate, §J1.3.3.243–244 in the edition read;
// FRSQRTS is FPRSqrtStepFused, §J1.1.3.49, and FMUL is FPMul) defines its result
// bit for bit. Without FEAT_RPRES, or with it but FPCR.AH = 0, the estimate has 8
// fraction bits. The pseudocode was read in the Markdown conversion of the Arm
// ARM at github.com/wuyongzheng/arm-md-specs (arm/arm-J1.3.md, arm/arm-J1.1.md at
// a5969bf) and cross-checked against QEMU's implementation (qemu/qemu,
// target/arm/vfp_helper.c: do_recip_sqrt_estimate, recip_sqrt_estimate and
// HELPER(rsqrte_f32)). The Go below is our own transcription.
//
// So an exhaustive run of this model on any machine is the architecture's
// answer for every Arm core; TestNEONModelHardware (frsqrte_model_arm64_test.go)
// holds the generated kernels to it bit for bit.

import (
	"math"
	"math/big"
	"math/rand/v2"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/adagrad-go/adagrad/internal/fastbound"
)

// armRsqrteTable[a-128] is RecipSqrtEstimate(a) for the 9-bit fixed-point
// input a/512 in [0.25, 1), 128 ≤ a < 512: r/256 in [1, 2), 256 ≤ r < 512.
var armRsqrteTable = func() (tab [384]uint16) {
	for a := 128; a < 512; a++ {
		tab[a-128] = uint16(armRecipSqrtEstimate(a))
	}
	return tab
}()

// armRecipSqrtEstimate is the pseudocode's RecipSqrtEstimate(a, FALSE).
func armRecipSqrtEstimate(a int) int {
	if a < 128 || a >= 512 {
		panic("RecipSqrtEstimate: input out of range")
	}
	if a < 256 {
		// [0.25, 0.5): a/512 to the odd 10-bit value (2a+1)/1024, the
		// midpoint of its step of 1/512.
		a = 2*a + 1
	} else {
		// [0.5, 1): only the top 8 bits count (steps of 1/256); the
		// midpoint of the step in units of 1/1024.
		a = (a&^1 + 1) * 2
	}
	// In units of 1/512, b just below 1/√(a/1024) = 2¹⁴/(512·√a): the largest b
	// with a·b² < 2²⁸, counting up from b = 512 (1/√x > 1 here). Then to units
	// of 1/256, (b+1) DIV 2: the pseudocode's "round to nearest".
	b := 512
	for a*(b+1)*(b+1) < 1<<28 {
		b++
	}
	r := (b + 1) / 2
	if r < 256 || r >= 512 {
		panic("RecipSqrtEstimate: result out of range")
	}
	return r
}

const (
	armDefaultNaN = 0x7fc00000 // FPDefaultNaN: positive, quiet, zero payload
	armQuietBit   = 0x00400000
)

// armIsNaN reports whether the float32 bits a are a NaN, and whether it is
// signaling.
func armIsNaN(a uint32) (nan, signaling bool) {
	nan = a&0x7f800000 == 0x7f800000 && a&0x007fffff != 0
	return nan, nan && a&armQuietBit == 0
}

// frsqrte32 is FPRSqrtEstimate(operand, FPCR) for N = 32 with FPCR.AH = 0,
// DN = 0 and FZ = 0: FRSQRTE Sd, Sn and each lane of FRSQRTE Vd.4S, Vn.4S.
func frsqrte32(a uint32) uint32 {
	sign := a >> 31
	exp := int(a >> 23 & 0xff)
	switch nan, _ := armIsNaN(a); {
	case nan: // FPProcessNaN with DN = 0: the operand, quieted
		return a | armQuietBit
	case a&0x7fffffff == 0: // ±0 → ±∞ (DivideByZero)
		return sign<<31 | 0x7f800000
	case sign != 0: // negative non-zero → default NaN (InvalidOp)
		return armDefaultNaN
	case exp == 0xff: // +∞ → +0
		return 0
	}
	// The operand as a double-precision fraction (52 bits) and exponent; a
	// denormal is normalized, its exponent going to 0, −1, −2, … (FZ = 0).
	fraction := uint64(a&0x7fffff) << 29
	if exp == 0 {
		for fraction>>51&1 == 0 {
			fraction <<= 1
			exp--
		}
		fraction = fraction << 1 & (1<<52 - 1) // drop the leading one
	}
	// Scale to [0.25, 1) in steps of 1/512 keeping the exponent's parity:
	// even exponent: '1':fraction<51:44>, in [0.5, 1); odd: '01':fraction<51:45>.
	var scaled int
	if exp&1 == 0 {
		scaled = 256 | int(fraction>>44)
	} else {
		scaled = 128 | int(fraction>>45)
	}
	resultExp := (380 - exp) / 2 // 380 − exp > 0, so Go's / is the pseudocode's DIV
	estimate := uint32(armRsqrteTable[scaled-128])
	return uint32(resultExp)&0xff<<23 | estimate&0xff<<15
}

// armProcessNaNs is FPProcessNaNs for two float32 operands with DN = 0: a
// signaling NaN first (op1 before op2), quieted, else a quiet NaN (op1 first).
func armProcessNaNs(op1, op2 uint32) (result uint32, done bool) {
	nan1, snan1 := armIsNaN(op1)
	nan2, snan2 := armIsNaN(op2)
	switch {
	case snan1:
		return op1 | armQuietBit, true
	case snan2:
		return op2 | armQuietBit, true
	case nan1:
		return op1, true
	case nan2:
		return op2, true
	}
	return 0, false
}

// armFMul32 is FPMul for float32, round to nearest even, FZ = 0, DN = 0.
func armFMul32(op1, op2 float32) float32 {
	b1, b2 := math.Float32bits(op1), math.Float32bits(op2)
	if r, done := armProcessNaNs(b1, b2); done {
		return math.Float32frombits(r)
	}
	inf1, inf2 := math.IsInf(float64(op1), 0), math.IsInf(float64(op2), 0)
	if inf1 && op2 == 0 || inf2 && op1 == 0 {
		return math.Float32frombits(armDefaultNaN)
	}
	// Otherwise IEEE multiplication: Go's float32 product is one correctly
	// rounded float32 multiply (MULSS, FMUL), with signed zeros, infinities and
	// gradual underflow; the conversion keeps it from being fused with anything.
	return float32(op1 * op2)
}

// armFRSQRTS32 is FPRSqrtStepFused(op1, op2) for float32: (3 − op1·op2)/2 with a
// single rounding (round to nearest even, FZ = 0, DN = 0), 1.5 for 0·∞. Like
// the pseudocode, it negates op1 first, which the sign of a NaN result shows.
func armFRSQRTS32(op1, op2 float32) float32 {
	n1 := math.Float32bits(op1) ^ 1<<31 // FPNeg (AH = 0: NaNs too)
	b2 := math.Float32bits(op2)
	if r, done := armProcessNaNs(n1, b2); done {
		return math.Float32frombits(r)
	}
	neg1 := math.Float32frombits(n1)
	inf1, inf2 := math.IsInf(float64(neg1), 0), math.IsInf(float64(op2), 0)
	switch {
	case inf1 && op2 == 0 || inf2 && neg1 == 0:
		return 1.5
	case inf1 || inf2:
		if (n1^b2)>>31 != 0 {
			return float32(math.Inf(-1))
		}
		return float32(math.Inf(1))
	}
	// Both finite. The product of two float32 is exact in float64 (24 + 24
	// significant bits; exponents −298 … 256). The sum 3 + p may need more
	// than 53 bits (p tiny, or huge and with low bits); TwoSum gives its
	// rounding s and the exact error e, s + e = 3 + p. With e = 0, s/2 is the
	// exact value (halving a float64 of magnitude ≥ 2⁻²⁹⁸ is exact) and the
	// conversion its one rounding. Otherwise round exactly with math/big.
	p := float64(float64(neg1) * float64(op2))
	s := 3 + p
	bb := s - 3
	e := (3 - (s - bb)) + (p - bb)
	if e == 0 {
		if s == 0 {
			return 0 // exact zero: +0 in round to nearest
		}
		return float32(s / 2)
	}
	x := new(big.Float).SetPrec(1200).SetFloat64(p) // 3 + p spans < 600 bits
	x.Add(x, big.NewFloat(3))
	x.SetMantExp(x, -1)
	f, _ := x.Float32() // nearest, ties to even
	return f
}

// rsqrtNEONModel is neonRsqrtNR (FRSQRTE and two FRSQRTS steps) of one float32.
func rsqrtNEONModel(v float32) float32 {
	y := math.Float32frombits(frsqrte32(math.Float32bits(v)))
	for range 2 {
		t := armFMul32(y, y)
		t = armFRSQRTS32(v, t)
		y = armFMul32(y, t)
	}
	return y
}

// neonModelStats is what TestNEONRsqrtModel found over a range of inputs.
type neonModelStats struct {
	normals, denormals, denormalInf int
	worstULP, worstRel              float64 // rel in units of 2⁻²⁴
	worstULPAt, worstRelAt          uint32
	bad                             uint32 // a special input with a wrong result
	badY                            float32
	badSet                          bool
}

func (st *neonModelStats) merge(o neonModelStats) {
	st.normals += o.normals
	st.denormals += o.denormals
	st.denormalInf += o.denormalInf
	if o.worstULP > st.worstULP || o.worstULP == st.worstULP && o.worstULPAt < st.worstULPAt {
		st.worstULP, st.worstULPAt = o.worstULP, o.worstULPAt
	}
	if o.worstRel > st.worstRel || o.worstRel == st.worstRel && o.worstRelAt < st.worstRelAt {
		st.worstRel, st.worstRelAt = o.worstRel, o.worstRelAt
	}
	if o.badSet && (!st.badSet || o.bad < st.bad) {
		st.bad, st.badY, st.badSet = o.bad, o.badY, true
	}
}

// neonModelRange runs rsqrtNEONModel on the bit patterns b = lo, lo+stride, …
// below hi.
func neonModelRange(lo, hi, stride uint64) neonModelStats {
	var st neonModelStats
	fail := func(b uint32, y float32) {
		if !st.badSet {
			st.bad, st.badY, st.badSet = b, y, true
		}
	}
	for b64 := lo; b64 < hi; b64 += stride {
		b := uint32(b64)
		v := math.Float32frombits(b)
		y := rsqrtNEONModel(v)
		yb := math.Float32bits(y)
		switch nan, _ := armIsNaN(b); {
		case nan: // the input, quieted
			if yb != b|armQuietBit {
				fail(b, y)
			}
		case b == 0 || b == 0x80000000: // ±0 → ±∞
			if yb != b|0x7f800000 {
				fail(b, y)
			}
		case b>>31 != 0: // negative → default NaN
			if yb != armDefaultNaN {
				fail(b, y)
			}
		case b == 0x7f800000: // +∞ → +0
			if yb != 0 {
				fail(b, y)
			}
		case b < 0x00800000: // positive denormal
			st.denormals++
			if math.IsInf(float64(y), 1) {
				st.denormalInf++
			}
		default:
			st.normals++
			if u := fastbound.RootError(y, v); u > st.worstULP {
				st.worstULP, st.worstULPAt = u, b
			}
			// y·√v − 1 with one rounding after the product; √v is correctly
			// rounded (relative error ≤ 2⁻⁵³), so this is |y/r − 1| within
			// about 2⁻⁵² absolute, 2⁻²⁸ in the units of 2⁻²⁴ reported.
			rel := math.Abs(math.FMA(float64(y), math.Sqrt(float64(v)), -1)) * 0x1p24
			if rel > st.worstRel {
				st.worstRel, st.worstRelAt = rel, b
			}
		}
	}
	return st
}

// TestNEONRsqrtModel runs the model of the NEON fast root on every
// rsqrtStride()-th float32 (all 2³² under -exhaustive), checks
// its special values and holds its positive normals to maxRsqrtULP("NEON"). It
// runs natively: the figures are the architecture's, not an emulator's.
func TestNEONRsqrtModel(t *testing.T) {
	// FRSQRTE's table against the older manuals' floating-point statement of
	// the same function (the "reference C function" of earlier Arm ARMs, as V8's
	// arm64 simulator carries it, Simulator::recip_sqrt_estimate): the step's
	// midpoint, q + ½ steps of 1/512 below 0.5 and of 1/256 above, its 1/√
	// rounded to 1/256, ties up.
	for a := 128; a < 512; a++ {
		mid := (float64(a) + 0.5) / 512
		if a >= 256 {
			mid = (float64(a>>1) + 0.5) / 256
		}
		want := int(256/math.Sqrt(mid) + 0.5)
		if r := int(armRsqrteTable[a-128]); r != want {
			t.Fatalf("RecipSqrtEstimate(%d) = %d, the floating-point statement gives %d", a, r, want)
		}
	}
	for _, c := range []struct{ in, want uint32 }{
		{0x3f800000, 0x3f7f8000}, // 1 → 511/512 (1/√(1 + 1/512), rounded to 8 bits)
		{0x40800000, 0x3eff8000}, // 4 → half of that
		{0x3e800000, 0x3fff8000}, // 1/4 → twice that
		{0x00000001, 0x64b48000}, // 2⁻¹⁴⁹ (normalized: exponent −22, even) → 361/256·2⁷⁴
		{0x00000000, 0x7f800000}, {0x80000000, 0xff800000},
		{0x7f800000, 0x00000000}, {0xff800000, armDefaultNaN},
		{0xbf800000, armDefaultNaN}, {0x80000001, armDefaultNaN},
		{0x7f800001, 0x7fc00001}, {0xffc00123, 0xffc00123},
	} {
		if got := frsqrte32(c.in); got != c.want {
			t.Errorf("frsqrte32(%#08x) = %#08x, want %#08x", c.in, got, c.want)
		}
	}

	// FRSQRTS's one rounding against math/big alone, on the operands of the
	// first Newton step (v, y0²) of random positive normals and on random
	// finite pairs.
	rng := rand.New(rand.NewPCG(3, 4))
	for i := range 1 << 16 {
		var v, t2 float32
		if i%2 == 0 {
			v = math.Float32frombits(0x00800000 + rng.Uint32N(0x7f000000))
			y := math.Float32frombits(frsqrte32(math.Float32bits(v)))
			t2 = armFMul32(y, y)
		} else {
			v, t2 = math.Float32frombits(rng.Uint32()), math.Float32frombits(rng.Uint32())
		}
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) || math.IsNaN(float64(t2)) || math.IsInf(float64(t2), 0) {
			continue
		}
		x := new(big.Float).SetPrec(1200).SetFloat64(float64(v))
		x.Mul(x, new(big.Float).SetFloat64(float64(t2)))
		x.Sub(big.NewFloat(3), x)
		want, _ := x.SetMantExp(x, -1).Float32() // +0 for an exact zero, like RNE
		if got := armFRSQRTS32(v, t2); math.Float32bits(got) != math.Float32bits(want) {
			t.Fatalf("armFRSQRTS32(%v, %v) = %v, math/big gives %v", v, t2, got, want)
		}
	}

	stride := rsqrtStride()
	start := time.Now()
	workers := runtime.GOMAXPROCS(0)
	const chunk = 1 << 24 // bit patterns per unit of work
	var (
		mu   sync.Mutex
		st   neonModelStats
		next uint64
		wg   sync.WaitGroup
	)
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				mu.Lock()
				lo := next
				next += chunk
				mu.Unlock()
				if lo >= 1<<32 {
					return
				}
				// The first multiple of stride at or above lo.
				first := (lo + stride - 1) / stride * stride
				r := neonModelRange(first, min(lo+chunk, 1<<32), stride)
				mu.Lock()
				st.merge(r)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if st.badSet {
		t.Fatalf("rsqrtNEONModel(%#08x) = %v (%#08x): wrong special value", st.bad, st.badY, math.Float32bits(st.badY))
	}
	at := func(b uint32) float32 { return math.Float32frombits(b) }
	t.Logf("NEON model, stride %d, %d workers, %v: %d positive normals, worst %.4f ulp at %v (%#08x), worst relative error %.4f·2⁻²⁴ at %v (%#08x); %d denormals, %d give +Inf",
		stride, workers, time.Since(start).Round(time.Millisecond), st.normals,
		st.worstULP, at(st.worstULPAt), st.worstULPAt, st.worstRel, at(st.worstRelAt), st.worstRelAt,
		st.denormals, st.denormalInf)
	if st.worstULP > maxRsqrtULP("NEON") {
		t.Errorf("NEON model: %.4f ulp at %v (%#08x), above the bound %v", st.worstULP, at(st.worstULPAt), st.worstULPAt, maxRsqrtULP("NEON"))
	}
}
