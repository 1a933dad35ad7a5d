package kernel

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/adagrad-go/adagrad/internal/fbits"
	"github.com/adagrad-go/adagrad/ref"
)

// float is the element type of the kernels; the test helpers are written once for
// both widths.
type float = Float

// update calls the public kernel for T.
func update[T float](x, s, g []T, lr, eps T) {
	Update(x, s, g, lr, eps)
}

// implUpdate calls implementation m's Update directly, whichever is in use.
func implUpdate[T float](m *impl, x, s, g []T, lr, eps T) {
	if is32[T]() {
		apply32(m, 0, as32(x), as32(s), as32(g), float32(lr), float32(eps), 0, 1, 1)
		return
	}
	apply64(m, 0, as64(x), as64(s), as64(g), float64(lr), float64(eps), 0, 1, 1)
}

// params are the scalars of a step of either width.
type params struct{ lr, eps, wd, decay, gain float64 }

// paramsIn is p in T.
func paramsIn[T float](p params) Params[T] {
	return Params[T]{LR: T(p.lr), Eps: T(p.eps), WeightDecay: T(p.wd), Decay: T(p.decay), Gain: T(p.gain)}
}

// implApply calls implementation m directly with form f.
func implApply[T float](m *impl, f Form, x, s, g []T, p params) {
	q := paramsIn[T](p)
	if is32[T]() {
		apply32(m, formID(f), as32(x), as32(s), as32(g), float32(q.LR), float32(q.Eps), float32(q.WeightDecay), float32(q.Decay), float32(q.Gain))
		return
	}
	apply64(m, formID(f), as64(x), as64(s), as64(g), float64(q.LR), float64(q.Eps), float64(q.WeightDecay), float64(q.Decay), float64(q.Gain))
}

// refApply calls the specification of form f.
func refApply[T float](f Form, x, s, g []T, p params) {
	ref.Apply(f, x, s, g, paramsIn[T](p))
}

// refUpdate calls the specification for T.
func refUpdate[T float](x, s, g []T, lr, eps T) {
	ref.Update(x, s, g, lr, eps)
}

// limits returns the largest finite value and the smallest normal value of T.
func limits[T float]() (maxFinite, minNormal float64) {
	var zero T
	if _, ok := any(zero).(float32); ok {
		return math.MaxFloat32, 0x1p-126
	}
	return math.MaxFloat64, 0x1p-1022
}

// classes names the kinds of input every implementation is tested on.
var classes = []string{"ordinary", "tiny", "denormal", "negzero", "huge", "inf", "nan", "anybits"}

// fill writes inputs of one class into x, s and g. Accumulators are kept
// non-negative where the class allows, as in real use, but every class also
// exercises what the formula does with the odd value.
func fill[T float](rng *rand.Rand, class string, x, s, g []T) {
	maxF, minN := limits[T]()
	sign := func() float64 {
		if rng.IntN(2) == 0 {
			return -1
		}
		return 1
	}
	for i := range x {
		xv, sv, gv := sign()*rng.Float64()*10, rng.Float64()*100, sign()*rng.Float64()*5
		switch class {
		case "tiny":
			xv, sv, gv = xv*minN*1e3, sv*minN*1e6, gv*math.Sqrt(minN)
		case "denormal":
			xv, sv, gv = xv*minN/10, sv*minN/100, gv*minN/5
		case "negzero":
			switch rng.IntN(4) {
			case 0:
				xv = math.Copysign(0, -1)
			case 1:
				sv = math.Copysign(0, -1)
			case 2:
				gv = math.Copysign(0, -1)
			}
		case "huge":
			gv = sign() * math.Sqrt(maxF) * (1 + rng.Float64()) // g*g overflows to +Inf
			if rng.IntN(3) == 0 {
				sv = maxF * rng.Float64()
			}
		case "inf", "nan":
			special := math.Inf(int(sign()))
			if class == "nan" {
				special = math.NaN()
			}
			switch rng.IntN(4) {
			case 0:
				xv = special
			case 1:
				sv = special
			case 2:
				gv = special
			}
		}
		x[i], s[i], g[i] = T(xv), T(sv), T(gv)
		if class == "anybits" {
			x[i], s[i], g[i] = fbits.FromBits[T](rng.Uint64()), fbits.FromBits[T](rng.Uint64()), fbits.FromBits[T](rng.Uint64())
		}
	}
}

// hyper lists the learning rates and epsilons every class is run with: the usual
// ones, zero, a negative rate, and an eps small enough that s+eps rounds to s.
func hyper[T float]() [][2]T {
	_, minN := limits[T]()
	return [][2]T{{0.1, 1e-6}, {0.01, 0}, {0, 1e-8}, {-0.5, 1e-6}, {1, T(minN)}, {3e-3, 1e-10}}
}

// checkSame fails the test at the first element where got differs from want.
func checkSame[T float](t *testing.T, what string, got, want []T) bool {
	t.Helper()
	for i := range want {
		if !fbits.Same(got[i], want[i]) {
			t.Errorf("%s[%d] = %v (%#x), ref has %v (%#x)", what, i, got[i], fbits.Bits(got[i]), want[i], fbits.Bits(want[i]))
			return false
		}
	}
	return true
}
