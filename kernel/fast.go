package kernel

// UpdateFast is Update with the exact square root and division replaced by the
// hardware's reciprocal-square-root estimate, refined by Newton–Raphson: opt in
// where a few ulps in x are worth the speed. For every i:
//
//	s[i] = s[i] + g[i]*g[i]          exactly as Update: s is bit-identical
//	y    = rsqrt(s[i] + eps)          the estimate, refined
//	x[i] = x[i] - (lr*y)*g[i]         the product with g fused with the subtraction
//
// The bounds follow from what each architecture manual promises of its estimate,
// not from one CPU's table, so they hold on every CPU that honours the manual
// (the derivation is in internal/fastbound; the tests run the kernels with
// estimates at both ends of each specification). For every positive normal
// v = s[i] + eps, y is within
//
//	4.38 ulp of 1/√v on avx2     VRSQRTPS (|relative error| ≤ 1.5·2⁻¹²), one fused step
//	1.09 ulp on avx512           VRSQRT14PS (< 2⁻¹⁴), one fused step
//	1.968 ulp on neon            FRSQRTE, defined bit for bit by Arm, two FRSQRTS steps
//
// (the neon figure is an exhaustive run of Arm's definition; measured: avx2 1.742
// ulp on an AMD Zen 3 and 3.127 on an Intel Xeon Emerald Rapids, avx512 1.040
// there). x then differs from Update's x by at most one ulp of the larger of the
// two plus 8.88 (avx2), 5.59 (avx512) or 7.90 (neon) ulps of Update's step
// |x₀ − x|, wherever lr/√v and the step are normal floats: with a denormal
// quotient or step the exact mode itself is not within a relative bound of the
// true step. The generic path computes Update exactly.
//
// Special values: v = s + eps of ±0 gives y = ±∞ and v = +∞ gives 0, as the
// exact mode does; NaN and negative v give NaN. Denormal v is read as zero by
// VRSQRTPS on the avx2 path (y = +∞, or −∞ for a negative denormal, where the
// exact mode gives a large finite value or NaN); VRSQRT14PS and FRSQRTE read it
// as it is. With eps ≥ 1.2e-38 (any usual epsilon) v is never denormal.
//
// Determinism: each path gives the same result on every run, but the paths
// differ from one another in the last bits, each having its own estimate
// (VRSQRTPS, VRSQRT14PS, FRSQRTE), and the generic path, Go having no such
// estimate, computes the exact Update. VRSQRTPS's table is not the same on Intel
// and AMD CPUs, so the avx2 results may differ between vendors too; the Intel
// Xeon tested computes VRSQRT14PS as Intel's published reference algorithm does,
// bit for bit, and whether AMD's CPUs do is not known.
//
// It panics, before writing anything, as Update does.
func UpdateFast(x, s, g []float32, lr, eps float32) {
	if len(x) != len(s) || len(x) != len(g) || overlaps(addr(x), addr(s), addr(g), uintptr(len(x))*4) {
		badArgs("kernel.UpdateFast", x, s, g)
	}
	fast32(active.Load(), x, s, g, lr, eps)
}
