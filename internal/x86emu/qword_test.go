package x86emu

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestQwordOps: VPADDQ and VPSUBQ on 64-bit lanes, and VPTESTMQ/VPTESTNMQ into a
// K register under a write mask, which the float64 FMA sequences use.
func TestQwordOps(t *testing.T) {
	rng := rand.New(rand.NewPCG(6, 4))
	x, g := make([]float64, 8), make([]float64, 8)
	for i := range x {
		x[i] = math.Float64frombits(rng.Uint64())
		g[i] = math.Float64frombits(rng.Uint64() >> uint(rng.IntN(64)))
	}
	x[3], g[5] = 0, 0
	const k1 = 0b1011_0110
	body := `	KMOVW kmask<>+0(SB), K1
	VMOVUPD (AX), Z0
	VMOVUPD (DX), Z2
	VPADDQ Z2, Z0, Z3
	VPSUBQ (DX), Z0, Z4
	VPTESTMQ Z2, Z0, K1, K2
	VPTESTNMQ Z2, Z0, K3
	VMOVAPD.Z Z3, K2, Z5
	VMOVAPD Z4, K3, Z5
	VMOVUPD Z5, (AX)
	VMOVUPD (CX), Z1
	VMOVUPD Z1, (CX)
	VZEROUPPER
	RET
`
	src := kernel(kmaskData(k1), 0, argsSize[float64](), body)
	got, s := append([]float64(nil), x...), make([]float64, 8)
	if err := call(t, src, got, s, g, 0, 0, Config{}); err != nil {
		t.Fatal(err)
	}
	for i := range x {
		a, b := math.Float64bits(x[i]), math.Float64bits(g[i])
		var want uint64
		switch {
		case a&b == 0:
			want = a - b
		case k1>>i&1 != 0:
			want = a + b
		}
		if math.Float64bits(got[i]) != want {
			t.Errorf("lane %d: %#x, want %#x", i, math.Float64bits(got[i]), want)
		}
	}
}

// TestQwordCompares: VPCMPUQ and VPCMPQ into K registers, VPANDQ, and
// KUNPCKBW, which joins two 8-lane masks into the 16 bits KORTESTW tests (the
// float64 hybrid kernels' domain check).
func TestQwordCompares(t *testing.T) {
	rng := rand.New(rand.NewPCG(6, 5))
	x, g := make([]float64, 8), make([]float64, 8)
	for i := range x {
		x[i] = math.Float64frombits(rng.Uint64())
		g[i] = math.Float64frombits(rng.Uint64())
	}
	g[2] = x[2]
	body := `	VMOVUPD (AX), Z0
	VMOVUPD (DX), Z2
	VPCMPUQ $1, Z2, Z0, K1
	VPCMPQ $2, Z2, Z0, K2
	KUNPCKBW K1, K2, K3
	VPANDQ Z2, Z0, Z4
	VMOVUPD Z4, (AX)
	VMOVUPS.Z (DX), K3, Z5
	VMOVUPS Z5, (CX)
	VZEROUPPER
	RET
`
	src := kernel("", 0, argsSize[float64](), body)
	got, s := append([]float64(nil), x...), make([]float64, 8)
	if err := call(t, src, got, s, g, 0, 0, Config{}); err != nil {
		t.Fatal(err)
	}
	var k1, k2 uint
	for i := range x {
		a, b := math.Float64bits(x[i]), math.Float64bits(g[i])
		if a < b {
			k1 |= 1 << i
		}
		if int64(a) <= int64(b) {
			k2 |= 1 << i
		}
		if w := a & b; math.Float64bits(got[i]) != w {
			t.Errorf("VPANDQ lane %d: %#x, want %#x", i, math.Float64bits(got[i]), w)
		}
	}
	k3 := k2<<8 | k1
	for j := range 16 {
		half := uint32(math.Float64bits(s[j/2]) >> (32 * (j % 2)))
		var want uint32
		if k3>>j&1 != 0 {
			want = uint32(math.Float64bits(g[j/2]) >> (32 * (j % 2)))
		}
		if half != want {
			t.Errorf("KUNPCKBW of K1 %#x and K2 %#x: dword %d is %#x, want %#x", k1, k2, j, half, want)
		}
	}
}
