// Package frameworktest holds what the framework adapters' tests (contrib/)
// share: every kernel path in turn, the lengths and special gradients their
// parity tests step, and the benchmarks' size names.
package frameworktest

import (
	"math"
	"math/rand/v2"
	"strconv"
	"testing"

	"github.com/adagrad-go/adagrad/kernel"
)

// EachKernel runs f as a subtest on every kernel path this CPU has, restoring
// the active one after.
func EachKernel(t *testing.T, f func(t *testing.T)) {
	saved := kernel.Implementation()
	defer kernel.Use(saved)
	for _, name := range kernel.Implementations() {
		t.Run(name, func(t *testing.T) {
			if err := kernel.Use(name); err != nil {
				t.Fatal(err)
			}
			f(t)
		})
	}
}

// Lens are tensor lengths that cross every vector width's loops and tails.
var Lens = []int{1, 3, 7, 8, 15, 16, 17, 31, 33, 63, 64, 65, 127, 129, 255, 257, 1000, 4099}

// Specials are gradients of ±0, denormals, ±Inf and NaN among ordinary ones.
func Specials[T float32 | float64]() []T {
	var z T
	if any(z) == any(float32(0)) {
		return []T{0, T(math.Copysign(0, -1)), T(float32(1e-45)), T(float32(-3e-42)), T(math.Inf(1)), T(math.Inf(-1)), T(math.NaN()), 1, -2.5e-3}
	}
	return []T{0, T(math.Copysign(0, -1)), T(5e-324), T(-2e-310), T(math.Inf(1)), T(math.Inf(-1)), T(math.NaN()), 1, -2.5e-3}
}

// SizeName is n as the benchmarks name sizes: 1K, 16K, 4M.
func SizeName(n int) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return strconv.Itoa(n>>20) + "M"
	case n >= 1<<10 && n%(1<<10) == 0:
		return strconv.Itoa(n>>10) + "K"
	}
	return strconv.Itoa(n)
}

// Parity is a parity test in both widths: F32 and F64 step tensors of the given
// lengths for the given steps, with gradients drawn by grad, and compare each
// step with the framework's own.
type Parity struct {
	F32 func(t *testing.T, lens []int, steps int, grad func(*rand.Rand) float32)
	F64 func(t *testing.T, lens []int, steps int, grad func(*rand.Rand) float64)
}

// Ordinary runs p on every kernel path, 20 steps over Lens, with gradients of
// magnitudes from 10⁻² to 10².
func (p Parity) Ordinary(t *testing.T) {
	normal := func(rng *rand.Rand) float64 { return rng.NormFloat64() * math.Pow(10, rng.Float64()*4-2) }
	EachKernel(t, func(t *testing.T) {
		t.Run("float32", func(t *testing.T) { p.F32(t, Lens, 20, func(rng *rand.Rand) float32 { return float32(normal(rng)) }) })
		t.Run("float64", func(t *testing.T) { p.F64(t, Lens, 20, normal) })
	})
}

// Special runs p on every kernel path, 6 steps over the first 12 Lens, with
// gradients drawn from Specials.
func (p Parity) Special(t *testing.T) {
	s32, s64 := Specials[float32](), Specials[float64]()
	EachKernel(t, func(t *testing.T) {
		t.Run("float32", func(t *testing.T) {
			p.F32(t, Lens[:12], 6, func(rng *rand.Rand) float32 { return s32[rng.IntN(len(s32))] })
		})
		t.Run("float64", func(t *testing.T) {
			p.F64(t, Lens[:12], 6, func(rng *rand.Rand) float64 { return s64[rng.IntN(len(s64))] })
		})
	})
}

// BenchSizes are the lengths the adapters' benchmarks step.
var BenchSizes = []int{1 << 10, 16 << 10, 256 << 10, 4 << 20}

// Inputs are seeded parameters and gradients of n float32 elements.
func Inputs(n int) (x, g []float32) {
	rng := rand.New(rand.NewPCG(1, 1))
	x, g = make([]float32, n), make([]float32, n)
	for i := range x {
		x[i], g[i] = float32(rng.NormFloat64()), float32(rng.NormFloat64())
	}
	return x, g
}
