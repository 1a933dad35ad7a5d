package ref

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/adagrad-go/adagrad/internal/fbits"
)

func TestCoalesce(t *testing.T) {
	rows, sums := Coalesce(2, []int64{4, 1, 4, 4}, []float32{1, 2, 10, 20, 0x1p24, 0, 1, 3})
	if len(rows) != 2 || rows[0] != 4 || rows[1] != 1 {
		t.Fatalf("rows %v, want [4 1]", rows)
	}
	// In order of appearance, (1 + 2^24) + 1 = 2^24 in float32: each +1 is a tie
	// that rounds to even and is lost. Adding the two 1s first would give 2^24 + 2.
	want := []float32{0x1p24, 5, 10, 20}
	for i := range want {
		if sums[i] != want[i] {
			t.Fatalf("sums %v, want %v", sums, want)
		}
	}
}

// TestSumSquaresOrder checks the documented lane order and tree against the sum
// written out lane by lane, on data where order changes the result.
func TestSumSquaresOrder(t *testing.T) {
	rng := rand.New(rand.NewPCG(2, 9))
	for _, n := range []int{0, 1, 15, 16, 17, 64, 100, 131} {
		v := make([]float32, n)
		for i := range v {
			v[i] = float32(rng.NormFloat64() * math.Pow(2, float64(rng.IntN(40)-20)))
		}
		lane := func(j int) float32 {
			var a float32
			for i := j; i < n; i += 16 {
				a = a + float32(v[i]*v[i])
			}
			return a
		}
		var l [16]float32
		for j := range l {
			l[j] = lane(j)
		}
		t8 := [8]float32{}
		for j := range t8 {
			t8[j] = l[j] + l[j+8]
		}
		t4 := [4]float32{t8[0] + t8[4], t8[1] + t8[5], t8[2] + t8[6], t8[3] + t8[7]}
		t2 := [2]float32{t4[0] + t4[2], t4[1] + t4[3]}
		if got, want := SumSquares(v, false), t2[0]+t2[1]; got != want {
			t.Fatalf("n=%d: SumSquares = %v, the documented order gives %v", n, got, want)
		}
	}
}

// TestRowWiseByHand: dim 4, g = (1, 1, 1, 1) and (2, 2, 2, 2) on the same row, lr
// 0.5, eps 0, all exact: q = 4 → m = 1 → s = 1, d = 1, x −= 0.5; then q = 16 →
// m = 4 → s = 5, d = √5, x −= 0.5·2/√5.
func TestRowWiseByHand(t *testing.T) {
	x, s := []float32{1, 1, 1, 1, 7, 7, 7, 7}, []float32{0, 0}
	g := []float32{1, 1, 1, 1, 2, 2, 2, 2}
	if err := RowWise(Form{}, x, s, 4, []int32{0, 0}, g, Params[float32]{LR: 0.5}); err != nil {
		t.Fatal(err)
	}
	d := float32(math.Sqrt(5))
	want := float32(0.5) - float32(float32(0.5/d)*2)
	if s[0] != 5 || s[1] != 0 || x[0] != want || x[3] != want || x[4] != 7 {
		t.Fatalf("x = %v, s = %v; want x[0:4] = %v, s = [5 0]", x, s, want)
	}
	x64, s64 := []float64{1, 1}, []float64{0}
	if err := RowWise(Form{Order: MulDiv}, x64, s64, 2, []int64{0}, []float64{3, 4}, Params[float64]{LR: 1}); err != nil {
		t.Fatal(err)
	}
	// q = 25, m = 12.5, d = √12.5; x = 1 − 3/d, 1 − 4/d
	if d := math.Sqrt(12.5); s64[0] != 12.5 || x64[0] != 1-3/d || x64[1] != 1-4/d {
		t.Fatalf("x = %v, s = %v", x64, s64)
	}
}

// TestRowScaleMatchesStep holds RowScale and rowStep, which split the step into a
// per-row factor and a per-element part, to the per-element step that Apply
// uses, for every form and values that include zeros, infinities and NaNs.
func TestRowScaleMatchesStep(t *testing.T) {
	vals := []float64{0, math.Copysign(0, -1), 1e-30, 0.3, 2, 7e20, math.Inf(1), math.Inf(-1), math.NaN(), -0.5}
	for _, f := range Forms() {
		for _, p := range []Params[float64]{{LR: 0.1, Eps: 1e-6, WeightDecay: 0.01, Decay: 0.9, Gain: 0.1}, {LR: 3, Eps: 0, Decay: 1, Gain: 1}} {
			p32 := Params[float32]{LR: float32(p.LR), Eps: float32(p.Eps), WeightDecay: float32(p.WeightDecay), Decay: float32(p.Decay), Gain: float32(p.Gain)}
			for _, s := range vals {
				for _, q := range vals {
					for _, g := range vals {
						sr, k := RowScale(f, p, s, q, 3)
						want := step(f, p, g, root(f, p, sr), sr)
						if got := rowStep(f, p, g, k); !fbits.Same(got, want) {
							t.Fatalf("%v s=%v q=%v g=%v: rowStep64 = %v, step64 = %v", f, s, q, g, got, want)
						}
						sr32, k32 := RowScale(f, p32, float32(s), float32(q), 3)
						want32 := step(f, p32, float32(g), root(f, p32, sr32), sr32)
						if got := rowStep(f, p32, float32(g), k32); !fbits.Same(float64(got), float64(want32)) {
							t.Fatalf("%v s=%v q=%v g=%v: rowStep32 = %v, step32 = %v", f, s, q, g, got, want32)
						}
					}
				}
			}
		}
	}
}
