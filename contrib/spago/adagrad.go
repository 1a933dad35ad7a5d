// Package spago is an optimization strategy for github.com/nlpodyssey/spago that
// steps each parameter with this library's kernels: New[T](cfg) implements
// spago's optimizers.OptimizationStrategy, for spago's optimizers.New.
//
// With adagrad.Spago() it computes what spago v1.1.0's adagrad computes, bit for
// bit (m += g·g, x −= (g/(√m + eps))·lr), on every kernel path, in one pass over
// each parameter where spago makes four temporary matrices. It keeps the
// accumulator as spago's adagrad does, in param.State as an *adagrad.State of
// spago's own package: spago's and this strategy's states are the same values,
// so either can continue what the other began, and spago's gob encoding of the
// parameters saves it.
package spago

import (
	"fmt"

	spagoadagrad "github.com/nlpodyssey/spago/optimizers/adagrad"

	"github.com/nlpodyssey/spago/mat"
	"github.com/nlpodyssey/spago/mat/float"
	"github.com/nlpodyssey/spago/nn"
	"github.com/nlpodyssey/spago/optimizers"

	"github.com/adagrad-go/adagrad"
	"github.com/adagrad-go/adagrad/kernel"
)

// AdaGrad is the strategy for parameters of element type T. Its methods may be
// called from several goroutines at once, on different parameters, as spago's
// Optimizer calls them.
type AdaGrad[T float.DType] struct {
	init   T
	form   kernel.Form
	params kernel.Params[T]
}

var _ optimizers.OptimizationStrategy = (*AdaGrad[float32])(nil)

// New returns the strategy that steps with cfg: adagrad.Spago() for spago's
// arithmetic and defaults. A new parameter's accumulator starts at
// cfg.InitialAccumulator. It panics with the message of adagrad.New when cfg is
// not valid, and when cfg.LRDecay is not 0: the decay needs a count of steps,
// and a strategy called per parameter keeps none.
func New[T float.DType](cfg adagrad.Config) *AdaGrad[T] {
	if cfg.LRDecay != 0 {
		panic("adagrad/spago: Config.LRDecay needs a step count, which a per-parameter strategy does not keep")
	}
	form, p := adagrad.StepArgs[T](cfg, 1)
	return &AdaGrad[T]{init: T(cfg.InitialAccumulator), form: form, params: p}
}

// OptimizeParams steps param with its gradient, keeping the accumulator in
// param.State, then zeroes the gradient (ZeroGrad), as spago's adagrad does. It
// returns an error, and writes nothing, when the parameter or its gradient is
// not a dense matrix of T, when the gradient is missing or of another size, or
// when param.State is not an accumulator of the parameter's size.
func (o *AdaGrad[T]) OptimizeParams(param *nn.Param) error {
	x, ok := param.Value().(*mat.Dense[T])
	if !ok {
		return fmt.Errorf("adagrad/spago: the parameter is a %T; the strategy steps *mat.Dense[%T]", param.Value(), T(0))
	}
	if !param.HasGrad() {
		return fmt.Errorf("adagrad/spago: the parameter has no gradient")
	}
	g, ok := param.Grad().(*mat.Dense[T])
	if !ok {
		return fmt.Errorf("adagrad/spago: the gradient is a %T; the strategy steps *mat.Dense[%T]", param.Grad(), T(0))
	}
	xs, gs := mat.Data[T](x), mat.Data[T](g)
	if len(gs) != len(xs) {
		return fmt.Errorf("adagrad/spago: the gradient has %d elements, the parameter %d", len(gs), len(xs))
	}
	if param.State == nil {
		m := mat.NewDense[T](mat.WithShape(x.Shape()...))
		if o.init != 0 {
			s := mat.Data[T](m)
			for i := range s {
				s[i] = o.init
			}
		}
		param.State = &spagoadagrad.State{M: m}
	}
	st, ok := param.State.(*spagoadagrad.State)
	if !ok {
		return fmt.Errorf("adagrad/spago: param.State is a %T, want %T", param.State, &spagoadagrad.State{})
	}
	m, ok := st.M.(*mat.Dense[T])
	if !ok {
		return fmt.Errorf("adagrad/spago: the accumulator is a %T; want *mat.Dense[%T]", st.M, T(0))
	}
	ss := mat.Data[T](m)
	if len(ss) != len(xs) {
		return fmt.Errorf("adagrad/spago: the accumulator has %d elements, the parameter %d", len(ss), len(xs))
	}
	if err := apply(o.form, xs, ss, gs, o.params); err != nil {
		return err
	}
	param.ZeroGrad()
	return nil
}

// apply is kernel.Apply, whose checks (memory shared between the three) panic
// before anything is written: as an error.
func apply[T float.DType](f kernel.Form, x, s, g []T, p kernel.Params[T]) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("adagrad/spago: %v", r)
		}
	}()
	kernel.Apply(f, x, s, g, p)
	return nil
}
