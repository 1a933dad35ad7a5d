package x86emu

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

type operandKind int

const (
	kindGP    operandKind = iota + 1 // AX, BX, ...
	kindVec                          // X0..X31, Y0..Y31, Z0..Z31
	kindMask                         // K0..K7
	kindImm                          // $imm
	kindMem                          // disp(base)(index*scale)
	kindArg                          // name+off(FP)
	kindSym                          // sym<>+off(SB)
	kindLabel                        // jump target
)

type operand struct {
	kind  operandKind
	reg   int    // register number; the base register of kindMem
	width int    // vector register width in bytes: 16, 32 or 64
	imm   int64  // immediate value, or displacement of a memory operand
	index int    // index register of kindMem, -1 if none
	scale int    // index scale of kindMem
	name  string // argument, symbol or label name
}

// isMem reports whether o names memory, whatever its addressing form.
func (o operand) isMem() bool {
	return o.kind == kindMem || o.kind == kindArg || o.kind == kindSym
}

var (
	vecRE   = regexp.MustCompile(`^([XYZ])([0-9]|[12][0-9]|3[01])$`)
	maskRE  = regexp.MustCompile(`^K([0-7])$`)
	argRE   = regexp.MustCompile(`^(\w+)\+(\d+)\(FP\)$`)
	symRE   = regexp.MustCompile(`^(\w+<>)(?:\+(\d+))?\(SB\)$`)
	memRE   = regexp.MustCompile(`^(-?(?:0x[0-9a-fA-F]+|\d+))?\((\w+)\)(?:\((\w+)\*([1248])\))?$`)
	identRE = regexp.MustCompile(`^[A-Za-z_]\w*$`)
)

// gpRegs numbers the general registers as the hardware does.
var gpRegs = map[string]int{
	"AX": 0, "CX": 1, "DX": 2, "BX": 3, "SP": 4, "BP": 5, "SI": 6, "DI": 7,
	"R8": 8, "R9": 9, "R10": 10, "R11": 11, "R12": 12, "R13": 13, "R14": 14, "R15": 15,
}

// regSP is SP's number: the stack pointer is the one register Run sets.
var regSP = gpRegs["SP"]

var vecWidths = map[string]int{"X": 16, "Y": 32, "Z": 64}

// parseOperand parses one operand; jump says that it is a jump's, whose only
// operand is a label, which could otherwise be mistaken for a register name.
func parseOperand(s string, jump bool) (operand, error) {
	if jump {
		if !identRE.MatchString(s) {
			return operand{}, fmt.Errorf("jump target %q is not a label", s)
		}
		return operand{kind: kindLabel, name: s}, nil
	}
	if strings.HasPrefix(s, "$") {
		v, err := strconv.ParseInt(s[1:], 0, 64)
		if err != nil {
			return operand{}, fmt.Errorf("immediate %q: %v", s, err)
		}
		return operand{kind: kindImm, imm: v}, nil
	}
	if r, ok := gpRegs[s]; ok {
		return operand{kind: kindGP, reg: r}, nil
	}
	if m := vecRE.FindStringSubmatch(s); m != nil {
		r, _ := strconv.Atoi(m[2])
		return operand{kind: kindVec, reg: r, width: vecWidths[m[1]]}, nil
	}
	if m := maskRE.FindStringSubmatch(s); m != nil {
		r, _ := strconv.Atoi(m[1])
		return operand{kind: kindMask, reg: r}, nil
	}
	if m := argRE.FindStringSubmatch(s); m != nil {
		off, err := strconv.ParseInt(m[2], 10, 32)
		if err != nil {
			return operand{}, fmt.Errorf("argument offset %q: %v", m[2], err)
		}
		return operand{kind: kindArg, name: m[1], imm: off}, nil
	}
	if m := symRE.FindStringSubmatch(s); m != nil {
		var off int64
		if m[2] != "" {
			var err error
			if off, err = strconv.ParseInt(m[2], 10, 32); err != nil {
				return operand{}, fmt.Errorf("symbol offset %q: %v", m[2], err)
			}
		}
		return operand{kind: kindSym, name: m[1], imm: off}, nil
	}
	if m := memRE.FindStringSubmatch(s); m != nil {
		o := operand{kind: kindMem, index: -1}
		if m[1] != "" {
			d, err := strconv.ParseInt(m[1], 0, 32)
			if err != nil {
				return operand{}, fmt.Errorf("displacement %q: %v", m[1], err)
			}
			o.imm = d
		}
		var ok bool
		if o.reg, ok = gpRegs[m[2]]; !ok {
			return operand{}, fmt.Errorf("base %q is not a general register", m[2])
		}
		if m[3] != "" {
			if o.index, ok = gpRegs[m[3]]; !ok || o.index == regSP {
				return operand{}, fmt.Errorf("index %q is not usable as an index register", m[3])
			}
			o.scale, _ = strconv.Atoi(m[4])
		}
		return o, nil
	}
	return operand{}, fmt.Errorf("operand %q not modeled", s)
}

// shape spells the operand kinds of args, one letter each, for decode's switch.
func shape(args []operand) string {
	var b strings.Builder
	for _, a := range args {
		switch {
		case a.isMem():
			b.WriteByte('m')
		case a.kind == kindGP:
			b.WriteByte('r')
		case a.kind == kindVec:
			b.WriteByte('v')
		case a.kind == kindMask:
			b.WriteByte('k')
		case a.kind == kindImm:
			b.WriteByte('i')
		case a.kind == kindLabel:
			b.WriteByte('l')
		}
	}
	return b.String()
}
