//go:build !purego

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

// BenchmarkRowsTraffic is BenchmarkRows/dup=seq with the AVX2 traffic kernel on
// each indexed row, prefetching as the sparse step does: the same bytes with
// trivial math, the bandwidth bound of the sparse step.
func BenchmarkRowsTraffic(b *testing.B) {
	if !cpuid.CPU.Supports(cpuid.AVX, cpuid.AVX2) {
		b.Skip("needs AVX2")
	}
	benchRows(b, func(x, s []float32, dim int, rows []int32, g []float32, dup Duplicates, sc *Scratch) {
		if dup != Sequential {
			b.Skip("the bound is for Sequential")
		}
		for k, r := range rows {
			if k+prefetchAhead < len(rows) {
				prefetchRow(x, s, int(rows[k+prefetchAhead]), dim)
			}
			lo := int(r) * dim
			asm.Traffic32AVX2(x[lo:lo+dim], s[lo:lo+dim], g[k*dim:(k+1)*dim])
		}
	})
}
