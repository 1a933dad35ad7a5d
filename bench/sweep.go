package main

import (
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"time"

	"github.com/adagrad-go/adagrad/kernel"
	"github.com/adagrad-go/adagrad/ref"
)

// defaultRound is how long one timed round of one implementation lasts.
const defaultRound = 30 * time.Millisecond

// rounds is how many timed rounds each implementation gets, interleaved with the
// others' so that a noisy neighbour slows every column alike; the median is kept.
const rounds = 5

// sweep prints, per size, the float32 throughput of the reference and of every
// implementation, and each implementation's speed-up over the reference.
func sweep(w *os.File, sizes []int, per time.Duration) error {
	impls := kernel.Implementations()
	saved := kernel.Implementation()
	defer kernel.Use(saved)

	fmt.Fprintf(w, "\nfloat32 update, G elements/s (median of %d rounds of %v), speed-up over ref in brackets\n", rounds, per)
	tw := newTable(w)
	fmt.Fprint(tw, "N\tref\t")
	for _, name := range impls {
		fmt.Fprintf(tw, "%s\t", name)
	}
	fmt.Fprintln(tw)
	for _, n := range sizes {
		x, s, g := inputs(n)
		runs := map[string][]float64{}
		for r := 0; r < rounds; r++ {
			runs["ref"] = append(runs["ref"], rate(n, per, func() { ref.Update(x, s, g, 0.01, 1e-6) }))
			for _, name := range impls {
				if err := kernel.Use(name); err != nil {
					return err
				}
				runs[name] = append(runs[name], rate(n, per, func() { kernel.Update(x, s, g, 0.01, 1e-6) }))
			}
		}
		base := median(runs["ref"])
		fmt.Fprintf(tw, "%d\t%.3f\t", n, base)
		for _, name := range impls {
			m := median(runs[name])
			fmt.Fprintf(tw, "%.3f (%.1f×)\t", m, m/base)
		}
		fmt.Fprintln(tw)
	}
	return tw.Flush()
}

// inputs returns parameters, a warm accumulator and gradients of length n.
func inputs(n int) (x, s, g []float32) {
	rng := rand.New(rand.NewPCG(1, 2))
	x, s, g = make([]float32, n), make([]float32, n), make([]float32, n)
	for i := range x {
		x[i] = float32(rng.NormFloat64())
		s[i] = float32(rng.Float64() * 10)
		g[i] = float32(rng.NormFloat64())
	}
	return x, s, g
}

// rate calls f, which updates n elements, repeatedly for about d and returns
// G elements per second.
func rate(n int, d time.Duration, f func()) float64 {
	_, ns := timeCalls(n, d, f)
	return float64(n) / ns
}

func median(v []float64) float64 {
	v = slices.Clone(v)
	slices.Sort(v)
	return v[len(v)/2]
}
