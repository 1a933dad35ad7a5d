// Package fbits compares floating-point values by their encodings, as the tests
// of every package must: a kernel is exact only if it returns the reference's
// bits, and == can tell neither −0 from +0 nor a NaN from itself.
package fbits

import "math"

// Float is float32 or float64.
type Float interface{ float32 | float64 }

// Bits returns the IEEE 754 encoding of v, in the low 32 bits for a float32.
func Bits[T Float](v T) uint64 {
	if f, ok := any(v).(float32); ok {
		return uint64(math.Float32bits(f))
	}
	return math.Float64bits(any(v).(float64))
}

// FromBits is the inverse of Bits. It stores the bits rather than converting a
// value, so a signalling NaN keeps its exact encoding.
func FromBits[T Float](b uint64) T {
	var v T
	switch p := any(&v).(type) {
	case *float32:
		*p = math.Float32frombits(uint32(b))
	case *float64:
		*p = math.Float64frombits(b)
	}
	return v
}

// Same reports whether a and b are the same value: the same bits, or both NaN
// (a NaN's payload may differ between paths and is no part of the result).
func Same[T Float](a, b T) bool { return Bits(a) == Bits(b) || (a != a && b != b) }

// Identical reports whether a and b have the same bits, NaN payloads included.
func Identical[T Float](a, b T) bool { return Bits(a) == Bits(b) }
