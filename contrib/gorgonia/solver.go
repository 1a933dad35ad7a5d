// Package gorgonia is a gorgonia.org/gorgonia Solver that steps a model with
// this library's kernels: NewSolver(cfg).Step implements gorgonia.Solver.
//
// With adagrad.Gorgonia() it computes what gorgonia v0.9.18's AdaGradSolver
// computes on tensors, bit for bit (s += g·g, x −= (lr·g)·(1/√(s + eps))), on
// every kernel path, without that solver's faults:
//   - gorgonia's AdaGradSolver ignores the options it is given (WithLearnRate,
//     WithEps, WithClip, WithL2Reg, WithL1Reg and WithBatchSize have no case for
//     it); here the Config is the step: its LR, Eps, WeightDecay, LRDecay and
//     Form are what the step uses;
//   - it keeps no accumulator for scalars (every step uses s = g²); here a
//     scalar is a tensor of one element, with its accumulator;
//   - it allocates 8 bytes per element per step and keeps a second copy of the
//     parameters; here a warm step allocates nothing, and the accumulators are
//     the only state.
//
// Gradient clipping and batch scaling are not part of Adagrad's step and are
// not offered: clip or scale the gradients before Step.
package gorgonia

import (
	"fmt"
	"io"
	"unsafe"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/adagrad-go/adagrad"
)

// Solver is an Adagrad solver for gorgonia models. It binds the model's values
// by position on its first Step (or Bind) and steps the same ones after. A
// Solver must not be used by two goroutines at once.
type Solver struct {
	cfg   adagrad.Config
	bound []binding // nil until bound
	// A model is float32 or float64: opt32 or opt64 is set once bound, and the
	// parameter and gradient lists it steps (a scalar's are its own one-element
	// slices, copied in and out around the step).
	opt32    *adagrad.Optimizer[float32]
	opt64    *adagrad.Optimizer[float64]
	x32, g32 [][]float32
	x64, g64 [][]float64
	dtype    tensor.Dtype
}

// binding is what binding found at one position of the model.
type binding struct {
	scalar bool
	data   unsafe.Pointer // a tensor's first element
	n      int            // a tensor's length
}

// NewSolver returns a Solver that steps with cfg: adagrad.Gorgonia() for
// gorgonia's arithmetic and defaults. It panics with cfg.Validate's message when
// cfg is not valid, as adagrad.New does.
func NewSolver(cfg adagrad.Config) *Solver {
	if err := cfg.Validate(); err != nil {
		panic(err.Error())
	}
	return &Solver{cfg: cfg}
}

var _ G.Solver = (*Solver)(nil)

// Step applies one step to every value of model with its gradient, then zeroes
// the gradients, as gorgonia's solvers do. The first call binds the model (see
// Bind). It returns an error, and writes nothing, when the model's length
// differs from the bound one's, when a tensor's memory or length changed since,
// when a value or gradient is a view, or its memory is not Go's own (external
// or not natively accessible), when one is not a float32 or float64 tensor or
// scalar of the model's dtype, or when a gradient is missing or differs in
// length from its value.
func (s *Solver) Step(model []G.ValueGrad) error {
	if s.bound == nil {
		if err := s.Bind(model); err != nil {
			return err
		}
	}
	if len(model) != len(s.bound) {
		return fmt.Errorf("adagrad/gorgonia: the model has %d values; it had %d when the solver bound it", len(model), len(s.bound))
	}
	for i, vg := range model {
		if err := s.check(i, vg); err != nil {
			return err
		}
	}
	if err := s.step(); err != nil {
		return err
	}
	for i, vg := range model {
		g, _ := vg.Grad()
		if s.bound[i].scalar {
			s.storeScalar(i, vg.Value(), g)
			continue
		}
		if s.opt32 != nil {
			clear(s.g32[i])
		} else {
			clear(s.g64[i])
		}
	}
	return nil
}

// step runs the optimizer's step, whose checks (a gradient sharing memory with
// a parameter or an accumulator) panic before anything is written: as an error.
func (s *Solver) step() (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("adagrad/gorgonia: %v", r)
		}
	}()
	if s.opt32 != nil {
		s.opt32.Step(s.g32...)
	} else {
		s.opt64.Step(s.g64...)
	}
	return nil
}

// Bind binds the solver to model's values, by position, with fresh
// accumulators, as the first Step does: call it to Load a checkpoint before
// stepping. It errs as Step does, and when the solver is bound already.
func (s *Solver) Bind(model []G.ValueGrad) error {
	if s.bound != nil {
		return fmt.Errorf("adagrad/gorgonia: the solver is bound already")
	}
	if len(model) == 0 {
		return fmt.Errorf("adagrad/gorgonia: an empty model")
	}
	bound := make([]binding, len(model))
	dtype, err := dtypeOf(0, "value", model[0].Value())
	if err != nil {
		return err
	}
	for i, vg := range model {
		v := vg.Value()
		dt, err := dtypeOf(i, "value", v)
		if err != nil {
			return err
		}
		if dt != dtype {
			return fmt.Errorf("adagrad/gorgonia: value %d is %v, value 0 is %v: a Solver steps one dtype", i, dt, dtype)
		}
		if d, ok := v.(*tensor.Dense); ok {
			if err := native(i, "value", d); err != nil {
				return err
			}
			bound[i] = binding{data: unsafe.Pointer(unsafe.SliceData(d.Raw)), n: d.Len()}
		} else {
			bound[i] = binding{scalar: true, n: 1}
		}
	}
	s.dtype, s.bound = dtype, bound
	for i := range model {
		if err := s.check(i, model[i]); err != nil {
			s.bound = nil
			return err
		}
	}
	if dtype == tensor.Float32 {
		s.x32, s.g32 = tensors[float32](model, bound)
		s.opt32 = adagrad.New(s.cfg, s.x32...)
	} else {
		s.x64, s.g64 = tensors[float64](model, bound)
		s.opt64 = adagrad.New(s.cfg, s.x64...)
	}
	return nil
}

// tensors are the parameter lists of a bound model: each tensor's own memory,
// and a one-element slice for each scalar; the gradients are filled by check.
func tensors[T float32 | float64](model []G.ValueGrad, bound []binding) (x, g [][]T) {
	x, g = make([][]T, len(model)), make([][]T, len(model))
	for i, vg := range model {
		if bound[i].scalar {
			x[i], g[i] = make([]T, 1), make([]T, 1)
			continue
		}
		x[i] = elems[T](vg.Value().(*tensor.Dense))
	}
	return x, g
}

// elems is d's elements as a []T, without Data's reflection (an allocation per
// call).
func elems[T float32 | float64](d *tensor.Dense) []T {
	if d.Len() == 0 {
		return nil
	}
	return unsafe.Slice((*T)(unsafe.Pointer(unsafe.SliceData(d.Raw))), d.Len())
}

// check verifies value i and its gradient against the binding and points the
// gradient list at the gradient's memory (a scalar's value and gradient are
// copied into its one-element slices).
func (s *Solver) check(i int, vg G.ValueGrad) error {
	b := s.bound[i]
	v := vg.Value()
	dt, err := dtypeOf(i, "value", v)
	if err != nil {
		return err
	}
	if dt != s.dtype {
		return fmt.Errorf("adagrad/gorgonia: value %d is %v; the model is %v", i, dt, s.dtype)
	}
	d, dense := v.(*tensor.Dense)
	switch {
	case dense == b.scalar:
		return fmt.Errorf("adagrad/gorgonia: value %d changed between a tensor and a scalar since the solver bound it", i)
	case dense:
		if err := native(i, "value", d); err != nil {
			return err
		}
		if unsafe.Pointer(unsafe.SliceData(d.Raw)) != b.data || d.Len() != b.n {
			return fmt.Errorf("adagrad/gorgonia: value %d's memory or length changed since the solver bound it (%d elements then, %d now)", i, b.n, d.Len())
		}
	}
	g, err := vg.Grad()
	if err != nil {
		return fmt.Errorf("adagrad/gorgonia: value %d has no gradient: %w", i, err)
	}
	if g == nil {
		return fmt.Errorf("adagrad/gorgonia: value %d has no gradient", i)
	}
	gdt, err := dtypeOf(i, "gradient", g)
	if err != nil {
		return err
	}
	if gdt != s.dtype {
		return fmt.Errorf("adagrad/gorgonia: gradient %d is %v; the model is %v", i, gdt, s.dtype)
	}
	if b.scalar {
		return s.loadScalar(i, v, g)
	}
	gd, ok := g.(*tensor.Dense)
	if !ok {
		return fmt.Errorf("adagrad/gorgonia: value %d is a tensor, its gradient a %T", i, g)
	}
	if err := native(i, "gradient", gd); err != nil {
		return err
	}
	if gd.Len() != b.n {
		return fmt.Errorf("adagrad/gorgonia: gradient %d has %d elements, its value %d", i, gd.Len(), b.n)
	}
	if s.g32 != nil {
		s.g32[i] = elems[float32](gd)
	} else if s.g64 != nil {
		s.g64[i] = elems[float64](gd)
	}
	return nil
}

// loadScalar copies scalar value i and its gradient into their one-element
// slices; storeScalar writes the stepped value back and zeroes the gradient.
func (s *Solver) loadScalar(i int, v, g G.Value) error {
	xv, xok := scalarOf(v)
	gv, gok := scalarOf(g)
	if !xok || !gok {
		return fmt.Errorf("adagrad/gorgonia: value %d is a scalar, its gradient a %T", i, g)
	}
	if s.x32 != nil {
		s.x32[i][0], s.g32[i][0] = float32(xv), float32(gv)
	} else if s.x64 != nil {
		s.x64[i][0], s.g64[i][0] = xv, gv
	}
	return nil
}

func (s *Solver) storeScalar(i int, v, g G.Value) {
	switch v := v.(type) {
	case *G.F32:
		*v, *g.(*G.F32) = G.F32(s.x32[i][0]), 0
	case *G.F64:
		*v, *g.(*G.F64) = G.F64(s.x64[i][0]), 0
	}
}

// scalarOf is a float scalar's value.
func scalarOf(v G.Value) (float64, bool) {
	switch v := v.(type) {
	case *G.F32:
		return float64(*v), true
	case *G.F64:
		return float64(*v), true
	}
	return 0, false
}

// dtypeOf is v's dtype, float32 or float64, or an error naming what v is.
func dtypeOf(i int, what string, v G.Value) (tensor.Dtype, error) {
	switch v := v.(type) {
	case *tensor.Dense:
		if dt := v.Dtype(); dt == tensor.Float32 || dt == tensor.Float64 {
			return dt, nil
		}
		return tensor.Dtype{}, fmt.Errorf("adagrad/gorgonia: %s %d is a tensor of %v; want float32 or float64", what, i, v.Dtype())
	case *G.F32:
		return tensor.Float32, nil
	case *G.F64:
		return tensor.Float64, nil
	case nil:
		return tensor.Dtype{}, fmt.Errorf("adagrad/gorgonia: %s %d is nil", what, i)
	}
	return tensor.Dtype{}, fmt.Errorf("adagrad/gorgonia: %s %d is a %T; want a float32 or float64 tensor or scalar", what, i, v)
}

// native reports a tensor whose memory the solver cannot step in place.
func native(i int, what string, d *tensor.Dense) error {
	switch {
	case d.IsView():
		return fmt.Errorf("adagrad/gorgonia: %s %d is a view; step the tensor it views", what, i)
	case d.IsManuallyManaged():
		return fmt.Errorf("adagrad/gorgonia: %s %d's memory is external (manually managed)", what, i)
	case !d.IsNativelyAccessible():
		return fmt.Errorf("adagrad/gorgonia: %s %d's memory is not natively accessible", what, i)
	}
	return nil
}

// Optimizer32 and Optimizer64 are the optimizer of a bound float32 or float64
// model, its accumulators and step count included, nil before binding or for
// the other dtype.
func (s *Solver) Optimizer32() *adagrad.Optimizer[float32] { return s.opt32 }

// Optimizer64: see Optimizer32.
func (s *Solver) Optimizer64() *adagrad.Optimizer[float64] { return s.opt64 }

// Save writes the bound solver's state, an adagrad checkpoint (Optimizer.Save).
func (s *Solver) Save(w io.Writer) error {
	switch {
	case s.opt32 != nil:
		return s.opt32.Save(w)
	case s.opt64 != nil:
		return s.opt64.Save(w)
	}
	return fmt.Errorf("adagrad/gorgonia: nothing to save before the solver is bound (Step or Bind)")
}

// Load reads a checkpoint that Save wrote into the bound solver (Optimizer.Load,
// which checks the configuration and the tensors' lengths).
func (s *Solver) Load(r io.Reader) error {
	switch {
	case s.opt32 != nil:
		return s.opt32.Load(r)
	case s.opt64 != nil:
		return s.opt64.Load(r)
	}
	return fmt.Errorf("adagrad/gorgonia: bind the solver (Bind) before loading into it")
}
