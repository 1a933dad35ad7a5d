package main

import (
	"fmt"
	"maps"
	"math"
	"os"
	"slices"

	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"

	"github.com/adagrad-go/adagrad/ref"
)

// The hybrid kernels: some vectors of each block take their square root and
// division from the divider, the others from fused multiply-adds, so that both
// units work at once. Both give the correctly rounded result, so the split never
// changes a bit. The sequences and why each is correctly rounded on its domain are
// in DESIGN.md ("Square root and division from FMAs"); a lane outside the domain
// sends its whole vector to the divider through an out-of-line block (a branch
// that real data does not take), so the bits are ref's for every input.
//
// Only the documented bounds of the estimates enter the proofs (2⁻¹⁴ for
// VRSQRT14PS and VRCP14PS), never one chip's table.

// Domains, as float32 bit patterns: v = s(+eps) under the root in [2⁻⁶⁴, 2⁶⁴),
// or +0 where eps is outside the root; a numerator that is ±0 or has |a| in
// [2⁻⁶⁴, 2⁶⁴); with eps outside the root, the caller checks 2⁻⁴⁸ ≤ eps < 2³², so
// that the divisor d is in [2⁻⁴⁸, 2³³). Everything the sequences compute from
// them is then a normal number far from overflow, the condition of the proofs.
var (
	rootLo    = bits32(0x1p-64)
	rootRange = bits32(0x1p64) - rootLo
	numLo     = bits32(0x1p-64)
	numHi     = bits32(0x1p64)
)

func bits32(f float64) uint32 { return math.Float32bits(float32(f)) }

// hybridData are the constants of the sequences, each a 32-bit pattern that
// generate broadcasts by name.
var hybridData = []struct {
	name string
	bits uint32
}{
	{"half", bits32(0.5)},
	{"onef", bits32(1)},
	{"ione", 1},
	{"mant", 0x007fffff},
	{"sign", 0x80000000},
	{"rootlo", rootLo},
	{"rootrange", rootRange},
	{"absmask", 0x7fffffff},
	{"numlo", numLo},
	{"numrange", numHi - numLo},
	// AVX2 has signed dword compares only: lo − 1 < bits < hi, and all ones.
	{"rootlom1", rootLo - 1},
	{"roothi", rootLo + rootRange},
	{"numlom1", numLo - 1},
	{"numhi", numHi},
	{"ones", 0xffffffff},
}

// hybridData64 are the float64 sequences' constants (limits.go's float64
// ceiling), named with a "64" suffix, each a 64-bit pattern.
var hybridData64 = []struct {
	name string
	bits uint64
}{
	{"half64", math.Float64bits(0.5)},
	{"onef64", math.Float64bits(1)},
	{"ione64", 1},
	{"sign64", 1 << 63},
	{"absmask64", 1<<63 - 1},
	{"rootlo64", rootLo64},
	{"rootrange64", math.Float64bits(0x1p256) - rootLo64},
	{"numlo64", numLo64},
	{"numrange64", math.Float64bits(0x1p256) - numLo64},
}

// The float64 domains, wider in exponent than float32's and as far from
// underflow and overflow: v in [2⁻²⁵⁶, 2²⁵⁶) or +0, a numerator ±0 or with |a|
// in [2⁻²⁵⁶, 2²⁵⁶), and eps outside the root in [2⁻¹²⁸, 2¹²⁸), checked by the
// caller, so that the divisor is in [2⁻¹²⁸, 2¹²⁹).
var (
	rootLo64 = math.Float64bits(0x1p-256)
	numLo64  = math.Float64bits(0x1p-256)
)

var hybridConsts, hybridConsts64 Mem

// declareHybrid emits hybridData, each constant as a whole vector of v, and, with
// wide, hybridData64.
func declareHybrid(v isa, wide bool) {
	hybridConsts = GLOBL("hybridconsts", RODATA|NOPTR)
	for i, c := range hybridData {
		for j := 0; j < v.bytes; j += 4 {
			DATA(i*v.bytes+j, U32(c.bits))
		}
	}
	if wide {
		hybridConsts64 = GLOBL("hybridconsts64", RODATA|NOPTR)
		for i, c := range hybridData64 {
			for j := 0; j < v.bytes; j += 8 {
				DATA(i*v.bytes+j, U64(c.bits))
			}
		}
	}
}

// hybridConst returns the vector of the constant name in read-only data, or
// false.
func hybridConst(name string, v isa) (Mem, bool) {
	for i, c := range hybridData {
		if c.name == name {
			return hybridConsts.Offset(i * v.bytes), true
		}
	}
	for i, c := range hybridData64 {
		if c.name == name {
			return hybridConsts64.Offset(i * v.bytes), true
		}
	}
	return Mem{}, false
}

// fmaInsts are the instructions of the FMA sequences in one element width.
type fmaInsts struct {
	rsqrt, rcp, mul, mova, movu                                  func(ops ...Op)
	fmadd213, fmadd231, fnmadd213, fnmadd231, fmsub213, fmsub231 func(ops ...Op)
	padd, psub, pand, pcmpu, cmp, ptestm, ptestnm                func(ops ...Op)
	// suffix names the width's constants: "" for float32, "64" for float64.
	suffix string
	// goldschmidt and newton are the steps of the root and of the reciprocal
	// from the estimate.
	goldschmidt, newton int
	// residual makes the root's last step d = s + (v − s·s)·h, whose error is
	// of second order in the previous step's (float64), rather than
	// d = s + s·(1/2 − s·h), which carries half the rounding error of s and h
	// into d: less than u after one step from 14 bits in float32, too much after
	// two.
	residual bool
	// nearest makes the quotient's last step a rounding test, the nearest to a/d
	// of q and its neighbours by |d·q − a|, after one correction from a
	// reciprocal that need not be RN(1/d) (float64): Markstein's last step wants
	// y = RN(1/d), which float32 proves and float64 does not.
	nearest bool
}

var (
	fma32 = fmaInsts{
		rsqrt: VRSQRT14PS, rcp: VRCP14PS, mul: VMULPS, mova: VMOVAPS, movu: VMOVUPS,
		fmadd213: VFMADD213PS, fmadd231: VFMADD231PS, fnmadd213: VFNMADD213PS, fnmadd231: VFNMADD231PS, fmsub213: VFMSUB213PS, fmsub231: VFMSUB231PS,
		padd: VPADDD, psub: VPSUBD, pand: VPANDD, pcmpu: VPCMPUD, cmp: VCMPPS, ptestm: VPTESTMD, ptestnm: VPTESTNMD,
		goldschmidt: 1, newton: 2,
	}
	fma64 = fmaInsts{
		rsqrt: VRSQRT14PD, rcp: VRCP14PD, mul: VMULPD, mova: VMOVAPD, movu: VMOVUPD,
		fmadd213: VFMADD213PD, fmadd231: VFMADD231PD, fnmadd213: VFNMADD213PD, fnmadd231: VFNMADD231PD, fmsub213: VFMSUB213PD, fmsub231: VFMSUB231PD,
		padd: VPADDQ, psub: VPSUBQ, pand: VPANDQ, pcmpu: VPCMPUQ, cmp: VCMPPD, ptestm: VPTESTMQ, ptestnm: VPTESTNMQ,
		suffix: "64", goldschmidt: 2, newton: 1, residual: true, nearest: true,
	}
	// fma32AVX2 starts from VRSQRTPS and VRCPPS, whose documented error is
	// 1.5·2⁻¹²: float64's plan (a Goldschmidt step, the residual, one Newton
	// step, one correction and the rounding test) without K registers, so that
	// the tests take their masks from signs and compares.
	fma32AVX2 = fmaInsts{
		rsqrt: func(ops ...Op) { VRSQRTPS(ops[0], ops[1]) }, rcp: func(ops ...Op) { VRCPPS(ops[0], ops[1]) }, mul: VMULPS, mova: VMOVAPS, movu: VMOVUPS,
		fmadd213: VFMADD213PS, fmadd231: VFMADD231PS, fnmadd213: VFNMADD213PS, fnmadd231: VFNMADD231PS, fmsub213: VFMSUB213PS, fmsub231: VFMSUB231PS,
		padd: VPADDD, psub: VPSUBD, pand: func(ops ...Op) { VPAND(ops[0], ops[1], ops[2]) }, cmp: VCMPPS,
		goldschmidt: 2, newton: 1, residual: true, nearest: true,
	}
)

// insts are r's instructions, by the width of its operands' element type.
func (r *fmaRoot) insts() fmaInsts {
	switch {
	case r.o.v.name == "AVX2":
		return fma32AVX2
	case r.o.e.size == 8:
		return fma64
	}
	return fma32
}

// fallbacks are the out-of-line blocks of the function being generated, emitted
// after its RET.
var fallbacks []func()

// fallback branches, when the condition that jump tests holds, to a block that
// runs hw and comes back to where the returned function is called: after the FMA
// sequence, which computes what hw does.
func fallback(jump func(Op), hw func()) (join func()) {
	name := fmt.Sprintf("%s_hw%d", currentKernel, len(fallbacks))
	jump(LabelRef(name))
	back := name + "_back"
	fallbacks = append(fallbacks, func() {
		Label(name)
		hw()
		JMP(LabelRef(back))
	})
	return func() { Label(back) }
}

// currentKernel is the name of the function being generated, for unique labels.
var currentKernel string

// emitFallbacks writes the out-of-line blocks of the current function.
func emitFallbacks() {
	for _, f := range fallbacks {
		f()
	}
	fallbacks = nil
}

// fmaRoot is the state of one vector's FMA sequences between the steps of
// rootSteps (and of the probes in limits.go): v the radicand, d the root and
// then the divisor, y the reciprocal, q the quotient.
type fmaRoot struct {
	o          operands
	v, d, y, q VecVirtual
}

// sqrtSteps set d = √v, correctly rounded, for v in the domain, and +0 for
// v = +0 with zeroOK (eps outside the root meets s = 0, as in a fresh
// accumulator). DESIGN.md ("Square root and division from FMAs") proves it for
// float32:
//
//	y = VRSQRT14PS(v);  s = v·y;  h = 0.5·y;  r = 0.5 − s·h;  d = s + s·r   (fused)
//	then Tuckerman's test: d⁺ if v > d·d⁺, d⁻ if v ≤ d·d⁻
//
// float64 takes a Goldschmidt step more, h = h + h·r and s = s + s·r, and ends
// on the residual, d = s + (v − s·s)·h (see fmaInsts.residual), before the same
// test.
func (r *fmaRoot) sqrtSteps(zeroOK bool) []func() {
	c, in := r.o.c, r.insts()
	half, one, sign := c["half"+in.suffix], c["ione"+in.suffix], c["sign"+in.suffix]
	var h, t VecVirtual
	steps := []func(){
		func() {
			r.d, h = r.o.vec(), r.o.vec()
			in.rsqrt(r.v, h)
			in.mul(h, r.v, r.d) // s = v·y
			in.mul(half, h, h)  // h = 0.5·y
		},
	}
	for i := range in.goldschmidt {
		if i == in.goldschmidt-1 && in.residual {
			steps = append(steps, func() {
				e := r.o.vec()
				in.mova(r.v, e)
				in.fnmadd231(r.d, r.d, e) // e = v − s·s
				in.fmadd231(e, h, r.d)    // d = h·e + s: within 0.43 ulp of √v
				t = h
			})
			break
		}
		if i == in.goldschmidt-1 {
			steps = append(steps, func() {
				in.fnmadd213(half, r.d, h) // r = 0.5 − s·h
				in.fmadd213(r.d, h, r.d)   // d = s·r + s: within 1.1 ulp of √v
				t = h
			})
			break
		}
		steps = append(steps, func() {
			t = r.o.vec()
			in.movu(half, t)
			in.fnmadd231(h, r.d, t)  // r = 0.5 − s·h
			in.fmadd213(h, t, h)     // h = h·r + h
			in.fmadd213(r.d, t, r.d) // s = s·r + s
		})
	}
	return append(steps, func() {
		// The signs of the fused d·d± − v are exact.
		lo, hi := t, r.o.vec()
		in.psub(one, r.d, lo) // d⁻ (d > 0 here)
		in.padd(one, r.d, hi) // d⁺
		in.fmsub213(r.v, r.d, lo)
		in.fmsub213(r.v, r.d, hi)
		if in.ptestm == nil {
			// d + [d·d⁺ < v] − [d·d⁻ ≥ v], the brackets from the sign bits.
			VPSRLD(U8(31), hi, hi) // 1 where v > d·d⁺
			VPADDD(hi, r.d, r.d)
			VPSRAD(U8(31), lo, lo) // −1 where v > d·d⁻, else 0
			VPSUBD(one, r.d, r.d)  // d − 1 …
			VPSUBD(lo, r.d, r.d)   // … + 1 where v > d·d⁻
			if zeroOK {
				z := hi
				VPXOR(z, z, z)
				VPCMPEQD(r.v, z, z)
				VPANDN(r.d, z, r.d) // √+0 = +0
			}
			return
		}
		up, down := K(), K()
		in.ptestm(sign, hi, up)
		in.ptestnm(sign, lo, down)
		in.padd(one, r.d, up, r.d)
		in.psub(one, r.d, down, r.d)
		if zeroOK {
			z := K()
			in.ptestnm(r.v, r.v, z)
			in.mova(r.v, z, r.d) // √+0 = +0
		}
	})
}

// recipSteps set y = RN(1/d) for d in the domain, but where d's significand is
// all ones and the first step ends on a power of two, which leaves y a power of
// two (as 1/d is for d = 2ⁿ):
//
//	y = VRCP14PS(d);  twice: e = 1 − d·y; y = y + y·e   (fused)
//
// (three times for float64, the ceiling of limits.go only).
func (r *fmaRoot) recipSteps() []func() {
	c, in := r.o.c, r.insts()
	step := func() {
		e := r.o.vec()
		in.movu(c["onef"+in.suffix], e) // a load, not a register move
		in.fnmadd231(r.y, r.d, e)       // e = 1 − d·y
		in.fmadd213(r.y, e, r.y)        // y = y·e + y
	}
	steps := []func(){func() { r.y = r.o.vec(); in.rcp(r.d, r.y) }}
	for range in.newton {
		steps = append(steps, step)
	}
	return steps
}

// quotientSteps set q = RN(a/d), a a register or memory (copied by loads, not
// register moves), from y = RN(1/d) (Markstein):
//
//	q = a·y;  twice: e = d·q − a; q = q − e·y   (fused)
//
// The residual is d·q − a, subtracted, rather than a − d·q added, so that a = −0
// gives −0 as the divider does. With fmaInsts.nearest (float64) one correction
// makes q faithful from a y within about 2⁻²⁸ of 1/d, and the last step picks
// the nearest to a/d of q, q⁺ and q⁻ (q's bits ± 1):
//
//	q⁺ if |d·q⁺ − a| < |d·q − a|,  q⁻ if |d·q⁻ − a| < |d·q − a|
//
// With one, a is 1 and q starts as y: the Recip order's 1/d.
func (r *fmaRoot) quotientSteps(a func() Op, one bool) []func() {
	in := r.insts()
	step := func() {
		e := r.o.vec()
		in.movu(a(), e)
		in.fmsub231(r.q, r.d, e)  // e = d·q − a
		in.fnmadd231(r.y, e, r.q) // q = q − e·y
	}
	first := func() {
		r.q = r.o.vec()
		if one {
			in.mova(r.y, r.q)
			return
		}
		in.mul(a(), r.y, r.q)
	}
	if !in.nearest {
		return []func(){first, step, step}
	}
	return []func(){first, step, func() {
		// The residuals of the faithful q and of its neighbour on the other side
		// of a/d are exact, that of the third is larger than q's however it
		// rounds, and a/d is never a midpoint: DESIGN.md.
		c := r.o.c
		ione, abs := c["ione"+in.suffix], c["absmask"+in.suffix]
		e, up, dn := r.o.vec(), r.o.vec(), r.o.vec()
		in.movu(a(), e)
		in.fmsub231(r.q, r.d, e) // e = d·q − a
		in.padd(ione, r.q, up)
		in.psub(ione, r.q, dn)
		in.fmsub213(a(), r.d, up) // d·q⁺ − a
		in.fmsub213(a(), r.d, dn) // d·q⁻ − a
		in.pand(abs, e, e)
		in.pand(abs, up, up)
		in.pand(abs, dn, dn)
		if in.ptestm == nil {
			// Compares into all-ones lanes, −1 as integers: q − (−1), q + (−1).
			in.cmp(U8(0x11), e, up, up) // LT_OQ: NaN, from q = ±0's q⁻, is never less
			in.cmp(U8(0x11), e, dn, dn)
			in.psub(up, r.q, r.q)
			in.padd(dn, r.q, r.q)
			return
		}
		ku, kd := K(), K()
		in.cmp(U8(0x11), e, up, ku) // LT_OQ: NaN, from q = ±0's q⁻, is never less
		in.cmp(U8(0x11), e, dn, kd)
		in.padd(ione, r.q, ku, r.q)
		in.psub(ione, r.q, kd, r.q)
	}}
}

// rootSteps renders g, the stage that holds the root and the division (see
// hoistDivision), as rootStepCount functions. A vector on the divider does all
// of it in the first; a vector on FMAs spreads its sequences over all of them,
// so that the block loop interleaves the long dependency chains of its FMA
// vectors instruction group by instruction group, as it interleaves stages.
//
// The FMA vector checks its domain at the end, on values the sequences still
// hold, and a lane outside it sends the vector to a block that recomputes the
// root and the quotient on the divider: garbage computed on such lanes before
// the check costs nothing, since no instruction here can fault.
func (o operands) rootSteps(g ops, vals map[string]VecVirtual) []func() {
	if !o.soft {
		fs := []func(){func() { o.run(g, vals) }}
		for len(fs) < rootStepCount {
			fs = append(fs, func() {})
		}
		return fs
	}
	is := slices.IndexFunc(g, func(x op) bool { return x.kind == opSqrt })
	id := slices.IndexFunc(g, func(x op) bool { return x.kind == opDiv })
	if id != len(g)-1 {
		panic("gen: a hybrid root stage must end with its division")
	}
	sq, dv := g[is], g[id]
	between := g[is+1 : id]
	zeroOK := sq.a == "s"
	recip := dv.a == "one"
	c := o.c
	r := &fmaRoot{o: o}
	var a VecVirtual // the numerator, when it is a vector's value

	var steps []func()
	sqrt := r.sqrtSteps(zeroOK)
	steps = append(steps, func() {
		o.run(g[:is], vals)
		r.v = vals[sq.a]
		sqrt[0]()
	})
	steps = append(steps, sqrt[1:]...)
	rcp := r.recipSteps()
	steps = append(steps, func() {
		vals[sq.dst] = r.d
		o.run(between, vals) // eps outside the root; lr·g for MulDiv
		r.d = vals[dv.b]
		rcp[0]()
	})
	steps = append(steps, rcp[1:]...)
	num := func() Op {
		if v, ok := vals[dv.a]; ok {
			a = v
			return v
		}
		if recip {
			return c["one"]
		}
		return c[dv.a+"@"] // lr in memory
	}
	in := r.insts()
	switch {
	case recip && !in.nearest:
		steps = append(steps, func() { r.q = r.o.vec(); in.mova(r.y, r.q) }, func() {}, func() {})
	default:
		steps = append(steps, r.quotientSteps(num, recip)...)
	}
	steps = append(steps, func() {
		// The domain (DESIGN.md): v in [lo, hi) or, with zeroOK, +0; a numerator
		// lane ±0 or in [lo, hi) in magnitude (NaN gives NaN either way); where
		// the quotient rests on Markstein's theorem, y not a power of two. The
		// caller checked lr and eps.
		if in.ptestm == nil {
			o.checkAVX2(r, a, zeroOK)
		} else {
			o.checkAVX512(r, a, zeroOK)
		}
		// CF is set when every lane passed.
		at := maps.Clone(vals)
		q, v := r.q, r.v
		join := fallback(func(l Op) { JCC(l) }, func() {
			// The block is emitted after the function's RET, when vals has
			// moved on: it works on the values as they were here.
			o.e.sqrt(v, at[sq.dst])
			hw := o
			hw.soft = false
			hw.run(between, at)
			o.e.div(at[dv.b], srcOf(at, c, dv.a), q)
		})
		join()
		vals[dv.dst] = q
	})
	if len(steps) != rootStepCount {
		panic("gen: rootStepCount is out of date")
	}
	return steps
}

// checkAVX512 is rootSteps' domain check of the FMA vector r, numerator a (nil
// for a constant), with K registers: CF set when every lane passed.
// Each test is masked by the ones before it, so that good ends with the lanes
// that pass them all.
func (o operands) checkAVX512(r *fmaRoot, a VecVirtual, zeroOK bool) {
	c, in := o.c, r.insts()
	x := in.suffix
	t, good := o.vec(), K()
	in.psub(c["rootlo"+x], r.v, t)
	in.pcmpu(U8(1), c["rootrange"+x], t, good) // LT, unsigned
	if zeroOK {
		z := K()
		in.ptestnm(r.v, r.v, z) // v = +0
		KORW(z, good, good)
	}
	if a != nil {
		u, inside, zero := o.vec(), K(), K()
		in.pand(c["absmask"+x], a, u)
		in.psub(c["numlo"+x], u, t)
		in.pcmpu(U8(1), c["numrange"+x], t, good, inside) // |a| in [lo, hi) …
		in.ptestnm(u, u, good, zero)                      // … or 0
		KORW(zero, inside, good)
	}
	if !in.nearest {
		in.ptestm(c["mant"], r.y, good, good)
	}
	if o.v.lanes(o.e) == 8 {
		KUNPCKBW(good, good, good) // the 8 lanes twice: KORTESTW sees 16 bits
	}
	KORTESTW(good, good) // CF: every lane passed
}

// checkAVX2 is checkAVX512 without K registers: the same tests as lanes of all
// ones, signed compares (the domains' bounds are positive floats, and negative
// ones compare below them), and VPTEST.
func (o operands) checkAVX2(r *fmaRoot, a VecVirtual, zeroOK bool) {
	c := o.c
	good, t := o.vec(), o.vec()
	inRange := func(x VecVirtual, lo, hi string, dst VecVirtual) {
		VPCMPGTD(c[lo], x, dst) // x > lo − 1
		VMOVDQU(c[hi], t)
		VPCMPGTD(x, t, t) // hi > x
		VPAND(t, dst, dst)
	}
	inRange(r.v, "rootlom1", "roothi", good)
	if zeroOK || a != nil {
		z := o.vec()
		VPXOR(z, z, z)
		if zeroOK {
			VPCMPEQD(r.v, z, t) // v = +0
			VPOR(t, good, good)
		}
		if a != nil {
			u, inside := o.vec(), o.vec()
			VPAND(c["absmask"], a, u)
			inRange(u, "numlom1", "numhi", inside)
			VPCMPEQD(u, z, z) // a = ±0
			VPOR(z, inside, inside)
			VPAND(inside, good, good)
		}
	}
	VPTEST(c["ones"], good) // CF: every lane passed
}

// rootStepCount is how many functions rootSteps returns.
const rootStepCount = 10

// srcOf is the register or constant named name.
func srcOf(vals map[string]VecVirtual, c map[string]Op, name string) Op {
	if v, ok := vals[name]; ok {
		return v
	}
	return c[name]
}

// hoistDivision moves the division, and what it needs, from the step's stage
// into the root's, so that the FMA vectors check both at once: the stages of
// applyCalc are the gradient, the accumulator, the root, the step, the update.
func hoistDivision(c calc) calc {
	c = slices.Clone(c)
	root, step := &c[2], &c[3]
	i := slices.IndexFunc(step.ops, func(x op) bool { return x.kind == opDiv })
	root.ops = slices.Concat(root.ops, step.ops[:i+1])
	step.ops = slices.Clone(step.ops[i+1:])
	return c
}

// hybridSplit is, by instruction set and element type, the vectors of a block in
// order: "h" on the divider, "f" on FMAs. Its length is the block's unroll. It
// was chosen by measurement (BENCHMARKS.md, "Beyond the divider").
// AVX2's is that of the forms with the fewest live values; avx2Splits has the
// others.
var hybridSplit = map[string]string{"AVX512/float32": "hhf", "AVX512/float64": "hfhf", "AVX2/float32": "hfhh"}

// splitOf is v's split for e, "" where there are no hybrid kernels.
func splitOf(v isa, e elem) string { return hybridSplit[v.name+"/"+e.goType] }

// avx2Splits are AVX2's splits by the values a vector keeps between stages
// (liveValues: 2, and 1 more for the guard and for weight decay): sixteen
// registers hold fewer divider vectors beside an FMA vector as they grow, and
// with 3 or 4 the splits that fit ("hfh", "hf") are slower than the divider
// alone, so those forms keep it (BENCHMARKS.md).
var avx2Splits = map[int]string{2: "hfhh"}

// formSplit is the split of form f's hybrid kernel for e on v, "" where the
// form has none and its table entry is the divider's kernel. HYBRID_SPLIT32 or
// HYBRID_SPLIT64 overrides it, to measure others; never in generated files.
func formSplit(f ref.Form, e elem, v isa) string {
	split := splitOf(v, e)
	if v.name == "AVX2" && split != "" {
		split = avx2Splits[liveValues(f)]
	}
	if p := os.Getenv("HYBRID_SPLIT" + e.suffix); p != "" && split != "" {
		split = p
	}
	return split
}

// hybridUnroll is the unroll of the probes: the FMA sequences hold up to seven
// registers at once.
const hybridUnroll = 4

// hybridApply is apply's kernel of form f with the vectors of hybridSplit taking
// their square root and division from FMAs: ref.Apply bit for bit, like apply.
// The caller checks that lr is in the numerator's domain when the form divides
// lr (DivMul); every other input is checked lane by lane.
func hybridApply(f ref.Form, e elem, v isa) kernel {
	k := apply(f, e, v)
	c := hoistDivision(applyCalc(f))
	k.stages = func(o operands) []func() { return o.passes(c) }
	k.name = fmt.Sprintf("apply%s%sHybrid%s", e.suffix, v.name, f)
	if e.size == 8 {
		k = with64(k)
	} else {
		for _, c := range hybridData {
			k.uses = append(k.uses, c.name)
		}
	}
	if f.Order == ref.DivMul {
		k.uses = append(k.uses, "lr@")
	}
	split := formSplit(f, e, v)
	lo, hi, epsLo, epsHi := "2⁻⁶⁴", "2⁶⁴", "2⁻⁴⁸", "2³²"
	if e.size == 8 {
		lo, hi, epsLo, epsHi = "2⁻²⁵⁶", "2²⁵⁶", "2⁻¹²⁸", "2¹²⁸"
	}
	k.unroll = len(split)
	k.doc = []string{
		fmt.Sprintf("%s is ref.Apply for the form %s (ID %d), bit for bit,", k.name, f, f.ID()),
		fmt.Sprintf("with %d %s lanes per vector and %d vectors per iteration, split %q: h takes", v.lanes(e), e.goType, k.unroll, split),
		"its square root and division from the divider, f from fused multiply-adds",
		"(DESIGN.md), unless a lane is outside their domain. The caller guarantees",
		"len(s) and len(g) are at least len(x), that the slices do not overlap, that",
		"the CPU has the instructions named on the Requires line, that lr is ±0 or",
		fmt.Sprintf("%s ≤ |lr| < %s for the DivMul order, and %s ≤ eps < %s with eps outside", lo, hi, epsLo, epsHi),
		"the root.",
	}
	for _, c := range split {
		k.soft = append(k.soft, c == 'f')
	}
	return k
}
