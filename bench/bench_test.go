package main

import (
	"bytes"
	"flag"
	"image/png"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/klauspost/cpuid/v2"
	"golang.org/x/perf/benchfmt"

	"github.com/adagrad-go/adagrad/kernel"
)

// What `bench run` writes, benchfmt reads back: the configuration lines, one
// result per case and run, with the units we wrote.
func TestRunRoundTrip(t *testing.T) {
	saved := flag.Lookup("test.benchtime").Value.String()
	defer flagSet("test.benchtime", saved)
	if err := flagSet("test.benchtime", "20x"); err != nil {
		t.Fatal(err)
	}
	cases := runCases([]int{16})
	var buf bytes.Buffer
	runs := 0
	if err := runBench(&buf, cases, 2, func() { runs++ }); err != nil {
		t.Fatal(err)
	}
	if runs != 2*len(cases) {
		t.Errorf("progress called %d times for %d runs", runs, 2*len(cases))
	}
	r := benchfmt.NewReader(&buf, "run")
	n := 0
	names := map[string]int{}
	for r.Scan() {
		res, ok := r.Result().(*benchfmt.Result)
		if !ok {
			t.Fatalf("not a result: %v", r.Result())
		}
		n++
		names[string(res.Name)]++
		for _, key := range []string{"goos", "goarch", "cpu", "features", "go", "commit"} {
			if res.GetConfig(key) == "" && key != "features" {
				t.Errorf("%s: no %q configuration", res.Name, key)
			}
		}
		for _, unit := range []string{"sec/op", "B/s", "Gelem/s"} { // benchfmt normalizes ns/op and MB/s
			if v, ok := res.Value(unit); !ok || !(v > 0) {
				t.Errorf("%s: %s = %v, %v", res.Name, unit, v, ok)
			}
		}
		if !strings.Contains(string(res.Name), "/impl=") || res.Iters != 20 {
			t.Errorf("%s: %d iterations", res.Name, res.Iters)
		}
	}
	if err := r.Err(); err != nil {
		t.Fatal(err)
	}
	if n != 2*len(cases) || len(names) != len(cases) {
		t.Errorf("%d results of %d names, want %d of %d", n, len(names), 2*len(cases), len(cases))
	}
}

// compare on two small files that `make bench-testdata` made with `bench run`.
func TestCompare(t *testing.T) {
	var out, note bytes.Buffer
	if err := compare(&out, &note, "kernel", []string{"testdata/a.txt"}); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"old = generic, new = avx2", "Update32/N=16-2", "Rows/rows=64K/dim=64/dist=zipf/dup=coalesced-2", "[Geo mean]", "time/op", "delta"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("compare -by kernel lacks %q:\n%s", want, out.String())
		}
	}
	out.Reset()
	if err := compare(&out, &note, "cpu", []string{"testdata/a.txt", "testdata/b.txt"}); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"old = a, new = b", "Update32/N=16/impl=avx2 ", "n=3+3"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("compare -by cpu lacks %q:\n%s", want, out.String())
		}
	}
	if note.Len() != 0 {
		t.Errorf("notes on two files of the same benchmarks:\n%s", note.String())
	}
	if err := compare(&out, &note, "cpu", []string{"testdata/a.txt"}); err == nil {
		t.Error("-by cpu accepted one file")
	}
	if err := compare(&out, &note, "size", []string{"testdata/a.txt"}); err == nil {
		t.Error("-by size accepted")
	}
	empty := t.TempDir() + "/empty.txt"
	os.WriteFile(empty, []byte("goos: linux\n"), 0o644)
	if err := compare(&out, &note, "kernel", []string{empty}); err == nil {
		t.Error("a file without results accepted")
	}
}

// limits on tiny sizes: the four tables, a row per size with positive rates
// (or, for a ceiling this build lacks, a line saying why), and the parallel
// split covers every element exactly once.
func TestLimits(t *testing.T) {
	var out bytes.Buffer
	if err := limits(&out, []int{1000, 4099}, []int{100, 256}, time.Millisecond); err != nil {
		t.Fatal(err)
	}
	tables := strings.Split(strings.TrimSpace(out.String()), "\n\n")
	if len(tables) != 4 {
		t.Fatalf("want 4 tables, output:\n%s", out.String())
	}
	for i, title := range []string{"memory-traffic limit", "exact compute limit on the divider", "exact compute limit on the FMA ports", "approximate compute limit"} {
		lines := strings.Split(tables[i], "\n")
		if !strings.HasPrefix(lines[0], title) {
			t.Errorf("table %d starts %q, want %q", i, lines[0], title)
		}
		if strings.Contains(lines[0], "skipped") {
			if len(lines) != 1 {
				t.Errorf("skipped ceiling with rows:\n%s", tables[i])
			}
			continue
		}
		if len(lines) != 4 {
			t.Errorf("table %d: want a title, a header and 2 rows:\n%s", i, tables[i])
		}
		for _, l := range lines[2:] {
			f := strings.Fields(l)
			for _, v := range f[1:] {
				if x, err := strconv.ParseFloat(v, 64); err != nil || !(x > 0) {
					t.Errorf("%q: %q is not a positive rate", l, v)
				}
			}
		}
	}
	for _, workers := range []int{1, 2, 3, 7} {
		x, s, g := make([]float32, 1001), make([]float32, 1001), make([]float32, 1001)
		for i := range g {
			g[i] = 1
		}
		parallelTraffic(ceilingKernels().traffic.f, workers, x, s, g)
		for i := range x {
			if x[i] != -1 || s[i] != 1 {
				t.Fatalf("workers=%d: element %d: x=%v s=%v", workers, i, x[i], s[i])
			}
		}
	}
}

// inL1 keeps the lengths that fit this CPU's L1 data cache, whatever its size,
// and the smallest in any case.
func TestInL1(t *testing.T) {
	fit, beyond := inL1([]int{64 << 10, 256, 1 << 10, 16, 2 << 10})
	if got := append(slices.Clone(fit), beyond...); !slices.Equal(got, []int{16, 256, 1 << 10, 2 << 10, 64 << 10}) || len(fit) == 0 {
		t.Errorf("fit %v, beyond %v", fit, beyond)
	}
	l1 := cpuid.CPU.Cache.L1D
	if l1 <= 0 {
		if len(beyond) > 0 {
			t.Errorf("cpuid reports no L1 size, yet %v were dropped", beyond)
		}
		return
	}
	for i, n := range fit {
		if i > 0 && 12*n > l1 {
			t.Errorf("%d elements (%d bytes) kept for a %d-byte L1", n, 12*n, l1)
		}
	}
	for _, n := range beyond {
		if 12*n <= l1 {
			t.Errorf("%d elements (%d bytes) dropped though the L1 holds %d", n, 12*n, l1)
		}
	}
	if len(beyond) == 0 {
		t.Errorf("all of %v kept for a %d-byte L1", fit, l1)
	}
}

// plot draws the committed run file: a chart per dense benchmark and one of the
// sparse steps, each a 640×480 PNG and an SVG.
func TestPlot(t *testing.T) {
	files, err := plotFile("testdata/a.txt", t.TempDir(), time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	var bases []string
	for _, f := range files {
		bases = append(bases, filepath.Base(f))
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		switch filepath.Ext(f) {
		case ".png":
			cfg, err := png.DecodeConfig(bytes.NewReader(data))
			if err != nil || cfg.Width != 640 || cfg.Height != 480 {
				t.Errorf("%s: %dx%d, %v", f, cfg.Width, cfg.Height, err)
			}
		case ".svg":
			if !bytes.Contains(data, []byte(`<svg width="480pt" height="360pt"`)) {
				t.Errorf("%s is not a 480x360pt SVG", f)
			}
		}
	}
	want := []string{"Update32.png", "Update32.svg", "Update64.png", "Update64.svg", "Rows.png", "Rows.svg"}
	if !slices.Equal(bases, want) {
		t.Errorf("wrote %v, want %v", bases, want)
	}
	if _, err := plotFile("testdata/nothing.txt", t.TempDir(), 0); err == nil {
		t.Error("a missing file was plotted")
	}
}

// tinyWork is a peers run small enough for a test.
func tinyWork() peerWork {
	return peerWork{sizes: []int{64, 1000}, per: time.Millisecond, rows: 512, dim: 8, indices: zipfRows(512, 64), model: []int{100, 3, 64, 1}}
}

// peers on tiny sizes with whatever this machine has: every peer either ran at
// every size or is reported skipped with a reason, ours ran, and the results file
// is standard benchmark format with positive rates.
func TestPeers(t *testing.T) {
	var table, file bytes.Buffer
	if err := peersRun(&table, &file, defaultPeerTools(), tinyWork(), 1, false); err != nil {
		t.Fatal(err)
	}
	t.Log("\n" + table.String())
	ran := map[string]int{}
	r := benchfmt.NewReader(&file, "peers")
	for r.Scan() {
		res, ok := r.Result().(*benchfmt.Result)
		if !ok {
			t.Fatalf("not a result: %v", r.Result())
		}
		if v, ok := res.Value("Gelem/s"); !ok || !(v > 0) {
			t.Errorf("%s: Gelem/s %v", res.Name, v)
		}
		_, impl, _ := strings.Cut(string(res.Name), "/impl=")
		ran[procsSuffix.ReplaceAllString(impl, "")]++
	}
	if err := r.Err(); err != nil {
		t.Fatal(err)
	}
	ours := "adagrad-" + kernel.Implementation()
	if ran[ours] != 4 || ran["adagrad-tensors"] != 1 || ran["adagrad-fast"] != 2 || ran["go-loop"] != 2 {
		t.Errorf("ours ran %d times (want 2 sizes, sparse and model), per tensor %d (want 1), fast %d and the Go loop %d (want 2)",
			ran[ours], ran["adagrad-tensors"], ran["adagrad-fast"], ran["go-loop"])
	}
	out := table.String()
	for _, name := range []string{"go-archsimd", "numpy", "torch", "torch-foreach", "torch-sparse"} {
		want := map[string]int{"torch-sparse": 1, "torch": 3, "torch-foreach": 3}[name] // sizes and the model
		if want == 0 {
			want = 2
		}
		switch {
		case ran[name] == want:
		case ran[name] == 0 && strings.Contains(out, "\n  "+name+": "):
		default:
			t.Errorf("%s ran %d times and is not reported skipped", name, ran[name])
		}
	}
	if ran["c-gcc"]+ran["c-clang"]+ran["c"] != 2 && !strings.Contains(out, "\n  c: ") {
		t.Errorf("the C peer neither ran at both sizes nor is reported skipped")
	}
}

// Peers whose tools are missing, or that fail, are reported with the reason and
// the run goes on.
func TestPeersMissing(t *testing.T) {
	missing := peerTools{cc: "/nonexistent/cc", goCmd: "/nonexistent/go", pythons: []string{"/nonexistent/python3"}}
	var table bytes.Buffer
	if err := peersRun(&table, nil, missing, tinyWork(), 1, false); err != nil {
		t.Fatal(err)
	}
	out := table.String()
	for _, want := range []string{
		"\n  c: no C compiler",
		"\n  numpy: no Python with numpy (/nonexistent/python3: not found)",
		"\n  torch: no Python with torch",
		"\n  torch-foreach: no Python with torch",
		"\n  torch-sparse: no Python with torch",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("no %q in:\n%s", strings.TrimSpace(want), out)
		}
	}
	if runtime.GOARCH == "amd64" && !strings.Contains(out, "\n  go-archsimd: no go command") {
		t.Errorf("go-archsimd not reported missing:\n%s", out)
	}
	if !strings.Contains(out, "go-loop") || !strings.Contains(out, "Peers/N=1000") {
		t.Errorf("the in-process peers did not run:\n%s", out)
	}

	failing := []peer{
		{name: "ours", local: goLoopDense},
		{name: "broken", argv: []string{"/bin/sh", "-c", "echo oops >&2; exit 3"}},
		{name: "silent", argv: []string{"/bin/sh", "-c", "true"}},
	}
	rep := runPeers(failing, tinyWork(), 2, nil)
	got := strings.Join(rep.skipped, "\n")
	for _, want := range []string{"broken: failed: exit status 3: oops", "silent: failed: 0 results, want 2"} {
		if !strings.Contains(got, want) {
			t.Errorf("skipped %q, want %q in it", got, want)
		}
	}
}
