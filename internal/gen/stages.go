package main

import (
	"slices"

	"github.com/adagrad-go/adagrad/ref"
)

// The math of every form-dependent kernel is written here once, as operations on
// the named values of one vector, and rendered by x86.go (Avo, AVX2 and AVX-512)
// and by neon.go (arm64 text). Each operation is rounded once, in the order the
// reference rounds it, so the rendering is the only thing an instruction set adds.
//
// Values are "g", "s", "d" and "x" (the gradient, the accumulator, the root and
// the parameters at the vector's position), temporaries (any other name; NEON keeps them all
// in one register, so no two are live at once) and the broadcast constants of
// constOrder.

// opKind is what an op does; a and b are its sources, dst its result.
type opKind uint8

const (
	opNew   opKind = iota // dst gets a register of its own (amd64 allocates here; NEON's are fixed)
	opLoad                // dst = the elements of slice dst at this position
	opStore               // slice a at this position = a
	opAdd                 // dst = a + b
	opSub                 // dst = a − b
	opMul                 // dst = a·b
	opDiv                 // dst = a / b
	opSqrt                // dst = √a
	opFMA                 // dst = fma(a, b, dst), one rounding
	opGuard               // dst = a > 0 ? dst : b (b is "zero"); false for NaN
)

type op struct {
	kind      opKind
	dst, a, b string
	// swap has amd64 take the sources of an add, mul or fma the other way round
	// from its rule (commuted in x86.go). The bits are the same; it keeps the
	// committed assembly as it was before this description replaced the
	// per-instruction-set code.
	swap bool
}

// ops is a list of operations, built with the methods below.
type ops []op

func (p *ops) new(names ...string) {
	for _, n := range names {
		*p = append(*p, op{kind: opNew, dst: n})
	}
}
func (p *ops) load(role string)   { *p = append(*p, op{kind: opLoad, dst: role}) }
func (p *ops) store(role string)  { *p = append(*p, op{kind: opStore, a: role}) }
func (p *ops) add(d, a, b string) { *p = append(*p, op{kind: opAdd, dst: d, a: a, b: b}) }
func (p *ops) sub(d, a, b string) { *p = append(*p, op{kind: opSub, dst: d, a: a, b: b}) }
func (p *ops) mul(d, a, b string) { *p = append(*p, op{kind: opMul, dst: d, a: a, b: b}) }
func (p *ops) div(d, a, b string) { *p = append(*p, op{kind: opDiv, dst: d, a: a, b: b}) }
func (p *ops) sqrt(d, a string)   { *p = append(*p, op{kind: opSqrt, dst: d, a: a}) }
func (p *ops) fma(d, a, b string) { *p = append(*p, op{kind: opFMA, dst: d, a: a, b: b}) }
func (p *ops) guard(d, s string)  { *p = append(*p, op{kind: opGuard, dst: d, a: s, b: "zero"}) }
func (p *ops) then(q ops)         { *p = append(*p, q...) }
func (p *ops) mulSwapped(d, a, b string) {
	*p = append(*p, op{kind: opMul, dst: d, a: a, b: b, swap: true})
}

// stage is the part of a computation that the vectors of a block each run
// before the next stage starts (see kernel.stages), so that the long latencies
// of different vectors overlap.
type stage struct {
	ops ops
	// joined runs the stage on amd64 in one pass with the stage before. NEON
	// loads a stage's slices for the whole block before its arithmetic and
	// stores them after, so a load that must follow arithmetic starts a stage.
	joined bool
}

// calc is the computation of one vector, in stages.
type calc []stage

// constOrder is every constant an op may name, in the order amd64 broadcasts
// them, which fixes their registers and stack slots.
var constOrder = []string{"k", "lr", "eps", "decay", "gain", "wd", "one", "zero"}

func isConst(name string) bool { return slices.Contains(constOrder, name) }

// consts are the constants c reads, in constOrder.
func (c calc) consts() []string {
	var used []string
	for _, name := range constOrder {
		if c.reads(name) {
			used = append(used, name)
		}
	}
	return used
}

func (c calc) reads(name string) bool {
	for _, st := range c {
		for _, o := range st.ops {
			if o.a == name || o.b == name {
				return true
			}
		}
	}
	return false
}

// loads reports whether c loads the slice role.
func (c calc) loads(role string) bool {
	for _, st := range c {
		if slices.Contains(st.ops, op{kind: opLoad, dst: role}) {
			return true
		}
	}
	return false
}

// The variants the row kernels distinguish: every weight decay with each
// accumulator kind (the sums of squares) and each step order (the row steps).
var (
	weightDecays = []ref.WeightDecay{ref.NoWeightDecay, ref.WeightDecayAdd, ref.WeightDecayFMA}
	orders       = []ref.Order{ref.DivMul, ref.MulDiv, ref.Recip, ref.MulRecip, ref.QuotMul}
)

// gradient turns the loaded g into g' for weight decay wd, as the reference
// rounds it, loading x when it reads it.
func gradient(wd ref.WeightDecay) ops {
	var p ops
	switch wd {
	case ref.WeightDecayAdd:
		p.new("x", "wx")
		p.load("x")
		p.mul("wx", "wd", "x") // wd·x
		p.add("g", "g", "wx")  // g + wd·x
	case ref.WeightDecayFMA:
		p.new("x")
		p.load("x")
		p.fma("g", "wd", "x") // fma(wd, x, g)
	}
	return p
}

// applyCalc is ref.Apply for form f, in the stages of the Apply kernels: the
// gradient and the accumulator, the root, the step, the update of x.
func applyCalc(f ref.Form) calc {
	var grad, acc, root, step, update ops
	grad.new("g", "s")
	grad.load("g")
	grad.then(gradient(f.WeightDecay))

	acc.load("s")
	acc.new("t")
	switch {
	case f.Decay && f.FusedAccumulator:
		acc.mul("s", "decay", "s") // Decay·s
		acc.mul("t", "gain", "g")  // Gain·g
		acc.fma("s", "t", "g")     // fma(Gain·g, g, Decay·s)
	case f.Decay:
		acc.mul("s", "decay", "s") // Decay·s
		acc.mul("t", "g", "g")     // g·g
		acc.mul("t", "gain", "t")  // Gain·(g·g)
		acc.add("s", "s", "t")
	case f.FusedAccumulator:
		acc.fma("s", "g", "g") // fma(g, g, s)
	default:
		acc.mul("t", "g", "g") // g·g
		acc.add("s", "s", "t")
	}
	acc.store("s")

	root.new("d")
	if f.EpsOutside {
		root.sqrt("d", "s")
		root.add("d", "d", "eps") // √s + eps
	} else {
		root.add("d", "s", "eps")
		root.sqrt("d", "d") // √(s + eps)
	}

	switch f.Order {
	case ref.DivMul:
		step.div("d", "lr", "d") // lr/d
		step.mul("d", "d", "g")  // (lr/d)·g
	case ref.MulDiv:
		step.new("t")
		step.mul("t", "lr", "g") // lr·g
		step.div("d", "t", "d")  // (lr·g)/d
	case ref.Recip:
		step.div("d", "one", "d") // r = 1/d
		if f.Guard {
			step.guard("d", "s") // r = 0 unless s > 0
		}
		step.mul("d", "g", "d")  // g·r
		step.mul("d", "lr", "d") // lr·(g·r)
	case ref.MulRecip:
		step.new("t")
		step.mul("t", "lr", "g")  // lr·g
		step.div("d", "one", "d") // r = 1/d
		step.mul("d", "t", "d")   // (lr·g)·r
	case ref.QuotMul:
		step.div("d", "g", "d")  // g/d
		step.mul("d", "lr", "d") // lr·(g/d), the bits of (g/d)·lr
	}

	if f.WeightDecay == ref.NoWeightDecay {
		update.new("x")
		update.load("x")
	}
	update.sub("x", "x", "d") // x − step
	update.store("x")
	return calc{{ops: grad}, {ops: acc, joined: true}, {ops: root}, {ops: step}, {ops: update}}
}

// rowStepCalc is the update of one row in ref.RowWise: x −= step(g') with the
// row's factor k from ref.RowScale, in one stage.
func rowStepCalc(order ref.Order, wd ref.WeightDecay) calc {
	var p ops
	p.new("g", "t")
	p.load("g")
	p.then(gradient(wd))
	switch order {
	case ref.DivMul:
		p.mulSwapped("t", "k", "g") // k·g'
	case ref.MulDiv:
		p.mul("t", "lr", "g") // lr·g'
		p.div("t", "t", "k")  // (lr·g')/k
	case ref.Recip:
		p.mul("t", "g", "k")  // g'·k
		p.mul("t", "lr", "t") // lr·(g'·k)
	case ref.MulRecip:
		p.mul("t", "lr", "g") // lr·g'
		p.mul("t", "t", "k")  // (lr·g')·k
	case ref.QuotMul:
		p.div("t", "g", "k")  // g'/k
		p.mul("t", "lr", "t") // lr·(g'/k), the bits of (g'/k)·lr
	}
	if wd == ref.NoWeightDecay {
		p.new("x")
		p.load("x")
	}
	p.sub("x", "x", "t") // x − step
	p.store("x")
	return calc{{ops: p}}
}

// rowStepFormula is the step rowStepCalc subtracts, for the kernels' docs.
var rowStepFormula = map[ref.Order]string{ref.DivMul: "k·g'", ref.MulDiv: "(lr·g')/k", ref.Recip: "lr·(g'·k)",
	ref.MulRecip: "(lr·g')·k", ref.QuotMul: "(g'/k)·lr"}

// sumSquaresCalc adds g'² of one vector into its partial sums s, lane by lane,
// as ref.SumSquares does: the gradient, then the square. The sum of the lanes is
// each instruction set's own, since it is only moves between them.
func sumSquaresCalc(wd ref.WeightDecay, fused bool) calc {
	var grad, sq ops
	grad.new("g")
	grad.load("g")
	grad.then(gradient(wd))
	if fused {
		sq.fma("s", "g", "g") // fma(g', g', s)
	} else {
		sq.new("t")
		sq.mul("t", "g", "g") // g'·g'
		sq.add("s", "s", "t") // s + g'·g'
	}
	return calc{{ops: grad}, {ops: sq}}
}

// sumSquaresFormula is the partial sum of sumSquaresCalc, for the kernels' docs.
func sumSquaresFormula(fused bool) string {
	if fused {
		return "s = fma(g', g', s)"
	}
	return "s = s + g'·g'"
}
