package main

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"time"

	"image/color"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"

	"github.com/adagrad-go/adagrad/kernel"
)

// sparseConfig is the sparse-feature experiment: a linear model over numFeatures
// binary features, active examples of which follow a Zipf law, so that a few
// features are in nearly every example and most in a handful.
type sparseConfig struct {
	numFeatures, active int     // features, and distinct active ones per example
	zipf                float64 // exponent of the frequency law over feature ranks
	train, test         int     // examples
	noise               float64 // standard deviation of the target's noise
	seed                uint64
	grid                []float64 // learning rates every trainer is tuned over
	rho                 float64   // RMSProp's decay, for the variant
}

func defaultSparse(seed uint64) sparseConfig {
	return sparseConfig{
		numFeatures: 10000, active: 10, zipf: 1.1, train: 100000, test: 5000, noise: 0.1, seed: seed,
		grid: []float64{0.01, 0.03, 0.1, 0.3, 1, 3}, rho: 0.9,
	}
}

// sparseData is one draw of the experiment: the true weights and the examples,
// each a list of active features (x = 1 there, 0 elsewhere) and a target.
type sparseData struct {
	cfg         sparseConfig
	truth       []float32
	train, test [][]int32
	yTrain      []float32
	yTest       []float32
	counts      []int // occurrences of each feature in the training set
}

func newSparseData(cfg sparseConfig) *sparseData {
	rng := rand.New(rand.NewPCG(cfg.seed, 3))
	d := &sparseData{cfg: cfg, truth: make([]float32, cfg.numFeatures), counts: make([]int, cfg.numFeatures)}
	for j := range d.truth {
		d.truth[j] = float32(rng.NormFloat64())
	}
	z := rand.NewZipf(rng, cfg.zipf, 1, uint64(cfg.numFeatures-1))
	example := func() ([]int32, float32) {
		ids := make([]int32, 0, cfg.active)
		for len(ids) < cfg.active {
			if id := int32(z.Uint64()); !slices.Contains(ids, id) {
				ids = append(ids, id)
			}
		}
		y := float32(cfg.noise * rng.NormFloat64())
		for _, id := range ids {
			y += d.truth[id]
		}
		return ids, y
	}
	for range cfg.train {
		ids, y := example()
		d.train, d.yTrain = append(d.train, ids), append(d.yTrain, y)
		for _, id := range ids {
			d.counts[id]++
		}
	}
	for range cfg.test {
		ids, y := example()
		d.test, d.yTest = append(d.test, ids), append(d.yTest, y)
	}
	return d
}

// buckets splits the features seen in training by how often: common (≥ 1000
// occurrences), mid (20–999) and rare (1–19). Unseen features are in none: no
// trainer can learn them.
var bucketNames = []string{"common", "mid", "rare"}

func (d *sparseData) bucket(j int) int {
	switch c := d.counts[j]; {
	case c >= 1000:
		return 0
	case c >= 20:
		return 1
	case c >= 1:
		return 2
	}
	return -1
}

// sparseResult is one trainer's outcome at its best learning rate.
type sparseResult struct {
	name     string
	lr       float64
	testLoss float64
	errs     [3]float64 // RMS of w − truth per bucket
	w        []float32
	elapsed  time.Duration
	lrTrace  [2][]float64 // η/√(s+eps) after each step, for the traced features
}

// trainer applies one example's gradient: the residual r on each active feature.
type trainer func(w, s []float32, ids []int32, r float32, lr float32)

const sparseEps = 1e-6

var (
	sgdStep trainer = func(w, _ []float32, ids []int32, r, lr float32) {
		for _, id := range ids {
			w[id] -= lr * r
		}
	}
	// rowsStep is sparse row Adagrad: kernel.UpdateRows on the active rows (dim 1).
	rowsStep trainer = func(w, s []float32, ids []int32, r, lr float32) {
		var g [64]float32
		for k := range ids {
			g[k] = r
		}
		if err := kernel.UpdateRows(w, s, 1, ids, g[:len(ids)], lr, sparseEps); err != nil {
			panic(err)
		}
	}
)

// denseStep is dense Adagrad: kernel.Update on the whole weight vector, with a
// gradient that is zero off the active features, as a dense framework computes it.
func denseStep(g []float32) trainer {
	return func(w, s []float32, ids []int32, r, lr float32) {
		for _, id := range ids {
			g[id] = r
		}
		kernel.Update(w, s, g, lr, sparseEps)
		for _, id := range ids {
			g[id] = 0
		}
	}
}

// rmspropStep is the ρ < 1 variant, s = ρ·s + (1−ρ)·g², through kernel.ApplyRows.
func rmspropStep(rho float32) trainer {
	f := kernel.Form{Decay: true}
	return func(w, s []float32, ids []int32, r, lr float32) {
		var g [64]float32
		for k := range ids {
			g[k] = r
		}
		p := kernel.Params[float32]{LR: lr, Eps: sparseEps, Decay: rho, Gain: 1 - rho}
		if err := kernel.ApplyRows(f, kernel.DuplicatesInOrder, w, s, 1, ids, g[:len(ids)], p, nil); err != nil {
			panic(err)
		}
	}
}

// run trains one pass over the training set at rate lr and scores the result.
// traced features get their effective rate η/√(s+eps) recorded after every step.
func (d *sparseData) run(name string, step trainer, lr float64, traced [2]int) sparseResult {
	w, s := make([]float32, d.cfg.numFeatures), make([]float32, d.cfg.numFeatures)
	res := sparseResult{name: name, lr: lr}
	start := time.Now()
	for i, ids := range d.train {
		var yhat float32
		for _, id := range ids {
			yhat += w[id]
		}
		step(w, s, ids, yhat-d.yTrain[i], float32(lr))
		for t, j := range traced {
			if j >= 0 {
				res.lrTrace[t] = append(res.lrTrace[t], lr/math.Sqrt(float64(s[j])+sparseEps))
			}
		}
	}
	res.elapsed = time.Since(start)
	res.w = w
	var sum float64
	for i, ids := range d.test {
		var yhat float64
		for _, id := range ids {
			yhat += float64(w[id])
		}
		r := yhat - float64(d.yTest[i])
		sum += r * r / 2
	}
	res.testLoss = sum / float64(len(d.test))
	if math.IsNaN(res.testLoss) {
		res.testLoss = math.Inf(1) // a diverged run loses every comparison
	}
	var sq [3]float64
	var n [3]int
	for j := range w {
		if b := d.bucket(j); b >= 0 {
			e := float64(w[j] - d.truth[j])
			sq[b] += e * e
			n[b]++
		}
	}
	for b := range sq {
		res.errs[b] = math.Sqrt(sq[b] / float64(max(n[b], 1)))
		if math.IsNaN(res.errs[b]) {
			res.errs[b] = math.Inf(1)
		}
	}
	return res
}

// tune runs step at every rate of the grid and keeps the lowest test loss.
func (d *sparseData) tune(name string, step trainer, tick func()) sparseResult {
	var best sparseResult
	for i, lr := range d.cfg.grid {
		r := d.run(name, step, lr, [2]int{-1, -1})
		if i == 0 || r.testLoss < best.testLoss {
			best = r
		}
		if tick != nil {
			tick()
		}
	}
	return best
}

// sparseReport is the whole experiment.
type sparseReport struct {
	data      *sparseData
	results   []sparseResult // SGD, dense Adagrad, row Adagrad, RMSProp rows
	identical bool           // dense and row Adagrad ended with the same bits
	traced    [2]int         // the common and the rare feature of the rate plot
	adagrad   sparseResult   // row Adagrad at its rate, with the traces
	rmsprop   sparseResult   // RMSProp at the same rate, with the traces
}

func sparseExperiment(cfg sparseConfig, tick func()) *sparseReport {
	d := newSparseData(cfg)
	rep := &sparseReport{data: d}
	dense := make([]float32, cfg.numFeatures)
	sgd := d.tune("SGD", sgdStep, tick)
	rows := d.tune("Adagrad, rows (UpdateRows)", rowsStep, tick)
	denseRes := d.run("Adagrad, dense (Update)", denseStep(dense), rows.lr, [2]int{-1, -1})
	rms := d.tune(fmt.Sprintf("RMSProp ρ=%g, rows", cfg.rho), rmspropStep(float32(cfg.rho)), tick)
	rep.results = []sparseResult{sgd, denseRes, rows, rms}
	rep.identical = slices.Equal(denseRes.w, rows.w)
	// The most frequent feature, and the rarest one seen at least 5 times.
	rep.traced = [2]int{0, 0}
	for j, c := range d.counts {
		if c > d.counts[rep.traced[0]] {
			rep.traced[0] = j
		}
		if c >= 5 && (d.counts[rep.traced[1]] < 5 || c < d.counts[rep.traced[1]]) {
			rep.traced[1] = j
		}
	}
	rep.adagrad = d.run(rows.name, rowsStep, rows.lr, rep.traced)
	rep.rmsprop = d.run(rms.name, rmspropStep(float32(cfg.rho)), rows.lr, rep.traced)
	return rep
}

// table is the report as text.
func (r *sparseReport) table() string {
	c := r.data.cfg
	var n [3]int
	for j := range r.data.counts {
		if b := r.data.bucket(j); b >= 0 {
			n[b]++
		}
	}
	s := fmt.Sprintf("sparse: %d features (Zipf %g), %d training examples of %d active features, %d test examples\n",
		c.numFeatures, c.zipf, c.train, c.active, c.test)
	s += fmt.Sprintf("buckets: common ≥ 1000 occurrences (%d features), mid 20–999 (%d), rare 1–19 (%d)\n", n[0], n[1], n[2])
	s += fmt.Sprintf("%-28s %6s %10s %9s %9s %9s %9s\n", "trainer", "lr", "test loss", "common", "mid", "rare", "time")
	for _, res := range r.results {
		s += fmt.Sprintf("%-28s %6g %10.4f %9.4f %9.4f %9.4f %9s\n", res.name, res.lr, res.testLoss,
			res.errs[0], res.errs[1], res.errs[2], res.elapsed.Round(100*time.Microsecond))
	}
	s += fmt.Sprintf("(error columns: RMS of w − w* per bucket; lr tuned over %v by test loss; dense and row Adagrad identical: %v)\n",
		c.grid, r.identical)
	return s
}

// plotErrors draws the parameter error per bucket for each trainer.
func (r *sparseReport) plotErrors() (*plot.Plot, error) {
	p := plot.New()
	p.Title.Text = "Parameter error by feature frequency"
	p.Y.Label.Text = "RMS of w − w*"
	width := vg.Points(18)
	colors := []color.Color{blue, green, orange, red}
	for i, res := range r.results {
		bars, err := plotter.NewBarChart(plotter.Values(res.errs[:]), width)
		if err != nil {
			return nil, err
		}
		bars.Color = colors[i%len(colors)]
		bars.LineStyle.Width = 0
		bars.Offset = vg.Length(i-len(r.results)/2)*width + width/2
		p.Add(bars)
		p.Legend.Add(fmt.Sprintf("%s (lr %g)", res.name, res.lr), bars)
	}
	p.Legend.Top, p.Legend.Left = true, true
	p.NominalX(bucketNames...)
	return p, nil
}

// plotRates draws η/√(s+eps) over the steps for the common and the rare feature,
// Adagrad beside RMSProp: Adagrad's rate only falls, fastest where the feature is
// frequent; RMSProp's forgets and stays up.
func (r *sparseReport) plotRates() (*plot.Plot, error) {
	p := plot.New()
	p.Title.Text = "Effective learning rate η/√(s+ε)"
	p.X.Label.Text = "step"
	p.Y.Scale = plot.LogScale{}
	p.Y.Tick.Marker = plot.LogTicks{Prec: -1}
	cnt := r.data.counts
	lines := []struct {
		res   sparseResult
		t     int
		label string
		color color.Color
		dash  bool
	}{
		{r.adagrad, 0, fmt.Sprintf("Adagrad, common feature (%d occurrences)", cnt[r.traced[0]]), blue, false},
		{r.adagrad, 1, fmt.Sprintf("Adagrad, rare feature (%d occurrences)", cnt[r.traced[1]]), orange, false},
		{r.rmsprop, 0, "RMSProp ρ=0.9, common feature", blue, true},
		{r.rmsprop, 1, "RMSProp ρ=0.9, rare feature", orange, true},
	}
	for _, l := range lines {
		tr := l.res.lrTrace[l.t]
		pts := make(plotter.XYs, 0, len(tr))
		for i, v := range tr {
			if v > 0 && !math.IsInf(v, 0) && (i%50 == 0 || i == len(tr)-1) {
				pts = append(pts, plotter.XY{X: float64(i + 1), Y: math.Min(v, 1e3)})
			}
		}
		line, err := plotter.NewLine(pts)
		if err != nil {
			return nil, err
		}
		line.Color = l.color
		line.Width = 1.5
		if l.dash {
			line.Dashes = []vg.Length{vg.Points(4), vg.Points(3)}
		}
		p.Add(line)
		p.Legend.Add(l.label, line)
	}
	p.Legend.Top = true
	return p, nil
}
