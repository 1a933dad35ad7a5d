package kernel

import (
	"math"

	"github.com/adagrad-go/adagrad/ref"
)

// fma32Fast returns a·b + c, for float32 values given as float64 (each exactly
// the float32 value), rounded to float64 and then to float32, and the float64
// sum's bits, from which fma32Declined tells whether that is ref.FMA32's result,
// the float32 fused multiply-add: for the generated loops of the generic path
// (apply_generic.go), which stop at an element it declines and hand it to
// genericOne32. Both inline, which ref.FMA32 does not, and the loops convert
// their operands where that suits them.
func fma32Fast(a, b, c float64) (float32, uint64) {
	h := float64(a*b) + c
	return float32(h), math.Float64bits(h)
}

// fma32Declined reports whether fma32Fast's result with float64 bits h may
// differ from ref.FMA32's. It is a separate test, so that the loops branch on it
// directly.
//
// The product of two float32 values is exact in float64, so h is the exact sum
// v rounded once, to float64. Rounding h again to float32 gives v's float32
// rounding unless h is itself a float32 rounding boundary (a midpoint of two
// adjacent float32 values, or the overflow threshold) other than v: every
// boundary is a float64 value and rounding is monotonic, so v and h lie on the
// same side of every other boundary. A boundary has at most 25 significant bits,
// so the low 28 of its 52 fraction bits are zero; when h's are not, float32(h)
// is the answer. When its low 29 are all zero and h is at least the smallest
// normal float32, h is a float32 value (or rounds to infinity), within half a
// float64 ulp of v and so v's float32 rounding too; so is a zero, which
// ref.FMA32 returns as float32(h) too. Exact sums of short values and zeros,
// as zero gradients on a zero accumulator give, take that path. The rest (ties,
// results in float32's subnormal range) are declined. TestFMA32Fast holds the
// pair, with ref.FMA32 where it declines, to ref.FMA32 and to math/big.
func fma32Declined(h uint64) bool {
	return h&(1<<28-1) == 0 && (h&(1<<29-1) != 0 || h>>52&0x7ff < 1023-126 && h<<1 != 0)
}

// genericOne32 is ref.Apply of the form whose ID is id, for the elements a
// generated float32 loop stopped at, where fma32Declined turned a fused
// multiply-add down. They are rare (the float64 sum must land exactly on a
// float32 rounding boundary, or in float32's subnormal range), so this needs to
// be right, not fast.
func genericOne32(id int, x, s, g []float32, lr, eps, wd, decay, gain float32) {
	ref.Apply(formsByID[id], x, s, g, Params[float32]{LR: lr, Eps: eps, WeightDecay: wd, Decay: decay, Gain: gain})
}
