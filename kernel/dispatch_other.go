//go:build !gc || purego || !(amd64 || arm64)

package kernel

// archImpls is empty: this build has no assembly, so only the generic path exists.
var archImpls []*impl

// The dispatch never reaches these: every implementation here is generic.
func archApply32(isaCode, int, []float32, []float32, []float32, float32, float32, float32, float32, float32) {
}

func archApply64(isaCode, int, []float64, []float64, []float64, float64, float64, float64, float64, float64) {
}

func archFast32(isaCode, []float32, []float32, []float32, float32, float32) {}

// prefetch does nothing: this build has no prefetch instruction to call.
func prefetch(p, n uintptr) {}
