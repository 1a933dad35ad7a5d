package kernel

import "github.com/adagrad-go/adagrad/ref"

// Form is one Adagrad variant: where eps goes, the step order, how weight decay
// enters and whether the accumulator update is fused. See ref.Form, whose Apply32
// and Apply64 define what every form computes. The zero Form is Update's d2l form.
type Form = ref.Form

// Params32 are the scalars of a float32 step: LR, Eps, WeightDecay, and Decay and
// Gain of the accumulator, s = Decay·s + Gain·g² (both 1 for Adagrad).
type Params32 = ref.Params32

// Params64 are the scalars of a float64 step, as Params32.
type Params64 = ref.Params64

// The step orders and weight-decay kinds of a Form, as in package ref.
const (
	DivMul         = ref.DivMul         // x − (lr/d)·g: d2l
	MulDiv         = ref.MulDiv         // x − (lr·g)/d: PyTorch, TF, Keras
	Recip          = ref.Recip          // x − lr·(g·(1/d)): optax
	NoWeightDecay  = ref.NoWeightDecay  // g as it is
	WeightDecayAdd = ref.WeightDecayAdd // g + round(wd·x)
	WeightDecayFMA = ref.WeightDecayFMA // fma(wd, x, g): PyTorch's AVX2/AVX-512 kernels
)

// Apply applies one step of form f to the float32 parameters x, with accumulator s
// and gradient g, in place, bit-identical to ref.Apply32. g is only read. It panics
// before writing anything when the lengths differ, two slices share memory or f is
// not a valid form.
func Apply(f Form, x, s, g []float32, p Params32) {
	if len(x) != len(s) || len(x) != len(g) || overlaps(addr(x), addr(s), addr(g), uintptr(len(x))*4) {
		badArgs("kernel.Apply", x, s, g)
	}
	id := formID(f)
	if id < 0 {
		badForm("kernel.Apply", f)
	}
	if len(x) <= smallApply {
		ref.Apply32(f, x, s, g, p)
		return
	}
	apply32(active.Load(), id, x, s, g, p.LR, p.Eps, p.WeightDecay, p.Decay, p.Gain)
}

// Apply64 is Apply for float64, bit-identical to ref.Apply64.
func Apply64(f Form, x, s, g []float64, p Params64) {
	if len(x) != len(s) || len(x) != len(g) || overlaps(addr(x), addr(s), addr(g), uintptr(len(x))*8) {
		badArgs("kernel.Apply64", x, s, g)
	}
	id := formID(f)
	if id < 0 {
		badForm("kernel.Apply64", f)
	}
	if len(x) <= smallApply {
		ref.Apply64(f, x, s, g, p)
		return
	}
	apply64(active.Load(), id, x, s, g, p.LR, p.Eps, p.WeightDecay, p.Decay, p.Gain)
}

// badForm panics with why f is not a form; out of line, as badArgs.
//
//go:noinline
func badForm(fn string, f Form) {
	panic(fn + ": " + f.Validate().Error())
}
