package x86emu

import (
	"math"
	"testing"
)

// TestCompare holds compare to the predicate table of VCMPPS in Intel's manual,
// written here as the relations under which each predicate is true: L(ess),
// E(qual), G(reater) and U(nordered). Bit 4 (the signalling variant) must not
// change the result.
func TestCompare(t *testing.T) {
	table := [16]string{
		"E", "L", "LE", "U", // EQ_OQ, LT_OS, LE_OS, UNORD_Q
		"LGU", "EGU", "GU", "LEG", // NEQ_UQ, NLT_US, NLE_US, ORD_Q
		"EU", "LU", "LEU", "", // EQ_UQ, NGE_US, NGT_US, FALSE_OQ
		"LG", "EG", "G", "LEGU", // NEQ_OQ, GE_OS, GT_OS, TRUE_UQ
	}
	nan := math.NaN()
	pairs := []struct {
		rel        byte
		src1, src2 float64
	}{
		{'L', 1, 2}, {'L', math.Inf(-1), -0x1p-1074}, {'E', 2, 2}, {'E', 0, math.Copysign(0, -1)},
		{'E', math.Inf(1), math.Inf(1)}, {'G', 3, 2}, {'G', 0x1p-1074, 0},
		{'U', nan, 2}, {'U', 2, nan}, {'U', nan, nan},
	}
	for imm := range 32 {
		for _, p := range pairs {
			want := false
			for i := range len(table[imm&15]) {
				want = want || table[imm&15][i] == p.rel
			}
			if got := compare(imm, p.src1, p.src2); got != want {
				t.Errorf("predicate %#02x on (%v, %v), which are %c: %v, want %v", imm, p.src1, p.src2, p.rel, got, want)
			}
		}
	}
}
