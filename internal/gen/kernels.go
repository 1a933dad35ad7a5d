package main

import (
	"fmt"
	"slices"
	"strings"

	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"

	"github.com/adagrad-go/adagrad/ref"
)

// mover loads and stores one vector: whole vectors in the loops, masked vectors in
// the tail, so that one description of the math serves both.
type mover struct {
	load  func(m Mem, dst VecVirtual)
	store func(src VecVirtual, m Mem)
}

// operands is what a kernel body sees for one vector: the memory of x, s and g at
// this position, the broadcast constants by name, and a register allocator.
type operands struct {
	e       elem
	v       isa
	io      mover
	x, s, g Mem
	c       map[string]Op // a register, or on AVX2 a stack slot, holding the constant
	vec     func() VecVirtual
	// hybrid marks the vectors of a hybrid kernel (hybrid.go), and soft those
	// that take their square root and division from FMAs instead of the divider.
	hybrid, soft bool
}

// kernel is one computation over the three slices x, s and g.
type kernel struct {
	name   string   // the stub's name, e.g. "apply32AVX2InDivMul" (unexported: reached through table.go's entry points)
	params []string // scalar parameters after the slices, all of the element type
	uses   []string // the parameters and literals ("one", "zero") the body reads
	doc    []string
	// stages returns the body for one vector as consecutive stages. The block loop
	// runs each stage for all its vectors before the next stage, so the square
	// roots and divisions of different vectors are issued close together instead
	// of waiting behind each vector's whole chain.
	stages func(o operands) []func()
	// inRegs names the constants that must be in registers: those an instruction
	// reads as its first source, which cannot be memory.
	inRegs []string
	// unroll is how many vectors the block loop processes per iteration.
	unroll int
	// soft, when set, says which vectors of a block take their square root and
	// division from FMAs (hybrid.go); its length is unroll.
	soft []bool
	// stream, when set, has the block loop prefetch prefetchDistance bytes ahead
	// of each slice while that much is left: an optimizer step's kernels, which
	// stream five arrays through memory.
	stream bool
	// slices are the roles among "x", "s" and "g" the kernel takes, in that order,
	// and args their parameter names; nil means x, s and g under those names. The
	// loop runs over len of the first.
	slices, args []string
}

// sliceArgs returns the roles k takes and their parameter names.
func (k kernel) sliceArgs() (roles, names []string) {
	if k.slices == nil {
		return []string{"x", "s", "g"}, []string{"x", "s", "g"}
	}
	if k.args == nil {
		return k.slices, k.slices
	}
	return k.slices, k.args
}

// apply is the kernel of form f: ref.Apply, operation for operation,
// each rounded where the reference rounds it.
// liveValues is how many values a vector of form f keeps between stages: g
// and d, s for the guard, x once weight decay has loaded it.
func liveValues(f ref.Form) int {
	live := 2
	if f.Guard {
		live++
	}
	if f.WeightDecay != ref.NoWeightDecay {
		live++
	}
	return live
}

func apply(f ref.Form, e elem, v isa) kernel {
	c := applyCalc(f)
	name := fmt.Sprintf("apply%s%s%s", e.suffix, v.name, f)
	unroll := v.unroll(liveValues(f))
	return kernel{
		unroll: unroll,
		name:   name,
		stream: true,
		params: []string{"lr", "eps", "wd", "decay", "gain"},
		uses:   c.consts(),
		doc: []string{
			fmt.Sprintf("%s is ref.Apply for the form %s (ID %d), bit for bit,", name, f, f.ID()),
			fmt.Sprintf("with %d %s lanes per vector and %d vectors per iteration. The caller", v.lanes(e), e.goType, unroll),
			"guarantees len(s) and len(g) are at least len(x), that the slices do not",
			"overlap and that the CPU has the instructions named on the Requires line.",
		},
		stages: func(o operands) []func() { return o.passes(c) },
		inRegs: []string{"lr", "one"},
	}
}

// traffic moves the same bytes as apply (reads x, s, g; writes x, s) with trivial
// math, in apply's order: g and s of every vector of a block, s stored, then x.
// Its speed is the memory-traffic ceiling the kernels are measured against. The
// order matters: loading g, s and x of each vector together, then storing s and x,
// ran at half this speed on 256 MiB arrays here (they start at addresses equal
// modulo a large power of two, and the five streams then contend in DRAM), slower
// than the update it is meant to bound.
func traffic(e elem, v isa) kernel {
	name := fmt.Sprintf("Traffic%s%s", e.suffix, v.name)
	return kernel{
		name:   name,
		unroll: v.unroll(2),
		doc: []string{
			fmt.Sprintf("%s has the memory traffic of the Apply%s%s kernels with trivial", name, e.suffix, v.name),
			"math: for i < len(x), s[i] = s[i] + g[i] and x[i] = x[i] - g[i]. Benchmarks use",
			"it as the memory-bandwidth ceiling; it is not an optimizer step.",
		},
		stages: func(o operands) []func() {
			var g VecVirtual
			return []func(){
				func() {
					s := o.vec()
					g = o.vec()
					o.io.load(o.g, g)
					o.io.load(o.s, s)
					o.e.add(g, s, s)
					o.io.store(s, o.s)
				},
				func() {
					x := o.vec()
					o.io.load(o.x, x)
					o.e.sub(g, x, x)
					o.io.store(x, o.x)
				},
			}
		},
	}
}

// Read-only data shared by every kernel of a file.
var tailMasks, ones Mem

// declareData emits the tail masks and the constant 1 of each type.
//
// AVX2 reads 32 bytes of the int32 words at byte offset 32 - n*size: the first n
// elements see all-ones words (VMASKMOV moves them), the rest zeros (left alone and
// never touched in memory). For float64 two words make one lane, so the same table
// serves both widths. AVX-512 reads the uint16 (1<<n)-1 at byte offset 64 + 2n.
func declareData() {
	tailMasks = GLOBL("tailmasks", RODATA|NOPTR)
	for i := 0; i < 16; i++ {
		w := uint32(0)
		if i < 8 {
			w = 0xffffffff
		}
		DATA(4*i, U32(w))
	}
	for n := 0; n < 16; n++ {
		DATA(64+2*n, U16(uint16(1)<<n-1))
	}
	ones = GLOBL("ones", RODATA|NOPTR)
	DATA(0, f32.one)
	DATA(8, f64.one)
}

// generate emits kernel k for element type e and vector extension v.
//
// The loop runs v.unroll vectors at a time, then single vectors, then one masked
// vector for the last 1..lanes-1 elements. Masked loads do not fault on the lanes
// they skip, so no path reads or writes outside the slices.
func generate(k kernel, e elem, v isa) {
	roles, names := k.sliceArgs()
	sig := fmt.Sprintf("func(%s []%s", strings.Join(names, ", "), e.goType)
	if len(k.params) > 0 {
		sig += ", " + strings.Join(k.params, ", ") + " " + e.goType
	}
	TEXT(k.name, NOSPLIT, sig+")")
	currentKernel = k.name
	Pragma("noescape") // the kernels keep no pointer: callers' slices stay on their stacks
	Doc(k.doc...)

	ptr := map[string]Register{}
	for i, role := range roles {
		ptr[role] = Load(Param(names[i]).Base(), GP64())
	}
	xp, sp, gp := ptr["x"], ptr["s"], ptr["g"]
	n := Load(Param(names[0]).Len(), GP64())
	// The registers go to the vectors in flight (4 or 8, each with up to 4 live
	// values between stages), so the constants that may be memory operands live in
	// a stack slot each, filled once: an L1 load is cheaper than a shallower
	// pipeline.
	consts := map[string]Op{}
	uses := k.uses
	if hybridConsts.Symbol.Name != "" {
		// The FMA sequences' constants are whole vectors in read-only data, read
		// as memory operands: a stack slot each would overflow a NOSPLIT frame.
		uses = nil
		for _, name := range k.uses {
			if m, ok := hybridConst(name, v); ok {
				consts[name] = m
				continue
			}
			uses = append(uses, name)
		}
	}
	var spill Mem
	if n := len(uses) - countIn(uses, k.inRegs); n > 0 {
		spill = AllocLocal(v.bytes * n)
	}
	spilled := 0
	for _, name := range uses {
		c := v.vec()
		switch {
		case name == "one":
			off := 0
			if e.size == 8 {
				off = 8
			}
			e.broadcast(ones.Offset(off), c)
		case name == "half":
			e.broadcast(halves, c)
		case name == "inf":
			e.broadcast(infs, c)
		case name == "zero":
			if v.name == "AVX512" {
				VPXORD(c, c, c) // VXORPS on ZMM would need AVX512DQ
			} else {
				e.xor(c, c, c)
			}
		default:
			// "lr@" is lr once more, in a stack slot: the FMA vectors copy it
			// with a load rather than a register move (hybrid.go).
			b, err := Param(strings.TrimSuffix(name, "@")).Resolve()
			if err != nil {
				panic(err)
			}
			e.broadcast(b.Addr, c)
		}
		if !slices.Contains(k.inRegs, name) {
			slot := spill.Offset(spilled * v.bytes)
			e.movu(c, slot)
			consts[name] = slot
			spilled++
			continue
		}
		consts[name] = c
	}

	full := mover{
		load:  func(m Mem, dst VecVirtual) { e.movu(m, dst) },
		store: func(src VecVirtual, m Mem) { e.movu(src, m) },
	}
	at := func(off int) operands {
		return operands{
			e: e, v: v, io: full, c: consts, vec: v.vec,
			x: Mem{Base: xp, Disp: off}, s: Mem{Base: sp, Disp: off}, g: Mem{Base: gp, Disp: off},
		}
	}
	advance := func(vectors int) {
		for _, role := range roles {
			ADDQ(U32(vectors*v.bytes), ptr[role])
		}
		SUBQ(U32(vectors*v.lanes(e)), n)
	}
	lanes := v.lanes(e)

	Label(k.name + "_block")
	CMPQ(n, U32(k.unroll*lanes))
	JB(LabelRef(k.name + "_single"))
	if k.stream {
		// Every line of the block prefetchDistance ahead, only while those
		// lines are in the slices.
		block := k.unroll * v.bytes
		CMPQ(n, U32((prefetchDistance+block)/e.size))
		JB(LabelRef(k.name + "_near"))
		for _, role := range roles {
			for off := 0; off < block; off += 64 {
				PREFETCHT0(Mem{Base: ptr[role], Disp: prefetchDistance + off})
			}
		}
		Label(k.name + "_near")
	}
	var stages [][]func()
	for u := 0; u < k.unroll; u++ {
		o := at(u * v.bytes)
		o.hybrid, o.soft = k.soft != nil, k.soft != nil && k.soft[u]
		stages = append(stages, k.stages(o))
	}
	for st := range stages[0] {
		for u := range stages {
			stages[u][st]()
		}
	}
	advance(k.unroll)
	JMP(LabelRef(k.name + "_block"))

	Label(k.name + "_single")
	CMPQ(n, U32(lanes))
	JB(LabelRef(k.name + "_tail"))
	for _, st := range k.stages(at(0)) {
		st()
	}
	advance(1)
	JMP(LabelRef(k.name + "_single"))

	Label(k.name + "_tail")
	TESTQ(n, n)
	JZ(LabelRef(k.name + "_done"))
	tbl := GP64()
	LEAQ(tailMasks, tbl)
	o := at(0)
	if v.name == "AVX512" {
		k1 := K()
		KMOVW(Mem{Base: tbl, Index: n, Scale: 2, Disp: 64}, k1)
		o.io = mover{
			load:  func(m Mem, dst VecVirtual) { e.movuZ(m, k1, dst) },
			store: func(src VecVirtual, m Mem) { e.movu(src, k1, m) },
		}
	} else {
		// byte offset 32 - n*size into the word table
		NEGQ(n)
		SHLQ(U8(log2(e.size)), n)
		mask := v.vec()
		VMOVDQU(Mem{Base: tbl, Index: n, Scale: 1, Disp: 32}, mask)
		o.io = mover{
			load:  func(m Mem, dst VecVirtual) { e.maskmov(m, mask, dst) },
			store: func(src VecVirtual, m Mem) { e.maskmov(src, mask, m) },
		}
	}
	for _, st := range k.stages(o) {
		st()
	}

	Label(k.name + "_done")
	VZEROUPPER()
	RET()
	emitFallbacks()
}

// prefetchDistance is how far ahead of a block a streaming kernel fetches its
// slices, chosen by measurement beyond the caches against 4 KiB and against no
// prefetch (BENCHMARKS.md, "Prefetching the dense kernels"). The hardware's
// stream prefetcher stops at each 4 KiB page, and an update's arithmetic
// leaves fewer of its loads in flight than the traffic kernel's, which gains
// nothing from it.
const prefetchDistance = 2048

// countIn is how many of names are in set.
func countIn(names, set []string) int {
	n := 0
	for _, name := range names {
		if slices.Contains(set, name) {
			n++
		}
	}
	return n
}

func log2(n int) int {
	l := 0
	for n > 1 {
		n >>= 1
		l++
	}
	return l
}
