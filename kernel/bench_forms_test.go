package kernel

import (
	"testing"
	"unsafe"
)

// presetForms are the forms the presets of package adagrad use, by preset name,
// plus weight decay on the base form; BenchmarkForms compares each with the base
// (d2l) form at the same size, in one run.
var presetForms = []struct {
	name string
	form Form
}{
	{"d2l", Form{}},
	{"pytorch", Form{EpsOutside: true, Order: MulDiv, FusedAccumulator: true}},
	{"pytorch-wd", Form{EpsOutside: true, Order: MulDiv, WeightDecay: WeightDecayFMA, FusedAccumulator: true}},
	{"keras", Form{Order: MulDiv}},
	{"tf", Form{EpsOutside: true, Order: MulDiv}},
	{"optax", Form{Order: Recip, Guard: true}},
	{"d2l-wd", Form{WeightDecay: WeightDecayAdd}},
	{"d2l-decay", Form{Decay: true}},
}

// BenchmarkForms runs Apply for each preset's form on the implementation in use, at
// N = 16K and 4M float32; `benchstat -col /form` shows each against d2l.
func BenchmarkForms(b *testing.B) {
	p := Params[float32]{LR: 0.01, Eps: 1e-7, WeightDecay: 1e-4, Decay: 0.9, Gain: 0.1}
	for _, n := range []int{16 << 10, 4 << 20} {
		x, s, g := benchInputs[float32](n)
		for _, pf := range presetForms {
			b.Run("N="+sizeName(n)+"/form="+pf.name, func(b *testing.B) {
				b.SetBytes(int64(5 * n * int(unsafe.Sizeof(x[0]))))
				for b.Loop() {
					Apply(pf.form, x, s, g, p)
				}
				b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds()/1e9, "Gelem/s")
			})
		}
	}
}
