package main

import (
	"fmt"

	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"

	"github.com/adagrad-go/adagrad/ref"
)

// The kernels of the sparse steps beyond Apply: the sum that coalesces repeated
// rows, and the two vector halves of a row-wise step (the sum of squares, and the
// update of x by the row's factor). They are emitted for AVX2 only: package kernel
// runs them on the avx512 path too, since every AVX-512 CPU has AVX2, and the rows
// they touch are too short for wider vectors to pay.

// add is the sum of two gradient rows, dst = a + b, each lane rounded once, as
// ref.Coalesce adds repeated rows (dst may be a).
func add(e elem, v isa) kernel {
	name := fmt.Sprintf("Add%s%s", e.suffix, v.name)
	return kernel{
		name:   name,
		unroll: v.unroll(2),
		slices: []string{"x", "s", "g"},
		args:   []string{"dst", "a", "b"},
		doc: []string{
			fmt.Sprintf("%s sets dst[i] = a[i] + b[i] for i < len(dst), each sum rounded to %s.", name, e.goType),
			"dst may be a (the same slice, not an overlapping one). The caller guarantees",
			"len(a) and len(b) are at least len(dst).",
		},
		stages: func(o operands) []func() {
			return []func(){func() {
				a, b := o.vec(), o.vec()
				o.io.load(o.s, a)
				o.io.load(o.g, b)
				o.e.add(b, a, a) // a + b
				o.io.store(a, o.x)
			}}
		},
	}
}

// rowStep is the update of one row in a row-wise step: x[i] −= step(g'[i]) with the
// row's factor k from ref.RowScale, as ref.RowWise computes it.
func rowStep(order ref.Order, wd ref.WeightDecay, e elem, v isa) kernel {
	c := rowStepCalc(order, wd)
	name := fmt.Sprintf("rowStep%s%s%s%s", e.suffix, v.name, order, wd)
	uses := c.consts()
	live := 2
	if wd != ref.NoWeightDecay {
		live++
	}
	return kernel{
		name:   name,
		unroll: v.unroll(live),
		slices: []string{"x", "g"},
		params: []string{"lr", "k", "wd"},
		uses:   uses,
		inRegs: uses,
		doc: []string{
			fmt.Sprintf("%s sets x[i] = x[i] − %s for i < len(x), where g' is g[i] after", name, rowStepFormula[order]),
			fmt.Sprintf("weight decay %q and k is the row's factor from ref.RowScale: the update", wd.String()),
			"of one row in ref.RowWise, bit for bit. The caller guarantees len(g) ≥ len(x).",
		},
		stages: func(o operands) []func() { return o.passes(c) },
	}
}

// sumSquares emits the sum of g'[i]² over a row in the order of ref.SumSquares
// (16 float32 or 8 float64 lane-wise partial sums, then a fixed tree). On AVX2 the
// partial sums are two registers: lanes 0..7 (0..3) and 8..15 (4..7).
func sumSquares(wd ref.WeightDecay, fused bool, e elem, v isa) {
	if v.name != "AVX2" {
		panic("sumSquares: AVX2 only")
	}
	c := sumSquaresCalc(wd, fused)
	name := fmt.Sprintf("sumSquares%s%s%s", e.suffix, v.name, wd)
	if fused {
		name += "FusedAcc"
	}
	TEXT(name, NOSPLIT, fmt.Sprintf("func(x, g []%s, wd %s) %s", e.goType, e.goType, e.goType))
	Pragma("noescape")
	Doc(
		fmt.Sprintf("%s returns ref.SumSquares of g' over i < len(g), bit for bit, where", name),
		fmt.Sprintf("g' is g[i] after weight decay %q (reading x[i]) and each partial sum is", wd.String()),
		fmt.Sprintf("%s. The caller guarantees len(x) ≥ len(g) when x is read.", sumSquaresFormula(fused)),
	)
	lanes := v.lanes(e)
	chunk := 64 / e.size // 16 float32 or 8 float64 partial sums
	readsX := c.loads("x")
	var xp Register
	if readsX {
		xp = Load(Param("x").Base(), GP64())
	}
	gp := Load(Param("g").Base(), GP64())
	n := Load(Param("g").Len(), GP64())
	consts := map[string]Op{}
	for _, name := range c.consts() {
		r := v.vec()
		b, err := Param(name).Resolve()
		if err != nil {
			panic(err)
		}
		e.broadcast(b.Addr, r)
		consts[name] = r
	}
	accs := []VecVirtual{v.vec(), v.vec()}
	for _, a := range accs {
		e.xor(a, a, a)
	}
	full := mover{
		load:  func(m Mem, dst VecVirtual) { e.movu(m, dst) },
		store: func(VecVirtual, Mem) { panic("sumSquares stores nothing") },
	}
	// vector adds the squares of one vector at byte offset off into accs[a]. In a
	// masked tail the lanes past the end load as zero; weight decay could turn
	// them into NaN (wd·0 with wd infinite), so they are cleared again, and a +0
	// square leaves a partial sum unchanged.
	vector := func(io mover, off, a int, mask VecVirtual) {
		o := operands{e: e, v: v, io: io, c: consts, vec: v.vec, g: Mem{Base: gp, Disp: off}}
		if xp != nil {
			o.x = Mem{Base: xp, Disp: off}
		}
		vals := map[string]VecVirtual{"s": accs[a]}
		o.run(c[0].ops, vals) // sumSquaresCalc's stages: g', then its square into s
		if mask != nil && readsX {
			g := vals["g"]
			e.and(mask, g, g)
		}
		o.run(c[1].ops, vals)
	}
	masked := func(count Register) (mover, VecVirtual) {
		// byte offset 32 - count*size into the word table, as generate's tail
		tbl := GP64()
		LEAQ(tailMasks, tbl)
		NEGQ(count)
		SHLQ(U8(log2(e.size)), count)
		mask := v.vec()
		VMOVDQU(Mem{Base: tbl, Index: count, Scale: 1, Disp: 32}, mask)
		return mover{
			load:  func(m Mem, dst VecVirtual) { e.maskmov(m, mask, dst) },
			store: full.store,
		}, mask
	}
	advance := func(bytes int) {
		if xp != nil {
			ADDQ(U32(bytes), xp)
		}
		ADDQ(U32(bytes), gp)
	}

	Label(name + "_loop")
	CMPQ(n, U32(chunk))
	JB(LabelRef(name + "_tail"))
	vector(full, 0, 0, nil)
	vector(full, v.bytes, 1, nil)
	advance(2 * v.bytes)
	SUBQ(U32(chunk), n)
	JMP(LabelRef(name + "_loop"))

	// 0 < n < chunk: below one vector, the masked vector goes to the low partial
	// sums; otherwise a whole vector does, and the rest (if any) to the high ones.
	Label(name + "_tail")
	TESTQ(n, n)
	JZ(LabelRef(name + "_reduce"))
	CMPQ(n, U32(lanes))
	JB(LabelRef(name + "_low"))
	vector(full, 0, 0, nil)
	SUBQ(U32(lanes), n)
	JZ(LabelRef(name + "_reduce"))
	io, mask := masked(n)
	vector(io, v.bytes, 1, mask)
	JMP(LabelRef(name + "_reduce"))
	Label(name + "_low")
	io, mask = masked(n)
	vector(io, 0, 0, mask)

	// The tree: lane j += lane j+w for w = chunk/2, …, 1, the lower lane the
	// first operand as in ref.SumSquares.
	Label(name + "_reduce")
	lo := accs[0]
	e.add(accs[1], lo, lo) // w = 8 (float64: 4)
	hi := XMM()
	VEXTRACTF128(U8(1), lo, hi)
	e.add(hi, lo.AsX(), lo.AsX()) // w = 4 (2)
	t := XMM()
	if e.size == 4 {
		VMOVHLPS(lo.AsX(), lo.AsX(), t) // lanes 2, 3 to 0, 1
		e.add(t, lo.AsX(), lo.AsX())    // w = 2
		VMOVSHDUP(lo.AsX(), t)          // lane 1 to 0
		VADDSS(t, lo.AsX(), lo.AsX())   // w = 1
	} else {
		VUNPCKHPD(lo.AsX(), lo.AsX(), t) // lane 1 to 0
		VADDSD(t, lo.AsX(), lo.AsX())    // w = 1
	}
	// VMOVSS, not the MOVSS that Store emits: no SSE instruction between AVX ones.
	ret, err := ReturnIndex(0).Resolve()
	if err != nil {
		panic(err)
	}
	if e.size == 4 {
		VMOVSS(lo.AsX(), ret.Addr)
	} else {
		VMOVSD(lo.AsX(), ret.Addr)
	}
	VZEROUPPER()
	RET()
}

// rowKernels emits every row kernel of v.
func rowKernels(v isa) {
	declareData()
	for _, e := range []elem{f32, f64} {
		generate(add(e, v), e, v)
		for _, wd := range weightDecays {
			for _, fused := range []bool{false, true} {
				sumSquares(wd, fused, e, v)
			}
			for _, o := range orders {
				generate(rowStep(o, wd, e, v), e, v)
			}
		}
	}
}
