//go:build gc && !purego

package asm

import (
	"math"
	"testing"
	"time"
)

// TestNEONModelHardware holds this machine's FRSQRTE (RsqrtMul32NEON with g = 1:
// FMUL by one is exact, and with the estimate as its second operand passes a
// NaN estimate through unchanged) and the generated fast root (rsqrtFast32NEON)
// to the Arm ARM's pseudocode as frsqrte_model_test.go transcribes it, bit for
// bit, on every rsqrtStride()-th float32 (all 2³² under -exhaustive). The
// pseudocode is normative: a mismatch is a bug in the model, in the generator or
// in the CPU or emulator running this, never a permitted variation.
func TestNEONModelHardware(t *testing.T) {
	const batch = 1 << 16
	v := make([]float32, batch)
	ones := make([]float32, batch)
	for i := range ones {
		ones[i] = 1
	}
	est, root := make([]float32, batch), make([]float32, batch)
	checked, bad := 0, 0
	compare := func(v []float32) {
		n := len(v)
		RsqrtMul32NEON(est[:n], v, ones[:n])
		rsqrtFast32NEON(root[:n], v)
		for i, vi := range v {
			a := math.Float32bits(vi)
			if got, want := math.Float32bits(est[i]), frsqrte32(a); got != want {
				if bad++; bad <= 10 {
					t.Errorf("FRSQRTE(%v [%#08x]) = %#08x, the pseudocode gives %#08x", vi, a, got, want)
				}
			}
			if got, want := math.Float32bits(root[i]), math.Float32bits(rsqrtNEONModel(vi)); got != want {
				if bad++; bad <= 10 {
					t.Errorf("rsqrtFast32NEON(%v [%#08x]) = %#08x, the model gives %#08x", vi, a, got, want)
				}
			}
		}
		checked += n
	}
	// The special values and the ends of each range first, then the sample.
	var specials []float32
	for _, b := range []uint32{
		0x00000000, 0x80000000, 0x7f800000, 0xff800000, // ±0, ±∞
		0x7f800001, 0xff800001, 0x7fbfffff, 0x7fc00000, 0xffc00000, 0x7fc00001, 0x7fffffff, 0xffffffff, // NaNs
		0x00000001, 0x00000002, 0x00000003, 0x003fffff, 0x00400000, 0x007fffff, // denormals
		0x80000001, 0x807fffff, 0x80800000, 0xbf800000, 0xff7fffff, // negatives
		0x00800000, 0x00800001, 0x3e800000, 0x3f000000, 0x3f800000, 0x3f800001, 0x3fffffff,
		0x40000000, 0x40800000, 0x7f000000, 0x7f7fffff, // normals
		0x7f7b086f, // the model's worst, in ulps and relative (TestNEONRsqrtModel -exhaustive)
	} {
		specials = append(specials, math.Float32frombits(b))
	}
	compare(specials)
	stride := rsqrtStride()
	start := time.Now()
	for lo := uint64(0); lo < 1<<32; lo += batch * stride {
		n := 0
		for b := lo; b < 1<<32 && n < batch; b += stride {
			v[n] = math.Float32frombits(uint32(b))
			n++
		}
		compare(v[:n])
	}
	t.Logf("%d special values and %d inputs (stride %d) in %v: %d mismatches", len(specials), checked-len(specials), stride, time.Since(start).Round(time.Millisecond), bad)
}
