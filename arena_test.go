package adagrad

import (
	"math"
	"math/rand/v2"
	"testing"
	"unsafe"

	"github.com/adagrad-go/adagrad/internal/fbits"
	"github.com/adagrad-go/adagrad/kernel"
)

// arenaConfigs are the presets with every option an arena step must honour.
func arenaConfigs() map[string]Config {
	cfgs := map[string]Config{}
	for name, preset := range map[string]func() Config{"D2L": D2L, "PyTorch": PyTorch, "Keras": Keras, "TF": TF, "Optax": Optax} {
		c := preset()
		c.LR = 0.05
		if math.IsNaN(c.Eps) {
			c.Eps = 1e-7 // TF leaves it to the caller
		}
		cfgs[name] = c
	}
	c := PyTorch()
	c.WeightDecay, c.LRDecay, c.Maximize, c.InitialAccumulator = 0.01, 0.1, true, 0.1
	cfgs["PyTorch+wd+decay+max"] = c
	c = D2L()
	c.LR, c.Decay = 0.05, 0.9
	cfgs["D2L+rmsprop"] = c
	return cfgs
}

// An arena optimizer steps to the same bits as New's per-tensor Step, for every
// preset, both widths, with and without Config.Parallel, over sizes that leave
// padding (0, 1, 15, 17, …); the views are 64-byte aligned and the padding stays
// zero in x.
// poolIf is a Pool that splits from minSplit elements, or nil unless parallel.
func poolIf(parallel bool, minSplit int) *kernel.Pool {
	if !parallel {
		return nil
	}
	return kernel.NewPool(kernel.WithMinSplit(minSplit))
}

func TestArenaMatchesPerTensor(t *testing.T) {
	sizes := []int{3, 0, 1, 15, 16, 17, 100, 1000, 7}
	for name, cfg := range arenaConfigs() {
		for _, parallel := range []bool{false, true} {
			cfg.Parallel = poolIf(parallel, 64) // so that the small arena is split too
			t.Run(name, func(t *testing.T) {
				checkArena[float32](t, cfg, sizes)
				checkArena[float64](t, cfg, sizes)
			})
		}
	}
}

func checkArena[T float32 | float64](t *testing.T, cfg Config, sizes []int) {
	rng := rand.New(rand.NewPCG(9, 10))
	a := NewArena[T](cfg, sizes...)
	params, grads := a.Params(), a.Grads()
	own := make([][]T, len(sizes))
	for i, p := range params {
		if len(p) != sizes[i] || len(grads[i]) != sizes[i] || len(a.Accumulator(i)) != sizes[i] {
			t.Fatalf("tensor %d: lengths %d %d %d, want %d", i, len(p), len(grads[i]), len(a.Accumulator(i)), sizes[i])
		}
		if len(p) > 0 && uintptr(unsafe.Pointer(&p[0]))%64 != 0 {
			t.Fatalf("tensor %d is not 64-byte aligned", i)
		}
		for j := range p {
			p[j] = T(rng.NormFloat64())
		}
		own[i] = append([]T(nil), p...)
	}
	b := New(cfg, own...)
	for step := range 5 {
		g := make([][]T, len(sizes))
		for i := range grads {
			for j := range grads[i] {
				grads[i][j] = T(rng.NormFloat64() * math.Exp(float64(step)))
			}
			g[i] = append([]T(nil), grads[i]...)
		}
		a.Step()
		b.Step(g...)
		for i := range params {
			for j := range params[i] {
				if !fbits.Same(params[i][j], own[i][j]) || !fbits.Same(a.Accumulator(i)[j], b.Accumulator(i)[j]) {
					t.Fatalf("%T step %d tensor %d element %d: arena x=%v s=%v, per tensor x=%v s=%v",
						params[i][j], step, i, j, params[i][j], a.Accumulator(i)[j], own[i][j], b.Accumulator(i)[j])
				}
			}
		}
	}
	if a.Steps() != b.Steps() {
		t.Fatalf("steps %d and %d", a.Steps(), b.Steps())
	}
	for i, v := range a.arena.x {
		if v != 0 && !inTensor(a, i) {
			t.Fatalf("padding element %d of x is %v", i, v)
		}
	}
	// Step with explicit gradients still works on an arena optimizer.
	a.Step(grads...)
}

// inTensor reports whether arena index i belongs to one of a's tensors.
func inTensor[T float32 | float64](o *Optimizer[T], i int) bool {
	base := uintptr(unsafe.Pointer(unsafe.SliceData(o.arena.x)))
	size := unsafe.Sizeof(o.arena.x[0])
	for _, p := range o.params {
		if len(p) == 0 {
			continue
		}
		lo := int((uintptr(unsafe.Pointer(&p[0])) - base) / size)
		if i >= lo && i < lo+len(p) {
			return true
		}
	}
	return false
}

func TestArenaErrors(t *testing.T) {
	if New(PyTorch(), []float32{1}).Grads() != nil {
		t.Error("New's optimizer has arena gradients")
	}
	defer func() {
		if r := recover(); r != "adagrad: NewArena: size -1 of tensor 1 is negative" {
			t.Errorf("panic %v", r)
		}
	}()
	NewArena[float32](PyTorch(), 4, -1)
}
