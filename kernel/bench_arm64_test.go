//go:build gc && !purego

package kernel

import (
	"testing"

	"github.com/adagrad-go/adagrad/kernel/asm"
)

// BenchmarkTraffic32 measures the memory-traffic ceiling with the NEON traffic
// kernel: the same three reads and two writes per element as Update, trivial math.
func BenchmarkTraffic32(b *testing.B) {
	benchSized(b, "traffic-neon", func(x, s, g []float32) { asm.Traffic32NEON(x, s, g) })
}

// The traffic kernel of BenchmarkRows on arm64.
func init() {
	traffic32 = asm.Traffic32NEON
	rowsTraffic = func(workers int, x, s []float32, dim int, rows []int32, g []float32, dup Duplicates, sc *Scratch) {
		parallel(workers, dup, x, s, dim, rows, g, neonTrafficStep{}, sc)
	}
}

// neonTrafficStep is the stepper of the traffic kernel.
type neonTrafficStep struct{}

func (neonTrafficStep) step(x, s, g []float32)  { asm.Traffic32NEON(x, s, g) }
func (neonTrafficStep) add(dst, a, b []float32) { asm.Add32NEON(dst, a, b) }
