package kernel_test

import (
	"fmt"
	"slices"

	"github.com/adagrad-go/adagrad/kernel"
)

// One step on three parameters. On the first step from s = 0 each moves by
// lr·g/√(g²+eps): about lr against the sign of its gradient, whatever the gradient's
// size, until g² comes near eps.
func ExampleUpdate() {
	x := []float32{1, 1, 1}
	s := make([]float32, 3)
	g := []float32{0.5, -2, 1e-3}
	kernel.Update(x, s, g, 0.1, 1e-8)
	fmt.Println(x)
	fmt.Println(s)
	// Output:
	// [0.9 1.1 0.9004963]
	// [0.25 4 1.0000001e-06]
}

// The same step in float64, repeated: the accumulated squares make later steps
// smaller.
func ExampleUpdate_float64() {
	x, s, g := []float64{0}, []float64{0}, []float64{1}
	for step := 1; step <= 4; step++ {
		kernel.Update(x, s, g, 0.1, 0)
		fmt.Printf("step %d: x = %.6f\n", step, x[0])
	}
	// Output:
	// step 1: x = -0.100000
	// step 2: x = -0.170711
	// step 3: x = -0.228446
	// step 4: x = -0.278446
}

// A path can be forced, for example to compare two of them; the results are the
// same bits either way.
func ExampleUse() {
	saved := kernel.Implementation()
	defer kernel.Use(saved)

	if err := kernel.Use("generic"); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(kernel.Implementation())
	fmt.Println(kernel.Use("no-such-path") != nil)
	// Output:
	// generic
	// true
}

// PyTorch's form: eps outside the root, (lr·g)/d, and the accumulator update fused
// into one multiply-add, as its AVX2 kernels compute it. On the first step from
// s = 0 the move is lr·g/(|g| + eps).
func ExampleApply() {
	pytorch := kernel.Form{EpsOutside: true, Order: kernel.MulDiv, FusedAccumulator: true}
	x, s, g := []float32{1, 1}, []float32{0, 0}, []float32{0.25, -4}
	kernel.Apply(pytorch, x, s, g, kernel.Params[float32]{LR: 0.01, Eps: 1e-10})
	fmt.Println(x, s)
	// Output: [0.99 1.01] [0.0625 16]
}

// A sparse step on a table of 4 rows of dim 2. Row 1 appears twice: DuplicatesSummed adds
// its two gradient rows first and steps once, as PyTorch does; DuplicatesInOrder would
// step it twice. A bad index is reported before anything is written.
func ExampleApplyRows() {
	x := []float32{1, 1, 2, 2, 3, 3, 4, 4}
	s := make([]float32, len(x))
	rows := []int32{1, 3, 1}
	g := []float32{0.5, 0.5, 1, -1, 0.5, 0.5}
	var scratch kernel.Scratch // reused by every step: warm steps allocate nothing
	p := kernel.Params[float32]{LR: 0.1, Eps: 1e-10}
	if err := kernel.ApplyRows(kernel.Form{}, kernel.DuplicatesSummed, x, s, 2, rows, g, p, &scratch); err != nil {
		panic(err)
	}
	fmt.Println(x)
	fmt.Println(s)
	err := kernel.ApplyRows(kernel.Form{}, kernel.DuplicatesSummed, x, s, 2, []int32{0, 4}, g[:4], p, &scratch)
	fmt.Println(err)
	// Output:
	// [1 1 1.9 1.9 3 3 3.9 4.1]
	// [0 0 1 1 0 0 1 1]
	// kernel.ApplyRows: index 4 at offset 1 out of range [0, 4)
}

// Row-wise Adagrad: one accumulator per row, which adds the mean of the row's
// squared gradient, so every element of a row takes the same step size.
func ExampleRowWise() {
	x := []float32{1, 1, 1, 1, 5, 5, 5, 5} // 2 rows of dim 4
	s := []float32{0, 0}
	g := []float32{1, 2, 2, 4}
	if err := kernel.RowWise(kernel.Form{}, x, s, 4, []int64{1}, g, kernel.Params[float32]{LR: 0.5}); err != nil {
		panic(err)
	}
	fmt.Println(s) // (1 + 4 + 4 + 16) / 4
	fmt.Println(x) // 5 − 0.5·g/√6.25
	// Output:
	// [0 6.25]
	// [1 1 1 1 4.8 4.6 4.6 4.2]
}

// The fast mode keeps the accumulator bit-identical and x within a few ulps of
// the step: printed to 5 places, it is the exact mode's result on every path.
func ExampleUpdateFast() {
	x, s, g := []float32{1, 1, 1}, make([]float32, 3), []float32{0.5, -2, 1e-3}
	ex, es := []float32{1, 1, 1}, make([]float32, 3)
	kernel.UpdateFast(x, s, g, 0.1, 1e-8)
	kernel.Update(ex, es, g, 0.1, 1e-8)
	fmt.Printf("fast  %.5f, s %v\n", x, s)
	fmt.Printf("exact %.5f, s %v\n", ex, es)
	// Output:
	// fast  [0.90000 1.10000 0.90050], s [0.25 4 1.0000001e-06]
	// exact [0.90000 1.10000 0.90050], s [0.25 4 1.0000001e-06]
}

// A large tensor split across the cores gives the single-goroutine result, bit
// for bit.
func ExampleUpdateParallel() {
	n := 4 << 20
	x, s, g := make([]float32, n), make([]float32, n), make([]float32, n)
	for i := range g {
		x[i], g[i] = 1, float32(i%7)-3
	}
	wx, ws := append([]float32(nil), x...), append([]float32(nil), s...)
	kernel.UpdateParallel(x, s, g, 0.01, 1e-8)
	kernel.Update(wx, ws, g, 0.01, 1e-8)
	same := true
	for i := range x {
		same = same && x[i] == wx[i] && s[i] == ws[i]
	}
	fmt.Println(x[:4], same)
	// Output:
	// [1.01 1.01 1.01 1] true
}

// A Pool of two goroutines that splits from 4096 elements: the call on 10000
// elements is shared, with the bits of Update.
func ExampleUpdateOn() {
	pool := kernel.NewPool(kernel.WithWorkers(2), kernel.WithMinSplit(4096))
	x, s, g := make([]float32, 10000), make([]float32, 10000), make([]float32, 10000)
	wx, ws := make([]float32, 10000), make([]float32, 10000)
	for i := range g {
		g[i] = float32(i%7) - 3
	}
	kernel.UpdateOn(pool, x, s, g, 0.1, 1e-8)
	kernel.Update(wx, ws, g, 0.1, 1e-8)
	fmt.Println(pool.Workers(), pool.MinSplit(), slices.Equal(x, wx), slices.Equal(s, ws))
	fmt.Println(x[:4])
	// Output:
	// 2 4096 true true
	// [0.10000001 0.1 0.1 0]
}
