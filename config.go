// Package adagrad is an Adagrad optimizer for Go on exact, SIMD-fused kernels.
//
// Adagrad gives every parameter its own step size: the accumulator s sums the
// squared gradients, and the step divides by its root,
//
//	s += g²
//	x -= lr·g / √(s + eps)
//
// so parameters with rare or small gradients keep large steps while frequent ones
// cool down. Frameworks differ in where eps goes, in the order of the step's
// operations and in what they fuse; the presets (D2L, PyTorch, Keras, TF, Optax)
// reproduce each framework's numbers bit for bit, and every preset runs on every
// kernel path of package kernel with the same result.
package adagrad

import (
	"fmt"
	"math"

	"github.com/adagrad-go/adagrad/kernel"
)

// Config describes an Adagrad optimizer. Start from a preset and change fields as
// needed; New checks the whole configuration.
type Config struct {
	// LR is the learning rate η. Presets without a default leave it NaN, which New
	// rejects until it is set.
	LR float64
	// LRDecay decays the rate with the step count t (from 1), as PyTorch does:
	// clr = LR/(1 + (t−1)·LRDecay), computed in float64.
	LRDecay float64
	// WeightDecay adds L2 regularization to the gradient before the accumulator,
	// g' = g + WeightDecay·x, rounded as Form.WeightDecay says (WeightDecayAdd if
	// the form names none).
	WeightDecay float64
	// InitialAccumulator is the starting value of every element of s.
	InitialAccumulator float64
	// Eps keeps the division finite; Form.EpsOutside says where it goes.
	Eps float64
	// Maximize ascends the objective instead: g is negated. It costs nothing; the
	// signs of the rate and the weight decay are folded on the host.
	Maximize bool
	// Decay, when in (0, 1), makes the accumulator forget: s = Decay·s +
	// (1−Decay)·g², the RMSProp remedy for steps that shrink to zero. 0 is Adagrad's
	// s = s + g².
	Decay float64
	// Form is where eps goes, the step order, how weight decay and the accumulator
	// are rounded, and optax's guard. See kernel.Form. Its Decay follows the
	// Decay above: leave it false (Validate rejects it with Decay 0).
	Form kernel.Form
	// TorchForeach computes the rate as torch.optim.Adagrad(foreach=True) does: in
	// float32 tensor arithmetic, as (1/(1 + (t−1)·LRDecay))·(−LR), even for float64
	// parameters. The default is the single-tensor path's float64 rate.
	TorchForeach bool
	// Parallel, when set, splits each Step's large tensors (and an arena, see
	// NewArena) across the Pool's goroutines with kernel.ApplyOn:
	// kernel.DefaultPool() uses GOMAXPROCS from kernel.DefaultMinSplit elements
	// (see kernel.WithMinSplit for when a call after a pause splits).
	// The results are the same bits. nil runs every step on the caller's goroutine,
	// unless Workers is set.
	Parallel *kernel.Pool
	// Workers, when Parallel is nil, splits each Step's large tensors across that
	// many goroutines, the caller's included: a Pool of kernel.WithWorkers(Workers)
	// with the default split length. 0 and 1 split nothing. Set at most one of
	// Parallel and Workers.
	Workers int
}

// D2L is the form of the d2l book (Dive into Deep Learning, chapter 12.7): eps 1e-6
// inside the root, s starting at 0, x − (lr/√(s+eps))·g. The book sets no default
// learning rate: set LR.
func D2L() Config {
	return Config{LR: math.NaN(), Eps: 1e-6}
}

// PyTorch is torch.optim.Adagrad's defaults (lr 0.01, lr_decay 0, weight_decay 0,
// initial_accumulator_value 0, eps 1e-10) and its arithmetic: d = √s + eps and
// x + ((−clr)·g)/d. It matches PyTorch 1.13 running its AVX2 or AVX-512 kernels,
// which GCC compiled with multiply-adds contracted: the accumulator is
// fma(g, g, s) and the weight decay fma(wd, x, g). PyTorch's scalar kernels
// (ATEN_CPU_CAPABILITY=default, or a CPU without AVX2) round them separately; for
// those set Form.FusedAccumulator false and Form.WeightDecay to WeightDecayAdd. The
// golden tests hold both against real torch.
func PyTorch() Config {
	return Config{
		LR:  0.01,
		Eps: 1e-10,
		Form: kernel.Form{
			EpsOutside:       true,
			Order:            kernel.MulDiv,
			WeightDecay:      kernel.WeightDecayFMA,
			FusedAccumulator: true,
		},
	}
}

// Keras is keras.optimizers.Adagrad's defaults (learning_rate 0.001,
// initial_accumulator_value 0.1, epsilon 1e-7) and its arithmetic, the same in
// Keras 3 and tf.keras ≥ 2.11: s += g², x −= (lr·g)/√(s + eps).
func Keras() Config {
	return Config{LR: 0.001, Eps: 1e-7, InitialAccumulator: 0.1, Form: kernel.Form{Order: kernel.MulDiv}}
}

// TF is the arithmetic of TensorFlow's ApplyAdagradV2 kernel, accum += g²;
// var −= g·lr/(√accum + eps). The raw op has no defaults: set LR and Eps.
func TF() Config {
	return Config{LR: math.NaN(), Eps: math.NaN(), Form: kernel.Form{EpsOutside: true, Order: kernel.MulDiv}}
}

// Optax is optax.adagrad's defaults (initial_accumulator_value 0.1, eps 1e-7) and
// its arithmetic: s += g², r = where(s > 0, 1/√(s + eps), 0), x − lr·(g·r). Optax
// has no default rate: set LR. XLA may compute the reciprocal root approximately on
// some CPUs; this preset computes it exactly (a rounded root, then a rounded
// division), so it matches optax where XLA does the same.
func Optax() Config {
	return Config{LR: math.NaN(), Eps: 1e-7, InitialAccumulator: 0.1, Form: kernel.Form{Order: kernel.Recip, Guard: true}}
}

// Gorgonia is gorgonia.org/gorgonia v0.9.18's AdaGradSolver: its defaults (learn
// rate 0.001, eps 1e-8) and its arithmetic, each operation a pass of its own over
// the tensor: s += g·g, u = 1/√(s + eps), x += u·(−lr·g). Those are the bits of
// x − (lr·g)·(1/d), the MulRecip order. Gorgonia's solver itself ignores the
// options it is given (WithLearnRate among them) and keeps no accumulator for
// scalars; this preset is only its arithmetic.
func Gorgonia() Config {
	return Config{LR: 0.001, Eps: 1e-8, Form: kernel.Form{Order: kernel.MulRecip}}
}

// Spago is github.com/nlpodyssey/spago v1.1.0's adagrad: its defaults (lr 0.01,
// eps 1e-8) and its arithmetic, m += g·g, x −= (g/(√m + eps))·lr: eps outside
// the root, the QuotMul order.
func Spago() Config {
	return Config{LR: 0.01, Eps: 1e-8, Form: kernel.Form{EpsOutside: true, Order: kernel.QuotMul}}
}

// Validate reports what is wrong with c, or nil. New panics with the same message.
//
// It rejects, in this order and naming the first: a NaN LR, LRDecay, WeightDecay,
// InitialAccumulator or Eps ("adagrad: Config.LR is NaN (unset: a preset with no
// default for it leaves it NaN)"; a NaN computed by mistake is reported the same
// way), an infinite one ("adagrad: Config.LR is +Inf"), a negative
// one ("adagrad: Config.Eps is -1e-08; it must be ≥ 0 (PyTorch rejects a negative
// eps)"), a Decay outside [0, 1), NaN included, Form.Decay set with a Decay of 0
// (the form's decay follows Config.Decay), and an invalid Form (the error of
// kernel.Form's Validate). Zero is valid everywhere, and so is −0.
func (c Config) Validate() error {
	check := func(name string, v float64, torchName string) error {
		switch {
		case math.IsNaN(v):
			return fmt.Errorf("adagrad: Config.%s is NaN (unset: a preset with no default for it leaves it NaN)", name)
		case math.IsInf(v, 0):
			return fmt.Errorf("adagrad: Config.%s is %v", name, v)
		case v < 0:
			return fmt.Errorf("adagrad: Config.%s is %v; it must be ≥ 0 (PyTorch rejects a negative %s)", name, v, torchName)
		}
		return nil
	}
	for _, f := range []struct {
		name, torch string
		v           float64
	}{
		{"LR", "lr", c.LR}, {"LRDecay", "lr_decay", c.LRDecay}, {"WeightDecay", "weight_decay", c.WeightDecay},
		{"InitialAccumulator", "initial_accumulator_value", c.InitialAccumulator}, {"Eps", "eps", c.Eps},
	} {
		if err := check(f.name, f.v, f.torch); err != nil {
			return err
		}
	}
	if !(c.Decay >= 0 && c.Decay < 1) {
		return fmt.Errorf("adagrad: Config.Decay is %v; it must be in [0, 1) (0 is plain Adagrad)", c.Decay)
	}
	if c.Form.Decay && c.Decay == 0 {
		return fmt.Errorf("adagrad: Config.Form.Decay is set but Config.Decay is 0; set Config.Decay to ρ in (0, 1) instead")
	}
	if err := c.Form.Validate(); err != nil {
		return fmt.Errorf("adagrad: Config.Form: %w", err)
	}
	if c.Workers < 0 {
		return fmt.Errorf("adagrad: Config.Workers is %d; it must be ≥ 0", c.Workers)
	}
	if c.Workers > 0 && c.Parallel != nil {
		return fmt.Errorf("adagrad: Config.Workers (%d) and Config.Parallel are both set; the Pool has its own worker count", c.Workers)
	}
	return nil
}
