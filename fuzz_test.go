package adagrad

import (
	"encoding/binary"
	"math"
	"sort"
	"testing"
	"unsafe"

	"github.com/adagrad-go/adagrad/internal/fbits"
)

// FuzzArena holds an arena optimizer's one-call Step to New's per-tensor Step, bit
// for bit, over fuzzed tensor sizes (each leaving its own padding), parameter and
// gradient bit patterns of both widths, every configuration of arenaConfigs, a
// fuzzed rate and eps (zero included), and Config.Parallel with a low threshold.
// The padding's gradients must stay zero, and its x too but where Eps 0 makes
// the step NaN.
func FuzzArena(f *testing.F) {
	f.Add(uint8(0), uint8(0), []byte{3, 0, 1, 15, 17}, []byte{0x3f, 0x80, 0, 0, 0xbf, 0xc0, 0, 0})
	f.Add(uint8(3), uint8(0x81), []byte{64, 65, 200}, []byte{0x7f, 0xc0, 0, 0, 0, 0, 0x80, 0})
	f.Add(uint8(6), uint8(0x42), []byte{1}, []byte{0xff, 0x80, 0, 0})
	names := make([]string, 0, len(arenaConfigs()))
	for name := range arenaConfigs() {
		names = append(names, name)
	}
	sort.Strings(names)
	f.Fuzz(func(t *testing.T, cfgIndex, mode uint8, sizeBytes, data []byte) {
		cfg := arenaConfigs()[names[int(cfgIndex)%len(names)]]
		cfg.Parallel = poolIf(mode&0x80 != 0, 64)
		cfg.LR = []float64{0.05, 0, 1e-30, 3}[mode&3]
		cfg.Eps = []float64{cfg.Eps, 0, 1e-30, 1}[mode>>2&3]
		sizes := make([]int, min(len(sizeBytes), 16))
		for i := range sizes {
			sizes[i] = int(sizeBytes[i])
		}
		fuzzArena[float32](t, cfg, sizes, data)
		fuzzArena[float64](t, cfg, sizes, data)
	})
}

func fuzzArena[T float32 | float64](t *testing.T, cfg Config, sizes []int, data []byte) {
	a := NewArena[T](cfg, sizes...)
	var zero T
	width := int(unsafe.Sizeof(zero))
	k := 0
	next := func() T {
		var b [8]byte
		for i := range width {
			if len(data) > 0 {
				b[i] = data[k%len(data)]
			}
			k++
		}
		if width == 4 {
			return T(math.Float32frombits(binary.BigEndian.Uint32(b[:])))
		}
		return T(math.Float64frombits(binary.BigEndian.Uint64(b[:])))
	}
	own, grads := make([][]T, len(sizes)), make([][]T, len(sizes))
	for i, p := range a.Params() {
		for j := range p {
			p[j], a.Grads()[i][j] = next(), next()
		}
		own[i], grads[i] = append([]T(nil), p...), append([]T(nil), a.Grads()[i]...)
	}
	b := New(cfg, own...)
	for range 2 {
		a.Step()
		b.Step(grads...)
	}
	for i, p := range a.Params() {
		for j := range p {
			if !fbits.Identical(p[j], own[i][j]) || !fbits.Identical(a.Accumulator(i)[j], b.Accumulator(i)[j]) {
				t.Fatalf("%T tensor %d element %d: arena x=%v s=%v, per tensor x=%v s=%v",
					zero, i, j, p[j], a.Accumulator(i)[j], own[i][j], b.Accumulator(i)[j])
			}
		}
	}
	for i := range a.arena.x {
		if !inTensor(a, i) && (a.arena.g[i] != 0 || a.arena.x[i] != 0 && !(cfg.Eps == 0 && a.arena.x[i] != a.arena.x[i])) {
			t.Fatalf("%T padding element %d: x=%v g=%v", zero, i, a.arena.x[i], a.arena.g[i])
		}
	}
}
