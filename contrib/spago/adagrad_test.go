package spago

import (
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/nlpodyssey/spago/ag"
	"github.com/nlpodyssey/spago/losses"
	"github.com/nlpodyssey/spago/mat"
	"github.com/nlpodyssey/spago/mat/float"
	"github.com/nlpodyssey/spago/nn"
	"github.com/nlpodyssey/spago/optimizers"
	spagoadagrad "github.com/nlpodyssey/spago/optimizers/adagrad"

	"github.com/adagrad-go/adagrad"
	"github.com/adagrad-go/adagrad/internal/fbits"
	"github.com/adagrad-go/adagrad/internal/frameworktest"
)

func param[T float.DType](v []T) *nn.Param {
	return nn.NewParam(mat.NewDense[T](mat.WithShape(len(v)), mat.WithBacking(append([]T(nil), v...))))
}

// optimize is spago's optimizers.Optimizer.Optimize without its goroutines: in
// spago v1.1.0 Optimize returns without waiting for the goroutines it started
// (there is no wg.Wait on success), so the parameters it returns may not be
// stepped yet, and a late error is sent on a closed channel.
func optimize(s optimizers.OptimizationStrategy, params []*nn.Param) error {
	for _, p := range params {
		if p.HasGrad() {
			if err := s.OptimizeParams(p); err != nil {
				return err
			}
		}
	}
	return nil
}

// parity steps parameters of the given lengths with spago's adagrad and with
// New[T](adagrad.Spago()) from the same values and gradients, as spago's
// Optimizer calls the strategies, and requires the same bits of x and of the state's M
// after every step, and the gradients gone.
func parity[T float.DType](t *testing.T, lens []int, steps int, grad func(rng *rand.Rand) T) {
	rng := rand.New(rand.NewPCG(uint64(len(lens)), uint64(steps)))
	var theirs, ours []*nn.Param
	for _, n := range lens {
		x := make([]T, n)
		for i := range x {
			x[i] = T(rng.NormFloat64())
		}
		theirs, ours = append(theirs, param(x)), append(ours, param(x))
	}
	to, oo := spagoadagrad.New[T](spagoadagrad.NewDefaultConfig()), New[T](adagrad.Spago())
	for step := range steps {
		for i, n := range lens {
			g := make([]T, n)
			for j := range g {
				g[j] = grad(rng)
			}
			theirs[i].AccGrad(mat.NewDense[T](mat.WithShape(n), mat.WithBacking(append([]T(nil), g...))))
			ours[i].AccGrad(mat.NewDense[T](mat.WithShape(n), mat.WithBacking(g)))
		}
		if err := optimize(to, theirs); err != nil {
			t.Fatal(err)
		}
		if err := optimize(oo, ours); err != nil {
			t.Fatal(err)
		}
		for i, n := range lens {
			tx, ox := mat.Data[T](theirs[i].Value()), mat.Data[T](ours[i].Value())
			ts, os := mat.Data[T](theirs[i].State.(*spagoadagrad.State).M), mat.Data[T](ours[i].State.(*spagoadagrad.State).M)
			for j := range n {
				if !fbits.Same(tx[j], ox[j]) || !fbits.Same(ts[j], os[j]) {
					t.Fatalf("step %d, parameter %d of %d, element %d: x %v m %v, spago's x %v m %v", step, i, n, j, ox[j], os[j], tx[j], ts[j])
				}
			}
			if ours[i].HasGrad() {
				t.Fatalf("step %d: parameter %d keeps its gradient", step, i)
			}
		}
	}
}

func TestParityWithSpago(t *testing.T) {
	frameworktest.Parity{F32: parity[float32], F64: parity[float64]}.Ordinary(t)
}

// Gradients of ±0, denormals, ±Inf and NaN give spago's bits too (NaN for NaN,
// whatever its payload).
func TestParitySpecialGradients(t *testing.T) {
	frameworktest.Parity{F32: parity[float32], F64: parity[float64]}.Special(t)
}

// linear is a linear model y = W·x + B, spago's way.
type linear struct {
	nn.Module
	W *nn.Param
	B *nn.Param
}

// A short training run through spago's autograd and its strategies, once with spago's
// adagrad and once with this strategy: every loss and every weight the same bits.
func TestTrainingMatchesSpago(t *testing.T) {
	frameworktest.EachKernel(t, func(t *testing.T) {
		rng := rand.New(rand.NewPCG(3, 3))
		w0 := []float64{rng.NormFloat64(), rng.NormFloat64(), rng.NormFloat64()}
		mk := func() *linear {
			return &linear{W: nn.NewParam(mat.NewDense[float64](mat.WithShape(1, 3), mat.WithBacking(append([]float64(nil), w0...)))),
				B: nn.NewParam(mat.NewDense[float64](mat.WithShape(1)))}
		}
		a, b := mk(), mk()
		oa, ob := spagoadagrad.New[float64](spagoadagrad.NewDefaultConfig()), New[float64](adagrad.Spago())
		var first, last float64
		for step := range 200 {
			x := []float64{rng.NormFloat64(), rng.NormFloat64(), rng.NormFloat64()}
			y := 0.5*x[0] - 2*x[1] + 0.25*x[2] + 1
			loss := func(m *linear) float64 {
				out := ag.Add(ag.Mul(m.W, mat.NewDense[float64](mat.WithShape(3), mat.WithBacking(append([]float64(nil), x...)))), m.B)
				l := losses.MSE(out, mat.Scalar(y), true)
				if err := ag.Backward(l); err != nil {
					t.Fatal(err)
				}
				return l.Value().Item().F64()
			}
			la, lb := loss(a), loss(b)
			if err := optimize(oa, []*nn.Param{a.W, a.B}); err != nil {
				t.Fatal(err)
			}
			if err := optimize(ob, []*nn.Param{b.W, b.B}); err != nil {
				t.Fatal(err)
			}
			if la != lb {
				t.Fatalf("step %d: loss %v, spago's %v", step, lb, la)
			}
			for _, p := range [][2]*nn.Param{{a.W, b.W}, {a.B, b.B}} {
				pa, pb := mat.Data[float64](p[0].Value()), mat.Data[float64](p[1].Value())
				for j := range pa {
					if !fbits.Same(pa[j], pb[j]) {
						t.Fatalf("step %d: weight %d = %v, spago's %v", step, j, pb[j], pa[j])
					}
				}
			}
			if step == 0 {
				first = lb
			}
			last = lb
		}
		t.Logf("loss %.4f at the first step, %.4f at the 200th", first, last)
	})
}

// Everything refused is an error, with nothing written.
func TestErrors(t *testing.T) {
	s := New[float32](adagrad.Spago())
	p := param([]float32{1, 2})
	if err := s.OptimizeParams(p); err == nil || !strings.Contains(err.Error(), "no gradient") {
		t.Errorf("no gradient: %v", err)
	}
	p64 := param([]float64{1, 2})
	p64.AccGrad(mat.NewDense[float64](mat.WithShape(2), mat.WithBacking([]float64{1, 1})))
	if err := s.OptimizeParams(p64); err == nil || !strings.Contains(err.Error(), "*mat.Dense[float32]") {
		t.Errorf("float64 parameter: %v", err)
	}
	p.AccGrad(mat.NewDense[float32](mat.WithShape(2), mat.WithBacking([]float32{1, 1})))
	p.State = "something else"
	if err := s.OptimizeParams(p); err == nil || !strings.Contains(err.Error(), "param.State is a string") {
		t.Errorf("foreign state: %v", err)
	}
	p.State = &spagoadagrad.State{M: mat.NewDense[float32](mat.WithShape(3))}
	if err := s.OptimizeParams(p); err == nil || !strings.Contains(err.Error(), "accumulator has 3 elements") {
		t.Errorf("short state: %v", err)
	}
	if x := mat.Data[float32](p.Value()); x[0] != 1 || x[1] != 2 || !p.HasGrad() {
		t.Errorf("a refused step wrote: x %v, gradient kept %v", x, p.HasGrad())
	}
	defer func() {
		if r := recover(); r == nil || !strings.Contains(r.(string), "LRDecay") {
			t.Errorf("LRDecay: %v", r)
		}
	}()
	cfg := adagrad.Spago()
	cfg.LRDecay = 0.1
	New[float32](cfg)
}

// A step allocates nothing of its own: a step after spago's AccGrad makes as many
// allocations as AccGrad and ZeroGrad alone.
func TestStepAllocatesNothing(t *testing.T) {
	p := param(make([]float32, 1000))
	grad := mat.NewDense[float32](mat.WithShape(1000))
	s := New[float32](adagrad.Spago())
	p.AccGrad(grad)
	if err := s.OptimizeParams(p); err != nil {
		t.Fatal(err)
	}
	step := testing.AllocsPerRun(50, func() { p.AccGrad(grad); s.OptimizeParams(p) })
	base := testing.AllocsPerRun(50, func() { p.AccGrad(grad); p.ZeroGrad() })
	if step != base {
		t.Fatalf("%v allocations per step with AccGrad, %v for AccGrad and ZeroGrad alone", step, base)
	}
}

// The state is spago's own: spago's adagrad and this strategy continue each
// other's steps, bit for bit.
func TestStateIsSpagos(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 9))
	x := make([]float32, 37)
	for i := range x {
		x[i] = float32(rng.NormFloat64())
	}
	a, b := param(x), param(x)
	theirs, ours := spagoadagrad.New[float32](spagoadagrad.NewDefaultConfig()), New[float32](adagrad.Spago())
	for step := range 6 {
		g := make([]float32, len(x))
		for i := range g {
			g[i] = float32(rng.NormFloat64())
		}
		a.AccGrad(mat.NewDense[float32](mat.WithShape(len(g)), mat.WithBacking(append([]float32(nil), g...))))
		b.AccGrad(mat.NewDense[float32](mat.WithShape(len(g)), mat.WithBacking(g)))
		// a: spago's steps all along; b: ours for the first three, then spago's.
		sb := optimizers.OptimizationStrategy(ours)
		if step >= 3 {
			sb = theirs
		}
		if err := theirs.OptimizeParams(a); err != nil {
			t.Fatal(err)
		}
		if err := sb.OptimizeParams(b); err != nil {
			t.Fatal(err)
		}
	}
	xa, xb := mat.Data[float32](a.Value()), mat.Data[float32](b.Value())
	for i := range xa {
		if !fbits.Same(xa[i], xb[i]) {
			t.Fatalf("element %d: %v after ours then spago's, %v after spago's alone", i, xb[i], xa[i])
		}
	}
}
