package kernel

import mathbits "math/bits"

// groups finds the distinct rows of a sparse step and the occurrences of each, in
// order, in time linear in the number of indices: a hash table of the distinct rows
// with linear probing, and a chain of occurrences per row. Its slices are kept from
// call to call, so a warm call allocates nothing. (A sort by row would do the same
// in n·log n; on 16K indices it took longer than the step itself.)
type groups struct {
	slots    []int32 // the hash table: 1 + the distinct row's position, 0 when empty
	distinct []int64 // the distinct rows, in order of first appearance
	head     []int32 // each distinct row's first occurrence
	tail     []int32 // each distinct row's last occurrence, while grouping
	next     []int32 // by occurrence: the next occurrence of the same row, or -1
}

// group fills gr with the occurrences k of rows whose row is in pt. The rows are
// known to be in range.
func group[I Index](gr *groups, rows []I, pt part) {
	if len(rows) > 1<<30 {
		panic("kernel: a coalesced step takes at most 2³⁰ indices")
	}
	// A table at most half full keeps the probe sequences short.
	size := 1 << mathbits.Len(uint(max(2*len(rows)-1, 1)))
	shift := 64 - mathbits.TrailingZeros(uint(size))
	gr.slots = grow(gr.slots, size)
	clear(gr.slots)
	gr.next = grow(gr.next, len(rows))
	gr.distinct, gr.head, gr.tail = gr.distinct[:0], gr.head[:0], gr.tail[:0]
	mask := size - 1
	insert := func(k int, r I) {
		gr.next[k] = -1
		// Fibonacci hashing: the top bits of r·2⁶⁴/φ spread strided ids too.
		h := int(uint64(r) * 0x9e3779b97f4a7c15 >> shift)
		for {
			d := int(gr.slots[h]) - 1
			if d < 0 {
				gr.slots[h] = int32(len(gr.distinct) + 1)
				gr.distinct = append(gr.distinct, int64(r))
				gr.head = append(gr.head, int32(k))
				gr.tail = append(gr.tail, int32(k))
				return
			}
			if gr.distinct[d] == int64(r) {
				gr.next[gr.tail[d]] = int32(k)
				gr.tail[d] = int32(k)
				return
			}
			h = (h + 1) & mask
		}
	}
	if pt.n == 1 {
		for k, r := range rows {
			insert(k, r)
		}
		return
	}
	// The worker's occurrences listed without a branch, as sequential does.
	var list [ownBlock]int
	for lo := 0; lo < len(rows); lo += ownBlock {
		for _, k := range collect(pt, &list, rows, lo) {
			insert(k, rows[k])
		}
	}
}

// grow returns s with length n, reusing its array when it is large enough.
func grow(s []int32, n int) []int32 {
	if cap(s) < n {
		return make([]int32, n)
	}
	return s[:n]
}
