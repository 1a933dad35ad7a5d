package kernel

import "unsafe"

// hugePage is the size of a transparent huge page on the systems that have them
// (2 MiB on amd64 and on arm64 with 4 KiB base pages).
const hugePage = 2 << 20

// AdviseHugePages asks the operating system to back the whole 2 MiB pages inside
// table with huge pages (madvise MADV_HUGEPAGE on Linux). A sparse step touches
// rows scattered over the table, and with 4 KiB pages nearly every row costs a
// TLB miss and a page walk, which huge pages, each covering 512 times as much
// of the table, mostly spare. BenchmarkRows runs the sparse steps on both
// (pages=4k and pages=huge); BENCHMARKS.md has the figures for the CPUs measured.
//
// Call it right after allocating a large table and before writing it: the pages
// then fault in huge, while pages already touched are only merged later by the
// kernel, if ever. It changes no value. A nil or empty table, or one holding no
// whole aligned huge page, is left alone and gives nil. Where the system offers
// no such advice it does nothing and returns nil; it returns the system's error
// otherwise.
// Transparent huge pages must be enabled ("madvise" or "always" in
// /sys/kernel/mm/transparent_hugepage/enabled).
func AdviseHugePages[T Float](table []T) error {
	if len(table) == 0 {
		return nil
	}
	base := unsafe.Pointer(unsafe.SliceData(table))
	start := uintptr(base)
	end := start + uintptr(len(table))*unsafe.Sizeof(table[0])
	lo, hi := (start+hugePage-1)&^(hugePage-1), end&^(hugePage-1)
	if lo >= hi {
		return nil // no whole huge page inside
	}
	return adviseHuge(unsafe.Slice((*byte)(unsafe.Add(base, lo-start)), hi-lo))
}
