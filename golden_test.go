package adagrad

import (
	"compress/gzip"
	"encoding/binary"
	"encoding/json"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/adagrad-go/adagrad/kernel"
)

// goldenFile is one run of testdata/golden/gen_pytorch.py: real torch.optim.Adagrad
// from PyTorch 1.13 on one set of CPU kernels.
type goldenFile struct {
	Torch         string `json:"torch"`
	CPUCapability string `json:"cpu_capability"`
	Data          string `json:"data"`
	Steps, N      int
	Cases         []struct {
		Name    string
		Dtype   string
		Foreach bool
		Config  struct {
			LR                      float64 `json:"lr"`
			LRDecay                 float64 `json:"lr_decay"`
			WeightDecay             float64 `json:"weight_decay"`
			Maximize                bool    `json:"maximize"`
			InitialAccumulatorValue float64 `json:"initial_accumulator_value"`
			Eps                     *float64
		}
		X0, Grads, X, Sum int
	}
}

// decode reads n little-endian values of T at byte offset off.
func decode[T float32 | float64](b []byte, off, n int) []T {
	v := make([]T, n)
	for i := range v {
		switch p := any(&v[i]).(type) {
		case *float32:
			*p = math.Float32frombits(binary.LittleEndian.Uint32(b[off+4*i:]))
		case *float64:
			*p = math.Float64frombits(binary.LittleEndian.Uint64(b[off+8*i:]))
		}
	}
	return v
}

// TestPyTorchGolden replays every case that real PyTorch computed, on every kernel
// path, and requires the same bits in the parameters and the accumulator.
//
// What the cases showed about PyTorch 1.13 (Debian's build, GCC 12): with its AVX2
// kernels the accumulator update s + g·g and the weight decay g + wd·x are each one
// fused multiply-add, because GCC contracts the vector expressions in addcmul_ and
// add(alpha=) into VFMADD; with ATEN_CPU_CAPABILITY=default they are rounded twice.
// Its foreach path computes the rate in float32 tensor arithmetic (the step counter
// is a float32 tensor, and float/tensor is tensor.reciprocal()*float), which differs
// from the single-tensor path's float64 rate once lr_decay is set, and rounds the
// rate to float32 even for float64 parameters.
func TestPyTorchGolden(t *testing.T) {
	files, _ := filepath.Glob("testdata/golden/pytorch-*.json")
	if len(files) == 0 {
		t.Fatal("no golden files in testdata/golden; run testdata/golden/gen_pytorch.py")
	}
	for _, name := range files {
		var gf goldenFile
		raw, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(raw, &gf); err != nil {
			t.Fatal(err)
		}
		f, err := os.Open(filepath.Join("testdata/golden", gf.Data))
		if err != nil {
			t.Fatal(err)
		}
		zr, err := gzip.NewReader(f)
		if err != nil {
			t.Fatal(err)
		}
		blob, err := io.ReadAll(zr)
		f.Close()
		if err != nil {
			t.Fatal(err)
		}
		vectorKernels := gf.CPUCapability == "AVX2" || gf.CPUCapability == "AVX512"
		for _, c := range gf.Cases {
			cfg := PyTorch()
			if !vectorKernels {
				cfg.Form.FusedAccumulator = false
				cfg.Form.WeightDecay = kernel.WeightDecayAdd
			}
			cfg.LR, cfg.LRDecay, cfg.WeightDecay = c.Config.LR, c.Config.LRDecay, c.Config.WeightDecay
			cfg.Maximize, cfg.InitialAccumulator = c.Config.Maximize, c.Config.InitialAccumulatorValue
			if c.Config.Eps != nil {
				cfg.Eps = *c.Config.Eps
			}
			cfg.TorchForeach = c.Foreach
			t.Run(strings.ReplaceAll(gf.CPUCapability, " ", "_")+"/"+c.Name, func(t *testing.T) {
				forEachKernel(t, func(t *testing.T) {
					if c.Dtype == "float32" {
						replay[float32](t, cfg, blob, gf.Steps, gf.N, c.X0, c.Grads, c.X, c.Sum)
					} else {
						replay[float64](t, cfg, blob, gf.Steps, gf.N, c.X0, c.Grads, c.X, c.Sum)
					}
				})
			})
		}
	}
}

func replay[T float32 | float64](t *testing.T, cfg Config, blob []byte, steps, n, x0, grads, wantX, wantS int) {
	var zero T
	size := int(binary.Size(zero))
	x := decode[T](blob, x0, n)
	opt := New(cfg, x)
	for step := 0; step < steps; step++ {
		opt.Step(decode[T](blob, grads+step*n*size, n))
	}
	for what, pair := range map[string][2][]T{"x": {x, decode[T](blob, wantX, n)}, "sum": {opt.Accumulator(0), decode[T](blob, wantS, n)}} {
		for i := range pair[0] {
			if pair[0][i] != pair[1][i] {
				t.Fatalf("%s[%d] = %v, PyTorch has %v", what, i, pair[0][i], pair[1][i])
			}
		}
	}
}

// forEachKernel runs f with every kernel implementation this CPU has in use.
func forEachKernel(t *testing.T, f func(t *testing.T)) {
	saved := kernel.Implementation()
	defer kernel.Use(saved)
	for _, name := range kernel.Implementations() {
		if err := kernel.Use(name); err != nil {
			t.Fatal(err)
		}
		t.Run(name, f)
	}
}
