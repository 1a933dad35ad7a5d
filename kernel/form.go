package kernel

import (
	"unsafe"

	"github.com/adagrad-go/adagrad/ref"
)

// Form is one Adagrad variant: where eps goes, the step order, how weight decay
// enters and whether the accumulator update is fused. See ref.Form; ref.Apply
// defines what every form computes. The zero Form is Update's d2l form.
type Form = ref.Form

// Params are the scalars of a step in T: the learning rate, eps, the weight decay
// and the accumulator's Decay and Gain (read only by forms with Decay set).
type Params[T Float] = ref.Params[T]

// The step orders and weight-decay kinds of a Form, as in package ref.
const (
	DivMul         = ref.DivMul         // x − (lr/d)·g: d2l
	MulDiv         = ref.MulDiv         // x − (lr·g)/d: PyTorch, TF, Keras
	Recip          = ref.Recip          // x − lr·(g·(1/d)): optax
	MulRecip       = ref.MulRecip       // x − (lr·g)·(1/d): gorgonia
	QuotMul        = ref.QuotMul        // x − (g/d)·lr: spago
	NoWeightDecay  = ref.NoWeightDecay  // g as it is
	WeightDecayAdd = ref.WeightDecayAdd // g + round(wd·x)
	WeightDecayFMA = ref.WeightDecayFMA // fma(wd, x, g): PyTorch's AVX2/AVX-512 kernels
)

// numOrders is how many step orders there are: ref.Form.ID numbers them first,
// inside each weight decay.
const numOrders = int(QuotMul) + 1

// Apply applies one step of form f to x, s and g in place, bit-identical to
// ref.Apply (see ref.Apply for each form's formula and rounding). The zero Form
// is Update's. It panics before writing anything when the lengths differ, two of
// the slices share memory or f is not valid.
func Apply[T Float](f Form, x, s, g []T, p Params[T]) {
	if len(x) != len(s) || len(x) != len(g) || overlaps(addr(x), addr(s), addr(g), uintptr(len(x))*unsafe.Sizeof(p.LR)) {
		badArgs("kernel.Apply", x, s, g)
	}
	id := formID(f)
	if id < 0 {
		badForm("kernel.Apply", f)
	}
	if len(x) <= smallApply {
		ref.Apply(f, x, s, g, p)
		return
	}
	if is32[T]() {
		apply32(active.Load(), id, as32(x), as32(s), as32(g), float32(p.LR), float32(p.Eps), float32(p.WeightDecay), float32(p.Decay), float32(p.Gain))
		return
	}
	apply64(active.Load(), id, as64(x), as64(s), as64(g), float64(p.LR), float64(p.Eps), float64(p.WeightDecay), float64(p.Decay), float64(p.Gain))
}

// badForm panics with why f is not a form; out of line, as badArgs.
//
//go:noinline
func badForm(fn string, f Form) {
	panic(fn + ": " + f.Validate().Error())
}
