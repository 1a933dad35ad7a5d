package x86emu

import (
	"slices"
	"sync/atomic"
)

// Program is one parsed assembly file: its functions and its read-only data.
// Symbols named sym<> are local to their file, which is why a Program is one
// file and not a package.
type Program struct {
	file   string
	funcs  []*Func
	byName map[string]*Func
	syms   map[string][]byte // DATA/GLOBL contents
}

// File is the file name given to Parse, which errors use to point into it.
func (p *Program) File() string { return p.file }

// Funcs returns the program's functions in the order of their TEXT lines.
func (p *Program) Funcs() []*Func { return slices.Clone(p.funcs) }

// Func returns the function of TEXT ·name(SB), or nil if there is none.
func (p *Program) Func(name string) *Func { return p.byName[name] }

// Symbol returns a copy of the contents of the read-only symbol name (as
// spelled in the source, "ones<>"), and whether the file defines it.
func (p *Program) Symbol(name string) ([]byte, bool) {
	b, ok := p.syms[name]
	return slices.Clone(b), ok
}

// Func is one TEXT block.
type Func struct {
	name      string
	frameSize int // N of $N-NN: the size of the local stack frame
	argSize   int // NN of $N-NN: the size of the Go argument frame
	insts     []*Inst
	labels    map[string]int // label → index of the instruction after it
}

// Name is the function's name without the package's middle dot.
func (f *Func) Name() string { return f.name }

// Insts returns the function's instructions in source order.
func (f *Func) Insts() []*Inst { return slices.Clone(f.insts) }

// Inst is one instruction, decoded when its file was parsed.
type Inst struct {
	line int
	text string
	op   string
	args []operand
	exec func(*machine) error
	// hits is atomic so that one Program can be run on many goroutines.
	hits atomic.Int64
}

// Line is the instruction's line number in its file, from 1.
func (in *Inst) Line() int { return in.line }

// Text is the instruction as written, without comment or surrounding space.
func (in *Inst) Text() string { return in.text }

// Op is the mnemonic, with any suffix such as the .Z of zeroing-masking.
func (in *Inst) Op() string { return in.op }

// Imm returns the value of the instruction's immediate operand, and false if it
// has none. No form that Parse accepts has more than one.
func (in *Inst) Imm() (int64, bool) {
	for _, a := range in.args {
		if a.kind == kindImm {
			return a.imm, true
		}
	}
	return 0, false
}

// Hits is how many times Run has executed the instruction, summed over every
// call on its Program, so that a test can show its inputs took every path.
func (in *Inst) Hits() int64 { return in.hits.Load() }
