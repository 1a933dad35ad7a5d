//go:build !purego

package kernel

import (
	"github.com/klauspost/cpuid/v2"

	"github.com/adagrad-go/adagrad/kernel/asm"
)

// archImpls on arm64: NEON (Advanced SIMD), which every arm64 CPU Go runs on has;
// cpuid still checks it, as the dispatch does for every path.
var archImpls = raceAnnotated([]*impl{
	{
		name:     "neon",
		requires: []cpuid.FeatureID{cpuid.ASIMD},
		apply32:  &asm.Apply32NEON,
		apply64:  &asm.Apply64NEON,
		fast32:   asm.UpdateFast32NEON,
		rows: rowKernels{
			kernel32: func(f Form) func(x, s, g []float32, lr, eps, wd, decay, gain float32) { return asm.Apply32NEON[f.ID()] },
			kernel64: func(f Form) func(x, s, g []float64, lr, eps, wd, decay, gain float64) { return asm.Apply64NEON[f.ID()] },
			add32:    asm.Add32NEON,
			add64:    asm.Add64NEON,
			rowWise32: func(f Form) (func(x, g []float32, wd float32) float32, func(x, g []float32, lr, k, wd float32)) {
				return asm.SumSquares32NEONByForm[f.ID()], asm.RowStep32NEONByForm[f.ID()]
			},
			rowWise64: func(f Form) (func(x, g []float64, wd float64) float64, func(x, g []float64, lr, k, wd float64)) {
				return asm.SumSquares64NEONByForm[f.ID()], asm.RowStep64NEONByForm[f.ID()]
			},
		},
	},
})

// prefetch hints that the n bytes at p are about to be read.
func prefetch(p, n uintptr) { asm.Prefetch(p, n) }
