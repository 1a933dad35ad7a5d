package x86emu

import (
	"fmt"
	"math"
	"strings"
)

// region is one island of the address space. writes counts the stores to each byte
// so that Run can check that every element was written exactly once, and so that
// a read of the stack can be refused where nothing was stored first.
type region struct {
	name      string
	base      uint64
	data      []byte
	writes    []uint8
	readOnly  bool
	setBefore bool // reads need every byte written first (the local stack frame)
}

func (r *region) end() uint64 { return r.base + uint64(len(r.data)) }

// frameSlot is one named word of the Go ABI0 argument frame (x_base, x_len, lr, ...).
type frameSlot struct{ off, size int }

// flagState holds only the flags that the modeled jumps read, and who wrote them
// last, so that a jump on flags the model does not compute is an error.
type flagState struct {
	valid  bool
	writer string // the last flag-writing instruction
	zf, cf bool
}

type machine struct {
	gp    [16]uint64
	vec   [32][64]byte // Xn and Yn are the low 16 and 32 bytes of Zn
	k     [8]uint64
	flags flagState

	mem       []*region
	frame     map[string]frameSlot
	frameBase uint64
	syms      map[string]uint64
	estimates map[string]func(uint64) uint64 // by mnemonic, from Models

	pc    int
	ret   bool
	steps int
	limit int
}

// run executes fn until RET. The step limit turns a runaway loop into an error
// instead of a hung test.
func (m *machine) run(file string, fn *Func) error {
	m.pc = 0
	for !m.ret {
		if m.pc >= len(fn.insts) {
			return fmt.Errorf("%s: ran past its last instruction without RET", fn.name)
		}
		if m.steps >= m.limit {
			return fmt.Errorf("%s: still running after %d instructions", fn.name, m.steps)
		}
		in := fn.insts[m.pc]
		m.pc++
		m.steps++
		in.hits.Add(1)
		if err := in.exec(m); err != nil {
			return fmt.Errorf("%s:%d: %s: %w", file, in.line, in.text, err)
		}
	}
	return nil
}

// address computes the effective address of a memory operand accessing n bytes.
// Arguments are checked the way go vet's asmdecl would: the name must be the slot at
// that offset and the access exactly its size.
func (m *machine) address(o operand, n int) (uint64, error) {
	switch o.kind {
	case kindMem:
		a := m.gp[o.reg] + uint64(o.imm)
		if o.index >= 0 {
			a += m.gp[o.index] * uint64(o.scale)
		}
		return a, nil
	case kindArg:
		slot, ok := m.frame[o.name]
		if !ok {
			return 0, fmt.Errorf("no argument %s in the frame", o.name)
		}
		if int(o.imm) != slot.off || n != slot.size {
			return 0, fmt.Errorf("argument %s is %d bytes at +%d, operand accesses %d bytes at +%d", o.name, slot.size, slot.off, n, o.imm)
		}
		return m.frameBase + uint64(o.imm), nil
	case kindSym:
		base, ok := m.syms[o.name]
		if !ok {
			return 0, fmt.Errorf("no symbol %s", o.name)
		}
		return base + uint64(o.imm), nil
	}
	return 0, fmt.Errorf("operand is not memory")
}

// access returns the n bytes at addr, which must lie inside one region.
func (m *machine) access(addr uint64, n int, write bool) ([]byte, error) {
	verb := "read"
	if write {
		verb = "write"
	}
	for _, r := range m.mem {
		if addr >= r.base && addr <= r.end() && uint64(n) <= r.end()-addr {
			off := addr - r.base
			if write {
				if r.readOnly {
					return nil, fmt.Errorf("%s of %d bytes at %#x: %s is read-only", verb, n, addr, r.name)
				}
				for i := range uint64(n) {
					if r.writes[off+i] < math.MaxUint8 {
						r.writes[off+i]++
					}
				}
			} else if r.setBefore {
				for i := range uint64(n) {
					if r.writes[off+i] == 0 {
						return nil, fmt.Errorf("%s of %d bytes at %s+%d: byte %d was never written", verb, n, r.name, off, off+i)
					}
				}
			}
			return r.data[off : off+uint64(n)], nil
		}
	}
	var where []string
	for _, r := range m.mem {
		where = append(where, fmt.Sprintf("%s=[%#x,%#x)", r.name, r.base, r.end()))
	}
	return nil, fmt.Errorf("%s of %d bytes at %#x is outside mapped memory (%s)", verb, n, addr, strings.Join(where, " "))
}

func (m *machine) load(o operand, n int) ([]byte, error) {
	a, err := m.address(o, n)
	if err != nil {
		return nil, err
	}
	return m.access(a, n, false)
}

func (m *machine) store(o operand, b []byte) error {
	a, err := m.address(o, len(b))
	if err != nil {
		return err
	}
	dst, err := m.access(a, len(b), true)
	if err != nil {
		return err
	}
	copy(dst, b)
	return nil
}

// setVec writes b to the low bytes of a vector register and zeroes the rest up to
// bit 511: VEX and EVEX encodings both do, unlike legacy SSE, which these files
// never use.
func (m *machine) setVec(r int, b []byte) {
	var z [64]byte
	copy(z[:], b)
	m.vec[r] = z
}

// maskedLoad reads the active lanes of a vector at o and zeroes the others. Inactive
// lanes are never accessed, which is what lets a masked tail stop at the end of a
// slice: the hardware suppresses faults on them.
func (m *machine) maskedLoad(o operand, size, lanes int, active func(i int) bool) ([]byte, error) {
	a, err := m.address(o, size*lanes)
	if err != nil {
		return nil, err
	}
	out := make([]byte, size*lanes)
	for i := range lanes {
		if !active(i) {
			continue
		}
		b, err := m.access(a+uint64(i*size), size, false)
		if err != nil {
			return nil, fmt.Errorf("lane %d: %w", i, err)
		}
		copy(out[i*size:], b)
	}
	return out, nil
}

// maskedStore writes the active lanes of src to o and touches nothing else.
func (m *machine) maskedStore(src []byte, o operand, size, lanes int, active func(i int) bool) error {
	a, err := m.address(o, size*lanes)
	if err != nil {
		return err
	}
	for i := range lanes {
		if !active(i) {
			continue
		}
		dst, err := m.access(a+uint64(i*size), size, true)
		if err != nil {
			return fmt.Errorf("lane %d: %w", i, err)
		}
		copy(dst, src[i*size:(i+1)*size])
	}
	return nil
}

// vecMSB is the mask convention of VMASKMOV and VBLENDV: a lane is active when
// its top bit is set.
func (m *machine) vecMSB(r, size int) func(int) bool {
	return func(i int) bool { return m.vec[r][i*size+size-1]&0x80 != 0 }
}

func (m *machine) kbit(r int) func(int) bool {
	return func(i int) bool { return m.k[r]>>i&1 != 0 }
}
