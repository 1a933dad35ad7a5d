// Package frameworktest holds what the framework adapters' tests (contrib/)
// share: every kernel path in turn, the lengths and special gradients their
// parity tests step, and the benchmarks' size names.
package frameworktest

import (
	"math"
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
