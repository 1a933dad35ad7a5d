package adagrad

import (
	"fmt"
	"unsafe"
)

// arena is the storage of an optimizer made by NewArena: three arrays of the same
// layout, each tensor at a 64-byte boundary.
type arena[T Float] struct {
	x, s, g []T
	grads   [][]T
}

// NewArena returns an optimizer that owns its tensors: one contiguous array each
// for the parameters, the accumulators and the gradients of tensors of the given
// sizes, so that a whole step is one kernel call (Step with no arguments), or one
// parallel call with Config.Parallel or Config.Workers, instead of one call per tensor. Params and
// Grads return the tensors as slices of those arrays, for the model's code to
// read and write; the parameters start at zero (set them through Params), the
// accumulators at Config.InitialAccumulator.
//
// Each tensor starts at a 64-byte boundary, so every view is aligned for the
// vector kernels and for the caller's own code. The padding between tensors is
// stepped with the tensors but never read into one: every element's update depends
// on that element alone, so the results are those of New's per-tensor Step, bit
// for bit (tested, and fuzzed by FuzzArena). Its gradients are zeros, so its x
// stays zero too, except with Eps 0 where the step 0·(lr/0) is NaN. It panics on
// a negative size, or as New does.
func NewArena[T Float](cfg Config, sizes ...int) *Optimizer[T] {
	o := newOptimizer[T](cfg)
	var zero T
	line := 64 / int(unsafe.Sizeof(zero))
	offs := make([]int, len(sizes))
	n := 0
	for i, size := range sizes {
		if size < 0 {
			panic(fmt.Sprintf("adagrad: NewArena: size %d of tensor %d is negative", size, i))
		}
		offs[i] = n
		n += (size + line - 1) / line * line
	}
	a := &arena[T]{x: aligned[T](n, line), s: aligned[T](n, line), g: aligned[T](n, line)}
	for i := range a.s {
		a.s[i] = T(cfg.InitialAccumulator)
	}
	o.params, o.sums, a.grads = make([][]T, len(sizes)), make([][]T, len(sizes)), make([][]T, len(sizes))
	for i, size := range sizes {
		lo, hi := offs[i], offs[i]+size
		o.params[i], o.sums[i], a.grads[i] = a.x[lo:hi:hi], a.s[lo:hi:hi], a.g[lo:hi:hi]
	}
	o.arena = a
	o.state = spansOf("NewArena", o.params, o.sums)
	return o
}

// aligned returns n zeros of T starting at a 64-byte boundary.
func aligned[T Float](n, line int) []T {
	buf := make([]T, n+line)
	skip := int(uintptr(64-uintptr(unsafe.Pointer(unsafe.SliceData(buf)))%64)%64) / (64 / line)
	return buf[skip : skip+n : skip+n]
}

// Params returns the parameter tensors: the slices given to New, or for an
// arena optimizer its views of the arena.
func (o *Optimizer[T]) Params() [][]T { return o.params }

// Grads returns the gradient tensors of an arena optimizer, views of its arena
// that the caller fills before each Step(); nil for an optimizer made by New.
func (o *Optimizer[T]) Grads() [][]T {
	if o.arena == nil {
		return nil
	}
	return o.arena.grads
}
