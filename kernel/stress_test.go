package kernel

import (
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"

	"github.com/adagrad-go/adagrad/ref"
)

// stressOp is one call of TestStress on one goroutine's own tensors.
type stressOp func(x, s, g []float32, x64, s64, g64 []float64) error

// stressOps are the kernels TestStress mixes: dense and parallel, both widths,
// the fast mode and the sparse steps, each a call on the tensors given.
func stressOps(f Form) []stressOp {
	p32, p64 := Params[float32]{LR: 0.01, Eps: 1e-6, WeightDecay: 0.01, Decay: 0.9, Gain: 0.1}, Params[float64]{LR: 0.01, Eps: 1e-6, WeightDecay: 0.01, Decay: 0.9, Gain: 0.1}
	rows := []int32{0, 3, 1, 3, 0}
	return []stressOp{
		func(x, s, g []float32, _, _, _ []float64) error { Update(x, s, g, 0.01, 1e-6); return nil },
		func(_, _, _ []float32, x, s, g []float64) error { Update(x, s, g, 0.01, 1e-6); return nil },
		func(x, s, g []float32, _, _, _ []float64) error { Apply(f, x, s, g, p32); return nil },
		func(_, _, _ []float32, x, s, g []float64) error { Apply(f, x, s, g, p64); return nil },
		func(x, s, g []float32, _, _, _ []float64) error { UpdateFast(x, s, g, 0.01, 1e-6); return nil },
		func(x, s, g []float32, _, _, _ []float64) error {
			UpdateOn(stressPool, x, s, g, 0.01, 1e-6)
			return nil
		},
		func(x, s, g []float32, _, _, _ []float64) error { ApplyOn(stressPool, f, x, s, g, p32); return nil },
		func(_, _, _ []float32, x, s, g []float64) error { ApplyOn(stressPool, f, x, s, g, p64); return nil },
		func(x, s, g []float32, _, _, _ []float64) error {
			dim := len(x) / 4
			return ApplyRows(f, DuplicatesSummed, x[:4*dim], s[:4*dim], dim, rows, g[:len(rows)*dim], p32, nil)
		},
		func(_, _, _ []float32, x, s, g []float64) error {
			dim := len(x) / 4
			return ApplyRowsParallel(3, f, DuplicatesInOrder, x[:4*dim], s[:4*dim], dim, rows, g[:len(rows)*dim], p64, nil)
		},
		func(x, s, g []float32, _, _, _ []float64) error {
			dim := len(x) / 4
			return RowWise(f, x[:4*dim], s[:4], dim, rows, g[:len(rows)*dim], p32)
		},
	}
}

// stressTensors are one goroutine's tensors, both widths, with room for the
// sparse steps' five gradient rows.
type stressTensors struct {
	x, s, g       []float32
	x64, s64, g64 []float64
}

func newStressTensors(seed uint64, n int) *stressTensors {
	rng := rand.New(rand.NewPCG(seed, 1))
	t := &stressTensors{x: make([]float32, n), s: make([]float32, n), g: make([]float32, 2*n),
		x64: make([]float64, n), s64: make([]float64, n), g64: make([]float64, 2*n)}
	fill(rng, "ordinary", t.x, t.s, t.g[:n])
	fill(rng, "ordinary", t.x64, t.s64, t.g64[:n])
	copy(t.g[n:], t.g)
	copy(t.g64[n:], t.g64)
	return t
}

// run applies the goroutine's sequence of operations, chosen by its seed.
func (t *stressTensors) run(seed uint64, calls int, ops []stressOp) error {
	rng := rand.New(rand.NewPCG(seed, 2))
	for range calls {
		if err := ops[rng.IntN(len(ops))](t.x, t.s, t.g[:len(t.x)], t.x64, t.s64, t.g64[:len(t.x)]); err != nil {
			return err
		}
	}
	return nil
}

// stressPool splits TestStress's parallel calls from 1024 elements.
var stressPool = NewPool(WithMinSplit(1024))

// TestStress runs many goroutines at once, each updating its own tensors with a
// random mix of every kernel, the parallel ones sharing the helper pool, and
// checks each goroutine's tensors against the same calls made one goroutine at a
// time. Under -race (make race) it is also the race detector's workload.
func TestStress(t *testing.T) {
	goroutines, calls := 32, 40
	if testing.Short() {
		goroutines, calls = 8, 10
	}
	forms := ref.Forms()
	forEachImpl(t, func(t *testing.T) {
		ops := stressOps(forms[len(forms)/3])
		size := func(i int) int { return []int{4, 37, 1024, 5000, 20000}[i%5] + i }
		concurrent := make([]*stressTensors, goroutines)
		errs := make([]error, goroutines)
		var wg sync.WaitGroup
		for i := range concurrent {
			concurrent[i] = newStressTensors(uint64(i), size(i))
			wg.Add(1)
			go func() {
				defer wg.Done()
				errs[i] = concurrent[i].run(uint64(i), calls, ops)
			}()
		}
		wg.Wait()
		for i, c := range concurrent {
			if errs[i] != nil {
				t.Fatalf("goroutine %d: %v", i, errs[i])
			}
			seq := newStressTensors(uint64(i), size(i))
			if err := seq.run(uint64(i), calls, ops); err != nil {
				t.Fatal(err)
			}
			what := fmt.Sprintf("goroutine %d (n=%d)", i, len(c.x))
			if !checkSame(t, what+" x", c.x, seq.x) || !checkSame(t, what+" s", c.s, seq.s) ||
				!checkSame(t, what+" x64", c.x64, seq.x64) || !checkSame(t, what+" s64", c.s64, seq.s64) {
				t.FailNow()
			}
		}
	})
}
