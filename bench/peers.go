package main

import (
	"bytes"
	_ "embed"
	"encoding/binary"
	"flag"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/perf/benchfmt"

	"github.com/adagrad-go/adagrad"
	"github.com/adagrad-go/adagrad/internal/benchmodel"
	"github.com/adagrad-go/adagrad/kernel"
)

// The peers' sources, written to a temporary directory and built or run there, so
// that `bench peers` works from any directory.
var (
	//go:embed peers/c/adagrad.c
	peerC []byte
	//go:embed peers/adagrad.py
	peerPy []byte
	//go:embed peers/simd/main.go
	peerSIMD []byte
)

// peerForm is the form every dense peer computes: PyTorch's step without weight
// decay, s += g·g; x −= lr·g / (√s + eps).
var peerForm = kernel.Form{EpsOutside: true, Order: kernel.MulDiv, FusedAccumulator: true}

// peerTools are the programs `bench peers` looks for. Tests point them at
// programs that do not exist.
type peerTools struct {
	cc      string   // the C compiler, $CC or cc
	goCmd   string   // the go command, for the simd/archsimd peer
	pythons []string // interpreters to try in turn: $PYTHON, or python3 then /usr/bin/python3
}

func defaultPeerTools() peerTools {
	t := peerTools{cc: "cc", goCmd: "go", pythons: []string{"python3", "/usr/bin/python3"}}
	if cc := os.Getenv("CC"); cc != "" {
		t.cc = cc
	}
	if py := os.Getenv("PYTHON"); py != "" {
		t.pythons = []string{py}
	}
	return t
}

// peerWork is what every peer runs: dense updates at each size, the sparse step
// on a table of rows×dim with the rows of indices (written to indexFile for the
// peers in other processes), and a step of a whole model of tensors of the
// model sizes (written to modelFile).
type peerWork struct {
	sizes     []int
	per       time.Duration
	rows, dim int
	indices   []int32
	indexFile string
	model     []int
	modelFile string
}

// The kinds of work a peer runs.
const (
	dense  = "dense"
	sparse = "sparse"
	model  = "model"
)

// peer is one contender: ours, a loop in this process, or a program.
type peer struct {
	name  string // its impl= in the results
	about string // what it is, for the report
	kind  string // dense (or empty), sparse or model
	// Exactly one of local and argv is set. local measures in this process;
	// argv is a program that takes -sizes, -time (seconds) and -count (or, for
	// sparse, -rows, -dim and -indices; for a model, -model) and prints Go
	// benchmark lines.
	local func(w peerWork) []peerResult
	argv  []string
	skip  string // why it does not run here; empty when it does
}

// peerResult is one measurement: the benchmark's name without impl=, the
// iterations and the nanoseconds per step.
type peerResult struct {
	name  string
	iters int
	ns    float64
	elems int
}

// findPeers prepares every peer in dir: builds the C and simd/archsimd programs,
// finds a Python with NumPy and one with PyTorch. A peer that cannot run says why.
func findPeers(tools peerTools, dir string) []peer {
	ours := "adagrad-" + kernel.Implementation()
	peers := []peer{
		{name: ours, about: "this library, kernel.Apply on the path chosen at start-up", kind: dense, local: oursDense},
		{name: ours, about: "this library, kernel.ApplyRows, coalesced, 1 thread", kind: sparse, local: oursSparse},
		{name: ours, about: "this library, a model in one arena, one Step() (adagrad.NewArena)", kind: model, local: oursArena},
		{name: "adagrad-tensors", about: "this library, a model's tensors one kernel call each (adagrad.New, Step(grads...))", kind: model, local: oursTensors},
		{name: "adagrad-fast", about: "this library's opt-in approximate mode, kernel.UpdateFast (d2l's form, eps inside the root)", kind: dense, local: oursFast},
		{name: "go-loop", about: "a plain Go loop, float32, as a Go programmer writes it", kind: dense, local: goLoopDense},
	}
	peers = append(peers, cPeer(tools.cc, dir), simdPeer(tools.goCmd, dir))
	script := filepath.Join(dir, "adagrad.py")
	if err := os.WriteFile(script, peerPy, 0o644); err != nil {
		return append(peers, peer{name: "python", skip: err.Error()})
	}
	numpy, whyNumpy := findPython(tools.pythons, "numpy")
	torch, whyTorch := findPython(tools.pythons, "torch")
	for _, p := range []struct {
		name, mode, about, py, why, kind string
	}{
		{"numpy", "numpy", "NumPy in-place ufuncs", numpy, whyNumpy, dense},
		{"torch", "torch", "torch.optim.Adagrad.step, foreach=False, 1 thread", torch, whyTorch, dense},
		{"torch-foreach", "torch-foreach", "torch.optim.Adagrad.step, foreach=True, 1 thread", torch, whyTorch, dense},
		{"torch-sparse", "torch-sparse", "torch.optim.Adagrad.step on a sparse gradient, 1 thread", torch, whyTorch, sparse},
		{"torch", "torch-model", "torch.optim.Adagrad.step over the model's tensors, foreach=False", torch, whyTorch, model},
		{"torch-foreach", "torch-foreach-model", "torch.optim.Adagrad.step over the model's tensors, foreach=True", torch, whyTorch, model},
	} {
		pe := peer{name: p.name, about: p.about, kind: p.kind, skip: p.why}
		if p.py != "" {
			pe.argv = []string{p.py, script, "-peer", p.mode}
			pe.about += " (" + p.py + ")"
		}
		peers = append(peers, pe)
	}
	return peers
}

// cPeer builds bench/peers/c/adagrad.c with -O3 -march=native -fno-math-errno.
func cPeer(cc, dir string) peer {
	p := peer{name: "c", about: "C loop, " + cc + " -O3 -march=native -fno-math-errno"}
	path, err := exec.LookPath(cc)
	if err != nil {
		p.skip = fmt.Sprintf("no C compiler: %v (set CC)", err)
		return p
	}
	if out, err := exec.Command(path, "--version").Output(); err == nil {
		version := strings.ToLower(string(out))
		switch {
		case strings.Contains(version, "clang"):
			p.name = "c-clang"
		case strings.Contains(version, "gcc"), strings.Contains(version, "free software foundation"):
			p.name = "c-gcc"
		}
		p.about = firstLine(out) + ", -O3 -march=native -fno-math-errno"
	}
	src, bin := filepath.Join(dir, "adagrad.c"), filepath.Join(dir, "adagrad-c")
	if err := os.WriteFile(src, peerC, 0o644); err != nil {
		p.skip = err.Error()
		return p
	}
	if out, err := exec.Command(path, "-O3", "-march=native", "-fno-math-errno", "-o", bin, src, "-lm").CombinedOutput(); err != nil {
		p.skip = fmt.Sprintf("%s failed: %v: %s", cc, err, firstLine(out))
		return p
	}
	p.argv = []string{bin, "-name", p.name}
	return p
}

// simdPeer builds bench/peers/simd in a module of its own with GOEXPERIMENT=simd.
func simdPeer(goCmd, dir string) peer {
	p := peer{name: "go-archsimd", about: "Go's experimental simd/archsimd, 8 lanes (GOEXPERIMENT=simd)"}
	if runtime.GOARCH != "amd64" {
		p.skip = "simd/archsimd is amd64 only"
		return p
	}
	path, err := exec.LookPath(goCmd)
	if err != nil {
		p.skip = fmt.Sprintf("no go command: %v", err)
		return p
	}
	mod := filepath.Join(dir, "simd")
	if err := os.MkdirAll(mod, 0o755); err != nil {
		p.skip = err.Error()
		return p
	}
	os.WriteFile(filepath.Join(mod, "go.mod"), []byte("module peer\n\ngo 1.26\n"), 0o644)
	if err := os.WriteFile(filepath.Join(mod, "main.go"), peerSIMD, 0o644); err != nil {
		p.skip = err.Error()
		return p
	}
	bin := filepath.Join(dir, "adagrad-simd")
	cmd := exec.Command(path, "build", "-o", bin, ".")
	cmd.Dir = mod
	cmd.Env = append(os.Environ(), "GOEXPERIMENT=simd", "GOWORK=off", "GOFLAGS=", "GOTOOLCHAIN=local")
	if out, err := cmd.CombinedOutput(); err != nil {
		p.skip = fmt.Sprintf("does not build with this go: %s", firstLine(out))
		return p
	}
	p.argv = []string{bin}
	return p
}

// findPython returns the first interpreter that imports module, or why none does.
func findPython(pythons []string, module string) (path, why string) {
	var tried []string
	for _, py := range pythons {
		p, err := exec.LookPath(py)
		if err != nil {
			tried = append(tried, fmt.Sprintf("%s: not found", py))
			continue
		}
		out, err := exec.Command(p, "-c", "import "+module).CombinedOutput()
		if err == nil {
			return p, ""
		}
		lines := strings.Split(strings.TrimSpace(string(out)), "\n")
		tried = append(tried, fmt.Sprintf("%s: %s", py, lines[len(lines)-1]))
	}
	return "", fmt.Sprintf("no Python with %s (%s)", module, strings.Join(tried, "; "))
}

func firstLine(b []byte) string {
	s, _, _ := strings.Cut(strings.TrimSpace(string(b)), "\n")
	return s
}

// measure runs the peer once over the work: each dense size, or the sparse step.
func (p *peer) measure(w peerWork) ([]peerResult, error) {
	if p.local != nil {
		return p.local(w), nil
	}
	args := slices.Clone(p.argv[1:])
	secs := strconv.FormatFloat(w.per.Seconds(), 'g', -1, 64)
	switch p.kind {
	case sparse:
		args = append(args, "-rows", strconv.Itoa(w.rows), "-dim", strconv.Itoa(w.dim), "-indices", w.indexFile, "-time", secs)
	case model:
		args = append(args, "-model", w.modelFile, "-time", secs)
	default:
		var ns []string
		for _, n := range w.sizes {
			ns = append(ns, strconv.Itoa(n))
		}
		args = append(args, "-sizes", strings.Join(ns, ","), "-time", secs, "-count", "1")
	}
	var stdout, stderr bytes.Buffer
	cmd := exec.Command(p.argv[0], args...)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("%v: %s", err, firstLine(stderr.Bytes()))
	}
	for _, l := range strings.Split(stdout.String(), "\n") {
		if why, ok := strings.CutPrefix(l, "# skip: "); ok {
			p.skip = why
			return nil, nil
		}
	}
	var res []peerResult
	r := benchfmt.NewReader(&stdout, p.name)
	nRE := regexp.MustCompile(`/N=(\d+)/`)
	for r.Scan() {
		b, ok := r.Result().(*benchfmt.Result)
		if !ok {
			continue
		}
		ns, ok := b.Value("sec/op")
		if !ok {
			return nil, fmt.Errorf("%s: no ns/op", b.Name)
		}
		name := string(b.Name.Base())
		switch p.kind {
		case sparse:
			res = append(res, peerResult{sparseName(w), b.Iters, ns * 1e9, len(w.indices) * w.dim})
			continue
		case model:
			res = append(res, peerResult{modelName(w), b.Iters, ns * 1e9, modelElems(w)})
			continue
		}
		m := nRE.FindStringSubmatch(string(b.Name))
		if m == nil {
			return nil, fmt.Errorf("%s: no N= in %s", p.name, name)
		}
		n, _ := strconv.Atoi(m[1])
		res = append(res, peerResult{"Peers/N=" + sizeName(n), b.Iters, ns * 1e9, n})
	}
	if err := r.Err(); err != nil {
		return nil, err
	}
	want := len(w.sizes)
	if p.kind == sparse || p.kind == model {
		want = 1
	}
	if len(res) != want {
		return nil, fmt.Errorf("%d results, want %d: %s", len(res), want, firstLine(stdout.Bytes()))
	}
	return res, nil
}

func modelName(w peerWork) string {
	return fmt.Sprintf("PeersModel/tensors=%d/N=%s", len(w.model), sizeName(modelElems(w)))
}

func modelElems(w peerWork) int {
	n := 0
	for _, s := range w.model {
		n += s
	}
	return n
}

// oursArena steps the model held in one arena; oursTensors steps the same
// model's tensors one call each. Both with the dense peers' form and rates.
func oursArena(w peerWork) []peerResult {
	o := adagrad.NewArena[float32](peerConfig(), w.model...)
	fillModel(o.Params())
	fillModel(o.Grads())
	calls, ns := timeCalls(modelElems(w), w.per, func() { o.Step() })
	return []peerResult{{modelName(w), calls, ns, modelElems(w)}}
}

func oursTensors(w peerWork) []peerResult {
	params, grads := make([][]float32, len(w.model)), make([][]float32, len(w.model))
	for i, n := range w.model {
		params[i], grads[i] = make([]float32, n), make([]float32, n)
	}
	fillModel(params)
	fillModel(grads)
	o := adagrad.New(peerConfig(), params...)
	calls, ns := timeCalls(modelElems(w), w.per, func() { o.Step(grads...) })
	return []peerResult{{modelName(w), calls, ns, modelElems(w)}}
}

// peerConfig is peerForm as an optimizer's configuration, with the dense
// peers' rate and epsilon.
func peerConfig() adagrad.Config {
	c := adagrad.PyTorch()
	c.LR, c.Eps = 1e-3, 1e-7
	c.Form = peerForm
	return c
}

func fillModel(ts [][]float32) {
	rng := rand.New(rand.NewPCG(1, 4))
	for _, t := range ts {
		for i := range t {
			t[i] = float32(rng.NormFloat64())
		}
	}
}

func sparseName(w peerWork) string {
	return fmt.Sprintf("PeersRows/rows=%s/dim=%d/indices=%s", sizeName(w.rows), w.dim, sizeName(len(w.indices)))
}

// timeCalls calls f, which updates n elements, repeatedly for about d and
// returns the calls and nanoseconds per call.
func timeCalls(n int, d time.Duration, f func()) (int, float64) {
	f() // touch the pages and warm the caches
	calls := 0
	start := time.Now()
	for time.Since(start) < d {
		for range 1 + 4096/n {
			f()
			calls++
		}
	}
	return calls, float64(time.Since(start).Nanoseconds()) / float64(calls)
}

// denseLocal times step at each size; step returns the call to time, bound to
// the slices, so that the timing loop adds a single indirect call to it.
func denseLocal(w peerWork, step func(x, s, g []float32) func()) []peerResult {
	var res []peerResult
	for _, n := range w.sizes {
		calls, ns := timeCalls(n, w.per, step(inputs(n)))
		res = append(res, peerResult{"Peers/N=" + sizeName(n), calls, ns, n})
	}
	return res
}

func oursDense(w peerWork) []peerResult {
	return denseLocal(w, func(x, s, g []float32) func() {
		f, p := peerForm, kernel.Params[float32]{LR: 1e-3, Eps: 1e-7}
		return func() { kernel.Apply(f, x, s, g, p) }
	})
}

func oursFast(w peerWork) []peerResult {
	return denseLocal(w, func(x, s, g []float32) func() {
		return func() { kernel.UpdateFast(x, s, g, 1e-3, 1e-7) }
	})
}

func goLoopDense(w peerWork) []peerResult {
	return denseLocal(w, func(x, s, g []float32) func() {
		return func() { goLoop(x, s, g, 1e-3, 1e-7) }
	})
}

// goLoop is the update as a Go programmer writes it.
func goLoop(x, s, g []float32, lr, eps float32) {
	s, g = s[:len(x)], g[:len(x)]
	for i := range x {
		s[i] += g[i] * g[i]
		x[i] -= lr * g[i] / (float32(math.Sqrt(float64(s[i]))) + eps)
	}
}

func oursSparse(w peerWork) []peerResult {
	x, s := make([]float32, w.rows*w.dim), make([]float32, w.rows*w.dim)
	g := make([]float32, len(w.indices)*w.dim)
	rng := rand.New(rand.NewPCG(1, 3))
	for i := range g {
		g[i] = float32(rng.NormFloat64())
	}
	var sc kernel.Scratch
	p := kernel.Params[float32]{LR: 0.01, Eps: 1e-7}
	calls, ns := timeCalls(len(g), w.per, func() {
		if err := kernel.ApplyRows(peerForm, kernel.DuplicatesSummed, x, s, w.dim, w.indices, g, p, &sc); err != nil {
			panic(err)
		}
	})
	return []peerResult{{sparseName(w), calls, ns, len(g)}}
}

// zipfRows draws k row indices from Zipf(1.1), spread over the table by a hash so
// that popular rows are not neighbours, as embedding lookups are.
func zipfRows(rows, k int) []int32 {
	rng := rand.New(rand.NewPCG(1, 1))
	z := rand.NewZipf(rng, 1.1, 1, uint64(rows-1))
	idx := make([]int32, k)
	for i := range idx {
		idx[i] = int32((z.Uint64() * 0x9e3779b97f4a7c15) % uint64(rows))
	}
	return idx
}

// peersReport is what `bench peers` measured: every result, and what was skipped.
type peersReport struct {
	ours    string
	results map[string]map[string][]peerResult // by name without impl=, then impl
	names   []string                           // the names in order of measurement
	impls   []string                           // the impls that ran, ours first
	skipped []string                           // "name: why"
}

// runPeers measures every peer count times, interleaved: each round runs every
// peer once over all sizes, so that a noisy machine slows all of them alike.
func runPeers(peers []peer, w peerWork, count int, progress func()) *peersReport {
	rep := &peersReport{ours: peers[0].name, results: map[string]map[string][]peerResult{}}
	failed := map[int]string{}
	for range count {
		for i := range peers {
			p := &peers[i]
			if p.skip != "" || failed[i] != "" || (p.argv == nil && p.local == nil) ||
				(p.kind == model && len(w.model) == 0) || (p.kind == sparse && len(w.indices) == 0) {
				continue
			}
			res, err := p.measure(w)
			if err != nil {
				failed[i] = err.Error()
			}
			for _, r := range res {
				if rep.results[r.name] == nil {
					rep.results[r.name] = map[string][]peerResult{}
					rep.names = append(rep.names, r.name)
				}
				rep.results[r.name][p.name] = append(rep.results[r.name][p.name], r)
				if !slices.Contains(rep.impls, p.name) {
					rep.impls = append(rep.impls, p.name)
				}
			}
			if progress != nil {
				progress()
			}
		}
	}
	for i, p := range peers {
		switch {
		case p.skip != "":
			rep.skipped = append(rep.skipped, p.name+": "+p.skip)
		case failed[i] != "":
			rep.skipped = append(rep.skipped, p.name+": failed: "+failed[i])
		}
	}
	return rep
}

// write records every measurement in the standard Go benchmark format.
func (rep *peersReport) write(w io.Writer) error {
	bw := benchfmt.NewWriter(w)
	cfg := fileConfig()
	for i := range cfg {
		if cfg[i].Key == "pkg" {
			cfg[i].Value = []byte("github.com/adagrad-go/adagrad/bench/peers")
		}
	}
	procs := runtime.GOMAXPROCS(0)
	for _, name := range rep.names {
		for _, impl := range rep.impls {
			for _, r := range rep.results[name][impl] {
				err := bw.Write(&benchfmt.Result{
					Config: cfg,
					Name:   benchfmt.Name(fmt.Sprintf("%s/impl=%s-%d", name, impl, procs)),
					Iters:  r.iters,
					Values: []benchfmt.Value{
						{Value: round4(r.ns), Unit: "ns/op"},
						{Value: round4(float64(20*r.elems) / r.ns * 1e3), Unit: "MB/s"},
						{Value: round4(float64(r.elems) / r.ns), Unit: "Gelem/s"},
					},
				})
				if err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// rate is the median G elements/s of impl on the named benchmark, 0 if none.
func (rep *peersReport) rate(name, impl string) float64 {
	var rs []float64
	for _, r := range rep.results[name][impl] {
		rs = append(rs, float64(r.elems)/r.ns)
	}
	if len(rs) == 0 {
		return 0
	}
	return median(rs)
}

// table prints the medians of every benchmark with each peer's ratio to ours.
func (rep *peersReport) table(w io.Writer, peers []peer, count int) error {
	fmt.Fprintf(w, "G elements/s, median of %d runs, float32, 1 thread; ours ÷ peer in brackets (> 1×: ours is faster)\n", count)
	fmt.Fprintf(w, "dense form: s += g·g; x −= lr·g / (√s + eps), PyTorch's without weight decay\n")
	tw := newTable(w)
	fmt.Fprint(tw, "benchmark\t")
	for _, impl := range rep.impls {
		fmt.Fprintf(tw, "%s\t", impl)
	}
	fmt.Fprintln(tw)
	for _, name := range rep.names {
		fmt.Fprintf(tw, "%s\t", name)
		ours := rep.rate(name, rep.ours)
		for _, impl := range rep.impls {
			v := rep.rate(name, impl)
			switch {
			case v == 0:
				fmt.Fprint(tw, "–\t")
			case impl == rep.ours || ours == 0:
				fmt.Fprintf(tw, "%.3f\t", v)
			default:
				fmt.Fprintf(tw, "%.3f (%.2f×)\t", v, ours/v)
			}
		}
		fmt.Fprintln(tw)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintln(w, "\npeers:")
	seen := map[string]bool{}
	for _, p := range peers {
		if p.skip == "" && !seen[p.name+p.about] {
			seen[p.name+p.about] = true
			fmt.Fprintf(w, "  %-14s %s\n", p.name, p.about)
		}
	}
	if len(rep.skipped) > 0 {
		fmt.Fprintln(w, "skipped:")
		for _, s := range rep.skipped {
			fmt.Fprintf(w, "  %s\n", s)
		}
	}
	return nil
}

// peers runs `bench peers` with the given tools, writing the results to out (if
// not nil) and the table to w.
func peersRun(w, out io.Writer, tools peerTools, work peerWork, count int, bar bool) error {
	dir, err := os.MkdirTemp("", "adagrad-peers-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	work.indexFile = filepath.Join(dir, "indices.bin")
	raw := make([]byte, 8*len(work.indices))
	for i, r := range work.indices {
		binary.LittleEndian.PutUint64(raw[8*i:], uint64(r))
	}
	if err := os.WriteFile(work.indexFile, raw, 0o644); err != nil {
		return err
	}
	work.modelFile = filepath.Join(dir, "model.txt")
	var ms []string
	for _, n := range work.model {
		ms = append(ms, strconv.Itoa(n))
	}
	if err := os.WriteFile(work.modelFile, []byte(strings.Join(ms, ",")), 0o644); err != nil {
		return err
	}
	peers := findPeers(tools, dir)
	var progress func()
	if bar {
		b := progressbar.NewOptions(count*len(peers), progressbar.OptionSetWriter(os.Stderr),
			progressbar.OptionSetDescription("bench peers"), progressbar.OptionShowCount(), progressbar.OptionClearOnFinish())
		progress = func() { b.Add(1) }
	}
	rep := runPeers(peers, work, count, progress)
	if out != nil {
		if err := rep.write(out); err != nil {
			return err
		}
	}
	return rep.table(w, peers, count)
}

// peersCmd defines `bench peers`'s flags on fs and returns the command.
func peersCmd(fs *flag.FlagSet) func() error {
	sizes := fs.String("sizes", "64,1K,16K,256K,4M", "comma-separated lengths of the dense update")
	per := fs.Duration("time", 200*time.Millisecond, "time per measurement")
	count := fs.Int("count", 5, "runs of every peer, interleaved")
	rows := fs.String("rows", "1M", "rows of the sparse table")
	dim := fs.Int("dim", 64, "row length of the sparse table")
	indices := fs.String("indices", "16K", "rows per sparse step, Zipf(1.1)")
	out := fs.String("o", "", "`FILE|-` for the results (default "+filepath.Join(resultsDir, "peers-<cpu>.txt")+"; - for none)")
	return func() error {
		ns, err := parseSizes(*sizes)
		if err != nil {
			return err
		}
		r, err := parseSizes(*rows + "," + *indices)
		if err != nil {
			return err
		}
		if err := positive("time", *per); err != nil {
			return err
		}
		work := peerWork{sizes: ns, per: *per, rows: r[0], dim: *dim, indices: zipfRows(r[0], r[1]), model: benchmodel.Sizes()}
		return peersMain(work, *count, *out)
	}
}

// peersMain runs the peers on work and writes the results to out, as peersCmd's
// -o names it.
func peersMain(work peerWork, count int, out string) error {
	var f *os.File
	if out != "-" {
		if out == "" {
			out = filepath.Join(resultsDir, "peers-"+cpuSlug()+".txt")
		}
		if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
			return err
		}
		var err error
		if f, err = os.Create(out); err != nil {
			return err
		}
		defer f.Close()
	}
	var o io.Writer
	if f != nil {
		o = f
	}
	if err := peersRun(stdout, o, defaultPeerTools(), work, count, isTerminal(os.Stderr)); err != nil {
		return err
	}
	if f != nil {
		fmt.Fprintln(stdout, "\nwrote", out)
		return f.Close()
	}
	return nil
}
