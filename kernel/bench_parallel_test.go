package kernel

import (
	"testing"
	"time"
	"unsafe"
)

// traffic32 is the widest traffic kernel of this build (the bench_<arch>_test.go
// files set it), nil in a purego build.
var traffic32 func(x, s, g []float32)

// coldPause is the pause of the cold kernels of BenchmarkParallel, 1 ms: tied
// to helperSpin rather than to a machine, so that the helpers have parked
// however long they spin.
const coldPause = 10 * helperSpin

// BenchmarkParallel measures UpdateParallel against Update, float32, as
// N=<n>/kernel=<k>:
//   - seq: Update on one goroutine;
//   - split: UpdateParallel with a Pool splitting from 1 element, so it always
//     splits; where it overtakes seq is where DefaultMinSplit belongs;
//   - auto: UpdateParallel as shipped;
//   - seq-cold, split-cold, auto-cold: seq, split and auto with a pause of
//     coldPause between calls, as between the steps of a training loop, in which
//     the helpers park;
//   - traffic, traffic-split: the traffic kernel (the same bytes, trivial math) on
//     one goroutine and split as UpdateParallel splits, the memory-bandwidth
//     ceilings the two are judged against.
//
// Compare with `benchstat -col /kernel`.
func BenchmarkParallel(b *testing.B) {
	sizes := []int{16 << 10, 64 << 10, 128 << 10, 256 << 10, 512 << 10, 1 << 20, 4 << 20, 16 << 20, 64 << 20}
	type kernel struct {
		name        string
		split, cold bool
		f           func(x, s, g []float32)
	}
	all := NewPool(WithMinSplit(1))
	seq := func(x, s, g []float32) { Update(x, s, g, 0.01, 1e-6) }
	split := func(x, s, g []float32) { UpdateOn(all, x, s, g, 0.01, 1e-6) }
	auto := func(x, s, g []float32) { UpdateParallel(x, s, g, 0.01, 1e-6) }
	kernels := []kernel{
		{"seq", false, false, seq},
		{"split", true, false, split},
		{"auto", false, false, auto},
		{"seq-cold", false, true, seq},
		{"split-cold", true, true, split},
		{"auto-cold", false, true, auto},
	}
	if traffic32 != nil {
		t := func(x, s, g []float32, _, _, _, _, _ float32) { traffic32(x, s, g) }
		kernels = append(kernels,
			kernel{"traffic", false, false, traffic32},
			kernel{"traffic-split", true, false, func(x, s, g []float32) { runKernel32(all, t, x, s, g, Params[float32]{}) }})
	}
	for _, n := range sizes {
		if testing.Short() && n > 1<<20 {
			continue
		}
		// One set of arrays for every kernel: the ceilings are measured on the
		// very memory (pages, alignment) the kernels run on.
		x, s, g := benchInputs[float32](n)
		for _, k := range kernels {
			b.Run("N="+sizeName(n)+"/kernel="+k.name, func(b *testing.B) {
				b.SetBytes(int64(5 * n * int(unsafe.Sizeof(x[0]))))
				for b.Loop() {
					if k.cold {
						b.StopTimer()
						time.Sleep(coldPause)
						b.StartTimer()
					}
					k.f(x, s, g)
				}
				b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds()/1e9, "Gelem/s")
			})
		}
	}
}
