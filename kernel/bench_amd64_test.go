//go:build gc && !purego

package kernel

import (
	"math"
	"testing"
	"time"

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
	rowsTraffic = func(workers int, x, s []float32, dim int, rows []int32, g []float32, dup Duplicates, sc *Scratch) {
		parallel(workers, dup, x, s, dim, rows, g, trafficStep{}, sc)
	}
}

// trafficStep is the stepper of the traffic kernel.
type trafficStep struct{}

func (trafficStep) step(x, s, g []float32)  { asm.Traffic32AVX2(x, s, g) }
func (trafficStep) add(dst, a, b []float32) { asm.Add32AVX2(dst, a, b) }

// BenchmarkHybrid runs each preset's form in float32 on the avx512 path, whose
// kernels share the root and the division between the divider and FMAs, and on
// avx512div, the same kernels on the divider alone, at 1K and 16K elements, as
// N=<size>/form=<name>/impl=<name>: `benchstat -col /impl` gives the hybrid
// kernels' speed-up in one run. Bytes are those moved (x, s, g read; x, s
// written).
func BenchmarkHybrid(b *testing.B) {
	if !cpuid.CPU.Supports(cpuid.AVX, cpuid.AVX512F) {
		b.Skip("no AVX-512")
	}
	p := Params[float32]{LR: 0.01, Eps: 1e-7, WeightDecay: 1e-4, Decay: 0.9, Gain: 0.1}
	var paths []*impl
	for _, m := range impls {
		if m.name == "avx512div" || m.name == "avx512" {
			paths = append(paths, m)
		}
	}
	for _, n := range []int{1 << 10, 16 << 10} {
		x, s, g := benchInputs[float32](n)
		for _, pf := range presetForms {
			id := pf.form.ID()
			for _, m := range paths {
				b.Run("N="+sizeName(n)+"/form="+pf.name+"/impl="+m.name, func(b *testing.B) {
					b.SetBytes(int64(20 * n))
					for b.Loop() {
						apply32(m, id, x, s, g, p.LR, p.Eps, p.WeightDecay, p.Decay, p.Gain)
					}
					b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds()/1e9, "Gelem/s")
				})
			}
		}
	}
}

// BenchmarkHybridSpeedup measures what BenchmarkHybrid does as one ratio per
// form, size (1K and 16K in cache, 256K and 4M beyond it, where memory bounds
// both), width (w=32, w=64) and path pair (isa=avx512: avx512div against
// avx512; isa=avx2: avx2div against avx2, float32 only), robust to a noisy
// machine: the two kernels alternate in rounds of about 4M elements, and the
// metric "speedup" is the fastest divider round over the fastest hybrid round
// (b.N counts the rounds of each). Both speeds are reported too.
func BenchmarkHybridSpeedup(b *testing.B) {
	byName := map[string]*impl{}
	for _, m := range impls {
		if m.supported() {
			byName[m.name] = m
		}
	}
	for _, isa := range []string{"avx2", "avx512"} {
		div, hyb := byName[isa+"div"], byName[isa]
		if div == nil || hyb == nil {
			continue
		}
		for _, n := range []int{1 << 10, 16 << 10, 256 << 10, 4 << 20} {
			for _, pf := range presetForms {
				id := pf.form.ID()
				p := Params[float64]{LR: 0.01, Eps: 1e-7, WeightDecay: 1e-4, Decay: 0.9, Gain: 0.1}
				b.Run("N="+sizeName(n)+"/form="+pf.name+"/w=32/isa="+isa, func(b *testing.B) {
					x, s, g := benchInputs[float32](n)
					speedup(b, n, div, hyb, func(m *impl) {
						apply32(m, id, x, s, g, float32(p.LR), float32(p.Eps), float32(p.WeightDecay), float32(p.Decay), float32(p.Gain))
					})
				})
				if isa == "avx2" {
					continue
				}
				b.Run("N="+sizeName(n)+"/form="+pf.name+"/w=64/isa="+isa, func(b *testing.B) {
					x, s, g := benchInputs[float64](n)
					speedup(b, n, div, hyb, func(m *impl) {
						apply64(m, id, x, s, g, p.LR, p.Eps, p.WeightDecay, p.Decay, p.Gain)
					})
				})
			}
		}
	}
}

// speedup runs call on div and hyb in alternating rounds of about 4M elements
// of n and reports the ratio of their fastest rounds.
func speedup(b *testing.B, n int, div, hyb *impl, call func(m *impl)) {
	reps := 4 << 20 / n
	best := map[*impl]time.Duration{div: math.MaxInt64, hyb: math.MaxInt64}
	for b.Loop() {
		for _, m := range []*impl{div, hyb} {
			t0 := time.Now()
			for range reps {
				call(m)
			}
			best[m] = min(best[m], time.Since(t0))
		}
	}
	rate := func(m *impl) float64 { return float64(n*reps) / best[m].Seconds() / 1e9 }
	b.ReportMetric(rate(hyb)/rate(div), "speedup")
	b.ReportMetric(rate(div), "divider-Gelem/s")
	b.ReportMetric(rate(hyb), "hybrid-Gelem/s")
}
