package main

import (
	"fmt"
	"io"
	"runtime"
	"sync"
	"time"
)

// limits prints the memory-traffic ceiling of this machine: the traffic kernel
// (the three reads and two writes per element of an update, trivial math) on one
// thread and on GOMAXPROCS threads, each thread on its own cache-line-aligned
// share of the arrays, in G elements/s and GB/s per size.
func limits(w io.Writer, sizes []int, per time.Duration) error {
	name, traffic := trafficKernel()
	procs := runtime.GOMAXPROCS(0)
	fmt.Fprintf(w, "memory-traffic limit, kernel %s, float32 (20 bytes per element), median of %d rounds of %v\n", name, rounds, per)
	tw := newTable(w)
	fmt.Fprintf(tw, "N\t1 thread G elem/s\tGB/s\t%d threads G elem/s\tGB/s\t\n", procs)
	for _, n := range sizes {
		x, s, g := inputs(n)
		var one, all []float64
		for range rounds {
			one = append(one, rate(n, per, func() { traffic(x, s, g) }))
			all = append(all, rate(n, per, func() { parallelTraffic(traffic, procs, x, s, g) }))
		}
		a, b := median(one), median(all)
		fmt.Fprintf(tw, "%s\t%.3f\t%.1f\t%.3f\t%.1f\t\n", sizeName(n), a, 20*a, b, 20*b)
	}
	return tw.Flush()
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

// trafficGo is the traffic loop in Go, for builds without assembly.
func trafficGo(x, s, g []float32) {
	s, g = s[:len(x)], g[:len(x)]
	for i := range x {
		s[i] += g[i]
		x[i] -= g[i]
	}
}

// limitsCmd is `bench limits`.
func limitsCmd(args []string) error {
	fs := newFlags("limits")
	sizes := fs.String("sizes", "16K,256K,4M,64M", "comma-separated lengths")
	per := fs.Duration("time", 0, "time per measurement (default 30ms)")
	fs.Parse(args)
	ns, err := parseSizes(*sizes)
	if err != nil {
		return err
	}
	if *per == 0 {
		*per = defaultRound
	}
	return limits(stdout, ns, *per)
}
