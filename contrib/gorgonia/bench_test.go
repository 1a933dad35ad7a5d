package gorgonia

import (
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/adagrad-go/adagrad"
	"github.com/adagrad-go/adagrad/internal/frameworktest"
)

// BenchmarkStep is one float32 tensor of N elements stepped by gorgonia's
// AdaGradSolver and by this Solver (adagrad.Gorgonia(), the same bits), as
// N=<size>/solver=<name>: `benchstat -col /solver` gives the ratio in one run.
// Bytes are the update's (x, s and g read, x and s written; the zeroing of g is
// not counted); gorgonia's step moves more.
func BenchmarkStep(b *testing.B) {
	for _, n := range frameworktest.BenchSizes {
		x0, g0 := frameworktest.Inputs(n)
		for _, sv := range []struct {
			name string
			new  func() G.Solver
		}{
			{"gorgonia", func() G.Solver { return G.NewAdaGradSolver() }},
			{"adagrad", func() G.Solver { return NewSolver(adagrad.Gorgonia()) }},
		} {
			b.Run("N="+frameworktest.SizeName(n)+"/solver="+sv.name, func(b *testing.B) {
				x := tensor.New(tensor.WithShape(n), tensor.WithBacking(append([]float32(nil), x0...)))
				g := tensor.New(tensor.WithShape(n), tensor.WithBacking(make([]float32, n)))
				model := []G.ValueGrad{pair{x, g}}
				s := sv.new()
				gs := elems[float32](g)
				b.SetBytes(int64(20 * n))
				b.ReportAllocs()
				for b.Loop() {
					b.StopTimer()
					copy(gs, g0) // the solvers zero the gradient
					b.StartTimer()
					if err := s.Step(model); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}
