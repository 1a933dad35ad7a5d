package kernel

import (
	"math/rand/v2"
	"testing"
)

// BenchmarkRows is the embedding-table workload: 1M rows of dim 64 or 128 float32,
// 16K indices per step drawn from Zipf(1.1) or uniformly. Bytes are those touched:
// the gradient rows read, and each updated table row of x and s read and written
// (once per occurrence for Sequential, once per distinct row for Coalesced).
// BenchmarkRowsTraffic moves the same bytes with trivial math, the bandwidth bound.
func BenchmarkRows(b *testing.B) {
	benchRows(b, func(x, s []float32, dim int, rows []int32, g []float32, dup Duplicates, sc *Scratch) {
		ApplyRows(Form{}, dup, x, s, dim, rows, g, Params32{LR: 0.01, Eps: 1e-7}, sc)
	})
}

const (
	benchTableRows = 1 << 20
	benchIndices   = 16 << 10
)

func benchRows(b *testing.B, step func(x, s []float32, dim int, rows []int32, g []float32, dup Duplicates, sc *Scratch)) {
	if testing.Short() {
		b.Skip("the tables take 1 GiB")
	}
	for _, dim := range []int{64, 128} {
		x, s := make([]float32, benchTableRows*dim), make([]float32, benchTableRows*dim)
		g := make([]float32, benchIndices*dim)
		rng := rand.New(rand.NewPCG(1, 1))
		for i := range g {
			g[i] = float32(rng.NormFloat64())
		}
		for _, dist := range []string{"zipf", "uniform"} {
			rows := make([]int32, benchIndices)
			z := rand.NewZipf(rng, 1.1, 1, benchTableRows-1)
			for k := range rows {
				if dist == "zipf" {
					// Spread the popular rows over the table, as hashed ids are.
					rows[k] = int32((z.Uint64() * 0x9e3779b97f4a7c15) % benchTableRows)
				} else {
					rows[k] = int32(rng.IntN(benchTableRows))
				}
			}
			distinct := map[int32]bool{}
			for _, r := range rows {
				distinct[r] = true
			}
			for _, dup := range []Duplicates{Sequential, Coalesced} {
				updated := len(rows)
				if dup == Coalesced {
					updated = len(distinct)
				}
				name := "dim=" + sizeName(dim) + "/dist=" + dist + "/dup=" + map[Duplicates]string{Sequential: "seq", Coalesced: "coalesced"}[dup]
				b.Run(name, func(b *testing.B) {
					var sc Scratch
					b.SetBytes(int64(4 * dim * (len(rows) + 4*updated)))
					for b.Loop() {
						step(x, s, dim, rows, g, dup, &sc)
					}
					b.ReportMetric(float64(len(rows))*float64(b.N)/b.Elapsed().Seconds()/1e6, "Mrows/s")
				})
			}
		}
	}
}
