//go:build gc && !purego

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
		code:     codeNEON,
		rows: rowKernels{
			kernel32: func(f Form) func(x, s, g []float32, lr, eps, wd, decay, gain float32) {
				return asm.Apply32NEONKernel(f.ID())
			},
			kernel64: func(f Form) func(x, s, g []float64, lr, eps, wd, decay, gain float64) {
				return asm.Apply64NEONKernel(f.ID())
			},
			add32: asm.Add32NEON,
			add64: asm.Add64NEON,
			rowWise32: func(f Form) (func(x, g []float32, wd float32) float32, func(x, g []float32, lr, k, wd float32)) {
				return asm.SumSquares32NEONByFormKernel(f.ID()), asm.RowStep32NEONByFormKernel(f.ID())
			},
			rowWise64: func(f Form) (func(x, g []float64, wd float64) float64, func(x, g []float64, lr, k, wd float64)) {
				return asm.SumSquares64NEONByFormKernel(f.ID()), asm.RowStep64NEONByFormKernel(f.ID())
			},
		},
	},
})

func archApply32(_ isaCode, id int, x, s, g []float32, lr, eps, wd, decay, gain float32) {
	asm.Apply32NEON(id, x, s, g, lr, eps, wd, decay, gain)
}

func archApply64(_ isaCode, id int, x, s, g []float64, lr, eps, wd, decay, gain float64) {
	asm.Apply64NEON(id, x, s, g, lr, eps, wd, decay, gain)
}

func archFast32(_ isaCode, x, s, g []float32, lr, eps float32) {
	asm.UpdateFast32NEON(x, s, g, lr, eps)
}

// prefetch hints that the n bytes at p are about to be read.
func prefetch(p, n uintptr) { asm.Prefetch(p, n) }
