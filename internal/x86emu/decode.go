package x86emu

import (
	"fmt"
	"strings"
)

// vexOnly are the instructions that have no EVEX encoding at all, or none within
// AVX512F, so they cannot name Z registers or X16..X31.
var vexOnly = map[string]bool{
	"VMASKMOVPS": true, "VMASKMOVPD": true, "VMOVDQU": true, "VZEROUPPER": true,
	"VBLENDVPS": true, "VBLENDVPD": true, "VRSQRTPS": true,
	"VANDPS": true, "VANDPD": true, "VXORPS": true, "VXORPD": true,
}

// evexOnly are the instructions that exist only in EVEX encodings. The kernels
// require AVX512F but not AVX512VL, so these must operate on Z registers.
var evexOnly = map[string]bool{
	"VPXORD": true, "VMOVUPS.Z": true, "VMOVUPD.Z": true, "VMOVAPS.Z": true, "VMOVAPD.Z": true,
	"VRSQRT14PS": true,
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
	hasK := strings.Contains(sh, "k")
	// VCMPPS/VCMPPD are VEX when they write a vector, EVEX when they write a K register.
	vex := vexOnly[op] || (op == "VCMPPS" || op == "VCMPPD") && !hasK
	evex := evexOnly[op] || hasK && op != "KMOVW"
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
	if n := len(a); n > 0 && a[n-1].kind == kindGP && a[n-1].reg == regSP && op != "CMPQ" && op != "TESTQ" {
		return fmt.Errorf("writes SP, which only the prologue and epilogue may do")
	}
	for _, dec := range []func(f *Func, op, sh string, a []operand) func(*machine) error{decodeScalar, decodeMove, decodeArith} {
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
