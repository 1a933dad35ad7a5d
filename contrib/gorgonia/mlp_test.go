package gorgonia

import (
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/adagrad-go/adagrad"
	"github.com/adagrad-go/adagrad/contrib/gorgonia/internal/mlp"
	"github.com/adagrad-go/adagrad/internal/fbits"
	"github.com/adagrad-go/adagrad/internal/frameworktest"
)

// 200 steps of the MLP through gorgonia's TapeMachine on the airfoil data, once
// with gorgonia's AdaGradSolver and once with this Solver: every cost and every
// weight bit-identical, on every kernel path.
func TestMLPMatchesGorgonia(t *testing.T) {
	x, y := mlp.Data()
	frameworktest.EachKernel(t, func(t *testing.T) {
		t.Run("float32", func(t *testing.T) { mlpParity[float32](t, x, y) })
		t.Run("float64", func(t *testing.T) { mlpParity[float64](t, x, y) })
	})
}

func mlpParity[T float](t *testing.T, x [][]float64, y []float64) {
	w1, w2 := mlp.Weights[T](7)
	theirs, err := mlp.New(dtypeFor[T](), w1, w2)
	if err != nil {
		t.Fatal(err)
	}
	defer theirs.Close()
	ours, err := mlp.New(dtypeFor[T](), w1, w2)
	if err != nil {
		t.Fatal(err)
	}
	defer ours.Close()
	gs, s := G.NewAdaGradSolver(), NewSolver(adagrad.Gorgonia())
	var first, last float64
	for step := range 200 {
		ct, err := theirs.Step(gs, x, y, step*mlp.Batch)
		if err != nil {
			t.Fatal(err)
		}
		co, err := ours.Step(s, x, y, step*mlp.Batch)
		if err != nil {
			t.Fatal(err)
		}
		if ct != co {
			t.Fatalf("step %d: cost %v, gorgonia's %v", step, co, ct)
		}
		for _, w := range [][2]*G.Node{{theirs.W1, ours.W1}, {theirs.W2, ours.W2}} {
			a, b := elems[T](w[0].Value().(*tensor.Dense)), elems[T](w[1].Value().(*tensor.Dense))
			for j := range a {
				if !fbits.Same(a[j], b[j]) {
					t.Fatalf("step %d: %s[%d] = %v, gorgonia's %v", step, w[1].Name(), j, b[j], a[j])
				}
			}
		}
		if step == 0 {
			first = co
		}
		last = co
	}
	t.Logf("cost %.4f at the first step, %.4f at the 200th", first, last)
}
