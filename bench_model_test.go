package adagrad

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/adagrad-go/adagrad/internal/benchmodel"
	"github.com/adagrad-go/adagrad/kernel"
)

// BenchmarkModel steps the 1000 tensors of benchmodel.Sizes (14.5M float32
// elements, PyTorch's preset) as mode=<m>/parallel=<p>:
//   - tensors: New, Step(grads...) with one kernel call per tensor;
//   - arena: NewArena, Step() with one call over the whole arena;
//   - single: NewArena over one tensor of the same total size, the throughput the
//     arena is judged against.
//
// Gelem/s counts the model's elements. Compare with `benchstat -col /mode`.
func BenchmarkModel(b *testing.B) {
	sizes := benchmodel.Sizes()
	total := 0
	for _, n := range sizes {
		total += n
	}
	rng := rand.New(rand.NewPCG(1, 2))
	fill := func(ts [][]float32) {
		for _, t := range ts {
			for i := range t {
				t[i] = float32(rng.NormFloat64())
			}
		}
	}
	for _, parallel := range []bool{false, true} {
		cfg := PyTorch()
		cfg.Parallel = poolIf(parallel, kernel.DefaultMinSplit)
		tensors := make([][]float32, len(sizes))
		grads := make([][]float32, len(sizes))
		for i, n := range sizes {
			tensors[i], grads[i] = make([]float32, n), make([]float32, n)
		}
		fill(tensors)
		fill(grads)
		perTensor := New(cfg, tensors...)
		arena := NewArena[float32](cfg, sizes...)
		fill(arena.Params())
		fill(arena.Grads())
		single := NewArena[float32](cfg, total)
		fill(single.Params())
		fill(single.Grads())
		for _, m := range []struct {
			name string
			step func()
		}{
			{"tensors", func() { perTensor.Step(grads...) }},
			{"arena", func() { arena.Step() }},
			{"single", func() { single.Step() }},
		} {
			b.Run(fmt.Sprintf("mode=%s/parallel=%v", m.name, parallel), func(b *testing.B) {
				b.SetBytes(int64(20 * total))
				for b.Loop() {
					m.step()
				}
				b.ReportMetric(float64(total)*float64(b.N)/b.Elapsed().Seconds()/1e9, "Gelem/s")
			})
		}
	}
}
