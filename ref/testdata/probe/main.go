// Command probe instantiates the reference in another package, as every user of
// it does, for TestCodegen to disassemble. It is never run.
package main

import "github.com/adagrad-go/adagrad/ref"

//go:noinline
func update32(x, s, g []float32, lr, eps float32) { ref.Update(x, s, g, lr, eps) }

//go:noinline
func update64(x, s, g []float64, lr, eps float64) { ref.Update(x, s, g, lr, eps) }

//go:noinline
func apply32(f ref.Form, x, s, g []float32, p ref.Params[float32]) { ref.Apply(f, x, s, g, p) }

//go:noinline
func apply64(f ref.Form, x, s, g []float64, p ref.Params[float64]) { ref.Apply(f, x, s, g, p) }

//go:noinline
func rowWise32(f ref.Form, x, s []float32, rows []int32, g []float32, p ref.Params[float32]) {
	_ = ref.RowWise(f, x, s, 4, rows, g, p)
}

//go:noinline
func rowWise64(f ref.Form, x, s []float64, rows []int64, g []float64, p ref.Params[float64]) {
	_ = ref.RowWise(f, x, s, 4, rows, g, p)
}

func main() {
	update32(nil, nil, nil, 0, 0)
	update64(nil, nil, nil, 0, 0)
	apply32(ref.Form{}, nil, nil, nil, ref.Params[float32]{})
	apply64(ref.Form{}, nil, nil, nil, ref.Params[float64]{})
	rowWise32(ref.Form{}, nil, nil, nil, nil, ref.Params[float32]{})
	rowWise64(ref.Form{}, nil, nil, nil, nil, ref.Params[float64]{})
}
