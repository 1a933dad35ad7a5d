//go:build gc && !purego

package asm

import (
	"os"
	"regexp"
	"testing"
)

// TestAVX2UsesOnlyVEXRegisters: X16–X31 and Y16–Y31 exist only with AVX-512's EVEX
// encoding, so one of them in an AVX2 kernel is an illegal instruction on an
// AVX2-only CPU, and Avo's "Requires:" line does not show it.
func TestAVX2UsesOnlyVEXRegisters(t *testing.T) {
	for _, file := range []string{"apply_avx2_amd64.s", "rows_avx2_amd64.s", "limits_avx2_amd64.s", "fast_avx2_amd64.s"} {
		src, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		if m := regexp.MustCompile(`\b([XY](1[6-9]|2[0-9]|3[01])|Z\d+|K[0-7])\b`).Find(src); m != nil {
			t.Errorf("%s uses %s, which needs AVX-512", file, m)
		}
	}
}
