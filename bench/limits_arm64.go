//go:build gc && !purego

package main

import (
	"github.com/klauspost/cpuid/v2"

	"github.com/adagrad-go/adagrad/kernel/asm"
)

// ceilingKernels are the NEON traffic and compute-ceiling kernels where the CPU
// has NEON.
func ceilingKernels() (traffic, sqrtDiv, rsqrtMul ceilingKernel) {
	if cpuid.CPU.Supports(cpuid.ASIMD) {
		return ceilingKernel{"Traffic32NEON", asm.Traffic32NEON},
			ceilingKernel{"SqrtDiv32NEON", asm.SqrtDiv32NEON},
			ceilingKernel{"RsqrtMul32NEON", asm.RsqrtMul32NEON}
	}
	return goCeilings()
}
