package kernel

import (
	"math"
	"runtime"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"
)

// Pool is how the parallel calls split a call's work: across how many goroutines,
// the caller's included, and from what length. A Pool's settings are fixed when it
// is made, and it is safe for concurrent use; every Pool hands its shares to the
// same helper goroutines, which are started on first use and kept, so a call
// allocates nothing. While another parallel call holds the helpers, a call runs
// on its own goroutine alone. A nil *Pool runs every call on the calling goroutine.
//
// The calls that take a Pool are functions (UpdateOn, ApplyOn), not methods,
// because Go methods cannot have type parameters; UpdateParallel and
// ApplyParallel use DefaultPool.
type Pool struct {
	workers  int // goroutines per call; 0 is GOMAXPROCS at the call
	minSplit int // the length from which a call splits
}

// PoolOption sets one setting of NewPool.
type PoolOption func(*Pool)

// WithWorkers sets how many goroutines a call may use, the caller's included.
// The default, and n ≤ 0, is runtime.GOMAXPROCS(0) at each call; 1 never splits.
func WithWorkers(n int) PoolOption { return func(p *Pool) { p.workers = max(n, 0) } }

// WithMinSplit sets the length from which a call splits; shorter calls run on the
// calling goroutine. A split pays once the helpers' shares outweigh the cost of
// handing them over, and that cost depends on whether the helpers are awake:
//   - back to back (one call per tensor of a model) they are still polling, a
//     handover costs little, and splitting pays for small tensors already;
//   - after a pause (one call per training step) they have parked, waking a
//     parked thread costs as much as a large share's work, and splitting pays
//     only for far larger tensors.
//
// The default, DefaultMinSplit, is the second crossover, so that no call is
// slower for being split; BenchmarkParallel measures both, and BENCHMARKS.md has
// them for the CPUs measured. A program that updates many tensors back to back
// can pass a lower length. n < 1 is 1.
func WithMinSplit(n int) PoolOption { return func(p *Pool) { p.minSplit = max(n, 1) } }

// DefaultMinSplit is the default of WithMinSplit, in elements.
const DefaultMinSplit = 2 << 20

// NewPool returns a Pool with the options given and the defaults for the rest.
func NewPool(opts ...PoolOption) *Pool {
	p := &Pool{minSplit: DefaultMinSplit}
	for _, o := range opts {
		o(p)
	}
	return p
}

// defaultPool serves UpdateParallel and ApplyParallel.
var defaultPool = NewPool()

// DefaultPool returns a Pool with the default settings: GOMAXPROCS goroutines
// from DefaultMinSplit elements. It is the Pool of UpdateParallel and
// ApplyParallel.
func DefaultPool() *Pool { return NewPool() }

// Workers is how many goroutines a call on p may use now, the caller's included.
func (p *Pool) Workers() int {
	if p == nil {
		return 1
	}
	if p.workers > 0 {
		return p.workers
	}
	return runtime.GOMAXPROCS(0)
}

// MinSplit is the length from which a call on p splits.
func (p *Pool) MinSplit() int {
	if p == nil {
		return math.MaxInt
	}
	return p.minSplit
}

// UpdateParallel is UpdateOn with DefaultPool: Update split across GOMAXPROCS
// goroutines for tensors of DefaultMinSplit elements or more.
func UpdateParallel[T Float](x, s, g []T, lr, eps T) {
	updateOn("kernel.UpdateParallel", defaultPool, x, s, g, lr, eps)
}

// UpdateOn is Update split across p's goroutines, bit-identical to Update: every
// element's arithmetic is the same, only which goroutine does it changes. The
// shares start at 64-byte boundaries of x. It panics as Update does.
func UpdateOn[T Float](p *Pool, x, s, g []T, lr, eps T) {
	updateOn("kernel.UpdateOn", p, x, s, g, lr, eps)
}

// ApplyParallel is ApplyOn with DefaultPool.
func ApplyParallel[T Float](f Form, x, s, g []T, prm Params[T]) {
	applyOn("kernel.ApplyParallel", defaultPool, f, x, s, g, prm)
}

// ApplyOn is Apply split across p's goroutines, as UpdateOn, bit-identical to
// Apply. It panics as Apply does.
func ApplyOn[T Float](p *Pool, f Form, x, s, g []T, prm Params[T]) {
	applyOn("kernel.ApplyOn", p, f, x, s, g, prm)
}

// updateOn and applyOn are the parallel calls, their messages naming fn.
func updateOn[T Float](fn string, p *Pool, x, s, g []T, lr, eps T) {
	if len(x) != len(s) || len(x) != len(g) || overlaps(addr(x), addr(s), addr(g), uintptr(len(x))*unsafe.Sizeof(lr)) {
		badArgs(fn, x, s, g)
	}
	runParallel(p, active.Load(), 0, x, s, g, Params[T]{LR: lr, Eps: eps, Decay: 1, Gain: 1})
}

func applyOn[T Float](fn string, p *Pool, f Form, x, s, g []T, prm Params[T]) {
	if len(x) != len(s) || len(x) != len(g) || overlaps(addr(x), addr(s), addr(g), uintptr(len(x))*unsafe.Sizeof(prm.LR)) {
		badArgs(fn, x, s, g)
	}
	id := formID(f)
	if id < 0 {
		badForm(fn, f)
	}
	runParallel(p, active.Load(), id, x, s, g, prm)
}

// runParallel is run32 or run64, as T's width says.
func runParallel[T Float](p *Pool, m *impl, id int, x, s, g []T, prm Params[T]) {
	if is32[T]() {
		run32(p, m, id, as32(x), as32(s), as32(g), params32(prm))
		return
	}
	run64(p, m, id, as64(x), as64(s), as64(g), params64(prm))
}

// chunk is one helper's share of a parallel call, sent by value so that sending
// it allocates nothing.
type chunk struct {
	m    *impl
	id   int  // the form's ID
	wide bool // float64
	// k32, when set, runs instead of m's form: BenchmarkParallel's traffic kernel.
	k32      func(x, s, g []float32, lr, eps, wd, decay, gain float32)
	x32, s32 []float32
	g32      []float32
	p32      Params[float32]
	x64, s64 []float64
	g64      []float64
	p64      Params[float64]
}

func (c *chunk) run() {
	if c.k32 != nil {
		p := c.p32
		c.k32(c.x32, c.s32, c.g32, p.LR, p.Eps, p.WeightDecay, p.Decay, p.Gain)
	} else if !c.wide {
		p := c.p32
		apply32(c.m, c.id, c.x32, c.s32, c.g32, p.LR, p.Eps, p.WeightDecay, p.Decay, p.Gain)
	} else {
		p := c.p64
		apply64(c.m, c.id, c.x64, c.s64, c.g64, p.LR, p.Eps, p.WeightDecay, p.Decay, p.Gain)
	}
	helpers.pending.Add(-1)
}

// helpers are the goroutines of the parallel calls, started on first use and
// kept; busy is held by the call using them.
var helpers struct {
	busy    sync.Mutex
	work    chan chunk
	started int
	pending atomic.Int32 // chunks sent and not yet done
}

// share returns how many goroutines a call of p on n elements of size bytes at x
// uses (at most p.Workers()), the elements of the first share, which ends at a
// 64-byte boundary of x, and of each later share but the last, whole lines.
func share(p *Pool, n int, size uintptr, x unsafe.Pointer) (workers, per, first int) {
	workers = p.Workers()
	if n < p.MinSplit() || workers < 2 {
		return 1, n, n
	}
	line := int(64 / size)
	roundUp := func(v int) int { return (v + line - 1) / line * line }
	// The first share ends at a line boundary of x, near n/workers; the others
	// split the rest in whole lines.
	lead := int((64-uintptr(x)%64)%64) / int(size) // elements before x's first boundary
	first = roundUp(n/workers) - (line-lead)%line
	if first <= 0 || first >= n {
		return 1, n, n
	}
	rest := n - first
	per = roundUp((rest + workers - 2) / (workers - 1))
	workers = 1 + (rest+per-1)/per
	return workers, per, first
}

// startHelpers makes sure at least k helper goroutines run; the caller holds busy.
func startHelpers(k int) {
	if helpers.work == nil {
		helpers.work = make(chan chunk, 64)
	}
	for ; helpers.started < k; helpers.started++ {
		go helper(helpers.work)
	}
}

// helperSpin is how long a helper keeps polling for the next chunk before it
// parks. Handing a chunk to a parked helper wakes its thread, and on a VM whose
// idle vCPU halts the wake-up can outlast the caller's own share, so the call
// runs serially (BENCHMARKS.md has the latency measured). Back-to-back calls
// (one per tensor of a model) find the helpers awake; a helper spins at most
// this long after its last chunk.
const helperSpin = 100 * time.Microsecond

func helper(work chan chunk) {
	for {
		select {
		case c := <-work:
			c.run()
			continue
		default:
		}
		if c, ok := poll(work, helperSpin); ok {
			c.run()
			continue
		}
		c := <-work
		c.run()
	}
}

// waitHelpers returns when every chunk sent is done. It does not park: a parked
// caller is woken onto the waking helper's processor, behind the helper's own
// polling. Gosched lets a helper that was queued on this processor run.
func waitHelpers() {
	for helpers.pending.Load() != 0 {
		runtime.Gosched()
	}
}

// poll receives from work for up to d without parking.
func poll(work chan chunk, d time.Duration) (chunk, bool) {
	for start := time.Now(); time.Since(start) < d; {
		select {
		case c := <-work:
			return c, true
		default:
		}
	}
	return chunk{}, false
}

// run32 and run64 run kernel k on x, s and g, split as share says: the shares
// after the first go to the helpers, the caller does the first.
func run32(pool *Pool, m *impl, id int, x, s, g []float32, p Params[float32]) {
	split(pool, x, 4, func(lo, hi int) {
		apply32(m, id, x[lo:hi], s[lo:hi], g[lo:hi], p.LR, p.Eps, p.WeightDecay, p.Decay, p.Gain)
	}, func(lo, hi int) chunk {
		return chunk{m: m, id: id, x32: x[lo:hi], s32: s[lo:hi], g32: g[lo:hi], p32: p}
	})
}

// runKernel32 is run32 with any kernel k in place of a form's.
func runKernel32(pool *Pool, k func(x, s, g []float32, lr, eps, wd, decay, gain float32), x, s, g []float32, p Params[float32]) {
	split(pool, x, 4, func(lo, hi int) {
		k(x[lo:hi], s[lo:hi], g[lo:hi], p.LR, p.Eps, p.WeightDecay, p.Decay, p.Gain)
	}, func(lo, hi int) chunk {
		return chunk{k32: k, x32: x[lo:hi], s32: s[lo:hi], g32: g[lo:hi], p32: p}
	})
}

func run64(pool *Pool, m *impl, id int, x, s, g []float64, p Params[float64]) {
	split(pool, x, 8, func(lo, hi int) {
		apply64(m, id, x[lo:hi], s[lo:hi], g[lo:hi], p.LR, p.Eps, p.WeightDecay, p.Decay, p.Gain)
	}, func(lo, hi int) chunk {
		return chunk{m: m, id: id, wide: true, x64: x[lo:hi], s64: s[lo:hi], g64: g[lo:hi], p64: p}
	})
}

// split runs own on the first share of x's elements (all of them when the call
// does not split or the helpers are busy) and sends the chunk of every other
// share to the helpers, then waits for them.
func split[T Float](pool *Pool, x []T, size uintptr, own func(lo, hi int), chunkOf func(lo, hi int) chunk) {
	n := len(x)
	workers, per, first := share(pool, n, size, unsafe.Pointer(unsafe.SliceData(x)))
	if workers == 1 || !helpers.busy.TryLock() {
		own(0, n)
		return
	}
	defer helpers.busy.Unlock()
	startHelpers(workers - 1)
	helpers.pending.Store(int32(workers - 1))
	for lo := first; lo < n; lo += per {
		helpers.work <- chunkOf(lo, min(lo+per, n))
	}
	own(0, first)
	waitHelpers()
}
