package gorgonia

import (
	"bytes"
	"math"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/adagrad-go/adagrad"
	"github.com/adagrad-go/adagrad/internal/airfoil"
)

// airfoilRows are the embedded airfoil data's rows, standardized per column: five
// features, a column of ones for the bias, and the target.
func airfoilRows(t testing.TB) (features [][]float64, target []float64) {
	var rows [][]float64
	for _, line := range strings.Split(string(bytes.TrimSpace(airfoil.Data())), "\n") {
		var r []float64
		for _, f := range strings.Split(strings.TrimSpace(line), "\t") {
			v, err := strconv.ParseFloat(f, 64)
			if err != nil {
				t.Fatal(err)
			}
			r = append(r, v)
		}
		rows = append(rows, r)
	}
	for c := range rows[0] {
		var mean, ss float64
		for _, r := range rows {
			mean += r[c]
		}
		mean /= float64(len(rows))
		for _, r := range rows {
			ss += (r[c] - mean) * (r[c] - mean)
		}
		std := ss / float64(len(rows))
		for _, r := range rows {
			r[c] = (r[c] - mean) / math.Sqrt(std)
		}
	}
	for _, r := range rows {
		features = append(features, append(append([]float64(nil), r[:5]...), 1))
		target = append(target, r[5])
	}
	return features, target
}

// mlp is a two-layer network on gorgonia's graph: X·W1, ReLU, ·W2, the mean
// squared error against Y.
type mlp struct {
	g          *G.ExprGraph
	x, y       *G.Node
	w1, w2     *G.Node
	cost       *G.Node
	vm         G.VM
	costValue  G.Value
	xVal, yVal *tensor.Dense
}

const (
	mlpBatch  = 10
	mlpHidden = 16
)

func newMLP[T float](t testing.TB, w1, w2 []T) *mlp {
	dt := dtypeFor[T]()
	m := &mlp{g: G.NewGraph()}
	m.xVal = tensor.New(tensor.Of(dt), tensor.WithShape(mlpBatch, 6))
	m.yVal = tensor.New(tensor.Of(dt), tensor.WithShape(mlpBatch, 1))
	m.x = G.NewMatrix(m.g, dt, G.WithShape(mlpBatch, 6), G.WithName("X"), G.WithValue(m.xVal))
	m.y = G.NewMatrix(m.g, dt, G.WithShape(mlpBatch, 1), G.WithName("Y"), G.WithValue(m.yVal))
	m.w1 = G.NewMatrix(m.g, dt, G.WithShape(6, mlpHidden), G.WithName("W1"),
		G.WithValue(tensor.New(tensor.WithShape(6, mlpHidden), tensor.WithBacking(append([]T(nil), w1...)))))
	m.w2 = G.NewMatrix(m.g, dt, G.WithShape(mlpHidden, 1), G.WithName("W2"),
		G.WithValue(tensor.New(tensor.WithShape(mlpHidden, 1), tensor.WithBacking(append([]T(nil), w2...)))))
	h := G.Must(G.Rectify(G.Must(G.Mul(m.x, m.w1))))
	pred := G.Must(G.Mul(h, m.w2))
	m.cost = G.Must(G.Mean(G.Must(G.Square(G.Must(G.Sub(pred, m.y))))))
	G.Read(m.cost, &m.costValue)
	if _, err := G.Grad(m.cost, m.w1, m.w2); err != nil {
		t.Fatal(err)
	}
	m.vm = G.NewTapeMachine(m.g, G.BindDualValues(m.w1, m.w2))
	return m
}

// step runs one minibatch forward and backward and steps the weights with s.
func (m *mlp) step(t testing.TB, s G.Solver, x [][]float64, y []float64, first int) float64 {
	for r := range mlpBatch {
		k := (first + r) % len(x)
		for c := range 6 {
			m.xVal.SetAt(m.cast(x[k][c]), r, c)
		}
		m.yVal.SetAt(m.cast(y[k]), r, 0)
	}
	if err := m.vm.RunAll(); err != nil {
		t.Fatal(err)
	}
	if err := s.Step(G.NodesToValueGrads(G.Nodes{m.w1, m.w2})); err != nil {
		t.Fatal(err)
	}
	m.vm.Reset()
	switch c := m.costValue.(type) {
	case *G.F32:
		return float64(*c)
	case *G.F64:
		return float64(*c)
	}
	t.Fatalf("cost is a %T", m.costValue)
	return 0
}

func (m *mlp) cast(v float64) any {
	if m.xVal.Dtype() == tensor.Float32 {
		return float32(v)
	}
	return v
}

// 200 steps of the MLP through gorgonia's TapeMachine on the airfoil data, once
// with gorgonia's AdaGradSolver and once with this Solver: every cost and every
// weight bit-identical, on every kernel path.
func TestMLPMatchesGorgonia(t *testing.T) {
	x, y := airfoilRows(t)
	eachKernel(t, func(t *testing.T) {
		t.Run("float32", func(t *testing.T) { mlpParity[float32](t, x, y) })
		t.Run("float64", func(t *testing.T) { mlpParity[float64](t, x, y) })
	})
}

func mlpParity[T float](t *testing.T, x [][]float64, y []float64) {
	rng := rand.New(rand.NewPCG(7, 7))
	w1, w2 := make([]T, 6*mlpHidden), make([]T, mlpHidden)
	for i := range w1 {
		w1[i] = T(rng.NormFloat64() * 0.4)
	}
	for i := range w2 {
		w2[i] = T(rng.NormFloat64() * 0.25)
	}
	theirs, ours := newMLP(t, w1, w2), newMLP(t, w1, w2)
	defer theirs.vm.Close()
	defer ours.vm.Close()
	cfg := adagrad.Gorgonia()
	cfg.LR = 0.001 // gorgonia's, which its solver keeps whatever it is given
	gs, s := G.NewAdaGradSolver(), NewSolver(cfg)
	var first, last float64
	for step := range 200 {
		ct := theirs.step(t, gs, x, y, step*mlpBatch)
		co := ours.step(t, s, x, y, step*mlpBatch)
		if ct != co {
			t.Fatalf("step %d: cost %v, gorgonia's %v", step, co, ct)
		}
		for _, w := range [][2]*G.Node{{theirs.w1, ours.w1}, {theirs.w2, ours.w2}} {
			a, b := elems[T](w[0].Value().(*tensor.Dense)), elems[T](w[1].Value().(*tensor.Dense))
			for j := range a {
				if !same(a[j], b[j]) {
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
