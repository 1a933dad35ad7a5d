// Command trainer runs the experiments of d2l's Adagrad chapter, and a
// sparse-feature experiment, on the adagrad kernels:
//
//	go run ./trainer quadratic [-lr 0.4] [-out out]
//	go run ./trainer regression [-data PATH] [-fetch] [-out out] [-preset d2l|pytorch|keras|optax|tf|gorgonia|spago] [-seed 1] [-synthetic]
//	go run ./trainer sparse [-out out] [-seed 1]
//	go run ./trainer all [-data PATH] [-fetch] [-out out] [-preset d2l|pytorch|keras|optax|tf|gorgonia|spago] [-seed 1] [-synthetic]
//
// quadratic is d2l's 2-D demo (train_2d): 20 steps on f = 0.1·x1² + 2·x2² from
// (−5, −2), printing d2l's last line and drawing the trace over the contours.
//
// regression is d2l's get_data_ch11 and train_ch11: linear regression on the
// airfoil self-noise data (standardized, first 1500 rows), minibatches of 10, from
// scratch with kernel.Update for 2 epochs, then the "concise" run through the
// Optimizer with a preset (default pytorch) for 4 epochs. It reads the copy of
// the data embedded in the program (internal/airfoil), or the file -data names,
// or d2l's download (-fetch, into the user cache directory, checked by its
// SHA-1); -synthetic runs it on a seeded synthetic set of the same shape
// instead. The data set is T. Brooks, D. Pope and M. Marcolini's Airfoil
// Self-Noise (UCI Machine Learning Repository), licensed under CC BY 4.0;
// internal/airfoil/testdata/README.md gives the full attribution. The times per
// epoch are printed in d2l's format, in µs or ms where a second would round to
// 0.000.
//
// sparse trains a linear model over Zipf-distributed binary features with tuned
// SGD, dense Adagrad, row Adagrad (kernel.UpdateRows) and RMSProp, and reports the
// parameter error per frequency bucket, and the effective learning rate of a
// common and a rare feature.
//
// all runs the three (quadratic at lr 0.4 and 2), with a progress bar when
// stdout is a terminal, and ends with a summary.
// Every figure is written as PNG and SVG into -out. Each command accepts only the
// flags it reads, so that a flag meant for another one is an error, not ignored.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"

	"github.com/adagrad-go/adagrad/internal/synopsis"
	"github.com/adagrad-go/adagrad/kernel"
)

// commands are trainer's subcommands, in the order the usage lists them.
var commands = []string{"quadratic", "regression", "sparse", "all"}

// options are the values of every command's flags; each command defines only
// those it reads.
type options struct {
	out       string
	lr        float64
	data      string
	fetch     bool
	synthetic bool
	seed      uint64
	preset    string
}

// defineFlags defines on fs the flags of cmd, into o, and reports whether cmd is
// a command.
func defineFlags(fs *flag.FlagSet, cmd string, o *options) bool {
	data := func() {
		fs.StringVar(&o.data, "data", "", "`PATH` of d2l's airfoil_self_noise.dat to read")
		fs.BoolVar(&o.fetch, "fetch", false, "download d2l's airfoil data into the user cache (not with -data)")
		fs.BoolVar(&o.synthetic, "synthetic", false, "a seeded synthetic set of the airfoil set's shape instead of the airfoil data")
	}
	seed := func() { fs.Uint64Var(&o.seed, "seed", 1, "seed of every random choice") }
	preset := func() {
		fs.StringVar(&o.preset, "preset", "pytorch", "Optimizer preset, `d2l|pytorch|keras|optax|tf|gorgonia|spago`, of the concise regression run")
	}
	switch cmd {
	case "quadratic":
		fs.Float64Var(&o.lr, "lr", 0.4, "learning rate")
	case "regression", "all":
		data()
		preset()
		seed()
	case "sparse":
		seed()
	default:
		return false
	}
	fs.StringVar(&o.out, "out", "out", "directory for the figures")
	return true
}

// usage is trainer's usage text, a line per command.
func usage() string {
	var b strings.Builder
	fmt.Fprintf(&b, "usage: trainer %s [flags]\n", strings.Join(commands, "|"))
	for _, c := range commands {
		fs := flag.NewFlagSet(c, flag.ContinueOnError)
		defineFlags(fs, c, new(options))
		_, rest, _ := strings.Cut(synopsis.Line(c, fs, ""), " ")
		fmt.Fprintf(&b, "  %-11s%s\n", c, rest)
	}
	b.WriteString(`"trainer <command> -h" explains the command's flags` + "\n")
	return b.String()
}

// errUsage is a command line that trainer has explained on stderr.
var errUsage = errors.New("usage error")

// parseArgs parses the command line after the program's name: the command and
// the flags it defines. It returns errUsage, or flag.ErrHelp for -h, once it has
// written the usage to stderr.
func parseArgs(args []string, stderr io.Writer) (string, options, error) {
	var o options
	if len(args) == 0 {
		fmt.Fprint(stderr, usage())
		return "", o, errUsage
	}
	cmd := args[0]
	fs := flag.NewFlagSet(cmd, flag.ContinueOnError)
	fs.SetOutput(stderr)
	if !defineFlags(fs, cmd, &o) {
		fmt.Fprintf(stderr, "trainer: no command %q\n%s", cmd, usage())
		return "", o, errUsage
	}
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: trainer %s\n", synopsis.Line(cmd, fs, ""))
		fs.PrintDefaults()
	}
	if err := fs.Parse(args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return "", o, err
		}
		return "", o, errUsage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "trainer %s: unexpected argument %q\n", cmd, fs.Arg(0))
		fs.Usage()
		return "", o, errUsage
	}
	return cmd, o, nil
}

func main() {
	cmd, o, err := parseArgs(os.Args[1:], os.Stderr)
	switch {
	case errors.Is(err, flag.ErrHelp):
		os.Exit(0)
	case err != nil:
		os.Exit(2)
	}
	r := &runner{out: o.out, stdout: os.Stdout, sparseCfg: defaultSparse(o.seed)}
	if err := os.MkdirAll(o.out, 0o755); err != nil {
		fail(err)
	}
	switch cmd {
	case "quadratic":
		err = r.quadratic(o.lr)
	case "regression":
		var d *dataset
		if d, err = loadData(o); err == nil {
			err = r.regression(d, o.seed, o.preset)
		}
	case "sparse":
		err = r.sparse()
	case "all":
		err = r.all(o)
	}
	if err != nil {
		fail(err)
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "trainer:", err)
	os.Exit(1)
}

// loadData picks the regression set: the embedded airfoil data, a file, d2l's
// download, or the synthetic set.
func loadData(o options) (*dataset, error) {
	if b2i(o.data != "")+b2i(o.fetch)+b2i(o.synthetic) > 1 {
		return nil, fmt.Errorf("-data, -fetch and -synthetic exclude each other")
	}
	switch {
	case o.synthetic:
		return synthetic(o.seed, regressionRows), nil
	case o.data != "":
		return loadFile(o.data, regressionRows)
	case o.fetch:
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
	return embedded(regressionRows)
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
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
		label = "synthetic data (a seeded linear model, -synthetic)"
	}
	r.printf("regression on %s: %d examples of %d features\n", label, len(d.features), len(d.features[0]))
	scratch := scratchRun(d, seed, r.tick)
	r.printf("from scratch (kernel.Update, lr 0.1, 2 epochs): loss: %.3f, %s\n", scratch.final(), perEpoch(scratch.secPerEpoch))
	concise, err := conciseRun(d, preset, seed, r.tick)
	if err != nil {
		return err
	}
	r.printf("concise (Optimizer, preset %s, lr 0.1, 4 epochs): loss: %.3f, %s\n", preset, concise.final(), perEpoch(concise.secPerEpoch))
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

// perEpoch is d2l's "0.012 sec/epoch", in ms or µs below 0.1 s, where three
// decimals of a second say little or nothing.
func perEpoch(sec float64) string {
	switch {
	case sec >= 0.1:
		return fmt.Sprintf("%.3f sec/epoch", sec)
	case sec >= 1e-4:
		return fmt.Sprintf("%.2f ms/epoch", sec*1e3)
	}
	return fmt.Sprintf("%.1f µs/epoch", sec*1e6)
}

// all runs every experiment and prints a summary.
func (r *runner) all(o options) error {
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
	d, err := loadData(o)
	if err != nil {
		return err
	}
	if err := r.regression(d, o.seed, o.preset); err != nil {
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
