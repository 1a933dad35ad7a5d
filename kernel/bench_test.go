package kernel

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"unsafe"

	"github.com/adagrad-go/adagrad/ref"
)

// benchSizes are the lengths every benchmark runs at: from one AVX-512 vector to
// arrays far larger than the last-level cache.
var benchSizes = []int{16, 64, 256, 1 << 10, 16 << 10, 256 << 10, 4 << 20, 64 << 20}

// sizeName prints n the way the issue tracker and benchstat tables name sizes.
func sizeName(n int) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%dM", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%dK", n>>10)
	}
	return fmt.Sprint(n)
}

// benchInputs returns realistic inputs: parameters around zero, a warm positive
// accumulator and gradients of either sign.
func benchInputs[T float](n int) (x, s, g []T) {
	x, s, g = make([]T, n), make([]T, n), make([]T, n)
	fill(rand.New(rand.NewPCG(3, 4)), "ordinary", x, s, g)
	return x, s, g
}

// benchUpdate runs update over every size and implementation, as sub-benchmarks
// N=<size>/impl=<name>, so that `benchstat -col /impl` compares the paths measured in
// one run. "ref" is the specification called directly.
func benchUpdate[T float](b *testing.B, refUpdate, update func(x, s, g []T)) {
	saved := Implementation()
	defer Use(saved)
	benchSized(b, "ref", refUpdate)
	for _, name := range Implementations() {
		if err := Use(name); err != nil {
			b.Fatal(err)
		}
		benchSized(b, name, update)
	}
}

// benchSized runs f at every size as N=<size>/impl=<name>. Bytes are those really
// moved: x, s and g read, x and s written.
func benchSized[T float](b *testing.B, name string, f func(x, s, g []T)) {
	var zero T
	for _, n := range benchSizes {
		b.Run("N="+sizeName(n)+"/impl="+name, func(b *testing.B) {
			if testing.Short() && n > 1<<20 {
				b.Skip("large sizes are skipped in -short mode")
			}
			x, s, g := benchInputs[T](n)
			b.SetBytes(int64(5 * n * int(unsafe.Sizeof(zero))))
			for b.Loop() {
				f(x, s, g)
			}
			b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds()/1e9, "Gelem/s")
		})
	}
}

func BenchmarkUpdate32(b *testing.B) {
	const lr, eps = 0.01, 1e-6
	benchUpdate(b,
		func(x, s, g []float32) { ref.Update(x, s, g, lr, eps) },
		func(x, s, g []float32) { Update(x, s, g, lr, eps) })
}

func BenchmarkUpdate64(b *testing.B) {
	const lr, eps = 0.01, 1e-6
	benchUpdate(b,
		func(x, s, g []float64) { ref.Update(x, s, g, lr, eps) },
		func(x, s, g []float64) { Update(x, s, g, lr, eps) })
}

// BenchmarkUpdateFast32 is UpdateFast on every path, with the exact ref.Update
// as the base (`benchstat -col /impl`).
func BenchmarkUpdateFast32(b *testing.B) {
	const lr, eps = 0.01, 1e-6
	benchUpdate(b,
		func(x, s, g []float32) { ref.Update(x, s, g, lr, eps) },
		func(x, s, g []float32) { UpdateFast(x, s, g, lr, eps) })
}
