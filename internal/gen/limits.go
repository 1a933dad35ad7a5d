package main

import (
	"fmt"
	"slices"

	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

// The compute ceilings of `go run ./bench limits`: the arithmetic an exact update
// cannot avoid (one square root and one division per element) and the cheapest
// approximate one (a reciprocal-square-root estimate and a multiplication), run on
// slices small enough to stay in L1 so that memory does not bound them. They are
// float32 only, like the traffic kernel, and are not optimizer steps.

// sqrtDiv is y = g / √s.
func sqrtDiv(v isa) kernel { return sqrtDivWidth(v, f32) }

// sqrtDivWidth is sqrtDiv in element type e.
func sqrtDivWidth(v isa, e elem) kernel {
	name := "SqrtDiv" + e.suffix + v.name
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
	if splitOf(v, f32) != "" {
		declareHybrid(v, splitOf(v, f64) != "")
		for _, k := range fmaProbes(v) {
			generate(k, f32, v)
		}
	}
	if splitOf(v, f64) != "" {
		generate(sqrtDivWidth(v, f64), f64, v)
		generate(sqrtDivFMA64(v), f64, v)
		for _, k := range fmaProbes64(v) {
			generate(k, f64, v)
		}
	}
}

// The FMA sequences of the hybrid kernels (hybrid.go) alone, on AVX-512: the
// probes that tests hold to the correctly rounded results over every float32,
// and the FMA ports' ceiling, as sqrtDiv is the divider's. None checks its
// domain: outside it (DESIGN.md) they return what the sequences compute.

// fmaProbe is a kernel over the slices roles (named args) with one stage per
// function of the sequences that body returns for the vector: the first loads the
// inputs, in the order of roles after the first, and the last stores out.
func fmaProbe(v isa, name string, roles, args, doc []string, body func(r *fmaRoot, in []VecVirtual) ([]func(), func() VecVirtual)) kernel {
	var uses []string
	for _, c := range hybridData {
		uses = append(uses, c.name)
	}
	unroll := hybridUnroll
	if v.name == "AVX2" {
		unroll = 2 // sixteen registers; Avo would take Y16 and up, which need AVX512VL
	}
	return kernel{
		name: name, unroll: unroll, slices: roles, args: args, doc: doc, uses: uses,
		stages: func(o operands) []func() {
			r := &fmaRoot{o: o}
			mem := map[string]Mem{"s": o.s, "g": o.g}
			in := make([]VecVirtual, len(roles)-1)
			steps, out := body(r, in)
			fs := slices.Clone(steps)
			first, last := fs[0], fs[len(fs)-1]
			fs[0] = func() {
				for i, role := range roles[1:] {
					in[i] = o.vec()
					o.io.load(mem[role], in[i])
				}
				first()
			}
			fs[len(fs)-1] = func() {
				last()
				o.io.store(out(), o.x)
			}
			return fs
		},
	}
}

// sqrtDivFMA64 is the float64 hybrid kernels' FMA sequences alone: the float64
// FMA ports' ceiling beside the float64 divider's.
func sqrtDivFMA64(v isa) kernel {
	name := "SqrtDivFMA64" + v.name
	return with64(fmaProbe(v, name, []string{"x", "s", "g"}, []string{"y", "s", "g"}, []string{
		name + " sets y[i] = g[i] / √s[i] for i < len(y) with the float64 hybrid",
		"kernels' FMA sequences alone: the float64 FMA ports' ceiling beside",
		"SqrtDiv64" + v.name + "'s. It checks no domain (DESIGN.md). The caller",
		"guarantees len(s) and len(g) are at least len(y).",
	}, func(r *fmaRoot, in []VecVirtual) ([]func(), func() VecVirtual) {
		steps := slices.Concat(r.sqrtSteps(false), r.recipSteps(), r.quotientSteps(func() Op { return in[1] }, false))
		return before(steps, func() { r.v = in[0] }), func() VecVirtual { return r.q }
	}))
}

// with64 adds the float64 constants to k's.
func with64(k kernel) kernel {
	for _, c := range hybridData64 {
		k.uses = append(k.uses, c.name)
	}
	return k
}

// fmaProbes64 are the float64 probes: √, 1/d (the quotient's steps from a = 1,
// as the Recip order takes it) and a/d.
func fmaProbes64(v isa) []kernel {
	domain := "It checks no domain (DESIGN.md)."
	return []kernel{
		with64(fmaProbe(v, "SqrtFMA64"+v.name, []string{"x", "s"}, []string{"y", "v"}, []string{
			"SqrtFMA64" + v.name + " sets y[i] = √v[i] for i < len(y) as the float64 hybrid",
			"kernels' FMA vectors compute it, correctly rounded where v[i] is in their",
			"domain. " + domain + " The caller guarantees len(v) ≥ len(y).",
		}, func(r *fmaRoot, in []VecVirtual) ([]func(), func() VecVirtual) {
			return before(r.sqrtSteps(false), func() { r.v = in[0] }), func() VecVirtual { return r.d }
		})),
		with64(fmaProbe(v, "RecipFMA64"+v.name, []string{"x", "s"}, []string{"y", "d"}, []string{
			"RecipFMA64" + v.name + " sets y[i] = 1/d[i] for i < len(y) as the float64 hybrid",
			"kernels' FMA vectors compute it, correctly rounded where d[i] is in their",
			"domain. " + domain + " The caller guarantees len(d) ≥ len(y).",
		}, func(r *fmaRoot, in []VecVirtual) ([]func(), func() VecVirtual) {
			steps := slices.Concat(r.recipSteps(), r.quotientSteps(func() Op { return r.o.c["onef64"] }, true))
			return before(steps, func() { r.d = in[0] }), func() VecVirtual { return r.q }
		})),
		with64(fmaProbe(v, "DivFMA64"+v.name, []string{"x", "s", "g"}, []string{"q", "a", "d"}, []string{
			"DivFMA64" + v.name + " sets q[i] = a[i]/d[i] for i < len(q) as the float64 hybrid",
			"kernels' FMA vectors compute it, correctly rounded where a[i] and d[i] are in",
			"their domain. " + domain + " The caller guarantees len(a) and len(d) are at",
			"least len(q).",
		}, func(r *fmaRoot, in []VecVirtual) ([]func(), func() VecVirtual) {
			steps := slices.Concat(r.recipSteps(), r.quotientSteps(func() Op { return in[0] }, false))
			return before(steps, func() { r.d = in[1] }), func() VecVirtual { return r.q }
		})),
	}
}

// before has f run at the start of the first of steps.
func before(steps []func(), f func()) []func() {
	first := steps[0]
	steps[0] = func() { f(); first() }
	return steps
}

// fmaProbes are the probes and the ceiling.
func fmaProbes(v isa) []kernel {
	domain := "It checks no domain (DESIGN.md)."
	return []kernel{
		fmaProbe(v, "SqrtFMA32"+v.name, []string{"x", "s"}, []string{"y", "v"}, []string{
			"SqrtFMA32" + v.name + " sets y[i] = √v[i] for i < len(y) as the hybrid kernels' FMA",
			"vectors compute it, correctly rounded where v[i] is in their domain. " + domain,
			"The caller guarantees len(v) ≥ len(y).",
		}, func(r *fmaRoot, in []VecVirtual) ([]func(), func() VecVirtual) {
			return before(r.sqrtSteps(false), func() { r.v = in[0] }), func() VecVirtual { return r.d }
		}),
		recipProbe(v),
		fmaProbe(v, "DivFMA32"+v.name, []string{"x", "s", "g"}, []string{"q", "a", "d"}, []string{
			"DivFMA32" + v.name + " sets q[i] = a[i]/d[i] for i < len(q) as the hybrid kernels' FMA",
			"vectors compute it, correctly rounded where a[i] and d[i] are in their domain",
			unlessPowerOfTwo(v) + domain,
			"The caller guarantees len(a) and len(d) are at least len(q).",
		}, func(r *fmaRoot, in []VecVirtual) ([]func(), func() VecVirtual) {
			steps := slices.Concat(r.recipSteps(), r.quotientSteps(func() Op { return in[0] }, false))
			return before(steps, func() { r.d = in[1] }), func() VecVirtual { return r.q }
		}),
		sqrtDivFMA32(v),
	}
}

// nearest32 reports whether v's float32 quotient ends on the rounding test
// (fmaInsts.nearest) rather than on Markstein's theorem.
func nearest32(v isa) bool { return (&fmaRoot{o: operands{v: v, e: f32}}).insts().nearest }

// unlessPowerOfTwo is the exception of the float32 quotient where it rests on
// Markstein's theorem, for the doc.
func unlessPowerOfTwo(v isa) string {
	if nearest32(v) {
		return "(the sequences' domain). "
	}
	return "and 1/d[i] is not a power of two. "
}

// recipProbe is the float32 reciprocal's probe: on AVX-512 the Newton steps
// alone, whose y the Recip order uses as it is; on AVX2 (fmaInsts.nearest) the
// quotient's steps from a = 1 after them, as the Recip order takes it there.
func recipProbe(v isa) kernel {
	name := "RecipFMA32" + v.name
	if nearest32(v) {
		return fmaProbe(v, name, []string{"x", "s"}, []string{"y", "d"}, []string{
			name + " sets y[i] = 1/d[i] for i < len(y) as the hybrid kernels' FMA",
			"vectors compute it, correctly rounded where d[i] is in their domain. It",
			"checks no domain (DESIGN.md). The caller guarantees len(d) ≥ len(y).",
		}, func(r *fmaRoot, in []VecVirtual) ([]func(), func() VecVirtual) {
			steps := slices.Concat(r.recipSteps(), r.quotientSteps(func() Op { return r.o.c["onef"] }, true))
			return before(steps, func() { r.d = in[0] }), func() VecVirtual { return r.q }
		})
	}
	return fmaProbe(v, name, []string{"x", "s"}, []string{"y", "d"}, []string{
		name + " sets y[i] = 1/d[i] for i < len(y) as the hybrid kernels' FMA",
		"vectors compute it, correctly rounded where d[i] is in their domain and y[i] is",
		"not a power of two. It checks no domain (DESIGN.md). The caller guarantees",
		"len(d) ≥ len(y).",
	}, func(r *fmaRoot, in []VecVirtual) ([]func(), func() VecVirtual) {
		return before(r.recipSteps(), func() { r.d = in[0] }), func() VecVirtual { return r.y }
	})
}

// sqrtDivFMA32 is y = g/√s from the FMA sequences alone: on AVX-512 the hybrid
// kernels', on AVX2 those of fma32AVX2.
func sqrtDivFMA32(v isa) kernel {
	name := "SqrtDivFMA32" + v.name
	doc := []string{
		name + " sets y[i] = g[i] / √s[i] for i < len(y) with the hybrid",
		"kernels' FMA sequences alone: the FMA ports' ceiling of the exact kernels, as",
		"SqrtDiv32" + v.name + " is the divider's. Benchmarks run it in L1. It checks no",
		"domain (DESIGN.md). The caller guarantees len(s) and len(g) are at least len(y).",
	}

	k := fmaProbe(v, name, []string{"x", "s", "g"}, []string{"y", "s", "g"}, doc,
		func(r *fmaRoot, in []VecVirtual) ([]func(), func() VecVirtual) {
			steps := slices.Concat(r.sqrtSteps(false), r.recipSteps(), r.quotientSteps(func() Op { return in[1] }, false))
			return before(steps, func() { r.v = in[0] }), func() VecVirtual { return r.q }
		})
	return k
}
