package adagrad

import (
	"encoding/json"
	"os"
	"testing"

	"github.com/adagrad-go/adagrad/internal/fbits"
)

// TestFrameworkFormulas replays testdata/golden/formulas.json through the Keras,
// TF, Optax, D2L, Gorgonia and Spago presets on every kernel path. Those cases
// are not runs of the frameworks (no Keras, TensorFlow or JAX runtime exists
// here, and gorgonia's and spago's own runs belong to modules of their own):
// gen_formulas.py evaluates each framework's published update rule, transcribed
// from its source, in numpy with one rounding per operation.
func TestFrameworkFormulas(t *testing.T) {
	raw, err := os.ReadFile("testdata/golden/formulas.json")
	if err != nil {
		t.Fatal(err)
	}
	var file struct {
		Cases []struct {
			Preset, Dtype string
			LR, Eps, Init float64
			X0, X, Sum    []uint64
			Grads         [][]uint64
		}
	}
	if err := json.Unmarshal(raw, &file); err != nil {
		t.Fatal(err)
	}
	presets := map[string]func() Config{"Keras": Keras, "TF": TF, "Optax": Optax, "D2L": D2L, "Gorgonia": Gorgonia, "Spago": Spago}
	for _, c := range file.Cases {
		cfg := presets[c.Preset]()
		cfg.LR, cfg.Eps, cfg.InitialAccumulator = c.LR, c.Eps, c.Init
		t.Run(c.Preset+"/"+c.Dtype, func(t *testing.T) {
			forEachKernel(t, func(t *testing.T) {
				if c.Dtype == "float32" {
					replayBits[float32](t, cfg, c.X0, c.Grads, c.X, c.Sum)
				} else {
					replayBits[float64](t, cfg, c.X0, c.Grads, c.X, c.Sum)
				}
			})
		})
	}
}

func fromBits[T float32 | float64](b []uint64) []T {
	v := make([]T, len(b))
	for i := range v {
		v[i] = fbits.FromBits[T](b[i])
	}
	return v
}

func replayBits[T float32 | float64](t *testing.T, cfg Config, x0 []uint64, grads [][]uint64, wantX, wantS []uint64) {
	x := fromBits[T](x0)
	opt := New(cfg, x)
	for _, g := range grads {
		opt.Step(fromBits[T](g))
	}
	for what, pair := range map[string][2][]T{"x": {x, fromBits[T](wantX)}, "sum": {opt.Accumulator(0), fromBits[T](wantS)}} {
		for i := range pair[0] {
			if pair[0][i] != pair[1][i] {
				t.Fatalf("%s[%d] = %v, the formula gives %v", what, i, pair[0][i], pair[1][i])
			}
		}
	}
}
