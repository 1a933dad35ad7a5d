//go:build gc && !purego

package main

import (
	"github.com/klauspost/cpuid/v2"

	"github.com/adagrad-go/adagrad/kernel/asm"
)

// ceilingKernels are the widest traffic and compute-ceiling kernels this CPU runs.
func ceilingKernels() (traffic, sqrtDiv, rsqrtMul ceilingKernel) {
	switch {
	case cpuid.CPU.Supports(cpuid.AVX, cpuid.AVX512F):
		return ceilingKernel{"Traffic32AVX512", asm.Traffic32AVX512},
			ceilingKernel{"SqrtDiv32AVX512", asm.SqrtDiv32AVX512},
			ceilingKernel{"RsqrtMul32AVX512", asm.RsqrtMul32AVX512}
	case cpuid.CPU.Supports(cpuid.AVX, cpuid.AVX2):
		return ceilingKernel{"Traffic32AVX2", asm.Traffic32AVX2},
			ceilingKernel{"SqrtDiv32AVX2", asm.SqrtDiv32AVX2},
			ceilingKernel{"RsqrtMul32AVX2", asm.RsqrtMul32AVX2}
	}
	return goCeilings()
}
