// Package fastbound derives the error bounds of kernel.UpdateFast from what the
// architecture manuals promise about each reciprocal-square-root estimate, not
// from what one CPU's tables happen to give, and provides the models and the
// metric that the tests of package kernel and kernel/asm hold the fast kernels to.
//
// # The refined root (AVX2 and AVX-512)
//
// The x86 kernels compute, in float32 with round-to-nearest-even and FMA3
// (internal/gen/fast.go, rsqrtNR):
//
//	y0 = estimate(v)           VRSQRTPS or VRSQRT14PS
//	t  = RN(v·y0)
//	e  = RN(1 − t·y0)          fused
//	h  = 0.5·y0                exact
//	y  = RN(y0 + h·e)          fused
//
// Let r = 1/√v and u = 2⁻²⁴, the unit roundoff of float32. The manual bounds the
// estimate's relative error, y0 = r(1+δ) with |δ| ≤ E: E = 1.5·2⁻¹² for VRSQRTPS
// (Intel SDM, RSQRTPS; AMD documents the same bound) and E = 2⁻¹⁴ for VRSQRT14PS
// (Intel SDM, VRSQRT14PS). Each rounding is a factor (1+εᵢ) with |εᵢ| ≤ u. Then
//
//	t·y0 = (1+δ)²(1+ε₁),  e = e*(1+ε₂) with e* = −2δ − δ² − (1+δ)²ε₁,
//	z    = y0(1 + e/2),   y = z(1+ε₃),
//	z/r − 1 = −(3/2)δ² − δ³/2 − (1+δ)³ε₁/2 + (1+δ)e*ε₂/2.
//
// The first two terms are never positive and largest in size at δ = +E, where
// e* < 0, so every term can take its largest size with one sign at once:
//
//	|z/r − 1| ≤ R(E) = (3/2)E² + E³/2 + (1+E)³u/2 + (1+E)(2E + E² + (1+E)²u)u/2.
//
// In ulps of r (ulp = 2^(k−24) for r = m·2^k, m in [½, 1)), |z − r| ≤ R·m·2²⁴,
// which approaches R·2²⁴ where r's significand is near 2 (v in [1, 1.11)·4ⁿ). The
// last rounding adds at most ½ ulp: if z rounds in r's binade, by definition; if
// it rounds below, by ¼; if above (only for z > r, by at most the positive terms,
// under one ulp), z rounds down to the power of two between r and z, which is
// nearer r than z. So
//
//	|y − r| ≤ RootULP(E) = R(E)·2²⁴ + ½ ulp:  4.376 for VRSQRTPS, 1.094 for VRSQRT14PS,
//
// and the relative error of y is at most RootRel(E) = R + u + R·u. This holds for
// every positive normal v (and on AVX-512 for denormal v, which VRSQRT14PS reads
// as it is); 0, ∞ and denormals on AVX2 (which VRSQRTPS reads as 0) take the
// estimate's exact special value.
//
// # The refined root (NEON)
//
// FRSQRTE is not bounded by the manual but defined by it, bit for bit (the Arm
// ARM's FPRSqrtEstimate with FPCR.AH = 0, Go's setting): every Arm core gives the
// same estimate, so an exhaustive run of the refinement (two FRSQRTS steps) over
// every float32 is a fact of the architecture, not of one chip. Its figures are
// NEONRootULP and NEONRootRel.
//
// # The step
//
// Update computes x − RN(RN(lr/d)·g) with d = RN(√v): the exact step T = lr·g/√v
// times (1+η₂)(1+η₃)/(1+η₁). UpdateFast computes RN(x − p·g) with p = RN(lr·y),
// the product p·g unrounded: T times (1+ρ)(1+η₄) with |ρ| ≤ the root's relative
// error. Their quotient lies within
//
//	D(ρ) = (1+ρ)(1+u)²/(1−u)² − 1     (≈ ρ + 4u)
//
// of 1. The two x are RN(x₀ − S) of steps S that differ by at most D·S. If they
// differ by more than one ulp of the larger, a float lies strictly between them,
// so the two unrounded values are at least half an ulp of x apart, and the step
// x₀ − x of Update is within D·S of S. Hence, with X the metric below (|Δx| less
// one ulp of the larger x, in ulps of the step),
//
//	X ≤ StepULP(ρ) = D/(u·(1 − D)):  8.88 on AVX2, 5.59 on AVX-512, 7.90 on NEON,
//
// provided lr/d, the step and lr·y neither underflow nor overflow (each then keeps
// its relative error), which is every use an optimizer makes of it.
package fastbound

import (
	"math"
	"math/big"
)

// U is the unit roundoff of float32, 2⁻²⁴.
const U = 0x1p-24

// The documented relative errors of the x86 estimates.
const (
	// VRSQRTPS is RSQRTPS's |relative error| ≤ 1.5·2⁻¹² (Intel SDM vol. 2).
	VRSQRTPS = 1.5 * 0x1p-12
	// VRSQRT14PS is VRSQRT14PS's |relative error| < 2⁻¹⁴ (Intel SDM vol. 2).
	VRSQRT14PS = 0x1p-14
)

// The NEON root's worst errors over every positive normal float32, rounded up:
// the exhaustive run of the Arm ARM's FRSQRTE and FRSQRTS (kernel/asm's
// TestNEONRsqrtModel with -exhaustive, which qemu's NEON kernel matches bit for
// bit) found 1.9677 ulp and a relative 3.8970·2⁻²⁴, both at 0x7f7b086f.
const (
	NEONRootULP = 1.968
	NEONRootRel = 3.898 * U
)

// R is the bound on the relative error of the refined root before its last
// rounding, for an estimate within a relative E (see the package doc).
func R(E float64) float64 {
	return 1.5*E*E + E*E*E/2 + (1+E)*(1+E)*(1+E)*U/2 + (1+E)*(2*E+E*E+(1+E)*(1+E)*U)*U/2
}

// RootULP is the bound on |y − 1/√v| in ulps of 1/√v of the x86 refinement of an
// estimate within a relative E.
func RootULP(E float64) float64 { return R(E)/U + 0.5 }

// RootRel is the bound on the relative error of the x86 refinement of an estimate
// within a relative E.
func RootRel(E float64) float64 { r := R(E); return r + U + r*U }

// StepULP is the bound on X (see XError) of an update whose root has a relative
// error of at most rho.
func StepULP(rho float64) float64 {
	d := (1+rho)*(1+U)*(1+U)/((1-U)*(1-U)) - 1
	return d / (U * (1 - d))
}

// Bounds are the derived bounds of one path: the root in ulps of 1/√v, and x as
// XError measures it.
type Bounds struct {
	Root, X float64
}

// Path returns the bounds of the fast kernel of the named implementation
// ("avx2" and "avx2div", "avx512" and "avx512div", which share theirs, "neon"); the generic path
// computes Update exactly.
func Path(name string) Bounds {
	switch name {
	case "avx2", "avx2div":
		return Bounds{RootULP(VRSQRTPS), StepULP(RootRel(VRSQRTPS))}
	case "avx512", "avx512div":
		return Bounds{RootULP(VRSQRT14PS), StepULP(RootRel(VRSQRT14PS))}
	case "neon":
		return Bounds{NEONRootULP, StepULP(NEONRootRel)}
	}
	return Bounds{0, 0}
}

// InDomain reports whether an update with rate lr, gradient g and v = s + eps
// (after the accumulation) is one the x bound speaks of: v positive and normal,
// and lr/√v and the step lr·g/√v zero or normal and finite, so that no rounding
// but the ones of the derivation loses precision. Outside it the exact mode
// itself rounds a denormal quotient or step, and neither result is within a
// relative bound of the true step.
func InDomain(lr, g, v float32) bool {
	if !(v >= 0x1p-126) || math.IsInf(float64(v), 1) {
		return false
	}
	q := math.Abs(float64(lr)) / math.Sqrt(float64(v))
	step := q * math.Abs(float64(g))
	normal := func(a float64) bool { return a == 0 || a >= 0x1p-126 && a <= math.MaxFloat32 }
	return normal(q) && normal(step)
}

// ULP is the spacing of float32 above |v| (at a power of two, the larger one), and
// the smallest denormal below the normal range.
func ULP(v float32) float64 {
	a := math.Abs(float64(v))
	if a < math.SmallestNonzeroFloat32 || math.IsInf(a, 0) {
		return math.SmallestNonzeroFloat32
	}
	_, e := math.Frexp(a)
	return math.Max(math.Ldexp(1, e-24), math.SmallestNonzeroFloat32)
}

// RootError is |y − 1/√v| in ulps of the exact 1/√v, for positive v.
func RootError(y, v float32) float64 {
	exact := 1 / math.Sqrt(float64(v))
	_, e := math.Frexp(exact) // exact = m·2^e, m in [½, 1)
	return math.Abs(float64(y)-exact) / math.Ldexp(1, e-24)
}

// XError is how far the fast update's x is from Update's, both from x0: |Δx| less
// one ulp of the larger of the two, in ulps of Update's step |x0 − xExact|; 0 when
// they are equal or adjacent floats, +Inf when they are not but the step is 0.
// Both must be finite.
func XError(x0, xFast, xExact float32) float64 {
	d := math.Abs(float64(xFast)-float64(xExact)) - max(ULP(xFast), ULP(xExact))
	if d <= 0 {
		return 0
	}
	step := math.Abs(float64(x0) - float64(xExact))
	if step == 0 {
		return math.Inf(1)
	}
	return d / ULP(float32(step))
}

// Estimate models a reciprocal-square-root estimate of positive v at a chosen
// place in its specification, |relative error| ≤ E: the float32 nearest to
// (1 + b·E)/√v for b in [−1, 1], moved inside the bound when rounding took it
// out, so that b = ±1 are the floats just inside each end. daz reads a denormal
// v as zero (VRSQRTPS). Zeros, infinities, NaN and negative v take the x86
// special values: ±0 → ±∞, +∞ → +0, NaN → itself made quiet, negative → the
// default NaN.
func Estimate(a uint32, E, b float64, daz bool) uint32 {
	v := math.Float32frombits(a)
	if daz && a&0x7f800000 == 0 {
		v = float32(math.Copysign(0, float64(v)))
	}
	switch {
	case v != v:
		return a | 0x00400000
	case v == 0:
		return math.Float32bits(float32(math.Copysign(math.Inf(1), float64(v))))
	case v < 0:
		return 0xffc00000
	case math.IsInf(float64(v), 1):
		return 0
	}
	y := float32(1 / math.Sqrt(float64(v)) * (1 + b*E))
	for {
		switch Within(y, v, E) {
		case 1:
			y = math.Nextafter32(y, 0)
		case -1:
			y = math.Nextafter32(y, float32(math.Inf(1)))
		default:
			return math.Float32bits(y)
		}
	}
}

// Within reports whether positive y is within a relative E of 1/√v: 0 if it is,
// 1 if y is above (1+E)/√v and −1 if below (1−E)/√v, decided exactly (y²·v
// against (1±E)²).
func Within(y, v float32, E float64) int {
	p := float64(y) * float64(y) * float64(v) // within a relative 2⁻⁵³ of y²·v
	hi, lo := (1+E)*(1+E), (1-E)*(1-E)
	const margin = 0x1p-50
	switch {
	case p > hi*(1+margin):
		return 1
	case p < lo*(1-margin):
		return -1
	case p < hi*(1-margin) && p > lo*(1+margin):
		return 0
	}
	exact := new(big.Float).SetPrec(256).SetFloat64(float64(y))
	exact.Mul(exact, exact).Mul(exact, new(big.Float).SetFloat64(float64(v)))
	one := big.NewFloat(1).SetPrec(256)
	eb := new(big.Float).SetPrec(256).SetFloat64(E)
	up := new(big.Float).SetPrec(256).Add(one, eb)
	down := new(big.Float).SetPrec(256).Sub(one, eb)
	switch {
	case exact.Cmp(up.Mul(up, up)) > 0:
		return 1
	case exact.Cmp(down.Mul(down, down)) < 0:
		return -1
	}
	return 0
}
