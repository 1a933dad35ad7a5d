package outcome

import (
	"math"

	"github.com/adagrad-go/adagrad/ref"
)

// seed is the one seed of every case's memory: a call and its reference start
// from the same bits.
const seed = 11

// scalars are a case's lr, eps, weight decay, Decay and Gain, written once in
// float64 and rounded to the width under test when the case is built, so that a
// float64 extreme becomes float32's ±Inf as it would in a caller's conversion.
type scalars struct{ lr, eps, wd, decay, gain float64 }

func paramsOf[T ref.Float](s scalars) ref.Params[T] {
	return ref.Params[T]{LR: T(s.lr), Eps: T(s.eps), WeightDecay: T(s.wd), Decay: T(s.decay), Gain: T(s.gain)}
}

var (
	nan = math.NaN()
	inf = math.Inf(1)
	// std are ordinary scalars, for the cases about something else.
	std = scalars{lr: 0.1, eps: 1e-6, wd: 0.01, decay: 0.9, gain: 0.1}
	// oddRows are the odd scalars of every form; wdRows mean something only to a
	// form with weight decay, decayRows to one with Decay. None is checked: each
	// goes through the formula. No row with a negative lr has a negative weight
	// decay, so that a negative lr must ascend (see DenseOp.Test).
	oddRows = []struct {
		name string
		p    scalars
	}{
		{"lr=NaN", scalars{lr: nan, eps: 1e-6, wd: 0.01, decay: 0.9, gain: 0.1}},
		{"lr=+Inf", scalars{lr: inf, eps: 1e-6, wd: 0.01, decay: 0.9, gain: 0.1}},
		{"lr=-Inf", scalars{lr: -inf, eps: 1e-6, wd: 0.01, decay: 0.9, gain: 0.1}},
		{"lr<0", scalars{lr: -0.5, eps: 1e-6, wd: 0.01, decay: 0.9, gain: 0.1}},
		{"lr=-0", scalars{lr: math.Copysign(0, -1), eps: 1e-6, wd: 0.01, decay: 0.9, gain: 0.1}},
		{"lr=MaxFloat64", scalars{lr: math.MaxFloat64, eps: 1e-6, wd: 0.01, decay: 0.9, gain: 0.1}},
		{"eps=NaN", scalars{lr: 0.1, eps: nan, wd: 0.01, decay: 0.9, gain: 0.1}},
		{"eps=+Inf", scalars{lr: 0.1, eps: inf, wd: 0.01, decay: 0.9, gain: 0.1}},
		{"eps<0", scalars{lr: 0.1, eps: -100, wd: 0.01, decay: 0.9, gain: 0.1}},
		{"eps=-Inf", scalars{lr: 0.1, eps: -inf, wd: 0.01, decay: 0.9, gain: 0.1}},
	}
	wdRows = []struct {
		name string
		p    scalars
	}{
		{"wd=NaN", scalars{lr: 0.1, eps: 1e-6, wd: nan, decay: 0.9, gain: 0.1}},
		{"wd=-Inf", scalars{lr: 0.1, eps: 1e-6, wd: -inf, decay: 0.9, gain: 0.1}},
		{"wd<0", scalars{lr: 0.1, eps: 1e-6, wd: -0.3, decay: 0.9, gain: 0.1}},
	}
	decayRows = []struct {
		name string
		p    scalars
	}{
		{"decay=NaN", scalars{lr: 0.1, eps: 1e-6, wd: 0.01, decay: nan, gain: 0.1}},
		{"gain=+Inf", scalars{lr: 0.1, eps: 1e-6, wd: 0.01, decay: 0.9, gain: inf}},
		{"decay<0", scalars{lr: 0.1, eps: 1e-6, wd: 0.01, decay: -1, gain: 2}},
		{"decay=gain=0", scalars{lr: 0.1, eps: 1e-6, wd: 0.01, decay: 0, gain: 0}},
	}
	// mathForms are the valid forms the scalar rows run: d2l, PyTorch's vector
	// kernels, optax (the guard), and the Decay form with weight decay.
	mathForms = []ref.Form{
		{},
		{EpsOutside: true, Order: ref.MulDiv, WeightDecay: ref.WeightDecayFMA, FusedAccumulator: true},
		{Order: ref.Recip, Guard: true},
		{WeightDecay: ref.WeightDecayAdd, Decay: true},
	}
)

// BadForm is a form that is not valid and the reason Validate gives.
type BadForm struct {
	Form ref.Form
	Why  string
}

// BadForms are forms that Validate rejects, each with its reason.
var BadForms = []BadForm{
	{ref.Form{Order: 5}, "invalid form: unknown step order 5"},
	{ref.Form{Order: 255, EpsOutside: true}, "invalid form: unknown step order 255"},
	{ref.Form{WeightDecay: 3}, "invalid form: unknown weight decay kind 3"},
	{ref.Form{WeightDecay: 200, Order: 7}, "invalid form: unknown step order 7"},
	{ref.Form{Guard: true}, "invalid form: the s > 0 guard needs the Recip order, not DivMul"},
	{ref.Form{Order: ref.MulDiv, Guard: true, Decay: true}, "invalid form: the s > 0 guard needs the Recip order, not MulDiv"},
}

// eachMathRow calls add with the ordinary scalars and every row of odd ones that
// means something to form f.
func eachMathRow(f ref.Form, add func(name string, p scalars)) {
	add("ordinary", std)
	for _, r := range oddRows {
		add(r.name, r.p)
	}
	if f.WeightDecay != ref.NoWeightDecay {
		for _, r := range wdRows {
			add(r.name, r.p)
		}
	}
	if f.Decay {
		for _, r := range decayRows {
			add(r.name, r.p)
		}
	}
}

// formsOf is the forms a function runs: all of them when it takes a Form, else
// the zero Form alone, the one it computes.
func formsOf(takesForm bool) []ref.Form {
	if takesForm {
		return mathForms
	}
	return mathForms[:1]
}
