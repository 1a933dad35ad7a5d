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
// as hashed ids are) or uniformly, in both duplicate modes. Bytes are those
// touched: the gradient rows read, and each updated table row of x and s read and
// written (once per occurrence for DuplicatesInOrder, once per distinct row for
// DuplicatesSummed).
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
func BenchmarkRows(b *testing.B) {
	if testing.Short() {
		b.Skip("the tables take 3 GiB")
	}
	p := Params[float32]{LR: 0.01, Eps: 1e-7}
	workers := runtime.GOMAXPROCS(0)
	kernels := []struct {
		name string
		step func(x, s []float32, dim int, rows []int32, g []float32, dup Duplicates, sc *Scratch)
	}{
		{"step", func(x, s []float32, dim int, rows []int32, g []float32, dup Duplicates, sc *Scratch) {
			ApplyRows(Form{}, dup, x, s, dim, rows, g, p, sc)
		}},
		{"parallel", func(x, s []float32, dim int, rows []int32, g []float32, dup Duplicates, sc *Scratch) {
			ApplyRowsParallel(workers, Form{}, dup, x, s, dim, rows, g, p, sc)
		}},
	}
	if rowsTraffic != nil {
		kernels = append(kernels, struct {
			name string
			step func(x, s []float32, dim int, rows []int32, g []float32, dup Duplicates, sc *Scratch)
		}{"traffic", rowsTraffic})
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
				rows := w.rows[dist]
				for _, dup := range []Duplicates{DuplicatesInOrder, DuplicatesSummed} {
					updated := len(rows)
					if dup == DuplicatesSummed {
						updated = w.distinct[dist]
					}
					for _, k := range kernels {
						name := "dim=" + sizeName(dim) + "/dist=" + dist + "/dup=" + map[Duplicates]string{DuplicatesInOrder: "seq", DuplicatesSummed: "coalesced"}[dup] + "/pages=" + pages + "/kernel=" + k.name
						b.Run(name, func(b *testing.B) {
							var sc Scratch
							b.SetBytes(int64(4 * dim * (len(rows) + 4*updated)))
							for b.Loop() {
								k.step(w.x, w.s, dim, rows, w.g, dup, &sc)
							}
							b.ReportMetric(float64(len(rows))*float64(b.N)/b.Elapsed().Seconds()/1e6, "Mrows/s")
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

// rowsTraffic is the traffic kernel of BenchmarkRows, where the architecture has
// one.
var rowsTraffic func(x, s []float32, dim int, rows []int32, g []float32, dup Duplicates, sc *Scratch)

const (
	benchTableRows = 1 << 20
	benchIndices   = 16 << 10
)

// workload is the tables, gradient and index lists of one dim, shared by every
// benchmark of a run (x and s, 1M rows each, are the bulk).
type workload struct {
	x, s, sRow, g []float32
	rows          map[string][]int32 // by distribution
	distinct      map[string]int
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
		rows: map[string][]int32{}, distinct: map[string]int{},
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
		rows := make([]int32, benchIndices)
		z := rand.NewZipf(rng, 1.1, 1, benchTableRows-1)
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
		w.rows[dist], w.distinct[dist] = rows, len(seen)
	}
	workloads[key] = w
	return w
}

// BenchmarkRowWise is row-wise Adagrad (one accumulator per row) on the workload of
// BenchmarkRows, on every implementation, so `benchstat -col /impl` compares them.
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
			rows := w.rows[dist]
			for _, name := range Implementations() {
				b.Run("dim="+sizeName(dim)+"/dist="+dist+"/impl="+name, func(b *testing.B) {
					if err := Use(name); err != nil {
						b.Fatal(err)
					}
					b.SetBytes(int64(len(rows) * (4*3*dim + 8)))
					for b.Loop() {
						RowWise(Form{}, w.x, w.sRow, dim, rows, w.g, Params[float32]{LR: 0.01, Eps: 1e-7})
					}
					b.ReportMetric(float64(len(rows))*float64(b.N)/b.Elapsed().Seconds()/1e6, "Mrows/s")
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
