//go:build gc && !purego

package kernel

import (
	"github.com/klauspost/cpuid/v2"

	"github.com/adagrad-go/adagrad/kernel/asm"
	"github.com/adagrad-go/adagrad/ref"
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
				return asm.SumSquares32NEONKernel(f.ID()), asm.RowStep32NEONKernel(f.ID())
			},
			rowWise64: func(f Form) (func(x, g []float64, wd float64) float64, func(x, g []float64, lr, k, wd float64)) {
				return asm.SumSquares64NEONKernel(f.ID()), asm.RowStep64NEONKernel(f.ID())
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

// The dense kernels of m's path, each called directly (see impl.code): Update's
// form, any form by ID, and UpdateFast's kernel, which on the generic path, Go
// having no estimate, is Update.

func update32(m *impl, x, s, g []float32, lr, eps float32) {
	if m.code != codeNEON {
		ref.Update(x, s, g, lr, eps)
		return
	}
	raceReadWrite(x, s, g)
	asm.Update32NEON(x, s, g, lr, eps)
}

func update64(m *impl, x, s, g []float64, lr, eps float64) {
	if m.code != codeNEON {
		ref.Update(x, s, g, lr, eps)
		return
	}
	raceReadWrite(x, s, g)
	asm.Update64NEON(x, s, g, lr, eps)
}

func apply32(m *impl, id int, x, s, g []float32, lr, eps, wd, decay, gain float32) {
	if m.code != codeNEON {
		genericApply32(id, x, s, g, lr, eps, wd, decay, gain)
		return
	}
	raceReadWrite(x, s, g)
	asm.Apply32NEON(id, x, s, g, lr, eps, wd, decay, gain)
}

func apply64(m *impl, id int, x, s, g []float64, lr, eps, wd, decay, gain float64) {
	if m.code != codeNEON {
		genericApply64(id, x, s, g, lr, eps, wd, decay, gain)
		return
	}
	raceReadWrite(x, s, g)
	asm.Apply64NEON(id, x, s, g, lr, eps, wd, decay, gain)
}

func fast32(m *impl, x, s, g []float32, lr, eps float32) {
	if m.code != codeNEON {
		ref.Update(x, s, g, lr, eps)
		return
	}
	raceReadWrite(x, s, g)
	asm.UpdateFast32NEON(x, s, g, lr, eps)
}

// prefetch hints that the n bytes at p are about to be read.
func prefetch(p, n uintptr) { asm.Prefetch(p, n) }
