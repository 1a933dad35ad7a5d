package main

import (
	"github.com/mmcloughlin/avo/build"
	"github.com/mmcloughlin/avo/operand"
	"github.com/mmcloughlin/avo/reg"
)

// elem describes one floating-point type: its Go name, size and the packed
// instructions that operate on it.
type elem struct {
	suffix string // "32" or "64", as in the exported names
	goType string
	size   int

	broadcast, movu          func(ops ...operand.Op)
	mul, add, sub, div, sqrt func(ops ...operand.Op)
	fma                      func(ops ...operand.Op) // VFMADD231: c = b·a + c, one rounding
	cmp, and, xor            func(ops ...operand.Op)
	maskmov                  func(m, mask, dst operand.Op) // AVX2 masked move
	movuZ, movaZ             func(m, k, dst operand.Op)    // AVX-512 zeroing masked moves
	one                      operand.Constant              // 1.0 of this type, for DATA
}

var f32 = elem{
	suffix: "32", goType: "float32", size: 4,
	broadcast: build.VBROADCASTSS, movu: build.VMOVUPS,
	mul: build.VMULPS, add: build.VADDPS, sub: build.VSUBPS, div: build.VDIVPS, sqrt: build.VSQRTPS,
	fma: build.VFMADD231PS, cmp: build.VCMPPS, and: build.VANDPS, xor: build.VXORPS,
	maskmov: build.VMASKMOVPS, movuZ: build.VMOVUPS_Z, movaZ: build.VMOVAPS_Z,
	one: operand.F32(1),
}

var f64 = elem{
	suffix: "64", goType: "float64", size: 8,
	broadcast: build.VBROADCASTSD, movu: build.VMOVUPD,
	mul: build.VMULPD, add: build.VADDPD, sub: build.VSUBPD, div: build.VDIVPD, sqrt: build.VSQRTPD,
	fma: build.VFMADD231PD, cmp: build.VCMPPD, and: build.VANDPD, xor: build.VXORPD,
	maskmov: build.VMASKMOVPD, movuZ: build.VMOVUPD_Z, movaZ: build.VMOVAPD_Z,
	one: operand.F64(1),
}

// isa describes one vector extension: register width, how many vector registers
// its encoding reaches, and the most vectors one loop iteration processes.
type isa struct {
	name      string // "AVX2" or "AVX512", as in the exported names
	bytes     int    // vector width in bytes
	registers int    // vector registers the encoding can name (VEX: 16; EVEX: 32)
	maxUnroll int
	vec       func() reg.VecVirtual
}

// lanes is the number of elements of e in one vector.
func (v isa) lanes(e elem) int { return v.bytes / e.size }

// unroll is how many vectors one iteration can keep in flight when each holds
// live values between stages, leaving 3 registers for constants and a temporary.
// Avo allocates from all 32 registers, and on AVX2 a register above 15 needs an
// EVEX (AVX-512) encoding, so the bound matters for correctness, not only speed.
func (v isa) unroll(live int) int {
	return min(v.maxUnroll, (v.registers-3)/live)
}

var (
	avx2   = isa{name: "AVX2", bytes: 32, registers: 16, maxUnroll: 4, vec: build.YMM}
	avx512 = isa{name: "AVX512", bytes: 64, registers: 32, maxUnroll: 8, vec: build.ZMM}
)
