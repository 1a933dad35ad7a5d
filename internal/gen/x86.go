package main

import (
	"slices"

	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

// The amd64 rendering of the descriptions of stages.go.

// passes is c for one vector as kernel.stages returns it: a function per stage,
// a joined stage in the same function as the one before.
func (o operands) passes(c calc) []func() {
	var groups []ops
	for _, st := range c {
		if st.joined && len(groups) > 0 {
			groups[len(groups)-1] = slices.Concat(groups[len(groups)-1], st.ops)
			continue
		}
		groups = append(groups, st.ops)
	}
	vals := map[string]VecVirtual{}
	var fs []func()
	for _, g := range groups {
		if o.hybrid && slices.ContainsFunc(g, func(x op) bool { return x.kind == opSqrt }) {
			fs = append(fs, o.rootSteps(g, vals)...)
			continue
		}
		fs = append(fs, func() { o.run(g, vals) })
	}
	return fs
}

// run emits p for one vector. vals holds the registers of the vector's values by
// name; each opNew binds a new one, so a name used twice is two registers.
func (o operands) run(p ops, vals map[string]VecVirtual) {
	src := func(name string) Op {
		if v, ok := vals[name]; ok {
			return v
		}
		return o.c[name]
	}
	mem := map[string]Mem{"x": o.x, "s": o.s, "g": o.g}
	e := o.e
	for _, x := range p {
		switch x.kind {
		case opNew:
			vals[x.dst] = o.vec()
		case opLoad:
			o.io.load(mem[x.dst], vals[x.dst])
		case opStore:
			o.io.store(vals[x.a], mem[x.a])
		case opSqrt:
			e.sqrt(src(x.a), vals[x.dst])
		case opSub:
			e.sub(src(x.b), src(x.a), vals[x.dst])
		case opDiv:
			e.div(src(x.b), src(x.a), vals[x.dst])
		case opAdd, opMul, opFMA:
			ins := e.add
			switch x.kind {
			case opMul:
				ins = e.mul
			case opFMA:
				ins = e.fma
			}
			first, second := x.b, x.a
			if commuted(x) {
				first, second = second, first
			}
			ins(src(first), src(second), vals[x.dst])
		case opGuard:
			guard(o, vals[x.a], vals[x.dst], src(x.b))
		}
	}
}

// commuted reports whether amd64 takes the sources of a commutative op as a, b
// rather than b, a. Avo lists the sources last first (VMULPS b, a, d is d = a·b),
// and only that first slot may be memory, where AVX2 keeps most constants: so a
// constant goes there, except that a destination which is also a source stays
// in the second slot, so that the instruction reads as d ·= the other.
func commuted(x op) bool {
	c := x.b == x.dst || x.a != x.dst && isConst(x.a)
	return c != x.swap
}

// guard zeroes the lanes of r where s > 0 is false (s ≤ 0 or NaN). The predicate is
// GT_OQ (0x1e): ordered, so a NaN compares false, as jnp.where(s > 0, …) does.
func guard(o operands, s, r VecVirtual, zero Op) {
	const gtOQ = 0x1e
	if o.v.name == "AVX512" {
		k := K()
		o.e.cmp(U8(gtOQ), zero, s, k)
		o.e.movaZ(r, k, r)
		return
	}
	m := o.vec()
	o.e.cmp(U8(gtOQ), zero, s, m)
	o.e.and(m, r, r)
}
