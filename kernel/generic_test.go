package kernel

import (
	"fmt"
	"math"
	"math/big"
	"math/rand/v2"
	"os"
	"os/exec"
	"reflect"
	"regexp"
	"runtime"
	"strings"
	"testing"

	"github.com/adagrad-go/adagrad/internal/fbits"
	"github.com/adagrad-go/adagrad/internal/gotool"
	"github.com/adagrad-go/adagrad/ref"
)

// The generic path's loops (apply_generic.go, written by internal/gen -generic)
// are held here to ref.Apply directly, whichever implementation is in use and
// under -short too, besides the per-implementation tests (testForms, which run
// them as "generic" through Apply).

// genericPkg is the prefix of the generated functions' symbols.
const genericPkg = "github.com/adagrad-go/adagrad/kernel."

// TestGenericTables fails when apply_generic.go is stale: it must have a loop of
// the right name for every valid form, and nothing else, in both widths.
func TestGenericTables(t *testing.T) {
	valid := map[int]Form{}
	for _, f := range ref.Forms() {
		valid[f.ID()] = f
	}
	check := func(width string, fn func(id int) any) {
		n := 0
		for id := range ref.NumIDs {
			k := fn(id)
			f, ok := valid[id]
			if reflect.ValueOf(k).IsNil() {
				if ok {
					t.Errorf("genericApply%sKernels[%d] is nil; the form %v has that ID (regenerate apply_generic.go)", width, id, f)
				}
				continue
			}
			n++
			if !ok {
				t.Errorf("genericApply%sKernels[%d] is set, but no valid form has that ID", width, id)
				continue
			}
			name := runtime.FuncForPC(reflect.ValueOf(k).Pointer()).Name()
			if want := genericPkg + "genericApply" + width + f.String(); name != want {
				t.Errorf("genericApply%sKernels[%d] is %s, want %s", width, id, name, want)
			}
		}
		if n != len(ref.Forms()) {
			t.Errorf("genericApply%sKernels has %d loops, ref.Forms() %d forms", width, n, len(ref.Forms()))
		}
	}
	check("32", func(id int) any { return genericApply32Kernels[id] })
	check("64", func(id int) any { return genericApply64Kernels[id] })

	for _, id := range []int{1, 3, 5, ref.NumIDs, -1} {
		if _, ok := valid[id]; ok {
			t.Fatalf("ID %d is valid; the test means invalid ones", id)
		}
		for name, call := range map[string]func(){
			"genericApply32": func() { genericApply32(id, nil, nil, nil, 0, 0, 0, 0, 0) },
			"genericApply64": func() { genericApply64(id, nil, nil, nil, 0, 0, 0, 0, 0) },
		} {
			if !panics(call) {
				t.Errorf("%s(%d, …) did not panic on an ID that is no valid form", name, id)
			}
		}
	}
}

func panics(f func()) (panicked bool) {
	defer func() { panicked = recover() != nil }()
	f()
	return false
}

// genericParams are formParams and scalars chosen to hurt: the weight decay of
// the tie inputs (see fillTies), infinities, NaN, −0, and a decay that cancels.
var genericParams = append(append([]params(nil), formParams...),
	params{lr: 1, eps: 0x1p-126, wd: 1 + 0x1p-23, decay: 1, gain: 1},
	params{lr: math.Inf(1), eps: math.Copysign(0, -1), wd: math.NaN(), decay: -1, gain: math.Inf(-1)},
	params{lr: math.NaN(), eps: math.Inf(1), wd: math.Inf(1), decay: 0, gain: math.NaN()},
	params{lr: 3e-3, eps: 1e-10, wd: -1 - 0x1p-23, decay: 0.999, gain: 1e-3},
)

// genericClasses are the classes of fill, "ties" (fillTies) and "specials"
// (fillSpecials).
var genericClasses = append(append([]string(nil), classes...), "ties", "specials")

// TestGenericLoops runs the generated loop of every form, in both widths, by its
// switch and by its table, against ref.Apply on every class of input (every
// length to 40, and two longer), bit for bit, NaN as NaN.
func TestGenericLoops(t *testing.T) {
	t.Run("float32", testGenericLoops[float32])
	t.Run("float64", testGenericLoops[float64])
}

func testGenericLoops[T float](t *testing.T) {
	lengths := []int{1000, 4099} // 4099 > 12³: every combination of fillSpecials
	for n := 40; n >= 0; n-- {
		lengths = append([]int{n}, lengths...)
	}
	for _, f := range ref.Forms() {
		rng := rand.New(rand.NewPCG(uint64(f.ID()), 29))
		for ci, class := range genericClasses {
			for ni, n := range lengths {
				p := genericParams[(ci+ni)%len(genericParams)]
				if class == "ties" {
					p = genericParams[len(formParams)+(ni%2)*3] // wd = ±(1 + 2⁻²³), which the ties need
				}
				x, s, g := make([]T, n), make([]T, n), make([]T, n)
				switch class {
				case "ties":
					fillTies(rng, x, s, g, T(p.wd))
				case "specials":
					fillSpecials(rng, x, s, g)
				default:
					fill(rng, class, x, s, g)
				}
				wantX, wantS := append([]T(nil), x...), append([]T(nil), s...)
				ref.Apply(f, wantX, wantS, append([]T(nil), g...), paramsIn[T](p))
				what := fmt.Sprintf("%v %s n=%d %+v", f, class, n, p)
				runGeneric(t, f, x, s, g, p, wantX, wantS, what+" (switch)", false)
				runGeneric(t, f, x, s, g, p, wantX, wantS, what+" (table)", true)
			}
		}
	}
}

// runGeneric runs the loop of form f on copies of x, s and g, by genericApply32
// or 64 or by their tables, and checks it against the reference's results.
func runGeneric[T float](t *testing.T, f Form, x0, s0, g0 []T, p params, wantX, wantS []T, what string, table bool) {
	t.Helper()
	x, s, g := append([]T(nil), x0...), append([]T(nil), s0...), append([]T(nil), g0...)
	q := paramsIn[T](p)
	id := f.ID()
	if is32[T]() {
		x, s, g := as32(x), as32(s), as32(g)
		lr, eps, wd, decay, gain := float32(q.LR), float32(q.Eps), float32(q.WeightDecay), float32(q.Decay), float32(q.Gain)
		if table {
			genericApply32Kernels[id](x, s, g, lr, eps, wd, decay, gain)
		} else {
			genericApply32(id, x, s, g, lr, eps, wd, decay, gain)
		}
	} else {
		x, s, g := as64(x), as64(s), as64(g)
		lr, eps, wd, decay, gain := float64(q.LR), float64(q.Eps), float64(q.WeightDecay), float64(q.Decay), float64(q.Gain)
		if table {
			genericApply64Kernels[id](x, s, g, lr, eps, wd, decay, gain)
		} else {
			genericApply64(id, x, s, g, lr, eps, wd, decay, gain)
		}
	}
	if !checkSame(t, what+" s", s, wantS) || !checkSame(t, what+" x", x, wantX) {
		t.FailNow()
	}
	for i := range g {
		if !fbits.Identical(g[i], g0[i]) {
			t.Fatalf("%s: g[%d] changed", what, i)
		}
	}
}

// fillTies writes inputs whose fused multiply-adds land on float32 rounding
// boundaries, where rounding the float64 result again would be wrong, so that
// the loops' fused ops take ref.FMA32's path as well as fma32Fast's:
//   - g = ±(1 + 2⁻¹²)·2ᵏ, whose square 1 + 2⁻¹¹ + 2⁻²⁴ (scaled) is a float32 midpoint,
//     with s tiny beside it, as the fused accumulator s = fma(g, g, s) sees it;
//   - x = (1 − 2⁻²³)·2ʲ and g = (255 + m·2⁻¹⁶)·2ʲ, m odd, for the weight decay
//     wd = 1 + 2⁻²³: wd·x + g is a midpoint minus 2⁻⁴⁶·2ʲ;
//   - or exact midpoints, and ordinary values.
func fillTies[T float](rng *rand.Rand, x, s, g []T, wd T) {
	for i := range x {
		k := rng.IntN(40) - 20
		sign := float64(1 - 2*rng.IntN(2))
		switch rng.IntN(4) {
		case 0:
			h := float64(4097 + 2*rng.IntN(848)) // odd, 4097…5791: h² has 25 bits
			g[i] = T(math.Ldexp(sign*h/4096, k))
			s[i] = T(math.Ldexp(float64(rng.IntN(3)-1)*(1+rng.Float64()), 2*k-60))
			x[i] = T(sign * rng.Float64())
		case 1:
			j := rng.IntN(40) - 20
			m := float64(1 + 2*rng.IntN(1<<15))
			x[i] = T(math.Ldexp(sign*(1-0x1p-23), j))
			g[i] = T(math.Ldexp(sign*(255+m*0x1p-16), j))
			s[i] = T(rng.Float64() * 100)
			if wd < 0 {
				g[i] = -g[i]
			}
		case 2:
			g[i] = T(math.Ldexp(sign*(4097+2*float64(rng.IntN(848)))/4096, k))
			s[i] = 0
			x[i] = T(math.Ldexp(sign, k))
		default:
			x[i], s[i], g[i] = T(sign*rng.Float64()*10), T(rng.Float64()*100), T(sign*rng.Float64()*5)
		}
	}
}

// fillSpecials draws x, s and g each from a few values at the edges, every
// combination in turn: both zeros, the smallest subnormal, the largest finite
// value, infinities and NaN, so that, among others, s ends exactly 0 (the
// guard's edge) or negative, and g·g underflows or overflows.
func fillSpecials[T float](rng *rand.Rand, x, s, g []T) {
	maxF, _ := limits[T]()
	tiny := math.SmallestNonzeroFloat64
	if is32[T]() {
		tiny = math.SmallestNonzeroFloat32
	}
	vals := []float64{0, math.Copysign(0, -1), tiny, -tiny, 1, -1, 0.5, maxF, -maxF, math.Inf(1), math.Inf(-1), math.NaN()}
	off := rng.IntN(len(vals) * len(vals) * len(vals))
	for i := range x {
		k := off + i
		x[i], s[i], g[i] = T(vals[k%len(vals)]), T(vals[k/len(vals)%len(vals)]), T(vals[k/len(vals)/len(vals)%len(vals)])
	}
}

// fma32Of is the float32 fused op of the generated loops: fma32Fast, and
// ref.FMA32 where it reports false.
func fma32Of(a, b, c float32) float32 {
	if r, h := fma32Fast(float64(a), float64(b), float64(c)); !fma32Declined(h) {
		return r
	}
	return ref.FMA32(a, b, c)
}

// TestFMA32Fast holds fma32Fast, with ref.FMA32 where it declines, to ref.FMA32
// bit for bit on random bits, random values and crafted ties, and to the exact
// sum rounded by math/big; and checks that the ties do reach ref.FMA32, and that
// ordinary inputs and exact results do not.
func TestFMA32Fast(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 32))
	exact := func(a, b, c float32) (float32, bool) {
		if math.IsInf(float64(a), 0) || math.IsInf(float64(b), 0) || math.IsInf(float64(c), 0) ||
			a != a || b != b || c != c {
			return 0, false
		}
		const prec = 600 // enough for any a·b + c of float32 values, exactly
		v := new(big.Float).SetPrec(prec).Mul(new(big.Float).SetPrec(prec).SetFloat64(float64(a)), new(big.Float).SetPrec(prec).SetFloat64(float64(b)))
		v.Add(v, new(big.Float).SetPrec(prec).SetFloat64(float64(c)))
		if abs, _ := new(big.Float).Abs(v).Float64(); abs < 0x1p-126 || abs > math.MaxFloat32 {
			return 0, false // big's Float32 is not IEEE rounding for subnormals or overflow
		}
		r, _ := v.Float32()
		return r, true
	}
	check := func(a, b, c float32, what string) {
		t.Helper()
		got, want := fma32Of(a, b, c), ref.FMA32(a, b, c)
		if !fbits.Identical(got, want) {
			t.Fatalf("%s: fma32Fast(%x, %x, %x) path gives %#x, ref.FMA32 %#x", what,
				math.Float32bits(a), math.Float32bits(b), math.Float32bits(c), math.Float32bits(got), math.Float32bits(want))
		}
		if e, ok := exact(a, b, c); ok && !fbits.Identical(got, e) {
			t.Fatalf("%s: fma(%g, %g, %g) = %g (%#x), exactly rounded %g (%#x)", what, a, b, c, got, math.Float32bits(got), e, math.Float32bits(e))
		}
	}
	n := 1 << 20
	if testing.Short() {
		n = 1 << 16
	}
	for range n {
		check(math.Float32frombits(rng.Uint32()), math.Float32frombits(rng.Uint32()), math.Float32frombits(rng.Uint32()), "bits")
	}
	// Close exponents, so that the sum cancels or carries.
	ordinary := 0
	for range n {
		e := rng.IntN(60) - 30
		a := float32(math.Ldexp(rng.Float64()*2-1, e))
		b := float32(math.Ldexp(rng.Float64()*2-1, rng.IntN(8)))
		c := float32(math.Ldexp(rng.Float64()*2-1, e+rng.IntN(16)-8))
		check(a, b, c, "values")
		if _, h := fma32Fast(float64(a), float64(b), float64(c)); !fma32Declined(h) {
			ordinary++
		}
	}
	if ordinary < n*99/100 {
		t.Errorf("fma32Fast decided %d of %d ordinary sums; its fast path is not taken", ordinary, n)
	}
	// Ties: the float64 sum is a float32 midpoint; the exact sum is one on either
	// side of it or is it.
	ties := 0
	for i := range 1 << 14 {
		k := rng.IntN(200) - 100
		sign := float32(1 - 2*rng.IntN(2))
		var a, b, c float32
		switch i % 3 {
		case 0: // the square of g: a midpoint, with s below float64's precision
			h := float64(4097 + 2*rng.IntN(848))
			a = float32(math.Ldexp(float64(sign)*h/4096, k/2))
			b = a
			c = float32(math.Ldexp(float64(rng.IntN(3)-1)*(1+rng.Float64()), k-60))
		case 1: // (1 + 2⁻²³)(1 − 2⁻²³) + 255 + m·2⁻¹⁶ = 256 + m·2⁻¹⁶ − 2⁻⁴⁶
			m := float64(1 + 2*rng.IntN(1<<15))
			a = float32(math.Ldexp(1+0x1p-23, k/4))
			b = sign * float32(math.Ldexp(1-0x1p-23, k/4))
			c = sign * float32(math.Ldexp(255+m*0x1p-16, 2*(k/4)))
		default: // products that are midpoints, exactly
			a = sign * float32(math.Ldexp(float64(4097+2*rng.IntN(848))/4096, k/2))
			b = a
		}
		check(a, b, c, "ties")
		if _, h := fma32Fast(float64(a), float64(b), float64(c)); fma32Declined(h) {
			ties++
		}
	}
	if ties < 1<<14*9/10 {
		t.Errorf("only %d of %d ties reached ref.FMA32; the test does not craft what it means to", ties, 1<<14)
	}
	for _, v := range [][3]float32{
		{0, 0, 0}, {float32(math.Copysign(0, -1)), 0, 0}, {1, float32(math.Copysign(0, -1)), float32(math.Copysign(0, -1))},
		{1, 1, -1}, {float32(math.Inf(1)), 0, 1}, {float32(math.Inf(1)), 1, float32(math.Inf(-1))},
		{math.MaxFloat32, 2, 0}, {math.MaxFloat32, 1, math.MaxFloat32}, {0x1p-149, 0x1p-149, 0}, {0x1p-149, 0.5, 0},
		{0x1p-149, 1.5, 0}, {0x1p-75, 0x1p-75, 0x1p-149}, {float32(math.NaN()), 1, 1},
		// At the edge of the normal range, and at the overflow threshold
		// MaxFloat32 + 2¹⁰³, exactly, below and above.
		{0x1p-63, 0x1p-63, 0}, {0x1p-63, 0x1.fffffep-64, 0}, {0x1.000002p-63, 0x1p-63, -0x1p-149}, {0x1p-63, -0x1p-63, 0x1.000002p-126},
		{math.MaxFloat32, 1, 0x1p103}, {math.MaxFloat32, 1, 0x1.fffffep102}, {math.MaxFloat32, 1, 0x1.000002p103},
		{math.MaxFloat32, -1, -0x1p103}, {0x1.fffffep63, 0x1p64, 0x1p103},
	} {
		check(v[0], v[1], v[2], "special")
	}
	// Exact results, zeros among them, are decided without ref.FMA32: zero
	// gradients on a zero accumulator would otherwise take it for every element.
	for _, v := range [][3]float32{
		{0, 0, 0}, {float32(math.Copysign(0, -1)), 0, 0}, {0, 3, float32(math.Copysign(0, -1))}, {1, 1, -1},
		{0, 0, 0.75}, {0.5, 4, 0.25}, {3, 3, 100}, {0x1p-60, 0x1p-60, 0x1p-126},
	} {
		check(v[0], v[1], v[2], "exact")
		if _, h := fma32Fast(float64(v[0]), float64(v[1]), float64(v[2])); fma32Declined(h) {
			t.Errorf("fma32Declined turns down the exact fma(%g, %g, %g)", v[0], v[1], v[2])
		}
	}
}

// TestGenericCodegen compiles the generated loops for amd64 and arm64 and reads
// the assembly the compiler writes, which the results alone show only on the
// machine at hand:
//   - a fused multiply-add exactly where the form fuses (math.FMA, in float64;
//     float32 fuses in software) and nowhere else, so that no product feeds a
//     sum unrounded (arm64 fuses whatever a conversion does not stop);
//   - one square-root instruction per element a loop body handles (five in
//     the float64 loops that fuse: a block of four and the rest), never a call
//     to math.Sqrt;
//   - and, from the compiler's report, no bounds check on an element.
func TestGenericCodegen(t *testing.T) {
	goCmd := gotool.Path(t)
	header := regexp.MustCompile(`^` + regexp.QuoteMeta(genericPkg) + `generic(Apply|Loop)(32|64)(\w+) STEXT`)
	fusedIns := map[string]*regexp.Regexp{
		"amd64": regexp.MustCompile(`\tVF(N?)M(ADD|SUB)\w*S[SD]\t`),
		"arm64": regexp.MustCompile(`\tF(N?)M(ADD|SUB)[SD]\t`),
	}
	sqrtIns := regexp.MustCompile(`\t(SQRTS[SD]|FSQRT[SD])\t`)
	forms := map[string]bool{}
	for _, f := range ref.Forms() {
		forms[f.String()] = true
	}
	for _, arch := range []string{"amd64", "arm64"} {
		t.Run(arch, func(t *testing.T) {
			// purego: the loops are the same in every build, and so the test does
			// not depend on kernel/asm.
			build := exec.Command(goCmd, "build", "-tags", "purego", "-gcflags=-S -d=ssa/check_bce/debug=1", ".")
			build.Env = append(os.Environ(), "GOOS=linux", "GOARCH="+arch, "CGO_ENABLED=0", "GOFLAGS=")
			out, err := build.CombinedOutput()
			if err != nil {
				t.Fatalf("go build: %v\n%s", err, out)
			}
			type counts struct{ fused, sqrt, sqrtCall int }
			seen := map[string]*counts{} // by width and form: "32InDivMul"
			var cur *counts
			for _, l := range strings.Split(string(out), "\n") {
				if strings.Contains(l, "apply_generic.go:") && strings.HasSuffix(l, "Found IsInBounds") {
					t.Errorf("bounds check: %s", l)
				}
				if !strings.HasPrefix(l, "\t") {
					cur = nil
					if m := header.FindStringSubmatch(l); m != nil && forms[m[3]] {
						key := m[2] + m[3]
						if seen[key] == nil {
							seen[key] = &counts{}
						}
						cur = seen[key]
					}
					continue
				}
				if cur == nil {
					continue
				}
				switch {
				case fusedIns[arch].MatchString(l):
					cur.fused++
				case sqrtIns.MatchString(l):
					cur.sqrt++
				case strings.Contains(l, "CALL\tmath.Sqrt") || strings.Contains(l, "CALL\tmath.sqrt"):
					cur.sqrtCall++
				}
			}
			for _, f := range ref.Forms() {
				fusedOps := b2n(f.WeightDecay == WeightDecayFMA) + b2n(f.FusedAccumulator)
				for _, w := range []string{"32", "64"} {
					name := "genericApply" + w + f.String()
					c := seen[w+f.String()]
					if c == nil {
						t.Errorf("%s: not in the compiler's output", name)
						continue
					}
					elems, want := 1, 0 // float32 fuses in float64 arithmetic, unfused
					if w == "64" {
						if fusedOps > 0 {
							elems = 5
						}
						want = elems * fusedOps
					}
					if c.fused != want {
						t.Errorf("%s: %d fused multiply-adds, want %d", name, c.fused, want)
					}
					if c.sqrt != elems || c.sqrtCall != 0 {
						t.Errorf("%s: %d square-root instructions and %d calls of math.Sqrt, want %d instructions", name, c.sqrt, c.sqrtCall, elems)
					}
				}
			}
		})
	}
}

func b2n(b bool) int {
	if b {
		return 1
	}
	return 0
}
