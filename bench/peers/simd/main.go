//go:build goexperiment.simd && amd64

// Command simd is the Adagrad update written with Go's experimental simd/archsimd
// package (Go 1.26, GOEXPERIMENT=simd, amd64 only), for `go run ./bench peers`,
// which builds it in a module of its own:
//
//	GOEXPERIMENT=simd go build -o simd main.go
//	simd -sizes 1024,16384 -time 0.2 -count 1
//
// It is what a Go programmer writes with the package: 8 float32 lanes of AVX,
// PyTorch's form s += g·g; x −= lr·g / (√s + eps), the tail through the
// package's masked slice loads. It prints one Go benchmark line per size and run,
// or "# skip: <why>" when the CPU lacks AVX2.
package main

import (
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"simd/archsimd"
	"strconv"
	"strings"
	"time"
)

func adagrad(x, s, g []float32, lr, eps float32) {
	s, g = s[:len(x)], g[:len(x)]
	vlr, veps := archsimd.BroadcastFloat32x8(lr), archsimd.BroadcastFloat32x8(eps)
	i := 0
	for ; i+8 <= len(x); i += 8 {
		gv := archsimd.LoadFloat32x8Slice(g[i:])
		sv := archsimd.LoadFloat32x8Slice(s[i:]).Add(gv.Mul(gv))
		sv.StoreSlice(s[i:])
		xv := archsimd.LoadFloat32x8Slice(x[i:])
		xv.Sub(vlr.Mul(gv).Div(sv.Sqrt().Add(veps))).StoreSlice(x[i:])
	}
	if i < len(x) {
		gv := archsimd.LoadFloat32x8SlicePart(g[i:])
		sv := archsimd.LoadFloat32x8SlicePart(s[i:]).Add(gv.Mul(gv))
		sv.StoreSlicePart(s[i:])
		xv := archsimd.LoadFloat32x8SlicePart(x[i:])
		xv.Sub(vlr.Mul(gv).Div(sv.Sqrt().Add(veps))).StoreSlicePart(x[i:])
	}
}

func main() {
	sizes := flag.String("sizes", "1024", "comma-separated lengths")
	per := flag.Float64("time", 0.2, "seconds per measurement")
	count := flag.Int("count", 1, "runs of every size")
	flag.Parse()
	if !archsimd.X86.AVX2() {
		fmt.Println("# skip: the CPU has no AVX2")
		return
	}
	for range *count {
		for _, f := range strings.Split(*sizes, ",") {
			n, err := strconv.Atoi(f)
			if err != nil || n <= 0 {
				fmt.Fprintf(os.Stderr, "simd: bad size %q\n", f)
				os.Exit(2)
			}
			rng := rand.New(rand.NewPCG(1, 2))
			x, s, g := make([]float32, n), make([]float32, n), make([]float32, n)
			for i := range x {
				x[i], s[i], g[i] = float32(rng.NormFloat64()), float32(rng.Float64()*10), float32(rng.NormFloat64())
			}
			adagrad(x, s, g, 1e-3, 1e-7) // touch the pages, warm the caches
			calls, start := 0, time.Now()
			for time.Since(start).Seconds() < *per {
				for range 1 + 4096/n {
					adagrad(x, s, g, 1e-3, 1e-7)
					calls++
				}
			}
			ns := float64(time.Since(start).Nanoseconds()) / float64(calls)
			fmt.Printf("BenchmarkPeers/N=%d/impl=go-archsimd \t%d\t%.1f ns/op\n", n, calls, ns)
		}
	}
}
