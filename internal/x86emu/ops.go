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

// moves are the register-to-register moves, which the decoder runs as lane
// operations so that they take a write mask like any other. Their memory forms
// are decodeMove's: VMOVAPS from memory needs an alignment that is not modeled.
var moves = map[string]bool{"VMOVAPS": true, "VMOVAPD": true, "VMOVUPS": true, "VMOVUPD": true}

// estimates are the instructions whose results the vendors bound but do not
// specify, each with the field of Models that computes them, as a function of a
// lane's bits that is nil when the field is.
var estimates = map[string]func(*Models) func(uint64) uint64{
	"VRSQRTPS":   est32(func(m *Models) func(float32) float32 { return m.RsqrtPS }),
	"VRSQRT14PS": est32(func(m *Models) func(float32) float32 { return m.Rsqrt14PS }),
	"VRCPPS":     est32(func(m *Models) func(float32) float32 { return m.RcpPS }),
	"VRCP14PS":   est32(func(m *Models) func(float32) float32 { return m.Rcp14PS }),
	"VRSQRT14PD": est64(func(m *Models) func(float64) float64 { return m.Rsqrt14PD }),
	"VRCP14PD":   est64(func(m *Models) func(float64) float64 { return m.Rcp14PD }),
}

func est32(field func(*Models) func(float32) float32) func(*Models) func(uint64) uint64 {
	return func(m *Models) func(uint64) uint64 {
		f := field(m)
		if f == nil {
			return nil
		}
		return func(a uint64) uint64 { return uint64(math.Float32bits(f(math.Float32frombits(uint32(a))))) }
	}
}

func est64(field func(*Models) func(float64) float64) func(*Models) func(uint64) uint64 {
	return func(m *Models) func(uint64) uint64 {
		f := field(m)
		if f == nil {
			return nil
		}
		return func(a uint64) uint64 { return math.Float64bits(f(math.Float64frombits(a))) }
	}
}

// fmaOps are the fused multiply-adds VFMADD, VFMSUB, VFNMADD and VFNMSUB in each
// operand order, PS and PD, in Go operand order: "VFMADD231PS a, b, c" computes
// c = b·a + c with a single rounding. Intel numbers the operands dst (= src1),
// src2, src3, which Go writes src3, src2, dst, so that
//
//	132: c = c·a ± b    213: c = b·c ± a    231: c = b·a ± c
//
// A negation of the product or of the addend is exact, so it is applied to an
// input of the one rounding: ref.FMA32 is exact for float32 (package ref tests it
// against math/big), math.FMA for float64. It flips the sign of a NaN input that
// the hardware passes on unchanged, one of the NaN signs the package leaves to
// the host.
var fmaOps = func() map[string]func(c, b, a uint64) uint64 {
	orders := map[string]func(c, b, a uint64) (x, y, z uint64){
		"132": func(c, b, a uint64) (x, y, z uint64) { return c, a, b },
		"213": func(c, b, a uint64) (x, y, z uint64) { return b, c, a },
		"231": func(c, b, a uint64) (x, y, z uint64) { return b, a, c },
	}
	kinds := map[string]struct{ negProduct, negAddend bool }{
		"VFMADD": {false, false}, "VFMSUB": {false, true}, "VFNMADD": {true, false}, "VFNMSUB": {true, true},
	}
	ops := map[string]func(c, b, a uint64) uint64{}
	for kind, sign := range kinds {
		for order, pick := range orders {
			ops[kind+order+"PS"] = func(c, b, a uint64) uint64 {
				x, y, z := pick(c, b, a)
				fx, fy, fz := math.Float32frombits(uint32(x)), math.Float32frombits(uint32(y)), math.Float32frombits(uint32(z))
				if sign.negProduct {
					fx = -fx
				}
				if sign.negAddend {
					fz = -fz
				}
				return uint64(math.Float32bits(ref.FMA32(fx, fy, fz)))
			}
			ops[kind+order+"PD"] = func(c, b, a uint64) uint64 {
				x, y, z := pick(c, b, a)
				fx, fy, fz := math.Float64frombits(x), math.Float64frombits(y), math.Float64frombits(z)
				if sign.negProduct {
					fx = -fx
				}
				if sign.negAddend {
					fz = -fz
				}
				return math.Float64bits(math.FMA(fx, fy, fz))
			}
		}
	}
	return ops
}()

// bitOps are the bitwise instructions on floating-point vectors, which work the
// same on any lane size. They are modeled only in their VEX encodings: the EVEX
// ones need AVX512DQ, which the AVX-512 kernels do not require (VPANDD, VPORD,
// VPXORD and VPANDND of dwordOps are their AVX512F equivalents).
var bitOps = map[string]func(b, a uint64) uint64{
	"VANDPS": func(b, a uint64) uint64 { return b & a },
	"VANDPD": func(b, a uint64) uint64 { return b & a },
	"VXORPS": func(b, a uint64) uint64 { return b ^ a },
	"VXORPD": func(b, a uint64) uint64 { return b ^ a },
}

// allOnes32 is a dword lane of a compare that holds.
const allOnes32 = 0xffff_ffff

// dwordOps are the integer instructions on 32-bit lanes, b and a in Go operand
// order as for binaryOps ("VPSUBD a, b, c" computes c = b − a). The lane size is
// the mask's granularity; VPAND, VPOR, VPXOR and VPANDN, VEX only, take no mask,
// and VPCMPEQD and VPCMPGTD with a vector destination are VEX only too.
var dwordOps = map[string]func(b, a uint64) uint64{
	"VPADDD": func(b, a uint64) uint64 { return uint64(uint32(b + a)) },
	"VPSUBD": func(b, a uint64) uint64 { return uint64(uint32(b - a)) },
	"VPAND":  func(b, a uint64) uint64 { return b & a },
	"VPANDD": func(b, a uint64) uint64 { return b & a },
	"VPANDQ": func(b, a uint64) uint64 { return b & a },
	"VPOR":   func(b, a uint64) uint64 { return b | a },
	"VPORD":  func(b, a uint64) uint64 { return b | a },
	"VPXOR":  func(b, a uint64) uint64 { return b ^ a },
	"VPXORD": func(b, a uint64) uint64 { return b ^ a },
	// Intel's "VPANDN dst, src1, src2" is dst = ¬src1 ∧ src2: the operand Go
	// writes second is the one complemented.
	"VPANDN":   func(b, a uint64) uint64 { return uint64(uint32(^b & a)) },
	"VPANDND":  func(b, a uint64) uint64 { return uint64(uint32(^b & a)) },
	"VPCMPEQD": func(b, a uint64) uint64 { return ones(uint32(b) == uint32(a)) },
	"VPCMPGTD": func(b, a uint64) uint64 { return ones(int32(uint32(b)) > int32(uint32(a))) },
}

// qwordOps are the integer instructions on 64-bit lanes, as dwordOps.
var qwordOps = map[string]func(b, a uint64) uint64{
	"VPADDQ": func(b, a uint64) uint64 { return b + a },
	"VPSUBQ": func(b, a uint64) uint64 { return b - a },
}

func ones(c bool) uint64 {
	if c {
		return allOnes32
	}
	return 0
}

// dwordShifts are the shifts of 32-bit lanes by an immediate count n (0..255).
// A count beyond 31 fills the lane with its sign (VPSRAD) or zeros.
var dwordShifts = map[string]func(v uint64, n uint) uint64{
	"VPSLLD": func(v uint64, n uint) uint64 { return uint64(uint32(v) << min(n, 32)) },
	"VPSRLD": func(v uint64, n uint) uint64 { return uint64(uint32(v) >> min(n, 32)) },
	"VPSRAD": func(v uint64, n uint) uint64 { return uint64(uint32(int32(uint32(v)) >> min(n, 31))) },
}

// dwordCompare is predicate imm (0..7) of VPCMPD (signed) or VPCMPUD on src1 and
// src2 in Intel's operand order ("VPCMPD $imm, src2, src1, k" in Go's).
func dwordCompare(imm int, signed bool) func(src1, src2 uint64) bool {
	less := func(a, b uint64) bool { return uint32(a) < uint32(b) }
	if signed {
		less = func(a, b uint64) bool { return int32(uint32(a)) < int32(uint32(b)) }
	}
	eq := func(a, b uint64) bool { return uint32(a) == uint32(b) }
	return intCompare(imm, less, eq)
}

// qwordCompare is dwordCompare for VPCMPQ and VPCMPUQ.
func qwordCompare(imm int, signed bool) func(src1, src2 uint64) bool {
	less := func(a, b uint64) bool { return a < b }
	if signed {
		less = func(a, b uint64) bool { return int64(a) < int64(b) }
	}
	return intCompare(imm, less, func(a, b uint64) bool { return a == b })
}

// intCompare is predicate imm of the integer compares from their less and eq.
func intCompare(imm int, less, eq func(a, b uint64) bool) func(src1, src2 uint64) bool {
	return [8]func(a, b uint64) bool{
		eq,
		less,
		func(a, b uint64) bool { return less(a, b) || eq(a, b) },
		func(a, b uint64) bool { return false },
		func(a, b uint64) bool { return !eq(a, b) },
		func(a, b uint64) bool { return !less(a, b) },
		func(a, b uint64) bool { return !less(a, b) && !eq(a, b) },
		func(a, b uint64) bool { return true },
	}[imm]
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
