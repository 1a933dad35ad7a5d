// Command bench measures the adagrad kernels on this machine.
//
//	go run ./bench sweep [-sizes 16,256,16K,4M] [-time 30ms]
//	go run ./bench run [-count N] [-sizes ...] [-o FILE] [-benchtime 1s]
//	go run ./bench compare [-by kernel|cpu] FILES...
//	go run ./bench limits [-sizes 16K,256K,4M,64M] [-l1-sizes 256,1K,2K] [-time 30ms]
//	go run ./bench plot [-o DIR] [-limit-time 50ms] FILE
//	go run ./bench peers [-sizes 64,1K,16K,256K,4M] [-count 5] [-time 200ms] [-rows 1M -dim 64 -indices 16K] [-o FILE]
//
// sweep prints the CPU, the kernel implementations it can run and the one chosen,
// then the speed of each implementation against the pure-Go reference (package ref)
// over a range of sizes, each ratio measured in the same run.
//
// run measures Update (float32 and float64) at every size, each preset's form and
// the sparse steps, on every implementation this CPU runs, count times interleaved,
// and writes the results in the standard Go benchmark format (by default to
// testdata/bench/<cpu>.txt) with the configuration lines goos, goarch, cpu,
// features, go and commit, which benchstat and benchfmt read unchanged. A progress
// bar shows on a terminal.
//
// compare prints benchstat tables (golang.org/x/perf/benchstat): -by kernel puts
// the implementations of each file side by side, -by cpu one file against another.
//
// limits measures the memory-traffic ceiling with the traffic kernel, on one
// thread and on GOMAXPROCS threads, and the compute ceilings in L1: the square root
// and division of an exact step, and the hardware's reciprocal-square-root
// estimate. plot draws a file of run: throughput against N for each path, with
// those limits measured now as a roofline, and the sparse steps as bars.
//
// peers runs, in one interleaved run, what a user would pick instead of this
// library on the same sizes: a C loop built with cc -O3 -march=native, NumPy,
// torch.optim.Adagrad (foreach off and on, and on a sparse gradient), a plain Go
// loop and Go's experimental simd/archsimd. It prints each one's throughput and
// ours ÷ theirs, says which peers it skipped and why, and writes the results in
// the standard format (by default to testdata/bench/peers-<cpu>.txt).
package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/klauspost/cpuid/v2"
	"golang.org/x/term"

	"github.com/adagrad-go/adagrad/kernel"
)

const usage = `usage: bench sweep|run|compare|limits|plot|peers [flags]
  sweep   [-sizes 16,256,16K,4M] [-time 30ms]
  run     [-count N] [-sizes ...] [-o FILE] [-benchtime 1s]
  compare [-by kernel|cpu] FILES...
  limits  [-sizes 16K,256K,4M,64M] [-l1-sizes 256,1K,2K] [-time 30ms]
  plot    [-o DIR] [-limit-time 20ms] FILE
  peers   [-sizes 1K,16K,256K,4M] [-count 5] [-time 200ms] [-rows 1M -dim 64 -indices 16K] [-o FILE|-]`

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, usage)
		os.Exit(2)
	}
	var err error
	switch os.Args[1] {
	case "sweep":
		err = sweepCmd(os.Args[2:])
	case "run":
		err = runCmd(os.Args[2:])
	case "compare":
		err = compareCmd(os.Args[2:])
	case "limits":
		err = limitsCmd(os.Args[2:])
	case "plot":
		err = plotCmd(os.Args[2:])
	case "peers":
		err = peersCmd(os.Args[2:])
	default:
		fmt.Fprintln(os.Stderr, usage)
		os.Exit(2)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

// stdout is where the commands print; a variable so that tests can read it.
var stdout io.Writer = os.Stdout

func newFlags(name string) *flag.FlagSet { return flag.NewFlagSet(name, flag.ExitOnError) }

// flagSet sets a flag of the global set, where package testing keeps its own.
func flagSet(name, value string) error { return flag.CommandLine.Set(name, value) }

func isTerminal(f *os.File) bool { return term.IsTerminal(int(f.Fd())) }

func sweepCmd(args []string) error {
	fs := newFlags("sweep")
	sizes := fs.String("sizes", "16,64,256,1K,16K,256K,4M", "comma-separated lengths (K and M suffixes are 1024 and 1024²)")
	per := fs.Duration("time", 0, "time per measurement (default 30ms)")
	fs.Parse(args)
	ns, err := parseSizes(*sizes)
	if err != nil {
		return err
	}
	if *per == 0 {
		*per = defaultRound
	}
	describe(os.Stdout)
	return sweep(os.Stdout, ns, *per)
}

// describe prints what this machine offers the kernels.
func describe(w *os.File) {
	fmt.Fprintf(w, "cpu:       %s (%d cores, %d threads)\n", cpuid.CPU.BrandName, cpuid.CPU.PhysicalCores, cpuid.CPU.LogicalCores)
	var feats []string
	for _, f := range []cpuid.FeatureID{cpuid.SSE2, cpuid.AVX, cpuid.AVX2, cpuid.FMA3, cpuid.AVX512F, cpuid.AVX512VL, cpuid.AVX512BW, cpuid.AVX512DQ, cpuid.ASIMD} {
		if cpuid.CPU.Supports(f) {
			feats = append(feats, f.String())
		}
	}
	fmt.Fprintf(w, "features:  %s\n", strings.Join(feats, " "))
	fmt.Fprintf(w, "available: %s\n", strings.Join(kernel.Implementations(), ", "))
	fmt.Fprintf(w, "chosen:    %s", kernel.Implementation())
	if v, ok := os.LookupEnv(kernel.EnvVar); ok {
		fmt.Fprintf(w, " (forced by %s=%s)", kernel.EnvVar, v)
	}
	fmt.Fprintln(w)
}

func parseSizes(list string) ([]int, error) {
	var ns []int
	for _, f := range strings.Split(list, ",") {
		f = strings.TrimSpace(f)
		mul := 1
		switch {
		case strings.HasSuffix(f, "K"):
			mul, f = 1<<10, strings.TrimSuffix(f, "K")
		case strings.HasSuffix(f, "M"):
			mul, f = 1<<20, strings.TrimSuffix(f, "M")
		}
		n, err := strconv.Atoi(f)
		if err != nil || n <= 0 {
			return nil, fmt.Errorf("bad size %q", f)
		}
		ns = append(ns, n*mul)
	}
	return ns, nil
}

// newTable returns a tab-aligned writer for the sweep's table.
func newTable(w io.Writer) *tabwriter.Writer {
	return tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
}
