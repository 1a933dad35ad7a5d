package x86emu

import (
	"fmt"
	"math"
	"strings"
	"sync"
	"testing"
)

// loopSrc is a whole kernel of the generated ones' shape: x = x·g and s = s + g,
// a vector of 8 float32s per iteration, then a masked tail.
var loopSrc = kernel(tailData, 0, argsSize[float32](), `
loop:
	CMPQ    BX, $0x00000008
	JB      tail
	VMOVUPS (AX), Y0
	VMULPS  (DX), Y0, Y0
	VMOVUPS Y0, (AX)
	VMOVUPS (CX), Y1
	VADDPS  (DX), Y1, Y1
	VMOVUPS Y1, (CX)
	ADDQ    $0x00000020, AX
	ADDQ    $0x00000020, CX
	ADDQ    $0x00000020, DX
	SUBQ    $0x00000008, BX
	JMP     loop

tail:
	TESTQ      BX, BX
	JZ         done
	LEAQ       tail<>+0(SB), SI
	NEGQ       BX
	SHLQ       $0x02, BX
	VMOVDQU    32(SI)(BX*1), Y5
	VMASKMOVPS (AX), Y5, Y0
	VMASKMOVPS (DX), Y5, Y2
	VMULPS     Y2, Y0, Y0
	VMASKMOVPS Y0, Y5, (AX)
	VMASKMOVPS (CX), Y5, Y1
	VADDPS     Y2, Y1, Y1
	VMASKMOVPS Y1, Y5, (CX)

done:
	VZEROUPPER
	RET
`)

// TestLoop runs loopSrc on every length up to 40, on many goroutines at once,
// and counts the hits of the loop's instructions.
func TestLoop(t *testing.T) {
	p := mustParse(t, loopSrc)
	const maxN, runs = 40, 4
	var wg sync.WaitGroup
	errs := make(chan error, runs*(maxN+1))
	for range runs {
		for n := range maxN + 1 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				x, s, g := make([]float32, n), make([]float32, n), make([]float32, n)
				for i := range n {
					x[i], s[i], g[i] = float32(i)+0.5, float32(3*i), float32(i%5)-2
				}
				wx, ws := clone(x), clone(s)
				for i := range n {
					wx[i], ws[i] = x[i]*g[i], s[i]+g[i]
				}
				if err := Run(p, "k", []string{"a", "b"}, x, s, g, []float32{0, 0}, Config{}); err != nil {
					errs <- fmt.Errorf("n=%d: %w", n, err)
					return
				}
				for i := range n {
					if x[i] != wx[i] || s[i] != ws[i] {
						errs <- fmt.Errorf("n=%d: x[%d], s[%d] = %v, %v, want %v, %v", n, i, i, x[i], s[i], wx[i], ws[i])
						return
					}
				}
			}()
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}

	var vectors, tails int64
	for n := range maxN + 1 {
		vectors += int64(n / 8)
		if n%8 != 0 {
			tails++
		}
	}
	want := map[string]int64{
		"CMPQ": runs * (maxN + 1 + vectors), "VMULPS": runs * (vectors + tails), "JMP": runs * vectors,
		"TESTQ": runs * (maxN + 1), "VMOVDQU": runs * tails, "RET": runs * (maxN + 1),
	}
	got := map[string]int64{}
	for _, in := range p.Func("k").Insts() {
		if in.Hits() == 0 {
			t.Errorf("test.s:%d: %s was never executed", in.Line(), in.Text())
		}
		got[in.Op()] += in.Hits()
	}
	for op, w := range want {
		if got[op] != w {
			t.Errorf("%s executed %d times, want %d", op, got[op], w)
		}
	}
}

// TestControlErrors: what stops a run besides memory.
func TestControlErrors(t *testing.T) {
	for _, c := range []struct{ name, body, want string }{
		{"runaway loop", "spin:\n\tJMP spin\n", "k: still running after 384 instructions"},
		{"no RET", "\tVZEROUPPER\n", "k: ran past its last instruction without RET"},
		{"flags of ADDQ", "\tADDQ $0x08, BX\n\tJZ out\nout:\n\tRET\n", `JZ out: flags last written by "ADDQ", whose flags are not modeled`},
		{"flags never written", "\tJB out\nout:\n\tRET\n", `flags last written by ""`},
	} {
		t.Run(c.name, func(t *testing.T) {
			src := kernel("", 0, argsSize[float32](), c.body)
			wantErr(t, call(t, src, make([]float32, 8), make([]float32, 8), make([]float32, 8), 0, 0, Config{}), c.want)
		})
	}
}

// flagsSrc sets the flags with setup, after data, and jumps with jump: x and s
// become b where the jump is taken, a where not.
func flagsSrc(data, setup, jump string) string {
	return kernel(data, 0, argsSize[float32](), setup+`
	`+jump+` yes
	VBROADCASTSS a+72(FP), Y0
	JMP store
yes:
	VBROADCASTSS b+76(FP), Y0
store:
	VMOVUPS Y0, (AX)
	VMOVUPS Y0, (CX)
	VZEROUPPER
	RET
`)
}

// symData is the read-only symbol name holding the words, of size bytes each.
func symData(name string, size int, words ...uint64) string {
	var b strings.Builder
	for i, w := range words {
		fmt.Fprintf(&b, "DATA %s<>+%d(SB)/%d, $%#x\n", name, size*i, size, w)
	}
	return b.String() + fmt.Sprintf("GLOBL %s<>(SB), RODATA|NOPTR, $%d\n", name, size*len(words))
}

// conditions are the jumps' conditions as the Go assembler documents them
// (cmd/asm/internal/arch: "JCC: carry clear (CF = 0)", "JHI: higher (unsigned)
// (CF = 0 && ZF = 0)", ...), each under every name it takes.
var conditions = map[string]func(zf, cf bool) bool{
	"JCS": func(_, cf bool) bool { return cf }, "JB": func(_, cf bool) bool { return cf },
	"JC": func(_, cf bool) bool { return cf }, "JLO": func(_, cf bool) bool { return cf },
	"JNAE": func(_, cf bool) bool { return cf },
	"JCC":  func(_, cf bool) bool { return !cf }, "JAE": func(_, cf bool) bool { return !cf },
	"JNB": func(_, cf bool) bool { return !cf }, "JNC": func(_, cf bool) bool { return !cf },
	"JHS": func(_, cf bool) bool { return !cf },
	"JEQ": func(zf, _ bool) bool { return zf }, "JE": func(zf, _ bool) bool { return zf },
	"JZ":  func(zf, _ bool) bool { return zf },
	"JNE": func(zf, _ bool) bool { return !zf }, "JNZ": func(zf, _ bool) bool { return !zf },
	"JHI": func(zf, cf bool) bool { return !cf && !zf }, "JA": func(zf, cf bool) bool { return !cf && !zf },
	"JNBE": func(zf, cf bool) bool { return !cf && !zf },
	"JLS":  func(zf, cf bool) bool { return cf || zf }, "JBE": func(zf, cf bool) bool { return cf || zf },
	"JNA": func(zf, cf bool) bool { return cf || zf },
}

// TestFlags: the flags of CMP, TEST, KORTESTW, VPTEST, VTESTPS and VTESTPD, and
// every conditional jump on them.
func TestFlags(t *testing.T) {
	gp := func(r8, r9 uint64) string { return symData("gp", 8, r8, r9) }
	load := "\tMOVQ gp<>+0(SB), R8\n\tMOVQ gp<>+8(SB), R9\n\t"
	ks := func(k1, k2 uint16) string { return symData("ks", 2, uint64(k1), uint64(k2)) }
	kload := "\tKMOVW ks<>+0(SB), K1\n\tKMOVW ks<>+2(SB), K2\n\t"
	// vs holds Y1 and then Y2 (or the memory operand vs<>+32), in dwords.
	vs := func(y1, y2 [8]uint64) string { return symData("vs", 4, append(y1[:], y2[:]...)...) }
	vload := "\tVMOVUPS vs<>+0(SB), Y1\n\tVMOVUPS vs<>+32(SB), Y2\n\t"
	lane7 := func(v uint64) (l [8]uint64) { l[7] = v; return l }
	for _, c := range []struct {
		name, data, setup string
		zf, cf            bool
	}{
		{"CMPL equal in the low words", gp(0x1_0000_0005, 0), load + "CMPL R8, $5", true, false},
		{"CMPL below", gp(0xffff_ffff_0000_0004, 0), load + "CMPL R8, $5", false, true},
		{"CMPL above", gp(6, 0), load + "CMPL R8, $5", false, false},
		{"CMPL immediate unsigned", gp(0x7fff_ffff, 0), load + "CMPL R8, $0xffffffff", false, true},
		{"CMPL immediate −1", gp(0xffff_ffff, 0), load + "CMPL R8, $-1", true, false},
		{"CMPL registers", gp(3, 0xab_0000_0007), load + "CMPL R8, R9", false, true},
		{"CMPQ registers differ above", gp(0x1_0000_0005, 0), load + "CMPQ R8, $5", false, false},
		{"TESTL disjoint low words", gp(0xff_0000_000f, 0xff_0000_00f0), load + "TESTL R8, R9", true, false},
		{"TESTL immediate", gp(0x8000_0000, 0), load + "TESTL $0x80000000, R8", false, false},
		{"TESTL immediate disjoint", gp(0x7fff_ffff, 0), load + "TESTL $-0x80000000, R8", true, false},
		{"KORTESTW zeros", ks(0, 0), kload + "KORTESTW K1, K2", true, false},
		{"KORTESTW ones", ks(0xff00, 0x00ff), kload + "KORTESTW K1, K2", false, true},
		{"KORTESTW some", ks(0x0100, 0), kload + "KORTESTW K2, K1", false, false},
		// Go's "VPTEST a, b" is Intel's "VPTEST b, a": ZF is a ∧ b = 0, CF a ∧ ¬b = 0.
		{"VPTEST disjoint", vs(lane7(0xf0), lane7(0x0f)), vload + "VPTEST Y2, Y1", true, false},
		{"VPTEST subset", vs(lane7(0xff), lane7(0x0f)), vload + "VPTEST Y2, Y1", false, true},
		{"VPTEST superset", vs(lane7(0x0f), lane7(0xff)), vload + "VPTEST Y2, Y1", false, false},
		{"VPTEST from memory", vs(lane7(0xff), lane7(0x0f)), vload + "VPTEST vs<>+32(SB), Y1", false, true},
		{"VPTEST on X ignores lane 7", vs(lane7(0x0f), lane7(0xff)), vload + "VPTEST X2, X1", true, true},
		{"VTESTPS sign bits only", vs([8]uint64{0x7fffffff}, [8]uint64{0x7fffffff}), vload + "VTESTPS Y2, Y1", true, true},
		{"VTESTPS", vs([8]uint64{}, lane7(0x80000000)), vload + "VTESTPS Y2, Y1", true, false},
		{"VTESTPD", vs([8]uint64{}, lane7(0x80000000)), vload + "VTESTPD Y2, Y1", true, false},
		{"VTESTPD low dwords are no sign", vs([8]uint64{}, [8]uint64{0x80000000}), vload + "VTESTPD Y2, Y1", true, true},
		// VMOVMSKPS writes a 32-bit register, which zeroes the upper half.
		{"VMOVMSKPS", gp(math.MaxUint64, 0) + vs([8]uint64{1 << 31, 1, 1 << 31, 0, 0, 1 << 31, 0, 1 << 31}, [8]uint64{}),
			load + vload + "VMOVMSKPS Y1, R8\n\tCMPQ R8, $0xa5", true, false},
		{"VMOVMSKPS of X", gp(math.MaxUint64, 0) + vs([8]uint64{1 << 31, 1, 1 << 31, 1 << 31, 0, 1 << 31, 0, 1 << 31}, [8]uint64{}),
			load + vload + "VMOVMSKPS X1, R8\n\tCMPQ R8, $0x0d", true, false},
		{"VMOVMSKPD", gp(math.MaxUint64, 0) + vs([8]uint64{1 << 31, 1, 1 << 31, 1 << 31, 0, 0, 0, 1 << 31}, [8]uint64{}),
			load + vload + "VMOVMSKPD Y1, R8\n\tCMPL R8, $0x0a", true, false},
		// Vector, K-register and mask moves do not touch the flags.
		{"flags survive", ks(0xff00, 0x00ff) + gp(0, 0), kload + load + "KORTESTW K1, K2\n\tKANDW K1, K2, K3\n\tVPADDD Y1, Y1, Y1\n\tVMOVMSKPS Y1, R8", false, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			for jump, cond := range conditions {
				x, s := make([]float32, 8), make([]float32, 8)
				if err := call(t, flagsSrc(c.data, c.setup, jump), x, s, make([]float32, 8), 1, 2, Config{}); err != nil {
					t.Fatalf("%s: %v", jump, err)
				}
				if taken, want := x[0] == 2, cond(c.zf, c.cf); taken != want {
					t.Errorf("%s taken: %v, want %v (ZF %v, CF %v)", jump, taken, want, c.zf, c.cf)
				}
			}
		})
	}
}
