// Command airfoil trains a small network on the airfoil self-noise data
// (embedded) with gorgonia's own graph, TapeMachine and training loop, stepped
// by this module's Solver and by gorgonia's AdaGradSolver from the same start,
// an epoch of each in turn, and prints each one's cost per epoch and the time
// its solver took per step:
//
//	go run ./examples/airfoil [-epochs 5]
//
// The costs are the same bits: with adagrad.Gorgonia() the Solver computes
// what gorgonia's does.
package main

import (
	"flag"
	"fmt"
	"log"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/adagrad-go/adagrad"
	adagradg "github.com/adagrad-go/adagrad/contrib/gorgonia"
	"github.com/adagrad-go/adagrad/contrib/gorgonia/internal/mlp"
)

func main() {
	epochs := flag.Int("epochs", 5, "passes over the data")
	flag.Parse()
	x, y := mlp.Data()
	var err error
	w1, w2 := mlp.Weights[float32](1)
	solvers := []struct {
		name   string
		solver G.Solver
		net    *mlp.Net
	}{
		{name: "adagrad (contrib/gorgonia)", solver: adagradg.NewSolver(adagrad.Gorgonia())},
		{name: "gorgonia AdaGradSolver", solver: G.NewAdaGradSolver()},
	}
	for i := range solvers {
		if solvers[i].net, err = mlp.New(tensor.Float32, w1, w2); err != nil {
			log.Fatal(err)
		}
		defer solvers[i].net.Close()
	}
	steps := 0
	for epoch := 1; epoch <= *epochs; epoch++ {
		for _, s := range solvers {
			var sum float64
			n := 0
			for first := 0; first+mlp.Batch <= len(x); first += mlp.Batch {
				cost, err := s.net.Step(s.solver, x, y, first)
				if err != nil {
					log.Fatal(err)
				}
				sum += cost
				n++
			}
			steps = n * epoch
			fmt.Printf("epoch %d, %s: cost %.6f\n", epoch, s.name, sum/float64(n))
		}
	}
	for _, s := range solvers {
		fmt.Printf("%s: %.2f µs per step in the solver\n", s.name, float64(s.net.InSolver.Nanoseconds())/1e3/float64(steps))
	}
}
