//go:build linux

// Package guardmem hands out memory that sits flush against inaccessible pages, so a
// test can prove that a kernel never reads or writes one byte outside its slices:
// the first stray access faults and the test binary dies with the address.
package guardmem

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math"
	"os"
	"runtime/debug"
	"slices"
	"strings"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Region is a read-write mapping with a PROT_NONE page directly before and after it.
type Region struct {
	mapping []byte // guard page, data pages, guard page
	data    []byte // the usable pages between the guards
}

// New maps a region with at least size usable bytes between two guard pages.
func New(size int) (*Region, error) {
	page := os.Getpagesize()
	usable := (size + page - 1) / page * page
	if usable == 0 {
		usable = page
	}
	m, err := unix.Mmap(-1, 0, usable+2*page, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_ANON)
	if err != nil {
		return nil, fmt.Errorf("guardmem: mmap %d bytes: %w", usable+2*page, err)
	}
	for _, g := range [][]byte{m[:page], m[page+usable:]} {
		if err := unix.Mprotect(g, unix.PROT_NONE); err != nil {
			unix.Munmap(m)
			return nil, fmt.Errorf("guardmem: mprotect: %w", err)
		}
	}
	return &Region{mapping: m, data: m[page : page+usable : page+usable]}, nil
}

// Size is the number of usable bytes.
func (r *Region) Size() int { return len(r.data) }

// Head returns the first n bytes: the byte before them is in the leading guard page.
func (r *Region) Head(n int) []byte { return r.data[:n:n] }

// Tail returns the last n bytes: the byte after them is in the trailing guard page.
func (r *Region) Tail(n int) []byte { return r.data[len(r.data)-n:] }

// Free unmaps the region; slices taken from it must not be used afterwards.
func (r *Region) Free() error { return unix.Munmap(r.mapping) }

// Floats views b as elements of T. len(b) must be a multiple of the element size.
func Floats[T float32 | float64](b []byte) []T {
	var zero T
	size := int(unsafe.Sizeof(zero))
	if len(b)%size != 0 {
		panic(fmt.Sprintf("guardmem.Floats: %d bytes is not a whole number of %d-byte elements", len(b), size))
	}
	if len(b) == 0 {
		return []T{}
	}
	return unsafe.Slice((*T)(unsafe.Pointer(&b[0])), len(b)/size)
}

// Float is the element type of the slices that Place hands out.
type Float interface{ float32 | float64 }

func sizeOf[T Float]() int {
	var zero T
	return int(unsafe.Sizeof(zero))
}

// Side names the guard page that Place puts a slice against.
type Side int

const (
	Start Side = iota // at the leading guard page, where the usable pages begin
	End               // at the trailing guard page, where they end
)

func (s Side) String() string {
	if s == Start {
		return "start"
	}
	return "end"
}

// Flush returns the start offset modulo 64 at which Place puts n elements of T
// flush against side's guard page: 0 at the Start, and at the End whatever the
// length leaves before the page boundary.
func Flush[T Float](side Side, n int) int {
	if side == Start {
		return 0
	}
	return mod64(-n * sizeOf[T]())
}

func mod64(v int) int { return (v%64 + 64) % 64 }

// Place returns n elements of T that start off bytes past a 64-byte boundary, as
// near side's guard page as that start allows: flush against it when off is
// Flush(side, n), otherwise fewer than 64 bytes from it. A stray access within a
// page does not fault, so only the flush placements prove by faulting that
// nothing past the slice's edge is touched; Fill and Check catch the writes at
// the other placements. off must be a multiple of T's size below 64.
//
// An empty slice points where its elements would start, which at the End may be
// the first byte of the guard page.
func Place[T Float](r *Region, side Side, n, off int) []T {
	size := sizeOf[T]()
	if off < 0 || off >= 64 || off%size != 0 || n < 0 {
		panic(fmt.Sprintf("guardmem.Place: offset %d, length %d", off, n))
	}
	lo := off // the usable pages start on a page boundary
	if side == End {
		lo = len(r.data) - n*size - mod64(-off-n*size)
	}
	if lo < 0 || lo+n*size > len(r.data) {
		panic(fmt.Sprintf("guardmem.Place: %d elements of %d bytes at offset %d do not fit in %d bytes", n, size, off, len(r.data)))
	}
	// Not &r.data[lo]: lo may be len(r.data) for an empty slice.
	p := unsafe.Add(unsafe.Pointer(unsafe.SliceData(r.data)), lo)
	return unsafe.Slice((*T)(p), n)
}

// pattern returns v's bits repeated over a 64-bit word.
func pattern[T Float](v T) uint64 {
	switch v := any(v).(type) {
	case float32:
		b := uint64(math.Float32bits(v))
		return b | b<<32
	default:
		return math.Float64bits(v.(float64))
	}
}

// Fill writes v into every element of r's usable pages: the guard value that
// Check looks for.
func Fill[T Float](r *Region, v T) {
	w := pattern(v)
	words := unsafe.Slice((*uint64)(unsafe.Pointer(unsafe.SliceData(r.data))), len(r.data)/8)
	for i := range words {
		words[i] = w
	}
}

// Check returns nil when every element of r's usable pages outside the slices of
// keep still holds v's bits, as Fill left it, and otherwise an error naming the
// first that does not and where it lies. Every slice of keep must lie in r's
// usable pages, on T's element grid (as Place, Head and Tail give them).
func Check[T Float](r *Region, v T, keep ...[]T) error {
	size := sizeOf[T]()
	base := uintptr(unsafe.Pointer(unsafe.SliceData(r.data)))
	spans := make([]span, 0, len(keep))
	for k, s := range keep {
		if len(s) == 0 {
			continue
		}
		a := uintptr(unsafe.Pointer(unsafe.SliceData(s)))
		if a < base || a+uintptr(len(s)*size) > base+uintptr(len(r.data)) || (a-base)%uintptr(size) != 0 {
			return fmt.Errorf("guardmem.Check: keep[%d] is not in the region on the %d-byte element grid", k, size)
		}
		lo := int(a - base)
		spans = append(spans, span{lo, lo + len(s)*size, k})
	}
	slices.SortFunc(spans, func(a, b span) int { return a.lo - b.lo })
	var patWords [64]uint64
	w := pattern(v)
	for i := range patWords {
		patWords[i] = w
	}
	pat := unsafe.Slice((*byte)(unsafe.Pointer(&patWords[0])), len(patWords)*8)
	pos := 0
	for i := 0; i <= len(spans); i++ {
		end := len(r.data)
		if i < len(spans) {
			end = spans[i].lo
		}
		for pos < end {
			n := min(end-pos, len(pat)) // a multiple of size: pos and end are on the grid
			if !bytes.Equal(r.data[pos:pos+n], pat[:n]) {
				j := pos
				for r.data[j] == pat[j-pos] {
					j++
				}
				return guardError(r, spans, j-j%size, size, w)
			}
			pos += n
		}
		if i < len(spans) {
			pos = max(pos, spans[i].hi)
		}
	}
	return nil
}

// span is the bytes [lo, hi) of the usable pages that hold keep[k].
type span struct{ lo, hi, k int }

// guardError describes the changed element at byte at by its neighbours.
func guardError(r *Region, spans []span, at, size int, want uint64) error {
	var got uint64
	if size == 4 {
		got, want = uint64(binary.NativeEndian.Uint32(r.data[at:])), want&(1<<32-1)
	} else {
		got = binary.NativeEndian.Uint64(r.data[at:])
	}
	var near []string
	for _, sp := range spans {
		if sp.hi <= at {
			near = append(near[:0], fmt.Sprintf("%d bytes past the end of keep[%d]", at-sp.hi, sp.k))
		} else {
			near = append(near, fmt.Sprintf("%d bytes before keep[%d]", sp.lo-at-size, sp.k))
			break
		}
	}
	where := fmt.Sprintf("byte %d of %d", at, len(r.data))
	if len(near) > 0 {
		where += " (" + strings.Join(near, ", ") + ")"
	}
	return fmt.Errorf("guardmem: the guard at %s was overwritten: %#x, not %#x", where, got, want)
}

// CatchFault runs f and returns the address of the memory fault that ended it, if
// one did, so that a test can say which case touched a guard page. Faults on other
// goroutines (a parallel call's helpers) still crash the program, with the address
// but not the case.
func CatchFault(f func()) (addr uintptr, faulted bool) {
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if r := recover(); r != nil {
			e, ok := r.(interface{ Addr() uintptr })
			if !ok {
				panic(r)
			}
			addr, faulted = e.Addr(), true
		}
	}()
	f()
	return 0, false
}
