package kernel

import (
	"fmt"
	"testing"

	"github.com/adagrad-go/adagrad/ref"
)

// smallSizes are the tensor lengths of BenchmarkSmall: a scalar, each side of
// every vector width, and the 64 of the small-tensor target.
var smallSizes = []int{1, 3, 4, 7, 8, 15, 16, 31, 32, 63, 64}

// BenchmarkSmall holds every path to the reference on tensors of at most 64
// elements, where a call's fixed cost outweighs its loop: Update (d2l's form,
// whose reference is the tight loop ref.Update) and Apply with PyTorch's form,
// float32 and float64, as op=<op>/N=<n>/impl=<path>. Compare the paths with
// `benchstat -col /impl`.
func BenchmarkSmall(b *testing.B) {
	saved := Implementation()
	defer Use(saved)
	pytorch := Form{EpsOutside: true, Order: MulDiv, WeightDecay: WeightDecayFMA, FusedAccumulator: true}
	p32 := Params[float32]{LR: 0.01, Eps: 1e-6, WeightDecay: 1e-4}
	p64 := Params[float64]{LR: 0.01, Eps: 1e-6, WeightDecay: 1e-4}
	type op struct {
		name          string
		ref, kernel   func(x, s, g []float32)
		ref64, kern64 func(x, s, g []float64)
	}
	ops := []op{
		{"Update",
			func(x, s, g []float32) { ref.Update(x, s, g, 0.01, 1e-6) },
			func(x, s, g []float32) { Update(x, s, g, 0.01, 1e-6) },
			func(x, s, g []float64) { ref.Update(x, s, g, 0.01, 1e-6) },
			func(x, s, g []float64) { Update(x, s, g, 0.01, 1e-6) }},
		{"ApplyPyTorch",
			func(x, s, g []float32) { ref.Apply(pytorch, x, s, g, p32) },
			func(x, s, g []float32) { Apply(pytorch, x, s, g, p32) },
			func(x, s, g []float64) { ref.Apply(pytorch, x, s, g, p64) },
			func(x, s, g []float64) { Apply(pytorch, x, s, g, p64) }},
	}
	for _, o := range ops {
		for _, n := range smallSizes {
			x, s, g := benchInputs[float32](n)
			x64, s64, g64 := benchInputs[float64](n)
			b.Run(fmt.Sprintf("op=%s32/N=%d/impl=ref", o.name, n), func(b *testing.B) {
				for b.Loop() {
					o.ref(x, s, g)
				}
			})
			b.Run(fmt.Sprintf("op=%s64/N=%d/impl=ref", o.name, n), func(b *testing.B) {
				for b.Loop() {
					o.ref64(x64, s64, g64)
				}
			})
			for _, impl := range Implementations() {
				if err := Use(impl); err != nil {
					b.Fatal(err)
				}
				b.Run(fmt.Sprintf("op=%s32/N=%d/impl=%s", o.name, n, impl), func(b *testing.B) {
					for b.Loop() {
						o.kernel(x, s, g)
					}
				})
				b.Run(fmt.Sprintf("op=%s64/N=%d/impl=%s", o.name, n, impl), func(b *testing.B) {
					for b.Loop() {
						o.kern64(x64, s64, g64)
					}
				})
			}
		}
	}
}
