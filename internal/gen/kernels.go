package main

import (
	"fmt"

	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

// mover loads and stores one vector: whole vectors in the loops, masked vectors in
// the tail, so that one description of the math serves both.
type mover struct {
	load  func(m Mem, dst VecVirtual)
	store func(src VecVirtual, m Mem)
}

// operands is what a kernel body sees for one vector: the memory of x, s and g at
// this position, the broadcast scalar parameters, and a register allocator.
type operands struct {
	e       elem
	io      mover
	x, s, g Mem
	consts  []VecVirtual
	vec     func() VecVirtual
}

// kernel is one computation over the three slices x, s and g.
type kernel struct {
	name   string   // exported name without type and ISA, e.g. "Update"
	params []string // scalar parameters after the slices, broadcast to every lane
	doc    func(e elem, v isa) []string
	body   func(o operands)
}

// update is the exact Adagrad step of ref.Update32/ref.Update64: one rounding per
// operation and no fused multiply-add, in the order of the reference.
var update = kernel{
	name:   "Update",
	params: []string{"lr", "eps"},
	doc: func(e elem, v isa) []string {
		return []string{
			fmt.Sprintf("Update%s%s applies the exact Adagrad step with %s instructions,", e.suffix, v.name, v.name),
			fmt.Sprintf("%d %s lanes per vector and %d vectors per iteration. For i < len(x), in this", v.lanes(e), e.goType, v.unroll),
			"order and each operation rounded:",
			"",
			"\ts[i] = s[i] + g[i]*g[i]",
			"\td    = sqrt(s[i] + eps)",
			"\tx[i] = x[i] - (lr/d)*g[i]",
			"",
			fmt.Sprintf("which is bit-identical to ref.Update%s. The caller guarantees len(s) and", e.suffix),
			"len(g) are at least len(x) and that the slices do not overlap.",
		}
	},
	body: func(o operands) {
		e, lr, eps := o.e, o.consts[0], o.consts[1]
		g, s, t := o.vec(), o.vec(), o.vec()
		o.io.load(o.g, g)
		o.io.load(o.s, s)
		e.mul(g, g, t) // t = g*g
		e.add(t, s, s) // s = s + t
		o.io.store(s, o.s)
		e.add(eps, s, s) // s + eps
		e.sqrt(s, s)     // d
		e.div(s, lr, s)  // lr/d
		e.mul(g, s, s)   // (lr/d)*g
		o.io.load(o.x, t)
		e.sub(s, t, t) // x - (lr/d)*g
		o.io.store(t, o.x)
	},
}

// traffic moves the same bytes as update (reads x, s, g; writes x, s) with trivial
// math. Its speed is the memory-traffic ceiling that update is measured against.
var traffic = kernel{
	name: "Traffic",
	doc: func(e elem, v isa) []string {
		return []string{
			fmt.Sprintf("Traffic%s%s has the memory traffic of Update%s%s with trivial math:", e.suffix, v.name, e.suffix, v.name),
			"for i < len(x), s[i] = s[i] + g[i] and x[i] = x[i] - g[i]. Benchmarks use it",
			"as the memory-bandwidth ceiling; it is not an optimizer step.",
		}
	},
	body: func(o operands) {
		e := o.e
		g, s, x := o.vec(), o.vec(), o.vec()
		o.io.load(o.g, g)
		o.io.load(o.s, s)
		o.io.load(o.x, x)
		e.add(g, s, s)
		e.sub(g, x, x)
		o.io.store(s, o.s)
		o.io.store(x, o.x)
	},
}

// tailMasks is the read-only table behind every masked tail.
//
// AVX2 reads 32 bytes of the int32 words at byte offset 32 - n*size: the first n
// elements see all-ones words (VMASKMOV moves them), the rest zeros (left alone and
// never touched in memory). For float64 two words make one lane, so the same table
// serves both widths. AVX-512 reads the uint16 (1<<n)-1 at byte offset 64 + 2n.
var tailMasks Mem

func declareMasks() {
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
}

// generate emits kernel k for element type e and vector extension v.
//
// The loop runs v.unroll vectors at a time, then single vectors, then one masked
// vector for the last 1..lanes-1 elements. Masked loads do not fault on the lanes
// they skip, so no path reads or writes outside the slices.
func generate(k kernel, e elem, v isa) {
	name := k.name + e.suffix + v.name
	sig := fmt.Sprintf("func(x, s, g []%s", e.goType)
	if len(k.params) > 0 {
		sig += ", "
		for i, p := range k.params {
			if i > 0 {
				sig += ", "
			}
			sig += p
		}
		sig += " " + e.goType
	}
	sig += ")"
	TEXT(name, NOSPLIT, sig)
	Doc(k.doc(e, v)...)

	xp := Load(Param("x").Base(), GP64())
	sp := Load(Param("s").Base(), GP64())
	gp := Load(Param("g").Base(), GP64())
	n := Load(Param("x").Len(), GP64())
	var consts []VecVirtual
	for _, p := range k.params {
		c := v.vec()
		b, err := Param(p).Resolve()
		if err != nil {
			panic(err)
		}
		e.broadcast(b.Addr, c)
		consts = append(consts, c)
	}

	full := mover{
		load:  func(m Mem, dst VecVirtual) { e.movu(m, dst) },
		store: func(src VecVirtual, m Mem) { e.movu(src, m) },
	}
	at := func(off int) operands {
		return operands{
			e: e, io: full, consts: consts, vec: v.vec,
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

	Label(name + "_block")
	CMPQ(n, U32(v.unroll*lanes))
	JB(LabelRef(name + "_single"))
	for u := 0; u < v.unroll; u++ {
		k.body(at(u * v.bytes))
	}
	advance(v.unroll)
	JMP(LabelRef(name + "_block"))

	Label(name + "_single")
	CMPQ(n, U32(lanes))
	JB(LabelRef(name + "_tail"))
	k.body(at(0))
	advance(1)
	JMP(LabelRef(name + "_single"))

	Label(name + "_tail")
	TESTQ(n, n)
	JZ(LabelRef(name + "_done"))
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

	Label(name + "_done")
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
