//go:build !purego

package kernel

import (
	"github.com/klauspost/cpuid/v2"

	"github.com/adagrad-go/adagrad/kernel/asm"
	"github.com/adagrad-go/adagrad/ref"
)

// The feature lists cover every extension named on the kernels' "Requires:" lines
// in kernel/asm (a test holds them to it), plus the extension a path is named for.
var archImpls = raceAnnotated([]*impl{
	{
		name:     "avx2",
		requires: []cpuid.FeatureID{cpuid.AVX, cpuid.AVX2, cpuid.FMA3},
		apply32:  &asm.Apply32AVX2,
		apply64:  &asm.Apply64AVX2,
		fast32:   asm.UpdateFast32AVX2,
		rows:     avx2Rows(&asm.Apply32AVX2, &asm.Apply64AVX2),
	},
	{
		name:     "avx512",
		requires: []cpuid.FeatureID{cpuid.AVX, cpuid.AVX512F, cpuid.AVX2, cpuid.FMA3},
		apply32:  &asm.Apply32AVX512,
		apply64:  &asm.Apply64AVX512,
		fast32:   asm.UpdateFast32AVX512,
		// The row kernels beyond Apply exist in AVX2 only (see internal/gen).
		rows: avx2Rows(&asm.Apply32AVX512, &asm.Apply64AVX512),
	},
})

// avx2Rows are the sparse steps' kernels around the dense kernels of apply32 and
// apply64.
func avx2Rows(apply32 *[ref.NumForms]func(x, s, g []float32, lr, eps, wd, decay, gain float32),
	apply64 *[ref.NumForms]func(x, s, g []float64, lr, eps, wd, decay, gain float64)) rowKernels {
	return rowKernels{
		kernel32: func(f Form) func(x, s, g []float32, lr, eps, wd, decay, gain float32) { return apply32[f.ID()] },
		kernel64: func(f Form) func(x, s, g []float64, lr, eps, wd, decay, gain float64) { return apply64[f.ID()] },
		add32:    asm.Add32AVX2,
		add64:    asm.Add64AVX2,
		rowWise32: func(f Form) (func(x, g []float32, wd float32) float32, func(x, g []float32, lr, k, wd float32)) {
			return asm.SumSquares32AVX2ByForm[f.ID()], asm.RowStep32AVX2ByForm[f.ID()]
		},
		rowWise64: func(f Form) (func(x, g []float64, wd float64) float64, func(x, g []float64, lr, k, wd float64)) {
			return asm.SumSquares64AVX2ByForm[f.ID()], asm.RowStep64AVX2ByForm[f.ID()]
		},
	}
}

// prefetch hints that the n bytes at p are about to be read.
func prefetch(p, n uintptr) { asm.Prefetch(p, n) }
