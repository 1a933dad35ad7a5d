package ref

import (
	"math"
	"math/big"
	"math/rand/v2"
	"testing"

	"github.com/adagrad-go/adagrad/internal/fbits"
)

// TestUpdate32RoundsEachOperation checks Update against an independent oracle:
// each float32 operation carried out in float64 and then rounded to float32. For +,
// −, ×, ÷ and √ of float32 operands that double rounding is provably the same as one
// correct rounding (float64 carries more than 2·24+2 bits), so the oracle is exact.
func TestUpdate32RoundsEachOperation(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 1))
	r := func(v float64) float32 { return float32(v) }
	for i := 0; i < 200000; i++ {
		x0, s0, g0 := float32(rng.NormFloat64()*4), float32(rng.Float64()*8), float32(rng.NormFloat64())
		lr, eps := float32(rng.Float64()), float32(rng.Float64()*1e-3)
		if i%3 == 0 {
			x0 = math.Float32frombits(rng.Uint32())
			s0 = math.Float32frombits(rng.Uint32())
			g0 = math.Float32frombits(rng.Uint32())
		}
		sq := r(float64(g0) * float64(g0))
		s1 := r(float64(s0) + float64(sq))
		d := r(math.Sqrt(float64(r(float64(s1) + float64(eps)))))
		q := r(float64(lr) / float64(d))
		x1 := r(float64(x0) - float64(r(float64(q)*float64(g0))))

		x, s := []float32{x0}, []float32{s0}
		Update(x, s, []float32{g0}, lr, eps)
		if !fbits.Same(s[0], s1) || !fbits.Same(x[0], x1) {
			t.Fatalf("x=%g s=%g g=%g lr=%g eps=%g: got x=%g s=%g, want x=%g s=%g", x0, s0, g0, lr, eps, x[0], s[0], x1, s1)
		}
	}
}

// TestUpdate64RoundsEachOperation checks Update against math/big, which rounds
// each operation to 53 bits independently of the hardware. Inputs stay in the
// normal range, where big.Float's unbounded exponent agrees with IEEE 754.
func TestUpdate64RoundsEachOperation(t *testing.T) {
	rng := rand.New(rand.NewPCG(2, 2))
	f := func(v float64) *big.Float { return new(big.Float).SetPrec(53).SetFloat64(v) }
	n := func() *big.Float { return new(big.Float).SetPrec(53) }
	for i := 0; i < 50000; i++ {
		x0, s0, g0 := rng.NormFloat64()*4, rng.Float64()*8, rng.NormFloat64()
		lr, eps := rng.Float64(), rng.Float64()*1e-3
		sq := n().Mul(f(g0), f(g0))
		s1 := n().Add(f(s0), sq)
		d := n().Sqrt(n().Add(s1, f(eps)))
		q := n().Quo(f(lr), d)
		x1 := n().Sub(f(x0), n().Mul(q, f(g0)))

		x, s := []float64{x0}, []float64{s0}
		Update(x, s, []float64{g0}, lr, eps)
		ws, _ := s1.Float64()
		wx, _ := x1.Float64()
		if s[0] != ws || x[0] != wx {
			t.Fatalf("x=%g s=%g g=%g lr=%g eps=%g: got x=%g s=%g, want x=%g s=%g", x0, s0, g0, lr, eps, x[0], s[0], wx, ws)
		}
	}
}

// TestNoFusedMultiplyAdd uses inputs where a fused g*g+s differs from the rounded
// product plus s, so a compiler that fused them would fail here. Go fuses on arm64
// (and other targets); `make test` runs this package under qemu-aarch64 as well.
func TestNoFusedMultiplyAdd(t *testing.T) {
	g := float32(1 + 0x1p-12) // g*g = 1 + 2^-11 + 2^-24: the last bit is lost when rounded
	s := float32(0x1p-23)
	fusedS := float32(math.FMA(float64(g), float64(g), float64(s)))
	x, acc := []float32{1}, []float32{s}
	Update(x, acc, []float32{g}, 0, 0)
	if acc[0] == fusedS {
		t.Fatalf("Update computed s = %v, the fused result", acc[0])
	}
	if want := s + float32(g*g); acc[0] != want {
		t.Fatalf("Update computed s = %v, want %v", acc[0], want)
	}

	// For float64, search for inputs where fusing would change s.
	rng := rand.New(rand.NewPCG(3, 3))
	for found := 0; found < 100; {
		g64, s64 := rng.Float64()+1, rng.Float64()*0x1p-50
		fused := math.FMA(g64, g64, s64)
		want := s64 + float64(g64*g64)
		if fused == want {
			continue
		}
		found++
		x64, acc64 := []float64{1}, []float64{s64}
		Update(x64, acc64, []float64{g64}, 0, 0)
		if acc64[0] != want {
			t.Fatalf("Update computed s = %v for g=%v s=%v, want %v (fused: %v)", acc64[0], g64, s64, want, fused)
		}
	}
}
