package kernel

// UpdateFast is Update with the exact square root and division replaced by the
// hardware's reciprocal-square-root estimate, refined by Newton–Raphson: opt in
// where a few ulps in x are worth the speed. For every i:
//
//	s[i] = s[i] + g[i]*g[i]          exactly as Update: s is bit-identical
//	y    = rsqrt(s[i] + eps)          the estimate, refined
//	x[i] = x[i] - (lr*y)*g[i]         the product with g fused with the subtraction
//
// The refined reciprocal square root is within 2 ulps of 1/√v for every
// positive normal float32 v: `make exhaustive` checks all 2³² inputs and found
// at most 1.742 ulp on AVX2 (VRSQRTPS and one fused step) and 1.968 on NEON
// (FRSQRTE and two FRSQRTS steps). The AVX-512 kernel (VRSQRT14PS and one fused
// step) has run only in kernel/asm's interpreter, which gives it estimates at
// both ends of Intel's documented error, 2⁻¹⁴, and at none: at most 1.041 ulp
// over every exponent. The step −(lr·y)·g is then within 4 ulps of Update's, and
// x within that plus 1 ulp of x (FuzzUpdateFast and TestUpdateFast hold every
// path to it).
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
// and AMD CPUs, so the avx2 results may differ between vendors too.
//
// It panics, before writing anything, as Update does.
func UpdateFast(x, s, g []float32, lr, eps float32) {
	if len(x) != len(s) || len(x) != len(g) || overlaps(addr(x), addr(s), addr(g), uintptr(len(x))*4) {
		badArgs("kernel.UpdateFast", x, s, g)
	}
	active.Load().fast32(x, s, g, lr, eps)
}
