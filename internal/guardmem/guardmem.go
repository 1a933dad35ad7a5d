//go:build linux

// Package guardmem hands out memory that sits flush against inaccessible pages, so a
// test can prove that a kernel never reads or writes one byte outside its slices:
// the first stray access faults and the test binary dies with the address.
package guardmem

import (
	"fmt"
	"os"
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
