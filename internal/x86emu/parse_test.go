package x86emu

import (
	"slices"
	"strings"
	"testing"
)

const parseSrc = `#include "textflag.h"

DATA  ones<>+0(SB)/4, $(1.0)
DATA  ones<>+4(SB)/4, $0x01020304 // comments go
DATA  ones<>+8(SB)/8, $(-2.5)
GLOBL ones<>(SB), RODATA|NOPTR, $16
GLOBL late<>(SB), RODATA, $2
DATA  late<>+0(SB)/2, $7

TEXT ·second(SB), NOSPLIT, $0-72
	CMPQ BX, $0x00000020 // the block loop's limit
	RET

TEXT ·first(SB), NOSPLIT, $64-80
loop:
	VBROADCASTSS ones<>+0(SB), Y1
	JMP loop
`

func TestParse(t *testing.T) {
	p := mustParse(t, parseSrc)
	if p.File() != "test.s" {
		t.Errorf("File() = %q", p.File())
	}
	var names []string
	for _, f := range p.Funcs() {
		names = append(names, f.Name())
	}
	if !slices.Equal(names, []string{"second", "first"}) {
		t.Errorf("Funcs() are %v, want second and first, in the file's order", names)
	}
	if p.Func("third") != nil || p.Func("first") == nil {
		t.Errorf("Func: third exists or first does not")
	}

	ones, ok := p.Symbol("ones<>")
	want := []byte{0, 0, 0x80, 0x3f, 4, 3, 2, 1, 0, 0, 0, 0, 0, 0, 0x04, 0xc0}
	if !ok || !slices.Equal(ones, want) {
		t.Errorf("ones<> = % x, want % x", ones, want)
	}
	ones[0] = 9
	if again, _ := p.Symbol("ones<>"); again[0] != 0 {
		t.Errorf("Symbol returns the program's own bytes, not a copy")
	}
	if late, ok := p.Symbol("late<>"); !ok || !slices.Equal(late, []byte{7, 0}) {
		t.Errorf("late<> (DATA after GLOBL) = % x", late)
	}
	if _, ok := p.Symbol("none<>"); ok {
		t.Errorf("Symbol finds an undefined symbol")
	}

	ins := p.Func("second").Insts()
	if len(ins) != 2 {
		t.Fatalf("second has %d instructions, want 2", len(ins))
	}
	cmp := ins[0]
	if cmp.Line() != 11 || cmp.Text() != "CMPQ BX, $0x00000020" || cmp.Op() != "CMPQ" {
		t.Errorf("CMPQ parsed as line %d, %q, op %q", cmp.Line(), cmp.Text(), cmp.Op())
	}
	if v, ok := cmp.Imm(); !ok || v != 32 {
		t.Errorf("CMPQ's Imm() = %d, %v; want 32, true", v, ok)
	}
	if _, ok := ins[1].Imm(); ok {
		t.Errorf("RET has an immediate")
	}
	if ins[0].Hits() != 0 {
		t.Errorf("an instruction was executed by Parse")
	}
}

// TestParseErrors: each source is one thing the interpreter refuses to guess
// about, and must be refused with the line it is on.
func TestParseErrors(t *testing.T) {
	text := "TEXT ·k(SB), NOSPLIT, $0-72\n"
	for _, c := range []struct{ name, src, want string }{
		{"unknown instruction", text + "\tVPADDW Y0, Y1, Y2\n", "test.s:2: \"VPADDW Y0, Y1, Y2\": instruction or operand form not modeled"},
		{"unknown form", text + "\tADDQ AX, BX\n", "not modeled (ADDQ rr)"},
		{"unknown operand", text + "\tMOVQ AL, BX\n", `operand "AL" not modeled`},
		{"bad immediate", text + "\tADDQ $zz, BX\n", `immediate "$zz"`},
		{"immediate beyond 32 bits", text + "\tADDQ $0x100000000, BX\n", "not modeled (ADDQ ir)"},
		{"SP as an index", text + "\tVMOVUPS (AX)(SP*4), Y0\n", "not usable as an index register"},
		{"jump to a register", text + "\tJMP AX\n", "label AX is not in k"},
		{"jump to an expression", text + "\tJMP 4(PC)\n", "is not a label"},
		{"label of another function", text + "here:\n\tRET\nTEXT ·j(SB), NOSPLIT, $0-72\n\tJMP here\n", "test.s:5: \"JMP here\": label here is not in j"},
		{"duplicate label", text + "a:\na:\n", "test.s:3: \"a:\": duplicate label"},
		{"duplicate TEXT", text + text, "test.s:2: \"TEXT ·k(SB), NOSPLIT, $0-72\": duplicate TEXT"},
		{"instruction outside TEXT", "\tRET\n", "instruction outside TEXT"},
		{"other directive", text + "\tPCDATA $0, $1\n", "not modeled"},
		{"preprocessor", "#define X 1\n", "directive form not modeled"},
		{"writable data", "GLOBL v<>(SB), NOPTR, $8\n", "only read-only data"},
		{"duplicate GLOBL", "GLOBL v<>(SB), RODATA, $8\nGLOBL v<>(SB), RODATA, $8\n", "duplicate GLOBL"},
		{"DATA without GLOBL", "DATA v<>+0(SB)/4, $1\n", "test.s:1: DATA for v<> without GLOBL"},
		{"DATA past the end", "DATA v<>+6(SB)/4, $1\nGLOBL v<>(SB), RODATA, $8\n", "test.s:1: DATA past the end of v<>"},
		{"DATA overlapping", "DATA v<>+0(SB)/4, $1\nDATA v<>+2(SB)/2, $1\nGLOBL v<>(SB), RODATA, $8\n", "test.s:2: DATA overlaps"},
		{"DATA too wide", "DATA v<>+0(SB)/1, $256\nGLOBL v<>(SB), RODATA, $8\n", "bad value"},
		{"float32 constant rounded", "DATA v<>+0(SB)/4, $(0.1)\nGLOBL v<>(SB), RODATA, $8\n", "float constant (0.1) in 4 bytes not modeled"},
		{"unknown symbol", text + "\tVBROADCASTSS w<>+0(SB), Y0\n", "unknown symbol w<>"},
		{"writes SP", text + "\tADDQ $8, SP\n", "writes SP"},
		{"VEX-only on Z", text + "\tVMASKMOVPS (AX), Z1, Z0\n", "cannot name Z or X16..X31"},
		{"VEX-only on Y16", text + "\tVXORPS Y16, Y1, Y1\n", "cannot name Z or X16..X31"},
		{"Y16 without AVX512VL", text + "\tVADDPS Y16, Y17, Y18\n", "need AVX512VL"},
		{"EVEX-only on Y", text + "\tVMOVUPS.Z (AX), K1, Y0\n", "needs AVX512VL"},
		{"masked on Y", text + "\tVCMPPS $1, Y1, Y0, K1\n", "needs AVX512VL"},
		{"K0 as a write mask", text + "\tVMOVUPS Z0, K0, (AX)\n", "not modeled (VMOVUPS vkm)"},
		{"widths mixed", text + "\tVADDPS Y0, Z1, Z2\n", "not modeled (VADDPS vvv)"},
		{"compare predicate out of range", text + "\tVCMPPS $32, Y1, Y0, Y2\n", "not modeled"},
		{"broadcast of a double into X", text + "\tVBROADCASTSD (AX), X0\n", "not modeled"},
		{"LEAQ of an argument", text + "\tLEAQ x_base+0(FP), AX\n", "not modeled (LEAQ mr)"},
		{"VEX-only under a mask", text + "\tVPAND Y1, Y2, K1, Y3\n", "cannot take a K register or .Z"},
		{"VEX-only zeroing", text + "\tVRCPPS.Z Y1, K1, Y2\n", "cannot take a K register or .Z"},
		{"VEX-only estimate on Z", text + "\tVRCPPS Z1, Z2\n", "cannot name Z or X16..X31"},
		{"VEX-only integer op on Z", text + "\tVPAND Z1, Z2, Z3\n", "cannot name Z or X16..X31"},
		{"compare into a vector on Z", text + "\tVPCMPEQD Z1, Z2, Z3\n", "cannot name Z or X16..X31"},
		{"VPTEST on Z", text + "\tVPTEST Z1, Z2\n", "cannot name Z or X16..X31"},
		{"VMOVMSKPS of Z", text + "\tVMOVMSKPS Z1, AX\n", "cannot name Z or X16..X31"},
		{"EVEX-only integer op on Y", text + "\tVPANDD Y1, Y2, Y3\n", "needs AVX512VL"},
		{"EVEX-only estimate on Y", text + "\tVRCP14PS Y1, Y2\n", "needs AVX512VL"},
		{"EVEX compare on Y", text + "\tVPCMPD $1, Y1, Y2, K1\n", "needs AVX512VL"},
		{"masked arithmetic on Y", text + "\tVPADDD Y1, Y2, K1, Y3\n", "needs AVX512VL"},
		{"shift from memory on Y", text + "\tVPSRAD $3, (AX), Y1\n", "needs AVX512VL"},
		{"K0 as an arithmetic write mask", text + "\tVADDPS Z1, Z2, K0, Z3\n", "not modeled (VADDPS vvkv)"},
		{"K0 as a compare's write mask", text + "\tVPCMPUD $1, Z1, Z2, K0, K1\n", "not modeled (VPCMPUD ivvkk)"},
		{"zeroing without a mask", text + "\tVSQRTPS.Z Z1, Z2\n", "not modeled (VSQRTPS.Z vv)"},
		{"zeroing into a K register", text + "\tVCMPPS.Z $1, Z1, Z2, K1, K2\n", "not modeled"},
		{"VMOVAPS from memory", text + "\tVMOVAPS (AX), Z1\n", "not modeled (VMOVAPS mv)"},
		{"VMOVAPS merging from memory", text + "\tVMOVAPS (AX), K1, Z1\n", "not modeled (VMOVAPS mkv)"},
		{"shift count beyond a byte", text + "\tVPSRAD $256, Z1, Z2\n", "not modeled"},
		{"shift count negative", text + "\tVPSLLD $-1, Y1, Y2\n", "not modeled"},
		{"VPCMPD predicate beyond 7", text + "\tVPCMPD $8, Z1, Z2, K1\n", "not modeled"},
		{"KTESTW needs AVX512DQ", text + "\tKTESTW K1, K2\n", "not modeled (KTESTW kk)"},
		{"K op of two operands", text + "\tKANDW K1, K2\n", "not modeled (KANDW kk)"},
		{"signed jump", text + "\tJLT out\nout:\n\tRET\n", "not modeled (JLT l)"},
		{"CMPL immediate beyond 32 bits", text + "\tCMPL AX, $0x100000000\n", "not modeled (CMPL ri)"},
		{"TESTL immediate beyond 32 bits", text + "\tTESTL $-0x80000001, AX\n", "not modeled (TESTL ir)"},
		{"VMOVMSKPS into SP", text + "\tVMOVMSKPS Y0, SP\n", "writes SP"},
	} {
		t.Run(c.name, func(t *testing.T) {
			p, err := Parse("test.s", c.src)
			if err == nil {
				t.Fatalf("parsed, with functions %v", p.Funcs())
			}
			if !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %q, want one containing %q", err, c.want)
			}
		})
	}
}
