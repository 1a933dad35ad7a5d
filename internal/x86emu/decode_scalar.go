package x86emu

import (
	"encoding/binary"
	"fmt"
)

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
			x := m.gp[r]
			m.flags = flagState{valid: true, writer: op, cf: x < v, zf: x == v}
			return nil
		}

	case op == "TESTQ" && sh == "rr":
		r1, r2 := a[0].reg, a[1].reg
		return func(m *machine) error {
			m.flags = flagState{valid: true, writer: op, zf: m.gp[r1]&m.gp[r2] == 0}
			return nil
		}

	case jumps[op] && sh == "l":
		target := f.labels[a[0].name]
		return func(m *machine) error {
			taken := true
			if op != "JMP" {
				if !m.flags.valid {
					return fmt.Errorf("flags last written by %q, whose flags are not modeled", m.flags.writer)
				}
				taken = op == "JB" && m.flags.cf || op == "JZ" && m.flags.zf
			}
			if taken {
				m.pc = target
			}
			return nil
		}

	case op == "RET" && sh == "":
		return func(m *machine) error { m.ret = true; return nil }
	}
	return nil
}
