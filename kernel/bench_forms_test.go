package kernel

import (
	"testing"
	"unsafe"

	"github.com/adagrad-go/adagrad/ref"
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

// BenchmarkGenericForms runs the generic path of every form directly, whichever
// implementation is in use, at 16K elements in both widths, as
// w=<bits>/form=<name>, and ref.Update as form=ref.Update, the d2l loop the
// forms are measured against (`benchstat -col /form`). Bytes are those moved:
// x, s and g read, x and s written.
func BenchmarkGenericForms(b *testing.B) {
	b.Run("w=32", benchGenericForms[float32])
	b.Run("w=64", benchGenericForms[float64])
}

func benchGenericForms[T float](b *testing.B) {
	const n = 16 << 10
	p := paramsIn[T](params{lr: 0.01, eps: 1e-7, wd: 1e-4, decay: 0.9, gain: 0.1})
	run := func(name string, step func(x, s, g []T)) {
		b.Run("form="+name, func(b *testing.B) {
			x, s, g := benchInputs[T](n)
			b.SetBytes(int64(5 * n * int(unsafe.Sizeof(x[0]))))
			for b.Loop() {
				step(x, s, g)
			}
			b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds()/1e9, "Gelem/s")
		})
	}
	run("ref.Update", func(x, s, g []T) { ref.Update(x, s, g, p.LR, p.Eps) })
	for _, f := range ref.Forms() {
		id := formID(f)
		run(f.String(), func(x, s, g []T) {
			if is32[T]() {
				apply32(generic, id, as32(x), as32(s), as32(g), float32(p.LR), float32(p.Eps), float32(p.WeightDecay), float32(p.Decay), float32(p.Gain))
				return
			}
			apply64(generic, id, as64(x), as64(s), as64(g), float64(p.LR), float64(p.Eps), float64(p.WeightDecay), float64(p.Decay), float64(p.Gain))
		})
	}
}
