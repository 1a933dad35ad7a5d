//go:build gc && !purego

package asm

// The AVX-512 kernels cannot run on a machine without AVX-512, which includes the
// machines these tests are usually run on, so nothing there would ever notice a
// wrong tail mask, a swapped operand or a wrong compare predicate in them. This file
// closes that gap with a small interpreter for exactly the subset of Go amd64
// assembly that the generated apply_*_amd64.s files use. The interpreter is first
// held to the real CPU on the AVX2 kernels, which share its instruction semantics
// (same lane arithmetic, same fused multiply-add, same compare predicates, same loop
// and tail structure), and only then trusted to execute the AVX-512 kernels, whose
// results are compared with package ref.
//
// The interpreter is deliberately strict: every instruction and operand form is
// checked when a file is parsed, including code no test reaches, and anything it
// does not model is an error rather than a guess. Memory is a sparse address space
// in which x, s, g, each read-only table of the file, the argument frame and the
// kernel's local stack frame are separate islands, so a single byte read or written
// outside a slice, or read from the stack before it was stored, is reported with the
// instruction that did it.

import (
	"encoding/binary"
	"fmt"
	"hash/fnv"
	"math"
	"math/rand/v2"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/klauspost/cpuid/v2"

	"github.com/adagrad-go/adagrad/internal/fbits"
	"github.com/adagrad-go/adagrad/ref"
)

// asmFiles maps each vector extension to the generated file that holds its
// kernels. Symbols named sym<> are local to their file, so each file is parsed into
// a program of its own.
var asmFiles = map[string]string{
	"AVX2":   "apply_avx2_amd64.s",
	"AVX512": "apply_avx512_amd64.s",
}

// isas are the vector extensions in a fixed order, for stable test names.
var isas = []string{"AVX2", "AVX512"}

// asmVecBytes is the vector width of each extension's kernels.
var asmVecBytes = map[string]int{"AVX2": 32, "AVX512": 64}

// kernelNames is every TEXT symbol the tests expect in the file of isa: one Apply
// kernel per form of ref.Forms and element type, and Traffic, so that a kernel added
// to the generator cannot escape them unnoticed.
func kernelNames(isa string) []string {
	var names []string
	for _, bits := range []string{"32", "64"} {
		for _, f := range ref.Forms() {
			names = append(names, "apply"+bits+isa+f.String())
		}
		names = append(names, "Traffic"+bits+isa)
	}
	return names
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
	file      string
	name      string
	frameSize int // N of $N-NN: the size of the local stack frame
	argSize   int // NN of $N-NN: the size of the Go argument frame
	insts     []*inst
	labels    map[string]int
}

type program struct {
	file  string
	funcs map[string]*function
	syms  map[string][]byte // read-only data from DATA/GLOBL, local to the file
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
	floatRE = regexp.MustCompile(`^\((-?\d+\.\d*(?:[eE][-+]?\d+)?)\)$`)
)

// gpRegs numbers the general registers as the hardware does.
var gpRegs = map[string]int{
	"AX": 0, "CX": 1, "DX": 2, "BX": 3, "SP": 4, "BP": 5, "SI": 6, "DI": 7,
	"R8": 8, "R9": 9, "R10": 10, "R11": 11, "R12": 12, "R13": 13, "R14": 14, "R15": 15,
}

var jumps = map[string]bool{"JMP": true, "JB": true, "JZ": true}

// dataValue decodes the $value of a DATA directive of size bytes: an integer, or a
// floating-point constant in parentheses, which the assembler stores in the IEEE
// format of that size. A constant that the float32 format cannot hold exactly is
// refused, rather than guessing how the assembler rounds it.
func dataValue(s string, size int) (uint64, error) {
	if m := floatRE.FindStringSubmatch(s); m != nil {
		f, err := strconv.ParseFloat(m[1], 64)
		switch {
		case err != nil:
			return 0, err
		case size == 8:
			return math.Float64bits(f), nil
		case size == 4 && float64(float32(f)) == f:
			return uint64(math.Float32bits(float32(f))), nil
		}
		return 0, fmt.Errorf("float constant %s in %d bytes not modeled", s, size)
	}
	return strconv.ParseUint(s, 0, 8*size)
}

// parseProgram parses and decodes a whole assembly file. Every instruction is
// decoded here, not when first executed, so an unmodeled form on a path the tests
// never reach is still an error.
func parseProgram(file, src string) (*program, error) {
	type datum struct{ line, off, size int }
	p := &program{file: file, funcs: map[string]*function{}, syms: map[string][]byte{}}
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
			return fmt.Errorf("%s:%d: %q: %s", file, line, text, fmt.Sprintf(format, args...))
		}
		if text == "" || text == `#include "textflag.h"` {
			continue
		}
		if m := textRE.FindStringSubmatch(text); m != nil {
			if p.funcs[m[1]] != nil {
				return nil, fail("duplicate TEXT")
			}
			frame, _ := strconv.Atoi(m[3])
			size, _ := strconv.Atoi(m[4])
			f = &function{file: file, name: m[1], frameSize: frame, argSize: size, labels: map[string]int{}}
			p.funcs[f.name] = f
			order = append(order, f)
			continue
		}
		if m := dataRE.FindStringSubmatch(text); m != nil {
			off, _ := strconv.Atoi(m[2])
			size, _ := strconv.Atoi(m[3])
			v, err := dataValue(m[4], size)
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
			return nil, fmt.Errorf("%s:%d: DATA for %s without GLOBL", file, ds[0].line, name)
		}
		set := make([]bool, len(buf))
		for i, d := range ds {
			if d.off+d.size > len(buf) {
				return nil, fmt.Errorf("%s:%d: DATA past the end of %s", file, d.line, name)
			}
			for b := d.off; b < d.off+d.size; b++ {
				if set[b] {
					return nil, fmt.Errorf("%s:%d: DATA overlaps earlier DATA of %s", file, d.line, name)
				}
				set[b] = true
			}
			putLane(buf[d.off:], 0, d.size, values[name][i])
		}
	}

	for _, f := range order {
		for _, in := range f.insts {
			if err := p.decode(f, in); err != nil {
				return nil, fmt.Errorf("%s:%d: %q: %v", file, in.line, in.text, err)
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
	// The estimates are the model the test in progress chose (emulate_fast_amd64_test.go).
	"VRSQRTPS":   func(a uint64) uint64 { return vrsqrtps(a) },
	"VRSQRT14PS": func(a uint64) uint64 { return vrsqrt14ps(a) },
	// The float64 root of a float32 rounds correctly to float32 (see package ref).
	"VSQRTPS": func(a uint64) uint64 {
		return uint64(math.Float32bits(float32(math.Sqrt(float64(math.Float32frombits(uint32(a)))))))
	},
	"VSQRTPD": func(a uint64) uint64 { return math.Float64bits(math.Sqrt(math.Float64frombits(a))) },
}

// fmaOps are the fused multiply-adds, in Go operand order: "VFMADD231PS a, b, c"
// computes c = b·a + c with a single rounding. ref.FMA32 is exact for float32
// (package ref tests it against math/big), math.FMA for float64.
var fmaOps = map[string]func(c, b, a uint64) uint64{
	"VFMADD231PS": func(c, b, a uint64) uint64 {
		f := math.Float32frombits
		return uint64(math.Float32bits(ref.FMA32(f(uint32(b)), f(uint32(a)), f(uint32(c)))))
	},
	"VFMADD231PD": func(c, b, a uint64) uint64 {
		f := math.Float64frombits
		return math.Float64bits(math.FMA(f(b), f(a), f(c)))
	},
	// The fast mode's: "VFMADD213PS a, b, c" is c = b·c + a, "VFNMADD213PS a, b, c"
	// c = −(b·c) + a and "VFNMADD231PS a, b, c" c = −(b·a) + c, each rounded once
	// (the negation is exact).
	"VFMADD213PS": func(c, b, a uint64) uint64 {
		f := math.Float32frombits
		return uint64(math.Float32bits(ref.FMA32(f(uint32(b)), f(uint32(c)), f(uint32(a)))))
	},
	"VFNMADD213PS": func(c, b, a uint64) uint64 {
		f := math.Float32frombits
		return uint64(math.Float32bits(ref.FMA32(-f(uint32(b)), f(uint32(c)), f(uint32(a)))))
	},
	"VFNMADD231PS": func(c, b, a uint64) uint64 {
		f := math.Float32frombits
		return uint64(math.Float32bits(ref.FMA32(-f(uint32(b)), f(uint32(a)), f(uint32(c)))))
	},
}

// bitOps are the bitwise instructions, which work the same on any lane size.
// VANDPS, VANDPD, VXORPS and VXORPD are modeled only in their VEX encodings: the
// EVEX ones need AVX512DQ, which the AVX-512 kernels do not require. VPXORD is EVEX
// only.
var bitOps = map[string]func(b, a uint64) uint64{
	"VANDPS": func(b, a uint64) uint64 { return b & a },
	"VANDPD": func(b, a uint64) uint64 { return b & a },
	"VXORPS": func(b, a uint64) uint64 { return b ^ a },
	"VXORPD": func(b, a uint64) uint64 { return b ^ a },
	"VPXORD": func(b, a uint64) uint64 { return b ^ a },
}

// compare evaluates the predicate imm (0..31) of VCMPPS/VCMPPD on src1 and src2,
// Intel's operand order ("VCMPPS $imm, src2, src1, dst" in Go's). Bit 4 of the
// predicate only chooses whether a quiet NaN signals, which with exceptions masked
// does not change the result, so bits 0..3 pick the relation.
func compare(imm int, src1, src2 float64) bool {
	unord := src1 != src1 || src2 != src2
	lt, eq, gt := src1 < src2, src1 == src2, src1 > src2
	switch imm & 0xf {
	case 0x0: // EQ_OQ
		return eq
	case 0x1: // LT_OS
		return lt
	case 0x2: // LE_OS
		return lt || eq
	case 0x3: // UNORD_Q
		return unord
	case 0x4: // NEQ_UQ
		return !eq
	case 0x5: // NLT_US
		return !lt
	case 0x6: // NLE_US
		return !(lt || eq)
	case 0x7: // ORD_Q
		return !unord
	case 0x8: // EQ_UQ
		return eq || unord
	case 0x9: // NGE_US
		return lt || unord
	case 0xa: // NGT_US
		return !gt
	case 0xb: // FALSE_OQ
		return false
	case 0xc: // NEQ_OQ
		return !eq && !unord
	case 0xd: // GE_OS
		return gt || eq
	case 0xe: // GT_OS
		return gt
	}
	return true // 0xf: TRUE_UQ
}

// laneFloat widens lane i of b to float64, which is exact for float32, NaN aside
// (whose payload no comparison looks at).
func laneFloat(b []byte, i, size int) float64 {
	if size == 4 {
		return float64(math.Float32frombits(uint32(lane(b, i, 4))))
	}
	return math.Float64frombits(lane(b, i, 8))
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
// so the harness can check that every element was written exactly once, and so that
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
			return fmt.Errorf("%s:%d: %s: %w", fn.file, in.line, in.text, err)
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

// vecMSB is the mask convention of VMASKMOV: a lane is active when its top bit is set.
func (m *machine) vecMSB(r, size int) func(int) bool {
	return func(i int) bool { return m.vec[r][i*size+size-1]&0x80 != 0 }
}

func (m *machine) kbit(r int) func(int) bool {
	return func(i int) bool { return m.k[r]>>i&1 != 0 }
}

// vsrc reads source operand o as a vector of width bytes: a register, or width
// bytes of memory.
func vsrc(o operand, width int) func(m *machine) ([64]byte, error) {
	if o.kind == kindVec {
		r := o.reg
		return func(m *machine) ([64]byte, error) { return m.vec[r], nil }
	}
	return func(m *machine) ([64]byte, error) {
		var v [64]byte
		b, err := m.load(o, width)
		if err != nil {
			return v, err
		}
		copy(v[:], b)
		return v, nil
	}
}

// ---------------------------------------------------------------------------
// Decoding

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
// emulator does not run code the assembler or CPU would reject or interpret
// differently.
func (p *program) decode(f *function, in *inst) error {
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
		if o.kind == kindSym && p.syms[o.name] == nil {
			return fmt.Errorf("unknown symbol %s", o.name)
		}
		if o.kind == kindLabel {
			if _, ok := f.labels[o.name]; !ok {
				return fmt.Errorf("label %s is not in %s", o.name, f.name)
			}
		}
	}
	if n := len(a); n > 0 && a[n-1].kind == kindGP && a[n-1].reg == gpRegs["SP"] && op != "CMPQ" && op != "TESTQ" {
		return fmt.Errorf("writes SP, which only the prologue and epilogue may do")
	}
	// sameWidth reports whether the vector registers among vs have one width;
	// memory operands take the width of the registers.
	sameWidth := func(vs ...operand) bool {
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
			var out [64]byte
			for i := range dst.width / size {
				copy(out[i*size:], b)
			}
			m.vec[dst.reg] = out
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
			v := m.vec[src.reg]
			return m.store(dst, v[:src.width])
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
			v := m.vec[src.reg]
			return m.maskedStore(v[:src.width], dst, size, src.width/size, m.kbit(k))
		}

	// VMOVAPS.Z src, k, dst between registers: the active lanes of src, zeros elsewhere.
	case (op == "VMOVAPS.Z" || op == "VMOVAPD.Z") && sh == "vkv" && a[1].reg != 0 && sameWidth(a[0], a[2]):
		src, k, dst, size := a[0].reg, a[1].reg, a[2], elemSize(op)
		in.exec = func(m *machine) error {
			var out [64]byte
			for i := range dst.width / size {
				if m.k[k]>>i&1 != 0 {
					copy(out[i*size:(i+1)*size], m.vec[src][i*size:])
				}
			}
			m.vec[dst.reg] = out
			return nil
		}

	// VBLENDVPS mask, b, a, dst: each lane of b where mask's sign bit is set, of a
	// elsewhere (Intel's "VBLENDVPS dst, a, b, mask").
	case (op == "VBLENDVPS" || op == "VBLENDVPD") && sh == "vvvv" && sameWidth(a...):
		mask, b, src, dst, size := a[0].reg, a[1].reg, a[2].reg, a[3], elemSize(op)
		in.exec = func(m *machine) error {
			var out [64]byte
			pick := m.vecMSB(mask, size)
			for i := range dst.width / size {
				from := src
				if pick(i) {
					from = b
				}
				copy(out[i*size:(i+1)*size], m.vec[from][i*size:])
			}
			m.vec[dst.reg] = out
			return nil
		}

	// VMOVAPS src, k, dst between registers, merging: the active lanes of src, dst's
	// own elsewhere.
	case (op == "VMOVAPS" || op == "VMOVAPD") && sh == "vkv" && a[1].reg != 0 && sameWidth(a[0], a[2]):
		src, k, dst, size := a[0].reg, a[1].reg, a[2], elemSize(op)
		in.exec = func(m *machine) error {
			for i := range dst.width / size {
				if m.k[k]>>i&1 != 0 {
					copy(m.vec[dst.reg][i*size:(i+1)*size], m.vec[src][i*size:])
				}
			}
			return nil
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
			v := m.vec[src.reg]
			return m.maskedStore(v[:src.width], dst, size, src.width/size, m.vecMSB(mask, size))
		}

	// The first source of the arithmetic below ("VMULPS a, b, c": a) may be a
	// register or a whole vector in memory, unaligned: VEX and EVEX both allow it.
	case binaryOps[op] != nil && (sh == "vvv" || sh == "mvv") && sameWidth(a...):
		fn, x, y, dst, size := binaryOps[op], vsrc(a[0], a[2].width), a[1].reg, a[2], elemSize(op)
		in.exec = func(m *machine) error {
			xv, err := x(m)
			if err != nil {
				return err
			}
			var out [64]byte
			for i := range dst.width / size {
				putLane(out[:], i, size, fn(lane(m.vec[y][:], i, size), lane(xv[:], i, size)))
			}
			m.vec[dst.reg] = out
			return nil
		}

	case bitOps[op] != nil && (sh == "vvv" || sh == "mvv") && sameWidth(a...):
		fn, x, y, dst := bitOps[op], vsrc(a[0], a[2].width), a[1].reg, a[2]
		in.exec = func(m *machine) error {
			xv, err := x(m)
			if err != nil {
				return err
			}
			var out [64]byte
			for i := range dst.width / 8 {
				putLane(out[:], i, 8, fn(lane(m.vec[y][:], i, 8), lane(xv[:], i, 8)))
			}
			m.vec[dst.reg] = out
			return nil
		}

	case fmaOps[op] != nil && (sh == "vvv" || sh == "mvv") && sameWidth(a...):
		fn, x, y, dst, size := fmaOps[op], vsrc(a[0], a[2].width), a[1].reg, a[2], elemSize(op)
		in.exec = func(m *machine) error {
			xv, err := x(m)
			if err != nil {
				return err
			}
			var out [64]byte
			for i := range dst.width / size {
				putLane(out[:], i, size, fn(lane(m.vec[dst.reg][:], i, size), lane(m.vec[y][:], i, size), lane(xv[:], i, size)))
			}
			m.vec[dst.reg] = out
			return nil
		}

	// VCMPPS $imm, src2, src1, dst: all-ones lanes where the predicate holds (VEX), or
	// the bits of a K register (EVEX), whose bits beyond the lanes are cleared.
	case (op == "VCMPPS" || op == "VCMPPD") && (sh == "ivvv" || sh == "imvv" || sh == "ivvk" || sh == "imvk") &&
		sameWidth(a[1:]...) && a[0].imm >= 0 && a[0].imm < 32:
		pred, src1, dst, size := int(a[0].imm), a[2].reg, a[3], elemSize(op)
		width := a[2].width
		src2 := vsrc(a[1], width)
		in.exec = func(m *machine) error {
			v2, err := src2(m)
			if err != nil {
				return err
			}
			var out [64]byte
			var bits uint64
			for i := range width / size {
				if compare(pred, laneFloat(m.vec[src1][:], i, size), laneFloat(v2[:], i, size)) {
					bits |= 1 << i
					putLane(out[:], i, size, math.MaxUint64)
				}
			}
			if dst.kind == kindMask {
				m.k[dst.reg] = bits
			} else {
				m.vec[dst.reg] = out
			}
			return nil
		}

	case unaryOps[op] != nil && (sh == "vv" || sh == "mv") && sameWidth(a...):
		fn, x, dst, size := unaryOps[op], vsrc(a[0], a[1].width), a[1], elemSize(op)
		in.exec = func(m *machine) error {
			xv, err := x(m)
			if err != nil {
				return err
			}
			var out [64]byte
			for i := range dst.width / size {
				putLane(out[:], i, size, fn(lane(xv[:], i, size)))
			}
			m.vec[dst.reg] = out
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

func encode[T float](v []T) []byte {
	size := sizeOf[T]()
	b := make([]byte, len(v)*size)
	for i, e := range v {
		putLane(b, i, size, fbits.Bits(e))
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
	stackBase = 0x6000_0000
)

// emulate calls kernel name of p on x, s and g with the scalar arguments args
// (named params), and copies the results back into x and s. Beyond the memory
// checks of the machine it enforces the contract all kernels share: each byte of
// x and s is written exactly once, g never. Registers start with garbage from rng,
// as they would on hardware, so a read of a register the kernel never set shows.
func emulate[T float](p *program, name string, params []string, x, s, g, args []T, rng *rand.Rand) error {
	f := p.funcs[name]
	if f == nil {
		return fmt.Errorf("no TEXT ·%s in %s", name, p.file)
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
		m.mem = append(m.mem, &region{name: sym, base: base, data: p.syms[sym], readOnly: true})
	}

	// The Go ABI0 frame: each slice as (ptr, len, cap), then each scalar at its
	// natural alignment. There are no results, so the frame ends with the last
	// argument, unpadded, as go vet's asmdecl computes it.
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
	if len(frame) != f.argSize {
		return fmt.Errorf("the Go frame of its arguments is %d bytes, TEXT declares $0-%d", len(frame), f.argSize)
	}
	m.mem = append(m.mem, &region{name: "args", base: frameBase, data: frame, readOnly: true})

	for i := range m.gp {
		m.gp[i] = rng.Uint64()
	}
	// The local frame of $N-NN is the N bytes from SP up; the frame pointer the
	// assembler saves above it is not the kernel's to touch. The garbage in it must
	// never be read.
	stack := &region{name: "stack", base: stackBase, data: make([]byte, f.frameSize), writes: make([]uint8, f.frameSize), setBefore: true}
	for i := range stack.data {
		stack.data[i] = byte(rng.Uint32())
	}
	m.mem = append(m.mem, stack)
	m.gp[gpRegs["SP"]] = stackBase
	for i := range m.vec {
		for j := 0; j < len(m.vec[i]); j += 8 {
			binary.LittleEndian.PutUint64(m.vec[i][j:], rng.Uint64())
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
		x[i] = fbits.FromBits[T](lane(xs[0].data, i, size))
		s[i] = fbits.FromBits[T](lane(xs[1].data, i, size))
	}
	return nil
}

// ---------------------------------------------------------------------------
// Kernels, inputs and comparison

// kernel pairs one assembly function with the Go code that defines its result.
// native is the function itself, taken from the dispatch tables of forms_amd64.go
// for Apply, so that a table entry pointing at the wrong kernel shows too; it is
// only safe to call when the CPU has the kernel's ISA, and nil when the table has
// no entry.
type kernel[T float] struct {
	name   string
	isa    string // "AVX2" or "AVX512", the key of asmFiles
	params []string
	native func(x, s, g, args []T)
	model  func(x, s, g, args []T)
}

// applyParams are the scalar parameters of every Apply kernel, in order.
var applyParams = []string{"lr", "eps", "wd", "decay", "gain"}

func traffic[T float](x, s, g, _ []T) {
	for i := range x {
		s[i] = s[i] + g[i]
		x[i] = x[i] - g[i]
	}
}

type applyTable[T float] = *[ref.NumIDs]func(x, s, g []T, lr, eps, wd, decay, gain T)

// makeKernels lists, for each ISA, the Apply kernel of every form and Traffic.
func makeKernels[T float](bits string, tables map[string]applyTable[T], traffics map[string]func(x, s, g []T), apply func(f ref.Form, x, s, g, args []T)) []kernel[T] {
	var ks []kernel[T]
	for _, isa := range isas {
		for _, f := range ref.Forms() {
			k := kernel[T]{
				name: "apply" + bits + isa + f.String(), isa: isa, params: applyParams,
				model: func(x, s, g, a []T) { apply(f, x, s, g, a) },
			}
			if fn := tables[isa][f.ID()]; fn != nil {
				k.native = func(x, s, g, a []T) { fn(x, s, g, a[0], a[1], a[2], a[3], a[4]) }
			}
			ks = append(ks, k)
		}
		fn := traffics[isa]
		ks = append(ks, kernel[T]{
			name: "Traffic" + bits + isa, isa: isa,
			native: func(x, s, g, _ []T) { fn(x, s, g) }, model: traffic[T],
		})
	}
	return ks
}

func kernels32() []kernel[float32] {
	return makeKernels("32",
		map[string]applyTable[float32]{"AVX2": &tableApply32AVX2, "AVX512": &tableApply32AVX512},
		map[string]func(x, s, g []float32){"AVX2": Traffic32AVX2, "AVX512": Traffic32AVX512},
		func(f ref.Form, x, s, g, a []float32) {
			ref.Apply(f, x, s, g, ref.Params[float32]{LR: a[0], Eps: a[1], WeightDecay: a[2], Decay: a[3], Gain: a[4]})
		})
}

func kernels64() []kernel[float64] {
	return makeKernels("64",
		map[string]applyTable[float64]{"AVX2": &tableApply64AVX2, "AVX512": &tableApply64AVX512},
		map[string]func(x, s, g []float64){"AVX2": Traffic64AVX2, "AVX512": Traffic64AVX512},
		func(f ref.Form, x, s, g, a []float64) {
			ref.Apply(f, x, s, g, ref.Params[float64]{LR: a[0], Eps: a[1], WeightDecay: a[2], Decay: a[3], Gain: a[4]})
		})
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
		return fbits.FromBits[T](sign)
	case 1:
		return fbits.FromBits[T](sign | expAll)
	case 2:
		return fbits.FromBits[T](sign | expAll | rng.Uint64()&mantMask | 1)
	case 3:
		return fbits.FromBits[T](sign | rng.Uint64()&mantMask | 1)
	case 4:
		v = T(minN * (1 + 3*rng.Float64()))
	case 5:
		v = T(maxF * (0.25 + 0.75*rng.Float64()))
	case 6:
		return fbits.FromBits[T](rng.Uint64() >> (64 - 8*size))
	default:
		v = T(math.Ldexp(1+rng.Float64(), rng.IntN(41)-20))
	}
	return fbits.FromBits[T](fbits.Bits(v) | sign)
}

// randomInputs returns x, s and g of length n. Accumulators are mostly
// non-negative, as in real use, but not always.
func randomInputs[T float](rng *rand.Rand, n int) (x, s, g []T) {
	x, s, g = make([]T, n), make([]T, n), make([]T, n)
	signBit := uint64(1) << (8*sizeOf[T]() - 1)
	for i := range n {
		x[i], s[i], g[i] = randomValue[T](rng), randomValue[T](rng), randomValue[T](rng)
		if rng.IntN(4) != 0 {
			s[i] = fbits.FromBits[T](fbits.Bits(s[i]) &^ signBit)
		}
	}
	return x, s, g
}

// typicalArgs are lr, eps, wd, decay and gain as optimizers use them, with the
// edges among them: Adagrad, Adagrad with weight decay, an RMSProp-style decaying
// accumulator with a negative rate, eps 0 and −0, a subnormal eps, decay 0 and a
// zero rate.
func typicalArgs[T float]() [][]T {
	negZero := fbits.FromBits[T](uint64(1) << (8*sizeOf[T]() - 1))
	return [][]T{
		{0.01, 1e-8, 0, 1, 1},
		{0.01, 1e-10, 0.01, 1, 1},
		{-0.5, 1e-6, 1e-4, 0.9, 0.1},
		{0.1, 0, 0, 1, 1},
		{3, negZero, -0.01, 0.99, 0.01},
		{1, fbits.FromBits[T](1), 0.5, 0, 2},
		{0, 1e-8, 0.1, 1, 1},
	}
}

// randomArgs draws lr, eps, wd, decay and gain: mostly ordinary values for each
// role, of either sign, and one time in five anything randomValue makes, infinities
// and NaNs included.
func randomArgs[T float](rng *rand.Rand) []T {
	ordinary := func(minExp, maxExp int) T {
		v := T(math.Ldexp(1+rng.Float64(), minExp+rng.IntN(maxExp-minExp+1)))
		if rng.IntN(4) == 0 {
			v = -v
		}
		return v
	}
	pick := func(vs ...T) T { return vs[rng.IntN(len(vs))] }
	a := []T{
		ordinary(-12, 2),                        // lr
		pick(0, 1e-8, 1e-6, ordinary(-30, -3)),  // eps
		pick(0, ordinary(-14, -1)),              // wd
		pick(1, 0.9, 0.99, 0, ordinary(-8, -1)), // decay
		pick(1, 0.1, 0.01, ordinary(-8, 1)),     // gain
	}
	for i := range a {
		if rng.IntN(5) == 0 {
			a[i] = randomValue[T](rng)
		}
	}
	return a
}

func lengths(upTo int, extra ...int) []int {
	var ns []int
	for n := range upTo + 1 {
		ns = append(ns, n)
	}
	return append(ns, extra...)
}

// sampledLengths are every length up to 80; above it, up to 4·block+1, every fifth
// length (5 is prime to the lane count, so they take every tail length) and the
// lengths next to each block boundary; and then large.
func sampledLengths(block, lanes, large int) []int {
	top := 4*block + 1
	ns := lengths(80)
	tails := map[int]bool{}
	for n := 81; n <= top; n++ {
		if r := n % block; n%5 == 0 || r <= 1 || r == block-1 || n == top {
			ns = append(ns, n)
			tails[n%lanes] = true
		}
	}
	if len(tails) != lanes {
		panic(fmt.Sprintf("sampledLengths(%d, %d): lengths above 80 take %d of the %d tail lengths", block, lanes, len(tails), lanes))
	}
	return append(ns, large)
}

// loopShape reads the elements per block-loop iteration and per vector from the
// first two CMPQ of f, where the generated loops compare the remaining count with
// them, so that the lengths follow the generator's unroll.
func loopShape(f *function) (block, lanes int, err error) {
	var limits []int
	for _, in := range f.insts {
		if in.op == "CMPQ" && len(in.args) == 2 && in.args[1].kind == kindImm {
			limits = append(limits, int(in.args[1].imm))
		}
	}
	if len(limits) != 2 || limits[1] <= 0 || limits[0]%limits[1] != 0 {
		return 0, 0, fmt.Errorf("%s: compares the count with %v, want a block and a vector size", f.name, limits)
	}
	return limits[0], limits[1], nil
}

func firstDiff[T float](what string, got, want []T) error {
	for i := range want {
		if !fbits.Same(got[i], want[i]) {
			return fmt.Errorf("%s[%d] = %v (%#x), want %v (%#x)", what, i, got[i], fbits.Bits(got[i]), want[i], fbits.Bits(want[i]))
		}
	}
	return nil
}

func nameSeed(name string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(name))
	return h.Sum64()
}

// check emulates k for every length in lens and compares x, s and g with what want
// leaves in copies of the same inputs. Each length runs with two sets of scalar
// arguments, one of typicalArgs (in turn) and one of randomArgs, on inputs seeded by
// the kernel's name and the length. It returns the first discrepancy instead of
// failing, so that a deliberately broken kernel can be required to produce one.
func check[T float](p *program, k kernel[T], lens []int, want func(x, s, g, args []T)) error {
	seed := nameSeed(k.name)
	typical := typicalArgs[T]()
	sets := 1
	if len(k.params) > 0 {
		sets = 2
	}
	for _, n := range lens {
		for ai := range sets {
			rng := rand.New(rand.NewPCG(uint64(n), seed+uint64(ai)))
			var args []T
			switch {
			case len(k.params) == 0:
			case ai == 0:
				args = slices.Clone(typical[n%len(typical)])
			default:
				args = randomArgs[T](rng)
			}
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

func readSource(t *testing.T, isa string) string {
	t.Helper()
	b, err := os.ReadFile(asmFiles[isa])
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func loadProgram(t *testing.T, isa string) *program {
	t.Helper()
	p, err := parseProgram(asmFiles[isa], readSource(t, isa))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// testKernels checks every kernel of ks for isa against the CPU (hardware) or
// against its model, on the lengths lens returns for the kernel's loop shape, and
// then requires that the lengths reached every instruction: a path the inputs never
// take is a path the test says nothing about. The kernels run in parallel; each
// touches only its own instructions' hit counts.
func testKernels[T float](t *testing.T, p *program, ks []kernel[T], isa string, lens func(block, lanes int) []int, hardware bool) {
	for _, k := range ks {
		if k.isa != isa {
			continue
		}
		t.Run(k.name, func(t *testing.T) {
			t.Parallel()
			want := k.model
			if hardware {
				if k.native == nil {
					t.Fatalf("the dispatch table has no entry for %s", k.name)
				}
				want = k.native
			}
			f := p.funcs[k.name]
			if f == nil {
				t.Fatalf("no TEXT ·%s in %s", k.name, p.file)
			}
			block, lanes, err := loopShape(f)
			if err != nil {
				t.Fatal(err)
			}
			if want := asmVecBytes[isa] / sizeOf[T](); lanes != want {
				t.Fatalf("%s steps %d elements per vector, want %d", k.name, lanes, want)
			}
			if err := check(p, k, lens(block, lanes), want); err != nil {
				t.Fatal(err)
			}
			for _, in := range p.funcs[k.name].insts {
				if in.hits == 0 {
					t.Errorf("%s:%d: %s was never executed", p.file, in.line, in.text)
				}
			}
		})
	}
}

// ---------------------------------------------------------------------------
// Tests

func TestEmulatorParsesEveryKernel(t *testing.T) {
	for _, isa := range isas {
		p := loadProgram(t, isa)
		var got []string
		for name := range p.funcs {
			got = append(got, name)
		}
		slices.Sort(got)
		want := slices.Sorted(slices.Values(kernelNames(isa)))
		if !slices.Equal(got, want) {
			t.Errorf("%s defines %d kernels, the tests know %d:\nonly in the file: %v\nonly in the tests: %v",
				p.file, len(got), len(want), without(got, want), without(want, got))
		}
		for _, sym := range []string{"tailmasks<>", "ones<>"} {
			if p.syms[sym] == nil {
				t.Errorf("%s has no %s", p.file, sym)
			}
		}
	}
}

func without(a, b []string) []string {
	var out []string
	for _, s := range a {
		if !slices.Contains(b, s) {
			out = append(out, s)
		}
	}
	return out
}

// TestEmulatorMatchesHardwareAVX2 is what earns the emulator its trust: on the
// AVX2 kernels of every form it must agree bit for bit with the CPU. Every length
// up to 70, or two blocks and a vector if that is more, takes every combination of
// block, single and tail counts; a few longer ones follow.
func TestEmulatorMatchesHardwareAVX2(t *testing.T) {
	if !cpuid.CPU.Supports(cpuid.AVX, cpuid.AVX2, cpuid.FMA3) {
		t.Skip("CPU lacks AVX2 or FMA3")
	}
	p := loadProgram(t, "AVX2")
	lens := func(block, lanes int) []int {
		return lengths(max(70, 2*block+lanes), 100, 127, 128, 129, 191, 255, 256, 257, 300, 1001)
	}
	testKernels(t, p, kernels32(), "AVX2", lens, true)
	testKernels(t, p, kernels64(), "AVX2", lens, true)
}

// avx512Lengths are the lengths the AVX-512 kernels run with: every length up to
// 80; up to four blocks and one element, a sample that still takes every tail
// length and both sides of every block boundary; and one long slice.
func avx512Lengths(block, lanes int) []int { return sampledLengths(block, lanes, 2051) }

// TestEmulatorMatchesHardwareAVX512 does the same on machines that have AVX-512,
// where it cross-checks the emulator on the masked instructions too.
func TestEmulatorMatchesHardwareAVX512(t *testing.T) {
	if !cpuid.CPU.Supports(cpuid.AVX, cpuid.AVX512F) {
		t.Skip("CPU lacks AVX-512F")
	}
	p := loadProgram(t, "AVX512")
	testKernels(t, p, kernels32(), "AVX512", avx512Lengths, true)
	testKernels(t, p, kernels64(), "AVX512", avx512Lengths, true)
}

// TestEmulatedAVX512 runs the AVX-512 kernels of every form in the emulator and
// holds them to package ref (Apply) or the trivial formula (Traffic), on
// avx512Lengths for the unroll the generator chose for the form, read from the
// code: at an unroll of 8, up to 4·16·8+1 = 513 elements for float32 and
// 4·8·8+1 = 257 for float64.
func TestEmulatedAVX512(t *testing.T) {
	p := loadProgram(t, "AVX512")
	testKernels(t, p, kernels32(), "AVX512", avx512Lengths, false)
	testKernels(t, p, kernels64(), "AVX512", avx512Lengths, false)
}

// funcText locates the text of function fn in src, from its TEXT line to the next.
func funcText(src, fn string) (start, end int) {
	start = strings.Index(src, "TEXT ·"+fn+"(SB)")
	if start < 0 {
		return 0, 0
	}
	end = len(src)
	if i := strings.Index(src[start+1:], "\nTEXT "); i >= 0 {
		end = start + 1 + i
	}
	return start, end
}

// excerpt is src with only the functions fns kept, and all of its data, so that a
// mutated kernel parses without the thousands of lines of the other kernels.
func excerpt(src string, fns ...string) string {
	var b strings.Builder
	keep := true
	for _, line := range strings.SplitAfter(src, "\n") {
		if m := textRE.FindStringSubmatch(strings.TrimSpace(line)); m != nil {
			keep = slices.Contains(fns, m[1])
		}
		if keep || strings.HasPrefix(line, "DATA") || strings.HasPrefix(line, "GLOBL") {
			b.WriteString(line)
		}
	}
	return b.String()
}

// mutate applies re/repl to the text of function fn only, returning the new
// source and how many places changed.
func mutate(src, fn string, re *regexp.Regexp, repl string) (string, int) {
	start, end := funcText(src, fn)
	body := src[start:end]
	hits := len(re.FindAllStringIndex(body, -1))
	return src[:start] + re.ReplaceAllString(body, repl) + src[end:], hits
}

// TestEmulatorCatchesBrokenKernel shows that TestEmulatedAVX512 can fail: each
// plausible slip in an AVX-512 kernel must end in a mismatch with ref or in a
// memory fault. The unmutated kernels pass the same check first, so the failures
// belong to the mutations. The mutations read the loop sizes and registers they
// need from the generated code, so they survive a change of unroll or allocation.
//
// Not every predicate change is a slip: GT_OS (0x0e) differs from the generated
// GT_OQ (0x1e) only in whether a quiet NaN raises an exception, which is masked,
// so the guard mutations below use predicates with different results.
func TestEmulatorCatchesBrokenKernel(t *testing.T) {
	const (
		plain = "apply32AVX512InDivMul"
		guard = "apply32AVX512InRecipGuard"
		fused = "apply32AVX512OutMulDivWdFMAFusedAcc"
	)
	full := readSource(t, "AVX512")
	file := asmFiles["AVX512"]
	ks := map[string]kernel[float32]{}
	for _, k := range kernels32() {
		ks[k.name] = k
	}
	// The simplest DivMul kernel that reads decay, for the mutation that reads it
	// from the wrong slot: plain itself, unless its form leaves decay unused.
	decay := ""
	for _, f := range ref.Forms() {
		name := "apply32AVX512" + f.String()
		if start, end := funcText(full, name); decay == "" && strings.HasPrefix(f.String(), "InDivMul") &&
			strings.Contains(full[start:end], "decay+84(FP)") {
			decay = name
		}
	}
	if decay == "" {
		t.Fatal("no InDivMul kernel reads decay+84(FP)")
	}
	targets := []string{plain, guard, fused}
	if decay != plain {
		targets = append(targets, decay)
	}
	src := excerpt(full, targets...)
	p, err := parseProgram(file, src)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range targets {
		if p.funcs[name] == nil || ks[name].model == nil {
			t.Fatalf("%s is missing from %s or from the tests", name, file)
		}
	}
	block, _, err := loopShape(p.funcs[plain])
	if err != nil {
		t.Fatal(err)
	}
	lens := lengths(block + 40)
	for _, name := range targets {
		if err := check(p, ks[name], lens, ks[name].model); err != nil {
			t.Fatalf("unmutated %s: %v", name, err)
		}
	}

	// The register that holds x's address, and a vector register fused never names,
	// for the product that an unfused multiply-add needs.
	xReg := regexp.MustCompile(`MOVQ\s+x_base\+0\(FP\), (\w+)`).FindStringSubmatch(src)
	if xReg == nil {
		t.Fatal("no load of x_base found")
	}
	start, end := funcText(src, fused)
	body := src[start:end]
	free := ""
	for r := 31; r >= 0 && free == ""; r-- {
		if !regexp.MustCompile(fmt.Sprintf(`\bZ%d\b`, r)).MatchString(body) {
			free = fmt.Sprintf("Z%d", r)
		}
	}
	if free == "" {
		t.Fatalf("%s uses every Z register", fused)
	}
	imm := func(v int) string { return fmt.Sprintf(`$$0x%08x`, v) }
	// The K register the tail's guard compare writes: any but K1, the tail mask.
	guardK := "K1"
	start, end = funcText(src, guard)
	if m := regexp.MustCompile(`VCMPPS\s+\$0x1e, [^,\n]+, Z\d+, (K[2-7])`).FindStringSubmatch(src[start:end]); m != nil {
		guardK = m[1]
	}

	// optional mutations change code that a generator may or may not emit, such as
	// the stack slots of spilled constants; when they match nothing, they are
	// skipped rather than failed.
	mutations := []struct {
		target, name, re, repl string
		optional               bool
	}{
		{plain, "tail mask one lane too many", `(KMOVW\s+)64\(`, `${1}66(`, false},
		{plain, "tail mask one lane too few", `(KMOVW\s+)64\(`, `${1}62(`, false},
		{plain, "divide operands swapped", `(VDIVPS\s+)(Z\d+), (Z\d+),`, `${1}${3}, ${2},`, false},
		{plain, "subtract operands swapped", `(VSUBPS\s+)(Z\d+), (Z\d+),`, `${1}${3}, ${2},`, false},
		{plain, "eps read from the lr slot", `eps\+76\(FP\)`, `lr+72(FP)`, false},
		{decay, "decay read from the gain slot", `decay\+84\(FP\)`, `gain+88(FP)`, false},
		{plain, "spilled constant never stored", `\n\s*VMOVUPS\s+Z\d+, \d*\(SP\)`, ``, true},
		{plain, "block loop entered a vector early", `(CMPQ\s+\w+, )\` + imm(block)[1:], `${1}` + imm(block-16), false},
		{plain, "x pointer advanced short", `(ADDQ\s+)\` + imm(4 * block)[1:] + `, ` + xReg[1] + `\b`, `${1}` + imm(4*block-64) + `, ` + xReg[1], false},
		{plain, "tail store of x dropped", `\n\s*VMOVUPS\s+Z\d+, K\d, \(` + xReg[1] + `\)`, ``, false},
		{guard, "guard GE_OQ lets s == 0 through", `\$0x1e,`, `$$0x1d,`, false},
		{guard, "guard NLE_UQ lets NaN through", `\$0x1e,`, `$$0x16,`, false},
		{guard, "guard inverted", `\$0x1e,`, `$$0x1a,`, false},
		{guard, "guard dropped", `\n\s*VMOVAPS\.Z[^\n]*`, ``, false},
		{guard, "guard mask allocated to the tail mask", `\b` + guardK + `\b`, `K1`, false},
		{guard, "1 read at the float64 offset", `ones<>\+0\(SB\)`, `ones<>+8(SB)`, false},
		{fused, "every FMA rounded twice", `VFMADD231PS\s+([^,\n]+), (Z\d+), (Z\d+)`, "VMULPS ${1}, ${2}, " + free + "\n\tVADDPS " + free + ", ${3}, ${3}", false},
		{fused, "FMA accumulates into a factor", `(VFMADD231PS\s+[^,\n]+, )(Z\d+), (Z\d+)`, `${1}${3}, ${2}`, false},
		{fused, "every FMA dropped", `\n\s*VFMADD231PS[^\n]*`, ``, false},
	}
	for _, mu := range mutations {
		t.Run(mu.target+"/"+mu.name, func(t *testing.T) {
			broken, hits := mutate(src, mu.target, regexp.MustCompile(mu.re), mu.repl)
			if hits == 0 && mu.optional {
				t.Skipf("%q matches nothing in %s", mu.re, mu.target)
			}
			if hits == 0 {
				t.Fatalf("%q matches nothing in %s; update the mutation to the generated code", mu.re, mu.target)
			}
			p, err := parseProgram(file, broken)
			if err != nil {
				t.Fatalf("mutated source does not parse: %v", err)
			}
			k := ks[mu.target]
			err = check(p, k, lens, k.model)
			if err == nil {
				t.Fatalf("%s still matches ref after %d edits", mu.target, hits)
			}
			t.Logf("caught: %v", err)
		})
	}
}
