// Package mlp is the two-layer network of the gorgonia module's tests and
// example: the airfoil data (embedded), X·W1, ReLU, ·W2, the mean squared error,
// on gorgonia's graph and TapeMachine.
package mlp

import (
	"fmt"
	"math/rand/v2"
	"time"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/adagrad-go/adagrad/internal/airfoil"
)

// Batch and Hidden are the minibatch size and the hidden layer's width.
const (
	Batch  = 10
	Hidden = 16
)

// Data is the airfoil data, standardized as d2l does (airfoil.Standardized):
// five features and a column of ones for the bias, and the target.
func Data() (features [][]float64, target []float64) {
	x, y := airfoil.Standardized()
	for _, r := range x {
		features = append(features, append(append([]float64(nil), r...), 1))
	}
	return features, y
}

// Weights are initial weights for W1 (6×Hidden) and W2 (Hidden×1), seeded.
func Weights[T float32 | float64](seed uint64) (w1, w2 []T) {
	rng := rand.New(rand.NewPCG(seed, seed))
	w1, w2 = make([]T, 6*Hidden), make([]T, Hidden)
	for i := range w1 {
		w1[i] = T(rng.NormFloat64() * 0.4)
	}
	for i := range w2 {
		w2[i] = T(rng.NormFloat64() * 0.25)
	}
	return w1, w2
}

// Net is the network, its graph and its machine.
type Net struct {
	W1, W2 *G.Node
	// InSolver is the time spent in the solver's Step so far.
	InSolver   time.Duration
	vm         G.VM
	costValue  G.Value
	xVal, yVal *tensor.Dense
}

// New builds the network in dtype dt (tensor.Float32 or Float64) from copies of
// the weights.
func New[T float32 | float64](dt tensor.Dtype, w1, w2 []T) (*Net, error) {
	g := G.NewGraph()
	n := &Net{
		xVal: tensor.New(tensor.Of(dt), tensor.WithShape(Batch, 6)),
		yVal: tensor.New(tensor.Of(dt), tensor.WithShape(Batch, 1)),
	}
	x := G.NewMatrix(g, dt, G.WithShape(Batch, 6), G.WithName("X"), G.WithValue(n.xVal))
	y := G.NewMatrix(g, dt, G.WithShape(Batch, 1), G.WithName("Y"), G.WithValue(n.yVal))
	n.W1 = G.NewMatrix(g, dt, G.WithShape(6, Hidden), G.WithName("W1"),
		G.WithValue(tensor.New(tensor.WithShape(6, Hidden), tensor.WithBacking(append([]T(nil), w1...)))))
	n.W2 = G.NewMatrix(g, dt, G.WithShape(Hidden, 1), G.WithName("W2"),
		G.WithValue(tensor.New(tensor.WithShape(Hidden, 1), tensor.WithBacking(append([]T(nil), w2...)))))
	h, err := G.Rectify(G.Must(G.Mul(x, n.W1)))
	if err != nil {
		return nil, err
	}
	cost := G.Must(G.Mean(G.Must(G.Square(G.Must(G.Sub(G.Must(G.Mul(h, n.W2)), y))))))
	G.Read(cost, &n.costValue)
	if _, err := G.Grad(cost, n.W1, n.W2); err != nil {
		return nil, err
	}
	n.vm = G.NewTapeMachine(g, G.BindDualValues(n.W1, n.W2))
	return n, nil
}

// Step runs the minibatch of rows first, first+1, … (wrapping) forward and
// backward, steps the weights with s and returns the minibatch's cost.
func (n *Net) Step(s G.Solver, x [][]float64, y []float64, first int) (float64, error) {
	f32 := n.xVal.Dtype() == tensor.Float32
	for r := range Batch {
		k := (first + r) % len(x)
		for c := range 6 {
			if f32 {
				n.xVal.SetAt(float32(x[k][c]), r, c)
			} else {
				n.xVal.SetAt(x[k][c], r, c)
			}
		}
		if f32 {
			n.yVal.SetAt(float32(y[k]), r, 0)
		} else {
			n.yVal.SetAt(y[k], r, 0)
		}
	}
	if err := n.vm.RunAll(); err != nil {
		return 0, err
	}
	t0 := time.Now()
	err := s.Step(G.NodesToValueGrads(G.Nodes{n.W1, n.W2}))
	n.InSolver += time.Since(t0)
	if err != nil {
		return 0, err
	}
	n.vm.Reset()
	switch c := n.costValue.(type) {
	case *G.F32:
		return float64(*c), nil
	case *G.F64:
		return float64(*c), nil
	}
	return 0, fmt.Errorf("the cost is a %T", n.costValue)
}

// Close releases the machine.
func (n *Net) Close() error { return n.vm.Close() }
