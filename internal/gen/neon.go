package main

import (
	"bytes"
	"cmp"
	"fmt"
	"go/format"
	"maps"
	"slices"
	"strings"

	"github.com/adagrad-go/adagrad/ref"
)

// Avo emits amd64 only, so the arm64 NEON kernels are written here as Go assembly
// text, from the same descriptions (stages.go) as the amd64 ones.
//
// Go 1.26's arm64 assembler has no vector FADD, FSUB, FMUL, FDIV, FSQRT or FCMGT
// (its VADD is the integer add), so those are WORD directives built from their
// A64 encodings, each followed by a comment in GNU syntax that
// kernel/asm's objdump test holds the disassembly to. Everything else uses the
// assembler's own mnemonics.

// nelem is one element type on NEON.
type nelem struct {
	suffix, goType string
	size           int
	arr            string // arrangement: S4 or D2
	sz             uint32 // the sz bit of the vector encodings
	gnu            string // GNU arrangement: 4s or 2d
	fp             string // scalar mnemonic suffix: S or D
}

var (
	n32 = nelem{suffix: "32", goType: "float32", size: 4, arr: "S4", sz: 0, gnu: "4s", fp: "S"}
	n64 = nelem{suffix: "64", goType: "float64", size: 8, arr: "D2", sz: 1, gnu: "2d", fp: "D"}
)

func (e nelem) lanes() int { return 16 / e.size }

// fops renders the arithmetic of one vector (V registers, whole 128 bits) or of
// one element (F registers, the scalar tail). Operands are register numbers.
type fops interface {
	add(d, a, b int)    // d = a + b
	sub(d, a, b int)    // d = a − b
	mul(d, a, b int)    // d = a · b
	div(d, a, b int)    // d = a / b
	sqrt(d, a int)      // d = √a
	rsqrte(d, a int)    // d ≈ 1/√a, the hardware estimate
	rsqrts(d, a, b int) // d = (3 − a·b)/2 fused, 1.5 for 0·∞: the Newton–Raphson step
	fma(d, a, b int)    // d = d + a·b, one rounding
	fms(d, a, b int)    // d = d − a·b, one rounding
	// gtz zeroes d unless s > 0 (false for NaN), using t as scratch.
	gtz(d, s, t int)
}

// asmText collects assembly lines.
type asmText struct{ b bytes.Buffer }

func (w *asmText) ins(format string, a ...any) { fmt.Fprintf(&w.b, "\t"+format+"\n", a...) }
func (w *asmText) label(l string)              { fmt.Fprintf(&w.b, "\n%s:\n", l) }

// vecOps is fops on whole vectors.
type vecOps struct {
	w *asmText
	e nelem
}

// word emits one vector instruction from its encoding: base | Q=1 | sz | Rm | Rn | Rd.
// A third operand m < 0 is absent; imm, when not empty, is a last immediate
// operand as the disassembler prints it.
func (v vecOps) word(base uint32, mnemonic string, d, n, m int, imm string) {
	enc := base | 1<<30 | v.e.sz<<22 | uint32(n)<<5 | uint32(d)
	gnu := fmt.Sprintf("%s v%d.%s, v%d.%s", mnemonic, d, v.e.gnu, n, v.e.gnu)
	if m >= 0 {
		enc |= uint32(m) << 16
		gnu += fmt.Sprintf(", v%d.%s", m, v.e.gnu)
	}
	if imm != "" {
		gnu += ", " + imm
	}
	v.w.ins("WORD $0x%08x // %s", enc, gnu)
}

// The A64 encodings, Q and sz clear (C7.2 of the Arm ARM).
const (
	encFADD      = 0x0e20d400
	encFSUB      = 0x0ea0d400
	encFMUL      = 0x2e20dc00
	encFDIV      = 0x2e20fc00
	encFSQRT     = 0x2ea1f800
	encFCMGTZero = 0x0ea0c800
	encFRSQRTE   = 0x2ea1d800
	encFRSQRTS   = 0x0ea0fc00
	// The scalar FRSQRTE (Go's assembler has no mnemonic for it either); sz is bit 22.
	encFRSQRTEScalar = 0x7ea1d800
	encFRSQRTSScalar = 0x5ea0fc00
)

func (v vecOps) add(d, a, b int)    { v.word(encFADD, "fadd", d, a, b, "") }
func (v vecOps) sub(d, a, b int)    { v.word(encFSUB, "fsub", d, a, b, "") }
func (v vecOps) mul(d, a, b int)    { v.word(encFMUL, "fmul", d, a, b, "") }
func (v vecOps) div(d, a, b int)    { v.word(encFDIV, "fdiv", d, a, b, "") }
func (v vecOps) sqrt(d, a int)      { v.word(encFSQRT, "fsqrt", d, a, -1, "") }
func (v vecOps) rsqrte(d, a int)    { v.word(encFRSQRTE, "frsqrte", d, a, -1, "") }
func (v vecOps) rsqrts(d, a, b int) { v.word(encFRSQRTS, "frsqrts", d, a, b, "") }
func (v vecOps) fms(d, a, b int) {
	v.w.ins("VFMLS V%d.%s, V%d.%s, V%d.%s", b, v.e.arr, a, v.e.arr, d, v.e.arr)
}
func (v vecOps) fma(d, a, b int) {
	v.w.ins("VFMLA V%d.%s, V%d.%s, V%d.%s", b, v.e.arr, a, v.e.arr, d, v.e.arr)
}
func (v vecOps) gtz(d, s, t int) {
	v.word(encFCMGTZero, "fcmgt", t, s, -1, "#0") // t = s > 0 ? all ones : 0
	v.w.ins("VAND V%d.B16, V%d.B16, V%d.B16", t, d, d)
}

// scalarOps is fops on one element; zero is a register holding +0.
type scalarOps struct {
	w    *asmText
	e    nelem
	zero int
}

func (s scalarOps) op(name string, d, a, b int) {
	s.w.ins("F%s%s F%d, F%d, F%d", name, s.e.fp, b, a, d)
}
func (s scalarOps) add(d, a, b int) { s.op("ADD", d, a, b) }
func (s scalarOps) sub(d, a, b int) { s.op("SUB", d, a, b) }
func (s scalarOps) mul(d, a, b int) { s.op("MUL", d, a, b) }
func (s scalarOps) div(d, a, b int) { s.op("DIV", d, a, b) }
func (s scalarOps) sqrt(d, a int)   { s.w.ins("FSQRT%s F%d, F%d", s.e.fp, a, d) }
func (s scalarOps) rsqrte(d, a int) {
	r := strings.ToLower(s.e.fp)
	s.w.ins("WORD $0x%08x // frsqrte %s%d, %s%d", encFRSQRTEScalar|s.e.sz<<22|uint32(a)<<5|uint32(d), r, d, r, a)
}
func (s scalarOps) rsqrts(d, a, b int) {
	r := strings.ToLower(s.e.fp)
	s.w.ins("WORD $0x%08x // frsqrts %s%d, %s%d, %s%d", encFRSQRTSScalar|s.e.sz<<22|uint32(b)<<16|uint32(a)<<5|uint32(d), r, d, r, a, r, b)
}
func (s scalarOps) fms(d, a, b int) {
	s.w.ins("FMSUB%s F%d, F%d, F%d, F%d", s.e.fp, b, d, a, d) // d = d − a·b
}
func (s scalarOps) fma(d, a, b int) {
	s.w.ins("FMADD%s F%d, F%d, F%d, F%d", s.e.fp, b, d, a, d) // d = a·b + d
}
func (s scalarOps) gtz(d, src, _ int) {
	s.w.ins("FCMP%s $(0.0), F%d", s.e.fp, src)
	s.w.ins("FCSEL%s GT, F%d, F%d, F%d", s.e.fp, d, s.zero, d)
}

// Registers of the NEON kernels: per vector i of a block, g, s, d, x and a
// temporary; the broadcast constants; R0–R3 the pointers and the count.
const (
	nG, nS, nD, nX, nT                             = 0, 4, 8, 12, 24
	cLR, cEps, cWD, cDecay, cGain, cOne, cK, cZero = 16, 17, 18, 19, 20, 21, 22, 23
	neonUnroll                                     = 4
)

// nregs are the registers of one vector (or one element in the tail).
type nregs struct{ g, s, d, x, t int }

func vregs(i int) nregs { return nregs{nG + i, nS + i, nD + i, nX + i, nT + i} }

// neonConst holds each constant of constOrder in a register of its own, with
// the scalar in lane 0 for the tail.
var neonConst = map[string]int{"lr": cLR, "eps": cEps, "wd": cWD, "decay": cDecay, "gain": cGain, "one": cOne, "k": cK, "zero": cZero}

// of is the register of the value or constant name; every temporary shares t.
func (r nregs) of(name string) int {
	switch name {
	case "g":
		return r.g
	case "s":
		return r.s
	case "d":
		return r.d
	case "x":
		return r.x
	}
	if c, ok := neonConst[name]; ok {
		return c
	}
	return r.t
}

// neonRun writes the arithmetic of p for one vector (or one element) in the
// registers r; the registers are fixed, and the loads and stores the caller's.
func neonRun(o fops, p ops, r nregs) {
	for _, x := range p {
		d, a, b := r.of(x.dst), r.of(x.a), r.of(x.b)
		switch x.kind {
		case opAdd:
			o.add(d, a, b)
		case opSub:
			o.sub(d, a, b)
		case opMul:
			o.mul(d, a, b)
		case opDiv:
			o.div(d, a, b)
		case opSqrt:
			o.sqrt(d, a)
		case opFMA:
			o.fma(d, a, b)
		case opGuard:
			o.gtz(d, a, r.t)
		}
	}
}

// neonBody is c as a neonKernel body: per stage, the loads of the whole block,
// the arithmetic vector by vector, then the stores.
func neonBody(c calc) func(o fops, regs []nregs, load, store func(string, []nregs)) {
	return func(o fops, regs []nregs, load, store func(string, []nregs)) {
		for _, st := range c {
			for _, x := range st.ops {
				if x.kind == opLoad {
					load(x.dst, regs)
				}
			}
			for _, r := range regs {
				neonRun(o, st.ops, r)
			}
			for _, x := range st.ops {
				if x.kind == opStore {
					store(x.a, regs)
				}
			}
		}
	}
}

// neonConsts are the constant registers c reads.
func neonConsts(c calc) map[string]int {
	m := map[string]int{}
	for _, name := range c.consts() {
		m[name] = neonConst[name]
	}
	return m
}

// neonKernel writes one kernel over the slices named in roles (x first, whose
// length is the count), with float parameters params, whose body for n vectors is
// body. body gets the fops, the registers of each vector and a mover that loads or
// stores a role into a register set.
type neonKernel struct {
	name   string
	doc    []string
	roles  []string // "x", "s", "g" in signature order; the first gives the length
	names  []string // their parameter names
	params []string
	consts map[string]int // parameter or "one"/"zero" → constant register
	body   func(o fops, regs []nregs, load, store func(role string, regs []nregs))
}

func (k neonKernel) emit(w *asmText, e nelem) {
	// The frame: each slice is 24 bytes, then the scalars at their size.
	off := 24 * len(k.roles)
	paramOff := map[string]int{}
	for _, p := range k.params {
		paramOff[p] = off
		off += e.size
	}
	for _, line := range k.doc {
		fmt.Fprintf(&w.b, "// %s\n", line)
	}
	fmt.Fprintf(&w.b, "TEXT ·%s(SB), NOSPLIT, $0-%d\n", k.name, off)
	ptr := map[string]int{}
	for i, role := range k.roles {
		ptr[role] = i
		w.ins("MOVD %s_base+%d(FP), R%d", k.names[i], 24*i, i)
	}
	w.ins("MOVD %s_len+8(FP), R3", k.names[0])
	for _, name := range byRegister(k.consts) {
		c := k.consts[name]
		switch name {
		case "one":
			w.ins("FMOV%s $(1.0), F%d", e.fp, c)
		case "zero":
			w.ins("VEOR V%d.B16, V%d.B16, V%d.B16", c, c, c)
			continue
		default:
			w.ins("FMOV%s %s+%d(FP), F%d", e.fp, name, paramOff[name], c)
		}
		// The scalar stays in lane 0, where the tail reads it as F<c>.
		w.ins("VDUP V%d.%s[0], V%d.%s", c, e.fp, c, e.arr)
	}
	lanes := e.lanes()
	vec := vecOps{w, e}
	vload := func(role string, regs []nregs) {
		var list []string
		for _, r := range regs {
			list = append(list, fmt.Sprintf("V%d.%s", r.of(role), e.arr))
		}
		w.ins("VLD1 (R%d), [%s]", ptr[role], strings.Join(list, ", "))
	}
	vstore := func(role string, regs []nregs) {
		var list []string
		for _, r := range regs {
			list = append(list, fmt.Sprintf("V%d.%s", r.of(role), e.arr))
		}
		w.ins("VST1 [%s], (R%d)", strings.Join(list, ", "), ptr[role])
	}
	advance := func(elems int) {
		for _, role := range k.roles {
			w.ins("ADD $%d, R%d, R%d", elems*e.size, ptr[role], ptr[role])
		}
		w.ins("SUB $%d, R3, R3", elems)
	}
	var block []nregs
	for i := range neonUnroll {
		block = append(block, vregs(i))
	}

	w.label(k.name + "_block")
	w.ins("CMP $%d, R3", neonUnroll*lanes)
	w.ins("BLT %s_single", k.name)
	k.body(vec, block, vload, vstore)
	advance(neonUnroll * lanes)
	w.ins("B %s_block", k.name)

	w.label(k.name + "_single")
	w.ins("CMP $%d, R3", lanes)
	w.ins("BLT %s_tail", k.name)
	k.body(vec, block[:1], vload, vstore)
	advance(lanes)
	w.ins("B %s_single", k.name)

	// The last 1..lanes−1 elements one at a time, with the scalar forms of the
	// same operations: the same roundings, and no access past the slices.
	w.label(k.name + "_tail")
	w.ins("CBZ R3, %s_done", k.name)
	zero, ok := k.consts["zero"]
	if !ok {
		zero = cZero
	}
	sc := scalarOps{w, e, zero}
	sload := func(role string, regs []nregs) {
		w.ins("FMOV%s (R%d), F%d", e.fp, ptr[role], regs[0].of(role))
	}
	sstore := func(role string, regs []nregs) {
		w.ins("FMOV%s F%d, (R%d)", e.fp, regs[0].of(role), ptr[role])
	}
	k.body(sc, block[:1], sload, sstore)
	advance(1)
	w.ins("B %s_tail", k.name)

	w.label(k.name + "_done")
	w.ins("RET")
	w.b.WriteString("\n")
}

// byRegister returns the names of m in the order of their registers, so that the
// output is the same on every run.
func byRegister(m map[string]int) []string {
	keys := slices.Collect(maps.Keys(m))
	slices.SortFunc(keys, func(a, b string) int { return cmp.Compare(m[a], m[b]) })
	return keys
}

// neonApply is the NEON kernel of form f.
func neonApply(f ref.Form, e nelem) neonKernel {
	c := applyCalc(f)
	name := fmt.Sprintf("apply%sNEON%s", e.suffix, f)
	return neonKernel{
		name: name,
		doc: []string{
			fmt.Sprintf("func %s(x, s, g []%s, lr, eps, wd, decay, gain %s)", name, e.goType, e.goType),
		},
		roles: []string{"x", "s", "g"}, names: []string{"x", "s", "g"},
		params: []string{"lr", "eps", "wd", "decay", "gain"},
		consts: neonConsts(c),
		body:   neonBody(c),
	}
}

// neonAdd is dst = a + b.
func neonAdd(e nelem) neonKernel {
	name := "Add" + e.suffix + "NEON"
	return neonKernel{
		name:  name,
		doc:   []string{fmt.Sprintf("func %s(dst, a, b []%s)", name, e.goType)},
		roles: []string{"x", "s", "g"}, names: []string{"dst", "a", "b"},
		consts: map[string]int{},
		body: func(o fops, regs []nregs, load, store func(string, []nregs)) {
			load("s", regs)
			load("g", regs)
			for _, r := range regs {
				o.add(r.x, r.s, r.g) // a + b
			}
			store("x", regs)
		},
	}
}

// neonTraffic moves the bytes of an Apply kernel with trivial math: s = s + g,
// x = x − g. Benchmarks use it as the memory-traffic ceiling.
func neonTraffic(e nelem) neonKernel {
	name := "Traffic" + e.suffix + "NEON"
	return neonKernel{
		name:  name,
		doc:   []string{fmt.Sprintf("func %s(x, s, g []%s)", name, e.goType)},
		roles: []string{"x", "s", "g"}, names: []string{"x", "s", "g"},
		consts: map[string]int{},
		body: func(o fops, regs []nregs, load, store func(string, []nregs)) {
			// Apply's order: g and s, s stored, then x (see the amd64 traffic).
			load("g", regs)
			load("s", regs)
			for _, r := range regs {
				o.add(r.s, r.s, r.g)
			}
			store("s", regs)
			load("x", regs)
			for _, r := range regs {
				o.sub(r.x, r.x, r.g)
			}
			store("x", regs)
		},
	}
}

// neonRsqrtNR sets register y ≈ 1/√v: FRSQRTE's 8-bit estimate, then two
// Newton–Raphson steps y = y·FRSQRTS(v, y·y), using register t. FRSQRTS returns
// 1.5 for 0·∞, so v = 0 (y = +∞) and v = +∞ (y = 0) keep their exact estimates.
func neonRsqrtNR(o fops, y, v, t int) {
	o.rsqrte(y, v)
	for range 2 {
		o.mul(t, y, y)
		o.rsqrts(t, v, t)
		o.mul(y, y, t)
	}
}

// neonUpdateFast is kernel.UpdateFast on NEON: s = s + g·g as Update, v = s + eps,
// x = x − (lr·y)·g fused, y = neonRsqrtNR(v).
func neonUpdateFast() neonKernel {
	return neonKernel{
		name:  "UpdateFast32NEON",
		doc:   []string{"func UpdateFast32NEON(x, s, g []float32, lr, eps float32)"},
		roles: []string{"x", "s", "g"}, names: []string{"x", "s", "g"},
		params: []string{"lr", "eps"},
		consts: map[string]int{"lr": cLR, "eps": cEps},
		body: func(o fops, regs []nregs, load, store func(string, []nregs)) {
			load("g", regs)
			load("s", regs)
			for _, r := range regs {
				o.mul(r.t, r.g, r.g)
				o.add(r.s, r.s, r.t) // s + g·g
			}
			store("s", regs)
			for _, r := range regs {
				o.add(r.s, r.s, cEps)
				neonRsqrtNR(o, r.d, r.s, r.t)
				o.mul(r.d, r.d, cLR) // lr·y
			}
			load("x", regs)
			for _, r := range regs {
				o.fms(r.x, r.d, r.g) // x − (lr·y)·g
			}
			store("x", regs)
		},
	}
}

// neonRsqrtFast is neonRsqrtNR over a slice, for the tests.
func neonRsqrtFast() neonKernel {
	return neonKernel{
		name:  "rsqrtFast32NEON",
		doc:   []string{"func rsqrtFast32NEON(y, v []float32)"},
		roles: []string{"x", "s"}, names: []string{"y", "v"},
		consts: map[string]int{},
		body: func(o fops, regs []nregs, load, store func(string, []nregs)) {
			load("s", regs)
			for _, r := range regs {
				neonRsqrtNR(o, r.x, r.s, r.t)
			}
			store("x", regs)
		},
	}
}

// neonSqrtDiv is y = g / √s, the compute ceiling of the exact kernels (float32).
func neonSqrtDiv() neonKernel {
	return neonCeiling("SqrtDiv32NEON", func(o fops, d, s int) { o.sqrt(d, s) }, func(o fops, d, g, r int) { o.div(d, g, r) })
}

// neonRsqrtMul is y = g · rsqrte(s), the compute ceiling of approximate kernels.
func neonRsqrtMul() neonKernel {
	return neonCeiling("RsqrtMul32NEON", func(o fops, d, s int) { o.rsqrte(d, s) }, func(o fops, d, g, r int) { o.mul(d, g, r) })
}

// neonCeiling is y = combine(g, root(s)), float32, a compute-ceiling kernel.
func neonCeiling(name string, root func(o fops, d, s int), combine func(o fops, d, g, r int)) neonKernel {
	return neonKernel{
		name:  name,
		doc:   []string{fmt.Sprintf("func %s(y, s, g []float32)", name)},
		roles: []string{"x", "s", "g"}, names: []string{"y", "s", "g"},
		consts: map[string]int{},
		body: func(o fops, regs []nregs, load, store func(string, []nregs)) {
			load("s", regs)
			load("g", regs)
			for _, r := range regs {
				root(o, r.s, r.s)
			}
			for _, r := range regs {
				combine(o, r.x, r.g, r.s)
			}
			store("x", regs)
		},
	}
}

// neonFile returns the assembly and the Go declarations of every NEON kernel.
func neonFile() (asm, stubs []byte) {
	var w asmText
	w.b.WriteString("// Code generated by command: go run main.go -neon. DO NOT EDIT.\n\n//go:build gc && !purego\n\n#include \"textflag.h\"\n\n")
	var g bytes.Buffer
	g.WriteString("// Code generated by command: go run main.go -neon. DO NOT EDIT.\n\n//go:build gc && !purego\n\npackage asm\n")
	declare := func(k neonKernel, e nelem, doc string) {
		k.emit(&w, e)
		fmt.Fprintf(&g, "\n// %s\n//\n//go:noescape\n", doc)
		sig := strings.TrimPrefix(k.doc[0], "func ")
		fmt.Fprintf(&g, "func %s\n", sig)
	}
	for _, e := range []nelem{n32, n64} {
		for _, f := range ref.Forms() {
			k := neonApply(f, e)
			declare(k, e, fmt.Sprintf("%s is ref.Apply for the form %s (ID %d), bit for bit, with %d %s lanes per vector and %d vectors per iteration. The caller guarantees len(s) and len(g) are at least len(x) and that the slices do not overlap.",
				k.name, f, f.ID(), e.lanes(), e.goType, neonUnroll))
		}
		tr := neonTraffic(e)
		declare(tr, e, fmt.Sprintf("%s has the memory traffic of the Apply%sNEON kernels with trivial math: for i < len(x), s[i] = s[i] + g[i] and x[i] = x[i] - g[i]. Benchmarks use it as the memory-bandwidth ceiling; it is not an optimizer step.", tr.name, e.suffix))
		if e == n32 {
			k := neonSqrtDiv()
			declare(k, e, "SqrtDiv32NEON sets y[i] = g[i] / √s[i] for i < len(y): the square root and division of an exact update, without its other operations. Benchmarks run it in L1 as the compute ceiling of the exact kernels. The caller guarantees len(s) and len(g) are at least len(y).")
			k = neonUpdateFast()
			declare(k, e, "UpdateFast32NEON is the fast approximate update of kernel.UpdateFast: for i < len(x), s[i] = s[i] + g[i]·g[i] (each operation rounded, as ref.Update); y = FRSQRTE(s[i] + eps) refined by two FRSQRTS Newton–Raphson steps; x[i] = x[i] − (lr·y)·g[i], the product with g fused with the subtraction. The caller guarantees len(s) and len(g) are at least len(x) and that the slices do not overlap.")
			k = neonRsqrtFast()
			declare(k, e, "rsqrtFast32NEON sets y[i] to the reciprocal square root of v[i] that UpdateFast32NEON computes (FRSQRTE and two FRSQRTS steps), for i < len(y). The caller guarantees len(v) ≥ len(y).")
			k = neonRsqrtMul()
			declare(k, e, "RsqrtMul32NEON sets y[i] = g[i] · rsqrte(s[i]) for i < len(y), where FRSQRTE is the hardware estimate of 1/√s (relative error below 2⁻⁸): the cheapest approximate step. Benchmarks run it in L1 as the compute ceiling of approximate kernels. The caller guarantees len(s) and len(g) are at least len(y).")
		}
		k := neonAdd(e)
		declare(k, e, fmt.Sprintf("%s sets dst[i] = a[i] + b[i] for i < len(dst), each sum rounded to %s. dst may be a (the same slice, not an overlapping one). The caller guarantees len(a) and len(b) are at least len(dst).", k.name, e.goType))
		for _, wd := range weightDecays {
			for _, fused := range []bool{false, true} {
				sig := neonSumSquares(wd, fused, e, &w)
				name := strings.Fields(strings.TrimPrefix(sig, "func "))[0]
				name = name[:strings.Index(name, "(")]
				fmt.Fprintf(&g, "\n// %s returns ref.SumSquares of g' over i < len(g), bit for bit, where g' is g[i] after weight decay %q (reading x[i]) and each partial sum is %s. The caller guarantees len(x) ≥ len(g) when x is read.\n//\n//go:noescape\n%s\n",
					name, wd.String(), sumSquaresFormula(fused), sig)
			}
			for _, o := range orders {
				k := neonRowStep(o, wd, e)
				declare(k, e, fmt.Sprintf("%s sets x[i] = x[i] − %s for i < len(x), where g' is g[i] after weight decay %q and k is the row's factor from ref.RowScale: the update of one row in ref.RowWise, bit for bit. The caller guarantees len(g) ≥ len(x).",
					k.name, rowStepFormula[o], wd.String()))
			}
		}
	}
	neonPrefetch(&w)
	g.WriteString("\n// Prefetch hints that the n bytes at p will be read soon, line by line, so the sparse steps can fetch rows ahead of their turn. PRFM never faults.\n//\n//go:noescape\nfunc Prefetch(p, n uintptr)\n")
	src, err := format.Source(g.Bytes())
	if err != nil {
		panic(err)
	}
	return w.b.Bytes(), src
}

// neonPrefetch writes Prefetch: PRFM PLDL1KEEP on each 64-byte line of [p, p+n),
// the line of the last byte included when p is not aligned.
func neonPrefetch(w *asmText) {
	w.b.WriteString("// func Prefetch(p, n uintptr)\nTEXT ·Prefetch(SB), NOSPLIT, $0-16\n")
	w.ins("MOVD p+0(FP), R0")
	w.ins("MOVD n+8(FP), R1")
	w.ins("CBZ R1, prefetch_done")
	w.ins("ADD R0, R1, R1")
	w.ins("SUB $1, R1, R1")
	w.label("prefetch_loop")
	w.ins("PRFM (R0), PLDL1KEEP")
	w.ins("ADD $64, R0, R0")
	w.ins("CMP R1, R0")
	w.ins("BLO prefetch_loop")
	w.ins("PRFM (R1), PLDL1KEEP")
	w.label("prefetch_done")
	w.ins("RET")
}

// neonTable returns the Go source of the arm64 tables and entry points.
func neonTable() []byte {
	b := tableFile("-neontable")
	for _, e := range []nelem{n32, n64} {
		writeEntry(b, applyEntry(e.suffix, e.goType, "NEON"))
		writeUpdate(b, e.suffix, e.goType, "NEON")
		for _, r := range rowEntries(e.suffix, e.goType, "NEON") {
			writeEntry(b, r)
		}
	}
	return formatted(b)
}

// neonRowStep is the update of one row in a row-wise step: x[i] −= step(g'[i])
// with the row's factor k from ref.RowScale.
func neonRowStep(order ref.Order, wd ref.WeightDecay, e nelem) neonKernel {
	c := rowStepCalc(order, wd)
	name := fmt.Sprintf("rowStep%sNEON%s%s", e.suffix, order, wd)
	return neonKernel{
		name:  name,
		doc:   []string{fmt.Sprintf("func %s(x, g []%s, lr, k, wd %s)", name, e.goType, e.goType)},
		roles: []string{"x", "g"}, names: []string{"x", "g"},
		params: []string{"lr", "k", "wd"},
		consts: neonConsts(c),
		body:   neonBody(c),
	}
}

// neonSumSquares writes the sum of g'[i]² in the order of ref.SumSquares: the
// 16 float32 (8 float64) partial sums are V28–V31, lane j of the order in
// register 28 + j/lanes. The last partial chunk is gathered into zeroed vectors
// element by element (scalar g', inserted into its lane), so the padding adds +0.
func neonSumSquares(wd ref.WeightDecay, fused bool, e nelem, w *asmText) string {
	c := sumSquaresCalc(wd, fused)
	grad, square := c[0].ops, c[1].ops // sumSquaresCalc's stages
	name := fmt.Sprintf("sumSquares%sNEON%s", e.suffix, wd)
	if fused {
		name += "FusedAcc"
	}
	sig := fmt.Sprintf("func %s(x, g []%s, wd %s) %s", name, e.goType, e.goType, e.goType)
	fmt.Fprintf(&w.b, "// %s\n", sig)
	fmt.Fprintf(&w.b, "TEXT ·%s(SB), NOSPLIT, $0-%d\n", name, 56+e.size)
	useX := c.loads("x")
	if useX {
		w.ins("MOVD x_base+0(FP), R0")
	}
	w.ins("MOVD g_base+24(FP), R2")
	w.ins("MOVD g_len+32(FP), R3")
	if useX {
		w.ins("FMOV%s wd+48(FP), F%d", e.fp, cWD)
		w.ins("VDUP V%d.%s[0], V%d.%s", cWD, e.fp, cWD, e.arr)
	}
	const acc = 28
	for i := range 4 {
		w.ins("VEOR V%d.B16, V%d.B16, V%d.B16", acc+i, acc+i, acc+i)
	}
	lanes := e.lanes()
	chunk := 4 * lanes
	vec := vecOps{w, e}
	regs := []nregs{vregs(0), vregs(1), vregs(2), vregs(3)}
	list := func(role string) string {
		var l []string
		for _, r := range regs {
			l = append(l, fmt.Sprintf("V%d.%s", r.of(role), e.arr))
		}
		return strings.Join(l, ", ")
	}
	squares := func() {
		for i, r := range regs {
			r.s = acc + i
			neonRun(vec, square, r)
		}
	}
	w.label(name + "_loop")
	w.ins("CMP $%d, R3", chunk)
	w.ins("BLT %s_tail", name)
	w.ins("VLD1 (R2), [%s]", list("g"))
	if useX {
		w.ins("VLD1 (R0), [%s]", list("x"))
	}
	for _, r := range regs {
		neonRun(vec, grad, r)
	}
	squares()
	w.ins("ADD $%d, R2, R2", chunk*e.size)
	if useX {
		w.ins("ADD $%d, R0, R0", chunk*e.size)
	}
	w.ins("SUB $%d, R3, R3", chunk)
	w.ins("B %s_loop", name)

	w.label(name + "_tail")
	w.ins("CBZ R3, %s_reduce", name)
	for _, r := range regs {
		w.ins("VEOR V%d.B16, V%d.B16, V%d.B16", r.g, r.g, r.g)
	}
	sc := scalarOps{w, e, cZero}
	one := nregs{g: nD, x: nX, t: nT} // scalar scratch: F8 g', F12 x, F24 t
	for el := range chunk - 1 {
		w.ins("FMOV%s (R2), F%d", e.fp, one.g)
		if useX {
			w.ins("FMOV%s (R0), F%d", e.fp, one.x)
			w.ins("ADD $%d, R0, R0", e.size)
		}
		neonRun(sc, grad, one)
		w.ins("VMOV V%d.%s[0], V%d.%s[%d]", one.g, e.fp, el/lanes, e.fp, el%lanes)
		w.ins("ADD $%d, R2, R2", e.size)
		w.ins("SUB $1, R3, R3")
		w.ins("CBZ R3, %s_gathered", name)
	}
	w.label(name + "_gathered")
	squares()

	// The tree: lane j += lane j+w, the lower lane the first operand.
	w.label(name + "_reduce")
	vec.add(acc, acc, acc+2) // w = 8 (float64: 4), registers 0, 1
	vec.add(acc+1, acc+1, acc+3)
	vec.add(acc, acc, acc+1) // w = 4 (2)
	if e.size == 4 {
		w.ins("VEXT $8, V%d.B16, V%d.B16, V%d.B16", acc, acc, nT) // lanes 2, 3 to 0, 1
		vec.add(acc, acc, nT)                                     // w = 2
	}
	w.ins("VDUP V%d.%s[1], V%d.%s", acc, e.fp, nT, e.arr) // lane 1 to 0
	sc.add(acc, acc, nT)                                  // w = 1
	w.ins("FMOV%s F%d, ret+56(FP)", e.fp, acc)
	w.ins("RET")
	w.b.WriteString("\n")
	return sig
}
