package x86emu

import (
	"math"

	"github.com/adagrad-go/adagrad/ref"
)

// Each lane function performs one IEEE operation in Go, which on amd64 compiles to
// the scalar SSE instruction with the same rounding as the packed one; the explicit
// conversions keep the compiler from fusing anything (it would on arm64).
// Arguments are in Go operand order: "VSUBPS a, b, c" computes c = b - a.

func f32bin(f func(b, a float32) float32) func(b, a uint64) uint64 {
	return func(b, a uint64) uint64 {
		return uint64(math.Float32bits(f(math.Float32frombits(uint32(b)), math.Float32frombits(uint32(a)))))
	}
}

func f64bin(f func(b, a float64) float64) func(b, a uint64) uint64 {
	return func(b, a uint64) uint64 {
		return math.Float64bits(f(math.Float64frombits(b), math.Float64frombits(a)))
	}
}

var binaryOps = map[string]func(b, a uint64) uint64{
	"VADDPS": f32bin(func(b, a float32) float32 { return float32(b + a) }),
	"VSUBPS": f32bin(func(b, a float32) float32 { return float32(b - a) }),
	"VMULPS": f32bin(func(b, a float32) float32 { return float32(b * a) }),
	"VDIVPS": f32bin(func(b, a float32) float32 { return float32(b / a) }),
	"VADDPD": f64bin(func(b, a float64) float64 { return float64(b + a) }),
	"VSUBPD": f64bin(func(b, a float64) float64 { return float64(b - a) }),
	"VMULPD": f64bin(func(b, a float64) float64 { return float64(b * a) }),
	"VDIVPD": f64bin(func(b, a float64) float64 { return float64(b / a) }),
}

var unaryOps = map[string]func(a uint64) uint64{
	// The float64 root of a float32 rounds correctly to float32: 53 ≥ 2·24 + 2.
	"VSQRTPS": func(a uint64) uint64 {
		return uint64(math.Float32bits(float32(math.Sqrt(float64(math.Float32frombits(uint32(a)))))))
	},
	"VSQRTPD": func(a uint64) uint64 { return math.Float64bits(math.Sqrt(math.Float64frombits(a))) },
}

// estimates are the float32 instructions whose results the vendors bound but do
// not specify, each with the field of Models that computes them.
var estimates = map[string]func(*Models) func(float32) float32{
	"VRSQRTPS":   func(m *Models) func(float32) float32 { return m.RsqrtPS },
	"VRSQRT14PS": func(m *Models) func(float32) float32 { return m.Rsqrt14PS },
}

// fmaOps are the fused multiply-adds, in Go operand order: "VFMADD231PS a, b, c"
// computes c = b·a + c with a single rounding. ref.FMA32 is exact for float32
// (package ref tests it against math/big), math.FMA for float64.
var fmaOps = map[string]func(c, b, a uint64) uint64{
	"VFMADD231PS": func(c, b, a uint64) uint64 {
		f := math.Float32frombits
		return uint64(math.Float32bits(ref.FMA32(f(uint32(b)), f(uint32(a)), f(uint32(c)))))
	},
	"VFMADD231PD": func(c, b, a uint64) uint64 {
		f := math.Float64frombits
		return math.Float64bits(math.FMA(f(b), f(a), f(c)))
	},
	// "VFMADD213PS a, b, c" is c = b·c + a, "VFNMADD213PS a, b, c" c = −(b·c) + a
	// and "VFNMADD231PS a, b, c" c = −(b·a) + c, each rounded once (the negation
	// is exact).
	"VFMADD213PS": func(c, b, a uint64) uint64 {
		f := math.Float32frombits
		return uint64(math.Float32bits(ref.FMA32(f(uint32(b)), f(uint32(c)), f(uint32(a)))))
	},
	"VFNMADD213PS": func(c, b, a uint64) uint64 {
		f := math.Float32frombits
		return uint64(math.Float32bits(ref.FMA32(-f(uint32(b)), f(uint32(c)), f(uint32(a)))))
	},
	"VFNMADD231PS": func(c, b, a uint64) uint64 {
		f := math.Float32frombits
		return uint64(math.Float32bits(ref.FMA32(-f(uint32(b)), f(uint32(a)), f(uint32(c)))))
	},
}

// bitOps are the bitwise instructions, which work the same on any lane size.
// VANDPS, VANDPD, VXORPS and VXORPD are modeled only in their VEX encodings: the
// EVEX ones need AVX512DQ, which the AVX-512 kernels do not require. VPXORD is EVEX
// only.
var bitOps = map[string]func(b, a uint64) uint64{
	"VANDPS": func(b, a uint64) uint64 { return b & a },
	"VANDPD": func(b, a uint64) uint64 { return b & a },
	"VXORPS": func(b, a uint64) uint64 { return b ^ a },
	"VXORPD": func(b, a uint64) uint64 { return b ^ a },
	"VPXORD": func(b, a uint64) uint64 { return b ^ a },
}

// compare evaluates the predicate imm (0..31) of VCMPPS/VCMPPD on src1 and src2,
// Intel's operand order ("VCMPPS $imm, src2, src1, dst" in Go's). Bit 4 of the
// predicate only chooses whether a quiet NaN signals, which with exceptions masked
// does not change the result, so bits 0..3 pick the relation.
func compare(imm int, src1, src2 float64) bool {
	unord := src1 != src1 || src2 != src2
	lt, eq, gt := src1 < src2, src1 == src2, src1 > src2
	switch imm & 0xf {
	case 0x0: // EQ_OQ
		return eq
	case 0x1: // LT_OS
		return lt
	case 0x2: // LE_OS
		return lt || eq
	case 0x3: // UNORD_Q
		return unord
	case 0x4: // NEQ_UQ
		return !eq
	case 0x5: // NLT_US
		return !lt
	case 0x6: // NLE_US
		return !(lt || eq)
	case 0x7: // ORD_Q
		return !unord
	case 0x8: // EQ_UQ
		return eq || unord
	case 0x9: // NGE_US
		return lt || unord
	case 0xa: // NGT_US
		return !gt
	case 0xb: // FALSE_OQ
		return false
	case 0xc: // NEQ_OQ
		return !eq && !unord
	case 0xd: // GE_OS
		return gt || eq
	case 0xe: // GT_OS
		return gt
	}
	return true // 0xf: TRUE_UQ
}
