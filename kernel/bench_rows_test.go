package kernel

import (
	"math/rand/v2"
	"os"
	"runtime"
	"strings"
	"sync"
	"testing"
)

// BenchmarkRows is the embedding-table workload of a sparse step: 1M rows of dim 64
// or 128 float32, 16K indices per step drawn from Zipf(1.1) (spread over the table
// as hashed ids are) or uniformly, in both duplicate modes. Each step takes the
// next of benchBatches batches of indices, as a training loop's steps do: with
// one batch for every step its rows (3–12 MiB with the gradient) stayed in the
// caches, and which core's L2 held them decided the parallel step's time.
// Bytes are those touched: the gradient rows read, and each updated table row of
// x and s read and written (once per occurrence for DuplicatesInOrder, once per
// distinct row for DuplicatesSummed, averaged over the batches).
//
// pages=4k tables are plain Go memory; pages=huge ones were given to
// AdviseHugePages before their first write. Where the advice cannot take (no
// Linux, transparent huge pages off or absent) the pages=huge cases are
// skipped, saying why, rather than run on base pages under that name.
//
// The kernel level compares, in one run (`benchstat -col /kernel`):
//
//	step      ApplyRows on the active implementation
//	parallel  ApplyRowsParallel on GOMAXPROCS workers
//	traffic   the same loop (grouping, prefetching, gradient sums) with a kernel
//	          that moves the same bytes with trivial math: the bandwidth bound
//	traffic-parallel  the same on GOMAXPROCS workers, as parallel splits it
func BenchmarkRows(b *testing.B) {
	if testing.Short() {
		b.Skip("the tables take 3 GiB")
	}
	p := Params[float32]{LR: 0.01, Eps: 1e-7}
	workers := runtime.GOMAXPROCS(0)
	type rowKernel struct {
		name string
		step func(x, s []float32, dim int, rows []int32, g []float32, dup Duplicates, sc *Scratch)
	}
	kernels := []rowKernel{
		{"step", func(x, s []float32, dim int, rows []int32, g []float32, dup Duplicates, sc *Scratch) {
			ApplyRows(Form{}, dup, x, s, dim, rows, g, p, sc)
		}},
		{"parallel", func(x, s []float32, dim int, rows []int32, g []float32, dup Duplicates, sc *Scratch) {
			ApplyRowsParallel(workers, Form{}, dup, x, s, dim, rows, g, p, sc)
		}},
	}
	if rowsTraffic != nil {
		kernels = append(kernels,
			rowKernel{"traffic", func(x, s []float32, dim int, rows []int32, g []float32, dup Duplicates, sc *Scratch) {
				rowsTraffic(1, x, s, dim, rows, g, dup, sc)
			}},
			rowKernel{"traffic-parallel", func(x, s []float32, dim int, rows []int32, g []float32, dup Duplicates, sc *Scratch) {
				rowsTraffic(workers, x, s, dim, rows, g, dup, sc)
			}})
	}
	for _, dim := range []int{64, 128} {
		for _, pages := range []string{"4k", "huge"} {
			if pages == "huge" {
				if why := hugePagesUnavailable(); why != "" {
					b.Logf("pages=huge skipped: %s", why)
					continue
				}
			}
			w := benchWorkload(dim, pages == "huge")
			for _, dist := range []string{"zipf", "uniform"} {
				batches := w.rows[dist]
				for _, dup := range []Duplicates{DuplicatesInOrder, DuplicatesSummed} {
					updated := benchIndices
					if dup == DuplicatesSummed {
						updated = w.distinct[dist]
					}
					for _, k := range kernels {
						name := "dim=" + sizeName(dim) + "/dist=" + dist + "/dup=" + map[Duplicates]string{DuplicatesInOrder: "seq", DuplicatesSummed: "coalesced"}[dup] + "/pages=" + pages + "/kernel=" + k.name
						b.Run(name, func(b *testing.B) {
							var sc Scratch
							b.SetBytes(int64(4 * dim * (benchIndices + 4*updated)))
							i := 0
							for b.Loop() {
								k.step(w.x, w.s, dim, batches[i], w.g, dup, &sc)
								i = (i + 1) % len(batches)
							}
							b.ReportMetric(benchIndices*float64(b.N)/b.Elapsed().Seconds()/1e6, "Mrows/s")
						})
					}
				}
			}
		}
	}
}

// hugePagesUnavailable says why AdviseHugePages would leave a table on base
// pages on this system, or returns "" when the advice can take. Whether the
// kernel then finds free huge pages is the machine's state, not checked here.
func hugePagesUnavailable() string {
	if runtime.GOOS != "linux" {
		return "AdviseHugePages does nothing on " + runtime.GOOS
	}
	mode, err := os.ReadFile("/sys/kernel/mm/transparent_hugepage/enabled")
	switch {
	case err != nil:
		return "no transparent huge pages: " + err.Error()
	case strings.Contains(string(mode), "[never]"):
		return "transparent huge pages are off (" + strings.TrimSpace(string(mode)) + ")"
	}
	return ""
}

// rowsTraffic is the traffic kernel of BenchmarkRows on workers goroutines, where
// the architecture has one.
var rowsTraffic func(workers int, x, s []float32, dim int, rows []int32, g []float32, dup Duplicates, sc *Scratch)

const (
	benchTableRows = 1 << 20
	benchIndices   = 16 << 10
	// benchBatches is how many batches of indices the steps go through in
	// turn: 17 batches of uniform rows touch 140–280 MiB of the tables, beyond
	// the caches of the CPUs measured, and a prime keeps the turn from
	// falling into step with a benchmark's rounds.
	benchBatches = 17
)

// workload is the tables, gradient and batches of indices of one dim, shared
// by every benchmark of a run (x and s, 1M rows each, are the bulk). Every
// batch uses the same gradient rows.
type workload struct {
	x, s, sRow, g []float32
	rows          map[string][][]int32 // by distribution, benchBatches batches
	distinct      map[string]int       // distinct rows per batch, on average
}

var (
	workloadsMu sync.Mutex
	workloads   = map[[2]int]*workload{}
)

// benchWorkload returns the workload of dim, its tables on huge pages or not.
func benchWorkload(dim int, huge bool) *workload {
	workloadsMu.Lock()
	defer workloadsMu.Unlock()
	key := [2]int{dim, b2i(huge)}
	if w := workloads[key]; w != nil {
		return w
	}
	w := &workload{
		x: make([]float32, benchTableRows*dim), s: make([]float32, benchTableRows*dim),
		sRow: make([]float32, benchTableRows), g: make([]float32, benchIndices*dim),
		rows: map[string][][]int32{}, distinct: map[string]int{},
	}
	if huge {
		for _, t := range [][]float32{w.x, w.s, w.sRow} {
			if err := AdviseHugePages(t); err != nil {
				panic(err)
			}
		}
	}
	// Every page is written, as a trained model's tables are, so no timed step
	// pays the first touch of a fresh page.
	for i := range w.x {
		w.x[i], w.s[i] = 0.01, 0.1
	}
	for i := range w.sRow {
		w.sRow[i] = 0.1
	}
	rng := rand.New(rand.NewPCG(1, 1))
	for i := range w.g {
		w.g[i] = float32(rng.NormFloat64())
	}
	for _, dist := range []string{"zipf", "uniform"} {
		z := rand.NewZipf(rng, 1.1, 1, benchTableRows-1)
		distinct := 0
		for range benchBatches {
			rows := make([]int32, benchIndices)
			for k := range rows {
				if dist == "zipf" {
					rows[k] = int32((z.Uint64() * 0x9e3779b97f4a7c15) % benchTableRows)
				} else {
					rows[k] = int32(rng.IntN(benchTableRows))
				}
			}
			seen := map[int32]bool{}
			for _, r := range rows {
				seen[r] = true
			}
			w.rows[dist] = append(w.rows[dist], rows)
			distinct += len(seen)
		}
		w.distinct[dist] = distinct / benchBatches
	}
	workloads[key] = w
	return w
}

// BenchmarkRowWise is row-wise Adagrad (one accumulator per row) on the workload of
// BenchmarkRows, its batches in turn, on every implementation, so `benchstat -col /impl` compares them.
// Bytes: each gradient row read, each indexed row of x read and written, and its
// accumulator read and written.
func BenchmarkRowWise(b *testing.B) {
	if testing.Short() {
		b.Skip("the tables take 1.5 GiB")
	}
	saved := Implementation()
	defer Use(saved)
	for _, dim := range []int{64, 128} {
		w := benchWorkload(dim, false)
		for _, dist := range []string{"zipf", "uniform"} {
			batches := w.rows[dist]
			for _, name := range Implementations() {
				b.Run("dim="+sizeName(dim)+"/dist="+dist+"/impl="+name, func(b *testing.B) {
					if err := Use(name); err != nil {
						b.Fatal(err)
					}
					b.SetBytes(int64(benchIndices * (4*3*dim + 8)))
					i := 0
					for b.Loop() {
						RowWise(Form{}, w.x, w.sRow, dim, batches[i], w.g, Params[float32]{LR: 0.01, Eps: 1e-7})
						i = (i + 1) % len(batches)
					}
					b.ReportMetric(benchIndices*float64(b.N)/b.Elapsed().Seconds()/1e6, "Mrows/s")
				})
			}
		}
	}
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}
