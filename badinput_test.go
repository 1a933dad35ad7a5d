package adagrad

// The bad-input table of the root package: Config.Validate on every preset with
// NaN, ±Inf and negative hyperparameters, a Decay outside [0, 1) and options that
// do not go together; New and NewArena on the same configurations and on bad
// sizes; Step with the wrong number of gradients or lengths. Each row asserts the
// exact error or panic message and that nothing changed: the parameters, the
// accumulators, the arena's gradients, the gradients passed and Steps().

import (
	"fmt"
	"math"
	"slices"
	"testing"

	"github.com/adagrad-go/adagrad/internal/fbits"
	"github.com/adagrad-go/adagrad/internal/outcome"
	"github.com/adagrad-go/adagrad/kernel"
)

// badPresets are the presets, with the rate (and TF's eps) set where the preset
// leaves it to the caller.
func badPresets() []struct {
	name string
	cfg  Config
} {
	var out []struct {
		name string
		cfg  Config
	}
	for _, p := range []struct {
		name   string
		preset func() Config
	}{{"D2L", D2L}, {"PyTorch", PyTorch}, {"Keras", Keras}, {"TF", TF}, {"Optax", Optax}} {
		c := p.preset()
		if math.IsNaN(c.LR) {
			c.LR = 0.05
		}
		if math.IsNaN(c.Eps) {
			c.Eps = 1e-7
		}
		out = append(out, struct {
			name string
			cfg  Config
		}{p.name, c})
	}
	return out
}

// badConfigRow is one configuration and the exact error Validate gives for it
// ("" for none).
type badConfigRow struct {
	name string
	edit func(*Config)
	want string
}

// badWant32 is New's and NewArena's panic for float32 tensors, by row name, where
// it differs from Validate's: a value that overflows float32.
var badWant32 = map[string]string{}

func badConfigRows() []badConfigRow {
	var rows []badConfigRow
	fields := []struct {
		name, torch string
		set         func(*Config, float64)
	}{
		{"LR", "lr", func(c *Config, v float64) { c.LR = v }},
		{"LRDecay", "lr_decay", func(c *Config, v float64) { c.LRDecay = v }},
		{"WeightDecay", "weight_decay", func(c *Config, v float64) { c.WeightDecay = v }},
		{"InitialAccumulator", "initial_accumulator_value", func(c *Config, v float64) { c.InitialAccumulator = v }},
		{"Eps", "eps", func(c *Config, v float64) { c.Eps = v }},
	}
	for _, f := range fields {
		for _, v := range []struct {
			v    float64
			want string // with %[1]s for the field and %[2]s for PyTorch's name
		}{
			{math.NaN(), "adagrad: Config.%[1]s is NaN (unset: a preset with no default for it leaves it NaN)"},
			{math.Inf(1), "adagrad: Config.%[1]s is +Inf"},
			{math.Inf(-1), "adagrad: Config.%[1]s is -Inf"},
			{-1, "adagrad: Config.%[1]s is -1; it must be ≥ 0 (PyTorch rejects a negative %[2]s)"},
			{-math.SmallestNonzeroFloat64, "adagrad: Config.%[1]s is -5e-324; it must be ≥ 0 (PyTorch rejects a negative %[2]s)"},
			{-math.MaxFloat64, "adagrad: Config.%[1]s is -1.7976931348623157e+308; it must be ≥ 0 (PyTorch rejects a negative %[2]s)"},
			{0, ""},
			{math.Copysign(0, -1), ""},
			{math.SmallestNonzeroFloat64, ""},
			{math.MaxFloat32, ""},
			{math.MaxFloat64, ""},
		} {
			want := ""
			if v.want != "" {
				want = fmt.Sprintf(v.want, f.name, f.torch)
			}
			set, val := f.set, v.v
			name := fmt.Sprintf("%s=%v", f.name, val)
			rows = append(rows, badConfigRow{name, func(c *Config) { set(c, val) }, want})
			if val == math.MaxFloat64 {
				badWant32[name] = fmt.Sprintf("adagrad: Config.%s is 1.7976931348623157e+308, which overflows float32", f.name)
			}
		}
	}
	for _, v := range []struct {
		v    float64
		want string
	}{
		{math.NaN(), "NaN"}, {math.Inf(1), "+Inf"}, {math.Inf(-1), "-Inf"}, {1, "1"}, {1.5, "1.5"}, {-0.5, "-0.5"},
		{-math.SmallestNonzeroFloat64, "-5e-324"},
		{0, ""}, {math.Copysign(0, -1), ""}, {0.9, ""}, {math.Nextafter(1, 0), ""}, {math.SmallestNonzeroFloat64, ""},
	} {
		want := ""
		if v.want != "" {
			want = "adagrad: Config.Decay is " + v.want + "; it must be in [0, 1) (0 is plain Adagrad)"
		}
		val := v.v
		rows = append(rows, badConfigRow{fmt.Sprintf("Decay=%v", val), func(c *Config) { c.Decay = val }, want})
	}
	const formDecay = "adagrad: Config.Form.Decay is set but Config.Decay is 0; set Config.Decay to ρ in (0, 1) instead"
	rows = append(rows,
		// Options that do not go together.
		badConfigRow{"Form.Order 5", func(c *Config) { c.Form.Order = 5 }, "adagrad: Config.Form: invalid form: unknown step order 5"},
		badConfigRow{"Form.WeightDecay 3", func(c *Config) { c.Form.WeightDecay = 3 }, "adagrad: Config.Form: invalid form: unknown weight decay kind 3"},
		badConfigRow{"Guard with DivMul", func(c *Config) { c.Form.Order, c.Form.Guard = kernel.DivMul, true },
			"adagrad: Config.Form: invalid form: the s > 0 guard needs the Recip order, not DivMul"},
		badConfigRow{"Guard with MulDiv", func(c *Config) { c.Form.Order, c.Form.Guard = kernel.MulDiv, true },
			"adagrad: Config.Form: invalid form: the s > 0 guard needs the Recip order, not MulDiv"},
		badConfigRow{"Form.Decay without Decay", func(c *Config) { c.Form.Decay, c.Decay = true, 0 }, formDecay},
		badConfigRow{"Form.Decay with Decay -0", func(c *Config) { c.Form.Decay, c.Decay = true, math.Copysign(0, -1) }, formDecay},
		badConfigRow{"Form.Decay with Decay 0.9", func(c *Config) { c.Form.Decay, c.Decay = true, 0.9 }, ""},
		badConfigRow{"Guard with Recip", func(c *Config) { c.Form.Order, c.Form.Guard = kernel.Recip, true }, ""},
		badConfigRow{"every flag and option at once", func(c *Config) {
			c.Maximize, c.TorchForeach, c.Parallel, c.Decay, c.WeightDecay, c.LRDecay = true, true, kernel.DefaultPool(), 0.5, 0.1, 0.1
			c.Form.FusedAccumulator, c.Form.EpsOutside, c.Form.WeightDecay = true, true, kernel.WeightDecayFMA
		}, ""},
		// The first problem is named, in the documented order.
		badConfigRow{"LR and Eps NaN", func(c *Config) { c.LR, c.Eps = math.NaN(), math.NaN() }, "adagrad: Config.LR is NaN (unset: a preset with no default for it leaves it NaN)"},
		badConfigRow{"Eps -1 and LR +Inf", func(c *Config) { c.LR, c.Eps = math.Inf(1), -1 }, "adagrad: Config.LR is +Inf"},
		badConfigRow{"InitialAccumulator -1 and Eps NaN", func(c *Config) { c.InitialAccumulator, c.Eps = -1, math.NaN() },
			"adagrad: Config.InitialAccumulator is -1; it must be ≥ 0 (PyTorch rejects a negative initial_accumulator_value)"},
		badConfigRow{"Decay 2 and Eps -Inf", func(c *Config) { c.Decay, c.Eps = 2, math.Inf(-1) }, "adagrad: Config.Eps is -Inf"},
		badConfigRow{"Decay 2 and a bad form", func(c *Config) { c.Decay, c.Form.Order = 2, 9 },
			"adagrad: Config.Decay is 2; it must be in [0, 1) (0 is plain Adagrad)"},
		badConfigRow{"Form.Decay without Decay, and a bad form", func(c *Config) { c.Form.Decay, c.Form.Order = true, 9 }, formDecay},
	)
	return rows
}

// TestBadInputConfig: Validate's exact error for every preset and row; New and
// NewArena, both widths, panic with exactly that message and read nothing they
// were given into a changed state; a valid configuration makes an optimizer.
func TestBadInputConfig(t *testing.T) {
	for _, p := range badPresets() {
		for _, r := range badConfigRows() {
			t.Run(p.name+"/"+r.name, func(t *testing.T) {
				cfg := p.cfg
				r.edit(&cfg)
				err := cfg.Validate()
				switch {
				case r.want == "" && err != nil:
					t.Fatalf("Validate() = %q, want nil", err)
				case r.want != "" && (err == nil || err.Error() != r.want):
					t.Fatalf("Validate() = %v\nwant         %q", err, r.want)
				}
				x32, x64 := []float32{1, -2, 3}, []float64{1, -2, 3}
				want32, ok := badWant32[r.name]
				if !ok {
					want32 = r.want
				}
				for name, call := range map[string]func(){
					"New[float32]":      func() { New(cfg, x32, nil) },
					"New[float64]":      func() { New(cfg, []float64{}, x64) },
					"NewArena[float32]": func() { NewArena[float32](cfg, 3, 0) },
					"NewArena[float64]": func() { NewArena[float64](cfg) },
				} {
					want := r.want
					if name == "New[float32]" || name == "NewArena[float32]" {
						want = want32
					}
					if got := outcome.Panic(call); got != want {
						t.Errorf("%s panicked with %q, want %q", name, got, want)
					}
				}
				if !slices.Equal(x32, []float32{1, -2, 3}) || !slices.Equal(x64, []float64{1, -2, 3}) {
					t.Fatal("New wrote the parameters")
				}
			})
		}
	}
	// The presets as they come: those without a default rate (or eps) say so.
	for _, c := range []struct {
		name string
		cfg  Config
		want string
	}{
		{"D2L()", D2L(), "adagrad: Config.LR is NaN (unset: a preset with no default for it leaves it NaN)"},
		{"TF()", TF(), "adagrad: Config.LR is NaN (unset: a preset with no default for it leaves it NaN)"},
		{"TF() with LR", func() Config { c := TF(); c.LR = 0.1; return c }(), "adagrad: Config.Eps is NaN (unset: a preset with no default for it leaves it NaN)"},
		{"Optax()", Optax(), "adagrad: Config.LR is NaN (unset: a preset with no default for it leaves it NaN)"},
		{"PyTorch()", PyTorch(), ""},
		{"Keras()", Keras(), ""},
		{"Config{}", Config{}, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			err := c.cfg.Validate()
			if c.want == "" && err != nil || c.want != "" && (err == nil || err.Error() != c.want) {
				t.Fatalf("Validate() = %v, want %q", err, c.want)
			}
			if got := outcome.Panic(func() { New[float32](c.cfg) }); got != c.want {
				t.Fatalf("New panicked with %q, want %q", got, c.want)
			}
		})
	}
}

// TestBadInputNewArena: a negative size panics before anything is allocated, the
// configuration checked first; zero sizes and no sizes are tensors of nothing.
func TestBadInputNewArena(t *testing.T) {
	cfg := PyTorch()
	bad := PyTorch()
	bad.Eps = -1
	for _, c := range []struct {
		name  string
		cfg   Config
		sizes []int
		want  string
	}{
		{"size -1", cfg, []int{3, -1}, "adagrad: NewArena: size -1 of tensor 1 is negative"},
		{"size MinInt", cfg, []int{math.MinInt}, fmt.Sprintf("adagrad: NewArena: size %d of tensor 0 is negative", math.MinInt)},
		{"negative size after a large one", cfg, []int{1 << 10, 5, -7}, "adagrad: NewArena: size -7 of tensor 2 is negative"},
		{"bad config and a negative size: the config is named", bad, []int{-1},
			"adagrad: Config.Eps is -1; it must be ≥ 0 (PyTorch rejects a negative eps)"},
		{"no sizes", cfg, nil, ""},
		{"zero sizes", cfg, []int{0, 0, 0}, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			for name, call := range map[string]func(){
				"float32": func() { checkEmptyArena(t, NewArena[float32](c.cfg, c.sizes...), c.sizes) },
				"float64": func() { checkEmptyArena(t, NewArena[float64](c.cfg, c.sizes...), c.sizes) },
			} {
				if got := outcome.Panic(call); got != c.want {
					t.Errorf("%s: panicked with %q, want %q", name, got, c.want)
				}
			}
		})
	}
}

// checkEmptyArena checks an arena of empty tensors: one view each, of length 0,
// and a Step of it changes nothing but the count.
func checkEmptyArena[T float32 | float64](t *testing.T, o *Optimizer[T], sizes []int) {
	t.Helper()
	if len(o.Params()) != len(sizes) || len(o.Grads()) != len(sizes) {
		t.Fatalf("%d params and %d grads for %d sizes", len(o.Params()), len(o.Grads()), len(sizes))
	}
	o.Step()
	o.Step(o.Grads()...)
	if o.Steps() != 2 {
		t.Fatalf("Steps() = %d after two steps", o.Steps())
	}
}

// badState is a deep copy of an optimizer's state, as bits.
type badState struct {
	params, sums, grads [][]uint64
	steps               int
}

func bitsOf[T float32 | float64](ts [][]T) [][]uint64 {
	out := make([][]uint64, len(ts))
	for i, t := range ts {
		out[i] = make([]uint64, len(t))
		for j, v := range t {
			out[i][j] = fbits.Bits(v)
		}
	}
	return out
}

func stateBits[T float32 | float64](o *Optimizer[T]) badState {
	sums := make([][]T, len(o.Params()))
	for i := range sums {
		sums[i] = o.Accumulator(i)
	}
	return badState{params: bitsOf(o.Params()), sums: bitsOf(sums), grads: bitsOf(o.Grads()), steps: o.Steps()}
}

// diff says how two states differ, or "" when they are the same bits.
func (a badState) diff(b badState) string {
	if a.steps != b.steps {
		return fmt.Sprintf("Steps() went from %d to %d", a.steps, b.steps)
	}
	for _, c := range []struct {
		what string
		x, y [][]uint64
	}{{"parameter", a.params, b.params}, {"accumulator", a.sums, b.sums}, {"arena gradient", a.grads, b.grads}} {
		for i := range c.x {
			for j := range c.x[i] {
				if c.x[i][j] != c.y[i][j] {
					return fmt.Sprintf("%s %d element %d went from %#x to %#x", c.what, i, j, c.x[i][j], c.y[i][j])
				}
			}
		}
	}
	return ""
}

// badStepRow is a call of Step and its documented outcome: the exact panic
// message, or "" for an accepted step.
type badStepRow[T float32 | float64] struct {
	name     string
	arena    bool // only for an arena optimizer
	notArena bool // only for an optimizer made by New
	grads    func(o *Optimizer[T]) [][]T
	want     string
}

// The optimizers of the Step rows have three tensors, of 3, 1 and 0 elements.
var badSizes = []int{3, 1, 0}

func badGrads[T float32 | float64](lens ...int) [][]T {
	out := make([][]T, len(lens))
	for i, n := range lens {
		if n < 0 {
			continue // nil
		}
		out[i] = make([]T, n)
		for j := range out[i] {
			out[i][j] = T(0.25 * float64(j+1+i))
		}
	}
	return out
}

func badStepRows[T float32 | float64](kernelName string) []badStepRow[T] {
	fixed := func(lens ...int) func(*Optimizer[T]) [][]T {
		return func(*Optimizer[T]) [][]T { return badGrads[T](lens...) }
	}
	return []badStepRow[T]{
		{name: "no gradients", notArena: true, grads: fixed(), want: "adagrad: Step got 0 gradients for 3 parameters"},
		{name: "no gradients: the arena's own step", arena: true, grads: fixed()},
		{name: "one gradient", grads: fixed(3), want: "adagrad: Step got 1 gradients for 3 parameters"},
		{name: "two gradients", grads: fixed(3, 1), want: "adagrad: Step got 2 gradients for 3 parameters"},
		{name: "four gradients", grads: fixed(3, 1, 0, 0), want: "adagrad: Step got 4 gradients for 3 parameters"},
		{name: "first gradient nil", grads: fixed(-1, 1, 0), want: "adagrad: gradient 0 has 0 elements, parameter 0 has 3"},
		{name: "first gradient one short", grads: fixed(2, 1, 0), want: "adagrad: gradient 0 has 2 elements, parameter 0 has 3"},
		{name: "middle gradient one long", grads: fixed(3, 2, 0), want: "adagrad: gradient 1 has 2 elements, parameter 1 has 1"},
		{name: "last gradient for an empty tensor", grads: fixed(3, 1, 1), want: "adagrad: gradient 2 has 1 elements, parameter 2 has 0"},
		{name: "every gradient wrong", grads: fixed(1, 3, 5), want: "adagrad: gradient 0 has 1 elements, parameter 0 has 3"},
		{name: "nil for the empty tensor", grads: fixed(3, 1, -1)},
		{name: "empty for the empty tensor", grads: fixed(3, 1, 0)},
		{name: "the arena's own gradients", arena: true, grads: func(o *Optimizer[T]) [][]T { return o.Grads() }},
		// Gradients that share memory with the state, checked before anything is
		// written.
		{name: "a gradient that is its parameter",
			grads: func(o *Optimizer[T]) [][]T { g := badGrads[T](3, 1, 0); g[1] = o.Params()[1]; return g },
			want:  "adagrad: gradient 1 shares memory with parameter 1"},
		{name: "a gradient that is its accumulator",
			grads: func(o *Optimizer[T]) [][]T { g := badGrads[T](3, 1, 0); g[0] = o.Accumulator(0); return g },
			want:  "adagrad: gradient 0 shares memory with the accumulator of parameter 0"},
		{name: "a gradient inside another tensor's parameter", want: "adagrad: gradient 1 shares memory with parameter 0",
			grads: func(o *Optimizer[T]) [][]T { g := badGrads[T](3, 1, 0); g[1] = o.Params()[0][2:3]; return g }},
	}
}

// TestBadInputStep: a rejected Step panics with the exact message and leaves
// everything as it was; an accepted one steps. Both widths, New and NewArena, with
// and without Config.Parallel, after a first good step.
func TestBadInputStep(t *testing.T) {
	t.Run("float32", testBadStep[float32])
	t.Run("float64", testBadStep[float64])
}

func testBadStep[T float32 | float64](t *testing.T) {
	var zero T
	for _, parallel := range []bool{false, true} {
		cfg := PyTorch()
		cfg.WeightDecay, cfg.InitialAccumulator, cfg.Parallel = 0.01, 0.1, poolIf(parallel, 1) // so that the calls split
		name := "kernel.Apply"
		if parallel {
			name = "kernel.ApplyOn"
		}
		if _, ok := any(zero).(float64); ok {
			name += "64"
		}
		for _, arena := range []bool{false, true} {
			newOpt := func() *Optimizer[T] {
				if arena {
					o := NewArena[T](cfg, badSizes...)
					for i, p := range o.Params() {
						for j := range p {
							p[j] = T(float64(j) - float64(i))
						}
					}
					return o
				}
				return New(cfg, []T{0, 1, 2}, []T{-1}, nil)
			}
			for _, r := range badStepRows[T](name) {
				if r.arena && !arena || r.notArena && arena {
					continue
				}
				t.Run(fmt.Sprintf("parallel=%v/arena=%v/%s", parallel, arena, r.name), func(t *testing.T) {
					o := newOpt()
					o.Step(badGrads[T](3, 1, 0)...) // a first step, so that the state is not the initial one
					grads := r.grads(o)
					given := bitsOf(grads)
					before := stateBits(o)
					msg := outcome.Panic(func() { o.Step(grads...) })
					after := stateBits(o)
					problem := ""
					switch {
					case r.want == "" && msg != "":
						problem = fmt.Sprintf("panic %q, want none", msg)
					case r.want == "":
						if after.steps != before.steps+1 {
							problem = fmt.Sprintf("Steps() went from %d to %d on an accepted step", before.steps, after.steps)
						}
					case msg == "":
						problem = fmt.Sprintf("no panic, want %q", r.want)
					case msg != r.want:
						problem = fmt.Sprintf("panic %q\nwant  %q", msg, r.want)
					default:
						problem = before.diff(after)
					}
					if problem == "" && !slices.EqualFunc(given, bitsOf(grads), slices.Equal) {
						problem = "the gradients passed were written"
					}
					if problem != "" {
						t.Fatal(problem)
					}
				})
			}
		}
	}
}

// TestBadInputNew: New keeps any number of tensors, nil and empty ones included,
// and never writes them; tensors that share memory are refused.
func TestBadInputNew(t *testing.T) {
	for _, c := range []struct {
		name   string
		params func() [][]float32
		want   string
	}{
		{name: "no tensors", params: func() [][]float32 { return nil }},
		{name: "nil and empty tensors", params: func() [][]float32 { return [][]float32{nil, {}, nil} }},
		{name: "the same tensor twice", params: func() [][]float32 { w := []float32{1, 2}; return [][]float32{w, w} },
			want: "adagrad: New: parameters 0 and 1 share memory"},
		{name: "overlapping tensors", params: func() [][]float32 { w := []float32{1, 2, 3}; return [][]float32{nil, w[:2], w[1:]} },
			want: "adagrad: New: parameters 1 and 2 share memory"},
		{name: "adjacent tensors of one array", params: func() [][]float32 { w := []float32{1, 2, 3}; return [][]float32{w[1:], w[:1]} }},
	} {
		t.Run(c.name, func(t *testing.T) {
			params := c.params()
			given := bitsOf(params)
			var o *Optimizer[float32]
			msg := outcome.Panic(func() { o = New(PyTorch(), params...) })
			problem := ""
			switch {
			case msg != c.want:
				problem = fmt.Sprintf("panic %q, want %q", msg, c.want)
			case !slices.EqualFunc(given, bitsOf(params), slices.Equal):
				problem = "New wrote the tensors"
			case o != nil && c.want == "":
				grads := make([][]float32, len(params))
				for i, p := range params {
					grads[i] = make([]float32, len(p))
				}
				o.Step(grads...)
				if o.Steps() != 1 || len(o.Params()) != len(params) {
					problem = fmt.Sprintf("Steps() = %d, %d params", o.Steps(), len(o.Params()))
				}
			}
			if problem != "" {
				t.Fatal(problem)
			}
		})
	}
}
