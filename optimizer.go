package adagrad

import (
	"fmt"
	"math"
	"sort"
	"unsafe"

	"github.com/adagrad-go/adagrad/kernel"
)

// Float is the element type of an Optimizer and its tensors: float32 or float64.
type Float = kernel.Float

// Optimizer updates a fixed list of parameter tensors in place, one Step per call,
// keeping one accumulator per parameter and the step count.
type Optimizer[T Float] struct {
	cfg    Config
	form   kernel.Form  // the kernel's form: Config.Form with the weight decay resolved
	pool   *kernel.Pool // Config.Parallel, or a Pool of Config.Workers; nil: one goroutine
	params [][]T
	sums   [][]T
	steps  int
	// arena is set by NewArena: the whole parameter, accumulator and gradient
	// arrays, of which params, sums and grads are views.
	arena *arena[T]
	// state is the memory of params and sums, sorted and disjoint, against which
	// Step checks the gradients before it writes anything.
	state []span
}

// span is the memory of one non-empty tensor of the state: parameter i, or its
// accumulator.
type span struct {
	lo, hi uintptr
	i      int
	sum    bool
}

// spansOf returns the memory of params and sums, sorted, and panics when two
// parameters share memory: Step would update their shared elements twice.
func spansOf[T Float](fn string, params, sums [][]T) []span {
	var zero T
	size := unsafe.Sizeof(zero)
	var spans []span
	for li, list := range [][][]T{params, sums} {
		for i, t := range list {
			if len(t) > 0 {
				lo := uintptr(unsafe.Pointer(unsafe.SliceData(t)))
				spans = append(spans, span{lo: lo, hi: lo + uintptr(len(t))*size, i: i, sum: li == 1})
			}
		}
	}
	sort.Slice(spans, func(a, b int) bool { return spans[a].lo < spans[b].lo })
	for k := 1; k < len(spans); k++ {
		if a, b := spans[k-1], spans[k]; b.lo < a.hi {
			panic(fmt.Sprintf("adagrad: %s: parameters %d and %d share memory", fn, min(a.i, b.i), max(a.i, b.i)))
		}
	}
	return spans
}

// checkGrad panics when gradient i shares memory with the state: the kernels
// would read values that the same step writes.
func (o *Optimizer[T]) checkGrad(i int, g []T) {
	if len(g) == 0 {
		return
	}
	var zero T
	lo := uintptr(unsafe.Pointer(unsafe.SliceData(g)))
	hi := lo + uintptr(len(g))*unsafe.Sizeof(zero)
	k := sort.Search(len(o.state), func(k int) bool { return o.state[k].hi > lo })
	if k < len(o.state) && o.state[k].lo < hi {
		what := "parameter"
		if o.state[k].sum {
			what = "the accumulator of parameter"
		}
		panic(fmt.Sprintf("adagrad: gradient %d shares memory with %s %d", i, what, o.state[k].i))
	}
}

// New returns an optimizer for params, whose accumulators start at
// cfg.InitialAccumulator. The slices are kept, not copied: Step updates them in
// place. They must not share memory (New panics when two do). New panics with the
// message of cfg.Validate when the configuration is bad, or when a value of it
// overflows float32 for float32 tensors.
func New[T Float](cfg Config, params ...[]T) *Optimizer[T] {
	o := newOptimizer[T](cfg)
	o.params, o.sums = params, make([][]T, len(params))
	spansOf("New", params, nil) // before anything is allocated for them
	for i, p := range params {
		s := make([]T, len(p))
		for j := range s {
			s[j] = T(cfg.InitialAccumulator)
		}
		o.sums[i] = s
	}
	o.state = spansOf("New", o.params, o.sums)
	return o
}

// newOptimizer checks cfg and resolves its kernel form.
func newOptimizer[T Float](cfg Config) *Optimizer[T] {
	if err := validateFor[T](cfg); err != nil {
		panic(err.Error())
	}
	o := &Optimizer[T]{cfg: cfg, form: kernelForm(cfg)}
	if cfg.Workers > 1 {
		o.pool = kernel.NewPool(kernel.WithWorkers(cfg.Workers))
	} else {
		o.pool = cfg.Parallel
	}
	return o
}

// validateFor is cfg.Validate, and for float32 tensors also rejects values that
// overflow float32, which the step would use as ±Inf.
func validateFor[T Float](cfg Config) error {
	if err := cfg.Validate(); err != nil {
		return err
	}
	var zero T
	if unsafe.Sizeof(zero) == 4 {
		for _, f := range []struct {
			name string
			v    float64
		}{{"LR", cfg.LR}, {"LRDecay", cfg.LRDecay}, {"WeightDecay", cfg.WeightDecay}, {"InitialAccumulator", cfg.InitialAccumulator}, {"Eps", cfg.Eps}} {
			if math.IsInf(float64(float32(f.v)), 0) {
				return fmt.Errorf("adagrad: Config.%s is %v, which overflows float32", f.name, f.v)
			}
		}
	}
	return nil
}

// kernelForm is the kernel's form of a valid cfg: Config.Form with the weight
// decay and the accumulator's decay resolved.
func kernelForm(cfg Config) kernel.Form {
	form := cfg.Form
	switch {
	case cfg.WeightDecay == 0:
		form.WeightDecay = kernel.NoWeightDecay // wd·x would turn Inf or NaN in x into NaN
	case form.WeightDecay == kernel.NoWeightDecay:
		form.WeightDecay = kernel.WeightDecayAdd
	}
	form.Decay = cfg.Decay != 0
	return form
}

// Step applies one update to every parameter, grads[i] being the gradient of
// params[i]. It panics before writing anything when the number of gradients or any
// length does not match, or when a gradient shares memory with a parameter or an
// accumulator. The gradients are only read.
//
// On an optimizer made by NewArena, Step() without gradients updates the whole
// arena from its own gradients (Grads) in one kernel call.
func (o *Optimizer[T]) Step(grads ...[]T) {
	if o.arena != nil && len(grads) == 0 {
		o.steps++
		o.apply(o.arena.x, o.arena.s, o.arena.g, o.stepParams())
		return
	}
	if len(grads) != len(o.params) {
		panic(fmt.Sprintf("adagrad: Step got %d gradients for %d parameters", len(grads), len(o.params)))
	}
	for i, g := range grads {
		if len(g) != len(o.params[i]) {
			panic(fmt.Sprintf("adagrad: gradient %d has %d elements, parameter %d has %d", i, len(g), i, len(o.params[i])))
		}
	}
	for i, g := range grads {
		o.checkGrad(i, g)
	}
	o.steps++
	p := o.stepParams()
	for i, x := range o.params {
		o.apply(x, o.sums[i], grads[i], p)
	}
}

// stepParams returns the kernel's scalars for the current step.
func (o *Optimizer[T]) stepParams() kernel.Params[T] {
	lr, wd := o.rate(), o.cfg.WeightDecay
	if o.cfg.Maximize {
		// (−lr)·(g − wd·x) is the step of −g + wd·x to the bit: IEEE rounding is
		// symmetric, so negating the rate and the decay negates g exactly.
		lr, wd = -lr, -wd
	}
	decay, gain := 1.0, 1.0
	if o.cfg.Decay != 0 {
		decay, gain = o.cfg.Decay, 1-o.cfg.Decay
	}
	return kernel.Params[T]{LR: T(lr), Eps: T(o.cfg.Eps), WeightDecay: T(wd), Decay: T(decay), Gain: T(gain)}
}

// apply runs the step's kernel on one tensor (or the arena).
func (o *Optimizer[T]) apply(x, s, g []T, p kernel.Params[T]) {
	if o.pool != nil {
		kernel.ApplyOn(o.pool, o.form, x, s, g, p)
		return
	}
	kernel.Apply(o.form, x, s, g, p)
}

// rate is the learning rate of the current step.
func (o *Optimizer[T]) rate() float64 {
	t, lr, decay := o.steps, o.cfg.LR, o.cfg.LRDecay
	if o.cfg.TorchForeach {
		// PyTorch's foreach path: -lr / (1 + (step - 1) * lr_decay) with step a
		// float32 tensor, where python_float / tensor is tensor.reciprocal() * float.
		den := float32(1) + float32(float32(t-1)*float32(decay))
		return -float64(float32(float32(1/den) * float32(-lr)))
	}
	// The conversion keeps Go from fusing the multiply-add on arm64; Python doesn't.
	return lr / (1 + float64(float64(t-1)*decay))
}

// Accumulator returns the accumulator of parameter i, the optimizer's own slice.
func (o *Optimizer[T]) Accumulator(i int) []T { return o.sums[i] }

// Steps returns how many steps have been taken.
func (o *Optimizer[T]) Steps() int { return o.steps }

// Config returns the configuration the optimizer was made with.
func (o *Optimizer[T]) Config() Config { return o.cfg }

// StepArgs is what step t (1 for the first) of an Optimizer made with cfg passes
// kernel.Apply for each tensor: the kernel's form (Config.Form with the weight
// decay and the accumulator's decay resolved) and its scalars (LRDecay and
// Maximize applied). It is for adapters that keep the accumulators where their
// framework keeps them, as contrib/spago does in spago's param.State. It panics
// with the message of New when cfg is not valid for T.
func StepArgs[T Float](cfg Config, t int) (kernel.Form, kernel.Params[T]) {
	o := newOptimizer[T](cfg)
	o.steps = t
	return o.form, o.stepParams()
}
