package kernel

import (
	"math"
	"math/rand/v2"
	"runtime"
	"slices"
	"sync"
	"testing"
	"time"
	"unsafe"

	"github.com/adagrad-go/adagrad/internal/fbits"
	"github.com/adagrad-go/adagrad/ref"
)

// splitSmall is the Pool of the tests' parallel calls: GOMAXPROCS goroutines
// from 64 elements, so that short slices split too. The tests never change the
// default Pool of UpdateParallel and ApplyParallel.
var splitSmall = NewPool(WithMinSplit(64))

// applyParallel and applySeq call ApplyOn with splitSmall and Apply for T.
func applyParallel[T float](f Form, x, s, g []T, p params) {
	ApplyOn(splitSmall, f, x, s, g, paramsIn[T](p))
}

func applySeq[T float](f Form, x, s, g []T, p params) {
	Apply(f, x, s, g, paramsIn[T](p))
}

func updateParallel[T float](x, s, g []T, lr, eps T) {
	UpdateOn(splitSmall, x, s, g, lr, eps)
}

// The parallel calls against the sequential ones, bit for bit, on every path, at
// lengths around the chunk boundaries, start offsets that move x's line boundaries
// and 1 to 5 workers (more than the CPU has too), with a guard after each slice.
func TestParallelMatchesSequential(t *testing.T) {
	saved := runtime.GOMAXPROCS(0)
	defer runtime.GOMAXPROCS(saved)
	forms := ref.Forms()
	forEachImpl(t, func(t *testing.T) {
		rng := rand.New(rand.NewPCG(5, 6))
		for _, procs := range []int{1, 2, 3, 5} {
			runtime.GOMAXPROCS(procs)
			for _, n := range []int{0, 1, 63, 64, 65, 100, 257, 1000, 4099, 9000, 70001} {
				for _, off := range []int{0, 1, 5, 15} {
					f := forms[rng.IntN(len(forms))]
					checkParallel[float32](t, rng, f, n, off)
					checkParallel[float64](t, rng, f, n, off)
				}
			}
		}
	})
}

func checkParallel[T float](t *testing.T, rng *rand.Rand, f Form, n, off int) {
	t.Helper()
	p := params{lr: 0.01, eps: 1e-6, wd: 0.01, decay: 0.9, gain: 0.1}
	mk := func() []T { return make([]T, off+n+1)[off:] }
	x, s, g := mk(), mk(), mk()
	fill(rng, "ordinary", x[:n], s[:n], g[:n])
	x[n], s[n] = 7, 7 // guards
	clone := func(v []T) []T { return append([]T(nil), v...) }
	px, ps, ux, us := clone(x), clone(s), clone(x), clone(s)
	applyParallel(f, px[:n], ps[:n], g[:n], p)
	applySeq(f, x[:n], s[:n], g[:n], p)
	for i := range x {
		if !fbits.Same(px[i], x[i]) || !fbits.Same(ps[i], s[i]) {
			t.Fatalf("ApplyParallel %T n=%d off=%d form %v: element %d: x=%v s=%v, Apply x=%v s=%v",
				x, n, off, f, i, px[i], ps[i], x[i], s[i])
		}
	}
	wx, ws := clone(ux), clone(us)
	updateParallel(ux[:n], us[:n], g[:n], T(p.lr), T(p.eps))
	update(wx[:n], ws[:n], g[:n], T(p.lr), T(p.eps))
	for i := range ux {
		if !fbits.Same(ux[i], wx[i]) || !fbits.Same(us[i], ws[i]) {
			t.Fatalf("UpdateParallel %T n=%d off=%d: element %d differs", x, n, off, i)
		}
	}
}

// The chunks cover [0, n) once, in order; every chunk after the first starts on
// a 64-byte line of x and is chunkBytes long but the last.
func TestChunks(t *testing.T) {
	buf := make([]float32, 1<<16+32)
	for _, n := range []int{2, 10, 64, 65, 1000, 4096, 4097, 1 << 16} {
		for off := range 16 {
			x := buf[off : off+n]
			var w work
			total := w.chunks(n, 4, unsafe.Pointer(&x[0]))
			w.n = n
			covered := 0
			for i := range total {
				lo, hi := w.bounds(i)
				if lo != covered || hi <= lo || hi > n {
					t.Fatalf("n=%d off=%d: chunk %d is [%d, %d) after %d elements", n, off, i, lo, hi, covered)
				}
				if i > 0 && uintptr(unsafe.Pointer(&x[lo]))%64 != 0 {
					t.Fatalf("n=%d off=%d: chunk %d at %d is not on a line", n, off, i, lo)
				}
				if i > 0 && i < total-1 && hi-lo != chunkBytes/4 {
					t.Fatalf("n=%d off=%d: chunk %d has %d elements", n, off, i, hi-lo)
				}
				covered = hi
			}
			if covered != n {
				t.Fatalf("n=%d off=%d: %d chunks cover %d", n, off, total, covered)
			}
		}
	}
}

// A helper that wakes late, after the caller has run every chunk or while it
// runs the last ones, changes no bit: each element is computed once, by the
// same kernel. Run under -race (make race), this is also the check that the
// chunks' handover is synchronized.
func TestParallelDelayedHelper(t *testing.T) {
	pool := NewPool(WithWorkers(3), WithMinSplit(1))
	rng := rand.New(rand.NewPCG(19, 1))
	var mu sync.Mutex
	delay := func() {
		mu.Lock()
		d := time.Duration(rng.IntN(400)) * time.Microsecond
		mu.Unlock()
		time.Sleep(d)
	}
	helpers.delay.Store(&delay)
	defer helpers.delay.Store(nil)
	forEachImpl(t, func(t *testing.T) {
		for _, n := range []int{2, 1000, 4097, 5 << 12, 100003} {
			for range 5 {
				x, s, g := benchInputs[float32](n)
				wx, ws := slices.Clone(x), slices.Clone(s)
				UpdateOn(pool, x, s, g, 0.01, 1e-6)
				Update(wx, ws, g, 0.01, 1e-6)
				for i := range x {
					if !fbits.Same(x[i], wx[i]) || !fbits.Same(s[i], ws[i]) {
						t.Fatalf("n=%d: element %d differs with a late helper", n, i)
					}
				}
			}
		}
	})
}

// Warm parallel calls allocate nothing, and concurrent callers all get their
// exact result (those that find the helpers busy run alone).
func TestParallelNoAllocConcurrent(t *testing.T) {
	n := 1 << 16
	x, s, g := benchInputs[float32](n)
	updateParallel(x, s, g, 0.01, 1e-6) // start the helpers
	if a := testing.AllocsPerRun(50, func() { updateParallel(x, s, g, 0.01, 1e-6) }); a != 0 {
		t.Errorf("UpdateOn allocates %v times per call", a)
	}
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			x, s, g := benchInputs[float32](n + w)
			wx, ws := append([]float32(nil), x...), append([]float32(nil), s...)
			for range 20 {
				updateParallel(x, s, g, 0.01, 1e-6)
				Update(wx, ws, g, 0.01, 1e-6)
			}
			for i := range x {
				if !fbits.Same(x[i], wx[i]) || !fbits.Same(s[i], ws[i]) {
					t.Errorf("caller %d: element %d differs", w, i)
					return
				}
			}
		}()
	}
	wg.Wait()
}

// A Pool's settings: the defaults, each option, the clamps, and nil, which never
// splits. UpdateOn with WithWorkers(1) runs alone however long the slice.
func TestPool(t *testing.T) {
	procs := runtime.GOMAXPROCS(0)
	for _, c := range []struct {
		name            string
		p               *Pool
		workers, minLen int
	}{
		{"default", NewPool(), procs, DefaultMinSplit},
		{"DefaultPool", DefaultPool(), procs, DefaultMinSplit},
		{"options", NewPool(WithWorkers(3), WithMinSplit(4096)), 3, 4096},
		{"clamped", NewPool(WithWorkers(-2), WithMinSplit(0)), procs, 1},
		{"last option wins", NewPool(WithWorkers(2), WithWorkers(5)), 5, DefaultMinSplit},
		{"nil", nil, 1, math.MaxInt},
	} {
		if w, m := c.p.Workers(), c.p.MinSplit(); w != c.workers || m != c.minLen {
			t.Errorf("%s: Workers %d MinSplit %d, want %d and %d", c.name, w, m, c.workers, c.minLen)
		}
	}
	for _, c := range []struct {
		p      *Pool
		splits bool
	}{{NewPool(WithWorkers(1), WithMinSplit(1)), false}, {nil, false}, {NewPool(WithWorkers(4), WithMinSplit(1)), true}} {
		if got := c.p.splits(1 << 12); got != c.splits {
			t.Errorf("Workers %d: a call of %d elements splits: %v, want %v", c.p.Workers(), 1<<12, got, c.splits)
		}
	}
	// DefaultPool returns a fresh value: changing what it points to cannot
	// change UpdateParallel's pool.
	*DefaultPool() = Pool{workers: 1, minSplit: 1}
	if defaultPool.workers != 0 || defaultPool.minSplit != DefaultMinSplit {
		t.Errorf("DefaultPool's value reaches the package's: %+v", *defaultPool)
	}
}
