package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"golang.org/x/perf/benchfmt"
	"golang.org/x/perf/benchstat"
)

// compare prints benchstat tables: by "kernel", for each file, one column per
// implementation (the impl= part of the names, or kernel= in a file without
// impl=); by "cpu", one column per file. A file with nothing to compare on is
// skipped with a line on note; it is an error only when no file is left.
func compare(w, note io.Writer, by string, files []string) error {
	switch by {
	case "cpu":
		return compareCPUs(w, note, files)
	case "kernel":
		return compareKernels(w, note, files)
	}
	return fmt.Errorf("compare: -by %q; want kernel or cpu", by)
}

// compareKernels prints each file's implementations side by side, one file
// after another: two files' columns would share rows only when the files are
// runs of the same benchmarks, and comparing those is -by cpu's job. The
// results of a file that have no impl= are compared by kernel=: BenchmarkRows
// runs on one implementation and names what it compares kernel= (step,
// parallel, traffic), beside BenchmarkRowWise's impl= in the same file.
func compareKernels(w, note io.Writer, files []string) error {
	printed := 0
	for _, name := range files {
		results, err := readResults(name)
		if err != nil {
			return err
		}
		type section struct {
			key  string
			cols []keyed
		}
		var sections []section
		rest := results
		for _, key := range []string{"impl", "kernel"} {
			var cols []keyed
			if cols, rest = splitByKey(rest, key); len(cols) > 0 {
				sections = append(sections, section{key, cols})
			}
		}
		switch {
		case len(results) == 0:
			fmt.Fprintf(note, "compare: %s: skipped: no benchmark results\n", name)
			continue
		case len(sections) == 0:
			fmt.Fprintf(note, "compare: %s: skipped: none of its %d results has impl= or kernel= in its name\n", name, len(results))
			continue
		}
		if len(rest) > 0 {
			fmt.Fprintf(note, "compare: %s: %d results with neither impl= nor kernel= left out\n", name, len(rest))
		}
		for _, sec := range sections {
			if printed > 0 {
				fmt.Fprintln(w)
			}
			var labels []string
			for _, c := range sec.cols {
				labels = append(labels, c.label)
			}
			fmt.Fprintf(w, "%s, by %s: %s\n\n", name, sec.key, strings.Join(labels, ", "))
			printTables(w, sec.cols)
			printed++
		}
	}
	if printed == 0 {
		return fmt.Errorf("compare -by kernel: no file has impl= or kernel= in its benchmark names (%s)", strings.Join(files, ", "))
	}
	return nil
}

// keyed is one column of a table: results by benchmark name, in the order the
// names first appear.
type keyed struct {
	label string
	order []string
	by    map[string][]*benchfmt.Result
}

// add appends a copy of r, renamed name, to the column.
func (k *keyed) add(name string, r *benchfmt.Result) {
	if k.by == nil {
		k.by = map[string][]*benchfmt.Result{}
	}
	if k.by[name] == nil {
		k.order = append(k.order, name)
	}
	r = r.Clone()
	r.Name = benchfmt.Name(name)
	k.by[name] = append(k.by[name], r)
}

// splitByKey returns a column per value of key=, in order of appearance, each
// with the names stripped of their key= part so that one benchmark on two
// values lines up in one row; and the results without key=.
func splitByKey(results []*benchfmt.Result, key string) (cols []keyed, without []*benchfmt.Result) {
	index := map[string]int{}
	for _, r := range results {
		v, rest, ok := cutKey(string(r.Name), key)
		if !ok {
			without = append(without, r)
			continue
		}
		i, ok := index[v]
		if !ok {
			i = len(cols)
			index[v] = i
			cols = append(cols, keyed{label: v})
		}
		cols[i].add(rest, r)
	}
	return cols, without
}

// cutKey finds the key=value part of a benchmark name ("Update32/N=16/impl=avx2-2")
// and returns the value ("avx2"; a value may hold dashes: "adagrad-avx2") and
// the name without that part ("Update32/N=16-2").
func cutKey(name, key string) (value, rest string, ok bool) {
	base := procsSuffix.ReplaceAllString(name, "")
	procs := name[len(base):]
	parts := strings.Split(base, "/")
	for i := 1; i < len(parts); i++ {
		if v, found := strings.CutPrefix(parts[i], key+"="); found {
			kept := append(slices.Clip(parts[:i]), parts[i+1:]...)
			return v, strings.Join(kept, "/") + procs, true
		}
	}
	return "", name, false
}

// widths ranks the kernel paths as the dispatch does, narrowest first; the
// paths of a `bench run` file are these names.
var widths = map[string]int{"generic": 0, "avx2": 1, "neon": 1, "avx512": 2}

// compareCPUs prints the files side by side: first the benchmarks every file
// has, the same path on each machine; then, when the files' widest paths
// differ, each machine's widest path against the others'. A table holds only
// what every file has, so that each column's geomean is over the same
// benchmarks: benchstat hides a row that one of two columns lacks but still
// counts it in the other column's geomean.
func compareCPUs(w, note io.Writer, files []string) error {
	type file struct {
		path, label, cpu string
		results          []*benchfmt.Result
		same             keyed    // by name, without the GOMAXPROCS suffix when strip
		procs            []string // the distinct suffixes, "-2"
		widest           string
	}
	var fs []*file
	for _, name := range files {
		results, err := readResults(name)
		if err != nil {
			return err
		}
		if len(results) == 0 {
			fmt.Fprintf(note, "compare: %s: skipped: no benchmark results\n", name)
			continue
		}
		f := &file{path: name, label: strings.TrimSuffix(filepath.Base(name), ".txt"), results: results}
		f.cpu = fmt.Sprintf("cpu %s; features %s; commit %s", orNone(results[0].GetConfig("cpu")),
			orNone(results[0].GetConfig("features")), orNone(results[0].GetConfig("commit")))
		for _, r := range results {
			full := string(r.Name)
			if p := full[len(procsSuffix.ReplaceAllString(full, "")):]; !slices.Contains(f.procs, p) {
				f.procs = append(f.procs, p)
			}
		}
		fs = append(fs, f)
	}
	// Each file's one GOMAXPROCS suffix is dropped, so that machines with other
	// core counts line up; a file run at several (go test -cpu) keeps them, or
	// its runs at different counts would merge.
	strip := !slices.ContainsFunc(fs, func(f *file) bool { return len(f.procs) > 1 })
	for _, f := range fs {
		for _, r := range f.results {
			name := string(r.Name)
			if strip {
				name = procsSuffix.ReplaceAllString(name, "")
			}
			f.same.add(name, r)
			if v, _, ok := cutKey(name, "impl"); ok {
				if rank, known := widths[v]; known && (f.widest == "" || rank > widths[f.widest]) {
					f.widest = v
				}
			}
		}
	}
	if len(fs) < 2 {
		return fmt.Errorf("compare -by cpu needs two or more files with benchmark results; %d of %s have any", len(fs), strings.Join(files, ", "))
	}
	// A file that shares no benchmark with any other (another program's results)
	// would empty every table, which holds only what all files have.
	var shared []*file
	var kept []string
	for i, f := range fs {
		found := false
		for j, g := range fs {
			if i != j && slices.ContainsFunc(f.same.order, func(name string) bool { return g.same.by[name] != nil }) {
				found = true
				break
			}
		}
		if !found {
			fmt.Fprintf(note, "compare: %s: skipped: no other file has any of its benchmarks\n", f.path)
			continue
		}
		shared = append(shared, f)
		kept = append(kept, f.path)
	}
	if fs = shared; len(fs) < 2 {
		return errors.New("compare -by cpu: no two files have a benchmark in common")
	}
	seen := map[string]bool{}
	for _, f := range fs {
		if seen[f.label] { // two machines' files of one name in different directories
			for _, g := range fs {
				g.label = strings.TrimSuffix(g.path, ".txt")
			}
			break
		}
		seen[f.label] = true
	}
	var procs []string
	differ := false
	for _, f := range fs {
		procs = append(procs, f.label+" "+strings.Join(f.procs, " "))
		differ = differ || !slices.Equal(f.procs, fs[0].procs)
	}
	if differ {
		fmt.Fprintf(note, "compare: the files ran with different GOMAXPROCS (%s)\n", strings.Join(procs, "; "))
	}

	same := make([]keyed, len(fs))
	for i, f := range fs {
		same[i] = f.same
		same[i].label = f.label
	}
	same, left := intersect(same)
	for i, f := range fs {
		if len(left[i]) > 0 {
			fmt.Fprintf(note, "compare: %s: %d benchmarks not in every file, left out of the same-path table (%s)\n", f.path, len(left[i]), summarize(left[i]))
		}
	}

	var wide []keyed
	var ws []string
	widestDiffer := false
	for _, f := range fs {
		widestDiffer = widestDiffer || f.widest != fs[0].widest
		ws = append(ws, f.label+" "+orNone(f.widest))
	}
	if widestDiffer && !slices.ContainsFunc(fs, func(f *file) bool { return f.widest == "" }) {
		for _, f := range fs {
			k := keyed{label: f.label}
			for _, name := range f.same.order {
				if v, rest, ok := cutKey(name, "impl"); ok && v == f.widest {
					for _, r := range f.same.by[name] {
						k.add(rest, r)
					}
				}
			}
			wide = append(wide, k)
		}
		wide, _ = intersect(wide)
	}
	if len(same[0].order) == 0 && (len(wide) == 0 || len(wide[0].order) == 0) {
		return fmt.Errorf("compare -by cpu: the files have no benchmark in common (%s)", strings.Join(kept, ", "))
	}

	for _, f := range fs {
		fmt.Fprintf(w, "%s: %s\n", f.label, f.cpu)
	}
	if n := len(same[0].order); n > 0 {
		fmt.Fprintf(w, "\nthe same path on every CPU, the %d benchmarks every file has:\n\n", n)
		printTables(w, same)
	}
	if len(wide) > 0 && len(wide[0].order) > 0 {
		fmt.Fprintf(w, "\neach CPU's widest path (%s), the %d benchmarks every file has on it:\n\n", strings.Join(ws, ", "), len(wide[0].order))
		printTables(w, wide)
	}
	return nil
}

// intersect keeps, in every column, the names every column has, in the first
// column's order, and returns by column the names it dropped.
func intersect(cols []keyed) ([]keyed, [][]string) {
	count := map[string]int{}
	for _, c := range cols {
		for _, name := range c.order {
			count[name]++
		}
	}
	out := make([]keyed, len(cols))
	left := make([][]string, len(cols))
	for i, c := range cols {
		out[i] = keyed{label: c.label, by: map[string][]*benchfmt.Result{}}
		for _, name := range c.order {
			if count[name] < len(cols) {
				left[i] = append(left[i], name)
			}
		}
	}
	for _, name := range cols[0].order {
		if count[name] < len(cols) {
			continue
		}
		for i, c := range cols {
			out[i].order = append(out[i].order, name)
			out[i].by[name] = c.by[name]
		}
	}
	return out, left
}

// summarize describes a list of benchmark names briefly: how many carry each
// impl= value, or the first names when they carry none.
func summarize(names []string) string {
	count := map[string]int{}
	var order, plain []string
	for _, name := range names {
		v, _, ok := cutKey(name, "impl")
		if !ok {
			plain = append(plain, name)
			continue
		}
		if count[v] == 0 {
			order = append(order, v)
		}
		count[v]++
	}
	var parts []string
	for _, v := range order {
		parts = append(parts, fmt.Sprintf("impl=%s: %d", v, count[v]))
	}
	if len(plain) > 0 {
		shown := plain[:min(len(plain), 3)]
		more := ""
		if len(plain) > len(shown) {
			more = fmt.Sprintf(" and %d more", len(plain)-len(shown))
		}
		parts = append(parts, strings.Join(shown, ", ")+more)
	}
	return strings.Join(parts, "; ")
}

func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}

// printTables prints benchstat's tables of the columns, with the old and new
// labels spelled out when there are two.
func printTables(w io.Writer, cols []keyed) {
	c := &benchstat.Collection{Alpha: 0.05, AddGeoMean: true, DeltaTest: benchstat.UTest}
	for _, col := range cols {
		var buf bytes.Buffer
		bw := benchfmt.NewWriter(&buf)
		for _, name := range col.order {
			for _, r := range col.by[name] {
				if err := bw.Write(r); err != nil {
					panic(err) // a bytes.Buffer does not fail
				}
			}
		}
		c.AddConfig(col.label, buf.Bytes())
	}
	if len(cols) == 2 {
		// benchstat labels two columns old and new.
		fmt.Fprintf(w, "old = %s, new = %s\n\n", cols[0].label, cols[1].label)
	}
	benchstat.FormatText(w, c.Tables())
}

// readResults reads every result of a benchmark file, with the values in the
// units written rather than benchfmt's normalized ones (ns/op, not sec/op).
func readResults(name string) ([]*benchfmt.Result, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []*benchfmt.Result
	r := benchfmt.NewReader(f, name)
	for r.Scan() {
		res, ok := r.Result().(*benchfmt.Result)
		if !ok {
			continue // syntax errors and unit metadata
		}
		res = res.Clone()
		for i := range res.Values {
			if res.Values[i].OrigUnit != "" {
				res.Values[i].Value, res.Values[i].Unit = res.Values[i].OrigValue, res.Values[i].OrigUnit
			}
		}
		out = append(out, res)
	}
	return out, r.Err()
}

// compareCmd defines `bench compare`'s flags on fs and returns the command.
func compareCmd(fs *flag.FlagSet) func() error {
	by := fs.String("by", "kernel", "`kernel|cpu` columns: kernel, each file's implementations (impl=, or its kernel= values when it has no impl=); cpu, one file against another")
	return func() error {
		if fs.NArg() == 0 {
			return errors.New("compare: name one or more benchmark files")
		}
		return compare(stdout, os.Stderr, *by, fs.Args())
	}
}
