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
// is made, and it is safe for concurrent use; every Pool hands its chunks to the
// same helper goroutines, which are started on first use and kept, so a call
// allocates nothing. A call is cut into chunks of 32 KiB of x that the caller and
// the helpers claim as they get to them, so a helper that starts late takes
// fewer and the call never waits for one that nobody has claimed. While another
// parallel call holds the helpers, a call runs on its own goroutine alone. A nil
// *Pool runs every call on the calling goroutine.
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
// calling goroutine. A split pays once the helpers' chunks outweigh the cost of
// handing them over, and that cost depends on whether the helpers are awake:
//   - back to back (one call per tensor of a model) they are still polling, a
//     handover costs little, and splitting pays for small tensors already;
//   - after a pause (one call per training step) they have parked, and waking a
//     parked thread costs the caller a system call and starts the helper late.
//
// So n is the length from which a call splits while a helper is awake; with
// none awake a call splits from 4n, and a shorter one runs alone and, when the
// calls come back to back, wakes a helper for the next. The default,
// DefaultMinSplit, is where a split pays back to back on the CPUs measured
// (BenchmarkParallel and BenchmarkParallelScenarios; BENCHMARKS.md). n < 1 is 1.
func WithMinSplit(n int) PoolOption { return func(p *Pool) { p.minSplit = max(n, 1) } }

// DefaultMinSplit is the default of WithMinSplit, in elements.
const DefaultMinSplit = 64 << 10

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

// start is the origin of sinceStart's monotonic clock.
var start = time.Now()

// sinceStart is the monotonic time since start, in nanoseconds.
func sinceStart() int64 { return int64(time.Since(start)) }

// coldSplit is how many times a Pool's MinSplit a call must be to split when no
// helper is awake, after a pause longer than helperSpin: waking one costs more
// than a short call's share (BENCHMARKS.md has both crossovers).
const coldSplit = 4

// splits reports whether a call of n elements on p may be shared with helpers.
func (p *Pool) splits(n int) bool { return n >= 2 && n >= p.MinSplit() && p.Workers() >= 2 }

// UpdateParallel is UpdateOn with DefaultPool: Update split across GOMAXPROCS
// goroutines for tensors of DefaultMinSplit elements or more.
func UpdateParallel[T Float](x, s, g []T, lr, eps T) {
	updateOn("kernel.UpdateParallel", defaultPool, x, s, g, lr, eps)
}

// UpdateOn is Update split across p's goroutines, bit-identical to Update: every
// element's arithmetic is the same, only which goroutine does it changes. The
// chunks after the first start at 64-byte boundaries of x. It panics as Update
// does.
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

// work is the parallel call the helpers serve, one at a time: its caller holds
// helpers.busy from before it sets the fields until its chunks are done.
//
// The call is cut into chunks of about chunkBytes of x, the first ending at a
// 64-byte boundary of x and each later one a whole number of lines, and the
// chunks into one run of consecutive chunks per worker, a region, each with an
// atomic cursor. A worker claims the chunks of its own region in order, then
// those left in the others: the caller's region starts at the first chunk, and
// a helper that wakes late finds fewer chunks, or none. Nobody waits for a chunk
// nobody has claimed: the caller, once every cursor has run out, waits only for
// the chunks claimed and still running. Each element is computed once, by the
// same kernel on the same inputs, so which goroutine runs which chunk never
// changes a bit.
//
// The regions keep a worker on the same part of a tensor from call to call,
// where its caches hold it (one cursor for all had the caller and the helper
// trade lines between their L2 caches); a cursor per region also keeps the
// claims of many workers off one contended line.
type work struct {
	m    *impl
	id   int  // the form's ID
	wide bool // float64
	// k32, when set, runs instead of m's form: BenchmarkParallel's traffic kernel.
	k32 func(x, s, g []float32, lr, eps, wd, decay, gain float32)
	// part, when set, is the whole call, chunk i its part i (runParts).
	part     func(i int)
	x32, s32 []float32
	g32      []float32
	p32      Params[float32]
	x64, s64 []float64
	g64      []float64
	p64      Params[float64]
	n        int // elements
	first    int // the first chunk's length
	per      int // every later chunk's, the last's at most
	// cursor[r] is region r's end (high 32 bits) and next chunk (low 32 bits);
	// the caller stores them last, after every field above.
	cursor [maxRegions]paddedCursor
	done   atomic.Int64 // chunks finished
}

// maxRegions bounds the regions of a call: workers beyond it only take chunks
// left in the others'.
const maxRegions = 64

// paddedCursor is a region's cursor alone on its cache line, whatever the
// array's alignment: two cursors are 128 bytes apart, also beyond the adjacent
// line that some CPUs fetch in pairs.
type paddedCursor struct {
	atomic.Uint64
	_ [120]byte
}

// chunkBytes is the length of a chunk of x: small enough that a helper waking
// late still finds some, large enough that a claim (one compare-and-swap) costs
// little beside it.
const chunkBytes = 32 << 10

// chunks sets w's chunking of n elements of size bytes at x and returns how
// many chunks there are.
func (w *work) chunks(n int, size uintptr, x unsafe.Pointer) int {
	line := int(64 / size)
	w.per = chunkBytes / int(size)
	lead := int((64-uintptr(x)%64)%64) / int(size) // elements before x's first line boundary
	w.first = min(n, lead%line+w.per)
	return 1 + (n-w.first+w.per-1)/w.per
}

// bounds is chunk i's range of elements.
func (w *work) bounds(i int) (lo, hi int) {
	if i == 0 {
		return 0, w.first
	}
	lo = w.first + (i-1)*w.per
	return lo, min(lo+w.per, w.n)
}

// publish divides total chunks into regions and opens them for claims.
func (w *work) publish(total, regions int) {
	w.done.Store(0)
	for r := range regions {
		lo, hi := r*total/regions, (r+1)*total/regions
		w.cursor[r].Store(uint64(hi)<<32 | uint64(lo))
	}
}

// claim returns the next chunk for a worker whose last claim was in region r
// (at first its own): that region's next, else the next of the first region
// after it with one left, and the region it came from; false when none is left.
func (w *work) claim(r int) (chunk, region int, ok bool) {
	for k := range maxRegions {
		region = (r + k) % maxRegions
		c := &w.cursor[region]
		for {
			st := c.Load()
			next, end := uint32(st), uint32(st>>32)
			if next >= end {
				break
			}
			if c.CompareAndSwap(st, st+1) {
				return int(next), region, true
			}
		}
	}
	return 0, 0, false
}

// run runs chunk i of the call, as a helper does.
func (w *work) run(i int) {
	if w.part != nil {
		w.part(i)
		return
	}
	lo, hi := w.bounds(i)
	switch {
	case w.k32 != nil:
		p := w.p32
		w.k32(w.x32[lo:hi], w.s32[lo:hi], w.g32[lo:hi], p.LR, p.Eps, p.WeightDecay, p.Decay, p.Gain)
	case !w.wide:
		p := w.p32
		apply32(w.m, w.id, w.x32[lo:hi], w.s32[lo:hi], w.g32[lo:hi], p.LR, p.Eps, p.WeightDecay, p.Decay, p.Gain)
	default:
		p := w.p64
		apply64(w.m, w.id, w.x64[lo:hi], w.s64[lo:hi], w.g64[lo:hi], p.LR, p.Eps, p.WeightDecay, p.Decay, p.Gain)
	}
}

// helpers are the goroutines of the parallel calls, started on first use and
// kept; busy is held by the call using them, whose chunks are in call. A
// wake-up names the region its helper starts from.
var helpers struct {
	busy    sync.Mutex
	wake    chan int
	started int
	call    work
	// spinning counts the helpers polling for a call, awake: a call handed to
	// them starts at once, while waking a parked one costs the caller a system
	// call and, on a VM whose idle vCPU halts, starts the helper tens of
	// microseconds later.
	spinning atomic.Int32
	// last is when the last call that could split ended (sinceStart).
	last atomic.Int64
	// delay, when set (tests only), runs before a helper claims its first
	// chunk of a call: a helper that wakes late.
	delay atomic.Pointer[func()]
}

// startHelpers makes sure at least k helper goroutines run; the caller holds busy.
func startHelpers(k int) {
	if helpers.wake == nil {
		helpers.wake = make(chan int, 2*maxRegions)
	}
	for ; helpers.started < k; helpers.started++ {
		go helper(helpers.wake)
	}
}

// helperSpin is how long a helper keeps polling for the next call before it
// parks. Waking a parked helper's thread costs the caller a system call, and
// on a VM whose idle vCPU halts the helper starts long after; back-to-back calls
// (one per tensor of a model) find the helpers awake. A helper spins at most
// this long after its last chunk.
const helperSpin = 100 * time.Microsecond

// helper runs the chunks of each call it is woken for. A wake-up it takes late,
// after the call has ended, finds no chunk to claim and costs nothing.
func helper(wake chan int) {
	for {
		var home int
		select {
		case home = <-wake:
		default:
			helpers.spinning.Add(1)
			var ok bool
			home, ok = poll(wake, helperSpin)
			helpers.spinning.Add(-1)
			if !ok {
				home = <-wake
			}
		}
		if d := helpers.delay.Load(); d != nil {
			(*d)()
		}
		w := &helpers.call
		for r := home; ; {
			i, next, ok := w.claim(r)
			if !ok {
				break
			}
			w.run(i)
			w.done.Add(1)
			r = next
		}
	}
}

// poll receives from wake for up to d without parking.
func poll(wake chan int, d time.Duration) (int, bool) {
	for start := time.Now(); time.Since(start) < d; {
		select {
		case home := <-wake:
			return home, true
		default:
		}
	}
	return 0, false
}

// run32 and run64 run a form's kernel on x, s and g, in chunks shared with the
// helpers when the call splits.
func run32(pool *Pool, m *impl, id int, x, s, g []float32, p Params[float32]) {
	split(pool, x, 4, func(lo, hi int) {
		apply32(m, id, x[lo:hi], s[lo:hi], g[lo:hi], p.LR, p.Eps, p.WeightDecay, p.Decay, p.Gain)
	}, func(w *work) {
		w.m, w.id, w.x32, w.s32, w.g32, w.p32 = m, id, x, s, g, p
	})
}

// runKernel32 is run32 with any kernel k in place of a form's.
func runKernel32(pool *Pool, k func(x, s, g []float32, lr, eps, wd, decay, gain float32), x, s, g []float32, p Params[float32]) {
	split(pool, x, 4, func(lo, hi int) {
		k(x[lo:hi], s[lo:hi], g[lo:hi], p.LR, p.Eps, p.WeightDecay, p.Decay, p.Gain)
	}, func(w *work) {
		w.k32, w.x32, w.s32, w.g32, w.p32 = k, x, s, g, p
	})
}

func run64(pool *Pool, m *impl, id int, x, s, g []float64, p Params[float64]) {
	split(pool, x, 8, func(lo, hi int) {
		apply64(m, id, x[lo:hi], s[lo:hi], g[lo:hi], p.LR, p.Eps, p.WeightDecay, p.Decay, p.Gain)
	}, func(w *work) {
		w.m, w.id, w.wide, w.x64, w.s64, w.g64, w.p64 = m, id, true, x, s, g, p
	})
}

// split runs own on all of x's elements when the call does not split (shorter
// than the pool's MinSplit, one worker, or the helpers busy with another call);
// otherwise set describes the call in helpers.call, the helpers are woken, and
// the caller runs the chunks they have not claimed, then waits for the ones
// they have.
func split[T Float](pool *Pool, x []T, size uintptr, own func(lo, hi int), set func(w *work)) {
	n := len(x)
	if !pool.splits(n) {
		own(0, n)
		return
	}
	if n < coldSplit*pool.MinSplit() && helpers.spinning.Load() == 0 {
		// No helper is awake to take a short call's chunks in time. If the
		// calls come in a burst, wake one for the next.
		own(0, n)
		if now := sinceStart(); now-helpers.last.Swap(now) < int64(helperSpin) && helpers.busy.TryLock() {
			startHelpers(1)
			select {
			case helpers.wake <- 1:
			default:
			}
			helpers.busy.Unlock()
		}
		return
	}
	if !helpers.busy.TryLock() {
		own(0, n)
		return
	}
	defer helpers.busy.Unlock()
	defer func() { helpers.last.Store(sinceStart()) }()
	w := &helpers.call
	total := w.chunks(n, size, unsafe.Pointer(unsafe.SliceData(x)))
	if total < 2 {
		own(0, n)
		return
	}
	w.n = n
	set(w)
	workers := min(pool.Workers(), total)
	regions := min(workers, maxRegions)
	w.publish(total, regions) // from here helpers may claim
	w.runAll(workers, regions, total, func(i int) { own(w.bounds(i)) })
}

// runAll wakes workers − 1 helpers, each at its own region, runs the chunks the
// caller claims (from region 0) with do, waits for those the helpers claimed,
// and releases the call. The caller holds helpers.busy and has published w.
func (w *work) runAll(workers, regions, total int, do func(i int)) {
	startHelpers(workers - 1)
	for h := 1; h < workers; h++ {
		select {
		case helpers.wake <- h % regions:
		default: // enough wake-ups are pending
		}
	}
	mine := int64(0)
	for r := 0; ; {
		i, next, ok := w.claim(r)
		if !ok {
			break
		}
		do(i)
		mine++
		r = next
	}
	// Only chunks a helper has claimed can be outstanding. The caller does not
	// park: a parked caller is woken onto the helper's processor, behind the
	// helper's own polling. Gosched lets a helper queued on this processor run.
	for w.done.Load()+mine != int64(total) {
		runtime.Gosched()
	}
	w.release()
}

// release drops the call's slices and kernel, so that the helpers keep none of
// the caller's memory alive. The helpers read the fields only after a claim, and
// none is left to claim.
func (w *work) release() {
	w.m, w.k32, w.part, w.wide = nil, nil, nil, false
	w.x32, w.s32, w.g32, w.x64, w.s64, w.g64 = nil, nil, nil, nil, nil, nil
}

// runParts runs part(i) for every i < n once, on the caller and n − 1 helpers,
// as split runs chunks: each part is claimed by one goroutine, a helper that
// wakes late finds its part taken by the caller, and the call waits only for
// the parts claimed and running. It runs nothing and returns false when the
// helpers are busy with another call. The sparse steps' partitions by row are
// its parts.
func runParts(n int, part func(i int)) bool {
	if !helpers.busy.TryLock() {
		return false
	}
	defer helpers.busy.Unlock()
	w := &helpers.call
	w.part = part
	regions := min(n, maxRegions)
	w.publish(n, regions)
	w.runAll(n, regions, n, part)
	return true
}
