package kernel

import (
	"math"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"sync/atomic"
	"testing"
	"time"
)

// parallelScenario is what a user's program does around its parallel calls.
type parallelScenario struct {
	name string
	// setup starts what runs beside the calls for the whole benchmark and
	// returns what stops it.
	setup func(b *testing.B) (stop func())
	// between runs before each call, untimed.
	between func()
	// calls bounds the calls of a round (the pauses cost wall time).
	calls int
}

// parallelScenarios are BenchmarkParallelScenarios' situations:
//   - hot: calls back to back, as the tensors of a model one after another;
//   - cold: a pause of coldPause before each call, as between training steps,
//     in which the helpers park;
//   - spin-goroutine: another goroutine of the program spins throughout;
//   - spin-process: another process spins on a core throughout;
//   - training-loop: before each call, the other cores do unrelated work for
//     2 ms (a goroutine per other core spins that long) and the caller waits
//     for it, as a step's data loading or logging would.
func parallelScenarios() []parallelScenario {
	none := func(*testing.B) func() { return func() {} }
	return []parallelScenario{
		{name: "hot", setup: none, between: func() {}},
		{name: "cold", setup: none, between: func() { time.Sleep(coldPause) }, calls: 16},
		{name: "spin-goroutine", setup: spinGoroutine, between: func() {}},
		{name: "spin-process", setup: spinProcess, between: func() {}},
		{name: "training-loop", setup: none, between: otherWork, calls: 16},
	}
}

// spinGoroutine starts a goroutine that spins until stopped.
func spinGoroutine(*testing.B) func() {
	var stop atomic.Bool
	done := make(chan struct{})
	go func() {
		defer close(done)
		for !stop.Load() {
		}
	}()
	return func() { stop.Store(true); <-done }
}

// spinProcess starts this test binary again as a process that spins (see
// TestSpinProcess) until killed.
func spinProcess(b *testing.B) func() {
	cmd := exec.Command(os.Args[0], "-test.run=^TestSpinProcess$")
	cmd.Env = append(os.Environ(), "ADAGRAD_SPIN=1")
	if err := cmd.Start(); err != nil {
		b.Skipf("no spinning process: %v", err)
	}
	time.Sleep(20 * time.Millisecond) // let it reach its loop
	return func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }
}

// TestSpinProcess is spinProcess's child: it spins while ADAGRAD_SPIN is set and
// passes at once otherwise.
func TestSpinProcess(t *testing.T) {
	if os.Getenv("ADAGRAD_SPIN") != "1" {
		return
	}
	for {
	}
}

// otherWork keeps every other processor busy for 2 ms and returns when it is
// done.
func otherWork() {
	others := runtime.GOMAXPROCS(0) - 1
	done := make(chan struct{}, others)
	for range others {
		go func() {
			for t0 := time.Now(); time.Since(t0) < 2*time.Millisecond; {
			}
			done <- struct{}{}
		}()
	}
	for range others {
		<-done
	}
}

// BenchmarkParallelScenarios measures UpdateParallel (the default Pool) against
// Update, float32, in each of parallelScenarios, as
// scenario=<name>/N=<size>: both run in alternating rounds (about 4M elements
// of calls each, fewer where the scenario pauses; which runs first alternates
// too), and "speedup" is the fastest
// round of Update over the fastest of UpdateParallel, robust to a noisy
// machine; each call alone is timed, not the pauses. The hot scenario also runs
// the traffic kernel split as UpdateParallel splits (the two-thread memory
// ceiling, same memory, same run) and reports UpdateParallel's rate over it as
// "vs-traffic".
//
// The spinning and the other work hold cores the helpers would use: run it with
// the machine otherwise idle.
func BenchmarkParallelScenarios(b *testing.B) {
	sizes := []int{16 << 10, 64 << 10, 256 << 10, 1 << 20, 4 << 20, 16 << 20, 64 << 20}
	all := NewPool(WithMinSplit(1))
	for _, sc := range parallelScenarios() {
		for _, n := range sizes {
			if testing.Short() && n > 1<<20 {
				continue
			}
			b.Run("scenario="+sc.name+"/N="+sizeName(n), func(b *testing.B) {
				x, s, g := benchInputs[float32](n)
				stop := sc.setup(b)
				defer stop()
				calls := max(1, 4<<20/n)
				if sc.calls > 0 {
					calls = min(calls, sc.calls)
				}
				kernels := []func(){
					func() { Update(x, s, g, 0.01, 1e-6) },
					func() { UpdateParallel(x, s, g, 0.01, 1e-6) },
				}
				if sc.name == "hot" && traffic32 != nil {
					t := func(x, s, g []float32, _, _, _, _, _ float32) { traffic32(x, s, g) }
					kernels = append(kernels, func() { runKernel32(all, t, x, s, g, Params[float32]{}) })
				}
				best := make([]time.Duration, len(kernels))
				for i := range best {
					best[i] = math.MaxInt64
				}
				for round := 0; b.Loop(); round++ {
					// The order turns from round to round: in the cold
					// scenarios the kernel that runs second in a round ran up
					// to 12% faster (the same kernel in both places).
					for j := range kernels {
						i := (j + round) % len(kernels)
						k := kernels[i]
						var total time.Duration
						for range calls {
							sc.between()
							t0 := time.Now()
							k()
							total += time.Since(t0)
						}
						best[i] = min(best[i], total)
					}
				}
				rate := func(i int) float64 { return float64(n*calls) / best[i].Seconds() / 1e9 }
				b.ReportMetric(rate(1)/rate(0), "speedup")
				b.ReportMetric(rate(0), "seq-Gelem/s")
				b.ReportMetric(rate(1), "parallel-Gelem/s")
				if len(kernels) > 2 {
					b.ReportMetric(rate(1)/rate(2), "vs-traffic")
				}
			})
		}
	}
}

// BenchmarkClaim measures the chunks' claims alone, as workers=<w>/regions=<r>:
// w goroutines (GOMAXPROCS w, above the core count too) claim every chunk of a
// call of 1024 chunks per worker and run nothing, through r cursors: one per
// worker as the calls have them, or a single one. ns/op is per claim. A chunk of
// 32 KiB of float32 takes about 4 µs to update, so a claim that costs a hundred
// nanoseconds on a contended line is what bounds a single cursor to a few dozen
// workers (DESIGN.md).
func BenchmarkClaim(b *testing.B) {
	for _, w := range []int{1, 2, 8, 32, 64} {
		for _, single := range []bool{false, true} {
			regions := min(w, maxRegions)
			if single {
				regions = 1
			}
			b.Run("workers="+strconv.Itoa(w)+"/regions="+strconv.Itoa(regions), func(b *testing.B) {
				defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(w))
				var c work
				total := 1024 * w
				claims := 0
				for b.Loop() {
					c.publish(total, regions)
					done := make(chan int, w)
					for k := range w {
						go func() {
							n := 0
							for r := k % regions; ; n++ {
								_, next, ok := c.claim(r)
								if !ok {
									break
								}
								r = next
							}
							done <- n
						}()
					}
					for range w {
						claims += <-done
					}
				}
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(claims), "ns/claim")
			})
		}
	}
}
