package main

import (
	"flag"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"runtime/debug"
	"strings"
	"testing"

	"github.com/klauspost/cpuid/v2"
	"github.com/schollz/progressbar/v3"
	"golang.org/x/perf/benchfmt"

	"github.com/adagrad-go/adagrad"
	"github.com/adagrad-go/adagrad/kernel"
)

// benchCase is one benchmark of `bench run`: its full name (without the
// Benchmark prefix and GOMAXPROCS suffix), the bytes one call moves, the elements
// it updates, and the body, run with the named implementation in use.
type benchCase struct {
	name  string
	impl  string
	bytes int64
	elems int
	body  func(b *testing.B)
}

// runCases lists what `bench run` measures: Update and the fast mode's
// UpdateFast at every size on every implementation this CPU runs (float32 and,
// for Update, float64), each preset's form at 16K, and the sparse steps on a
// table of 64K rows of 64.
func runCases(sizes []int) []benchCase {
	var cases []benchCase
	for _, impl := range kernel.Implementations() {
		for _, n := range sizes {
			x, s, g := inputs(n)
			cases = append(cases, benchCase{
				name: fmt.Sprintf("Update32/N=%s/impl=%s", sizeName(n), impl), impl: impl, bytes: int64(20 * n), elems: n,
				body: func(b *testing.B) {
					for b.Loop() {
						kernel.Update(x, s, g, 1e-3, 1e-7)
					}
				},
			})
			fx, fs, fg := inputs(n)
			cases = append(cases, benchCase{
				name: fmt.Sprintf("UpdateFast32/N=%s/impl=%s", sizeName(n), impl), impl: impl, bytes: int64(20 * n), elems: n,
				body: func(b *testing.B) {
					for b.Loop() {
						kernel.UpdateFast(fx, fs, fg, 1e-3, 1e-7)
					}
				},
			})
			x64, s64, g64 := make([]float64, n), make([]float64, n), make([]float64, n)
			for i := range x64 {
				x64[i], s64[i], g64[i] = float64(x[i]), float64(s[i]), float64(g[i])
			}
			cases = append(cases, benchCase{
				name: fmt.Sprintf("Update64/N=%s/impl=%s", sizeName(n), impl), impl: impl, bytes: int64(40 * n), elems: n,
				body: func(b *testing.B) {
					for b.Loop() {
						kernel.Update(x64, s64, g64, 1e-3, 1e-7)
					}
				},
			})
		}
		const formN = 16 << 10
		x, s, g := inputs(formN)
		for _, p := range []struct {
			name string
			cfg  adagrad.Config
		}{{"d2l", adagrad.D2L()}, {"pytorch", adagrad.PyTorch()}, {"keras", adagrad.Keras()}, {"tf", adagrad.TF()}, {"optax", adagrad.Optax()}} {
			f := p.cfg.Form
			cases = append(cases, benchCase{
				name: fmt.Sprintf("Forms/form=%s/N=16K/impl=%s", p.name, impl), impl: impl, bytes: 20 * formN, elems: formN,
				body: func(b *testing.B) {
					params := kernel.Params[float32]{LR: 1e-3, Eps: 1e-7, Decay: 1, Gain: 1}
					for b.Loop() {
						kernel.Apply(f, x, s, g, params)
					}
				},
			})
		}
		const rows, dim, indices = 64 << 10, 64, 4 << 10
		tx, ts := make([]float32, rows*dim), make([]float32, rows*dim)
		for i := range tx {
			tx[i], ts[i] = 0.01, 0.1
		}
		idx := zipfRows(rows, indices)
		rng := rand.New(rand.NewPCG(1, 1))
		gr := make([]float32, indices*dim)
		for i := range gr {
			gr[i] = float32(rng.NormFloat64())
		}
		for _, dup := range []kernel.Duplicates{kernel.DuplicatesInOrder, kernel.DuplicatesSummed} {
			var sc kernel.Scratch
			name := map[kernel.Duplicates]string{kernel.DuplicatesInOrder: "seq", kernel.DuplicatesSummed: "coalesced"}[dup]
			cases = append(cases, benchCase{
				name: fmt.Sprintf("Rows/rows=64K/dim=64/dist=zipf/dup=%s/impl=%s", name, impl), impl: impl,
				bytes: int64(4 * dim * 5 * indices), elems: indices * dim,
				body: func(b *testing.B) {
					p := kernel.Params[float32]{LR: 0.01, Eps: 1e-7}
					for b.Loop() {
						kernel.ApplyRows(kernel.Form{}, dup, tx, ts, dim, idx, gr, p, &sc)
					}
				},
			})
		}
	}
	return cases
}

// sizeName writes n as the benchmarks name it: 16, 1K, 4M.
func sizeName(n int) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%dM", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%dK", n>>10)
	}
	return fmt.Sprint(n)
}

// cpuSlug is the CPU's brand as a file name: "AMD EPYC 7B13" → "amd-epyc-7b13".
func cpuSlug() string {
	s := strings.Trim(regexp.MustCompile(`[^a-z0-9]+`).ReplaceAllString(strings.ToLower(cpuid.CPU.BrandName), "-"), "-")
	if s == "" {
		s = runtime.GOARCH + "-unknown"
	}
	return s
}

// fileConfig is the configuration `bench run` records: what benchstat needs to
// tell two machines' files apart.
func fileConfig() []benchfmt.Config {
	var feats []string
	for _, f := range []cpuid.FeatureID{cpuid.SSE2, cpuid.AVX, cpuid.AVX2, cpuid.FMA3, cpuid.AVX512F, cpuid.AVX512VL, cpuid.AVX512BW, cpuid.AVX512DQ, cpuid.ASIMD} {
		if cpuid.CPU.Supports(f) {
			feats = append(feats, f.String())
		}
	}
	kv := [][2]string{
		{"goos", runtime.GOOS}, {"goarch", runtime.GOARCH}, {"pkg", "github.com/adagrad-go/adagrad/kernel"},
		{"cpu", cpuid.CPU.BrandName}, {"features", strings.Join(feats, " ")},
		{"go", runtime.Version()}, {"commit", commit()},
	}
	var cfg []benchfmt.Config
	for _, p := range kv {
		cfg = append(cfg, benchfmt.Config{Key: p[0], Value: []byte(p[1]), File: true})
	}
	return cfg
}

// commit is the source's commit, with "-dirty" when the build had uncommitted
// changes: from the build when it was stamped, else from git, else "unknown".
func commit() string {
	if bi, ok := debug.ReadBuildInfo(); ok {
		rev, dirty := "", ""
		for _, s := range bi.Settings {
			switch {
			case s.Key == "vcs.revision":
				rev = s.Value
			case s.Key == "vcs.modified" && s.Value == "true":
				dirty = "-dirty"
			}
		}
		if rev != "" {
			return rev + dirty
		}
	}
	if out, err := exec.Command("git", "rev-parse", "HEAD").Output(); err == nil {
		return strings.TrimSpace(string(out))
	}
	return "unknown"
}

// runBench runs every case count times, interleaved (case 1, case 2, …, then
// again) so that a noisy machine spreads over all of them, and writes the results
// in the standard format. progress, when not nil, is called after each run.
func runBench(w io.Writer, cases []benchCase, count int, progress func()) error {
	saved := kernel.Implementation()
	defer kernel.Use(saved)
	bw := benchfmt.NewWriter(w)
	cfg := fileConfig()
	procs := runtime.GOMAXPROCS(0)
	for range count {
		for _, c := range cases {
			if err := kernel.Use(c.impl); err != nil {
				return err
			}
			r := testing.Benchmark(c.body)
			if r.N == 0 {
				return fmt.Errorf("%s did not run", c.name)
			}
			ns := float64(r.T.Nanoseconds()) / float64(r.N)
			res := &benchfmt.Result{
				Config: cfg,
				Name:   benchfmt.Name(fmt.Sprintf("%s-%d", c.name, procs)), // the writer adds "Benchmark"
				Iters:  r.N,
				Values: []benchfmt.Value{
					{Value: round4(ns), Unit: "ns/op"},
					{Value: round4(float64(c.bytes) / ns * 1e3), Unit: "MB/s"},
					{Value: round4(float64(c.elems) / ns), Unit: "Gelem/s"},
				},
			}
			if err := bw.Write(res); err != nil {
				return err
			}
			if progress != nil {
				progress()
			}
		}
	}
	return nil
}

// runCmd defines `bench run`'s flags on fs and returns the command.
func runCmd(fs *flag.FlagSet) func() error {
	count := fs.Int("count", 1, "runs of every benchmark (benchstat wants 6 or more)")
	sizes := fs.String("sizes", "16,64,256,1K,16K,256K,4M", "comma-separated lengths of the dense benchmarks")
	out := fs.String("o", "", "`FILE` for the results (default "+filepath.Join(resultsDir, "<cpu>.txt")+")")
	benchtime := fs.String("benchtime", "1s", "time (or Nx count) per benchmark run, as go test -benchtime")
	return func() error { return runBenchmarks(*count, *sizes, *out, *benchtime) }
}

// runBenchmarks is `bench run` with its flags' values.
func runBenchmarks(count int, sizes, out, benchtime string) error {
	ns, err := parseSizes(sizes)
	if err != nil {
		return err
	}
	testing.Init()
	if err := flagSet("test.benchtime", benchtime); err != nil {
		return err
	}
	if out == "" {
		out = filepath.Join(resultsDir, cpuSlug()+".txt")
	}
	if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
		return err
	}
	f, err := os.Create(out)
	if err != nil {
		return err
	}
	cases := runCases(ns)
	var bar *progressbar.ProgressBar
	if isTerminal(os.Stderr) {
		bar = progressbar.NewOptions(len(cases)*count, progressbar.OptionSetWriter(os.Stderr),
			progressbar.OptionSetDescription("bench run"), progressbar.OptionShowCount(), progressbar.OptionClearOnFinish())
	}
	err = runBench(f, cases, count, func() {
		if bar != nil {
			bar.Add(1)
		}
	})
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	fmt.Printf("wrote %s: %d benchmarks × %d\n", out, len(cases), count)
	return nil
}

// round4 keeps 4 significant digits, as go test prints them, far above the
// measurement's precision.
func round4(v float64) float64 {
	if v == 0 || math.IsInf(v, 0) || math.IsNaN(v) {
		return v
	}
	scale := math.Pow(10, 3-math.Floor(math.Log10(math.Abs(v))))
	return math.Round(v*scale) / scale
}
