//go:build gc && !purego

package asm

// The AVX-512 kernels cannot run on a machine without AVX-512, which includes the
// machines these tests are usually run on, so nothing there would ever notice a
// wrong tail mask, a swapped operand or a wrong compare predicate in them. The
// interpreter of internal/x86emu closes that gap: it runs exactly the subset of
// Go amd64 assembly that the generated apply_*_amd64.s files use, on memory in
// which any byte read or written outside x, s and g is an error. This file holds
// it to the real CPU on the AVX2 kernels, which share its instruction semantics
// (same lane arithmetic, same fused multiply-add, same compare predicates, same
// loop and tail structure), and only then trusts it to execute the AVX-512
// kernels, whose results are compared with package ref.

import (
	"fmt"
	"hash/fnv"
	"math"
	"math/rand/v2"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/klauspost/cpuid/v2"

	"github.com/adagrad-go/adagrad/internal/fbits"
	"github.com/adagrad-go/adagrad/internal/x86emu"
	"github.com/adagrad-go/adagrad/ref"
)

// asmFiles maps each vector extension to the generated file that holds its
// kernels. Symbols named sym<> are local to their file, so each file is parsed into
// a program of its own.
var asmFiles = map[string]string{
	"AVX2":   "apply_avx2_amd64.s",
	"AVX512": "apply_avx512_amd64.s",
}

// isas are the vector extensions in a fixed order, for stable test names.
var isas = []string{"AVX2", "AVX512"}

// asmVecBytes is the vector width of each extension's kernels.
var asmVecBytes = map[string]int{"AVX2": 32, "AVX512": 64}

// kernelNames is every TEXT symbol the tests expect in the file of isa: one Apply
// kernel per form of ref.Forms and element type, the hybrid kernels of AVX-512
// (emulate_fma_amd64_test.go, emulate_fma64_amd64_test.go), and Traffic, so that a kernel added to the
// generator cannot escape them unnoticed.
func kernelNames(isa string) []string {
	var names []string
	for _, bits := range []string{"32", "64"} {
		for _, f := range ref.Forms() {
			names = append(names, "apply"+bits+isa+f.String())
			if isa == "AVX512" || bits == "32" && hasHybrid32(isa, f) {
				names = append(names, "apply"+bits+isa+"Hybrid"+f.String())
			}
		}
		names = append(names, "Traffic"+bits+isa)
	}
	return names
}

// ---------------------------------------------------------------------------
// Kernels, inputs and comparison

// float is the element type of the kernels.
type float interface{ float32 | float64 }

func sizeOf[T float]() int {
	var z T
	if _, ok := any(z).(float32); ok {
		return 4
	}
	return 8
}

// kernel pairs one assembly function with the Go code that defines its result.
// native is the function itself, taken from the dispatch tables of forms_amd64.go
// for Apply, so that a table entry pointing at the wrong kernel shows too; it is
// only safe to call when the CPU has the kernel's ISA, and nil when the table has
// no entry.
type kernel[T float] struct {
	name   string
	isa    string // "AVX2" or "AVX512", the key of asmFiles
	params []string
	native func(x, s, g, args []T)
	model  func(x, s, g, args []T)
}

// applyParams are the scalar parameters of every Apply kernel, in order.
var applyParams = []string{"lr", "eps", "wd", "decay", "gain"}

func traffic[T float](x, s, g, _ []T) {
	for i := range x {
		s[i] = s[i] + g[i]
		x[i] = x[i] - g[i]
	}
}

type applyTable[T float] = *[ref.NumIDs]func(x, s, g []T, lr, eps, wd, decay, gain T)

// makeKernels lists, for each ISA, the Apply kernel of every form and Traffic.
func makeKernels[T float](bits string, tables map[string]applyTable[T], traffics map[string]func(x, s, g []T), apply func(f ref.Form, x, s, g, args []T)) []kernel[T] {
	var ks []kernel[T]
	for _, isa := range isas {
		for _, f := range ref.Forms() {
			k := kernel[T]{
				name: "apply" + bits + isa + f.String(), isa: isa, params: applyParams,
				model: func(x, s, g, a []T) { apply(f, x, s, g, a) },
			}
			if fn := tables[isa][f.ID()]; fn != nil {
				k.native = func(x, s, g, a []T) { fn(x, s, g, a[0], a[1], a[2], a[3], a[4]) }
			}
			ks = append(ks, k)
		}
		fn := traffics[isa]
		ks = append(ks, kernel[T]{
			name: "Traffic" + bits + isa, isa: isa,
			native: func(x, s, g, _ []T) { fn(x, s, g) }, model: traffic[T],
		})
	}
	return ks
}

func kernels32() []kernel[float32] {
	return makeKernels("32",
		map[string]applyTable[float32]{"AVX2": &tableApply32AVX2, "AVX512": &tableApply32AVX512},
		map[string]func(x, s, g []float32){"AVX2": Traffic32AVX2, "AVX512": Traffic32AVX512},
		func(f ref.Form, x, s, g, a []float32) {
			ref.Apply(f, x, s, g, ref.Params[float32]{LR: a[0], Eps: a[1], WeightDecay: a[2], Decay: a[3], Gain: a[4]})
		})
}

func kernels64() []kernel[float64] {
	return makeKernels("64",
		map[string]applyTable[float64]{"AVX2": &tableApply64AVX2, "AVX512": &tableApply64AVX512},
		map[string]func(x, s, g []float64){"AVX2": Traffic64AVX2, "AVX512": Traffic64AVX512},
		func(f ref.Form, x, s, g, a []float64) {
			ref.Apply(f, x, s, g, ref.Params[float64]{LR: a[0], Eps: a[1], WeightDecay: a[2], Decay: a[3], Gain: a[4]})
		})
}

// randomValue mixes ordinary magnitudes with the values where a kernel most
// plausibly parts from the specification: signed zeros, infinities, NaNs with any
// payload (quiet or signalling), subnormals, and both ends of the normal range.
func randomValue[T float](rng *rand.Rand) T {
	size := sizeOf[T]()
	mant, maxF, minN := 23, float64(math.MaxFloat32), 0x1p-126
	if size == 8 {
		mant, maxF, minN = 52, math.MaxFloat64, 0x1p-1022
	}
	signBit := uint64(1) << (8*size - 1)
	mantMask := uint64(1)<<mant - 1
	expAll := (signBit - 1) &^ mantMask
	sign := uint64(0)
	if rng.IntN(2) == 0 {
		sign = signBit
	}
	var v T
	switch rng.IntN(20) {
	case 0:
		return fbits.FromBits[T](sign)
	case 1:
		return fbits.FromBits[T](sign | expAll)
	case 2:
		return fbits.FromBits[T](sign | expAll | rng.Uint64()&mantMask | 1)
	case 3:
		return fbits.FromBits[T](sign | rng.Uint64()&mantMask | 1)
	case 4:
		v = T(minN * (1 + 3*rng.Float64()))
	case 5:
		v = T(maxF * (0.25 + 0.75*rng.Float64()))
	case 6:
		return fbits.FromBits[T](rng.Uint64() >> (64 - 8*size))
	default:
		v = T(math.Ldexp(1+rng.Float64(), rng.IntN(41)-20))
	}
	return fbits.FromBits[T](fbits.Bits(v) | sign)
}

// randomInputs returns x, s and g of length n. Accumulators are mostly
// non-negative, as in real use, but not always.
func randomInputs[T float](rng *rand.Rand, n int) (x, s, g []T) {
	x, s, g = make([]T, n), make([]T, n), make([]T, n)
	signBit := uint64(1) << (8*sizeOf[T]() - 1)
	for i := range n {
		x[i], s[i], g[i] = randomValue[T](rng), randomValue[T](rng), randomValue[T](rng)
		if rng.IntN(4) != 0 {
			s[i] = fbits.FromBits[T](fbits.Bits(s[i]) &^ signBit)
		}
	}
	return x, s, g
}

// typicalArgs are lr, eps, wd, decay and gain as optimizers use them, with the
// edges among them: Adagrad, Adagrad with weight decay, an RMSProp-style decaying
// accumulator with a negative rate, eps 0 and −0, a subnormal eps, decay 0 and a
// zero rate.
func typicalArgs[T float]() [][]T {
	negZero := fbits.FromBits[T](uint64(1) << (8*sizeOf[T]() - 1))
	return [][]T{
		{0.01, 1e-8, 0, 1, 1},
		{0.01, 1e-10, 0.01, 1, 1},
		{-0.5, 1e-6, 1e-4, 0.9, 0.1},
		{0.1, 0, 0, 1, 1},
		{3, negZero, -0.01, 0.99, 0.01},
		{1, fbits.FromBits[T](1), 0.5, 0, 2},
		{0, 1e-8, 0.1, 1, 1},
	}
}

// randomArgs draws lr, eps, wd, decay and gain: mostly ordinary values for each
// role, of either sign, and one time in five anything randomValue makes, infinities
// and NaNs included.
func randomArgs[T float](rng *rand.Rand) []T {
	ordinary := func(minExp, maxExp int) T {
		v := T(math.Ldexp(1+rng.Float64(), minExp+rng.IntN(maxExp-minExp+1)))
		if rng.IntN(4) == 0 {
			v = -v
		}
		return v
	}
	pick := func(vs ...T) T { return vs[rng.IntN(len(vs))] }
	a := []T{
		ordinary(-12, 2),                        // lr
		pick(0, 1e-8, 1e-6, ordinary(-30, -3)),  // eps
		pick(0, ordinary(-14, -1)),              // wd
		pick(1, 0.9, 0.99, 0, ordinary(-8, -1)), // decay
		pick(1, 0.1, 0.01, ordinary(-8, 1)),     // gain
	}
	for i := range a {
		if rng.IntN(5) == 0 {
			a[i] = randomValue[T](rng)
		}
	}
	return a
}

func lengths(upTo int, extra ...int) []int {
	var ns []int
	for n := range upTo + 1 {
		ns = append(ns, n)
	}
	return append(ns, extra...)
}

// sampledLengths are every length up to 80; above it, up to 4·block+1, every fifth
// length (5 is prime to the lane count, so they take every tail length) and the
// lengths next to each block boundary; and then large.
func sampledLengths(block, lanes, large int) []int {
	top := 4*block + 1
	ns := lengths(80)
	tails := map[int]bool{}
	for n := 81; n <= top; n++ {
		if r := n % block; n%5 == 0 || r <= 1 || r == block-1 || n == top {
			ns = append(ns, n)
			tails[n%lanes] = true
		}
	}
	if len(tails) != lanes {
		panic(fmt.Sprintf("sampledLengths(%d, %d): lengths above 80 take %d of the %d tail lengths", block, lanes, len(tails), lanes))
	}
	return append(ns, large)
}

// loopShape reads the elements per block-loop iteration and per vector from the
// first two CMPQ of f, where the generated loops compare the remaining count with
// them, so that the lengths follow the generator's unroll.
func loopShape(f *x86emu.Func) (block, near, lanes int, err error) {
	var limits []int
	for _, in := range f.Insts() {
		if v, ok := in.Imm(); ok && in.Op() == "CMPQ" {
			limits = append(limits, int(v))
		}
	}
	if len(limits) == 3 && limits[1] > limits[0] {
		// A streaming kernel's block loop prefetches from the middle length on.
		near, limits = limits[1], []int{limits[0], limits[2]}
	}
	if len(limits) != 2 || limits[1] <= 0 || limits[0]%limits[1] != 0 {
		return 0, 0, 0, fmt.Errorf("%s: compares the count with %v, want a block, a vector size and perhaps a prefetch limit between", f.Name(), limits)
	}
	return limits[0], near, limits[1], nil
}

func firstDiff[T float](what string, got, want []T) error {
	for i := range want {
		if !fbits.Same(got[i], want[i]) {
			return fmt.Errorf("%s[%d] = %v (%#x), want %v (%#x)", what, i, got[i], fbits.Bits(got[i]), want[i], fbits.Bits(want[i]))
		}
	}
	return nil
}

func nameSeed(name string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(name))
	return h.Sum64()
}

// check emulates k for every length in lens and compares x, s and g with what want
// leaves in copies of the same inputs. Each length runs with two sets of scalar
// arguments, one of typicalArgs (in turn) and one of randomArgs, on inputs seeded by
// the kernel's name and the length. It returns the first discrepancy instead of
// failing, so that a deliberately broken kernel can be required to produce one.
func check[T float](p *x86emu.Program, k kernel[T], lens []int, want func(x, s, g, args []T)) error {
	seed := nameSeed(k.name)
	typical := typicalArgs[T]()
	sets := 1
	if len(k.params) > 0 {
		sets = 2
	}
	for _, n := range lens {
		for ai := range sets {
			rng := rand.New(rand.NewPCG(uint64(n), seed+uint64(ai)))
			var args []T
			switch {
			case len(k.params) == 0:
			case ai == 0:
				args = slices.Clone(typical[n%len(typical)])
			default:
				args = randomArgs[T](rng)
			}
			x, s, g := randomInputs[T](rng, n)
			wx, ws, wg := slices.Clone(x), slices.Clone(s), slices.Clone(g)
			want(wx, ws, wg, args)
			if err := x86emu.Run(p, k.name, k.params, x, s, g, args, x86emu.Config{Rand: rng}); err != nil {
				return fmt.Errorf("%s n=%d args=%v: %w", k.name, n, args, err)
			}
			for _, c := range []struct {
				what      string
				got, want []T
			}{{"x", x, wx}, {"s", s, ws}, {"g", g, wg}} {
				if err := firstDiff(c.what, c.got, c.want); err != nil {
					return fmt.Errorf("%s n=%d args=%v: %w", k.name, n, args, err)
				}
			}
		}
	}
	return nil
}

func readSource(t *testing.T, isa string) string {
	t.Helper()
	b, err := os.ReadFile(asmFiles[isa])
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func loadProgram(t *testing.T, isa string) *x86emu.Program {
	t.Helper()
	p, err := x86emu.Parse(asmFiles[isa], readSource(t, isa))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// testKernels checks every kernel of ks for isa against the CPU (hardware) or
// against its model, on the lengths lens returns for the kernel's loop shape, and
// then requires that the lengths reached every instruction: a path the inputs never
// take is a path the test says nothing about. The kernels run in parallel on the
// one Program, whose hit counts are per instruction, so each kernel's are its own.
func testKernels[T float](t *testing.T, p *x86emu.Program, ks []kernel[T], isa string, lens func(block, lanes int) []int, hardware bool) {
	for _, k := range ks {
		if k.isa != isa {
			continue
		}
		t.Run(k.name, func(t *testing.T) {
			t.Parallel()
			want := k.model
			if hardware {
				if k.native == nil {
					t.Fatalf("the dispatch table has no entry for %s", k.name)
				}
				want = k.native
			}
			f := p.Func(k.name)
			if f == nil {
				t.Fatalf("no TEXT ·%s in %s", k.name, p.File())
			}
			block, near, lanes, err := loopShape(f)
			if err != nil {
				t.Fatal(err)
			}
			if want := asmVecBytes[isa] / sizeOf[T](); lanes != want {
				t.Fatalf("%s steps %d elements per vector, want %d", k.name, lanes, want)
			}
			ns := lens(block, lanes)
			if near > 0 {
				// Both sides of where the prefetches start, and the last blocks
				// that prefetch, whose lines end at the slices' ends.
				ns = append(ns, near-1, near, near+1, near+block-1, near+block, near+2*block+lanes+1)
			}
			if err := check(p, k, ns, want); err != nil {
				t.Fatal(err)
			}
			checkReached(t, p, k.name)
		})
	}
}

// ---------------------------------------------------------------------------
// Tests

func TestEmulatorParsesEveryKernel(t *testing.T) {
	for _, isa := range isas {
		p := loadProgram(t, isa)
		var got []string
		for _, f := range p.Funcs() {
			got = append(got, f.Name())
		}
		slices.Sort(got)
		want := slices.Sorted(slices.Values(kernelNames(isa)))
		if !slices.Equal(got, want) {
			t.Errorf("%s defines %d kernels, the tests know %d:\nonly in the file: %v\nonly in the tests: %v",
				p.File(), len(got), len(want), without(got, want), without(want, got))
		}
		for _, sym := range []string{"tailmasks<>", "ones<>"} {
			if _, ok := p.Symbol(sym); !ok {
				t.Errorf("%s has no %s", p.File(), sym)
			}
		}
	}
}

// checkReached requires that the inputs executed every instruction of fn.
func checkReached(t *testing.T, p *x86emu.Program, fn string) {
	t.Helper()
	for _, in := range p.Func(fn).Insts() {
		if in.Hits() == 0 {
			t.Errorf("%s:%d: %s was never executed", p.File(), in.Line(), in.Text())
		}
	}
}

func without(a, b []string) []string {
	var out []string
	for _, s := range a {
		if !slices.Contains(b, s) {
			out = append(out, s)
		}
	}
	return out
}

// TestEmulatorMatchesHardwareAVX2 is what earns the emulator its trust: on the
// AVX2 kernels of every form it must agree bit for bit with the CPU. Every length
// up to 70, or two blocks and a vector if that is more, takes every combination of
// block, single and tail counts; a few longer ones follow.
func TestEmulatorMatchesHardwareAVX2(t *testing.T) {
	if !cpuid.CPU.Supports(cpuid.AVX, cpuid.AVX2, cpuid.FMA3) {
		t.Skip("CPU lacks AVX2 or FMA3")
	}
	p := loadProgram(t, "AVX2")
	lens := func(block, lanes int) []int {
		return lengths(max(70, 2*block+lanes), 100, 127, 128, 129, 191, 255, 256, 257, 300, 1001)
	}
	testKernels(t, p, kernels32(), "AVX2", lens, true)
	testKernels(t, p, kernels64(), "AVX2", lens, true)
}

// avx512Lengths are the lengths the AVX-512 kernels run with: every length up to
// 80; up to four blocks and one element, a sample that still takes every tail
// length and both sides of every block boundary; and one long slice.
func avx512Lengths(block, lanes int) []int { return sampledLengths(block, lanes, 2051) }

// TestEmulatorMatchesHardwareAVX512 does the same on machines that have AVX-512,
// where it cross-checks the emulator on the masked instructions too.
func TestEmulatorMatchesHardwareAVX512(t *testing.T) {
	if !cpuid.CPU.Supports(cpuid.AVX, cpuid.AVX512F) {
		t.Skip("CPU lacks AVX-512F")
	}
	p := loadProgram(t, "AVX512")
	testKernels(t, p, kernels32(), "AVX512", avx512Lengths, true)
	testKernels(t, p, kernels64(), "AVX512", avx512Lengths, true)
}

// TestEmulatedAVX512 runs the AVX-512 kernels of every form in the emulator and
// holds them to package ref (Apply) or the trivial formula (Traffic), on
// avx512Lengths for the unroll the generator chose for the form, read from the
// code: at an unroll of 8, up to 4·16·8+1 = 513 elements for float32 and
// 4·8·8+1 = 257 for float64.
func TestEmulatedAVX512(t *testing.T) {
	p := loadProgram(t, "AVX512")
	testKernels(t, p, kernels32(), "AVX512", avx512Lengths, false)
	testKernels(t, p, kernels64(), "AVX512", avx512Lengths, false)
}

// funcText locates the text of function fn in src, from its TEXT line to the next.
func funcText(src, fn string) (start, end int) {
	start = strings.Index(src, "TEXT ·"+fn+"(SB)")
	if start < 0 {
		return 0, 0
	}
	end = len(src)
	if i := strings.Index(src[start+1:], "\nTEXT "); i >= 0 {
		end = start + 1 + i
	}
	return start, end
}

// textLineRE matches a TEXT line and captures the function's name.
var textLineRE = regexp.MustCompile(`^TEXT\s+·(\w+)\(SB\)`)

// excerpt is src with only the functions fns kept, and all of its data, so that a
// mutated kernel parses without the thousands of lines of the other kernels.
func excerpt(src string, fns ...string) string {
	var b strings.Builder
	keep := true
	for _, line := range strings.SplitAfter(src, "\n") {
		if m := textLineRE.FindStringSubmatch(line); m != nil {
			keep = slices.Contains(fns, m[1])
		}
		if keep || strings.HasPrefix(line, "DATA") || strings.HasPrefix(line, "GLOBL") {
			b.WriteString(line)
		}
	}
	return b.String()
}

// mutate applies re/repl to the text of function fn only, returning the new
// source and how many places changed.
func mutate(src, fn string, re *regexp.Regexp, repl string) (string, int) {
	start, end := funcText(src, fn)
	body := src[start:end]
	hits := len(re.FindAllStringIndex(body, -1))
	return src[:start] + re.ReplaceAllString(body, repl) + src[end:], hits
}

// TestEmulatorCatchesBrokenKernel shows that TestEmulatedAVX512 can fail: each
// plausible slip in an AVX-512 kernel must end in a mismatch with ref or in a
// memory fault. The unmutated kernels pass the same check first, so the failures
// belong to the mutations. The mutations read the loop sizes and registers they
// need from the generated code, so they survive a change of unroll or allocation.
//
// Not every predicate change is a slip: GT_OS (0x0e) differs from the generated
// GT_OQ (0x1e) only in whether a quiet NaN raises an exception, which is masked,
// so the guard mutations below use predicates with different results.
func TestEmulatorCatchesBrokenKernel(t *testing.T) {
	const (
		plain = "apply32AVX512InDivMul"
		guard = "apply32AVX512InRecipGuard"
		fused = "apply32AVX512OutMulDivWdFMAFusedAcc"
	)
	full := readSource(t, "AVX512")
	file := asmFiles["AVX512"]
	ks := map[string]kernel[float32]{}
	for _, k := range kernels32() {
		ks[k.name] = k
	}
	// The simplest DivMul kernel that reads decay, for the mutation that reads it
	// from the wrong slot: plain itself, unless its form leaves decay unused.
	decay := ""
	for _, f := range ref.Forms() {
		name := "apply32AVX512" + f.String()
		if start, end := funcText(full, name); decay == "" && strings.HasPrefix(f.String(), "InDivMul") &&
			strings.Contains(full[start:end], "decay+84(FP)") {
			decay = name
		}
	}
	if decay == "" {
		t.Fatal("no InDivMul kernel reads decay+84(FP)")
	}
	targets := []string{plain, guard, fused}
	if decay != plain {
		targets = append(targets, decay)
	}
	src := excerpt(full, targets...)
	p, err := x86emu.Parse(file, src)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range targets {
		if p.Func(name) == nil || ks[name].model == nil {
			t.Fatalf("%s is missing from %s or from the tests", name, file)
		}
	}
	block, _, _, err := loopShape(p.Func(plain))
	if err != nil {
		t.Fatal(err)
	}
	lens := lengths(block + 40)
	for _, name := range targets {
		if err := check(p, ks[name], lens, ks[name].model); err != nil {
			t.Fatalf("unmutated %s: %v", name, err)
		}
	}

	// The register that holds x's address, and a vector register fused never names,
	// for the product that an unfused multiply-add needs.
	xReg := regexp.MustCompile(`MOVQ\s+x_base\+0\(FP\), (\w+)`).FindStringSubmatch(src)
	if xReg == nil {
		t.Fatal("no load of x_base found")
	}
	start, end := funcText(src, fused)
	body := src[start:end]
	free := ""
	for r := 31; r >= 0 && free == ""; r-- {
		if !regexp.MustCompile(fmt.Sprintf(`\bZ%d\b`, r)).MatchString(body) {
			free = fmt.Sprintf("Z%d", r)
		}
	}
	if free == "" {
		t.Fatalf("%s uses every Z register", fused)
	}
	imm := func(v int) string { return fmt.Sprintf(`$$0x%08x`, v) }
	// The K register the tail's guard compare writes: any but K1, the tail mask.
	guardK := "K1"
	start, end = funcText(src, guard)
	if m := regexp.MustCompile(`VCMPPS\s+\$0x1e, [^,\n]+, Z\d+, (K[2-7])`).FindStringSubmatch(src[start:end]); m != nil {
		guardK = m[1]
	}

	// optional mutations change code that a generator may or may not emit, such as
	// the stack slots of spilled constants; when they match nothing, they are
	// skipped rather than failed.
	mutations := []struct {
		target, name, re, repl string
		optional               bool
	}{
		{plain, "tail mask one lane too many", `(KMOVW\s+)64\(`, `${1}66(`, false},
		{plain, "tail mask one lane too few", `(KMOVW\s+)64\(`, `${1}62(`, false},
		{plain, "divide operands swapped", `(VDIVPS\s+)(Z\d+), (Z\d+),`, `${1}${3}, ${2},`, false},
		{plain, "subtract operands swapped", `(VSUBPS\s+)(Z\d+), (Z\d+),`, `${1}${3}, ${2},`, false},
		{plain, "eps read from the lr slot", `eps\+76\(FP\)`, `lr+72(FP)`, false},
		{decay, "decay read from the gain slot", `decay\+84\(FP\)`, `gain+88(FP)`, false},
		{plain, "spilled constant never stored", `\n\s*VMOVUPS\s+Z\d+, \d*\(SP\)`, ``, true},
		{plain, "block loop entered a vector early", `(CMPQ\s+\w+, )\` + imm(block)[1:], `${1}` + imm(block-16), false},
		{plain, "x pointer advanced short", `(ADDQ\s+)\` + imm(4 * block)[1:] + `, ` + xReg[1] + `\b`, `${1}` + imm(4*block-64) + `, ` + xReg[1], false},
		{plain, "tail store of x dropped", `\n\s*VMOVUPS\s+Z\d+, K\d, \(` + xReg[1] + `\)`, ``, false},
		{guard, "guard GE_OQ lets s == 0 through", `\$0x1e,`, `$$0x1d,`, false},
		{guard, "guard NLE_UQ lets NaN through", `\$0x1e,`, `$$0x16,`, false},
		{guard, "guard inverted", `\$0x1e,`, `$$0x1a,`, false},
		{guard, "guard dropped", `\n\s*VMOVAPS\.Z[^\n]*`, ``, false},
		{guard, "guard mask allocated to the tail mask", `\b` + guardK + `\b`, `K1`, false},
		{guard, "1 read at the float64 offset", `ones<>\+0\(SB\)`, `ones<>+8(SB)`, false},
		{fused, "every FMA rounded twice", `VFMADD231PS\s+([^,\n]+), (Z\d+), (Z\d+)`, "VMULPS ${1}, ${2}, " + free + "\n\tVADDPS " + free + ", ${3}, ${3}", false},
		{fused, "FMA accumulates into a factor", `(VFMADD231PS\s+[^,\n]+, )(Z\d+), (Z\d+)`, `${1}${3}, ${2}`, false},
		{fused, "every FMA dropped", `\n\s*VFMADD231PS[^\n]*`, ``, false},
	}
	for _, mu := range mutations {
		t.Run(mu.target+"/"+mu.name, func(t *testing.T) {
			broken, hits := mutate(src, mu.target, regexp.MustCompile(mu.re), mu.repl)
			if hits == 0 && mu.optional {
				t.Skipf("%q matches nothing in %s", mu.re, mu.target)
			}
			if hits == 0 {
				t.Fatalf("%q matches nothing in %s; update the mutation to the generated code", mu.re, mu.target)
			}
			p, err := x86emu.Parse(file, broken)
			if err != nil {
				t.Fatalf("mutated source does not parse: %v", err)
			}
			k := ks[mu.target]
			err = check(p, k, lens, k.model)
			if err == nil {
				t.Fatalf("%s still matches ref after %d edits", mu.target, hits)
			}
			t.Logf("caught: %v", err)
		})
	}
}
