package x86emu

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

// estimateSrc applies est (VRSQRTPS and VRCPPS on Y registers, the others on
// Z) to s and stores the result in x; mask, if not "", is a write mask and K1
// is 0x5b6d.
func estimateSrc[T float32 | float64](est, reg, mask string) string {
	r := strings.NewReplacer("OP", est, "@", reg, "MASK", mask)
	return kernel(kmaskData(0x5b6d), 0, argsSize[T](), r.Replace(`	KMOVW kmask<>+0(SB), K1
	VMOVUPS (CX), @1
	VMOVUPS (AX), @3
	OP @1, MASK@3
	VMOVUPS @3, (AX)
	VMOVUPS @1, (CX)
	VZEROUPPER
	RET
`))
}

// modelCase is one estimate instruction and the field of Models that computes
// it, set through install from a function of float64s, or cleared with nil.
type modelCase struct {
	op, reg string
	install func(*Models, func(float64) float64)
}

func f32Model(set func(*Models, func(float32) float32)) func(*Models, func(float64) float64) {
	return func(m *Models, f func(float64) float64) {
		if f == nil {
			set(m, nil)
			return
		}
		set(m, func(a float32) float32 { return float32(f(float64(a))) })
	}
}

func f64Model(set func(*Models, func(float64) float64)) func(*Models, func(float64) float64) {
	return set
}

var modelCases32 = []modelCase{
	{"VRSQRTPS", "Y", f32Model(func(m *Models, f func(float32) float32) { m.RsqrtPS = f })},
	{"VRSQRT14PS", "Z", f32Model(func(m *Models, f func(float32) float32) { m.Rsqrt14PS = f })},
	{"VRCPPS", "Y", f32Model(func(m *Models, f func(float32) float32) { m.RcpPS = f })},
	{"VRCP14PS", "Z", f32Model(func(m *Models, f func(float32) float32) { m.Rcp14PS = f })},
}

var modelCases64 = []modelCase{
	{"VRSQRT14PD", "Z", f64Model(func(m *Models, f func(float64) float64) { m.Rsqrt14PD = f })},
	{"VRCP14PD", "Z", f64Model(func(m *Models, f func(float64) float64) { m.Rcp14PD = f })},
}

// allModels has every model, each giving 1.
func allModels() Models {
	var m Models
	for _, c := range append(modelCases32, modelCases64...) {
		c.install(&m, func(float64) float64 { return 1 })
	}
	return m
}

func testModels[T float32 | float64](t *testing.T, c modelCase) {
	masks := []string{"", "K1, "}
	if c.reg == "Y" {
		masks = masks[:1] // VEX: no write masks
	}
	for _, mask := range masks {
		t.Run(c.op+" "+mask, func(t *testing.T) {
			src := estimateSrc[T](c.op, c.reg, mask)
			n := map[string]int{"Y": 32, "Z": 64}[c.reg] / sizeOf[T]()
			x, s, g := make([]T, n), make([]T, n), make([]T, n)
			for i := range n {
				x[i], s[i] = T(-i), T(i*i)+0.25
			}
			var seen []T
			m := allModels()
			c.install(&m, func(a float64) float64 {
				seen = append(seen, T(a))
				return -a
			})
			wx, ws := clone(x), clone(s)
			var wseen []T
			for i := range n {
				if mask == "" || 0x5b6d>>i&1 != 0 {
					wx[i] = -s[i]
					wseen = append(wseen, s[i])
				}
			}
			if err := call(t, src, x, s, g, 0, 0, Config{Models: m}); err != nil {
				t.Fatal(err)
			}
			// The model runs on the active lanes only, in order.
			if len(seen) != len(wseen) {
				t.Fatalf("the model ran on %d lanes, want %d", len(seen), len(wseen))
			}
			same(t, "lanes the model saw", seen, wseen)
			same(t, "x", x, wx)
			same(t, "s", s, ws)

			// The other estimates' models are no substitute, nor is zeroing a way
			// around the model.
			other := allModels()
			c.install(&other, nil)
			ops := []string{c.op}
			if mask != "" {
				ops = append(ops, c.op+".Z")
			}
			for _, op := range ops {
				p := mustParse(t, strings.Replace(src, c.op+" ", op+" ", 1))
				err := Run(p, "k", []string{"a", "b"}, x, s, g, []T{0, 0}, Config{Models: other})
				text := fmt.Sprintf("%s %s1, %s%s3", op, c.reg, mask, c.reg)
				wantErr(t, err, "test.s:14: "+text+": no model of "+c.op+" in Models")
				if h := p.Func("k").Insts()[0].Hits(); h != 0 {
					t.Errorf("a run without a model executed %d instructions", h)
				}
			}
		})
	}
}

// TestModels: the estimate instructions compute each lane with the model the
// caller installs, masked or not, and do not run without one.
func TestModels(t *testing.T) {
	for _, c := range modelCases32 {
		testModels[float32](t, c)
	}
	for _, c := range modelCases64 {
		testModels[float64](t, c)
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
