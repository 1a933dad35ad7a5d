package main

import (
	"fmt"

	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/reg"
)

// The compute ceilings of `go run ./bench limits`: the arithmetic an exact update
// cannot avoid (one square root and one division per element) and the cheapest
// approximate one (a reciprocal-square-root estimate and a multiplication), run on
// slices small enough to stay in L1 so that memory does not bound them. They are
// float32 only, like the traffic kernel, and are not optimizer steps.

// sqrtDiv is y = g / √s.
func sqrtDiv(v isa) kernel {
	name := "SqrtDiv32" + v.name
	return ceiling(v, name, []string{
		fmt.Sprintf("%s sets y[i] = g[i] / √s[i] for i < len(y): the square root and", name),
		"division of an exact update, without its other operations. Benchmarks run it",
		"in L1 as the compute ceiling of the exact kernels. The caller guarantees",
		"len(s) and len(g) are at least len(y).",
	}, func(o operands, s VecVirtual) { o.e.sqrt(s, s) },
		func(o operands, s, g VecVirtual) { o.e.div(s, g, g) }) // g / √s
}

// rsqrtMul is y = g · rsqrt(s), the hardware's estimate of 1/√s (relative error
// below 1.5·2⁻¹² for VRSQRTPS, 2⁻¹⁴ for VRSQRT14PS).
func rsqrtMul(v isa) kernel {
	name := "RsqrtMul32" + v.name
	bound, rsqrt := "1.5·2⁻¹² (VRSQRTPS)", func(s VecVirtual) { VRSQRTPS(s, s) }
	if v.name == "AVX512" {
		bound, rsqrt = "2⁻¹⁴ (VRSQRT14PS)", func(s VecVirtual) { VRSQRT14PS(s, s) }
	}
	return ceiling(v, name, []string{
		fmt.Sprintf("%s sets y[i] = g[i] · rsqrt(s[i]) for i < len(y), where rsqrt is", name),
		fmt.Sprintf("the hardware estimate of 1/√s, relative error below %s: the", bound),
		"cheapest approximate step. Benchmarks run it in L1 as the compute ceiling of",
		"approximate kernels. The caller guarantees len(s) and len(g) are at least len(y).",
	}, func(o operands, s VecVirtual) { rsqrt(s) },
		func(o operands, s, g VecVirtual) { o.e.mul(s, g, g) })
}

// ceiling is y = combine(g, root(s)) in two stages, float32: root of every
// vector of a block, then combine.
func ceiling(v isa, name string, doc []string, root func(o operands, s VecVirtual), combine func(o operands, s, g VecVirtual)) kernel {
	return kernel{
		name:   name,
		unroll: v.unroll(2),
		slices: []string{"x", "s", "g"},
		args:   []string{"y", "s", "g"},
		doc:    doc,
		stages: func(o operands) []func() {
			var s, g VecVirtual
			return []func(){
				func() {
					s, g = o.vec(), o.vec()
					o.io.load(o.s, s)
					o.io.load(o.g, g)
					root(o, s)
				},
				func() {
					combine(o, s, g)
					o.io.store(g, o.x)
				},
			}
		},
	}
}

// limitKernels emits the compute-ceiling kernels of v.
func limitKernels(v isa) {
	declareData()
	generate(sqrtDiv(v), f32, v)
	generate(rsqrtMul(v), f32, v)
}
