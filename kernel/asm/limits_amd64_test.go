//go:build gc && !purego

package asm

import (
	"testing"

	"github.com/klauspost/cpuid/v2"
)

func TestLimitsAVX2(t *testing.T) {
	if !cpuid.CPU.Supports(cpuid.AVX) {
		t.Skip("no AVX")
	}
	// VRSQRTPS: |relative error| ≤ 1.5·2⁻¹², plus the rounding of the product.
	checkLimitKernels(t, SqrtDiv32AVX2, RsqrtMul32AVX2, 1.5/4096+1.0/(1<<23))
}

func TestLimitsAVX512(t *testing.T) {
	if !cpuid.CPU.Supports(cpuid.AVX512F) {
		t.Skip("no AVX-512 on this CPU")
	}
	// VRSQRT14PS: |relative error| < 2⁻¹⁴, plus the rounding of the product.
	checkLimitKernels(t, SqrtDiv32AVX512, RsqrtMul32AVX512, 1.0/(1<<14)+1.0/(1<<23))
}

// The fast mode's reciprocal square root (see fast_test.go).
func TestRsqrtFastAVX2(t *testing.T) {
	if !cpuid.CPU.Supports(cpuid.AVX, cpuid.AVX2, cpuid.FMA3) {
		t.Skip("no AVX2 and FMA")
	}
	checkRsqrt(t, "AVX2", rsqrtFast32AVX2, rsqrtStride())
}

func TestRsqrtFastAVX512(t *testing.T) {
	if !cpuid.CPU.Supports(cpuid.AVX512F) {
		t.Skip("no AVX-512 on this CPU (the interpreter runs the kernel: TestEmulatedFastAVX512)")
	}
	checkRsqrt(t, "AVX512", rsqrtFast32AVX512, rsqrtStride())
}
