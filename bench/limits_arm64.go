//go:build gc && !purego

package main

import (
	"github.com/klauspost/cpuid/v2"

	"github.com/adagrad-go/adagrad/kernel/asm"
)

// ceilingKernels are the NEON traffic and compute-ceiling kernels where the CPU
// has NEON.
func ceilingKernels() ceilings {
	if cpuid.CPU.Supports(cpuid.ASIMD) {
		return ceilings{
			traffic:    ceilingKernel{"Traffic32NEON", asm.Traffic32NEON},
			sqrtDiv:    ceilingKernel{"SqrtDiv32NEON", asm.SqrtDiv32NEON},
			sqrtDivFMA: ceilingKernel{name: "no FMA sequences on the neon path yet"},
			rsqrtMul:   ceilingKernel{"RsqrtMul32NEON", asm.RsqrtMul32NEON},
		}
	}
	return goCeilings()
}
