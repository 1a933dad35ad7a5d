package adagrad

import (
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/adagrad-go/adagrad/kernel"
)

func TestValidate(t *testing.T) {
	for _, tc := range []struct {
		edit func(*Config)
		want string
	}{
		{func(c *Config) {}, ""},
		{func(c *Config) { c.LR = -0.1 }, "Config.LR is -0.1; it must be ≥ 0 (PyTorch rejects a negative lr)"},
		{func(c *Config) { c.LR = math.NaN() }, "Config.LR is NaN (unset: a preset with no default for it leaves it NaN)"},
		{func(c *Config) { c.LR = math.Inf(1) }, "Config.LR is +Inf"},
		{func(c *Config) { c.Eps = -1e-10 }, "a negative eps"},
		{func(c *Config) { c.WeightDecay = -1 }, "a negative weight_decay"},
		{func(c *Config) { c.InitialAccumulator = -1 }, "a negative initial_accumulator_value"},
		{func(c *Config) { c.LRDecay = -1 }, "a negative lr_decay"},
		{func(c *Config) { c.Decay = 1 }, "Config.Decay is 1; it must be in [0, 1)"},
		{func(c *Config) { c.Decay = math.NaN() }, "Config.Decay is NaN"},
		{func(c *Config) { c.Form.Guard = true }, "the s > 0 guard needs the Recip order, not MulDiv"},
		{func(c *Config) { c.Workers = -1 }, "Config.Workers is -1; it must be ≥ 0"},
		{func(c *Config) { c.Workers, c.Parallel = 2, kernel.NewPool() }, "Config.Workers (2) and Config.Parallel are both set"},
	} {
		cfg := PyTorch()
		tc.edit(&cfg)
		err := cfg.Validate()
		if tc.want == "" {
			if err != nil {
				t.Errorf("PyTorch(): %v", err)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("got %v, want it to say %q", err, tc.want)
		}
		func() {
			defer func() {
				if r := recover(); r == nil || r.(string) != err.Error() {
					t.Errorf("New panicked with %v, want %q", r, err)
				}
			}()
			New(cfg, []float32{1})
		}()
	}
	for name, preset := range map[string]func() Config{"D2L": D2L, "TF": TF, "Optax": Optax} {
		if preset().Validate() == nil {
			t.Errorf("%s() has no default rate but validated", name)
		}
	}
	if err := Keras().Validate(); err != nil {
		t.Errorf("Keras(): %v", err)
	}
}

func TestStepChecksBeforeWriting(t *testing.T) {
	a, b := []float32{1, 2}, []float32{3}
	opt := New(PyTorch(), a, b)
	for _, tc := range []struct {
		grads [][]float32
		want  string
	}{
		{[][]float32{{1, 1}}, "adagrad: Step got 1 gradients for 2 parameters"},
		{[][]float32{{1, 1}, {1, 1}}, "adagrad: gradient 1 has 2 elements, parameter 1 has 1"},
	} {
		func() {
			defer func() {
				if r := recover(); r != tc.want {
					t.Errorf("panic %v, want %q", r, tc.want)
				}
			}()
			opt.Step(tc.grads...)
		}()
	}
	if a[0] != 1 || b[0] != 3 || opt.Steps() != 0 || opt.Accumulator(0)[0] != 0 {
		t.Fatal("a failed Step changed the state")
	}
}

// TestMaximizeIsNegatedGradient: maximizing with g is minimizing with −g, to the bit,
// for every weight-decay rounding and accumulator form, although Step folds the sign
// into the rate and the decay instead of negating g.
func TestMaximizeIsNegatedGradient(t *testing.T) {
	rng := rand.New(rand.NewPCG(8, 8))
	for _, form := range []kernel.Form{
		{EpsOutside: true, Order: kernel.MulDiv, WeightDecay: kernel.WeightDecayFMA, FusedAccumulator: true},
		{Order: kernel.DivMul, WeightDecay: kernel.WeightDecayAdd},
		{Order: kernel.Recip, Guard: true},
	} {
		cfg := PyTorch()
		cfg.Form, cfg.WeightDecay, cfg.LRDecay, cfg.Decay = form, 0.05, 0.1, 0.3
		up, down := make([]float32, 999), make([]float32, 999)
		for i := range up {
			up[i] = float32(rng.NormFloat64())
		}
		copy(down, up)
		maxCfg := cfg
		maxCfg.Maximize = true
		a, b := New(maxCfg, up), New(cfg, down)
		for step := 0; step < 10; step++ {
			g, neg := make([]float32, len(up)), make([]float32, len(up))
			for i := range g {
				g[i] = float32(rng.NormFloat64())
				neg[i] = -g[i]
			}
			a.Step(g)
			b.Step(neg)
		}
		for i := range up {
			if math.Float32bits(up[i]) != math.Float32bits(down[i]) || a.Accumulator(0)[i] != b.Accumulator(0)[i] {
				t.Fatalf("%v: element %d: maximize gives %v, minimizing −g gives %v", form, i, up[i], down[i])
			}
		}
	}
}

// TestRateSchedule checks the learning rate of each step against PyTorch's formula.
func TestRateSchedule(t *testing.T) {
	cfg := PyTorch()
	cfg.LR, cfg.LRDecay = 0.3, 0.25
	opt := New(cfg, []float64{0})
	for step := 1; step <= 5; step++ {
		opt.steps = step
		if got, want := opt.rate(), 0.3/(1+float64(step-1)*0.25); got != want {
			t.Errorf("step %d: rate %v, want %v", step, got, want)
		}
	}
}

// Config.Workers makes a Pool of that many goroutines, and the steps are the
// same bits as on one; 0 and 1 make none.
func TestWorkers(t *testing.T) {
	for _, w := range []int{0, 1, 2, 3} {
		cfg := PyTorch()
		cfg.Workers = w
		x := make([]float32, 300_000)
		for i := range x {
			x[i] = float32(i%97) * 0.01
		}
		ref := slices.Clone(x)
		o, one := New(cfg, x), New(PyTorch(), ref)
		if got := o.pool.Workers(); w > 1 && got != w || w <= 1 && o.pool != nil {
			t.Fatalf("Workers %d: pool %v with %d workers", w, o.pool, got)
		}
		g := make([]float32, len(x))
		for step := range 3 {
			for i := range g {
				g[i] = float32((i*7+step)%13) - 6
			}
			o.Step(g)
			one.Step(g)
		}
		for i := range x {
			if math.Float32bits(x[i]) != math.Float32bits(ref[i]) {
				t.Fatalf("Workers %d: x[%d] = %v, one goroutine %v", w, i, x[i], ref[i])
			}
		}
	}
}

// StepArgs gives the form and the scalars Step runs: one kernel.Apply with them
// matches an Optimizer's step, bits and all, with weight decay, Maximize and
// LRDecay at step 3.
func TestStepArgs(t *testing.T) {
	cfg := PyTorch()
	cfg.WeightDecay, cfg.Maximize, cfg.LRDecay = 0.01, true, 0.1
	x, g := []float32{1, -2, 3}, []float32{0.5, 0.25, -4}
	o := New(cfg, append([]float32(nil), x...))
	want := x
	s := make([]float32, len(x))
	for step := 1; step <= 3; step++ {
		o.Step(g)
		f, p := StepArgs[float32](cfg, step)
		kernel.Apply(f, want, s, g, p)
	}
	if got := o.Params()[0]; !slices.Equal(got, want) || !slices.Equal(o.Accumulator(0), s) {
		t.Fatalf("Step: x %v s %v; StepArgs: x %v s %v", got, o.Accumulator(0), want, s)
	}
}
