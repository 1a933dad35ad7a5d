//go:build gc && !purego

package kernel

import (
	"math"

	"github.com/klauspost/cpuid/v2"

	"github.com/adagrad-go/adagrad/kernel/asm"
	"github.com/adagrad-go/adagrad/ref"
)

// The feature lists cover every extension named on the kernels' "Requires:" lines
// in kernel/asm (a test holds them to it), plus the extension a path is named for.
var archImpls = raceAnnotated([]*impl{
	{
		// The AVX2 kernels with every square root and division on the divider:
		// the reference of "avx2"'s hybrid ones.
		name:     "avx2div",
		requires: []cpuid.FeatureID{cpuid.AVX, cpuid.AVX2, cpuid.FMA3},
		code:     codeAVX2,
		rows:     avx2Rows(asm.Apply32AVX2Kernel, asm.Apply64AVX2Kernel),
	},
	{
		name:     "avx2",
		requires: []cpuid.FeatureID{cpuid.AVX, cpuid.AVX2, cpuid.FMA3},
		code:     codeAVX2Hybrid,
		rows:     avx2Rows(hybridKernel32AVX2, asm.Apply64AVX2Kernel),
	},
	{
		// The AVX-512 kernels with every square root and division on the
		// divider: the reference the hybrid kernels of "avx512" are measured
		// against, and what they run where a scalar is outside their domain.
		name:     "avx512div",
		requires: []cpuid.FeatureID{cpuid.AVX, cpuid.AVX512F, cpuid.AVX2, cpuid.FMA3},
		code:     codeAVX512,
		// The row kernels beyond Apply exist in AVX2 only (see internal/gen).
		rows: avx2Rows(asm.Apply32AVX512Kernel, asm.Apply64AVX512Kernel),
	},
	{
		name:     "avx512",
		requires: []cpuid.FeatureID{cpuid.AVX, cpuid.AVX512F, cpuid.AVX2, cpuid.FMA3},
		code:     codeAVX512Hybrid,
		rows:     avx2Rows(hybridKernel32, hybridKernel64),
	},
})

// The dense kernels of m's path, each called directly (see impl.code): Update's
// form, any form by ID, and UpdateFast's kernel, which on the generic path, Go
// having no estimate, is Update.

func update32(m *impl, x, s, g []float32, lr, eps float32) {
	switch m.code {
	case codeAVX2:
		raceReadWrite(x, s, g)
		asm.Update32AVX2(x, s, g, lr, eps)
	case codeAVX2Hybrid:
		raceReadWrite(x, s, g)
		if hybridScalars(0, lr, eps) {
			asm.Update32AVX2Hybrid(x, s, g, lr, eps)
		} else {
			asm.Update32AVX2(x, s, g, lr, eps)
		}
	case codeAVX512:
		raceReadWrite(x, s, g)
		asm.Update32AVX512(x, s, g, lr, eps)
	case codeAVX512Hybrid:
		raceReadWrite(x, s, g)
		if hybridScalars(0, lr, eps) {
			asm.Update32AVX512Hybrid(x, s, g, lr, eps)
		} else {
			asm.Update32AVX512(x, s, g, lr, eps)
		}
	default:
		ref.Update(x, s, g, lr, eps)
	}
}

func update64(m *impl, x, s, g []float64, lr, eps float64) {
	switch m.code {
	case codeAVX2, codeAVX2Hybrid:
		raceReadWrite(x, s, g)
		asm.Update64AVX2(x, s, g, lr, eps)
	case codeAVX512:
		raceReadWrite(x, s, g)
		asm.Update64AVX512(x, s, g, lr, eps)
	case codeAVX512Hybrid:
		raceReadWrite(x, s, g)
		if hybridScalars64(0, lr, eps) {
			asm.Update64AVX512Hybrid(x, s, g, lr, eps)
		} else {
			asm.Update64AVX512(x, s, g, lr, eps)
		}
	default:
		ref.Update(x, s, g, lr, eps)
	}
}

func apply32(m *impl, id int, x, s, g []float32, lr, eps, wd, decay, gain float32) {
	switch m.code {
	case codeAVX2:
		raceReadWrite(x, s, g)
		asm.Apply32AVX2(id, x, s, g, lr, eps, wd, decay, gain)
	case codeAVX2Hybrid:
		raceReadWrite(x, s, g)
		if hybridScalars(id, lr, eps) {
			asm.Apply32AVX2Hybrid(id, x, s, g, lr, eps, wd, decay, gain)
		} else {
			asm.Apply32AVX2(id, x, s, g, lr, eps, wd, decay, gain)
		}
	case codeAVX512:
		raceReadWrite(x, s, g)
		asm.Apply32AVX512(id, x, s, g, lr, eps, wd, decay, gain)
	case codeAVX512Hybrid:
		raceReadWrite(x, s, g)
		if hybridScalars(id, lr, eps) {
			asm.Apply32AVX512Hybrid(id, x, s, g, lr, eps, wd, decay, gain)
		} else {
			asm.Apply32AVX512(id, x, s, g, lr, eps, wd, decay, gain)
		}
	default:
		genericApply32(id, x, s, g, lr, eps, wd, decay, gain)
	}
}

func apply64(m *impl, id int, x, s, g []float64, lr, eps, wd, decay, gain float64) {
	switch m.code {
	case codeAVX2, codeAVX2Hybrid:
		raceReadWrite(x, s, g)
		asm.Apply64AVX2(id, x, s, g, lr, eps, wd, decay, gain)
	case codeAVX512:
		raceReadWrite(x, s, g)
		asm.Apply64AVX512(id, x, s, g, lr, eps, wd, decay, gain)
	case codeAVX512Hybrid:
		raceReadWrite(x, s, g)
		if hybridScalars64(id, lr, eps) {
			asm.Apply64AVX512Hybrid(id, x, s, g, lr, eps, wd, decay, gain)
		} else {
			asm.Apply64AVX512(id, x, s, g, lr, eps, wd, decay, gain)
		}
	default:
		genericApply64(id, x, s, g, lr, eps, wd, decay, gain)
	}
}

func fast32(m *impl, x, s, g []float32, lr, eps float32) {
	switch m.code {
	case codeAVX2, codeAVX2Hybrid:
		raceReadWrite(x, s, g)
		asm.UpdateFast32AVX2(x, s, g, lr, eps)
	case codeAVX512, codeAVX512Hybrid:
		raceReadWrite(x, s, g)
		asm.UpdateFast32AVX512(x, s, g, lr, eps)
	default:
		ref.Update(x, s, g, lr, eps)
	}
}

// avx2Rows are the sparse steps' kernels around the dense kernels that apply32
// and apply64 look up by form ID.
func avx2Rows(apply32 func(id int) func(x, s, g []float32, lr, eps, wd, decay, gain float32),
	apply64 func(id int) func(x, s, g []float64, lr, eps, wd, decay, gain float64)) rowKernels {
	return rowKernels{
		kernel32: func(f Form) func(x, s, g []float32, lr, eps, wd, decay, gain float32) { return apply32(f.ID()) },
		kernel64: func(f Form) func(x, s, g []float64, lr, eps, wd, decay, gain float64) { return apply64(f.ID()) },
		add32:    asm.Add32AVX2,
		add64:    asm.Add64AVX2,
		rowWise32: func(f Form) (func(x, g []float32, wd float32) float32, func(x, g []float32, lr, k, wd float32)) {
			return asm.SumSquares32AVX2Kernel(f.ID()), asm.RowStep32AVX2Kernel(f.ID())
		},
		rowWise64: func(f Form) (func(x, g []float64, wd float64) float64, func(x, g []float64, lr, k, wd float64)) {
			return asm.SumSquares64AVX2Kernel(f.ID()), asm.RowStep64AVX2Kernel(f.ID())
		},
	}
}

// hybridKernel32 is the avx512 path's kernel of the form with ID id for the
// sparse steps: the hybrid kernel, or the divider's where the call's scalars
// are outside its domain, decided per call as apply32 does. The wrappers are
// made once, so that a sparse call allocates nothing.
func hybridKernel32(id int) func(x, s, g []float32, lr, eps, wd, decay, gain float32) {
	return hybridRows32[id]
}

// hybridKernel32AVX2 is hybridKernel32 for the avx2 path.
func hybridKernel32AVX2(id int) func(x, s, g []float32, lr, eps, wd, decay, gain float32) {
	return hybridRows32AVX2[id]
}

// hybridKernel64 is hybridKernel32 for float64.
func hybridKernel64(id int) func(x, s, g []float64, lr, eps, wd, decay, gain float64) {
	return hybridRows64[id]
}

var (
	hybridRows32, hybridRows32AVX2 [ref.NumIDs]func(x, s, g []float32, lr, eps, wd, decay, gain float32)
	hybridRows64                   [ref.NumIDs]func(x, s, g []float64, lr, eps, wd, decay, gain float64)
)

// either is h where the call's scalars are in the hybrid kernels' domain (in),
// else d.
func either[T Float](id int, in func(id int, lr, eps T) bool, h, d func(x, s, g []T, lr, eps, wd, decay, gain T)) func(x, s, g []T, lr, eps, wd, decay, gain T) {
	return func(x, s, g []T, lr, eps, wd, decay, gain T) {
		if in(id, lr, eps) {
			h(x, s, g, lr, eps, wd, decay, gain)
			return
		}
		d(x, s, g, lr, eps, wd, decay, gain)
	}
}

func init() {
	for id := range ref.NumIDs {
		if h, d := asm.Apply32AVX512HybridKernel(id), asm.Apply32AVX512Kernel(id); h != nil {
			hybridRows32[id] = either(id, hybridScalars, h, d)
		}
		if h, d := asm.Apply32AVX2HybridKernel(id), asm.Apply32AVX2Kernel(id); h != nil {
			hybridRows32AVX2[id] = either(id, hybridScalars, h, d)
		}
		if h, d := asm.Apply64AVX512HybridKernel(id), asm.Apply64AVX512Kernel(id); h != nil {
			hybridRows64[id] = either(id, hybridScalars64, h, d)
		}
	}
}

// hybridScalars reports whether the scalars of a call of the form with ID id are
// in the domain that the hybrid kernels' FMA sequences leave to the caller
// (DESIGN.md, "Square root and division from FMAs"): lr, where it is the
// numerator (DivMul), is ±0 or 2⁻⁶⁴ ≤ |lr| < 2⁶⁴; eps, outside the root, is in
// [2⁻⁴⁸, 2³²), which keeps the divisor in range. Everything else is checked lane
// by lane.
func hybridScalars(id int, lr, eps float32) bool {
	if a := abs32(lr); id>>4%numOrders == int(DivMul) && a != 0 && !(a >= 0x1p-64 && a < 0x1p64) {
		return false
	}
	return id&4 == 0 || eps >= 0x1p-48 && eps < 0x1p32 // id&4: EpsOutside (ref.Form.ID)
}

// hybridScalars64 is hybridScalars for the float64 kernels, whose domains are
// wider: lr ±0 or 2⁻²⁵⁶ ≤ |lr| < 2²⁵⁶, eps outside the root in [2⁻¹²⁸, 2¹²⁸).
func hybridScalars64(id int, lr, eps float64) bool {
	if a := math.Abs(lr); id>>4%numOrders == int(DivMul) && a != 0 && !(a >= 0x1p-256 && a < 0x1p256) {
		return false
	}
	return id&4 == 0 || eps >= 0x1p-128 && eps < 0x1p128
}

func abs32(v float32) float32 { return math.Float32frombits(math.Float32bits(v) &^ (1 << 31)) }

// prefetch hints that the n bytes at p are about to be read.
func prefetch(p, n uintptr) { asm.Prefetch(p, n) }
