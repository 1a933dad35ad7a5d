package main

import (
	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
)

// prefetch emits Prefetch, which asks the caches for the lines of n bytes at p
// ahead of their use. PREFETCHT0 is a hint: it never faults and changes no data,
// so it is safe on any address, and it only names lines inside [p, p+n).
func prefetch() {
	TEXT("Prefetch", NOSPLIT, "func(p, n uintptr)")
	Doc(
		"Prefetch hints that the n bytes at p will be read soon, line by line, so the",
		"sparse steps can fetch rows ahead of their turn. It never faults.",
	)
	p := Load(Param("p"), GP64())
	n := Load(Param("n"), GP64())
	TESTQ(n, n)
	JZ(LabelRef("prefetch_done"))
	last := GP64()
	LEAQ(Mem{Base: p, Index: n, Scale: 1, Disp: -1}, last)
	Label("prefetch_loop")
	PREFETCHT0(Mem{Base: p})
	ADDQ(U8(64), p)
	CMPQ(p, last)
	JB(LabelRef("prefetch_loop"))
	PREFETCHT0(Mem{Base: last}) // the line of the last byte, when p was not aligned
	Label("prefetch_done")
	RET()
}
