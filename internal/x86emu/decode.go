package x86emu

import (
	"fmt"
	"strings"
)

// vexOnly are the instructions that have no EVEX encoding at all, or none within
// AVX512F, so they cannot name Z registers or X16..X31, nor take a write mask.
var vexOnly = map[string]bool{
	"VMASKMOVPS": true, "VMASKMOVPD": true, "VMOVDQU": true, "VZEROUPPER": true,
	"VBLENDVPS": true, "VBLENDVPD": true, "VRSQRTPS": true, "VRCPPS": true,
	"VANDPS": true, "VANDPD": true, "VXORPS": true, "VXORPD": true,
	"VPAND": true, "VPOR": true, "VPXOR": true, "VPANDN": true,
	"VPTEST": true, "VTESTPS": true, "VTESTPD": true, "VMOVMSKPS": true, "VMOVMSKPD": true,
}

// vexToVector are the compares that are VEX when they write a vector and EVEX
// when they write a K register.
var vexToVector = map[string]bool{"VCMPPS": true, "VCMPPD": true, "VPCMPEQD": true, "VPCMPGTD": true}

// evexOnly are the instructions that exist only in EVEX encodings. The kernels
// require AVX512F but not AVX512VL, so these must operate on Z registers.
var evexOnly = map[string]bool{
	"VPXORD": true, "VPANDD": true, "VPANDQ": true, "VPORD": true, "VPANDND": true,
	"VRSQRT14PS": true, "VRSQRT14PD": true, "VRCP14PS": true, "VRCP14PD": true,
	"VPCMPD": true, "VPCMPUD": true, "VPCMPQ": true, "VPCMPUQ": true, "VPTESTMD": true, "VPTESTNMD": true, "VPTESTMQ": true, "VPTESTNMQ": true,
	"VBLENDMPS": true, "VBLENDMPD": true, "VPBLENDMD": true,
}

// decode checks that in is a form the machine models and sets in.exec. The checks
// include encodability (VEX-only instructions cannot name Z or X16..X31, K0 cannot
// be a write mask, EVEX-only forms need Z registers without AVX512VL), so that the
// interpreter does not run code the assembler or CPU would reject or interpret
// differently.
func (p *Program) decode(f *Func, in *Inst) error {
	a := in.args
	sh := shape(a)
	op := in.op
	base, zeroing := strings.CutSuffix(op, ".Z")
	n := len(a)
	vex := vexOnly[base] || vexToVector[base] && n > 0 && a[n-1].kind == kindVec
	// Only EVEX has write masks and zeroing, and the shifts of an immediate count
	// read memory only in EVEX. The K-register instructions are VEX.
	evex := evexOnly[base] || zeroing || strings.Contains(sh, "k") && !strings.HasPrefix(op, "K") ||
		dwordShifts[base] != nil && len(sh) > 1 && sh[1] == 'm'
	if vex && evex {
		return fmt.Errorf("%s has no EVEX encoding in AVX512F, so it cannot take a K register or .Z", op)
	}
	for _, o := range a {
		if o.kind == kindVec && vex && (o.width > 32 || o.reg > 15) {
			return fmt.Errorf("%s has no EVEX encoding in AVX512F, so it cannot name Z or X16..X31", op)
		}
		if o.kind == kindVec && o.reg > 15 && o.width < 64 {
			return fmt.Errorf("X16..X31 and Y16..Y31 need AVX512VL, which is not modeled")
		}
		if o.kind == kindVec && evex && o.width != 64 {
			return fmt.Errorf("%s on X or Y registers needs AVX512VL, which is not modeled", op)
		}
		if o.kind == kindSym && !p.hasSym(o.name) {
			return fmt.Errorf("unknown symbol %s", o.name)
		}
		if o.kind == kindLabel {
			if _, ok := f.labels[o.name]; !ok {
				return fmt.Errorf("label %s is not in %s", o.name, f.name)
			}
		}
	}
	if n > 0 && a[n-1].kind == kindGP && a[n-1].reg == regSP && !flagsOnly[op] {
		return fmt.Errorf("writes SP, which only the prologue and epilogue may do")
	}
	for _, dec := range []func(f *Func, op, sh string, a []operand) func(*machine) error{decodeScalar, decodeMove, decodeMask, decodeArith} {
		if exec := dec(f, op, sh, a); exec != nil {
			in.exec = exec
			return nil
		}
	}
	return fmt.Errorf("instruction or operand form not modeled (%s %s)", op, sh)
}

func (p *Program) hasSym(name string) bool {
	_, ok := p.syms[name]
	return ok
}

// writeMask is the {k} of an EVEX instruction: the lanes whose bit of K[reg] is
// clear keep the destination's value (merging) or become zero (zeroing, the .Z
// suffix), and a memory source is not read in them. reg 0 is no mask, as in the
// encoding, which is why K0 cannot be one.
type writeMask struct {
	reg  int
	zero bool
}

// splitMask takes the write mask off the operands of "OP srcs..., K, dst" and
// the .Z off op, for the decoders of the lane operations, which then see the
// operands of the unmasked form. It reports false for what no instruction
// encodes: K0 as the mask, .Z without a mask, or .Z into a K register, which
// the assembler refuses.
func splitMask(op string, a []operand) (string, []operand, writeMask, bool) {
	base, zero := strings.CutSuffix(op, ".Z")
	n := len(a)
	if n < 3 || a[n-2].kind != kindMask || a[n-3].kind == kindMask {
		return base, a, writeMask{}, !zero
	}
	if a[n-2].reg == 0 || zero && a[n-1].kind == kindMask {
		return base, nil, writeMask{}, false
	}
	return base, append(a[:n-2:n-2], a[n-1]), writeMask{reg: a[n-2].reg, zero: zero}, true
}

// sameWidth reports whether the vector registers among vs have one width;
// memory operands take the width of the registers.
func sameWidth(vs ...operand) bool {
	w := 0
	for _, v := range vs {
		if v.kind != kindVec {
			continue
		}
		if w != 0 && v.width != w {
			return false
		}
		w = v.width
	}
	return w != 0
}

// imm32 reports whether o fits the sign-extended 32-bit immediate that the
// 64-bit integer instructions take.
func imm32(o operand) bool { return o.imm == int64(int32(o.imm)) }
