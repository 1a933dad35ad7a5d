package kernel

import "math"

// The generic path is the reference loop of package ref without its argument
// checks (Update has made them) and with its bounds checks hoisted, so that scalar
// Go pays for the square root and the division and little else. Each operation is
// rounded exactly where ref rounds it; the explicit conversions keep the compiler
// from fusing a product into an FMA on the architectures where it would.

func generic32(x, s, g []float32, lr, eps float32) {
	s, g = s[:len(x)], g[:len(x)]
	for i := range x {
		gi := g[i]
		si := s[i] + float32(gi*gi)
		s[i] = si
		d := float32(math.Sqrt(float64(si + eps)))
		x[i] = x[i] - float32(float32(lr/d)*gi)
	}
}

func generic64(x, s, g []float64, lr, eps float64) {
	s, g = s[:len(x)], g[:len(x)]
	for i := range x {
		gi := g[i]
		si := s[i] + float64(gi*gi)
		s[i] = si
		d := math.Sqrt(si + eps)
		x[i] = x[i] - float64(float64(lr/d)*gi)
	}
}
