package kernel

import (
	"fmt"
	"math/rand/v2"
	"os"
	"strings"
	"testing"
	"unsafe"

	"github.com/adagrad-go/adagrad/internal/fbits"
)

// maxSmall covers every loop of every kernel: 4 × lanes × unroll + 1 for the widest
// case (AVX-512, 16 float32 lanes, 8 vectors per iteration).
const maxSmall = 4*16*8 + 1

// guardLen is how many sentinel elements surround every slice under test.
const guardLen = 16

// sentinel is a NaN with a payload no kernel produces, so a stray write shows.
func sentinel[T float]() T {
	var zero T
	if _, ok := any(zero).(float32); ok {
		return fbits.FromBits[T](0x7fa5a5a5)
	}
	return fbits.FromBits[T](0x7ff4a5a5a5a5a5a5)
}

// guarded is a slice of n elements starting off elements past a 64-byte boundary,
// with guardLen sentinels on each side.
type guarded[T float] struct {
	buf  []T
	lo   int // index of the slice in buf
	data []T
}

func newGuarded[T float](n, off int) *guarded[T] {
	buf := make([]T, 2*guardLen+n+off+64)
	skew := int(uintptr(unsafe.Pointer(&buf[guardLen]))%64) / int(unsafe.Sizeof(buf[0]))
	lo := guardLen + (64/int(unsafe.Sizeof(buf[0]))-skew)%(64/int(unsafe.Sizeof(buf[0]))) + off
	for i := range buf {
		buf[i] = sentinel[T]()
	}
	return &guarded[T]{buf: buf, lo: lo, data: buf[lo : lo+n : lo+n]}
}

// checkGuards fails t if anything outside the slice changed.
func (b *guarded[T]) checkGuards(t *testing.T, what string) {
	t.Helper()
	s := fbits.Bits(sentinel[T]())
	for i, v := range b.buf {
		if (i < b.lo || i >= b.lo+len(b.data)) && fbits.Bits(v) != s {
			t.Fatalf("%s: element %d outside the slice [%d, %d) was written: %#x", what, i, b.lo, b.lo+len(b.data), fbits.Bits(v))
		}
	}
}

// forEachImpl runs f as a subtest with every implementation compiled in forced in
// turn. Paths this CPU cannot run are reported as skipped, by name.
func forEachImpl(t *testing.T, f func(t *testing.T)) {
	t.Helper()
	saved := Implementation()
	defer func() {
		if err := Use(saved); err != nil {
			t.Fatal(err)
		}
	}()
	for _, m := range impls {
		t.Run(m.name, func(t *testing.T) {
			// -short (the arm64 run under qemu) spends its time on the assembly:
			// TestGenericLoops holds the generic path's loops to ref there, in
			// -short too.
			if m == generic && testing.Short() && len(Implementations()) > 1 {
				t.Skip("-short: TestGenericLoops covers the generic path; run without -short to compare it here too")
			}
			if !m.supported() {
				t.Skipf("this CPU cannot run %s (needs %s)", m.name, featureList(m.requires))
			}
			if err := Use(m.name); err != nil {
				t.Fatal(err)
			}
			f(t)
		})
	}
}

// compare runs the kernel in use and the reference on the same inputs and checks
// that they agree bit for bit, that g is unchanged and that no guard was touched.
func compare[T float](t *testing.T, rng *rand.Rand, class string, n, off int, lr, eps T) {
	t.Helper()
	x, s, g := newGuarded[T](n, off), newGuarded[T](n, (off+5)%16), newGuarded[T](n, (off+11)%16)
	fill(rng, class, x.data, s.data, g.data)
	wantX, wantS, g0 := append([]T(nil), x.data...), append([]T(nil), s.data...), append([]T(nil), g.data...)
	refUpdate(wantX, wantS, append([]T(nil), g0...), lr, eps)

	update(x.data, s.data, g.data, lr, eps)

	what := fmt.Sprintf("%s n=%d off=%d lr=%v eps=%v", class, n, off, lr, eps)
	verify(t, what, x, s, g, wantX, wantS, g0)
}

// verify fails t unless x and s hold the reference's results bit for bit, g still
// holds g0, and no guard around any of them was touched.
func verify[T float](t *testing.T, what string, x, s, g *guarded[T], wantX, wantS, g0 []T) {
	t.Helper()
	if !checkSame(t, what+" s", s.data, wantS) || !checkSame(t, what+" x", x.data, wantX) {
		t.FailNow()
	}
	for i := range g0 {
		if fbits.Bits(g.data[i]) != fbits.Bits(g0[i]) {
			t.Fatalf("%s: g[%d] changed from %#x to %#x", what, i, fbits.Bits(g0[i]), fbits.Bits(g.data[i]))
		}
	}
	x.checkGuards(t, what+" x")
	s.checkGuards(t, what+" s")
	g.checkGuards(t, what+" g")
}

func testEquivalence[T float](t *testing.T) {
	forEachImpl(t, func(t *testing.T) {
		for _, class := range classes {
			t.Run(class, func(t *testing.T) {
				rng := rand.New(rand.NewPCG(1, uint64(len(class))))
				for hi, h := range hyper[T]() {
					for n := 0; n <= maxSmall; n++ {
						if hi == 0 && (n < 80 || !testing.Short()) {
							for off := 0; off < 16; off++ {
								compare(t, rng, class, n, off, h[0], h[1])
							}
						} else {
							compare(t, rng, class, n, n%16, h[0], h[1])
						}
					}
				}
				large := []int{1000, 4096 + 7, 1<<16 + 3, 1<<20 + 13}
				if testing.Short() {
					large = large[:2]
				}
				for _, n := range large {
					compare(t, rng, class, n, n%16, hyper[T]()[0][0], hyper[T]()[0][1])
				}
			})
		}
	})
}

func TestEquivalence32(t *testing.T) { testEquivalence[float32](t) }
func TestEquivalence64(t *testing.T) { testEquivalence[float64](t) }

func TestImplementations(t *testing.T) {
	names := Implementations()
	if len(names) == 0 || names[0] != "generic" {
		t.Fatalf("Implementations() = %v, want generic first", names)
	}
	if got, want := Implementation(), best().name; got != want && os.Getenv(EnvVar) == "" {
		t.Errorf("Implementation() = %q at start-up, want the widest supported, %q", got, want)
	}
	if err := Use("no-such-kernel"); err == nil || !strings.Contains(err.Error(), `unknown implementation "no-such-kernel"`) {
		t.Errorf("Use(unknown) = %v", err)
	}
	for _, m := range impls {
		err := Use(m.name)
		if m.supported() != (err == nil) {
			t.Errorf("Use(%q) = %v, supported = %v", m.name, err, m.supported())
		}
	}
	if err := Use(best().name); err != nil {
		t.Fatal(err)
	}
}

// near's one-compare form against the definition: two ranges of size bytes overlap
// when each starts before the other ends, at the ends of the address space too.
func TestNear(t *testing.T) {
	const top = ^uintptr(0)
	edges := []uintptr{0, 1, 2, 3, 63, 64, 65, 1 << 20, top / 2, top/2 + 1, top - 64, top - 1, top}
	sizes := []uintptr{0, 1, 2, 4, 64, 1 << 20, top / 4}
	for _, a := range edges {
		for _, b := range edges {
			for _, d := range []uintptr{0, 1, 3, 64} {
				for _, size := range sizes {
					b := b + d
					want := size != 0 && (a-b < size || b-a < size)
					if got := near(a, b, size); got != want {
						t.Errorf("near(%#x, %#x, %#x) = %v, want %v", a, b, size, got, want)
					}
				}
			}
		}
	}
}

// TestNoEscape: the dense entry points call each kernel directly (the stubs are
// //go:noescape), so slices on the caller's stack stay there: no allocation per
// call, on every path.
func TestNoEscape(t *testing.T) {
	forEachImpl(t, func(t *testing.T) {
		pytorch := Form{EpsOutside: true, Order: MulDiv, WeightDecay: WeightDecayFMA, FusedAccumulator: true}
		for name, call := range map[string]func(){
			"Update": func() {
				var x, s, g [16]float32
				Update(x[:], s[:], g[:], 0.1, 1e-6)
			},
			"Update64": func() {
				var x, s, g [16]float64
				Update(x[:], s[:], g[:], 0.1, 1e-6)
			},
			"Apply": func() {
				var x, s, g [16]float32
				Apply(pytorch, x[:], s[:], g[:], Params[float32]{LR: 0.1, Eps: 1e-6})
			},
			"Apply64": func() {
				var x, s, g [16]float64
				Apply(pytorch, x[:], s[:], g[:], Params[float64]{LR: 0.1, Eps: 1e-6})
			},
			"UpdateFast": func() {
				var x, s, g [16]float32
				UpdateFast(x[:], s[:], g[:], 0.1, 1e-6)
			},
		} {
			if n := testing.AllocsPerRun(100, call); n != 0 {
				t.Errorf("%s on stack arrays: %v allocations per call, want 0", name, n)
			}
		}
	})
}
