package main

import (
	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

// The fast approximate mode: Update's step with the exact square root and
// division replaced by the hardware's reciprocal-square-root estimate, refined by
// one Newton–Raphson step with fused multiply-adds. The accumulator is computed
// exactly as in Update (s + g·g, each rounded), so fast and exact mode keep the
// same s; only x differs, by the bound internal/fastbound derives from this exact
// sequence of operations: change the sequence and the derivation must follow.
//
// AVX2 starts from VRSQRTPS's 12 bits, AVX-512 from VRSQRT14PS's 14; one step
// serves both. The x86 interpreter (internal/x86emu) runs both kernels with estimates at the
// ends of each documented bound, which no one CPU's table reaches.

var halves, infs Mem

// declareHalf emits the constants 0.5 and +Inf (float32) of rsqrtNR.
func declareHalf() {
	halves = GLOBL("halves", RODATA|NOPTR)
	DATA(0, F32(0.5))
	infs = GLOBL("infs", RODATA|NOPTR)
	DATA(0, U32(0x7f800000))
}

// rsqrtNR returns y ≈ 1/√v: the estimate y0 = VRSQRTPS(v), then
//
//	t = v·y0;  e = 1 − t·y0 (fused);  y = y0 + (0.5·y0)·e (fused)
//
// and y0 itself where t is not finite: v = ±0 and denormal v (which VRSQRTPS
// reads as zero) give y0 = ±Inf, v = +Inf gives 0. The estimate is exact, or
// flushed, there, and the step would turn it into NaN.
//
// On AVX-512 the estimate is VRSQRT14PS, the mask a K register and the choice a
// merging move; VRSQRT14PS reads denormals as the numbers they are.
func rsqrtNR(o operands, v VecVirtual) VecVirtual {
	if o.v.name == "AVX512" {
		y0, t, h, k := o.vec(), o.vec(), o.vec(), K()
		VRSQRT14PS(v, y0)
		VMULPS(y0, v, t)
		VCMPPS(U8(0x15), o.c["inf"], t, k)
		VFNMADD213PS(o.c["one"], y0, t)
		VMULPS(o.c["half"], y0, h)
		VFMADD213PS(y0, t, h)
		VMOVAPS(y0, k, h) // h = k ? y0 : h
		return h
	}
	y0, t, m, h, y := o.vec(), o.vec(), o.vec(), o.vec(), o.vec()
	VRSQRTPS(v, y0)
	VMULPS(y0, v, t)                   // t = v·y0
	VCMPPS(U8(0x15), o.c["inf"], t, m) // m = !(t < +Inf): NaN or +Inf (NLT_UQ)
	VFNMADD213PS(o.c["one"], y0, t)    // t = 1 − y0·t
	VMULPS(o.c["half"], y0, h)         // h = 0.5·y0
	VFMADD213PS(y0, t, h)              // h = t·h + y0
	VBLENDVPS(m, y0, h, y)             // y = m ? y0 : h
	return y
}

// updateFast is kernel.UpdateFast: s = s + g·g as Update; x = x − (lr·y)·g fused,
// with y = rsqrtNR(s + eps).
func updateFast(v isa) kernel {
	name := "UpdateFast32" + v.name
	return kernel{
		name:   name,
		unroll: v.unroll(3),
		params: []string{"lr", "eps"},
		uses:   []string{"lr", "eps", "one", "half", "inf"},
		inRegs: []string{"lr", "eps", "one", "half"}, // 4 vectors × 2 live + 3 temporaries leave room
		doc: []string{
			name + " is the fast approximate update of kernel.UpdateFast: for i < len(x),",
			"",
			"	s[i] = s[i] + g[i]·g[i]          (each operation rounded, as ref.Update)",
			"	y    = rsqrtNR(s[i] + eps)        (" + v.rsqrt() + ", one fused Newton–Raphson step)",
			"	x[i] = x[i] − (lr·y)·g[i]         (the product with g fused with the subtraction)",
			"",
			"The caller guarantees len(s) and len(g) are at least len(x) and that the",
			"slices do not overlap.",
		},
		stages: func(o operands) []func() {
			var g, vv, y VecVirtual
			return []func(){
				func() {
					g, vv = o.vec(), o.vec()
					t := o.vec()
					o.io.load(o.g, g)
					o.io.load(o.s, vv)
					VMULPS(g, g, t)
					VADDPS(t, vv, vv) // s + g·g
					o.io.store(vv, o.s)
					VADDPS(o.c["eps"], vv, vv) // s + eps
				},
				func() { y = rsqrtNR(o, vv) },
				func() {
					x := o.vec()
					VMULPS(o.c["lr"], y, y) // lr·y
					o.io.load(o.x, x)
					VFNMADD231PS(y, g, x) // x − g·(lr·y)
					o.io.store(x, o.x)
				},
			}
		},
	}
}

// rsqrtFast is rsqrtNR alone, over a slice, so that tests can hold it against
// 1/√v for every float32.
func rsqrtFast(v isa) kernel {
	name := "rsqrtFast32" + v.name
	return kernel{
		name:   name,
		unroll: v.unroll(2),
		slices: []string{"x", "s"},
		args:   []string{"y", "v"},
		uses:   []string{"one", "half", "inf"},
		inRegs: []string{"one", "half", "inf"},
		doc: []string{
			name + " sets y[i] to the reciprocal square root of v[i] that",
			"UpdateFast32" + v.name + " computes (" + v.rsqrt() + " and one fused Newton–Raphson step),",
			"for i < len(y). The caller guarantees len(v) ≥ len(y).",
		},
		stages: func(o operands) []func() {
			return []func(){func() {
				vv := o.vec()
				o.io.load(o.s, vv)
				o.io.store(rsqrtNR(o, vv), o.x)
			}}
		},
	}
}

// rsqrt names v's reciprocal-square-root estimate.
func (v isa) rsqrt() string {
	if v.name == "AVX512" {
		return "VRSQRT14PS"
	}
	return "VRSQRTPS"
}

// fastKernels emits the fast mode's kernels for v.
func fastKernels(v isa) {
	declareData()
	declareHalf()
	generate(updateFast(v), f32, v)
	generate(rsqrtFast(v), f32, v)
}
