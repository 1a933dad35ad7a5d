//go:build !purego

package asm

// The AVX-512 kernels cannot run on a machine without AVX-512, which includes the
// machines these tests are usually run on, so nothing there would ever notice a
// wrong tail mask or a swapped operand in them. This file closes that gap with a
// small interpreter for exactly the subset of Go amd64 assembly that
// adagrad_amd64.s uses. The interpreter is first held to the real CPU on the AVX2
// kernels, which share its instruction semantics (same lane arithmetic, same loop
// and tail structure), and only then trusted to execute the AVX-512 kernels, whose
// results are compared with package ref.
//
// The interpreter is deliberately strict: every instruction and operand form is
// checked when the file is parsed, including code no test reaches, and anything it
// does not model is an error rather than a guess. Memory is a sparse address space
// in which x, s, g, the read-only tables and the argument frame are separate
// islands, so a single byte read or written outside a slice is reported with the
// instruction that did it.

import (
	"encoding/binary"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/klauspost/cpuid/v2"

	"github.com/adagrad-go/adagrad/ref"
)

const asmFile = "adagrad_amd64.s"

// kernelNames is every TEXT symbol the tests expect in asmFile, so that a kernel
// added to the generator cannot escape them unnoticed.
var kernelNames = []string{
	"Update32AVX2", "Update64AVX2", "Update32AVX512", "Update64AVX512",
	"Traffic32AVX2", "Traffic64AVX2", "Traffic32AVX512", "Traffic64AVX512",
}

// ---------------------------------------------------------------------------
// Parsed program

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

type inst struct {
	line int
	text string
	op   string
	args []operand
	exec func(*machine) error
	hits int // times executed, so tests can show that every path was taken
}

type function struct {
	name    string
	argSize int // NN of $0-NN: the size of the Go argument frame
	insts   []*inst
	labels  map[string]int
}

type program struct {
	funcs map[string]*function
	syms  map[string][]byte // read-only data from DATA/GLOBL
}

var (
	textRE  = regexp.MustCompile(`^TEXT\s+·(\w+)\(SB\),\s*([A-Z|]+),\s*\$(\d+)-(\d+)$`)
	dataRE  = regexp.MustCompile(`^DATA\s+(\w+<>)\+(\d+)\(SB\)/([1248]),\s*\$(\S+)$`)
	globlRE = regexp.MustCompile(`^GLOBL\s+(\w+<>)\(SB\),\s*([A-Z|]+),\s*\$(\d+)$`)
	labelRE = regexp.MustCompile(`^([A-Za-z_]\w*):$`)
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

var jumps = map[string]bool{"JMP": true, "JB": true, "JZ": true}

// parseProgram parses and decodes a whole assembly file. Every instruction is
// decoded here, not when first executed, so an unmodeled form on a path the tests
// never reach is still an error.
func parseProgram(src string) (*program, error) {
	type datum struct{ line, off, size int }
	p := &program{funcs: map[string]*function{}, syms: map[string][]byte{}}
	data := map[string][]datum{}
	values := map[string][]uint64{}
	var f *function
	var order []*function
	for i, raw := range strings.Split(src, "\n") {
		line := i + 1
		text := raw
		if j := strings.Index(text, "//"); j >= 0 {
			text = text[:j]
		}
		text = strings.TrimSpace(text)
		fail := func(format string, args ...any) error {
			return fmt.Errorf("%s:%d: %q: %s", asmFile, line, text, fmt.Sprintf(format, args...))
		}
		if text == "" || text == `#include "textflag.h"` {
			continue
		}
		if m := textRE.FindStringSubmatch(text); m != nil {
			if p.funcs[m[1]] != nil {
				return nil, fail("duplicate TEXT")
			}
			if m[3] != "0" {
				return nil, fail("a local stack frame is not modeled")
			}
			size, _ := strconv.Atoi(m[4])
			f = &function{name: m[1], argSize: size, labels: map[string]int{}}
			p.funcs[f.name] = f
			order = append(order, f)
			continue
		}
		if m := dataRE.FindStringSubmatch(text); m != nil {
			off, _ := strconv.Atoi(m[2])
			size, _ := strconv.Atoi(m[3])
			v, err := strconv.ParseUint(m[4], 0, 8*size)
			if err != nil {
				return nil, fail("bad value: %v", err)
			}
			data[m[1]] = append(data[m[1]], datum{line, off, size})
			values[m[1]] = append(values[m[1]], v)
			continue
		}
		if m := globlRE.FindStringSubmatch(text); m != nil {
			if !slices.Contains(strings.Split(m[2], "|"), "RODATA") {
				return nil, fail("only read-only data is modeled")
			}
			if p.syms[m[1]] != nil {
				return nil, fail("duplicate GLOBL")
			}
			size, _ := strconv.Atoi(m[3])
			p.syms[m[1]] = make([]byte, size)
			continue
		}
		if strings.HasPrefix(text, "DATA") || strings.HasPrefix(text, "GLOBL") || strings.HasPrefix(text, "TEXT") || strings.HasPrefix(text, "#") {
			return nil, fail("directive form not modeled")
		}
		if f == nil {
			return nil, fail("instruction outside TEXT")
		}
		if m := labelRE.FindStringSubmatch(text); m != nil {
			if _, dup := f.labels[m[1]]; dup {
				return nil, fail("duplicate label")
			}
			f.labels[m[1]] = len(f.insts)
			continue
		}
		in := &inst{line: line, text: text}
		fields := strings.Fields(text)
		in.op = fields[0]
		if rest := strings.TrimSpace(strings.TrimPrefix(text, in.op)); rest != "" {
			for _, s := range strings.Split(rest, ",") {
				o, err := parseOperand(strings.TrimSpace(s), jumps[in.op])
				if err != nil {
					return nil, fail("%v", err)
				}
				in.args = append(in.args, o)
			}
		}
		f.insts = append(f.insts, in)
	}

	for name, ds := range data {
		buf := p.syms[name]
		if buf == nil {
			return nil, fmt.Errorf("%s:%d: DATA for %s without GLOBL", asmFile, ds[0].line, name)
		}
		set := make([]bool, len(buf))
		for i, d := range ds {
			if d.off+d.size > len(buf) {
				return nil, fmt.Errorf("%s:%d: DATA past the end of %s", asmFile, d.line, name)
			}
			for b := d.off; b < d.off+d.size; b++ {
				if set[b] {
					return nil, fmt.Errorf("%s:%d: DATA overlaps earlier DATA of %s", asmFile, d.line, name)
				}
				set[b] = true
			}
			putLane(buf[d.off:], 0, d.size, values[name][i])
		}
	}

	for _, f := range order {
		for _, in := range f.insts {
			if err := p.decode(f, in); err != nil {
				return nil, fmt.Errorf("%s:%d: %q: %v", asmFile, in.line, in.text, err)
			}
		}
	}
	return p, nil
}

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
		return operand{kind: kindVec, reg: r, width: map[string]int{"X": 16, "Y": 32, "Z": 64}[m[1]]}, nil
	}
	if m := maskRE.FindStringSubmatch(s); m != nil {
		r, _ := strconv.Atoi(m[1])
		return operand{kind: kindMask, reg: r}, nil
	}
	if m := argRE.FindStringSubmatch(s); m != nil {
		off, _ := strconv.ParseInt(m[2], 10, 64)
		return operand{kind: kindArg, name: m[1], imm: off}, nil
	}
	if m := symRE.FindStringSubmatch(s); m != nil {
		var off int64
		if m[2] != "" {
			off, _ = strconv.ParseInt(m[2], 10, 64)
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
			if o.index, ok = gpRegs[m[3]]; !ok || m[3] == "SP" {
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

// ---------------------------------------------------------------------------
// Lane arithmetic

// Each lane function performs one IEEE operation in Go, which on amd64 compiles to
// the scalar SSE instruction with the same rounding as the packed one; the explicit
// conversions keep the compiler from fusing anything. Arguments are in Go operand
// order: "VSUBPS a, b, c" computes c = b - a.

func f32bin(f func(b, a float32) float32) func(b, a uint64) uint64 {
	return func(b, a uint64) uint64 {
		return uint64(math.Float32bits(f(math.Float32frombits(uint32(b)), math.Float32frombits(uint32(a)))))
	}
}

func f64bin(f func(b, a float64) float64) func(b, a uint64) uint64 {
	return func(b, a uint64) uint64 {
		return math.Float64bits(f(math.Float64frombits(b), math.Float64frombits(a)))
	}
}

var binaryOps = map[string]func(b, a uint64) uint64{
	"VADDPS": f32bin(func(b, a float32) float32 { return float32(b + a) }),
	"VSUBPS": f32bin(func(b, a float32) float32 { return float32(b - a) }),
	"VMULPS": f32bin(func(b, a float32) float32 { return float32(b * a) }),
	"VDIVPS": f32bin(func(b, a float32) float32 { return float32(b / a) }),
	"VADDPD": f64bin(func(b, a float64) float64 { return float64(b + a) }),
	"VSUBPD": f64bin(func(b, a float64) float64 { return float64(b - a) }),
	"VMULPD": f64bin(func(b, a float64) float64 { return float64(b * a) }),
	"VDIVPD": f64bin(func(b, a float64) float64 { return float64(b / a) }),
}

var unaryOps = map[string]func(a uint64) uint64{
	// The float64 root of a float32 rounds correctly to float32 (see package ref).
	"VSQRTPS": func(a uint64) uint64 {
		return uint64(math.Float32bits(float32(math.Sqrt(float64(math.Float32frombits(uint32(a)))))))
	},
	"VSQRTPD": func(a uint64) uint64 { return math.Float64bits(math.Sqrt(math.Float64frombits(a))) },
}

// elemSize is the lane size implied by a packed mnemonic's suffix (PS, PD, SS, SD).
func elemSize(op string) int {
	op = strings.TrimSuffix(op, ".Z")
	if strings.HasSuffix(op, "S") {
		return 4
	}
	return 8
}

func lane(b []byte, i, size int) uint64 {
	if size == 4 {
		return uint64(binary.LittleEndian.Uint32(b[i*4:]))
	}
	return binary.LittleEndian.Uint64(b[i*8:])
}

func putLane(b []byte, i, size int, v uint64) {
	switch size {
	case 1:
		b[i] = byte(v)
	case 2:
		binary.LittleEndian.PutUint16(b[i*2:], uint16(v))
	case 4:
		binary.LittleEndian.PutUint32(b[i*4:], uint32(v))
	default:
		binary.LittleEndian.PutUint64(b[i*8:], v)
	}
}

// ---------------------------------------------------------------------------
// Machine

// region is one island of the address space. writes counts the stores to each byte
// so the harness can check that every element was written exactly once.
type region struct {
	name     string
	base     uint64
	data     []byte
	writes   []uint8
	readOnly bool
}

func (r *region) end() uint64 { return r.base + uint64(len(r.data)) }

// frameSlot is one named word of the Go ABI0 argument frame (x_base, x_len, lr, ...).
type frameSlot struct{ off, size int }

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

	fn    *function
	pc    int
	ret   bool
	steps int
	limit int
}

// run executes fn until RET. The step limit turns a runaway loop into an error
// instead of a hung test.
func (m *machine) run(fn *function) error {
	m.fn, m.pc = fn, 0
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
		in.hits++
		if err := in.exec(m); err != nil {
			return fmt.Errorf("%s:%d: %s: %w", asmFile, in.line, in.text, err)
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
			if write {
				if r.readOnly {
					return nil, fmt.Errorf("%s of %d bytes at %#x: %s is read-only", verb, n, addr, r.name)
				}
				off := addr - r.base
				for i := range uint64(n) {
					if r.writes[off+i] < math.MaxUint8 {
						r.writes[off+i]++
					}
				}
			}
			return r.data[addr-r.base : addr-r.base+uint64(n)], nil
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
// bit 511: VEX and EVEX encodings both do, unlike legacy SSE, which this file never
// uses.
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

// vecMSB is the mask convention of VMASKMOV: a lane is active when its top bit is set.
func (m *machine) vecMSB(r, size int) func(int) bool {
	return func(i int) bool { return m.vec[r][i*size+size-1]&0x80 != 0 }
}

func (m *machine) kbit(r int) func(int) bool {
	return func(i int) bool { return m.k[r]>>i&1 != 0 }
}

// ---------------------------------------------------------------------------
// Decoding

// decode checks that in is a form the machine models and sets in.exec. The checks
// include encodability (VEX-only instructions cannot name Z or X16..X31, K0 cannot
// be a write mask), so that the emulator does not run code the assembler or CPU
// would reject or interpret differently.
func (p *program) decode(f *function, in *inst) error {
	a := in.args
	sh := shape(a)
	op := in.op
	vexOnly := op == "VMASKMOVPS" || op == "VMASKMOVPD" || op == "VMOVDQU" || op == "VZEROUPPER"
	for _, o := range a {
		if o.kind == kindVec && vexOnly && (o.width > 32 || o.reg > 15) {
			return fmt.Errorf("%s has no encoding for this register", op)
		}
		if o.kind == kindSym && p.syms[o.name] == nil {
			return fmt.Errorf("unknown symbol %s", o.name)
		}
		if o.kind == kindLabel {
			if _, ok := f.labels[o.name]; !ok {
				return fmt.Errorf("label %s is not in %s", o.name, f.name)
			}
		}
	}
	sameWidth := func(vs ...operand) bool {
		for _, v := range vs {
			if v.width != vs[0].width {
				return false
			}
		}
		return true
	}
	imm32 := func(o operand) bool { return o.imm == int64(int32(o.imm)) }
	dirty := func(m *machine) { m.flags = flagState{writer: op} }

	switch {
	case op == "MOVQ" && sh == "mr":
		src, dst := a[0], a[1].reg
		in.exec = func(m *machine) error {
			b, err := m.load(src, 8)
			if err != nil {
				return err
			}
			m.gp[dst] = binary.LittleEndian.Uint64(b)
			return nil
		}

	case op == "LEAQ" && sh == "mr" && a[0].kind != kindArg:
		src, dst := a[0], a[1].reg
		in.exec = func(m *machine) error {
			addr, err := m.address(src, 0)
			m.gp[dst] = addr
			return err
		}

	case (op == "ADDQ" || op == "SUBQ") && sh == "ir" && imm32(a[0]):
		v, dst := uint64(a[0].imm), a[1].reg
		in.exec = func(m *machine) error {
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
		in.exec = func(m *machine) error {
			m.gp[r] = -m.gp[r]
			dirty(m)
			return nil
		}

	case op == "SHLQ" && sh == "ir" && a[0].imm >= 0 && a[0].imm < 256:
		n, r := uint(a[0].imm&63), a[1].reg
		in.exec = func(m *machine) error {
			m.gp[r] <<= n
			dirty(m)
			return nil
		}

	case op == "CMPQ" && sh == "ri" && imm32(a[1]):
		r, v := a[0].reg, uint64(a[1].imm)
		in.exec = func(m *machine) error {
			x := m.gp[r]
			m.flags = flagState{valid: true, writer: op, cf: x < v, zf: x == v}
			return nil
		}

	case op == "TESTQ" && sh == "rr":
		r1, r2 := a[0].reg, a[1].reg
		in.exec = func(m *machine) error {
			m.flags = flagState{valid: true, writer: op, zf: m.gp[r1]&m.gp[r2] == 0}
			return nil
		}

	case jumps[op] && sh == "l":
		target := f.labels[a[0].name]
		in.exec = func(m *machine) error {
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
		in.exec = func(m *machine) error { m.ret = true; return nil }

	case op == "VZEROUPPER" && sh == "":
		in.exec = func(m *machine) error {
			for r := range 16 {
				clear(m.vec[r][16:])
			}
			return nil
		}

	case op == "KMOVW" && sh == "mk":
		src, dst := a[0], a[1].reg
		in.exec = func(m *machine) error {
			b, err := m.load(src, 2)
			if err != nil {
				return err
			}
			m.k[dst] = uint64(binary.LittleEndian.Uint16(b))
			return nil
		}

	case (op == "VBROADCASTSS" || op == "VBROADCASTSD") && sh == "mv" && !(op == "VBROADCASTSD" && a[1].width == 16):
		src, dst, size := a[0], a[1], elemSize(op)
		in.exec = func(m *machine) error {
			b, err := m.load(src, size)
			if err != nil {
				return err
			}
			out := make([]byte, dst.width)
			for i := range dst.width / size {
				copy(out[i*size:], b)
			}
			m.setVec(dst.reg, out)
			return nil
		}

	case (op == "VMOVUPS" || op == "VMOVUPD" || op == "VMOVDQU") && sh == "mv":
		src, dst := a[0], a[1]
		in.exec = func(m *machine) error {
			b, err := m.load(src, dst.width)
			if err != nil {
				return err
			}
			m.setVec(dst.reg, b)
			return nil
		}

	case (op == "VMOVUPS" || op == "VMOVUPD" || op == "VMOVDQU") && sh == "vm":
		src, dst := a[0], a[1]
		in.exec = func(m *machine) error {
			return m.store(dst, slices.Clone(m.vec[src.reg][:src.width]))
		}

	case (op == "VMOVUPS.Z" || op == "VMOVUPD.Z") && sh == "mkv" && a[1].reg != 0:
		src, k, dst, size := a[0], a[1].reg, a[2], elemSize(op)
		in.exec = func(m *machine) error {
			b, err := m.maskedLoad(src, size, dst.width/size, m.kbit(k))
			if err != nil {
				return err
			}
			m.setVec(dst.reg, b)
			return nil
		}

	case (op == "VMOVUPS" || op == "VMOVUPD") && sh == "vkm" && a[1].reg != 0:
		src, k, dst, size := a[0], a[1].reg, a[2], elemSize(op)
		in.exec = func(m *machine) error {
			return m.maskedStore(slices.Clone(m.vec[src.reg][:src.width]), dst, size, src.width/size, m.kbit(k))
		}

	case (op == "VMASKMOVPS" || op == "VMASKMOVPD") && sh == "mvv" && sameWidth(a[1], a[2]):
		src, mask, dst, size := a[0], a[1].reg, a[2], elemSize(op)
		in.exec = func(m *machine) error {
			b, err := m.maskedLoad(src, size, dst.width/size, m.vecMSB(mask, size))
			if err != nil {
				return err
			}
			m.setVec(dst.reg, b)
			return nil
		}

	case (op == "VMASKMOVPS" || op == "VMASKMOVPD") && sh == "vvm" && sameWidth(a[0], a[1]):
		src, mask, dst, size := a[0], a[1].reg, a[2], elemSize(op)
		in.exec = func(m *machine) error {
			return m.maskedStore(slices.Clone(m.vec[src.reg][:src.width]), dst, size, src.width/size, m.vecMSB(mask, size))
		}

	case binaryOps[op] != nil && sh == "vvv" && sameWidth(a...):
		fn, x, y, dst, size := binaryOps[op], a[0].reg, a[1].reg, a[2], elemSize(op)
		in.exec = func(m *machine) error {
			out := make([]byte, dst.width)
			for i := range dst.width / size {
				putLane(out, i, size, fn(lane(m.vec[y][:], i, size), lane(m.vec[x][:], i, size)))
			}
			m.setVec(dst.reg, out)
			return nil
		}

	case unaryOps[op] != nil && sh == "vv" && sameWidth(a...):
		fn, x, dst, size := unaryOps[op], a[0].reg, a[1], elemSize(op)
		in.exec = func(m *machine) error {
			out := make([]byte, dst.width)
			for i := range dst.width / size {
				putLane(out, i, size, fn(lane(m.vec[x][:], i, size)))
			}
			m.setVec(dst.reg, out)
			return nil
		}

	default:
		return fmt.Errorf("instruction or operand form not modeled (%s %s)", op, sh)
	}
	return nil
}

// ---------------------------------------------------------------------------
// Calling a kernel

type float interface{ float32 | float64 }

func sizeOf[T float]() int {
	var z T
	if _, ok := any(z).(float32); ok {
		return 4
	}
	return 8
}

func bitsOf[T float](v T) uint64 {
	if f, ok := any(v).(float32); ok {
		return uint64(math.Float32bits(f))
	}
	return math.Float64bits(any(v).(float64))
}

// fromBits stores through a pointer rather than converting, so a signalling NaN
// keeps its exact bits.
func fromBits[T float](b uint64) T {
	var v T
	switch p := any(&v).(type) {
	case *float32:
		*p = math.Float32frombits(uint32(b))
	case *float64:
		*p = math.Float64frombits(b)
	}
	return v
}

func encode[T float](v []T) []byte {
	size := sizeOf[T]()
	b := make([]byte, len(v)*size)
	for i, e := range v {
		putLane(b, i, size, bitsOf(e))
	}
	return b
}

// The islands of the address space are far apart, so a stray pointer lands in
// unmapped space rather than in a neighbour that would hide it.
const (
	xBase     = 0x1000_0000
	sBase     = 0x2000_0000
	gBase     = 0x3000_0000
	symBase   = 0x4000_0000 // one island per symbol, symStride apart
	symStride = 0x0100_0000
	frameBase = 0x5000_0000
)

// emulate calls kernel name of p on x, s and g with the scalar arguments args
// (named params), and copies the results back into x and s. Beyond the memory
// checks of the machine it enforces the contract all kernels share: each byte of
// x and s is written exactly once, g never. Registers start with garbage from rng,
// as they would on hardware, so a read of a register the kernel never set shows.
func emulate[T float](p *program, name string, params []string, x, s, g, args []T, rng *rand.Rand) error {
	f := p.funcs[name]
	if f == nil {
		return fmt.Errorf("no TEXT ·%s in %s", name, asmFile)
	}
	n := len(x)
	if len(s) != n || len(g) != n || len(params) != len(args) {
		panic("emulate: inconsistent arguments")
	}
	size := sizeOf[T]()
	m := &machine{frame: map[string]frameSlot{}, frameBase: frameBase, syms: map[string]uint64{}, limit: 256 + 16*n}
	xs := []*region{
		{name: "x", base: xBase, data: encode(x)},
		{name: "s", base: sBase, data: encode(s)},
		{name: "g", base: gBase, data: encode(g)},
	}
	for _, r := range xs {
		r.writes = make([]uint8, len(r.data))
		m.mem = append(m.mem, r)
	}
	names := make([]string, 0, len(p.syms))
	for sym := range p.syms {
		names = append(names, sym)
	}
	slices.Sort(names)
	for i, sym := range names {
		base := uint64(symBase + i*symStride)
		m.syms[sym] = base
		m.mem = append(m.mem, &region{name: sym, base: base, data: slices.Clone(p.syms[sym]), readOnly: true})
	}

	// The Go ABI0 frame: each slice as (ptr, len, cap), then each scalar at its
	// natural alignment, the whole rounded up to the pointer size.
	var frame []byte
	for _, r := range xs {
		for _, w := range []struct {
			part string
			v    uint64
		}{{"_base", r.base}, {"_len", uint64(n)}, {"_cap", uint64(n)}} {
			m.frame[r.name+w.part] = frameSlot{off: len(frame), size: 8}
			frame = binary.LittleEndian.AppendUint64(frame, w.v)
		}
	}
	for i, v := range args {
		for len(frame)%size != 0 {
			frame = append(frame, 0)
		}
		m.frame[params[i]] = frameSlot{off: len(frame), size: size}
		frame = append(frame, encode([]T{v})...)
	}
	for len(frame)%8 != 0 {
		frame = append(frame, 0)
	}
	if len(frame) != f.argSize {
		return fmt.Errorf("the Go frame of its arguments is %d bytes, TEXT declares $0-%d", len(frame), f.argSize)
	}
	m.mem = append(m.mem, &region{name: "args", base: frameBase, data: frame, readOnly: true})

	for i := range m.gp {
		m.gp[i] = rng.Uint64()
	}
	for i := range m.vec {
		for j := range m.vec[i] {
			m.vec[i][j] = byte(rng.Uint32())
		}
	}
	for i := range m.k {
		m.k[i] = rng.Uint64()
	}

	if err := m.run(f); err != nil {
		return err
	}
	for _, r := range xs {
		want := uint8(1)
		if r.name == "g" {
			want = 0
		}
		for i, c := range r.writes {
			if c != want {
				return fmt.Errorf("byte %d of %s (element %d of %d) was written %d times, want %d", i, r.name, i/size, n, c, want)
			}
		}
	}
	for i := range x {
		x[i] = fromBits[T](lane(xs[0].data, i, size))
		s[i] = fromBits[T](lane(xs[1].data, i, size))
	}
	return nil
}

// ---------------------------------------------------------------------------
// Kernels, inputs and comparison

// kernel pairs one assembly function with the Go code that defines its result.
// native is only safe to call when the CPU has the function's ISA.
type kernel[T float] struct {
	name   string
	params []string
	native func(x, s, g, args []T)
	model  func(x, s, g, args []T)
}

func traffic[T float](x, s, g, _ []T) {
	for i := range x {
		s[i] = s[i] + g[i]
		x[i] = x[i] - g[i]
	}
}

func kernels32() []kernel[float32] {
	up := func(x, s, g, a []float32) { ref.Update32(x, s, g, a[0], a[1]) }
	lrEps := []string{"lr", "eps"}
	return []kernel[float32]{
		{"Update32AVX2", lrEps, func(x, s, g, a []float32) { Update32AVX2(x, s, g, a[0], a[1]) }, up},
		{"Update32AVX512", lrEps, func(x, s, g, a []float32) { Update32AVX512(x, s, g, a[0], a[1]) }, up},
		{"Traffic32AVX2", nil, func(x, s, g, _ []float32) { Traffic32AVX2(x, s, g) }, traffic[float32]},
		{"Traffic32AVX512", nil, func(x, s, g, _ []float32) { Traffic32AVX512(x, s, g) }, traffic[float32]},
	}
}

func kernels64() []kernel[float64] {
	up := func(x, s, g, a []float64) { ref.Update64(x, s, g, a[0], a[1]) }
	lrEps := []string{"lr", "eps"}
	return []kernel[float64]{
		{"Update64AVX2", lrEps, func(x, s, g, a []float64) { Update64AVX2(x, s, g, a[0], a[1]) }, up},
		{"Update64AVX512", lrEps, func(x, s, g, a []float64) { Update64AVX512(x, s, g, a[0], a[1]) }, up},
		{"Traffic64AVX2", nil, func(x, s, g, _ []float64) { Traffic64AVX2(x, s, g) }, traffic[float64]},
		{"Traffic64AVX512", nil, func(x, s, g, _ []float64) { Traffic64AVX512(x, s, g) }, traffic[float64]},
	}
}

// randomValue mixes ordinary magnitudes with the values where a kernel most
// plausibly parts from the specification: signed zeros, infinities, NaNs with any
// payload (quiet or signalling), subnormals, and both ends of the normal range.
func randomValue[T float](rng *rand.Rand) T {
	size := sizeOf[T]()
	mant, maxF, minN := 23, float64(math.MaxFloat32), 0x1p-126
	if size == 8 {
		mant, maxF, minN = 52, math.MaxFloat64, 0x1p-1022
	}
	signBit := uint64(1) << (8*size - 1)
	mantMask := uint64(1)<<mant - 1
	expAll := (signBit - 1) &^ mantMask
	sign := uint64(0)
	if rng.IntN(2) == 0 {
		sign = signBit
	}
	var v T
	switch rng.IntN(20) {
	case 0:
		return fromBits[T](sign)
	case 1:
		return fromBits[T](sign | expAll)
	case 2:
		return fromBits[T](sign | expAll | rng.Uint64()&mantMask | 1)
	case 3:
		return fromBits[T](sign | rng.Uint64()&mantMask | 1)
	case 4:
		v = T(minN * (1 + 3*rng.Float64()))
	case 5:
		v = T(maxF * (0.25 + 0.75*rng.Float64()))
	case 6:
		return fromBits[T](rng.Uint64() >> (64 - 8*size))
	default:
		v = T(math.Ldexp(1+rng.Float64(), rng.IntN(41)-20))
	}
	return fromBits[T](bitsOf(v) | sign)
}

// randomInputs returns x, s and g of length n. Accumulators are mostly
// non-negative, as in real use, but not always.
func randomInputs[T float](rng *rand.Rand, n int) (x, s, g []T) {
	x, s, g = make([]T, n), make([]T, n), make([]T, n)
	signBit := uint64(1) << (8*sizeOf[T]() - 1)
	for i := range n {
		x[i], s[i], g[i] = randomValue[T](rng), randomValue[T](rng), randomValue[T](rng)
		if rng.IntN(4) != 0 {
			s[i] = fromBits[T](bitsOf(s[i]) &^ signBit)
		}
	}
	return x, s, g
}

// argSets are the scalar arguments each length is run with: a usual step, a zero
// and a negative rate, a zero and a negative-zero eps, and a subnormal eps.
func argSets[T float](params int) [][]T {
	if params == 0 {
		return [][]T{nil}
	}
	negZero := fromBits[T](uint64(1) << (8*sizeOf[T]() - 1))
	return [][]T{{0.01, 1e-8}, {0, 1e-8}, {-0.5, 1e-6}, {0.1, 0}, {3, negZero}, {1, fromBits[T](1)}}
}

func lengths(upTo int, extra ...int) []int {
	var ns []int
	for n := range upTo + 1 {
		ns = append(ns, n)
	}
	return append(ns, extra...)
}

// same reports equal bits, or two NaNs: the payload of a NaN is not part of any
// kernel's contract.
func same[T float](a, b T) bool { return bitsOf(a) == bitsOf(b) || (a != a && b != b) }

func firstDiff[T float](what string, got, want []T) error {
	for i := range want {
		if !same(got[i], want[i]) {
			return fmt.Errorf("%s[%d] = %v (%#x), want %v (%#x)", what, i, got[i], bitsOf(got[i]), want[i], bitsOf(want[i]))
		}
	}
	return nil
}

// check emulates k for every length in lens and every argument set, and compares
// x, s and g with what want leaves in copies of the same inputs. It returns the
// first discrepancy instead of failing, so that a deliberately broken kernel can be
// required to produce one.
func check[T float](p *program, k kernel[T], lens []int, want func(x, s, g, args []T)) error {
	for _, n := range lens {
		for ai, args := range argSets[T](len(k.params)) {
			rng := rand.New(rand.NewPCG(uint64(n), uint64(ai)))
			x, s, g := randomInputs[T](rng, n)
			wx, ws, wg := slices.Clone(x), slices.Clone(s), slices.Clone(g)
			want(wx, ws, wg, args)
			if err := emulate(p, k.name, k.params, x, s, g, args, rng); err != nil {
				return fmt.Errorf("%s n=%d args=%v: %w", k.name, n, args, err)
			}
			for _, c := range []struct {
				what      string
				got, want []T
			}{{"x", x, wx}, {"s", s, ws}, {"g", g, wg}} {
				if err := firstDiff(c.what, c.got, c.want); err != nil {
					return fmt.Errorf("%s n=%d args=%v: %w", k.name, n, args, err)
				}
			}
		}
	}
	return nil
}

func readSource(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile(asmFile)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func loadProgram(t *testing.T) *program {
	t.Helper()
	p, err := parseProgram(readSource(t))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// testKernels checks every kernel of ks whose name ends in isa against the CPU
// (hardware) or against its model, and then requires that the lengths reached
// every instruction: a path the inputs never take is a path the test says nothing
// about.
func testKernels[T float](t *testing.T, p *program, ks []kernel[T], isa string, lens []int, hardware bool) {
	for _, k := range ks {
		if !strings.HasSuffix(k.name, isa) {
			continue
		}
		t.Run(k.name, func(t *testing.T) {
			want := k.model
			if hardware {
				want = k.native
			}
			if err := check(p, k, lens, want); err != nil {
				t.Fatal(err)
			}
			for _, in := range p.funcs[k.name].insts {
				if in.hits == 0 {
					t.Errorf("%s:%d: %s was never executed", asmFile, in.line, in.text)
				}
			}
		})
	}
}

// ---------------------------------------------------------------------------
// Tests

func TestEmulatorParsesEveryKernel(t *testing.T) {
	p := loadProgram(t)
	var got []string
	for name := range p.funcs {
		got = append(got, name)
	}
	slices.Sort(got)
	want := slices.Sorted(slices.Values(kernelNames))
	if !slices.Equal(got, want) {
		t.Fatalf("%s defines %v, the tests know %v", asmFile, got, want)
	}
}

// TestEmulatorMatchesHardwareAVX2 is what earns the emulator its trust: on the
// AVX2 kernels it must agree bit for bit with the CPU.
func TestEmulatorMatchesHardwareAVX2(t *testing.T) {
	if !cpuid.CPU.Supports(cpuid.AVX, cpuid.AVX2) {
		t.Skip("CPU lacks AVX2")
	}
	p := loadProgram(t)
	lens := lengths(300, 1000, 4099)
	testKernels(t, p, kernels32(), "AVX2", lens, true)
	testKernels(t, p, kernels64(), "AVX2", lens, true)
}

// TestEmulatorMatchesHardwareAVX512 does the same on machines that have AVX-512,
// where it cross-checks the emulator on the masked instructions too.
func TestEmulatorMatchesHardwareAVX512(t *testing.T) {
	if !cpuid.CPU.Supports(cpuid.AVX, cpuid.AVX512F) {
		t.Skip("CPU lacks AVX-512F")
	}
	p := loadProgram(t)
	lens := lengths(513, 1000, 4099)
	testKernels(t, p, kernels32(), "AVX512", lens, true)
	testKernels(t, p, kernels64(), "AVX512", lens, true)
}

// TestEmulatedAVX512 runs the AVX-512 kernels in the emulator and holds them to
// package ref (Update) or the trivial formula (Traffic). Lengths up to
// 4*16*8+1 = 513 take every combination of block, single and tail counts for
// both widths.
func TestEmulatedAVX512(t *testing.T) {
	p := loadProgram(t)
	lens := lengths(513, 1000, 4099)
	testKernels(t, p, kernels32(), "AVX512", lens, false)
	testKernels(t, p, kernels64(), "AVX512", lens, false)
}

// mutate applies re/repl to the text of function fn only, returning the new
// source and how many places changed.
func mutate(src, fn string, re *regexp.Regexp, repl string) (string, int) {
	start := strings.Index(src, "TEXT ·"+fn+"(SB)")
	if start < 0 {
		return src, 0
	}
	end := len(src)
	if i := strings.Index(src[start+1:], "\nTEXT "); i >= 0 {
		end = start + 1 + i
	}
	body := src[start:end]
	hits := len(re.FindAllStringIndex(body, -1))
	return src[:start] + re.ReplaceAllString(body, repl) + src[end:], hits
}

// TestEmulatorCatchesBrokenKernel shows that TestEmulatedAVX512 can fail: each
// plausible slip in Update32AVX512 must end in a mismatch with ref or in a memory
// fault. The unmutated kernel passes the same check first, so the failures belong
// to the mutations.
func TestEmulatorCatchesBrokenKernel(t *testing.T) {
	const target = "Update32AVX512"
	src := readSource(t)
	var k kernel[float32]
	for _, c := range kernels32() {
		if c.name == target {
			k = c
		}
	}
	lens := lengths(300)
	p, err := parseProgram(src)
	if err != nil {
		t.Fatal(err)
	}
	if err := check(p, k, lens, k.model); err != nil {
		t.Fatalf("unmutated %s: %v", target, err)
	}

	mutations := []struct{ name, re, repl string }{
		{"tail mask one lane too many", `(KMOVW\s+)64\(`, `${1}66(`},
		{"tail mask one lane too few", `(KMOVW\s+)64\(`, `${1}62(`},
		{"divide operands swapped", `(VDIVPS\s+)(Z\d+), (Z\d+),`, `${1}${3}, ${2},`},
		{"subtract operands swapped", `(VSUBPS\s+)(Z\d+), (Z\d+),`, `${1}${3}, ${2},`},
		{"eps read from the lr slot", `eps\+76\(FP\)`, `lr+72(FP)`},
		{"block loop entered a vector early", `(CMPQ\s+\w+, )\$0x00000080`, `${1}$$0x00000070`},
		{"x pointer advanced short", `(ADDQ\s+)\$0x00000200, AX`, `${1}$$0x000001c0, AX`},
		{"tail store of x dropped", `\n\s*VMOVUPS\s+Z\d+, K1, \(AX\)`, ``},
	}
	for _, mu := range mutations {
		t.Run(mu.name, func(t *testing.T) {
			broken, hits := mutate(src, target, regexp.MustCompile(mu.re), mu.repl)
			if hits == 0 {
				t.Fatalf("%q matches nothing in %s; update the mutation to the generated code", mu.re, target)
			}
			p, err := parseProgram(broken)
			if err != nil {
				t.Fatalf("mutated source does not parse: %v", err)
			}
			err = check(p, k, lens, k.model)
			if err == nil {
				t.Fatalf("%s still matches ref after %d edits", target, hits)
			}
			t.Logf("caught: %v", err)
		})
	}
}
