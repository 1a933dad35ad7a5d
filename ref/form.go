package ref

import (
	"fmt"
	"math"
)

// Form is one Adagrad variant: where eps goes, the order of the step's operations,
// how weight decay enters the gradient, and optax's guard. Every form is exact: each
// operation below is rounded once, in the order given, and the kernels reproduce it
// bit for bit. The zero Form is the d2l form of Update.
type Form struct {
	// EpsOutside puts eps outside the root, d = √s + ε (PyTorch, TF's
	// ApplyAdagradV2, FBGEMM). Otherwise d = √(s + ε) (d2l, Keras, optax).
	EpsOutside bool
	// Order is how lr, g and d combine into the step.
	Order Order
	// WeightDecay is how g' = g + wd·x is rounded; NoWeightDecay leaves g as it is.
	WeightDecay WeightDecay
	// FusedAccumulator rounds the accumulator update once, s = fma(g', g', s), as
	// PyTorch's AVX2 and AVX-512 kernels do (GCC contracts their s + g·g).
	// Otherwise the product and the sum are rounded separately.
	FusedAccumulator bool
	// Decay makes the accumulator a moving average, s = Decay·s + Gain·g'², with
	// Decay and Gain from the Params; without it s = s + g'² and they are unused.
	Decay bool
	// Guard zeroes the step where s ≤ 0 or s is NaN, as optax's
	// where(s > 0, 1/d, 0) does. It is only defined for the Recip order.
	Guard bool
}

// Order is the order in which a step combines lr, g and d.
type Order uint8

const (
	// DivMul is x − (lr/d)·g, the d2l order.
	DivMul Order = iota
	// MulDiv is x − (lr·g)/d: PyTorch (its p + ((−lr)·g)/d is the same bits), TF
	// and Keras.
	MulDiv
	// Recip is x − lr·(g·(1/d)), optax's order with an exact reciprocal of an exact
	// root. XLA may use an approximate rsqrt on some CPUs, so optax itself matches
	// this only where it does not.
	Recip
	// MulRecip is x − (lr·g)·(1/d), gorgonia's AdaGradSolver: it rounds 1/√u,
	// −lr·g and their product, each in a pass of its own (−lr·g and the sum give
	// the same bits as lr·g and the difference).
	MulRecip
	// QuotMul is x − (g/d)·lr, spago's adagrad.
	QuotMul
	numOrders
)

// WeightDecay is how L2 weight decay enters the gradient, g' = g + wd·x.
type WeightDecay uint8

const (
	// NoWeightDecay uses g as it is.
	NoWeightDecay WeightDecay = iota
	// WeightDecayAdd rounds the product, then the sum: g + round(wd·x).
	WeightDecayAdd
	// WeightDecayFMA rounds once: fma(wd, x, g).
	WeightDecayFMA
	numWeightDecays
)

// NumIDs is the size of the space of form IDs: every form has an ID in
// [0, NumIDs), though only the 144 valid forms (Forms) use one; tables by ID
// have NumIDs entries.
const NumIDs = int(numOrders) * int(numWeightDecays) * 2 * 2 * 2 * 2

// ID numbers the forms densely, for tables indexed by form. Only a valid form
// (see Validate) has an ID in [0, NumIDs) of its own; an invalid one's ID means
// nothing and may be out of that range.
func (f Form) ID() int {
	return (int(f.Order)+int(numOrders)*int(f.WeightDecay))<<4 | b2i(f.Decay)<<3 | b2i(f.EpsOutside)<<2 |
		b2i(f.FusedAccumulator)<<1 | b2i(f.Guard)
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// Validate reports why f is not a form that can be computed, or nil.
func (f Form) Validate() error {
	switch {
	case f.Order >= numOrders:
		return fmt.Errorf("invalid form: unknown step order %d", f.Order)
	case f.WeightDecay >= numWeightDecays:
		return fmt.Errorf("invalid form: unknown weight decay kind %d", f.WeightDecay)
	case f.Guard && f.Order != Recip:
		return fmt.Errorf("invalid form: the s > 0 guard needs the Recip order, not %v", f.Order)
	}
	return nil
}

// Forms lists every valid form, in ID order.
func Forms() []Form {
	var all []Form
	for id := 0; id < NumIDs; id++ {
		f := Form{Guard: id&1 != 0, FusedAccumulator: id&2 != 0, EpsOutside: id&4 != 0, Decay: id&8 != 0}
		f.WeightDecay = WeightDecay(id >> 4 / int(numOrders))
		f.Order = Order(id >> 4 % int(numOrders))
		if f.ID() != id {
			panic("ref: Form.ID and Forms disagree")
		}
		if f.Validate() == nil {
			all = append(all, f)
		}
	}
	return all
}

func (o Order) String() string {
	switch o {
	case DivMul:
		return "DivMul"
	case MulDiv:
		return "MulDiv"
	case Recip:
		return "Recip"
	case MulRecip:
		return "MulRecip"
	case QuotMul:
		return "QuotMul"
	}
	return fmt.Sprintf("Order(%d)", uint8(o))
}

func (w WeightDecay) String() string {
	switch w {
	case NoWeightDecay:
		return ""
	case WeightDecayAdd:
		return "WdAdd"
	case WeightDecayFMA:
		return "WdFMA"
	}
	return fmt.Sprintf("WeightDecay(%d)", uint8(w))
}

// String names the form as the generated kernels do, for example "InDivMul" (the
// d2l form), "OutMulDivWdFMAFusedAcc" (PyTorch) or "InRecipGuard" (optax).
func (f Form) String() string {
	eps := "In"
	if f.EpsOutside {
		eps = "Out"
	}
	name := eps + f.Order.String() + f.WeightDecay.String()
	if f.FusedAccumulator {
		name += "FusedAcc"
	}
	if f.Decay {
		name += "Decay"
	}
	if f.Guard {
		name += "Guard"
	}
	return name
}

// Params are the scalars of a step in T. Decay and Gain are read only by forms
// with Decay set, whose accumulator is s = Decay·s + Gain·g²: Decay = ρ,
// Gain = 1 − ρ is the RMSProp-style moving average.
type Params[T Float] struct {
	LR, Eps, WeightDecay, Decay, Gain T
}

// Apply applies one step of form f. For every i, in this order, each operation
// rounded to T (float32 or float64):
//
//	g' = g[i]                       NoWeightDecay
//	g' = g[i] + wd·x[i]             WeightDecayAdd (product rounded, then sum)
//	g' = fma(wd, x[i], g[i])        WeightDecayFMA (one rounding)
//	s[i] = s[i] + g'·g'
//	s[i] = fma(g', g', s[i])              FusedAccumulator
//	s[i] = Decay·s[i] + Gain·(g'·g')      Decay
//	s[i] = fma(Gain·g', g', Decay·s[i])   Decay and FusedAccumulator
//	d = √(s[i] + eps)   or, with EpsOutside,   d = √s[i] + eps
//	x[i] = x[i] − (lr/d)·g'         DivMul
//	x[i] = x[i] − (lr·g')/d         MulDiv
//	x[i] = x[i] − lr·(g'·r)         Recip, r = 1/d; with Guard r = 0 unless s[i] > 0
//	x[i] = x[i] − (lr·g')·(1/d)     MulRecip
//	x[i] = x[i] − (g'/d)·lr         QuotMul
//
// Every product that feeds a sum is converted explicitly, which is a rounding point
// the compiler may not fuse across (see the package comment). g is only read. It
// panics, before writing anything, when the lengths differ, two of the slices
// share memory or f is not valid.
func Apply[T Float](f Form, x, s, g []T, p Params[T]) {
	if len(x) != len(s) || len(x) != len(g) {
		panic(fmt.Sprintf("ref.Apply: len(x)=%d len(s)=%d len(g)=%d", len(x), len(s), len(g)))
	}
	if shares(x, s) || shares(x, g) || shares(s, g) {
		overlapPanic("ref.Apply", x, s, g)
	}
	if err := f.Validate(); err != nil {
		panic("ref.Apply: " + err.Error())
	}
	// The loop spells out the weight decay and the multiply-adds that gradient and
	// fma also compute: a generic helper that holds a multiply-add is over Go's
	// inlining budget, and a call per element made this loop up to twice as slow
	// in float64 (BENCHMARKS.md). TestApplyHelpers holds the two to each other.
	for i := range x {
		gi := g[i]
		switch f.WeightDecay {
		case WeightDecayAdd:
			gi = gi + T(p.WeightDecay*x[i])
		case WeightDecayFMA:
			if isFloat32[T]() {
				gi = T(FMA32(float32(p.WeightDecay), float32(x[i]), float32(gi)))
			} else {
				gi = T(math.FMA(float64(p.WeightDecay), float64(x[i]), float64(gi)))
			}
		}
		var si T
		switch {
		case f.Decay && f.FusedAccumulator:
			a, c := T(p.Gain*gi), T(p.Decay*s[i])
			if isFloat32[T]() {
				si = T(FMA32(float32(a), float32(gi), float32(c)))
			} else {
				si = T(math.FMA(float64(a), float64(gi), float64(c)))
			}
		case f.Decay:
			si = T(p.Decay*s[i]) + T(p.Gain*T(gi*gi))
		case f.FusedAccumulator:
			if isFloat32[T]() {
				si = T(FMA32(float32(gi), float32(gi), float32(s[i])))
			} else {
				si = T(math.FMA(float64(gi), float64(gi), float64(s[i])))
			}
		default:
			si = s[i] + T(gi*gi)
		}
		s[i] = si
		x[i] = x[i] - step(f, p, gi, root(f, p, si), si)
	}
}

// gradient is g' = g with the form's weight decay, rounded as the form says.
func gradient[T Float](f Form, p Params[T], x, g T) T {
	switch f.WeightDecay {
	case WeightDecayAdd:
		return g + T(p.WeightDecay*x)
	case WeightDecayFMA:
		return fma(p.WeightDecay, x, g)
	}
	return g
}

// root is d of the form for accumulator value s.
func root[T Float](f Form, p Params[T], s T) T {
	if f.EpsOutside {
		return sqrt(s) + p.Eps
	}
	return sqrt(s + p.Eps)
}

// step is what the form subtracts from x, for gradient g, root d and accumulator
// s (which the guard tests).
func step[T Float](f Form, p Params[T], g, d, s T) T {
	switch f.Order {
	case MulDiv:
		return T(p.LR*g) / d
	case Recip:
		r := 1 / d
		if f.Guard && !(s > 0) {
			r = 0
		}
		return T(p.LR * T(g*r))
	case MulRecip:
		return T(T(p.LR*g) * (1 / d))
	case QuotMul:
		return T((g / d) * p.LR)
	}
	return T(T(p.LR/d) * g)
}

// FMA32 returns a·b + c rounded once to float32, as a hardware fused multiply-add
// does. The product is exact in float64; the sum is rounded to float64 in
// round-to-odd, which makes the final rounding to float32 correct (float64 has more
// than 24+2 bits), where plain double rounding could be off in a tie.
func FMA32(a, b, c float32) float32 {
	p := float64(float64(a) * float64(b)) // exact; the conversion keeps it unfused
	hi := p + float64(c)
	if math.IsInf(hi, 0) || math.IsNaN(hi) || hi == 0 {
		return float32(hi)
	}
	// TwoSum: lo is the exact error of hi.
	bb := hi - p
	lo := (p - (hi - bb)) + (float64(c) - bb)
	if lo != 0 && math.Float64bits(hi)&1 == 0 {
		// Round to odd: move hi one ulp toward the exact sum, onto an odd value.
		if (lo > 0) == (hi > 0) {
			hi = math.Float64frombits(math.Float64bits(hi) + 1)
		} else {
			hi = math.Float64frombits(math.Float64bits(hi) - 1)
		}
	}
	return float32(hi)
}
