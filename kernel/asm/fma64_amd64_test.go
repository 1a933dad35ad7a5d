//go:build gc && !purego

package asm

// The float64 FMA sequences of the hybrid kernels, held to the correctly rounded
// results on the CPU at hand. No sweep covers 2⁶⁴ inputs: these are random
// samples of each domain and the hard cases, inputs whose exact result lies
// closest to a midpoint between two floats, more of them under -exhaustive.
// DESIGN.md proves the sequences from the documented bound of the estimates;
// emulate_fma64_amd64_test.go runs them with estimates at both ends of it.

import (
	"math"
	"math/rand/v2"
	"testing"
)

// The float64 domains of DESIGN.md, as bits.
const (
	rootLo64, rootHi64 = 0x2ff0000000000000, 0x4ff0000000000000 // v in [2⁻²⁵⁶, 2²⁵⁶)
	divLo64, divHi64   = 0x37f0000000000000, 0x4800000000000000 // d in [2⁻¹²⁸, 2¹²⁹)
	numLo64, numHi64   = 0x2ff0000000000000, 0x4ff0000000000000 // |a| in [2⁻²⁵⁶, 2²⁵⁶)
)

// samples64 is how many random inputs each test draws.
func samples64() int {
	if *exhaustive {
		return 1 << 32
	}
	return 1 << 24
}

// uniform64 fills out with floats whose bits are uniform in [lo, hi).
func uniform64(rng *rand.Rand, out []float64, lo, hi uint64) {
	for i := range out {
		out[i] = math.Float64frombits(lo + rng.Uint64N(hi-lo))
	}
}

// midpoint64 is a midpoint between floats of [1, 2): 1 + (2k+1)·2⁻⁵³, for k
// near the ends of the significand or drawn at random.
func midpoint64(rng *rand.Rand, i int) float64 {
	ks := []uint64{0, 1, 2, 1<<52 - 1, 1<<52 - 2, 1 << 51}
	k := rng.Uint64N(1 << 52)
	if i < len(ks) {
		k = ks[i]
	}
	return 1 + float64(2*k+1)*0x1p-53
}

// midpointSquares64 are radicands next to the square of a midpoint, in float64:
// √v closest to a midpoint, where the candidate's last bit is hardest.
func midpointSquares64(rng *rand.Rand, n int) []float64 {
	vs := make([]float64, 0, n)
	for i := 0; len(vs) < n; i++ {
		m := midpoint64(rng, i)
		// m² rounded, with the low half of its 106 bits from the FMA.
		hi := m * m
		v := math.Ldexp(hi, 2*(rng.IntN(200)-100))
		for j := -2; j <= 2; j++ {
			vs = append(vs, math.Float64frombits(math.Float64bits(v)+uint64(j)))
		}
	}
	return vs[:n]
}

// hardQuotients64 are pairs a, d with a/d close to a midpoint m: a = RN(d·m), so
// that |a/d − m| is below half an ulp of a in relative terms, often far below;
// and, with a = 1, divisors d = RN(1/m) and their neighbours.
func hardQuotients64(rng *rand.Rand, n int) (a, d []float64) {
	a, d = make([]float64, n), make([]float64, n)
	for i := range n {
		m := midpoint64(rng, i)
		dv := 1 + float64(rng.Uint64N(1<<52))*0x1p-52
		switch i % 3 {
		case 0:
			a[i] = dv * m
		case 1:
			a[i], dv = 1, math.Float64frombits(math.Float64bits(1/m)+uint64(rng.IntN(3))-1)
		default:
			a[i] = -dv * m
		}
		e := rng.IntN(200) - 100
		d[i] = math.Ldexp(dv, e)
		if a[i] != 1 {
			a[i] = math.Ldexp(a[i], e+rng.IntN(100)-50)
		} else {
			a[i] = math.Ldexp(1, rng.IntN(100)-50)
		}
	}
	return a, d
}

// check64 counts the lanes of got that differ from want's bits, reporting the
// first few.
func check64(t *testing.T, what string, in [][]float64, got []float64, want func(i int) float64) int {
	t.Helper()
	wrong := 0
	for i := range got {
		if w := want(i); math.Float64bits(got[i]) != math.Float64bits(w) {
			if wrong++; wrong <= 10 {
				args := make([]float64, len(in))
				for j := range in {
					args[j] = in[j][i]
				}
				t.Errorf("%s%v = %v (%#x), want %v (%#x)", what, args, got[i], math.Float64bits(got[i]), w, math.Float64bits(w))
			}
		}
	}
	return wrong
}

func TestSqrtFMA64(t *testing.T) {
	needAVX512(t)
	rng := rand.New(rand.NewPCG(64, 1))
	const batch = 1 << 16
	v, y := make([]float64, batch), make([]float64, batch)
	checked, wrong := 0, 0
	for b := 0; b < samples64(); b += batch {
		uniform64(rng, v, rootLo64, rootHi64)
		if b%(4*batch) == 0 {
			copy(v, midpointSquares64(rng, batch))
		}
		SqrtFMA64AVX512(y, v)
		checked += batch
		wrong += check64(t, "√", [][]float64{v}, y, func(i int) float64 { return math.Sqrt(v[i]) })
	}
	t.Logf("%d radicands of the domain (a quarter next to midpoints' squares), %d wrong", checked, wrong)
}

func TestRecipFMA64(t *testing.T) {
	needAVX512(t)
	rng := rand.New(rand.NewPCG(64, 2))
	const batch = 1 << 16
	d, y := make([]float64, batch), make([]float64, batch)
	checked, wrong := 0, 0
	for b := 0; b < samples64(); b += batch {
		uniform64(rng, d, divLo64, divHi64)
		if b%(4*batch) == 0 {
			for i := range d {
				// 2ⁿ, all-ones significands, and 1/d next to a midpoint.
				switch i % 4 {
				case 0:
					d[i] = math.Ldexp(1, rng.IntN(256)-128)
				case 1:
					d[i] = math.Ldexp(2-0x1p-52, rng.IntN(256)-128)
				case 2:
					d[i] = math.Ldexp(1/midpoint64(rng, i), rng.IntN(256)-127)
				}
			}
		}
		RecipFMA64AVX512(y, d)
		checked += batch
		wrong += check64(t, "1/", [][]float64{d}, y, func(i int) float64 { return 1 / d[i] })
	}
	t.Logf("%d divisors of the domain, %d wrong", checked, wrong)
}

func TestDivFMA64(t *testing.T) {
	needAVX512(t)
	rng := rand.New(rand.NewPCG(64, 3))
	const batch = 1 << 16
	a, d, q := make([]float64, batch), make([]float64, batch), make([]float64, batch)
	checked, wrong := 0, 0
	for b := 0; b < samples64(); b += batch {
		uniform64(rng, a, numLo64, numHi64)
		uniform64(rng, d, divLo64, divHi64)
		for i := range a {
			if rng.IntN(2) == 0 {
				a[i] = -a[i]
			}
		}
		a[0], a[1] = 0, math.Copysign(0, -1)
		if b%(2*batch) == 0 {
			a, d = hardQuotients64(rng, batch)
		}
		DivFMA64AVX512(q, a, d)
		checked += batch
		wrong += check64(t, "÷", [][]float64{a, d}, q, func(i int) float64 { return a[i] / d[i] })
	}
	t.Logf("%d quotients of the domain (half next to midpoints), %d wrong", checked, wrong)
}

// TestSqrtDivFMA64 samples the float64 ceiling's sequences, the whole of them
// from v to g/√v, against the divider's two roundings.
func TestSqrtDivFMA64(t *testing.T) {
	needAVX512(t)
	rng := rand.New(rand.NewPCG(64, 18))
	const n = 1 << 16
	y, s, g := make([]float64, n), make([]float64, n), make([]float64, n)
	wrong := 0
	for trial := range 16 {
		uniform64(rng, s, rootLo64, rootHi64)
		uniform64(rng, g, numLo64, numHi64)
		if trial == 0 {
			copy(s, midpointSquares64(rng, n))
		}
		SqrtDivFMA64AVX512(y, s, g)
		wrong += check64(t, "g/√s", [][]float64{g, s}, y, func(i int) float64 { return g[i] / math.Sqrt(s[i]) })
	}
}
