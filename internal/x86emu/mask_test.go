package x86emu

import (
	"fmt"
	"math"
	"strings"
	"testing"
)

// tailData is the AVX2 kernels' tail-mask table: eight all-ones dwords, then
// eight zero ones, so that the 32 bytes at 32 − 4n hold n ones.
var tailData = func() string {
	var b strings.Builder
	for i := range 16 {
		v := "0xffffffff"
		if i >= 8 {
			v = "0x00000000"
		}
		fmt.Fprintf(&b, "DATA tail<>+%d(SB)/4, $%s\n", 4*i, v)
	}
	return b.String() + "GLOBL tail<>(SB), RODATA|NOPTR, $64\n"
}()

// avx2Tail is the masked tail of an AVX2 kernel of fewer than 8 float32s: x·g
// into x and s + g into s. off is where the mask is loaded from, relative to
// the 32 − 4n of an exact mask.
func avx2Tail(off int) string {
	return kernel(tailData, 0, argsSize[float32](), fmt.Sprintf(`	LEAQ tail<>+0(SB), SI
	NEGQ BX
	SHLQ $0x02, BX
	VMOVDQU %d(SI)(BX*1), Y5
	VMASKMOVPS (AX), Y5, Y0
	VMASKMOVPS (DX), Y5, Y2
	VMULPS Y2, Y0, Y0
	VMASKMOVPS Y0, Y5, (AX)
	VMASKMOVPS (CX), Y5, Y1
	VADDPS Y2, Y1, Y1
	VMASKMOVPS Y1, Y5, (CX)
	VZEROUPPER
	RET
`, 32+off))
}

// TestMaskedAVX2: VMASKMOVPS reads and writes only the lanes its mask selects,
// so a tail of n < 8 elements runs on slices of exactly n, and a mask of one
// lane more is caught at the lane past the end.
func TestMaskedAVX2(t *testing.T) {
	for n := range 9 {
		x, s, g := make([]float32, n), make([]float32, n), make([]float32, n)
		for i := range n {
			x[i], s[i], g[i] = float32(i)+0.5, float32(10*i), float32(i)-3
		}
		wx, ws := clone(x), clone(s)
		for i := range n {
			wx[i], ws[i] = x[i]*g[i], s[i]+g[i]
		}
		if err := call(t, avx2Tail(0), x, s, g, 0, 0, Config{}); err != nil {
			t.Fatalf("n=%d: %v", n, err)
		}
		same(t, fmt.Sprintf("n=%d x", n), x, wx)
		same(t, fmt.Sprintf("n=%d s", n), s, ws)
		if n < 8 {
			err := call(t, avx2Tail(-4), make([]float32, n), make([]float32, n), make([]float32, n), 0, 0, Config{})
			wantErr(t, err, fmt.Sprintf("VMASKMOVPS (AX), Y5, Y0: lane %d: read of 4 bytes at %#x is outside mapped memory", n, xBase+4*n))
		}
	}
}

// kmaskKernel is an AVX-512 kernel on n of the lanes of a Z register, where the
// mask loaded into K1 selects lanes of them: x becomes x where x > g (ordered)
// and +0 elsewhere, s becomes g where x > g and stays elsewhere.
func kmaskKernel[T float32 | float64](lanes int) string {
	r := strings.NewReplacer("PX", "PS")
	if sizeOf[T]() == 8 {
		r = strings.NewReplacer("PX", "PD")
	}
	data := fmt.Sprintf("DATA kmask<>+0(SB)/2, $%#04x\nGLOBL kmask<>(SB), RODATA|NOPTR, $2\n", 1<<lanes-1)
	return kernel(data, 0, argsSize[T](), r.Replace(`	KMOVW kmask<>+0(SB), K1
	VMOVUPX.Z (AX), K1, Z0
	VMOVUPX.Z (DX), K1, Z2
	VMOVUPX.Z (CX), K1, Z4
	VCMPPX $0x1e, Z2, Z0, K2
	VMOVAPX.Z Z0, K2, Z3
	VMOVAPX Z2, K2, Z4
	VMOVUPX Z3, K1, (AX)
	VMOVUPX Z4, K1, (CX)
	VZEROUPPER
	RET
`))
}

func testKMasks[T float32 | float64](t *testing.T) {
	n := 64/sizeOf[T]() - 5
	x, s, g := make([]T, n), make([]T, n), make([]T, n)
	for i := range n {
		x[i], s[i], g[i] = T(i%7)-2, T(100+i), T(3-i%5)
	}
	x[1] = T(math.NaN())
	wx, ws := clone(x), clone(s)
	for i := range n {
		if x[i] > g[i] {
			ws[i] = g[i]
		} else {
			wx[i] = 0
		}
	}
	if err := call(t, kmaskKernel[T](n), x, s, g, 0, 0, Config{}); err != nil {
		t.Fatal(err)
	}
	same(t, "x", x, wx)
	same(t, "s", s, ws)

	// An empty mask touches nothing, not even lane 0 of an empty slice.
	if err := call(t, kmaskKernel[T](0), []T{}, []T{}, []T{}, 0, 0, Config{}); err != nil {
		t.Fatal(err)
	}

	err := call(t, kmaskKernel[T](n+1), make([]T, n), make([]T, n), make([]T, n), 0, 0, Config{})
	wantErr(t, err, fmt.Sprintf("lane %d: read of %d bytes at %#x is outside mapped memory", n, sizeOf[T](), xBase+n*sizeOf[T]()))
}

// TestKMasks: KMOVW, the zeroing masked loads, a compare into a K register and
// the zeroing and merging moves under it, and the masked stores.
func TestKMasks(t *testing.T) {
	t.Run("float32", testKMasks[float32])
	t.Run("float64", testKMasks[float64])
}

// TestEVEXArith: the AVX-512 forms of the arithmetic on Z registers: a fused
// multiply-add with a memory operand, and VPXORD.
func TestEVEXArith(t *testing.T) {
	src := kernel("", 0, argsSize[float32](), `	VMOVUPS (AX), Z0
	VMOVUPS (CX), Z1
	VFMADD231PS (DX), Z0, Z1
	VPXORD (DX), Z0, Z20
	VMOVUPS Z20, (AX)
	VMOVUPS Z1, (CX)
	VZEROUPPER
	RET
`)
	x, s, g := make([]float32, 16), make([]float32, 16), make([]float32, 16)
	for i := range 16 {
		x[i], s[i], g[i] = float32(i)/3, float32(-i), float32(7-i)/5
	}
	wx, ws := clone(x), clone(s)
	for i := range 16 {
		wx[i] = math.Float32frombits(math.Float32bits(x[i]) ^ math.Float32bits(g[i]))
		ws[i] = fmaExact(x[i], g[i], s[i])
	}
	if err := call(t, src, x, s, g, 0, 0, Config{}); err != nil {
		t.Fatal(err)
	}
	same(t, "x", x, wx)
	same(t, "s", s, ws)
}
