package ref_test

import (
	"fmt"

	"github.com/adagrad-go/adagrad/ref"
)

// The reference is slow but plain: use it to check a result, or as the meaning of
// every kernel.
func ExampleUpdate() {
	x, s, g := []float32{2}, []float32{0}, []float32{4}
	ref.Update(x, s, g, 0.5, 0)
	fmt.Println(x[0], s[0]) // s = 16, d = 4, x = 2 - (0.5/4)*4
	// Output: 1.5 16
}
