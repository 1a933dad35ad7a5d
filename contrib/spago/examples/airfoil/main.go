// Command airfoil trains a small network on the airfoil self-noise data
// (embedded) with spago's own model, autograd and losses, stepped by this
// module's strategy and by spago's adagrad from the same start, an epoch of each
// in turn, and prints each one's loss per epoch and the time its strategy took
// per step:
//
//	go run ./examples/airfoil [-epochs 5]
//
// The losses are the same bits: with adagrad.Spago() the strategy computes
// what spago's adagrad does. Each step calls the strategy on every parameter, as
// spago's optimizers.Optimizer does; its Optimize (v1.1.0) returns without
// waiting for the goroutines it starts, so the next forward pass could read
// parameters still being stepped.
package main

import (
	"flag"
	"fmt"
	"log"
	"math/rand/v2"
	"time"

	"github.com/nlpodyssey/spago/ag"
	"github.com/nlpodyssey/spago/losses"
	"github.com/nlpodyssey/spago/mat"
	"github.com/nlpodyssey/spago/nn"
	"github.com/nlpodyssey/spago/optimizers"
	spagoadagrad "github.com/nlpodyssey/spago/optimizers/adagrad"

	"github.com/adagrad-go/adagrad"
	adagradspago "github.com/adagrad-go/adagrad/contrib/spago"
	"github.com/adagrad-go/adagrad/internal/airfoil"
)

const hidden, batch = 16, 10

// net is a two-layer network: W2·ReLU(W1·x + B1) + B2.
type net struct {
	nn.Module
	W1, B1, W2, B2 *nn.Param
}

func newNet(seed uint64) *net {
	rng := rand.New(rand.NewPCG(seed, seed))
	randn := func(n int, scale float64) []float32 {
		v := make([]float32, n)
		for i := range v {
			v[i] = float32(rng.NormFloat64() * scale)
		}
		return v
	}
	return &net{
		W1: nn.NewParam(mat.NewDense[float32](mat.WithShape(hidden, 5), mat.WithBacking(randn(hidden*5, 0.4)))),
		B1: nn.NewParam(mat.NewDense[float32](mat.WithShape(hidden))),
		W2: nn.NewParam(mat.NewDense[float32](mat.WithShape(1, hidden), mat.WithBacking(randn(hidden, 0.25)))),
		B2: nn.NewParam(mat.NewDense[float32](mat.WithShape(1))),
	}
}

func (m *net) forward(x mat.Tensor) mat.Tensor {
	return ag.Add(ag.Mul(m.W2, ag.ReLU(ag.Add(ag.Mul(m.W1, x), m.B1))), m.B2)
}

func main() {
	epochs := flag.Int("epochs", 5, "passes over the data")
	flag.Parse()
	x, y := airfoil.Standardized()
	runs := []struct {
		name     string
		strategy optimizers.OptimizationStrategy
		net      *net
		in       time.Duration
	}{
		{name: "adagrad (contrib/spago)", strategy: adagradspago.New[float32](adagrad.Spago())},
		{name: "spago adagrad", strategy: spagoadagrad.New[float32](spagoadagrad.NewDefaultConfig())},
	}
	for i := range runs {
		runs[i].net = newNet(1)
	}
	steps := 0
	for epoch := 1; epoch <= *epochs; epoch++ {
		for i := range runs {
			r := &runs[i]
			var sum float64
			steps = 0
			for first := 0; first+batch <= len(x); first += batch {
				for k := first; k < first+batch; k++ {
					in := mat.NewDense[float32](mat.WithShape(5), mat.WithBacking(f32(x[k])))
					loss := losses.MSE(r.net.forward(in), mat.Scalar(float32(y[k])), true)
					if err := ag.Backward(loss); err != nil {
						log.Fatal(err)
					}
					sum += loss.Value().Item().F64()
				}
				t0 := time.Now()
				for _, p := range []*nn.Param{r.net.W1, r.net.B1, r.net.W2, r.net.B2} {
					if err := r.strategy.OptimizeParams(p); err != nil {
						log.Fatal(err)
					}
				}
				r.in += time.Since(t0)
				steps++
			}
			fmt.Printf("epoch %d, %s: loss %.6f\n", epoch, r.name, sum/float64(steps*batch))
		}
	}
	for _, r := range runs {
		fmt.Printf("%s: %.2f µs per step in the strategy\n", r.name, float64(r.in.Nanoseconds())/1e3/float64(steps**epochs))
	}
}

func f32(v []float64) []float32 {
	out := make([]float32, len(v))
	for i, f := range v {
		out[i] = float32(f)
	}
	return out
}
