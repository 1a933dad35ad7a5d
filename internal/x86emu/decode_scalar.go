package x86emu

import (
	"encoding/binary"
	"fmt"
	"math"
	"strings"
)

// flagsOnly are the instructions whose last operand is a source, so that they
// may name SP.
var flagsOnly = map[string]bool{"CMPQ": true, "CMPL": true, "TESTQ": true, "TESTL": true}

// jumps are the conditional jumps on CF and ZF, in every spelling the assembler
// takes (JCC and JCS are its own names for JAE and JB), each with its
// condition. Every instruction that writes the flags either sets both or marks
// them unknown, so that a jump reads the hardware's flags or refuses to run.
var jumps = func() map[string]func(flagState) bool {
	j := map[string]func(flagState) bool{}
	for names, cond := range map[string]func(f flagState) bool{
		"JCS JB JC JLO JNAE":  func(f flagState) bool { return f.cf },
		"JCC JAE JNB JNC JHS": func(f flagState) bool { return !f.cf },
		"JEQ JE JZ":           func(f flagState) bool { return f.zf },
		"JNE JNZ":             func(f flagState) bool { return !f.zf },
		"JHI JA JNBE":         func(f flagState) bool { return !f.cf && !f.zf },
		"JLS JBE JNA":         func(f flagState) bool { return f.cf || f.zf },
	} {
		for _, name := range strings.Fields(names) {
			j[name] = cond
		}
	}
	return j
}()

// subFlags are the flags of CMP x, v: x − v.
func subFlags(op string, x, v uint64) flagState {
	return flagState{valid: true, writer: op, cf: x < v, zf: x == v}
}

// imm32u reports whether o is an immediate of a 32-bit instruction.
func imm32u(o operand) bool { return imm32(o) || o.imm >= 0 && o.imm <= math.MaxUint32 }

// width is the mask of the bits that a Q or L integer instruction reads.
func width(op string) uint64 {
	if strings.HasSuffix(op, "L") {
		return math.MaxUint32
	}
	return math.MaxUint64
}

// decodeScalar decodes the general-register arithmetic and the control flow of
// the loops: what the flags of each instruction mean is modeled only where a
// jump reads them.
func decodeScalar(f *Func, op, sh string, a []operand) func(*machine) error {
	dirty := func(m *machine) { m.flags = flagState{writer: op} }
	switch {
	case op == "MOVQ" && sh == "mr":
		src, dst := a[0], a[1].reg
		return func(m *machine) error {
			b, err := m.load(src, 8)
			if err != nil {
				return err
			}
			m.gp[dst] = binary.LittleEndian.Uint64(b)
			return nil
		}

	case op == "LEAQ" && sh == "mr" && a[0].kind != kindArg:
		src, dst := a[0], a[1].reg
		return func(m *machine) error {
			addr, err := m.address(src, 0)
			m.gp[dst] = addr
			return err
		}

	case (op == "ADDQ" || op == "SUBQ") && sh == "ir" && imm32(a[0]):
		v, dst := uint64(a[0].imm), a[1].reg
		return func(m *machine) error {
			if op == "ADDQ" {
				m.gp[dst] += v
			} else {
				m.gp[dst] -= v
			}
			dirty(m) // their flags are real, but no jump here reads them; refuse rather than model
			return nil
		}

	case op == "NEGQ" && sh == "r":
		r := a[0].reg
		return func(m *machine) error {
			m.gp[r] = -m.gp[r]
			dirty(m)
			return nil
		}

	case op == "SHLQ" && sh == "ir" && a[0].imm >= 0 && a[0].imm < 256:
		n, r := uint(a[0].imm&63), a[1].reg
		return func(m *machine) error {
			m.gp[r] <<= n
			dirty(m)
			return nil
		}

	case op == "CMPQ" && sh == "ri" && imm32(a[1]):
		r, v := a[0].reg, uint64(a[1].imm)
		return func(m *machine) error {
			m.flags = subFlags(op, m.gp[r], v)
			return nil
		}

	// CMPL and TESTL read the low 32 bits of their registers. Their immediate is
	// any 32 bits, which the assembler also takes as an unsigned number.
	case op == "CMPL" && sh == "ri" && imm32u(a[1]):
		r, v := a[0].reg, uint64(uint32(a[1].imm))
		return func(m *machine) error {
			m.flags = subFlags(op, uint64(uint32(m.gp[r])), v)
			return nil
		}

	case op == "CMPL" && sh == "rr":
		r1, r2 := a[0].reg, a[1].reg
		return func(m *machine) error {
			m.flags = subFlags(op, uint64(uint32(m.gp[r1])), uint64(uint32(m.gp[r2])))
			return nil
		}

	case (op == "TESTQ" || op == "TESTL") && sh == "rr":
		r1, r2, w := a[0].reg, a[1].reg, width(op)
		return func(m *machine) error {
			m.flags = flagState{valid: true, writer: op, zf: m.gp[r1]&m.gp[r2]&w == 0}
			return nil
		}

	case op == "TESTL" && sh == "ir" && imm32u(a[0]):
		v, r := uint64(uint32(a[0].imm)), a[1].reg
		return func(m *machine) error {
			m.flags = flagState{valid: true, writer: op, zf: m.gp[r]&v == 0}
			return nil
		}

	case op == "JMP" && sh == "l":
		target := f.labels[a[0].name]
		return func(m *machine) error {
			m.pc = target
			return nil
		}

	case jumps[op] != nil && sh == "l":
		target, cond := f.labels[a[0].name], jumps[op]
		return func(m *machine) error {
			if !m.flags.valid {
				return fmt.Errorf("flags last written by %q, whose flags are not modeled", m.flags.writer)
			}
			if cond(m.flags) {
				m.pc = target
			}
			return nil
		}

	case op == "PREFETCHT0" && sh == "m":
		// A hint, which never faults, modeled as a read of the byte it names: a
		// kernel may prefetch only inside the memory it is given.
		o := a[0]
		return func(m *machine) error {
			_, err := m.load(o, 1)
			return err
		}

	case op == "RET" && sh == "":
		return func(m *machine) error { m.ret = true; return nil }
	}
	return nil
}
