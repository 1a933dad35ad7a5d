package main

import (
	"fmt"
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
	c       map[string]VecVirtual
	vec     func() VecVirtual
}

// kernel is one computation over the three slices x, s and g.
type kernel struct {
	name   string   // exported name, e.g. "Apply32AVX2InDivMul"
	params []string // scalar parameters after the slices, all of the element type
	uses   []string // the parameters and literals ("one", "zero") the body reads
	doc    []string
	body   func(o operands)
}

// apply is the kernel of form f: ref.Apply32/ref.Apply64, operation for operation,
// each rounded where the reference rounds it.
func apply(f ref.Form, e elem, v isa) kernel {
	uses := []string{"lr", "eps", "decay", "gain"}
	if f.WeightDecay != ref.NoWeightDecay {
		uses = append(uses, "wd")
	}
	if f.Order == ref.Recip {
		uses = append(uses, "one")
	}
	if f.Guard {
		uses = append(uses, "zero")
	}
	name := fmt.Sprintf("Apply%s%s%s", e.suffix, v.name, f)
	return kernel{
		name:   name,
		params: []string{"lr", "eps", "wd", "decay", "gain"},
		uses:   uses,
		doc: []string{
			fmt.Sprintf("%s is ref.Apply%s for the form %s (ID %d), bit for bit,", name, e.suffix, f, f.ID()),
			fmt.Sprintf("with %d %s lanes per vector and %d vectors per iteration. The caller", v.lanes(e), e.goType, v.unroll),
			"guarantees len(s) and len(g) are at least len(x), that the slices do not",
			"overlap and that the CPU has the instructions named on the Requires line.",
		},
		body: func(o operands) { applyBody(f, o) },
	}
}

func applyBody(f ref.Form, o operands) {
	e, c := o.e, o.c
	g, s, t, d := o.vec(), o.vec(), o.vec(), o.vec()
	var x VecVirtual
	o.io.load(o.g, g)
	switch f.WeightDecay {
	case ref.WeightDecayAdd:
		x = o.vec()
		o.io.load(o.x, x)
		e.mul(x, c["wd"], t) // wd·x
		e.add(t, g, g)       // g + wd·x
	case ref.WeightDecayFMA:
		x = o.vec()
		o.io.load(o.x, x)
		e.fma(x, c["wd"], g) // fma(wd, x, g)
	}
	o.io.load(o.s, s)
	e.mul(s, c["decay"], s) // Decay·s
	if f.FusedAccumulator {
		e.mul(g, c["gain"], t) // Gain·g
		e.fma(g, t, s)         // fma(Gain·g, g, Decay·s)
	} else {
		e.mul(g, g, t)         // g·g
		e.mul(t, c["gain"], t) // Gain·(g·g)
		e.add(t, s, s)
	}
	o.io.store(s, o.s)
	if f.EpsOutside {
		e.sqrt(s, d)
		e.add(c["eps"], d, d) // √s + eps
	} else {
		e.add(c["eps"], s, d)
		e.sqrt(d, d) // √(s + eps)
	}
	switch f.Order {
	case ref.DivMul:
		e.div(d, c["lr"], d) // lr/d
		e.mul(g, d, d)       // (lr/d)·g
	case ref.MulDiv:
		e.mul(g, c["lr"], t) // lr·g
		e.div(d, t, d)       // (lr·g)/d
	case ref.Recip:
		e.div(d, c["one"], d) // r = 1/d
		if f.Guard {
			guard(o, s, d)
		}
		e.mul(d, g, d)       // g·r
		e.mul(d, c["lr"], d) // lr·(g·r)
	}
	if x == nil {
		x = o.vec()
		o.io.load(o.x, x)
	}
	e.sub(d, x, x) // x − step
	o.io.store(x, o.x)
}

// guard zeroes the lanes of r where s > 0 is false (s ≤ 0 or NaN). The predicate is
// GT_OQ (0x1e): ordered, so a NaN compares false, as jnp.where(s > 0, …) does.
func guard(o operands, s, r VecVirtual) {
	const gtOQ = 0x1e
	if o.v.name == "AVX512" {
		k := K()
		o.e.cmp(U8(gtOQ), o.c["zero"], s, k)
		o.e.movaZ(r, k, r)
		return
	}
	m := o.vec()
	o.e.cmp(U8(gtOQ), o.c["zero"], s, m)
	o.e.and(m, r, r)
}

// traffic moves the same bytes as apply (reads x, s, g; writes x, s) with trivial
// math. Its speed is the memory-traffic ceiling the kernels are measured against.
func traffic(e elem, v isa) kernel {
	name := fmt.Sprintf("Traffic%s%s", e.suffix, v.name)
	return kernel{
		name: name,
		doc: []string{
			fmt.Sprintf("%s has the memory traffic of the Apply%s%s kernels with trivial", name, e.suffix, v.name),
			"math: for i < len(x), s[i] = s[i] + g[i] and x[i] = x[i] - g[i]. Benchmarks use",
			"it as the memory-bandwidth ceiling; it is not an optimizer step.",
		},
		body: func(o operands) {
			g, s, x := o.vec(), o.vec(), o.vec()
			o.io.load(o.g, g)
			o.io.load(o.s, s)
			o.io.load(o.x, x)
			o.e.add(g, s, s)
			o.e.sub(g, x, x)
			o.io.store(s, o.s)
			o.io.store(x, o.x)
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
	sig := fmt.Sprintf("func(x, s, g []%s", e.goType)
	if len(k.params) > 0 {
		sig += ", " + strings.Join(k.params, ", ") + " " + e.goType
	}
	TEXT(k.name, NOSPLIT, sig+")")
	Doc(k.doc...)

	xp := Load(Param("x").Base(), GP64())
	sp := Load(Param("s").Base(), GP64())
	gp := Load(Param("g").Base(), GP64())
	n := Load(Param("x").Len(), GP64())
	consts := map[string]VecVirtual{}
	for _, name := range k.uses {
		c := v.vec()
		switch name {
		case "one":
			off := 0
			if e.size == 8 {
				off = 8
			}
			e.broadcast(ones.Offset(off), c)
		case "zero":
			if v.name == "AVX512" {
				VPXORD(c, c, c) // VXORPS on ZMM would need AVX512DQ
			} else {
				e.xor(c, c, c)
			}
		default:
			b, err := Param(name).Resolve()
			if err != nil {
				panic(err)
			}
			e.broadcast(b.Addr, c)
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
		ADDQ(U32(vectors*v.bytes), xp)
		ADDQ(U32(vectors*v.bytes), sp)
		ADDQ(U32(vectors*v.bytes), gp)
		SUBQ(U32(vectors*v.lanes(e)), n)
	}
	lanes := v.lanes(e)

	Label(k.name + "_block")
	CMPQ(n, U32(v.unroll*lanes))
	JB(LabelRef(k.name + "_single"))
	for u := 0; u < v.unroll; u++ {
		k.body(at(u * v.bytes))
	}
	advance(v.unroll)
	JMP(LabelRef(k.name + "_block"))

	Label(k.name + "_single")
	CMPQ(n, U32(lanes))
	JB(LabelRef(k.name + "_tail"))
	k.body(at(0))
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
	k.body(o)

	Label(k.name + "_done")
	VZEROUPPER()
	RET()
}

func log2(n int) int {
	l := 0
	for n > 1 {
		n >>= 1
		l++
	}
	return l
}
