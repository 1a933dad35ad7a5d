package x86emu

import (
	"cmp"
	"fmt"
	"math"
	"math/big"
	"strings"
	"testing"

	"github.com/adagrad-go/adagrad/internal/fbits"
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

// maskedBody loads x, g and s into Z0, Z2 and Z1, and s once more into the
// destination Z3, so that merged lanes show; K1 is kmask<>. It stores Z3 to x
// and Z1 to s.
const maskedBody = `	KMOVW kmask<>+0(SB), K1
	VMOVUPS (AX), Z0
	VMOVUPS (CX), Z1
	VMOVUPS (DX), Z2
	VMOVUPS (CX), Z3
	%s
	VMOVUPS Z3, (AX)
	VMOVUPS Z1, (CX)
	VZEROUPPER
	RET
`

// maskedCase is one instruction into Z3: want gives lane i of Z3 from the
// lanes of x, s (Z3's before) and g and whether K1 selects the lane.
type maskedCase[T float32 | float64] struct {
	body   string
	only32 bool
	want   func(on bool, x, s, g T) T
}

func maskedCases[T float32 | float64]() []maskedCase[T] {
	rounded := func(op func(z, a, b *big.Float) *big.Float) func(x, g T) T {
		return func(x, g T) T { return toT[T](op(big0[T](), exact(x), exact(g))) }
	}
	sqrt := func(_, g T) T { return toT[T](big0[T]().Sqrt(exact(g))) }
	u := func(v T) uint32 { return uint32(fbits.Bits(v)) }
	f := func(v uint32) T { return fbits.FromBits[T](uint64(v)) }
	dword := func(op func(x, g uint32) uint32) func(x, g T) T { return func(x, g T) T { return f(op(u(x), u(g))) } }
	// merge and zero are the two maskings of a lane function of x and g.
	merge := func(fn func(x, g T) T) func(bool, T, T, T) T {
		return func(on bool, x, s, g T) T {
			if on {
				return fn(x, g)
			}
			return s
		}
	}
	zero := func(fn func(x, g T) T) func(bool, T, T, T) T {
		return func(on bool, x, s, g T) T {
			if on {
				return fn(x, g)
			}
			return 0
		}
	}
	all := func(fn func(x, g T) T) func(bool, T, T, T) T {
		return func(_ bool, x, _, g T) T { return fn(x, g) }
	}
	return []maskedCase[T]{
		{"VSQRTPX Z2, K1, Z3", false, merge(sqrt)},
		{"VSQRTPX.Z (DX), K1, Z3", false, zero(sqrt)},
		{"VDIVPX Z2, Z0, K1, Z3", false, merge(rounded((*big.Float).Quo))},
		{"VDIVPX.Z (DX), Z0, K1, Z3", false, zero(rounded((*big.Float).Quo))},
		{"VMULPX (DX), Z0, K1, Z3", false, merge(rounded((*big.Float).Mul))},
		{"VADDPX Z2, Z0, K1, Z3", false, merge(rounded((*big.Float).Add))},
		{"VSUBPX.Z Z2, Z0, K1, Z3", false, zero(rounded((*big.Float).Sub))},
		{"VRCP14PX Z2, K1, Z3", false, merge(func(_, g T) T { return 1 / g })},
		{"VMOVAPX Z0, K1, Z3", false, merge(func(x, _ T) T { return x })},
		{"VMOVUPX.Z Z2, K1, Z3", false, zero(func(_, g T) T { return g })},
		{"VMOVUPX (DX), K1, Z3", false, merge(func(_, g T) T { return g })},
		{"VMOVAPX Z0, Z3", false, all(func(x, _ T) T { return x })},
		// Intel's "VBLENDMPS dst {k}, src1, src2" is dst = k ? src2 : src1, where
		// Go's order is src2, src1, k, dst: lanes of the first operand where k is set.
		{"VBLENDMPX Z2, Z0, K1, Z3", false, func(on bool, x, _, g T) T {
			if on {
				return g
			}
			return x
		}},
		{"VBLENDMPX.Z (DX), Z0, K1, Z3", false, zero(func(_, g T) T { return g })},
		{"VBLENDMPX Z2, Z0, Z3", false, all(func(_, g T) T { return g })},
		{"VPBLENDMD Z2, Z0, K1, Z3", true, func(on bool, x, _, g T) T {
			if on {
				return g
			}
			return x
		}},
		{"VPADDD (DX), Z0, K1, Z3", true, merge(dword(func(x, g uint32) uint32 { return x + g }))},
		{"VPSUBD.Z Z2, Z0, K1, Z3", true, zero(dword(func(x, g uint32) uint32 { return x - g }))},
		{"VPSRAD $4, Z0, K1, Z3", true, merge(dword(func(x, _ uint32) uint32 { return uint32(int32(x) >> 4) }))},
		{"VPSLLD.Z $4, (DX), K1, Z3", true, zero(dword(func(_, g uint32) uint32 { return g << 4 }))},
		{"VPSRLD $33, Z0, Z3", true, all(dword(func(uint32, uint32) uint32 { return 0 }))},
		{"VPANDD Z2, Z0, K1, Z3", true, merge(dword(func(x, g uint32) uint32 { return x & g }))},
		{"VPORD (DX), Z0, Z3", true, all(dword(func(x, g uint32) uint32 { return x | g }))},
		// Intel's "VPANDND dst, src1, src2" is dst = ¬src1 ∧ src2; Go's order is
		// src2, src1, dst.
		{"VPANDND Z2, Z0, Z3", true, all(dword(func(x, g uint32) uint32 { return ^x & g }))},
		{"VPANDND (DX), Z0, K1, Z3", true, merge(dword(func(x, g uint32) uint32 { return ^x & g }))},
		{"VPXORD.Z Z2, Z0, K1, Z3", true, zero(dword(func(x, g uint32) uint32 { return x ^ g }))},
	}
}

// kmaskData is the symbol kmask<> holding k.
func kmaskData(k uint16) string {
	return fmt.Sprintf("DATA kmask<>+0(SB)/2, $%#x\nGLOBL kmask<>(SB), RODATA|NOPTR, $2\n", k)
}

func testMasked[T float32 | float64](t *testing.T) {
	const k = 0x9ac5
	n := 64 / sizeOf[T]()
	models := Config{Models: Models{
		Rcp14PS: func(a float32) float32 { return 1 / a },
		Rcp14PD: func(a float64) float64 { return 1 / a },
	}}
	for _, c := range maskedCases[T]() {
		if c.only32 && sizeOf[T]() == 8 {
			continue
		}
		body := suffixed[T](c.body)
		t.Run(body, func(t *testing.T) {
			x, s, g := make([]T, n), make([]T, n), make([]T, n)
			for i := range n {
				x[i], s[i], g[i] = T(i)-5.5, T(100+i), T(i*i)+0.25
			}
			x[3] = T(math.Copysign(0, -1))
			wx, ws := make([]T, n), clone(s)
			for i := range n {
				wx[i] = c.want(k>>i&1 != 0, x[i], s[i], g[i])
			}
			if err := call(t, kernel(kmaskData(k), 0, argsSize[T](), fmt.Sprintf(maskedBody, body)), x, s, g, 0, 0, models); err != nil {
				t.Fatal(err)
			}
			same(t, "x", x, wx)
			same(t, "s", s, ws)
		})
	}
}

// TestMasked: the arithmetic, logic, moves and blends under a write mask,
// merging and zeroing, from registers and from memory, and a few unmasked EVEX
// forms.
func TestMasked(t *testing.T) {
	t.Run("float32", testMasked[float32])
	t.Run("float64", testMasked[float64])
}

// TestMaskedSources: under a write mask an instruction reads from memory only
// the lanes the mask selects, as the hardware, which suppresses faults on the
// others, does; so a masked tail of n < 16 elements can take g from memory, and
// a mask of one lane more is caught at the lane past the end.
func TestMaskedSources(t *testing.T) {
	for _, op := range []string{
		"VADDPS (DX), Z0, K1, Z3", "VFMADD231PS.Z (DX), Z0, K1, Z3", "VSQRTPS (DX), K1, Z3",
		"VPSRAD $1, (DX), K1, Z3", "VBLENDMPS (DX), Z0, K1, Z3", "VMOVUPS (DX), K1, Z3",
		"VPCMPD $1, (DX), Z0, K1, K2\n\tVMOVAPS.Z Z0, K2, Z3", "VCMPPS $1, (DX), Z0, K1, K2\n\tVMOVAPS.Z Z0, K2, Z3",
		"VPTESTMD (DX), Z0, K1, K2\n\tVMOVAPS.Z Z0, K2, Z3",
	} {
		t.Run(op, func(t *testing.T) {
			src := func(lanes int) string {
				return kernel(kmaskData(1<<lanes-1), 0, argsSize[float32](), `	KMOVW kmask<>+0(SB), K1
	VMOVUPS.Z (AX), K1, Z0
	VMOVUPS.Z (CX), K1, Z3
	`+op+`
	VMOVUPS Z3, K1, (AX)
	VMOVUPS Z0, K1, (CX)
	VZEROUPPER
	RET
`)
			}
			for n := range 16 {
				if err := call(t, src(n), make([]float32, n), make([]float32, n), make([]float32, n), 0, 0, Config{}); err != nil {
					t.Fatalf("n=%d: %v", n, err)
				}
				err := call(t, src(n+1), make([]float32, n), make([]float32, n), make([]float32, n), 0, 0, Config{})
				wantErr(t, err, fmt.Sprintf("lane %d: read of 4 bytes at %#x is outside mapped memory", n, xBase+4*n))
			}
			// The unmasked form reads the whole vector.
			unmasked := strings.Replace(strings.Replace(op, "K1, ", "", 1), ".Z", "", 1)
			err := call(t, kernel("", 0, argsSize[float32](), "\t"+unmasked+"\n\tRET\n"), make([]float32, 15), make([]float32, 15), make([]float32, 15), 0, 0, Config{})
			wantErr(t, err, fmt.Sprintf("read of 64 bytes at %#x is outside mapped memory", gBase))
		})
	}
}

// oneData is the symbol one<>: sixteen float32 ones, which a zeroing load under
// a K register turns into the register's bits, one lane each.
var oneData = func() string {
	var b strings.Builder
	for i := range 16 {
		fmt.Fprintf(&b, "DATA one<>+%d(SB)/4, $(1.0)\n", 4*i)
	}
	return b.String() + "GLOBL one<>(SB), RODATA|NOPTR, $64\n"
}()

// kBitsSrc runs body after data, which sets K2 from x in Z0, g in Z2 (and in
// memory at DX), K1 = k1 and K2's garbage, and stores K2's 16 bits to x as ones
// and zeros.
func kBitsSrc(data string, k1 uint16, body string) string {
	return kernel(oneData+kmaskData(k1)+data, 0, argsSize[float32](), `	KMOVW kmask<>+0(SB), K1
	VMOVUPS (AX), Z0
	VMOVUPS (DX), Z2
	`+body+`
	VMOVUPS.Z one<>+0(SB), K2, Z3
	VMOVUPS Z3, (AX)
	VMOVUPS (CX), Z1
	VMOVUPS Z1, (CX)
	VZEROUPPER
	RET
`)
}

// kBits runs kBitsSrc on x and g, and returns K2.
func kBits(t *testing.T, data string, k1 uint16, body string, x, g []uint32) uint16 {
	t.Helper()
	fx, fg := make([]float32, 16), make([]float32, 16)
	for i := range 16 {
		fx[i], fg[i] = math.Float32frombits(x[i]), math.Float32frombits(g[i])
	}
	if err := call(t, kBitsSrc(data, k1, body), fx, make([]float32, 16), fg, 0, 0, Config{}); err != nil {
		t.Fatal(err)
	}
	var k uint16
	for i, v := range fx {
		switch v {
		case 1:
			k |= 1 << i
		case 0:
		default:
			t.Fatalf("lane %d of the mask's image is %v", i, v)
		}
	}
	return k
}

// TestMaskProducers: the integer compares and tests into a K register, and
// VCMPPS's, with and without a write mask, which clears the bits it leaves out.
// The expected bits are Intel's tables of predicates, on src1 (Z0, x) and src2
// (Z2 or memory, g), in Intel's operand order.
func TestMaskProducers(t *testing.T) {
	x := []uint32{0, 1, 0xffffffff, 0x80000000, 0x7fffffff, 5, 0xfffffffe, 3, 0x10, 0, 0x80000000, 7, 0xf0f0f0f0, 1, 2, 0x7fffffff}
	g := []uint32{0, 2, 0xffffffff, 0x7fffffff, 0x80000000, 5, 1, 0xfffffffd, 0x01, 0xffffffff, 0x80000000, 8, 0x0f0f0f0f, 1, 0x80000001, 0xffffffff}
	preds := [8]func(c int) bool{ // of the sign of src1 − src2, compared as integers
		func(c int) bool { return c == 0 }, func(c int) bool { return c < 0 }, func(c int) bool { return c <= 0 },
		func(int) bool { return false }, func(c int) bool { return c != 0 }, func(c int) bool { return c >= 0 },
		func(c int) bool { return c > 0 }, func(int) bool { return true },
	}
	signed := func(a, b uint32) int { return cmp.Compare(int32(a), int32(b)) }
	unsigned := func(a, b uint32) int { return cmp.Compare(a, b) }
	want := func(k1 uint16, holds func(a, b uint32) bool) uint16 {
		var k uint16
		for i := range 16 {
			if k1>>i&1 != 0 && holds(x[i], g[i]) {
				k |= 1 << i
			}
		}
		return k
	}
	const k1 = 0xe7b5
	type kcase struct {
		body  string
		k1    uint16 // the write mask's bits, 0xffff for none
		holds func(a, b uint32) bool
	}
	var cases []kcase
	for imm, p := range preds {
		cases = append(cases,
			kcase{fmt.Sprintf("VPCMPD $%d, Z2, Z0, K2", imm), 0xffff, func(a, b uint32) bool { return p(signed(a, b)) }},
			kcase{fmt.Sprintf("VPCMPD $%d, (DX), Z0, K1, K2", imm), k1, func(a, b uint32) bool { return p(signed(a, b)) }},
			kcase{fmt.Sprintf("VPCMPUD $%d, Z2, Z0, K2", imm), 0xffff, func(a, b uint32) bool { return p(unsigned(a, b)) }},
			kcase{fmt.Sprintf("VPCMPUD $%d, Z2, Z0, K1, K2", imm), k1, func(a, b uint32) bool { return p(unsigned(a, b)) }},
		)
	}
	cases = append(cases,
		kcase{"VPCMPEQD Z2, Z0, K2", 0xffff, func(a, b uint32) bool { return a == b }},
		kcase{"VPCMPGTD (DX), Z0, K1, K2", k1, func(a, b uint32) bool { return int32(a) > int32(b) }},
		kcase{"VPTESTMD Z2, Z0, K2", 0xffff, func(a, b uint32) bool { return a&b != 0 }},
		kcase{"VPTESTMD (DX), Z0, K1, K2", k1, func(a, b uint32) bool { return a&b != 0 }},
		kcase{"VPTESTNMD Z2, Z0, K2", 0xffff, func(a, b uint32) bool { return a&b == 0 }},
		kcase{"VPTESTNMD Z2, Z0, K1, K2", k1, func(a, b uint32) bool { return a&b == 0 }},
		kcase{"VCMPPS $0x01, Z2, Z0, K1, K2", k1, func(a, b uint32) bool { return math.Float32frombits(a) < math.Float32frombits(b) }},
		kcase{"VCMPPS $0x04, (DX), Z0, K1, K2", k1, func(a, b uint32) bool { return !(math.Float32frombits(a) == math.Float32frombits(b)) }},
		// The write mask may be the destination.
		kcase{"VPCMPD $1, Z2, Z0, K1, K1\n\tKMOVW kmask<>+0(SB), K2\n\tKANDW K1, K1, K2", k1, func(a, b uint32) bool { return int32(a) < int32(b) }},
	)
	for _, c := range cases {
		t.Run(c.body, func(t *testing.T) {
			if got, w := kBits(t, "", k1, c.body, x, g), want(c.k1, c.holds); got != w {
				t.Fatalf("K2 = %#04x, want %#04x", got, w)
			}
		})
	}

	// A compare of 8 float64s clears the K register's bits 8 and up, which start
	// as garbage.
	if k := kBits(t, "", k1, "VCMPPD $0x0f, Z2, Z0, K2", x, g); k != 0xff {
		t.Errorf("VCMPPD TRUE into K2 = %#04x, want 0xff", k)
	}
}

// TestKOps: the AVX512F instructions on 16-bit masks, whose operands Go writes
// in the reverse of Intel's order: Intel's "KANDNW k1, k2, k3" (k1 = ¬k2 ∧ k3)
// is Go's "KANDNW K3, K2, K1".
func TestKOps(t *testing.T) {
	const a, b = 0x0ff0, 0x3c3c // K1 and K3
	for _, c := range []struct {
		body string
		want uint16
	}{
		{"KANDW K1, K3, K2", a & b},
		{"KORW K1, K3, K2", a | b},
		{"KXORW K1, K3, K2", a ^ b},
		{"KXNORW K1, K3, K2", ^uint16(a ^ b)},
		{"KANDNW K1, K3, K2", ^uint16(b) & a}, // Intel's KANDNW K2, K3, K1: ¬K3 ∧ K1
		{"KANDNW K3, K1, K2", ^uint16(a) & b},
		{"KNOTW K1, K2", ^uint16(a)},
		{"KNOTW K3, K2", ^uint16(b)},
		{"KORW K1, K1, K2\n\tKANDW K3, K2, K2", a & b}, // a destination that is a source
	} {
		t.Run(c.body, func(t *testing.T) {
			zeros := make([]uint32, 16)
			k3 := fmt.Sprintf("DATA k3<>+0(SB)/2, $%#x\nGLOBL k3<>(SB), RODATA|NOPTR, $2\n", b)
			if k := kBits(t, k3, a, "KMOVW k3<>+0(SB), K3\n\t"+c.body, zeros, zeros); k != c.want {
				t.Fatalf("K2 = %#04x, want %#04x", k, c.want)
			}
		})
	}
}
