//go:build gc && !purego

package asm

// The FMA sequences of the hybrid kernels, held to the correctly rounded results
// on the CPU at hand: every input of the domain under -exhaustive (make
// exhaustive), a prime stride of it and the hard cases otherwise. DESIGN.md
// proves them from the documented bounds of the estimates; these tests are the
// evidence of this CPU's tables, and emulate_fma_amd64_test.go runs the same
// probes with estimates at both ends of the specification.

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/klauspost/cpuid/v2"
)

// The domains of DESIGN.md ("Square root and division from FMAs"), as bits.
const (
	rootLo, rootHi = 0x1f800000, 0x5f800000 // v in [2⁻⁶⁴, 2⁶⁴)
	divLo, divHi   = 0x27800000, 0x50000000 // d in [2⁻⁴⁸, 2³³)
	numLo, numHi   = 0x1f800000, 0x5f800000 // |a| in [2⁻⁶⁴, 2⁶⁴)
)

func sqrt32(v float32) float32 { return float32(math.Sqrt(float64(v))) }

// Both roundings of a quotient of float32 in float64 are innocuous: 53 ≥ 2·24 + 2.
func div32(a, d float32) float32 { return float32(float64(a) / float64(d)) }

func needAVX512(t *testing.T) {
	t.Helper()
	if !cpuid.CPU.Supports(cpuid.AVX, cpuid.AVX512F) {
		t.Skip("no AVX-512 on this CPU (emulate_fma_amd64_test.go runs the probes in the interpreter)")
	}
}

// fmaProbes are the float32 probes of one instruction set. markstein marks
// AVX-512's, whose reciprocal may end on a power of two that the kernels send to
// the divider (DESIGN.md); AVX2's rounding test has no exception.
type fmaProbes struct {
	isa       string
	supported bool
	sqrt      func(y, v []float32)
	recip     func(y, d []float32)
	div       func(q, a, d []float32)
	markstein bool
}

func fmaProbeSets() []fmaProbes {
	return []fmaProbes{
		{"AVX512", cpuid.CPU.Supports(cpuid.AVX, cpuid.AVX512F), SqrtFMA32AVX512, RecipFMA32AVX512, DivFMA32AVX512, true},
		{"AVX2", cpuid.CPU.Supports(cpuid.AVX, cpuid.AVX2, cpuid.FMA3), SqrtFMA32AVX2, RecipFMA32AVX2, DivFMA32AVX2, false},
	}
}

// eachProbeSet runs test for every set of probes, skipping those the CPU lacks.
func eachProbeSet(t *testing.T, test func(t *testing.T, p fmaProbes)) {
	for _, p := range fmaProbeSets() {
		t.Run(p.isa, func(t *testing.T) {
			if !p.supported {
				t.Skipf("no %s on this CPU (emulate_fma_amd64_test.go runs the probes in the interpreter)", p.isa)
			}
			test(t, p)
		})
	}
}

// fmaStride is 1 under -exhaustive, else a prime stride through the bits.
func fmaStride() uint32 {
	if *exhaustive {
		return 1
	}
	return 1021
}

// sweep calls check on batches of the float32 inputs with bits in [lo, hi), every
// stride-th, plus extra.
func sweep(lo, hi, stride uint32, extra []float32, check func(in []float32)) {
	const batch = 1 << 16
	in := make([]float32, 0, batch)
	for b := uint64(lo); b < uint64(hi); b += uint64(stride) {
		in = append(in, math.Float32frombits(uint32(b)))
		if len(in) == batch {
			check(in)
			in = in[:0]
		}
	}
	check(append(in, extra...))
}

// midpointSquares are radicands whose roots lie closest to a midpoint between
// two floats: v = RN(m²) and its neighbours for midpoints m = (2k+1)·2⁻²⁵ with
// k near the ends of each significand and a pseudo-random spread, scaled over the
// domain. Markstein's final step (not used) fails on such inputs; Tuckerman's
// test must not.
func midpointSquares() []float32 {
	var vs []float32
	ks := []uint64{0, 1, 2, 3, 1<<23 - 1, 1<<23 - 2, 1 << 22, 3 << 21}
	for i := uint64(0); i < 64; i++ {
		ks = append(ks, (i*0x9e3779b97f4a7c15)>>41)
	}
	for _, k := range ks {
		m := 1 + float64(2*k+1)*0x1p-24 // a midpoint between floats in [1, 2)
		for _, e := range []int{-60, -31, -1, 0, 1, 2, 31, 60} {
			v := float32(math.Ldexp(m*m, e))
			vs = append(vs, math.Nextafter32(v, 0), v, math.Nextafter32(v, float32(math.Inf(1))))
		}
	}
	return vs
}

func TestSqrtFMA(t *testing.T) { eachProbeSet(t, testSqrtFMA) }

func testSqrtFMA(t *testing.T, p fmaProbes) {
	var checked, wrong int
	sweep(rootLo, rootHi, fmaStride(), midpointSquares(), func(v []float32) {
		y := make([]float32, len(v))
		p.sqrt(y, v)
		for i := range v {
			checked++
			if want := sqrt32(v[i]); math.Float32bits(y[i]) != math.Float32bits(want) {
				if wrong++; wrong <= 10 {
					t.Errorf("√%g (%#x) = %g (%#x), want %g", v[i], math.Float32bits(v[i]), y[i], math.Float32bits(y[i]), want)
				}
			}
		}
	})
	t.Logf("%d radicands of the domain, %d wrong", checked, wrong)
	if *exhaustive {
		logOutside(t, rootLo, rootHi, p.sqrt, sqrt32)
	}
}

// logOutside runs probe on every float32 outside [lo, hi), where the kernels
// take the divider, and logs how many differ from want (NaN from NaN counts as
// equal), so that all 2³² inputs have run.
func logOutside(t *testing.T, lo, hi uint32, probe func(y, v []float32), want func(float32) float32) {
	var outside, off int
	for _, r := range [][2]uint32{{0, lo}, {hi, 1<<32 - 1}} {
		sweep(r[0], r[1], 1, []float32{math.Float32frombits(r[1])}, func(v []float32) {
			y := make([]float32, len(v))
			probe(y, v)
			for i := range v {
				outside++
				w := want(v[i])
				if math.Float32bits(y[i]) != math.Float32bits(w) && !(y[i] != y[i] && w != w) {
					off++
				}
			}
		})
	}
	t.Logf("outside the domain: %d of %d inputs differ from the correctly rounded result", off, outside)
}

// allOnes are divisors whose significand is all ones, the reciprocal's one
// exception, and their neighbours, over the domain.
func allOnes() []float32 {
	var ds []float32
	for e := -48; e < 33; e++ {
		d := float32(math.Ldexp(2-0x1p-23, e-1))
		ds = append(ds, d, math.Nextafter32(d, 0), float32(math.Ldexp(1, e)))
	}
	return ds
}

func TestRecipFMA(t *testing.T) { eachProbeSet(t, testRecipFMA) }

func testRecipFMA(t *testing.T, p fmaProbes) {
	var checked, pow2, wrong int
	sweep(divLo, divHi, fmaStride(), allOnes(), func(d []float32) {
		y := make([]float32, len(d))
		p.recip(y, d)
		for i := range d {
			want := div32(1, d[i])
			if p.markstein && math.Float32bits(y[i])&0x7fffff == 0 {
				// The kernels send these to the divider. Only two kinds of
				// divisor may end here: powers of two and all-ones significands.
				pow2++
				if m := math.Float32bits(d[i]) & 0x7fffff; m != 0 && m != 0x7fffff {
					t.Errorf("1/%g (%#x) = %g, a power of two, for a divisor that is neither 2ⁿ nor all ones", d[i], math.Float32bits(d[i]), y[i])
				}
				continue
			}
			checked++
			if math.Float32bits(y[i]) != math.Float32bits(want) {
				if wrong++; wrong <= 10 {
					t.Errorf("1/%g (%#x) = %g (%#x), want %g", d[i], math.Float32bits(d[i]), y[i], math.Float32bits(y[i]), want)
				}
			}
		}
	})
	t.Logf("%d divisors of the domain, %d wrong; %d left to the divider (a power of two)", checked, wrong, pow2)
	if *exhaustive {
		logOutside(t, divLo, divHi, p.recip, func(d float32) float32 { return div32(1, d) })
	}
}

// numerators are the 16 and more numerators of TestDivFMA: lr as users set it,
// and hard significands (all ones, one past a power of two, the worst cases of
// Markstein's first correction among those with few bits), over the domain.
var numerators = []float32{
	1, 0.01, 0.001, 0.1, 1e-3 * 3, 0.5, 1.5, 1.25, 0.75,
	math.Float32frombits(0x3f7fffff), math.Float32frombits(0x3f800001), math.Float32frombits(0x3fffffff),
	math.Float32frombits(0x3fc00001), math.Float32frombits(0x3faaaaab), math.Float32frombits(0x3f555555),
	0x1p-63, 0x1.fffffep63, -0.01, -1.75,
}

func TestDivFMA(t *testing.T) { eachProbeSet(t, testDivFMA) }

func testDivFMA(t *testing.T, p fmaProbes) {
	stride := fmaStride()
	if !*exhaustive {
		stride = 4099 // the numerators multiply the work
	}
	var checked, wrong int
	for _, a := range numerators {
		sweep(divLo, divHi, stride, allOnes(), func(d []float32) {
			q, as := make([]float32, len(d)), make([]float32, len(d))
			for i := range as {
				as[i] = a
			}
			p.div(q, as, d)
			y := make([]float32, len(d))
			p.recip(y, d)
			for i := range d {
				if p.markstein && math.Float32bits(y[i])&0x7fffff == 0 {
					continue // left to the divider, as TestRecipFMA shows
				}
				checked++
				if want := div32(a, d[i]); math.Float32bits(q[i]) != math.Float32bits(want) {
					if wrong++; wrong <= 10 {
						t.Errorf("%g/%g (%#x) = %g (%#x), want %g", a, d[i], math.Float32bits(d[i]), q[i], math.Float32bits(q[i]), want)
					}
				}
			}
		})
	}
	t.Logf("%d quotients (%d numerators), %d wrong", checked, len(numerators), wrong)
}

// TestDivFMANumerators sweeps the numerators' domain, ±0 included, for a few
// divisors: the residual's signs and the zeros.
func TestDivFMANumerators(t *testing.T) { eachProbeSet(t, testDivFMANumerators) }

func testDivFMANumerators(t *testing.T, p fmaProbes) {
	extra := []float32{0, float32(math.Copysign(0, -1))}
	var checked, wrong int
	for _, d := range []float32{1, 3, 0.1, 7e-10, 1.7e9, math.Float32frombits(0x3f800001)} {
		for _, sign := range []uint32{0, 1 << 31} {
			sweep(numLo|sign, numHi|sign, fmaStride(), extra, func(a []float32) {
				q, ds := make([]float32, len(a)), make([]float32, len(a))
				for i := range ds {
					ds[i] = d
				}
				p.div(q, a, ds)
				for i := range a {
					checked++
					if want := div32(a[i], d); math.Float32bits(q[i]) != math.Float32bits(want) {
						if wrong++; wrong <= 10 {
							t.Errorf("%g (%#x)/%g = %g (%#x), want %g", a[i], math.Float32bits(a[i]), d, q[i], math.Float32bits(q[i]), want)
						}
					}
				}
			})
		}
	}
	t.Logf("%d quotients, %d wrong", checked, wrong)
}

// BenchmarkSqrtDivFMA runs y = g/√s in L1, float32 and float64, on the divider
// (SqrtDiv) and from the FMA sequences alone (SqrtDivFMA), as
// w=<bits>/kernel=<name>: whether the sequences pay beside the divider of each
// width. Bytes are those moved (s and g read, y written).
func BenchmarkSqrtDivFMA(b *testing.B) {
	needAVX512Bench(b)
	const n = 1 << 10
	s32, g32, y32 := make([]float32, n), make([]float32, n), make([]float32, n)
	s64, g64, y64 := make([]float64, n), make([]float64, n), make([]float64, n)
	for i := range n {
		s32[i], g32[i] = float32(1+i%97), float32(0.5+float64(i%13))
		s64[i], g64[i] = float64(s32[i]), float64(g32[i])
	}
	for _, k := range []struct {
		name  string
		bytes int
		f     func()
	}{
		{"w=32/kernel=divider", 12, func() { SqrtDiv32AVX512(y32, s32, g32) }},
		{"w=32/kernel=fma", 12, func() { SqrtDivFMA32AVX512(y32, s32, g32) }},
		{"w=32/kernel=divider-avx2", 12, func() { SqrtDiv32AVX2(y32, s32, g32) }},
		{"w=32/kernel=fma-avx2", 12, func() { SqrtDivFMA32AVX2(y32, s32, g32) }},
		{"w=64/kernel=divider", 24, func() { SqrtDiv64AVX512(y64, s64, g64) }},
		{"w=64/kernel=fma", 24, func() { SqrtDivFMA64AVX512(y64, s64, g64) }},
	} {
		b.Run(k.name, func(b *testing.B) {
			b.SetBytes(int64(k.bytes * n))
			for b.Loop() {
				k.f()
			}
			b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds()/1e9, "Gelem/s")
		})
	}
}

func needAVX512Bench(b *testing.B) {
	if !cpuid.CPU.Supports(cpuid.AVX, cpuid.AVX512F) {
		b.Skip("no AVX-512 on this CPU")
	}
}

// TestSqrtDivFMA32AVX2 samples the AVX2 ceiling's sequences, which no update
// uses and no proof covers yet, against g/√s as the divider rounds it.
func TestSqrtDivFMA32AVX2(t *testing.T) {
	if !cpuid.CPU.Supports(cpuid.AVX, cpuid.AVX2, cpuid.FMA3) {
		t.Skip("no AVX2 and FMA")
	}
	rng := rand.New(rand.NewPCG(2, 18))
	const n = 1 << 16
	y, s, g := make([]float32, n), make([]float32, n), make([]float32, n)
	wrong := 0
	for range 16 {
		for i := range s {
			s[i] = math.Float32frombits(rootLo + rng.Uint32N(rootHi-rootLo))
			g[i] = math.Float32frombits(numLo + rng.Uint32N(numHi-numLo))
		}
		SqrtDivFMA32AVX2(y, s, g)
		for i := range y {
			if want := div32(g[i], sqrt32(s[i])); math.Float32bits(y[i]) != math.Float32bits(want) {
				if wrong++; wrong <= 10 {
					t.Errorf("%g/√%g = %g, want %g", g[i], s[i], y[i], want)
				}
			}
		}
	}
}
