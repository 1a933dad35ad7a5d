package adagrad_test

import (
	"bytes"
	"errors"
	"fmt"

	"github.com/adagrad-go/adagrad"
)

// The d2l book's 2-D demo: f(x) = 0.1·x1² + 2·x2² from (−5, −2), 20 steps. The
// printed line is the book's own result for η = 0.4, digit for digit.
func ExampleD2L() {
	quadratic := func(eta float64) {
		cfg := adagrad.D2L()
		cfg.LR = eta
		x := []float64{-5, -2}
		opt := adagrad.New(cfg, x)
		for range 20 {
			opt.Step([]float64{0.2 * x[0], 4 * x[1]})
		}
		fmt.Printf("epoch 20, x1: %f, x2: %f\n", x[0], x[1])
	}
	quadratic(0.4)
	quadratic(2)
	// Output:
	// epoch 20, x1: -2.382563, x2: -0.158591
	// epoch 20, x1: -0.002295, x2: -0.000000
}

// PyTorch's defaults, as torch.optim.Adagrad(params) would run them.
func ExamplePyTorch() {
	w := []float32{0.5, -1.5, 2}
	opt := adagrad.New(adagrad.PyTorch(), w)
	opt.Step([]float32{1, -2, 0.001})
	fmt.Println(w, opt.Accumulator(0))
	// Output: [0.49 -1.49 1.99] [1 4 1.0000001e-06]
}

// Keras starts the accumulator at 0.1, so the first step is smaller than lr.
func ExampleKeras() {
	w := []float32{1}
	opt := adagrad.New(adagrad.Keras(), w)
	opt.Step([]float32{0.3})
	fmt.Printf("%.6f %.2f\n", w[0], opt.Accumulator(0)[0])
	// Output: 0.999312 0.19
}

// TF's raw kernel has no defaults, so the rate and eps are set.
func ExampleTF() {
	cfg := adagrad.TF()
	cfg.LR, cfg.Eps, cfg.InitialAccumulator = 0.1, 1e-7, 0.1
	w := []float64{1}
	adagrad.New(cfg, w).Step([]float64{0.3})
	fmt.Printf("%.6f\n", w[0])
	// Output: 0.931175
}

// Optax's guard: a parameter whose accumulator is still 0 does not move, even with
// eps = 0, where 1/√s would be infinite.
func ExampleOptax() {
	cfg := adagrad.Optax()
	cfg.LR, cfg.Eps, cfg.InitialAccumulator = 0.1, 0, 0
	w := []float32{1, 1}
	adagrad.New(cfg, w).Step([]float32{0, 0.5})
	fmt.Println(w)
	// Output: [1 0.9]
}

// A preset is a starting point: every field can still be set. Decay turns the
// accumulator into a moving average, so steps stop shrinking towards zero.
func ExampleConfig() {
	cfg := adagrad.PyTorch()
	cfg.LR = 0.1
	cfg.Decay = 0.9
	w := []float64{1}
	opt := adagrad.New(cfg, w)
	for range 100 {
		opt.Step([]float64{1})
	}
	fmt.Printf("steps %d, accumulator %.4f\n", opt.Steps(), opt.Accumulator(0)[0])
	// Output: steps 100, accumulator 1.0000
}

// New rejects what PyTorch rejects, with the reason.
func ExampleConfig_Validate() {
	cfg := adagrad.PyTorch()
	cfg.Eps = -1
	fmt.Println(cfg.Validate())
	fmt.Println(adagrad.Optax().Validate())
	// Output:
	// adagrad: Config.Eps is -1; it must be ≥ 0 (PyTorch rejects a negative eps)
	// adagrad: Config.LR is NaN (unset: a preset with no default for it leaves it NaN)
}

// A checkpoint taken mid-training and restored into a new optimizer resumes the
// run exactly: the accumulators, the step count and the configuration come back.
// SaveFile and LoadFile do the same with a file, replaced atomically.
func ExampleOptimizer_Save() {
	x := []float32{1, -2, 3}
	opt := adagrad.New(adagrad.PyTorch(), x)
	opt.Step([]float32{0.5, 0.25, -1})

	var ckpt bytes.Buffer
	if err := opt.Save(&ckpt); err != nil {
		panic(err)
	}
	resumed := adagrad.New(adagrad.Keras(), x) // any config: Load restores the saved one
	if err := resumed.Load(&ckpt); err != nil {
		panic(err)
	}
	fmt.Println(resumed.Steps(), resumed.Accumulator(0), resumed.Config().LR)

	// A checkpoint of other shapes is refused, and nothing changes.
	other := adagrad.New(adagrad.PyTorch(), make([]float32, 4))
	opt.Save(&ckpt)
	err := other.Load(&ckpt)
	fmt.Println(errors.Is(err, adagrad.ErrCheckpointMismatch), other.Steps())
	// Output:
	// 1 [0.25 0.0625 1] 0.01
	// true 0
}
