//go:build !gc || purego || !(amd64 || arm64)

package kernel

import "github.com/adagrad-go/adagrad/ref"

// archImpls is empty: this build has no assembly, so only the generic path exists.
var archImpls []*impl

// The dense kernels: every implementation here is generic, package ref.

func update32(_ *impl, x, s, g []float32, lr, eps float32) { ref.Update(x, s, g, lr, eps) }

func update64(_ *impl, x, s, g []float64, lr, eps float64) { ref.Update(x, s, g, lr, eps) }

func apply32(_ *impl, id int, x, s, g []float32, lr, eps, wd, decay, gain float32) {
	genericApply32(id, x, s, g, lr, eps, wd, decay, gain)
}

func apply64(_ *impl, id int, x, s, g []float64, lr, eps, wd, decay, gain float64) {
	genericApply64(id, x, s, g, lr, eps, wd, decay, gain)
}

func fast32(_ *impl, x, s, g []float32, lr, eps float32) { ref.Update(x, s, g, lr, eps) }

// prefetch does nothing: this build has no prefetch instruction to call.
func prefetch(p, n uintptr) {}
