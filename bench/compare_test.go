package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// compare -by kernel on a mix of real files: a `bench run` file (a.txt), the
// BenchmarkRows/RowWise output of go test, whose Rows names carry kernel= and
// its RowWise names impl= (rows.txt), a peers file, whose impl= values hold
// dashes (peers.txt), and PyTorch's sparse step with neither key (torch.txt,
// cut from ../benchmarks/rows-torch-1.13-amd-epyc.txt with its headers).
func TestCompareKernelMix(t *testing.T) {
	empty := filepath.Join(t.TempDir(), "empty.txt")
	if err := os.WriteFile(empty, []byte("goos: linux\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	files := []string{"testdata/a.txt", "testdata/torch.txt", "testdata/rows.txt", "testdata/peers.txt", empty}
	var out, note bytes.Buffer
	if err := compare(&out, &note, "kernel", files); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"testdata/a.txt, by impl: generic, avx2\n",
		"testdata/rows.txt, by impl: generic, avx2\n",
		"RowWise/dim=64/dist=zipf-2 ",
		"testdata/rows.txt, by kernel: step, parallel, traffic\n",
		"Rows/dim=64/dist=zipf/dup=coalesced/pages=4k-2 ",
		"testdata/peers.txt, by impl: adagrad-avx2, go-loop, c-gcc\n",
		"Peers/N=64-2 ",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("no %q in:\n%s", want, out.String())
		}
	}
	if strings.Contains(out.String(), "TorchRows") {
		t.Errorf("torch.txt compared by kernel:\n%s", out.String())
	}
	for _, want := range []string{
		"compare: testdata/torch.txt: skipped: none of its 8 results has impl= or kernel= in its name\n",
		"compare: " + empty + ": skipped: no benchmark results\n",
	} {
		if !strings.Contains(note.String(), want) {
			t.Errorf("no %q in the notes:\n%s", want, note.String())
		}
	}

	out.Reset()
	note.Reset()
	err := compare(&out, &note, "kernel", []string{"testdata/torch.txt", empty})
	if err == nil || !strings.Contains(err.Error(), "no file has impl= or kernel= in its benchmark names") {
		t.Errorf("files without either key: error %v, output:\n%s", err, out.String())
	}
}

// The committed results, every file at once, as `bench compare -by kernel
// benchmarks/*.txt` runs them: only the PyTorch file is skipped. The files are
// read where run and peers write by default, so moving them fails here.
func TestCompareKernelCommitted(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("..", resultsDir, "*.txt"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no committed results: %v", err)
	}
	var out, note bytes.Buffer
	if err := compare(&out, &note, "kernel", files); err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(strings.TrimSpace(note.String()), "\n") {
		if !strings.Contains(line, "rows-torch-") || !strings.Contains(line, "skipped") {
			t.Errorf("note %q", line)
		}
	}
}

// section returns the part of compare -by cpu's output from the line that
// starts with title to the next such title or the end.
func section(out, title string) string {
	i := strings.Index(out, "\n"+title)
	if i < 0 {
		return ""
	}
	s := out[i+1:]
	if j := strings.Index(s, "\neach CPU's widest path"); j > 0 && title != "each CPU's widest path" {
		s = s[:j]
	}
	return s
}

// writeFiltered writes the lines of the file src that keep accepts, changed by
// edit, to a file of the same name in dir.
func writeFiltered(t *testing.T, dir, src string, keep func(string) bool, edit func(string) string) string {
	data, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for _, line := range strings.SplitAfter(string(data), "\n") {
		if keep(line) {
			b.WriteString(edit(line))
		}
	}
	dst := filepath.Join(dir, filepath.Base(src))
	if err := os.WriteFile(dst, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return dst
}

// compare -by cpu on the AMD run (a.txt) and a cut of the Intel one
// (intel.txt: Update32 at 16 and 1K from ../benchmarks/intel-xeon-emr.txt),
// which has an avx512 path the AMD machine lacks.
func TestCompareCPUs(t *testing.T) {
	var out, note bytes.Buffer
	if err := compare(&out, &note, "cpu", []string{"testdata/a.txt", "testdata/intel.txt"}); err != nil {
		t.Fatal(err)
	}
	got := out.String()
	same, wide := section(got, "the same path on every CPU"), section(got, "each CPU's widest path")
	for _, want := range []string{"the same path on every CPU, the 4 benchmarks every file has:", "old = a, new = intel", "Update32/N=16/impl=generic ", "Update32/N=1K/impl=avx2 ", "n=3+6"} {
		if !strings.Contains(same, want) {
			t.Errorf("the same-path table lacks %q:\n%s", want, got)
		}
	}
	if strings.Contains(same, "avx512") || strings.Contains(same, "Update64") {
		t.Errorf("the same-path table has a benchmark one file lacks:\n%s", same)
	}
	for _, want := range []string{"each CPU's widest path (a avx2, intel avx512), the 2 benchmarks every file has on it:", "Update32/N=16 ", "Update32/N=1K "} {
		if !strings.Contains(wide, want) {
			t.Errorf("the widest-path table lacks %q:\n%s", want, got)
		}
	}
	for _, want := range []string{
		"compare: testdata/intel.txt: 2 benchmarks not in every file, left out of the same-path table (impl=avx512: 2)",
		"compare: testdata/a.txt: 18 benchmarks not in every file, left out",
	} {
		if !strings.Contains(note.String(), want) {
			t.Errorf("no %q in the notes:\n%s", want, note.String())
		}
	}
	if !strings.Contains(got, "intel: cpu Intel(R) Xeon(R) Processor; features SSE2 AVX AVX2 FMA3 AVX512F") {
		t.Errorf("the Intel file's configuration is not named:\n%s", got)
	}

	// The same-path table, geomean included, is what it would be if the Intel
	// file had no avx512 results at all.
	dir := t.TempDir()
	no512 := writeFiltered(t, dir, "testdata/intel.txt", func(l string) bool { return !strings.Contains(l, "impl=avx512") }, func(l string) string { return l })
	var out2 bytes.Buffer
	if err := compare(&out2, &note, "cpu", []string{"testdata/a.txt", no512}); err != nil {
		t.Fatal(err)
	}
	if s := section(out2.String(), "the same path on every CPU"); s != same {
		t.Errorf("the avx512 results changed the same-path table:\nwith them:\n%s\nwithout:\n%s", same, s)
	}
	if section(out2.String(), "each CPU's widest path") != "" {
		t.Errorf("a widest-path table for two files whose widest path is avx2:\n%s", out2.String())
	}

	// A machine with more cores: the names line up without the suffix.
	dir8 := t.TempDir()
	procs8 := writeFiltered(t, dir8, "testdata/intel.txt", func(string) bool { return true }, func(l string) string {
		return strings.Replace(l, "-2 ", "-8 ", 1)
	})
	var out8 bytes.Buffer
	note.Reset()
	if err := compare(&out8, &note, "cpu", []string{"testdata/a.txt", procs8}); err != nil {
		t.Fatal(err)
	}
	if s := section(out8.String(), "the same path on every CPU"); s != same {
		t.Errorf("GOMAXPROCS 8 changed the same-path table:\n%s", out8.String())
	}
	if !strings.Contains(note.String(), "different GOMAXPROCS (a -2; intel -8)") {
		t.Errorf("no note of the GOMAXPROCS:\n%s", note.String())
	}
}

// compare -by cpu skips the files it cannot compare, saying so, and fails only
// when fewer than two are left.
func TestCompareCPUsSkip(t *testing.T) {
	empty := filepath.Join(t.TempDir(), "empty.txt")
	if err := os.WriteFile(empty, []byte("goos: linux\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	var out, note bytes.Buffer
	if err := compare(&out, &note, "cpu", []string{"testdata/a.txt", "testdata/torch.txt", empty, "testdata/b.txt"}); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"compare: testdata/torch.txt: skipped: no other file has any of its benchmarks",
		"compare: " + empty + ": skipped: no benchmark results",
	} {
		if !strings.Contains(note.String(), want) {
			t.Errorf("no %q in the notes:\n%s", want, note.String())
		}
	}
	if !strings.Contains(out.String(), "old = a, new = b") || strings.Contains(out.String(), "Torch") {
		t.Errorf("not a against b alone:\n%s", out.String())
	}
	for _, files := range [][]string{{"testdata/a.txt", "testdata/torch.txt"}, {"testdata/a.txt", empty}} {
		out.Reset()
		if err := compare(&out, &note, "cpu", files); err == nil {
			t.Errorf("%v: no error; output:\n%s", files, out.String())
		} else {
			t.Logf("%v: %v", files, err)
		}
	}
}
