package gorgonia

import (
	"bytes"
	"fmt"
	"math"
	"math/rand/v2"
	"reflect"
	"runtime"
	"strings"
	"testing"
	"unsafe"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/adagrad-go/adagrad"
	"github.com/adagrad-go/adagrad/internal/fbits"
	"github.com/adagrad-go/adagrad/internal/frameworktest"
	"github.com/adagrad-go/adagrad/kernel"
)

// pair is a value and its gradient as a model gives them to a Solver.
type pair struct{ v, g G.Value }

func (p pair) Value() G.Value         { return p.v }
func (p pair) Grad() (G.Value, error) { return p.g, nil }

type float interface{ float32 | float64 }

func dtypeFor[T float]() tensor.Dtype {
	var z T
	if unsafe.Sizeof(z) == 4 {
		return tensor.Float32
	}
	return tensor.Float64
}

// dense is a tensor of v's values in fresh memory.
func dense[T float](v []T) *tensor.Dense {
	return tensor.New(tensor.WithShape(len(v)), tensor.WithBacking(append([]T(nil), v...)))
}

// theirAccumulator is gorgonia's accumulator of value i, read from the solver's
// unexported cache.
func theirAccumulator[T float](s *G.AdaGradSolver, i int) []T {
	cache := reflect.ValueOf(s).Elem().FieldByName("cache")
	dv := cache.Index(i).Elem() // dualValue{Value; d Value}
	f := dv.FieldByName("Value")
	v := reflect.NewAt(f.Type(), unsafe.Pointer(f.UnsafeAddr())).Elem().Interface()
	return elems[T](v.(*tensor.Dense))
}

// parity steps a model of tensors of the given lengths with gorgonia's
// AdaGradSolver and with NewSolver(adagrad.Gorgonia()) from the same values and
// gradients, and requires the same bits of x and s after every step, and zeroed
// gradients.
func parity[T float](t *testing.T, lens []int, steps int, grad func(rng *rand.Rand) T) {
	rng := rand.New(rand.NewPCG(uint64(len(lens)), uint64(steps)))
	var theirs, ours []G.ValueGrad
	for _, n := range lens {
		x := make([]T, n)
		for i := range x {
			x[i] = T(rng.NormFloat64())
		}
		theirs = append(theirs, pair{dense(x), dense(make([]T, n))})
		ours = append(ours, pair{dense(x), dense(make([]T, n))})
	}
	gs := G.NewAdaGradSolver()
	s := NewSolver(adagrad.Gorgonia())
	for step := range steps {
		for i := range lens {
			tg, og := elems[T](theirs[i].(pair).g.(*tensor.Dense)), elems[T](ours[i].(pair).g.(*tensor.Dense))
			for j := range tg {
				tg[j] = grad(rng)
				og[j] = tg[j]
			}
		}
		if err := gs.Step(theirs); err != nil {
			t.Fatal(err)
		}
		if err := s.Step(ours); err != nil {
			t.Fatal(err)
		}
		for i, n := range lens {
			tx, ox := elems[T](theirs[i].(pair).v.(*tensor.Dense)), elems[T](ours[i].(pair).v.(*tensor.Dense))
			ts := theirAccumulator[T](gs, i)
			var os []T
			if o := s.Optimizer32(); o != nil {
				os = any(o.Accumulator(i)).([]T)
			} else {
				os = any(s.Optimizer64().Accumulator(i)).([]T)
			}
			og := elems[T](ours[i].(pair).g.(*tensor.Dense))
			for j := range n {
				if !fbits.Same(tx[j], ox[j]) || !fbits.Same(ts[j], os[j]) {
					t.Fatalf("step %d, tensor %d of %d, element %d: x %v (%#x) s %v, gorgonia's x %v s %v",
						step, i, n, j, ox[j], fbits.Bits(ox[j]), os[j], tx[j], ts[j])
				}
				if og[j] != 0 || math.Signbit(float64(og[j])) {
					t.Fatalf("step %d: gradient %d element %d is %v after the step, want +0", step, i, j, og[j])
				}
			}
		}
	}
}

func TestParityWithGorgonia(t *testing.T) {
	frameworktest.Parity{F32: parity[float32], F64: parity[float64]}.Ordinary(t)
}

// Gradients of ±0, denormals, ±Inf and NaN give gorgonia's bits too (NaN for NaN,
// whatever its payload).
func TestParitySpecialGradients(t *testing.T) {
	frameworktest.Parity{F32: parity[float32], F64: parity[float64]}.Special(t)
}

// gorgonia's AdaGradSolver ignores WithLearnRate (it steps at 0.001 whatever it is
// given); this Solver steps at the Config's rate.
func TestOptionsHonoured(t *testing.T) {
	x0 := []float32{1, -2, 3}
	g0 := []float32{0.5, 0.25, -1}
	step := func(s G.Solver) []float32 {
		x, g := dense(x0), dense(g0)
		if err := s.Step([]G.ValueGrad{pair{x, g}}); err != nil {
			t.Fatal(err)
		}
		return elems[float32](x)
	}
	def, with := step(G.NewAdaGradSolver()), step(G.NewAdaGradSolver(G.WithLearnRate(0.01)))
	if !reflect.DeepEqual(def, with) {
		t.Logf("gorgonia now honours WithLearnRate: %v and %v; the package doc says otherwise", def, with)
	}
	cfg := adagrad.Gorgonia()
	cfg.LR = 0.01
	ours := step(NewSolver(cfg))
	want := append([]float32(nil), x0...)
	s := make([]float32, 3)
	kernel.Apply(kernel.Form{Order: kernel.MulRecip}, want, s, append([]float32(nil), g0...), kernel.Params[float32]{LR: 0.01, Eps: 1e-8})
	if !reflect.DeepEqual(ours, want) {
		t.Fatalf("LR 0.01: %v, want %v", ours, want)
	}
	if reflect.DeepEqual(ours, def) {
		t.Fatalf("LR 0.01 stepped as gorgonia's 0.001 does: %v", ours)
	}
}

// A scalar accumulates: its second step uses s = g₁² + g₂², which gorgonia's
// solver does not keep (its every step uses g²).
func TestScalarsAccumulate(t *testing.T) {
	for _, tc := range []struct {
		name string
		v, g G.Value
	}{
		{"F32", new(G.F32), new(G.F32)},
		{"F64", new(G.F64), new(G.F64)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := adagrad.Gorgonia()
			cfg.LR = 0.1
			s := NewSolver(cfg)
			set := func(v G.Value, f float64) {
				switch v := v.(type) {
				case *G.F32:
					*v = G.F32(f)
				case *G.F64:
					*v = G.F64(f)
				}
			}
			set(tc.v, 1)
			want := []float64{1}
			acc := []float64{0}
			for _, gv := range []float64{0.5, -0.25, 2} {
				set(tc.g, gv)
				if err := s.Step([]G.ValueGrad{pair{tc.v, tc.g}}); err != nil {
					t.Fatal(err)
				}
				if g, _ := scalarOf(tc.g); g != 0 {
					t.Fatalf("gradient %v after the step, want 0", g)
				}
				if tc.name == "F32" {
					w32, s32 := []float32{float32(want[0])}, []float32{float32(acc[0])}
					kernel.Apply(kernel.Form{Order: kernel.MulRecip}, w32, s32, []float32{float32(gv)}, kernel.Params[float32]{LR: 0.1, Eps: 1e-8})
					want[0], acc[0] = float64(w32[0]), float64(s32[0])
				} else {
					kernel.Apply(kernel.Form{Order: kernel.MulRecip}, want, acc, []float64{gv}, kernel.Params[float64]{LR: 0.1, Eps: 1e-8})
				}
				if got, _ := scalarOf(tc.v); got != want[0] {
					t.Fatalf("x = %v, want %v (s = %v)", got, want[0], acc[0])
				}
			}
			var gotS float64
			if o := s.Optimizer32(); o != nil {
				gotS = float64(o.Accumulator(0)[0])
			} else {
				gotS = s.Optimizer64().Accumulator(0)[0]
			}
			if gotS != acc[0] || gotS != float64(map[string]float64{"F32": float64(float32(0.25) + float32(0.0625) + 4), "F64": 0.25 + 0.0625 + 4}[tc.name]) {
				t.Fatalf("accumulator %v, want %v", gotS, acc[0])
			}
		})
	}
}

// Everything the solver refuses is an error, never a panic, and nothing is
// written.
func TestErrors(t *testing.T) {
	model := func() []G.ValueGrad {
		return []G.ValueGrad{pair{dense([]float32{1, 2, 3}), dense([]float32{1, 1, 1})}, pair{dense([]float32{4}), dense([]float32{1})}}
	}
	bound := func() (*Solver, []G.ValueGrad) {
		m := model()
		s := NewSolver(adagrad.Gorgonia())
		if err := s.Step(m); err != nil {
			t.Fatal(err)
		}
		return s, m
	}
	view := func() *tensor.Dense {
		d := tensor.New(tensor.WithShape(2, 3), tensor.WithBacking([]float32{1, 2, 3, 4, 5, 6}))
		v, err := d.Slice(G.S(0))
		if err != nil {
			t.Fatal(err)
		}
		return v.(*tensor.Dense)
	}
	for _, tc := range []struct {
		name string
		run  func() error
		want string
	}{
		{"shorter model", func() error { s, m := bound(); return s.Step(m[:1]) }, "the model has 1 values; it had 2"},
		{"longer model", func() error { s, m := bound(); return s.Step(append(m, m[0])) }, "the model has 3 values; it had 2"},
		{"new memory", func() error {
			s, m := bound()
			m[0] = pair{dense([]float32{1, 2, 3}), m[0].(pair).g}
			return s.Step(m)
		}, "value 0's memory or length changed"},
		{"gradient length", func() error {
			s, m := bound()
			m[1] = pair{m[1].(pair).v, dense([]float32{1, 2})}
			return s.Step(m)
		}, "gradient 1 has 2 elements, its value 1"},
		{"view", func() error {
			return NewSolver(adagrad.Gorgonia()).Step([]G.ValueGrad{pair{view(), dense([]float32{1, 1, 1})}})
		}, "value 0 is a view"},
		{"view gradient", func() error {
			return NewSolver(adagrad.Gorgonia()).Step([]G.ValueGrad{pair{dense([]float32{1, 1, 1}), view()}})
		}, "gradient 0 is a view"},
		{"external memory", func() error {
			backing := make([]float32, 3)
			ext := tensor.New(tensor.Of(tensor.Float32), tensor.WithShape(3), tensor.FromMemory(uintptr(unsafe.Pointer(&backing[0])), 12))
			err := NewSolver(adagrad.Gorgonia()).Step([]G.ValueGrad{pair{ext, dense([]float32{1, 1, 1})}})
			runtime.KeepAlive(backing)
			return err
		}, "value 0's memory is external"},
		{"int tensor", func() error {
			return NewSolver(adagrad.Gorgonia()).Step([]G.ValueGrad{pair{tensor.New(tensor.WithBacking([]int{1})), tensor.New(tensor.WithBacking([]int{1}))}})
		}, "value 0 is a tensor of int"},
		{"mixed dtypes", func() error {
			m := model()
			m[1] = pair{dense([]float64{4}), dense([]float64{1})}
			return NewSolver(adagrad.Gorgonia()).Step(m)
		}, "value 1 is float64, value 0 is float32"},
		{"gradient dtype", func() error {
			m := model()
			m[1] = pair{m[1].(pair).v, dense([]float64{1})}
			return NewSolver(adagrad.Gorgonia()).Step(m)
		}, "gradient 1 is float64; the model is float32"},
		{"no gradient", func() error {
			return NewSolver(adagrad.Gorgonia()).Step([]G.ValueGrad{pair{dense([]float32{1}), nil}})
		}, "value 0 has no gradient"},
		{"empty model", func() error { return NewSolver(adagrad.Gorgonia()).Step(nil) }, "an empty model"},
		{"gradient is the value", func() error {
			x := dense([]float32{1, 2})
			return NewSolver(adagrad.Gorgonia()).Step([]G.ValueGrad{pair{x, x}})
		}, "shares memory"},
		{"save unbound", func() error { return NewSolver(adagrad.Gorgonia()).Save(new(bytes.Buffer)) }, "nothing to save"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.run()
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want one containing %q", err, tc.want)
			}
		})
	}
	// Nothing written: a refused step leaves the values and gradients as they were.
	s, m := bound()
	x0 := append([]float32(nil), elems[float32](m[0].(pair).v.(*tensor.Dense))...)
	elems[float32](m[0].(pair).g.(*tensor.Dense))[0] = 7
	m[1] = pair{m[1].(pair).v, dense([]float32{1, 2})}
	if err := s.Step(m); err == nil {
		t.Fatal("a bad gradient was accepted")
	}
	if got := elems[float32](m[0].(pair).v.(*tensor.Dense)); !reflect.DeepEqual(got, x0) || elems[float32](m[0].(pair).g.(*tensor.Dense))[0] != 7 {
		t.Fatalf("a refused step wrote: x %v (was %v)", got, x0)
	}
}

// A warm step allocates nothing.
func TestStepAllocatesNothing(t *testing.T) {
	var m []G.ValueGrad
	for _, n := range []int{1000, 17, 1} {
		m = append(m, pair{dense(make([]float32, n)), dense(make([]float32, n))})
	}
	m = append(m, pair{new(G.F32), new(G.F32)})
	s := NewSolver(adagrad.Gorgonia())
	if err := s.Step(m); err != nil {
		t.Fatal(err)
	}
	if a := testing.AllocsPerRun(50, func() { s.Step(m) }); a != 0 {
		t.Fatalf("%v allocations per warm step", a)
	}
}

// A checkpoint saved from one solver and loaded into a fresh one bound to a copy
// of the model continues with the same bits.
func TestCheckpoint(t *testing.T) {
	mk := func() []G.ValueGrad {
		return []G.ValueGrad{pair{dense([]float64{1, 2, 3}), dense([]float64{0, 0, 0})}}
	}
	setG := func(m []G.ValueGrad, g ...float64) { copy(elems[float64](m[0].(pair).g.(*tensor.Dense)), g) }
	a := NewSolver(adagrad.Gorgonia())
	ma := mk()
	setG(ma, 1, -2, 3)
	if err := a.Step(ma); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := a.Save(&buf); err != nil {
		t.Fatal(err)
	}
	b := NewSolver(adagrad.Gorgonia())
	mb := []G.ValueGrad{pair{dense(elems[float64](ma[0].(pair).v.(*tensor.Dense))), dense([]float64{0, 0, 0})}}
	if err := b.Bind(mb); err != nil {
		t.Fatal(err)
	}
	if err := b.Load(&buf); err != nil {
		t.Fatal(err)
	}
	setG(ma, 0.5, 0.5, 0.5)
	setG(mb, 0.5, 0.5, 0.5)
	a.Step(ma)
	b.Step(mb)
	if xa, xb := elems[float64](ma[0].(pair).v.(*tensor.Dense)), elems[float64](mb[0].(pair).v.(*tensor.Dense)); !reflect.DeepEqual(xa, xb) {
		t.Fatalf("after the checkpoint: %v and %v", xa, xb)
	}
}

func ExampleNewSolver() {
	x := tensor.New(tensor.WithShape(3), tensor.WithBacking([]float32{1, 2, 3}))
	g := tensor.New(tensor.WithShape(3), tensor.WithBacking([]float32{0.5, -1, 0}))
	s := NewSolver(adagrad.Gorgonia())
	if err := s.Step([]G.ValueGrad{pair{x, g}}); err != nil {
		panic(err)
	}
	fmt.Println(x.Data(), g.Data())
	// Output: [0.999 2.001 3] [0 0 0]
}
