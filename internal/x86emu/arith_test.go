package x86emu

import (
	"fmt"
	"math"
	"math/big"
	"testing"

	"github.com/adagrad-go/adagrad/internal/fbits"
)

// arithBody loads x, s and g into Y0, Y1 and Y2 and x and s once more into Y3
// and Y4, runs a case's instructions, and stores Y3 to x and Y4 to s.
const arithBody = `	VMOVUPS (AX), Y0
	VMOVUPS (CX), Y1
	VMOVUPS (DX), Y2
	VMOVUPS (AX), Y3
	VMOVUPS (CX), Y4
%s
	VMOVUPS Y3, (AX)
	VMOVUPS Y4, (CX)
	VZEROUPPER
	RET
`

// arithCase is one instruction family. In body, PX and SX stand for the packed
// and scalar suffix of T (PS and SS, or PD and SD); want gives lane i's x and s.
type arithCase[T float32 | float64] struct {
	name, body string
	only32     bool // a form only the float32 kernels use
	want       func(i int, x, s, g, a T) (T, T)
}

func arithCases[T float32 | float64]() []arithCase[T] {
	rounded := func(op func(z, a, b *big.Float) *big.Float, a, b T) T {
		return toT[T](op(big0[T](), exact(a), exact(b)))
	}
	bits := func(v uint64) T { return fbits.FromBits[T](v) }
	ones := uint64(math.MaxUint64) >> (64 - 8*sizeOf[T]())
	mask := func(c bool) T {
		if c {
			return bits(ones)
		}
		return 0
	}
	// dword is an integer operation on the bits of x and g, which only32 cases use.
	dword := func(op func(x, g uint32) uint32) func(int, T, T, T, T) (T, T) {
		return func(_ int, x, s, g, _ T) (T, T) {
			return bits(uint64(op(uint32(fbits.Bits(x)), uint32(fbits.Bits(g))))), s
		}
	}
	dmask := func(c bool) uint32 {
		if c {
			return math.MaxUint32
		}
		return 0
	}
	return []arithCase[T]{
		{"add", "VADDPX Y2, Y0, Y3", false, func(_ int, x, s, g, _ T) (T, T) { return rounded((*big.Float).Add, x, g), s }},
		{"sub", "VSUBPX Y2, Y0, Y3", false, func(_ int, x, s, g, _ T) (T, T) { return rounded((*big.Float).Sub, x, g), s }},
		{"mul", "VMULPX Y2, Y0, Y3", false, func(_ int, x, s, g, _ T) (T, T) { return rounded((*big.Float).Mul, x, g), s }},
		{"div", "VDIVPX Y2, Y0, Y3", false, func(_ int, x, s, g, _ T) (T, T) { return rounded((*big.Float).Quo, x, g), s }},
		{"div by memory", "VDIVPX (DX), Y0, Y3", false, func(_ int, x, s, g, _ T) (T, T) { return rounded((*big.Float).Quo, x, g), s }},
		{"sqrt", "VSQRTPX Y1, Y3", false, func(_ int, _, s, _, _ T) (T, T) {
			if s < 0 {
				return T(math.NaN()), s
			}
			return toT[T](big0[T]().Sqrt(exact(s))), s
		}},
		{"fma 231", "VFMADD231PX Y2, Y0, Y4", false, func(_ int, x, s, g, _ T) (T, T) { return x, fmaExact(x, g, s) }},
		{"fma 213", "VFMADD213PX Y2, Y0, Y4", true, func(_ int, x, s, g, _ T) (T, T) { return x, fmaExact(x, s, g) }},
		{"fnma 213", "VFNMADD213PX Y2, Y0, Y4", true, func(_ int, x, s, g, _ T) (T, T) { return x, fmaExact(-x, s, g) }},
		{"fnma 231", "VFNMADD231PX Y2, Y0, Y4", true, func(_ int, x, s, g, _ T) (T, T) { return x, fmaExact(-x, g, s) }},
		{"and", "VANDPX Y2, Y0, Y3", false, func(_ int, x, s, g, _ T) (T, T) { return bits(fbits.Bits(x) & fbits.Bits(g)), s }},
		{"xor", "VXORPX (DX), Y0, Y3", false, func(_ int, x, s, g, _ T) (T, T) { return bits(fbits.Bits(x) ^ fbits.Bits(g)), s }},
		{"broadcast", "VBROADCASTSX a+72(FP), Y3", false, func(_ int, _, s, _, a T) (T, T) { return a, s }},
		{"compare GT", "VCMPPX $0x0e, Y2, Y0, Y3", false, func(_ int, x, s, g, _ T) (T, T) { return mask(x > g), s }},
		{"compare LE from memory", "VCMPPX $0x02, (DX), Y0, Y3", false, func(_ int, x, s, g, _ T) (T, T) { return mask(x <= g), s }},
		{"blend on compare", "VCMPPX $0x01, Y2, Y0, Y5\n\tVBLENDVPX Y5, Y2, Y0, Y3", false, func(_ int, x, s, g, _ T) (T, T) {
			if x < g {
				return g, s
			}
			return x, s
		}},
		{"VPADDD", "VPADDD Y2, Y0, Y3", true, dword(func(x, g uint32) uint32 { return x + g })},
		{"VPSUBD from memory", "VPSUBD (DX), Y0, Y3", true, dword(func(x, g uint32) uint32 { return x - g })},
		{"VPSRAD", "VPSRAD $3, Y0, Y3", true, dword(func(x, _ uint32) uint32 { return uint32(int32(x) >> 3) })},
		{"VPSRAD past 31", "VPSRAD $40, Y0, Y3", true, dword(func(x, _ uint32) uint32 { return uint32(int32(x) >> 31) })},
		{"VPSRLD", "VPSRLD $31, Y0, Y3", true, dword(func(x, _ uint32) uint32 { return x >> 31 })},
		{"VPSRLD past 31", "VPSRLD $32, Y0, Y3", true, dword(func(uint32, uint32) uint32 { return 0 })},
		{"VPSLLD", "VPSLLD $9, Y0, Y3", true, dword(func(x, _ uint32) uint32 { return x << 9 })},
		{"VPSLLD by 255", "VPSLLD $255, Y0, Y3", true, dword(func(uint32, uint32) uint32 { return 0 })},
		{"VPAND", "VPAND Y2, Y0, Y3", true, dword(func(x, g uint32) uint32 { return x & g })},
		{"VPOR from memory", "VPOR (DX), Y0, Y3", true, dword(func(x, g uint32) uint32 { return x | g })},
		{"VPXOR", "VPXOR Y2, Y0, Y3", true, dword(func(x, g uint32) uint32 { return x ^ g })},
		// Intel's "VPANDN dst, src1, src2" is dst = ¬src1 ∧ src2; Go's order is
		// src2, src1, dst.
		{"VPANDN", "VPANDN Y2, Y0, Y3", true, dword(func(x, g uint32) uint32 { return ^x & g })},
		{"VPCMPEQD", "VPCMPEQD Y2, Y0, Y3", true, dword(func(x, g uint32) uint32 { return dmask(x == g) })},
		{"VPCMPGTD from memory", "VPCMPGTD (DX), Y0, Y3", true, dword(func(x, g uint32) uint32 { return dmask(int32(x) > int32(g)) })},
		{"VPCMPGTD on itself", "VPCMPGTD Y0, Y0, Y3", true, dword(func(uint32, uint32) uint32 { return 0 })},
		{"register move", "VMOVUPX Y2, Y3", false, func(_ int, _, s, g, _ T) (T, T) { return g, s }},
		{"move unaligned integers", "VMOVDQU (DX), Y3", false, func(_ int, _, s, g, _ T) (T, T) { return g, s }},
		{"load into X zeroes the rest", "VMOVUPX (DX), X3", false, func(i int, _, s, g, _ T) (T, T) {
			if i*sizeOf[T]() < 16 {
				return g, s
			}
			return 0, s
		}},
		{"VZEROUPPER", "VMOVUPX (DX), Y3\n\tVZEROUPPER", false, func(i int, _, s, g, _ T) (T, T) {
			if i*sizeOf[T]() < 16 {
				return g, s
			}
			return 0, 0
		}},
	}
}

// arithInputs are x, s and g by lane. In lane 0, x·g + s is 2⁻²⁴ (float32) or
// 2⁻⁵⁴ (float64) when fused and 0 when rounded twice; lane 2 has x = g.
var arithInputs = [][3]float64{
	{0, 0, 0}, // set by inputs
	{-2.25, 0.5, 4},
	{3, -4, 3},
	{1e-3, 1e3, -1e-3},
	{math.Copysign(0, -1), 8, 2},
	{7, -0.25, 7.5},
	{0.3, 2, 0.1},
	{100, 3, -0.5},
}

func inputs[T float32 | float64]() (x, s, g []T) {
	n := 32 / sizeOf[T]()
	e := math.Ldexp(1, -int(precision[T]()+1)/2)
	for i, in := range arithInputs[:n] {
		if i == 0 {
			in = [3]float64{1 + e, -(1 + 2*e), 1 + e}
		}
		x, s, g = append(x, T(in[0])), append(s, T(in[1])), append(g, T(in[2]))
	}
	return x, s, g
}

func testArith[T float32 | float64](t *testing.T) {
	const a, b = 1.25, -3
	for _, c := range arithCases[T]() {
		if c.only32 && sizeOf[T]() == 8 {
			continue
		}
		t.Run(c.name, func(t *testing.T) {
			x, s, g := inputs[T]()
			wx, ws := make([]T, len(x)), make([]T, len(x))
			for i := range x {
				wx[i], ws[i] = c.want(i, x[i], s[i], g[i], a)
			}
			g0 := clone(g)
			src := kernel("", 0, argsSize[T](), fmt.Sprintf(arithBody, suffixed[T](c.body)))
			if err := call(t, src, x, s, g, a, b, Config{}); err != nil {
				t.Fatal(err)
			}
			same(t, "x", x, wx)
			same(t, "s", s, ws)
			same(t, "g", g, g0)
		})
	}
}

func TestArith32(t *testing.T) { testArith[float32](t) }
func TestArith64(t *testing.T) { testArith[float64](t) }

// TestFMAWitness: the inputs can tell a fused multiply-add from a multiply and
// an add, so that the FMA cases above test the single rounding. (The
// conversions keep the compiler from fusing the unfused ones on arm64.)
func TestFMAWitness(t *testing.T) {
	x32, s32, g32 := inputs[float32]()
	x64, s64, g64 := inputs[float64]()
	if fmaExact(x32[0], g32[0], s32[0]) != 0x1p-24 || float32(x32[0]*g32[0])+s32[0] != 0 {
		t.Errorf("float32 lane 0 does not separate fused from unfused")
	}
	if fmaExact(x64[0], g64[0], s64[0]) != 0x1p-54 || float64(x64[0]*g64[0])+s64[0] != 0 {
		t.Errorf("float64 lane 0 does not separate fused from unfused")
	}
}
