//go:build linux

package kernel

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"runtime"
	"strings"
	"testing"
	"unsafe"

	"github.com/adagrad-go/adagrad/internal/fbits"
	"github.com/adagrad-go/adagrad/internal/guardmem"
	"github.com/adagrad-go/adagrad/ref"
)

// The guard-page tests run every kernel on slices that lie against a PROT_NONE
// page, after their end and before their start, at every start offset modulo 64
// bytes, in regions filled with the sentinel NaN: a stray read or write across
// the page faults, and a stray write within it changes a sentinel, which
// guardmem.Check reports.

// guardRegions are the regions of x, s and g, and as many sentinels as one
// holds, to copy back over a slice.
type guardRegions[T float] struct {
	r      [3]*guardmem.Region
	guards []T
}

// newGuardRegions maps three regions of at least bytes usable bytes each,
// filled with T's sentinel, unmapped when t ends.
func newGuardRegions[T float](t testing.TB, bytes int) *guardRegions[T] {
	t.Helper()
	rg := &guardRegions[T]{}
	for i := range rg.r {
		r, err := guardmem.New(bytes)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { r.Free() })
		guardmem.Fill(r, sentinel[T]())
		rg.r[i] = r
	}
	rg.guards = make([]T, rg.r[0].Size()/int(unsafe.Sizeof(T(0))))
	for i := range rg.guards {
		rg.guards[i] = sentinel[T]()
	}
	return rg
}

// guardAt is where one call's x, s and g lie: at which guard page, and either
// each flush against it or each at its start offset modulo 64 bytes.
type guardAt struct {
	side  guardmem.Side
	flush bool
	off   [3]int
}

func (p guardAt) String() string {
	if p.flush {
		return fmt.Sprintf("%v, flush", p.side)
	}
	return fmt.Sprintf("%v, offsets %v", p.side, p.off)
}

// guardPlacements returns where to run a call on T: x, s and g flush against the
// leading and then the trailing guard page, then, for each j of js on both
// sides, x at j elements past a 64-byte boundary and s and g at offsets that
// other permutations of j give, so that every array meets every offset as j
// runs through them all.
func guardPlacements[T float](js []int) []guardAt {
	size := int(unsafe.Sizeof(T(0)))
	lanes := 64 / size
	ps := []guardAt{{side: guardmem.Start, flush: true}, {side: guardmem.End, flush: true}}
	for _, j := range js {
		off := [3]int{j % lanes * size, (5*j + 1) % lanes * size, (3*j + 2) % lanes * size}
		ps = append(ps, guardAt{side: guardmem.Start, off: off}, guardAt{side: guardmem.End, off: off})
	}
	return ps
}

// allOffsets returns every offset index of T, 0 to 64/size−1.
func allOffsets[T float]() []int {
	js := make([]int, 64/unsafe.Sizeof(T(0)))
	for j := range js {
		js[j] = j
	}
	return js
}

// guardCase is one step's inputs and the results x and s must hold after it.
type guardCase[T float] struct {
	x0, s0, g0, wantX, wantS []T
}

// newGuardCase draws inputs of class for n elements and computes the expected
// results with want, on copies in ordinary memory.
func newGuardCase[T float](rng *rand.Rand, class string, n int, want func(x, s, g []T)) *guardCase[T] {
	c := &guardCase[T]{x0: make([]T, n), s0: make([]T, n), g0: make([]T, n)}
	fill(rng, class, c.x0, c.s0, c.g0)
	c.expect(want)
	return c
}

// guardPool holds random inputs of every class, drawn once: a case reads n
// elements of them from a start that moves with it, much cheaper than drawing
// every case anew.
type guardPool[T float] struct{ x, s, g [][]T }

// newGuardPool draws n elements of each of classes.
func newGuardPool[T float](rng *rand.Rand, n int, classes ...string) *guardPool[T] {
	p := &guardPool[T]{}
	for _, class := range classes {
		x, s, g := make([]T, n), make([]T, n), make([]T, n)
		fill(rng, class, x, s, g)
		p.x, p.s, p.g = append(p.x, x), append(p.s, s), append(p.g, g)
	}
	return p
}

// take returns the kth case of n elements of the pool's class ci, with the
// results of want. Its inputs are the pool's memory: only read.
func (p *guardPool[T]) take(ci, n, k int, want func(x, s, g []T)) *guardCase[T] {
	lo := k * 97 % (len(p.x[ci]) - n + 1)
	c := &guardCase[T]{x0: p.x[ci][lo : lo+n], s0: p.s[ci][lo : lo+n], g0: p.g[ci][lo : lo+n]}
	c.expect(want)
	return c
}

// expect sets c's results to want's on copies of its inputs.
func (c *guardCase[T]) expect(want func(x, s, g []T)) {
	c.wantX, c.wantS = append([]T(nil), c.x0...), append([]T(nil), c.s0...)
	want(c.wantX, c.wantS, append([]T(nil), c.g0...))
}

// runGuarded places copies of c's inputs in rg at p, runs call on them, and
// fails t unless x and s hold c's results (bit for bit, NaN payloads aside), g
// still holds g0's bits, and every sentinel of the three regions is intact.
// The regions hold nothing but sentinels before and after.
func runGuarded[T float](t *testing.T, rg *guardRegions[T], p guardAt, c *guardCase[T], call func(x, s, g []T), what func() string) {
	t.Helper()
	var sl [3][]T
	for i, in := range [3][]T{c.x0, c.s0, c.g0} {
		off := p.off[i]
		if p.flush {
			off = guardmem.Flush[T](p.side, len(in))
		}
		sl[i] = guardmem.Place[T](rg.r[i], p.side, len(in), off)
		copy(sl[i], in)
	}
	x, s, g := sl[0], sl[1], sl[2]
	if addr, faulted := guardmem.CatchFault(func() { call(x, s, g) }); faulted {
		t.Fatalf("%s at %v: fault at %#x; %s", what(), p, addr, describeAddr(addr, sl))
	}
	for _, v := range []struct {
		name      string
		got, want []T
		exact     bool
	}{{"s", s, c.wantS, false}, {"x", x, c.wantX, false}, {"g", g, c.g0, true}} {
		if bytes.Equal(asBytes(v.got), asBytes(v.want)) {
			continue // the usual case, and cheap
		}
		for i := range v.want {
			if fbits.Bits(v.got[i]) != fbits.Bits(v.want[i]) && (v.exact || !fbits.Same(v.got[i], v.want[i])) {
				t.Fatalf("%s at %v: %s[%d] = %v (%#x), want %v (%#x)", what(), p, v.name, i, v.got[i], fbits.Bits(v.got[i]), v.want[i], fbits.Bits(v.want[i]))
			}
		}
	}
	for i, name := range []string{"x", "s", "g"} {
		if err := guardmem.Check(rg.r[i], rg.guards[0], sl[i]); err != nil {
			t.Fatalf("%s at %v: around %s: %v", what(), p, name, err)
		}
		copy(sl[i], rg.guards) // only the slice holds anything else: cheaper than a Fill
	}
}

// describeAddr says where addr lies from the slices x, s and g.
func describeAddr[T float](addr uintptr, sl [3][]T) string {
	var near []string
	for i, v := range sl {
		lo := uintptr(unsafe.Pointer(unsafe.SliceData(v)))
		hi := lo + uintptr(len(v))*unsafe.Sizeof(T(0))
		switch name := []string{"x", "s", "g"}[i]; {
		case addr >= hi && addr-hi < 256:
			near = append(near, fmt.Sprintf("%d bytes past the end of %s", addr-hi, name))
		case addr < lo && lo-addr <= 256:
			near = append(near, fmt.Sprintf("%d bytes before %s", lo-addr, name))
		}
	}
	if len(near) == 0 {
		return "far from x, s and g"
	}
	return strings.Join(near, ", ")
}

// asBytes views v's memory as bytes.
func asBytes[T float](v []T) []byte {
	return unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(v))), len(v)*int(unsafe.Sizeof(T(0))))
}

// guardOffsets returns the offset indices to run at the kth case of a loop: all
// of them, or one, which moves on with k.
func guardOffsets[T float](k int, all bool) []int {
	if all {
		return allOffsets[T]()
	}
	return []int{k % (64 / int(unsafe.Sizeof(T(0))))}
}

// testGuardPages runs, on every implementation, Update, UpdateParallel, Apply
// and ApplyParallel of every form, and (float32) UpdateFast, at the placements
// of guardPlacements, on lengths through every loop and tail of the widest
// kernel (maxSmall) and on a few large ones. Update and UpdateFast meet every
// offset at every length; the forms meet one offset per length, moving with
// it, on the lengths of guardLength. The sample (-short, and generic, whose
// kernels are package ref's bounds-checked Go loops and the reference
// besides) gives Update and UpdateFast one offset per length, moving with it,
// and runs fewer lengths and large sizes.
func testGuardPages[T float](t *testing.T) {
	size := int(unsafe.Sizeof(T(0)))
	forEachImpl(t, func(t *testing.T) {
		sample := testing.Short() || Implementation() == "generic"
		rng := rand.New(rand.NewPCG(7, uint64(size)))
		rg := newGuardRegions[T](t, maxSmall*size+64)
		pool := newGuardPool[T](rng, 3*maxSmall, classes...)
		const lr, eps = 0.1, 1e-6
		for n := 0; n <= maxSmall; n++ {
			ci := n % len(classes)
			c := pool.take(ci, n, n, func(x, s, g []T) { refUpdate(x, s, g, lr, eps) })
			for _, p := range guardPlacements[T](guardOffsets[T](n, !sample)) {
				runGuarded(t, rg, p, c, func(x, s, g []T) { update(x, s, g, lr, eps) },
					func() string { return fmt.Sprintf("Update %s n=%d", classes[ci], n) })
			}
		}
		if rg32, ok := any(rg).(*guardRegions[float32]); ok {
			for n := 0; n <= maxSmall; n++ {
				testGuardFast(t, rg32, rng, n, guardPlacements[float32](guardOffsets[float32](n, !sample)))
			}
		}
		for fi, f := range ref.Forms() {
			for n := 0; n <= maxSmall; n++ {
				if !guardLength(n, fi, sample) {
					continue
				}
				p := formParams[(n+fi)%len(formParams)]
				ci := (n + fi) % len(classes)
				c := pool.take(ci, n, n+fi, func(x, s, g []T) { refApply(f, x, s, g, p) })
				what := func() string { return fmt.Sprintf("Apply %v %s n=%d %+v", f, classes[ci], n, p) }
				for _, pl := range guardPlacements[T](guardOffsets[T](n+fi, false)) {
					runGuarded(t, rg, pl, c, func(x, s, g []T) { applySeq(f, x, s, g, p) }, what)
				}
			}
		}
		testGuardParallel(t, rg, pool, sample)
		testGuardLarge[T](t, rng, sample)
	})
}

// guardLength reports whether the forms' loop runs length n with form index
// fi: every length through four blocks of AVX2's float32 kernels (4·32+1), then
// every third, which still meets every residue of the widest block (AVX-512's,
// 128 float32) once. The sample (-short, generic): the smallest lengths, the
// largest, and every 23rd from a start that moves with the form. 23 is prime
// to every block, so each form still meets every offset (which moves with n)
// and the forms together every residue of every block.
func guardLength(n, fi int, sample bool) bool {
	if sample {
		return n <= 3 || n == maxSmall || (n+fi)%23 == 0
	}
	return n <= 4*32+1 || n%3 == 0 || n == maxSmall
}

// testGuardParallel runs UpdateParallel and ApplyParallel at lengths that split
// (ParallelMin is 64) in up to 3 shares: UpdateParallel at every third length,
// ApplyParallel of every form at one. The sample (a call waits for helper
// threads, slow under qemu on a busy host) takes every 29th length and every
// 8th form. It runs apart from the sequential calls, which the helpers'
// spinning would slow.
func testGuardParallel[T float](t *testing.T, rg *guardRegions[T], pool *guardPool[T], sample bool) {
	// 3 gives a call a share between the first and the last even on 2 cores.
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(3))
	const lr, eps = 0.1, 1e-6
	step := 3
	if sample {
		step = 29
	}
	for n := 64; n <= maxSmall; n += step {
		c := pool.take(0, n, n, func(x, s, g []T) { refUpdate(x, s, g, lr, eps) })
		for _, p := range guardPlacements[T](guardOffsets[T](n, false)) {
			runGuarded(t, rg, p, c, func(x, s, g []T) { updateParallel(x, s, g, lr, eps) },
				func() string { return fmt.Sprintf("UpdateParallel n=%d", n) })
		}
	}
	for fi, f := range ref.Forms() {
		if sample && fi%8 != 0 {
			continue
		}
		n := 64 + fi*37%(maxSmall-63)
		p := formParams[fi%len(formParams)]
		c := pool.take(fi%len(classes), n, fi, func(x, s, g []T) { refApply(f, x, s, g, p) })
		for _, pl := range guardPlacements[T](guardOffsets[T](fi, false)) {
			runGuarded(t, rg, pl, c, func(x, s, g []T) { applyParallel(f, x, s, g, p) },
				func() string { return fmt.Sprintf("ApplyParallel %v n=%d %+v", f, n, p) })
		}
	}
}

// testGuardLarge runs the loops many times over and the parallel calls in long
// shares: Update, UpdateParallel and (float32) UpdateFast at the placements of
// one offset, Apply of every form at the first size (of a sample at the others,
// or with sample set), flush against either page, and ApplyParallel of a
// sample. -short runs one smaller size (under qemu), generic the first.
func testGuardLarge[T float](t *testing.T, rng *rand.Rand, sample bool) {
	const lr, eps = 0.1, 1e-6
	size := int(unsafe.Sizeof(T(0)))
	large := []int{1<<16 + 3, 1<<20 + 5}
	if testing.Short() {
		large = []int{1<<12 + 5}
	} else if sample {
		large = large[:1]
	}
	pool := newGuardPool[T](rng, large[len(large)-1]+1000, "ordinary")
	for li, n := range large {
		rg := newGuardRegions[T](t, n*size+64)
		c := pool.take(0, n, li, func(x, s, g []T) { refUpdate(x, s, g, lr, eps) })
		for _, pl := range guardPlacements[T]([]int{li + 1}) {
			runGuarded(t, rg, pl, c, func(x, s, g []T) { update(x, s, g, lr, eps) },
				func() string { return fmt.Sprintf("Update n=%d", n) })
			runGuarded(t, rg, pl, c, func(x, s, g []T) { updateParallel(x, s, g, lr, eps) },
				func() string { return fmt.Sprintf("UpdateParallel n=%d", n) })
		}
		for fi, f := range ref.Forms() {
			picked := fi%17 == 3 && (li == 0 || fi%2 == 1) // 6 forms, 3 beyond the first size
			if !picked && (li > 0 || sample) {
				continue
			}
			p := formParams[fi%len(formParams)]
			c := pool.take(0, n, fi, func(x, s, g []T) { refApply(f, x, s, g, p) })
			for _, pl := range guardPlacements[T](nil) {
				runGuarded(t, rg, pl, c, func(x, s, g []T) { applySeq(f, x, s, g, p) },
					func() string { return fmt.Sprintf("Apply %v n=%d", f, n) })
				if picked {
					runGuarded(t, rg, pl, c, func(x, s, g []T) { applyParallel(f, x, s, g, p) },
						func() string { return fmt.Sprintf("ApplyParallel %v n=%d", f, n) })
				}
			}
		}
		if rg32, ok := any(rg).(*guardRegions[float32]); ok {
			testGuardFast(t, rg32, rng, n, guardPlacements[float32]([]int{li + 3}))
		}
	}
}

// testGuardFast runs UpdateFast at placements ps against UpdateFast on copies in
// ordinary memory: the fast mode is not ref's, but each path is deterministic.
func testGuardFast(t *testing.T, rg *guardRegions[float32], rng *rand.Rand, n int, ps []guardAt) {
	t.Helper()
	const lr, eps = 0.01, 1e-7
	class := []string{"ordinary", "tiny", "huge", "inf", "nan"}[n%5]
	c := newGuardCase(rng, class, n, func(x, s, g []float32) { UpdateFast(x, s, g, lr, eps) })
	for _, p := range ps {
		runGuarded(t, rg, p, c, func(x, s, g []float32) { UpdateFast(x, s, g, lr, eps) },
			func() string { return fmt.Sprintf("UpdateFast %s n=%d", class, n) })
	}
}

func TestGuardPages32(t *testing.T) { testGuardPages[float32](t) }
func TestGuardPages64(t *testing.T) { testGuardPages[float64](t) }

// testGuardRows runs the sparse steps on every implementation with the tables
// and the gradient rows at the placements of guardPlacements (every offset;
// one per row width in -short), the first and the last row indexed, repeated
// rows included, over row widths through the kernels' vectors and tails:
// ApplyRows (both duplicate modes, every row form), ApplyRowsParallel with 2
// and 3 workers, UpdateRows, and RowWise of every form at one placement each
// (a quarter of the forms per width in -short).
func testGuardRows[T float, I Index](t *testing.T) {
	const numRows = 5
	dims := []int{1, 2, 7, 8, 16, 17, 33, 129}
	rows := []I{0, numRows - 1, 2, numRows - 1, 0, 1}
	size := int(unsafe.Sizeof(T(0)))
	short := testing.Short()
	forEachImpl(t, func(t *testing.T) {
		rng := rand.New(rand.NewPCG(5, uint64(size)))
		rg := newGuardRegions[T](t, max(numRows, len(rows))*dims[len(dims)-1]*size+64)
		var sc Scratch
		for di, dim := range dims {
			pls := guardPlacements[T](guardOffsets[T](di, !short))
			// draw returns tables of numRows·dim, s of sLen and len(rows)
			// gradient rows, with s ≥ 0 as Adagrad keeps it.
			draw := func(class string, sLen int) *guardCase[T] {
				c := &guardCase[T]{x0: make([]T, numRows*dim), s0: make([]T, sLen), g0: make([]T, len(rows)*dim)}
				fill(rng, class, c.x0, make([]T, len(c.x0)), make([]T, len(c.x0)))
				fill(rng, class, make([]T, sLen), c.s0, make([]T, sLen))
				fill(rng, class, make([]T, len(c.g0)), make([]T, len(c.g0)), c.g0)
				for i := range c.s0 {
					c.s0[i] = abs(c.s0[i])
				}
				return c
			}
			for fi, f := range rowForms {
				for _, dup := range []Duplicates{DuplicatesInOrder, DuplicatesSummed} {
					p := formParams[(di+fi)%len(formParams)]
					p.lr = abs(p.lr)
					c := draw("ordinary", numRows*dim)
					c.expect(func(x, s, g []T) {
						if err := refRows(f, dup, x, s, dim, rows, g, p); err != nil {
							t.Fatal(err)
						}
					})
					for _, workers := range []int{0, 2, 3} {
						what := func() string { return fmt.Sprintf("ApplyRows %v dup=%d dim=%d workers=%d", f, dup, dim, workers) }
						for _, pl := range pls {
							runGuarded(t, rg, pl, c, func(x, s, g []T) {
								if err := kernelRows(f, dup, x, s, dim, rows, g, p, &sc, workers); err != nil {
									t.Fatal(what(), err)
								}
							}, what)
						}
					}
					if fi == 0 && dup == DuplicatesInOrder {
						what := func() string { return fmt.Sprintf("UpdateRows dim=%d", dim) }
						for _, pl := range pls {
							runGuarded(t, rg, pl, c, func(x, s, g []T) {
								if err := UpdateRows(x, s, dim, rows, g, T(p.lr), T(p.eps)); err != nil {
									t.Fatal(what(), err)
								}
							}, what)
						}
					}
				}
			}
			for fi, f := range ref.Forms() {
				if short && (fi+di)%4 != 0 {
					continue
				}
				p := rowWiseParams[(di+fi)%len(rowWiseParams)]
				class := classes[(di+fi)%len(classes)]
				c := draw(class, numRows)
				c.expect(func(x, s, g []T) {
					if err := refRowWise(f, x, s, dim, rows, g, p); err != nil {
						t.Fatal(err)
					}
				})
				what := func() string { return fmt.Sprintf("RowWise %v %s dim=%d %+v", f, class, dim, p) }
				runGuarded(t, rg, pls[(fi+di)%len(pls)], c, func(x, s, g []T) {
					if err := kernelRowWise(f, x, s, dim, rows, g, p); err != nil {
						t.Fatal(what(), err)
					}
				}, what)
			}
		}
	})
}

func TestGuardPagesRows(t *testing.T) {
	t.Run("float32", testGuardRows[float32, int32])
	t.Run("float64", testGuardRows[float64, int64])
}
