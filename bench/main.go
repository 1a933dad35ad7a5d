// Command bench measures the adagrad kernels on this machine.
//
//	go run ./bench sweep [-sizes 16,64,256,1K,16K,256K,4M] [-time 30ms]
//	go run ./bench run [-benchtime 1s] [-count 1] [-o FILE] [-sizes 16,64,256,1K,16K,256K,4M]
//	go run ./bench compare [-by kernel|cpu] FILES...
//	go run ./bench limits [-l1-sizes 256,1K,2K] [-sizes 16K,256K,4M,64M] [-time 30ms]
//	go run ./bench plot [-limit-time 50ms] [-o out] FILE
//	go run ./bench peers [-count 5] [-dim 64] [-indices 16K] [-o FILE|-] [-rows 1M] [-sizes 64,1K,16K,256K,4M] [-time 200ms]
//
// sweep prints the CPU, the kernel implementations it can run and the one chosen,
// then the speed of each implementation against the pure-Go reference (package ref)
// over a range of sizes, each ratio measured in the same run.
//
// run measures Update (float32 and float64) at every size, each preset's form and
// the sparse steps, on every implementation this CPU runs, count times interleaved,
// and writes the results in the standard Go benchmark format (by default to
// benchmarks/<cpu>.txt) with the configuration lines goos, goarch, cpu,
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
// the standard format (by default to benchmarks/peers-<cpu>.txt).
//
// The default paths are relative to the current directory: run bench from the
// repository's root, where go.work makes `go run ./bench` build this module.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/klauspost/cpuid/v2"
	"golang.org/x/term"

	"github.com/adagrad-go/adagrad/internal/synopsis"
	"github.com/adagrad-go/adagrad/kernel"
)

// resultsDir holds the committed results, where run and peers write by default.
const resultsDir = "benchmarks"

// command is one subcommand of bench.
type command struct {
	name string
	// operands follow the flags on the usage line; "" for a command that takes none.
	operands string
	// define defines the command's flags on fs and returns what runs the command
	// once fs has parsed its arguments. The usage text is made from the same
	// definitions, so that it cannot name a flag or a default the command lacks.
	define func(fs *flag.FlagSet) func() error
}

// commands are bench's subcommands, in the order the usage lists them.
var commands = []command{
	{"sweep", "", sweepCmd},
	{"run", "", runCmd},
	{"compare", "FILES...", compareCmd},
	{"limits", "", limitsCmd},
	{"plot", "FILE", plotCmd},
	{"peers", "", peersCmd},
}

func main() { os.Exit(bench(os.Args[1:], os.Stderr)) }

// bench runs the command line after the program's name and returns the exit
// status: 2 for a usage error, explained on stderr, 1 for a failed command.
func bench(args []string, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage())
		return 2
	}
	c, ok := lookup(args[0])
	if !ok {
		fmt.Fprintf(stderr, "bench: no command %q\n%s", args[0], usage())
		return 2
	}
	fs := flag.NewFlagSet(c.name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	run := c.define(fs)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "usage: bench %s\n", synopsis.Line(c.name, fs, c.operands))
		fs.PrintDefaults()
	}
	if err := fs.Parse(args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if c.operands == "" && fs.NArg() > 0 {
		fmt.Fprintf(stderr, "bench %s: unexpected argument %q\n", c.name, fs.Arg(0))
		fs.Usage()
		return 2
	}
	if err := run(); err != nil {
		fmt.Fprintln(stderr, "bench:", err)
		return 1
	}
	return 0
}

func lookup(name string) (command, bool) {
	for _, c := range commands {
		if c.name == name {
			return c, true
		}
	}
	return command{}, false
}

// usage is bench's usage text, a line per command.
func usage() string {
	var b strings.Builder
	var names []string
	for _, c := range commands {
		names = append(names, c.name)
	}
	fmt.Fprintf(&b, "usage: bench %s [flags]\n", strings.Join(names, "|"))
	for _, c := range commands {
		fs := flag.NewFlagSet(c.name, flag.ContinueOnError)
		c.define(fs)
		_, rest, _ := strings.Cut(synopsis.Line(c.name, fs, c.operands), " ")
		fmt.Fprintf(&b, "  %-8s%s\n", c.name, rest)
	}
	b.WriteString(`"bench <command> -h" explains the command's flags` + "\n")
	return b.String()
}

// stdout is where the commands print; a variable so that tests can read it.
var stdout io.Writer = os.Stdout

// flagSet sets a flag of the global set, where package testing keeps its own.
func flagSet(name, value string) error { return flag.CommandLine.Set(name, value) }

func isTerminal(f *os.File) bool { return term.IsTerminal(int(f.Fd())) }

// positive rejects a measuring time that would time nothing.
func positive(name string, d time.Duration) error {
	if d <= 0 {
		return fmt.Errorf("-%s %v: want a positive duration", name, d)
	}
	return nil
}

// sweepCmd defines `bench sweep`'s flags on fs and returns the command.
func sweepCmd(fs *flag.FlagSet) func() error {
	sizes := fs.String("sizes", "16,64,256,1K,16K,256K,4M", "comma-separated lengths (K and M suffixes are 1024 and 1024²)")
	per := fs.Duration("time", defaultRound, "time per measurement")
	return func() error {
		ns, err := parseSizes(*sizes)
		if err != nil {
			return err
		}
		if err := positive("time", *per); err != nil {
			return err
		}
		describe(os.Stdout)
		return sweep(os.Stdout, ns, *per)
	}
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
