//go:build !purego

package kernel

import (
	"github.com/klauspost/cpuid/v2"

	"github.com/adagrad-go/adagrad/kernel/asm"
)

// The feature lists cover every extension named on the kernels' "Requires:" lines
// in kernel/asm (a test holds them to it), plus the extension a path is named for.
var archImpls = []*impl{
	{
		name:     "avx2",
		requires: []cpuid.FeatureID{cpuid.AVX, cpuid.AVX2, cpuid.FMA3},
		apply32: func(f Form, x, s, g []float32, p Params32) {
			asm.Apply32AVX2[f.ID()](x, s, g, p.LR, p.Eps, p.WeightDecay, p.Decay, p.Gain)
		},
		apply64: func(f Form, x, s, g []float64, p Params64) {
			asm.Apply64AVX2[f.ID()](x, s, g, p.LR, p.Eps, p.WeightDecay, p.Decay, p.Gain)
		},
		update32: func(x, s, g []float32, lr, eps float32) { asm.Apply32AVX2InDivMul(x, s, g, lr, eps, 0, 1, 1) },
		update64: func(x, s, g []float64, lr, eps float64) { asm.Apply64AVX2InDivMul(x, s, g, lr, eps, 0, 1, 1) },
	},
	{
		name:     "avx512",
		requires: []cpuid.FeatureID{cpuid.AVX, cpuid.AVX512F},
		apply32: func(f Form, x, s, g []float32, p Params32) {
			asm.Apply32AVX512[f.ID()](x, s, g, p.LR, p.Eps, p.WeightDecay, p.Decay, p.Gain)
		},
		apply64: func(f Form, x, s, g []float64, p Params64) {
			asm.Apply64AVX512[f.ID()](x, s, g, p.LR, p.Eps, p.WeightDecay, p.Decay, p.Gain)
		},
		update32: func(x, s, g []float32, lr, eps float32) { asm.Apply32AVX512InDivMul(x, s, g, lr, eps, 0, 1, 1) },
		update64: func(x, s, g []float64, lr, eps float64) { asm.Apply64AVX512InDivMul(x, s, g, lr, eps, 0, 1, 1) },
	},
}

// prefetch hints that the n bytes at p are about to be read.
func prefetch(p, n uintptr) { asm.Prefetch(p, n) }
