//go:build gc && !purego

package main

import (
	"github.com/klauspost/cpuid/v2"

	"github.com/adagrad-go/adagrad/kernel/asm"
)

// ceilingKernels are the widest traffic and compute-ceiling kernels this CPU runs.
func ceilingKernels() ceilings {
	switch {
	case cpuid.CPU.Supports(cpuid.AVX, cpuid.AVX512F):
		return ceilings{
			traffic:    ceilingKernel{"Traffic32AVX512", asm.Traffic32AVX512},
			sqrtDiv:    ceilingKernel{"SqrtDiv32AVX512", asm.SqrtDiv32AVX512},
			sqrtDivFMA: ceilingKernel{"SqrtDivFMA32AVX512", asm.SqrtDivFMA32AVX512},
			rsqrtMul:   ceilingKernel{"RsqrtMul32AVX512", asm.RsqrtMul32AVX512},
		}
	case cpuid.CPU.Supports(cpuid.AVX, cpuid.AVX2):
		return ceilings{
			traffic:    ceilingKernel{"Traffic32AVX2", asm.Traffic32AVX2},
			sqrtDiv:    ceilingKernel{"SqrtDiv32AVX2", asm.SqrtDiv32AVX2},
			sqrtDivFMA: ceilingKernel{"SqrtDivFMA32AVX2", asm.SqrtDivFMA32AVX2},
			rsqrtMul:   ceilingKernel{"RsqrtMul32AVX2", asm.RsqrtMul32AVX2},
		}
	}
	return goCeilings()
}
