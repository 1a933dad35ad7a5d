package adagrad

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"unsafe"

	"github.com/adagrad-go/adagrad/internal/fbits"
	"github.com/adagrad-go/adagrad/kernel"
)

// The arena's arrays are Go memory, which guard pages cannot surround; the kernel
// guard-page tests show that a kernel touches nothing outside the slice it is
// given. What is left to show here is that the arena's one call over the whole
// array leaves its padding as a zero tensor with zero gradients would be, and
// every tensor's bits as New's per-tensor Step leaves them.

// arenaPaddingSizes are the size lists the padding test runs: sizes around both
// widths' 64-byte lines (16 float32, 8 float64), empty tensors between and at
// the ends, and random lists of them.
func arenaPaddingSizes(rng *rand.Rand) [][]int {
	lists := [][]int{
		{}, {0}, {1}, {0, 0}, {0, 1, 0}, {15}, {16}, {17}, {63}, {64}, {65},
		{1, 15, 16, 17, 63, 64, 65}, {65, 64, 63, 17, 16, 15, 1, 0},
		{7, 8, 9}, {0, 63, 0, 65, 0}, {1000, 1, 4099},
	}
	pick := []int{0, 1, 2, 3, 7, 8, 9, 15, 16, 17, 31, 32, 33, 63, 64, 65, 100, 127, 128, 129}
	for range 8 {
		sizes := make([]int, 1+rng.IntN(10))
		for i := range sizes {
			sizes[i] = pick[rng.IntN(len(pick))]
		}
		lists = append(lists, sizes)
	}
	return lists
}

// arenaPaddingConfigs are arenaConfigs, Optax with a weight decay and Maximize
// (guard form), PyTorch's foreach rate and Keras with a decaying accumulator,
// in a fixed order.
func arenaPaddingConfigs() ([]string, map[string]Config) {
	cfgs := arenaConfigs()
	c := Optax()
	c.LR, c.WeightDecay, c.Maximize = 0.05, 0.02, true
	cfgs["Optax+wd+max"] = c
	c = PyTorch()
	c.LRDecay, c.TorchForeach = 0.05, true
	cfgs["PyTorch+foreach"] = c
	c = Keras() // a forgetting accumulator that starts above zero: the padding's s moves
	c.LR, c.Decay = 0.05, 0.9
	cfgs["Keras+rmsprop"] = c
	var names []string
	for name := range cfgs {
		names = append(names, name)
	}
	slices.Sort(names)
	return names, cfgs
}

// TestArenaPadding runs, on every kernel implementation, every configuration of
// arenaPaddingConfigs, both widths, over arenaPaddingSizes, and with
// Config.Parallel over a third of them, an eighth in -short (a Pool that
// splits from 64 elements, so that the arenas split): each Step() must give every element the
// bits of New's per-tensor Step on copies, leave x's and g's padding +0 to
// the bit, and step the padding's s exactly as a one-element zero tensor's
// accumulator with zero gradients.
func TestArenaPadding(t *testing.T) {
	saved := kernel.Implementation()
	defer func() {
		if err := kernel.Use(saved); err != nil {
			t.Fatal(err)
		}
	}()
	names, cfgs := arenaPaddingConfigs()
	parallelEvery := 3
	if testing.Short() {
		parallelEvery = 8
	}
	for _, impl := range kernel.Implementations() {
		if err := kernel.Use(impl); err != nil {
			t.Fatal(err)
		}
		t.Run(impl, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(3, 4))
			lists := arenaPaddingSizes(rng)
			for _, name := range names {
				for _, parallel := range []bool{false, true} {
					cfg := cfgs[name]
					cfg.Parallel = poolIf(parallel, 64)
					for li, sizes := range lists {
						if parallel && li%parallelEvery != 0 {
							continue // a parallel step waits for helper threads: slow under qemu
						}
						what := fmt.Sprintf("%s parallel=%v sizes %v", name, parallel, sizes)
						checkArenaPadding[float32](t, what, cfg, sizes, rng)
						checkArenaPadding[float64](t, what, cfg, sizes, rng)
					}
				}
			}
		})
	}
}

// checkArenaPadding runs three steps of an arena of sizes and of New's
// optimizer on copies, and checks the layout, the tensors and the padding
// after each.
func checkArenaPadding[T float32 | float64](t *testing.T, what string, cfg Config, sizes []int, rng *rand.Rand) {
	t.Helper()
	what = fmt.Sprintf("%T %s", T(0), what)
	a := NewArena[T](cfg, sizes...)
	params, grads := a.Params(), a.Grads()
	inTensor := arenaLayout(t, what, a, sizes)
	own := make([][]T, len(sizes))
	for i, p := range params {
		for j := range p {
			p[j] = T(rng.NormFloat64())
		}
		own[i] = append([]T(nil), p...)
	}
	b := New(cfg, own...)
	pad := New(cfg, make([]T, 1)) // what the padding must do
	for step := range 3 {
		g := make([][]T, len(sizes))
		for i := range grads {
			for j := range grads[i] {
				grads[i][j] = T(rng.NormFloat64() * math.Exp(float64(2*step)))
			}
			g[i] = append([]T(nil), grads[i]...)
		}
		a.Step()
		b.Step(g...)
		pad.Step(make([]T, 1))
		for i := range params {
			for j := range params[i] {
				if fbits.Bits(params[i][j]) != fbits.Bits(own[i][j]) || fbits.Bits(a.Accumulator(i)[j]) != fbits.Bits(b.Accumulator(i)[j]) {
					t.Fatalf("%s step %d tensor %d element %d: arena x=%v s=%v, per tensor x=%v s=%v",
						what, step, i, j, params[i][j], a.Accumulator(i)[j], own[i][j], b.Accumulator(i)[j])
				}
				if fbits.Bits(grads[i][j]) != fbits.Bits(g[i][j]) {
					t.Fatalf("%s step %d: gradient %d element %d changed", what, step, i, j)
				}
			}
		}
		padX, padS := fbits.Bits(pad.Params()[0][0]), fbits.Bits(pad.Accumulator(0)[0])
		if padX != 0 {
			t.Fatalf("%s step %d: a zero tensor's x became %#x", what, step, padX)
		}
		for k, in := range inTensor {
			if in {
				continue
			}
			x, s, g := fbits.Bits(a.arena.x[k]), fbits.Bits(a.arena.s[k]), fbits.Bits(a.arena.g[k])
			if x != 0 || g != 0 || s != padS {
				t.Fatalf("%s step %d: padding element %d of %d holds x=%#x s=%#x g=%#x, want 0, %#x, 0",
					what, step, k, len(inTensor), x, s, g, padS)
			}
		}
	}
}

// arenaLayout checks that a's tensors are views of its arrays at their offsets:
// in order, each at a 64-byte boundary right after the previous one's padding,
// the arrays exactly as long as the padded tensors; it returns which arena
// elements belong to a tensor.
func arenaLayout[T float32 | float64](t *testing.T, what string, a *Optimizer[T], sizes []int) []bool {
	t.Helper()
	line := 64 / int(unsafe.Sizeof(T(0)))
	ar := a.arena
	n := 0
	for _, size := range sizes {
		n += (size + line - 1) / line * line
	}
	if len(ar.x) != n || len(ar.s) != n || len(ar.g) != n {
		t.Fatalf("%s: arena lengths %d %d %d, want %d", what, len(ar.x), len(ar.s), len(ar.g), n)
	}
	inTensor := make([]bool, n)
	lo := 0
	for i, size := range sizes {
		for _, v := range []struct {
			name       string
			view, base []T
		}{{"x", a.Params()[i], ar.x}, {"s", a.Accumulator(i), ar.s}, {"g", a.Grads()[i], ar.g}} {
			if len(v.view) != size || cap(v.view) != size {
				t.Fatalf("%s: tensor %d's %s has len %d cap %d, want %d", what, i, v.name, len(v.view), cap(v.view), size)
			}
			if size > 0 && (&v.view[0] != &v.base[lo] || uintptr(unsafe.Pointer(&v.view[0]))%64 != 0) {
				t.Fatalf("%s: tensor %d's %s is not at element %d of the arena on a 64-byte boundary", what, i, v.name, lo)
			}
		}
		for k := lo; k < lo+size; k++ {
			inTensor[k] = true
		}
		lo += (size + line - 1) / line * line
	}
	return inTensor
}
