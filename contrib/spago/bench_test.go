package spago

import (
	"testing"

	"github.com/nlpodyssey/spago/mat"
	"github.com/nlpodyssey/spago/optimizers"
	spagoadagrad "github.com/nlpodyssey/spago/optimizers/adagrad"

	"github.com/adagrad-go/adagrad"
	"github.com/adagrad-go/adagrad/internal/frameworktest"
)

// BenchmarkStep is one float32 parameter of N elements stepped by spago's adagrad
// and by this strategy (adagrad.Spago(), the same bits), as
// N=<size>/strategy=<name>: `benchstat -col /strategy` gives the ratio in one
// run. Bytes are the update's (x, m and g read, x and m written). The gradient
// is set outside the timer (spago's AccGrad copies it).
func BenchmarkStep(b *testing.B) {
	for _, n := range frameworktest.BenchSizes {
		x0, g0 := frameworktest.Inputs(n)
		grad := mat.NewDense[float32](mat.WithShape(n), mat.WithBacking(g0))
		for _, st := range []struct {
			name string
			s    optimizers.OptimizationStrategy
		}{
			{"spago", spagoadagrad.New[float32](spagoadagrad.NewDefaultConfig())},
			{"adagrad", New[float32](adagrad.Spago())},
		} {
			b.Run("N="+frameworktest.SizeName(n)+"/strategy="+st.name, func(b *testing.B) {
				p := param(x0)
				b.SetBytes(int64(20 * n))
				b.ReportAllocs()
				for b.Loop() {
					b.StopTimer()
					p.AccGrad(grad)
					b.StartTimer()
					if err := st.s.OptimizeParams(p); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}
