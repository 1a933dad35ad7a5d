package fbits

import (
	"math"
	"testing"
)

func TestBits(t *testing.T) {
	snan32 := uint64(0x7f800001) // signalling: a conversion could quiet it
	if got := Bits(FromBits[float32](snan32)); got != snan32 {
		t.Errorf("float32 sNaN round trip: %#x, want %#x", got, snan32)
	}
	snan64 := uint64(0x7ff0000000000001)
	if got := Bits(FromBits[float64](snan64)); got != snan64 {
		t.Errorf("float64 sNaN round trip: %#x, want %#x", got, snan64)
	}
	negZero := float32(math.Copysign(0, -1))
	nan2 := math.Float32frombits(0x7fc00002)
	for _, c := range []struct {
		a, b            float32
		same, identical bool
	}{
		{1, 1, true, true},
		{0, negZero, false, false},
		{float32(math.NaN()), nan2, true, false},
		{nan2, nan2, true, true},
		{1, float32(math.NaN()), false, false},
	} {
		if Same(c.a, c.b) != c.same || Identical(c.a, c.b) != c.identical {
			t.Errorf("Same(%v, %v) = %v, Identical = %v; want %v, %v", c.a, c.b, Same(c.a, c.b), Identical(c.a, c.b), c.same, c.identical)
		}
	}
	if Same(0.0, math.Copysign(0, -1)) {
		t.Error("float64: Same(+0, −0)")
	}
}
