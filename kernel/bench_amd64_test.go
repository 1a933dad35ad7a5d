//go:build gc && !purego

package kernel

import (
	"testing"

	"github.com/klauspost/cpuid/v2"

	"github.com/adagrad-go/adagrad/kernel/asm"
)

// BenchmarkTraffic32 measures the memory-traffic ceiling: the same three reads and
// two writes per element as Update, with trivial math, on each vector extension.
// Update at large N is judged against it (`benchstat -col /impl` puts them side by
// side when both are in one file).
func BenchmarkTraffic32(b *testing.B) {
	kernels := []struct {
		name string
		ok   bool
		f    func(x, s, g []float32)
	}{
		{"traffic-avx2", cpuid.CPU.Supports(cpuid.AVX, cpuid.AVX2), asm.Traffic32AVX2},
		{"traffic-avx512", cpuid.CPU.Supports(cpuid.AVX, cpuid.AVX512F), asm.Traffic32AVX512},
	}
	for _, k := range kernels {
		if !k.ok {
			continue
		}
		benchSized(b, k.name, func(x, s, g []float32) { k.f(x, s, g) })
	}
}

// The traffic kernel of BenchmarkRows: the same grouping, prefetching and gradient
// sums, with the AVX2 traffic kernel in place of each row's step.
func init() {
	if !cpuid.CPU.Supports(cpuid.AVX, cpuid.AVX2) {
		return
	}
	traffic32 = asm.Traffic32AVX2
	if cpuid.CPU.Supports(cpuid.AVX512F) {
		traffic32 = asm.Traffic32AVX512
	}
	rowsTraffic = func(x, s []float32, dim int, rows []int32, g []float32, dup Duplicates, sc *Scratch) {
		if dup == DuplicatesSummed {
			coalesced(sc, x, s, dim, rows, g, trafficStep{}, 0, 1)
			return
		}
		sequential(x, s, dim, rows, g, trafficStep{}, 0, 1)
	}
}

// trafficStep is the stepper of the traffic kernel.
type trafficStep struct{}

func (trafficStep) step(x, s, g []float32)  { asm.Traffic32AVX2(x, s, g) }
func (trafficStep) add(dst, a, b []float32) { asm.Add32AVX2(dst, a, b) }
