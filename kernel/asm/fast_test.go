//go:build gc && !purego && (amd64 || arm64)

package asm

import (
	"flag"
	"math"
	"strings"
	"testing"

	"github.com/adagrad-go/adagrad/internal/fastbound"
)

var exhaustive = flag.Bool("exhaustive", false, "check the fast reciprocal square root on all 2³² float32 inputs (make exhaustive)")

// maxRsqrtULP is the derived bound of the fast mode's reciprocal square root on
// positive normal inputs, in units in the last place of the exact 1/√v, by
// kernel name: from each estimate's documented accuracy (internal/fastbound),
// never from one CPU's table. `make exhaustive` logs what this CPU reaches.
func maxRsqrtULP(name string) float64 { return fastbound.Path(strings.ToLower(name)).Root }

// rsqrtStats is what checkRsqrt found over a range of inputs.
type rsqrtStats struct {
	normals, denormals int
	worst              float64 // ulps, positive normal inputs
	worstAt            float32
	denormalInf        int // denormal inputs whose result is +Inf
	worstDenormal      float64
}

// checkRsqrt runs rsqrt on every stride-th float32 bit pattern (all of them for
// stride 1) and checks the special values: ±0 → ±∞, +∞ → +0, negative and NaN →
// NaN, and positive normals within the bound.
func checkRsqrt(t *testing.T, name string, rsqrt func(y, v []float32), stride uint64) rsqrtStats {
	const batch = 1 << 16
	v, y := make([]float32, batch), make([]float32, batch)
	var st rsqrtStats
	for lo := uint64(0); lo < 1<<32; lo += batch * stride {
		n := 0
		for b := lo; b < 1<<32 && n < batch; b += stride {
			v[n] = math.Float32frombits(uint32(b))
			n++
		}
		rsqrt(y[:n], v[:n])
		for i, vi := range v[:n] {
			yi := y[i]
			bits := math.Float32bits(vi)
			switch {
			case bits > 0x80000000 && bits < 0x80800000: // negative denormal
				// VRSQRTPS reads denormals as zero of their sign (-Inf), FRSQRTE
				// as the negative numbers they are (NaN).
				if yi == yi && !math.IsInf(float64(yi), -1) {
					t.Fatalf("%s: rsqrt(%v) = %v, want NaN or -Inf", name, vi, yi)
				}
			case vi != vi || vi < 0:
				if yi == yi {
					t.Fatalf("%s: rsqrt(%v [%#08x]) = %v, want NaN", name, vi, bits, yi)
				}
			case vi == 0:
				sign := 1
				if bits>>31 != 0 {
					sign = -1
				}
				if !math.IsInf(float64(yi), sign) {
					t.Fatalf("%s: rsqrt(%v) = %v, want ±Inf of its sign", name, vi, yi)
				}
			case math.IsInf(float64(vi), 1):
				if yi != 0 || math.Signbit(float64(yi)) {
					t.Fatalf("%s: rsqrt(+Inf) = %v, want +0", name, yi)
				}
			case bits < 0x00800000: // positive denormal
				st.denormals++
				if math.IsInf(float64(yi), 1) {
					st.denormalInf++
				} else {
					st.worstDenormal = max(st.worstDenormal, fastbound.RootError(yi, vi))
				}
			default:
				st.normals++
				if u := fastbound.RootError(yi, vi); u > st.worst {
					st.worst, st.worstAt = u, vi
				}
			}
		}
	}
	t.Logf("%s: %d positive normals, worst %.3f ulp at %v (%#08x); %d denormals: %d give +Inf, the others within %.3g ulp",
		name, st.normals, st.worst, st.worstAt, math.Float32bits(st.worstAt), st.denormals, st.denormalInf, st.worstDenormal)
	if st.worst > maxRsqrtULP(name) {
		t.Errorf("%s: %.3f ulp at %v, above the derived %.3f", name, st.worst, st.worstAt, maxRsqrtULP(name))
	}
	return st
}

// rsqrtStride is every input under -exhaustive, else a prime stride (about 1M
// inputs, every exponent and many mantissas).
func rsqrtStride() uint64 {
	if *exhaustive {
		return 1
	}
	return 4099
}
