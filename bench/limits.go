package main

import (
	"flag"
	"fmt"
	"io"
	"math"
	"runtime"
	"slices"
	"sync"
	"time"

	"github.com/klauspost/cpuid/v2"
)

// ceilingKernel is one kernel of `bench limits`; f is nil when this build or CPU
// has none, and name then says why.
type ceilingKernel struct {
	name string
	f    func(x, s, g []float32)
}

// ceilings are the kernels of `bench limits` on this build and CPU.
type ceilings struct {
	traffic, sqrtDiv, sqrtDivFMA, rsqrtMul ceilingKernel
}

// limits prints this machine's ceilings in G elements/s per size, on one thread
// and on GOMAXPROCS threads:
//   - memory traffic: the traffic kernel (the three reads and two writes per
//     element of an update, trivial math) at sizes, each thread on its own
//     cache-line-aligned share of the arrays;
//   - exact compute: y = g/√s (one square root and one division per element, what
//     an exact update cannot avoid) at l1 sizes, which stay in L1, on the divider
//     and, where the path has them, with the hybrid kernels' FMA sequences alone
//     (their ceiling on the FMA ports: the hybrid kernels run both at once);
//   - approximate compute: y = g·rsqrt(s) with the hardware estimate, in L1.
//
// For the compute ceilings each thread runs on its own copy of the slices.
func limits(w io.Writer, sizes, l1 []int, per time.Duration) error {
	k := ceilingKernels()
	traffic := k.traffic
	procs := runtime.GOMAXPROCS(0)
	fmt.Fprintf(w, "memory-traffic limit, kernel %s, float32 (20 bytes per element), median of %d rounds of %v\n", traffic.name, rounds, per)
	tw := newTable(w)
	fmt.Fprintf(tw, "N\t1 thread G elem/s\tGB/s\t%d threads G elem/s\tGB/s\t\n", procs)
	for _, n := range sizes {
		x, s, g := inputs(n)
		var one, all []float64
		for range rounds {
			one = append(one, rate(n, per, func() { traffic.f(x, s, g) }))
			all = append(all, rate(n, per, func() { parallelTraffic(traffic.f, procs, x, s, g) }))
		}
		a, b := median(one), median(all)
		fmt.Fprintf(tw, "%s\t%.3f\t%.1f\t%.3f\t%.1f\t\n", sizeName(n), a, 20*a, b, 20*b)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, c := range []struct {
		title string
		k     ceilingKernel
	}{
		{"exact compute limit on the divider (y = g/√s, in L1)", k.sqrtDiv},
		{"exact compute limit on the FMA ports (y = g/√s from FMA sequences, correctly rounded, in L1)", k.sqrtDivFMA},
		{"approximate compute limit (y = g·rsqrt(s), hardware estimate, in L1)", k.rsqrtMul},
	} {
		fmt.Fprintln(w)
		if c.k.f == nil {
			fmt.Fprintf(w, "%s: skipped, %s\n", c.title, c.k.name)
			continue
		}
		fmt.Fprintf(w, "%s, kernel %s, float32, median of %d rounds of %v\n", c.title, c.k.name, rounds, per)
		fit, beyond := inL1(l1)
		if len(beyond) > 0 {
			fmt.Fprintf(w, "(lengths beyond this CPU's %d KiB L1 data cache skipped: %v)\n", cpuid.CPU.Cache.L1D>>10, beyond)
		}
		tw := newTable(w)
		fmt.Fprintf(tw, "N\t1 thread G elem/s\t%d threads G elem/s\t\n", procs)
		for _, n := range fit {
			a, b := computeCeiling(c.k.f, n, procs, per)
			fmt.Fprintf(tw, "%s\t%.3f\t%.3f\t\n", sizeName(n), a, b)
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}
	return nil
}

// inL1 splits sizes, ascending, into the lengths whose three float32 slices
// (12 bytes an element) fit in this CPU's L1 data cache as cpuid reports it and
// the others, so that a compute ceiling is not a cache ceiling on a CPU with a
// smaller L1. The smallest length is kept in any case, and every length when
// cpuid reports no size.
func inL1(sizes []int) (fit, beyond []int) {
	sizes = slices.Sorted(slices.Values(sizes))
	n := len(sizes)
	if l1 := cpuid.CPU.Cache.L1D; l1 > 0 {
		n = min(1, len(sizes))
		for n < len(sizes) && 12*sizes[n] <= l1 {
			n++
		}
	}
	return sizes[:n], sizes[n:]
}

// computeCeiling returns the median rate of f on n elements on one thread and,
// summed, on procs threads at once, each with slices of its own.
func computeCeiling(f func(y, s, g []float32), n, procs int, per time.Duration) (one, all float64) {
	var ones, alls []float64
	for range rounds {
		_, s, g := inputs(n)
		y := make([]float32, n)
		ones = append(ones, rate(n, per, func() { f(y, s, g) }))
		rates := make([]float64, procs)
		var wg sync.WaitGroup
		for p := range procs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, s, g := inputs(n)
				y := make([]float32, n)
				rates[p] = rate(n, per, func() { f(y, s, g) })
			}()
		}
		wg.Wait()
		sum := 0.0
		for _, r := range rates {
			sum += r
		}
		alls = append(alls, sum)
	}
	return median(ones), median(alls)
}

// computeLimit is the median single-thread rate of k over the sizes, for the plot.
func computeLimit(k ceilingKernel, sizes []int, per time.Duration) float64 {
	var rs []float64
	for _, n := range sizes {
		_, s, g := inputs(n)
		y := make([]float32, n)
		for range 3 {
			rs = append(rs, rate(n, per, func() { k.f(y, s, g) }))
		}
	}
	return median(rs)
}

// parallelTraffic runs traffic on workers shares of x, s and g at once, split at
// multiples of 16 elements (one 64-byte line of float32).
func parallelTraffic(traffic func(x, s, g []float32), workers int, x, s, g []float32) {
	n := len(x)
	share := (n/workers + 15) &^ 15
	if workers == 1 || share == 0 {
		traffic(x, s, g)
		return
	}
	var wg sync.WaitGroup
	for lo := 0; lo < n; lo += share {
		hi := min(lo+share, n)
		wg.Add(1)
		go func() {
			defer wg.Done()
			traffic(x[lo:hi], s[lo:hi], g[lo:hi])
		}()
	}
	wg.Wait()
}

// goCeilings are the ceiling loops in Go, for builds and CPUs without assembly.
// Go has no reciprocal-square-root estimate, so there is no approximate ceiling.
func goCeilings() ceilings {
	return ceilings{
		traffic:    ceilingKernel{"Go loop", trafficGo},
		sqrtDiv:    ceilingKernel{"Go loop", sqrtDivGo},
		sqrtDivFMA: ceilingKernel{name: "Go has no estimate to start the FMA sequences from"},
		rsqrtMul:   ceilingKernel{name: "Go has no reciprocal-square-root estimate"},
	}
}

// trafficGo is the traffic loop in Go.
func trafficGo(x, s, g []float32) {
	s, g = s[:len(x)], g[:len(x)]
	for i := range x {
		s[i] += g[i]
		x[i] -= g[i]
	}
}

// sqrtDivGo is y = g/√s in Go.
func sqrtDivGo(y, s, g []float32) {
	s, g = s[:len(y)], g[:len(y)]
	for i := range y {
		y[i] = g[i] / float32(math.Sqrt(float64(s[i])))
	}
}

// limitsCmd defines `bench limits`'s flags on fs and returns the command.
func limitsCmd(fs *flag.FlagSet) func() error {
	sizes := fs.String("sizes", "16K,256K,4M,64M", "comma-separated lengths for the memory-traffic limit")
	l1 := fs.String("l1-sizes", "256,1K,2K", "comma-separated lengths for the compute limits, small enough for L1 (12 bytes per element)")
	per := fs.Duration("time", defaultRound, "time per measurement")
	return func() error {
		ns, err := parseSizes(*sizes)
		if err != nil {
			return err
		}
		l1s, err := parseSizes(*l1)
		if err != nil {
			return err
		}
		if err := positive("time", *per); err != nil {
			return err
		}
		return limits(stdout, ns, l1s, *per)
	}
}
