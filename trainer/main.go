// Command trainer runs the experiments of d2l's Adagrad chapter, and a
// sparse-feature experiment, on the adagrad kernels:
//
//	go run ./trainer quadratic [-lr 0.4] [-out DIR]
//	go run ./trainer regression [-data PATH | -fetch] [-seed N] [-preset d2l|pytorch|keras|optax|tf] [-out DIR]
//	go run ./trainer sparse [-seed N] [-out DIR]
//	go run ./trainer all [-data PATH | -fetch] [-seed N] [-out DIR]
//
// quadratic is d2l's 2-D demo (train_2d): 20 steps on f = 0.1·x1² + 2·x2² from
// (−5, −2), printing d2l's last line and drawing the trace over the contours.
//
// regression is d2l's get_data_ch11 and train_ch11: linear regression on the
// airfoil self-noise data (standardized, first 1500 rows), minibatches of 10, from
// scratch with kernel.Update for 2 epochs, then the "concise" run through the
// Optimizer with a preset for 4 epochs. Without -data or -fetch it uses a synthetic
// set of the same shape, and says so. -fetch downloads d2l's copy into the user
// cache directory and checks its SHA-1.
//
// sparse trains a linear model over Zipf-distributed binary features with tuned
// SGD, dense Adagrad, row Adagrad (kernel.UpdateRows) and RMSProp, and reports the
// parameter error per frequency bucket, and the effective learning rate of a
// common and a rare feature.
//
// all runs the three (airfoil only with -data or -fetch), with a progress bar when
// stdout is a terminal, and ends with a summary. Every figure is written as PNG
// and SVG into -out (default ./out).
package main

import (
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"

	"github.com/adagrad-go/adagrad/kernel"
)

const usage = `usage: trainer <quadratic|regression|sparse|all> [flags]
run "trainer <command> -h" for the flags of each`

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, usage)
		os.Exit(2)
	}
	cmd, args := os.Args[1], os.Args[2:]
	fs := flag.NewFlagSet(cmd, flag.ExitOnError)
	out := fs.String("out", "out", "directory for the figures")
	lr := fs.Float64("lr", 0.4, "learning rate of quadratic")
	data := fs.String("data", "", "airfoil_self_noise.dat to read (regression)")
	doFetch := fs.Bool("fetch", false, "download d2l's airfoil data into the user cache (regression)")
	seed := fs.Uint64("seed", 1, "seed of every random choice")
	preset := fs.String("preset", "pytorch", "Optimizer preset of the concise regression run: d2l, pytorch, keras, optax or tf")
	switch cmd {
	case "quadratic", "regression", "sparse", "all":
	default:
		fmt.Fprintln(os.Stderr, usage)
		os.Exit(2)
	}
	fs.Parse(args)
	r := &runner{out: *out, stdout: os.Stdout, sparseCfg: defaultSparse(*seed)}
	if err := os.MkdirAll(*out, 0o755); err != nil {
		fail(err)
	}
	var err error
	switch cmd {
	case "quadratic":
		err = r.quadratic(*lr)
	case "regression":
		var d *dataset
		if d, err = loadData(*data, *doFetch, *seed); err == nil {
			err = r.regression(d, *seed, *preset)
		}
	case "sparse":
		err = r.sparse()
	case "all":
		err = r.all(*data, *doFetch, *seed, *preset)
	}
	if err != nil {
		fail(err)
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "trainer:", err)
	os.Exit(1)
}

// loadData picks the regression set: a file, d2l's download, or the synthetic
// default.
func loadData(path string, doFetch bool, seed uint64) (*dataset, error) {
	switch {
	case path != "" && doFetch:
		return nil, fmt.Errorf("-data and -fetch exclude each other")
	case path != "":
		return loadFile(path, regressionRows)
	case doFetch:
		dir, err := cacheDir()
		if err != nil {
			return nil, err
		}
		p, err := fetch(&http.Client{Timeout: time.Minute}, airfoilURL, dir)
		if err != nil {
			return nil, err
		}
		return loadFile(p, regressionRows)
	}
	return synthetic(seed, regressionRows), nil
}

// runner runs experiments, printing to stdout and collecting what a summary needs.
type runner struct {
	out       string
	stdout    io.Writer
	bar       *progressbar.ProgressBar // nil unless stdout is a terminal
	files     []string
	headlines []string
	sparseCfg sparseConfig
}

func (r *runner) printf(format string, a ...any) {
	if r.bar != nil {
		r.bar.Clear()
	}
	fmt.Fprintf(r.stdout, format, a...)
}

func (r *runner) tick() {
	if r.bar != nil {
		r.bar.Add(1)
	}
}

func (r *runner) saved(paths []string, err error) error {
	r.files = append(r.files, paths...)
	for _, p := range paths {
		r.printf("wrote %s\n", p)
	}
	return err
}

func (r *runner) quadratic(lr float64) error {
	trace := quadratic(lr, 20)
	line := quadraticLine(trace)
	r.printf("%s\n", line)
	r.headlines = append(r.headlines, fmt.Sprintf("quadratic lr=%g: %s", lr, line))
	p, err := plotQuadratic(trace, lr)
	if err != nil {
		return err
	}
	return r.saved(save(p, r.out, fmt.Sprintf("quadratic_lr%g", lr)))
}

func (r *runner) regression(d *dataset, seed uint64, preset string) error {
	label := d.name
	if label == "synthetic" {
		label = "synthetic data (a seeded linear model; pass -data or -fetch for the airfoil set)"
	}
	r.printf("regression on %s: %d examples of %d features\n", label, len(d.features), len(d.features[0]))
	scratch := scratchRun(d, seed, r.tick)
	r.printf("from scratch (kernel.Update, lr 0.1, 2 epochs): loss: %.3f, %.3f sec/epoch\n", scratch.final(), scratch.secPerEpoch)
	concise, err := conciseRun(d, preset, seed, r.tick)
	if err != nil {
		return err
	}
	r.printf("concise (Optimizer, preset %s, lr 0.1, 4 epochs): loss: %.3f, %.3f sec/epoch\n", preset, concise.final(), concise.secPerEpoch)
	source := "airfoil"
	if d.name == "synthetic" {
		source = "synthetic"
	}
	r.headlines = append(r.headlines, fmt.Sprintf("regression (%s): loss %.3f from scratch, %.3f concise (%s)", source, scratch.final(), concise.final(), preset))
	p, err := plotCurves("Linear regression with Adagrad ("+source+")",
		[]string{"from scratch, kernel.Update", "concise, Optimizer " + preset}, []curve{scratch, concise})
	if err != nil {
		return err
	}
	return r.saved(save(p, r.out, "regression_"+source))
}

func (r *runner) sparse() error {
	rep := sparseExperiment(r.sparseCfg, r.tick)
	r.printf("%s", rep.table())
	sgd, ada := rep.results[0], rep.results[2]
	r.headlines = append(r.headlines, fmt.Sprintf("sparse: rare-feature error %.3f with Adagrad vs %.3f with tuned SGD", ada.errs[2], sgd.errs[2]))
	p, err := rep.plotErrors()
	if err != nil {
		return err
	}
	if err := r.saved(save(p, r.out, "sparse_error")); err != nil {
		return err
	}
	p, err = rep.plotRates()
	if err != nil {
		return err
	}
	return r.saved(save(p, r.out, "sparse_lr"))
}

// all runs every experiment and prints a summary.
func (r *runner) all(data string, doFetch bool, seed uint64, preset string) error {
	start := time.Now()
	if f, ok := r.stdout.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		// One tick per regression batch, per sparse training run.
		steps := 2*regressionRows/regressionBatch + 4*regressionRows/regressionBatch + 3*len(r.sparseCfg.grid)
		r.bar = progressbar.NewOptions(steps, progressbar.OptionSetWriter(os.Stdout),
			progressbar.OptionSetDescription("trainer all"), progressbar.OptionClearOnFinish())
	}
	for _, lr := range []float64{0.4, 2} {
		if err := r.quadratic(lr); err != nil {
			return err
		}
	}
	d, err := loadData(data, doFetch, seed)
	if err != nil {
		return err
	}
	if err := r.regression(d, seed, preset); err != nil {
		return err
	}
	if err := r.sparse(); err != nil {
		return err
	}
	if r.bar != nil {
		r.bar.Finish()
	}
	r.printf("\nsummary (kernel path %s, %s):\n", kernel.Implementation(), time.Since(start).Round(time.Millisecond))
	for _, h := range r.headlines {
		r.printf("  %s\n", h)
	}
	r.printf("files:\n  %s\n", strings.Join(r.files, "\n  "))
	return nil
}
