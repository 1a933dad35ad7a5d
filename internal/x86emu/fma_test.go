package x86emu

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
)

// fmaForm is one way of writing a fused multiply-add: "OP A, B, C" on registers
// of one width, A in a register or in memory, and C under a write mask or not.
// x, s and g are loaded into B, C and A; B and C are stored to x and s.
type fmaForm struct {
	name, reg string // Y or Z
	mem       bool
	mask      string // "", "merge" or "zero"
}

var fmaForms = []fmaForm{
	{"VEX", "Y", false, ""}, {"VEX from memory", "Y", true, ""},
	{"EVEX", "Z", false, ""}, {"EVEX from memory", "Z", true, ""},
	{"merging", "Z", false, "merge"}, {"zeroing from memory", "Z", true, "zero"},
}

// fmaMask selects the lanes of the masked forms, lane 0, the witness, among
// them.
const fmaMask = 0xb5a7

// fmaSrc is a kernel of op in form f.
func fmaSrc[T float32 | float64](op string, f fmaForm) string {
	a, k := f.reg+"2", ""
	if f.mem {
		a = "(DX)"
	}
	if f.mask != "" {
		k = "K1, "
	}
	if f.mask == "zero" {
		op += ".Z"
	}
	data := fmt.Sprintf("DATA kmask<>+0(SB)/2, $%#x\nGLOBL kmask<>(SB), RODATA|NOPTR, $2\n", fmaMask)
	return kernel(data, 0, argsSize[T](), strings.NewReplacer("@", f.reg).Replace(`	KMOVW kmask<>+0(SB), K1
	VMOVUPS (AX), @0
	VMOVUPS (CX), @1
	VMOVUPS (DX), @2
	`+fmt.Sprintf("%s %s, @0, %s@1", op, a, k)+`
	VMOVUPS @0, (AX)
	VMOVUPS @1, (CX)
	VZEROUPPER
	RET
`))
}

// fmaIntel is Intel's definition of each operand order on dst = src1, src2 and
// src3, and of the four kinds as negations of the product p and of the addend r.
var fmaIntel = map[string]func(src1, src2, src3 float64) (p1, p2, r float64){
	"132": func(src1, src2, src3 float64) (float64, float64, float64) { return src1, src3, src2 },
	"213": func(src1, src2, src3 float64) (float64, float64, float64) { return src2, src1, src3 },
	"231": func(src1, src2, src3 float64) (float64, float64, float64) { return src2, src3, src1 },
}

var fmaKinds = map[string][2]float64{"VFMADD": {1, 1}, "VFMSUB": {1, -1}, "VFNMADD": {-1, 1}, "VFNMSUB": {-1, -1}}

func testFMAFamily[T float32 | float64](t *testing.T) {
	sfx, lanes := "PS", 64/sizeOf[T]()
	if sizeOf[T]() == 8 {
		sfx = "PD"
	}
	e := T(math.Ldexp(1, -int(precision[T]()+1)/2))
	r := rand.New(rand.NewPCG(3, 4))
	for kind, sign := range fmaKinds {
		for order, roles := range fmaIntel {
			op := kind + order + sfx
			for _, f := range fmaForms {
				t.Run(op+" "+f.name, func(t *testing.T) {
					n := lanes
					if f.reg == "Y" {
						n /= 2
					}
					x, s, g := make([]T, n), make([]T, n), make([]T, n)
					for i := range n {
						x[i], s[i], g[i] = T(r.NormFloat64()), T(r.NormFloat64()), T(r.NormFloat64()*1e3)
					}
					// Go's "OP g, x, s" is Intel's "OP s, x, g": src1 = s, src2 = x, src3 = g.
					// Lane 0 is a witness: its product is (1+e)², its addend cancels all of it
					// but e², which a multiply and an add rounded apart would lose.
					p := [3]*T{&s[0], &x[0], &g[0]}
					var at [3]int // which of s, x, g are p1, p2 and r
					{
						a, b, c := roles(0, 1, 2)
						at = [3]int{int(a), int(b), int(c)}
					}
					*p[at[0]], *p[at[1]] = 1+e, 1+e
					*p[at[2]] = T(-sign[0] * sign[1] * float64(1+2*e))
					ws, x0 := clone(s), clone(x)
					for i := range n {
						p1, p2, add := roles(float64(s[i]), float64(x[i]), float64(g[i]))
						ws[i] = fmaExact(T(sign[0]*p1), T(p2), T(sign[1]*add))
						if f.mask != "" && fmaMask>>i&1 == 0 {
							ws[i] = s[i]
							if f.mask == "zero" {
								ws[i] = 0
							}
						}
					}
					if want := T(sign[0]) * e * e; ws[0] != want {
						t.Fatalf("the witness lane is %v, want %v", ws[0], want)
					}
					if err := call(t, fmaSrc[T](op, f), x, s, g, 0, 0, Config{}); err != nil {
						t.Fatal(err)
					}
					same(t, "s", s, ws)
					same(t, "x", x, x0)
				})
			}
		}
	}
}

// TestFMAFamily: each of VFMADD, VFMSUB, VFNMADD and VFNMSUB in each operand
// order, on Y and Z registers, from a register or memory, merging or zeroing
// under a mask, computes Intel's definition of it rounded once.
func TestFMAFamily(t *testing.T) {
	t.Run("float32", testFMAFamily[float32])
	t.Run("float64", testFMAFamily[float64])
}
