package x86emu

import (
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

// estimateSrc applies est (VRSQRTPS on Y registers, VRSQRT14PS on Z) to s and
// stores the result in x.
func estimateSrc(est, reg string) string {
	r := strings.NewReplacer("OP", est, "@", reg)
	return kernel("", 0, argsSize[float32](), r.Replace(`	VMOVUPS (CX), @1
	OP @1, @3
	VMOVUPS @3, (AX)
	VMOVUPS @1, (CX)
	VZEROUPPER
	RET
`))
}

// TestModels: the estimate instructions compute each lane with the model the
// caller installs, and do not run without one.
func TestModels(t *testing.T) {
	for _, c := range []struct {
		op, reg string
		lanes   int
		install func(*Models, func(float32) float32)
	}{
		{"VRSQRTPS", "Y", 8, func(m *Models, f func(float32) float32) { m.RsqrtPS = f }},
		{"VRSQRT14PS", "Z", 16, func(m *Models, f func(float32) float32) { m.Rsqrt14PS = f }},
	} {
		t.Run(c.op, func(t *testing.T) {
			src := estimateSrc(c.op, c.reg)
			n := c.lanes
			x, s, g := make([]float32, n), make([]float32, n), make([]float32, n)
			for i := range n {
				s[i] = float32(i*i) + 0.25
			}
			var seen []float32
			var m Models
			c.install(&m, func(a float32) float32 {
				seen = append(seen, a)
				return float32(1 / math.Sqrt(float64(a)))
			})
			if err := call(t, src, x, clone(s), g, 0, 0, Config{Models: m}); err != nil {
				t.Fatal(err)
			}
			if len(seen) != n {
				t.Fatalf("the model ran on %d lanes, want %d", len(seen), n)
			}
			for i := range n {
				if seen[i] != s[i] || x[i] != float32(1/math.Sqrt(float64(s[i]))) {
					t.Fatalf("lane %d: the model saw %v and gave %v, want %v and 1/√ of it", i, seen[i], x[i], s[i])
				}
			}

			// The other estimate's model is no substitute.
			one := func(float32) float32 { return 1 }
			other := Models{RsqrtPS: one, Rsqrt14PS: one}
			c.install(&other, nil)
			p := mustParse(t, src)
			err := Run(p, "k", []string{"a", "b"}, x, s, g, []float32{0, 0}, Config{Models: other})
			wantErr(t, err, "test.s:10: "+c.op+" "+c.reg+"1, "+c.reg+"3: no model of "+c.op+" in Models")
			if h := p.Func("k").Insts()[0].Hits(); h != 0 {
				t.Errorf("a run without a model executed %d instructions", h)
			}
		})
	}
}

// TestGarbage: registers start with the garbage of Config.Rand, so that code
// that reads one it never set gives results that depend on the seed; nil is a
// fixed seed.
func TestGarbage(t *testing.T) {
	src := kernel("", 0, argsSize[float32](), `	VMOVUPS Y7, (AX)
	VMOVUPS Y7, (CX)
	VZEROUPPER
	RET
`)
	run := func(c Config) []float32 {
		x, s, g := make([]float32, 8), make([]float32, 8), make([]float32, 8)
		if err := call(t, src, x, s, g, 0, 0, c); err != nil {
			t.Fatal(err)
		}
		return x
	}
	bits := func(v []float32) (b []uint32) {
		for _, f := range v {
			b = append(b, math.Float32bits(f))
		}
		return b
	}
	a, b := bits(run(Config{Rand: rand.New(rand.NewPCG(1, 1))})), bits(run(Config{Rand: rand.New(rand.NewPCG(1, 1))}))
	c := bits(run(Config{Rand: rand.New(rand.NewPCG(1, 2))}))
	d, e := bits(run(Config{})), bits(run(Config{}))
	if !slices.Equal(a, b) || !slices.Equal(d, e) {
		t.Errorf("the same seed gave different garbage")
	}
	if slices.Equal(a, c) {
		t.Errorf("different seeds gave the same garbage")
	}
}
