package main

import (
	"fmt"
	stdcolor "image/color"
	"math"
	"math/rand/v2"
	"time"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"

	"github.com/adagrad-go/adagrad"
	"github.com/adagrad-go/adagrad/kernel"
)

// The d2l chapter's procedure: 1500 examples, minibatches of 10, and the loss on the
// whole set every 200 examples.
const (
	regressionRows  = 1500
	regressionBatch = 10
	evalEvery       = 200
)

// curve is a loss curve: the loss on the whole set after each 200 examples, at
// epoch fractions.
type curve struct {
	epochs, losses []float64
	secPerEpoch    float64
}

func (c curve) final() float64 { return c.losses[len(c.losses)-1] }

// linear is the model ŷ = X·w + b.
type linear struct {
	w, b []float32 // b has one element, so that it is a tensor for the kernel
}

func (m linear) predict(x []float32) float32 {
	y := m.b[0]
	for j, v := range x {
		y += v * m.w[j]
	}
	return y
}

// loss is the mean over the set of (ŷ − y)²/2, d2l's squared_loss.
func (m linear) loss(d *dataset) float64 {
	var sum float64
	for i, x := range d.features {
		r := float64(m.predict(x) - d.labels[i])
		sum += r * r / 2
	}
	return sum / float64(len(d.features))
}

// newLinear is d2l's init: w ~ N(0, 0.01²), b = 0.
func newLinear(rng *rand.Rand, features int) linear {
	m := linear{w: make([]float32, features), b: make([]float32, 1)}
	for j := range m.w {
		m.w[j] = float32(0.01 * rng.NormFloat64())
	}
	return m
}

// trainLinear runs epochs over d in shuffled minibatches (reshuffled each epoch by
// rng), calling step with the gradient of the batch's mean loss times scale (1 for
// (ŷ−y)²/2, 2 for (ŷ−y)²), and records the loss every 200 examples (halved by
// report). tick, when not nil, is called after each batch.
func trainLinear(d *dataset, m linear, rng *rand.Rand, epochs int, scale float32, step func(gw, gb []float32), tick func()) curve {
	n := len(d.features)
	gw, gb := make([]float32, len(m.w)), make([]float32, 1)
	var c curve
	var trained time.Duration
	seen := 0
	for range epochs {
		order := rng.Perm(n)
		for lo := 0; lo < n; lo += regressionBatch {
			start := time.Now()
			batch := order[lo:min(lo+regressionBatch, n)]
			clear(gw)
			gb[0] = 0
			for _, i := range batch {
				r := m.predict(d.features[i]) - d.labels[i]
				for j, v := range d.features[i] {
					gw[j] += r * v
				}
				gb[0] += r
			}
			k := scale / float32(len(batch))
			for j := range gw {
				gw[j] *= k
			}
			gb[0] *= k
			step(gw, gb)
			trained += time.Since(start)
			seen += len(batch)
			if seen%evalEvery == 0 {
				c.epochs = append(c.epochs, float64(seen)/float64(n))
				c.losses = append(c.losses, m.loss(d))
			}
			if tick != nil {
				tick()
			}
		}
	}
	c.secPerEpoch = trained.Seconds() / float64(epochs)
	return c
}

// scratchRun is d2l's train_ch11 with its from-scratch Adagrad: 2 epochs, lr 0.1,
// eps 1e-6, w and b updated through kernel.Update.
func scratchRun(d *dataset, seed uint64, tick func()) curve {
	rng := rand.New(rand.NewPCG(seed, 1))
	m := newLinear(rng, len(d.features[0]))
	sw, sb := make([]float32, len(m.w)), make([]float32, 1)
	return trainLinear(d, m, rng, 2, 1, func(gw, gb []float32) {
		kernel.Update(m.w, sw, gw, 0.1, 1e-6)
		kernel.Update(m.b, sb, gb, 0.1, 1e-6)
	}, tick)
}

// presets are the Optimizer presets the concise run takes, by -preset name.
var presets = map[string]func() adagrad.Config{
	"d2l":      adagrad.D2L,
	"pytorch":  adagrad.PyTorch,
	"keras":    adagrad.Keras,
	"optax":    adagrad.Optax,
	"tf":       adagrad.TF,
	"gorgonia": adagrad.Gorgonia,
	"spago":    adagrad.Spago,
}

// conciseRun is d2l's train_concise_ch11 with the framework's Adagrad at lr 0.1:
// a linear layer initialised as above, the gradient of the mean of (ŷ−y)², 4 epochs
// through the Optimizer with the preset's arithmetic, and the loss reported halved.
func conciseRun(d *dataset, preset string, seed uint64, tick func()) (curve, error) {
	mk, ok := presets[preset]
	if !ok {
		return curve{}, fmt.Errorf("unknown preset %q (d2l, pytorch, keras, optax, tf, gorgonia, spago)", preset)
	}
	cfg := mk()
	cfg.LR = 0.1
	if math.IsNaN(cfg.Eps) {
		cfg.Eps = 1e-7 // TF's raw op has no default; Keras's
	}
	rng := rand.New(rand.NewPCG(seed, 2))
	m := newLinear(rng, len(d.features[0]))
	opt := adagrad.New(cfg, m.w, m.b)
	return trainLinear(d, m, rng, 4, 2, func(gw, gb []float32) { opt.Step(gw, gb) }, tick), nil
}

// plotCurves draws loss curves against epochs, d2l's animator figure.
func plotCurves(title string, names []string, curves []curve) (*plot.Plot, error) {
	p := plot.New()
	p.Title.Text = title
	p.X.Label.Text = "epoch"
	p.Y.Label.Text = "loss"
	for i, c := range curves {
		pts := make(plotter.XYs, len(c.losses))
		for j := range c.losses {
			pts[j].X, pts[j].Y = c.epochs[j], c.losses[j]
		}
		l, err := plotter.NewLine(pts)
		if err != nil {
			return nil, err
		}
		l.Color = []stdcolor.Color{blue, orange, green, red}[i%4]
		l.Width = 2
		p.Add(l)
		p.Legend.Add(names[i], l)
	}
	p.Legend.Top = true
	return p, nil
}
