package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/perf/benchfmt"
	"golang.org/x/perf/benchstat"
)

// compare prints benchstat tables: by "cpu", one column per file; by "kernel",
// one column per implementation (the impl= part of the names) of each file.
func compare(w io.Writer, by string, files []string) error {
	c := &benchstat.Collection{Alpha: 0.05, AddGeoMean: true, DeltaTest: benchstat.UTest}
	switch by {
	case "cpu":
		if len(files) < 2 {
			return errors.New("compare -by cpu needs two or more files")
		}
		for _, name := range files {
			data, err := os.ReadFile(name)
			if err != nil {
				return err
			}
			c.AddConfig(strings.TrimSuffix(filepath.Base(name), ".txt"), data)
		}
	case "kernel":
		for _, name := range files {
			byImpl, order, err := splitByImpl(name)
			if err != nil {
				return err
			}
			for _, impl := range order {
				label := impl
				if len(files) > 1 {
					label = strings.TrimSuffix(filepath.Base(name), ".txt") + ":" + impl
				}
				c.AddConfig(label, byImpl[impl])
			}
		}
	default:
		return fmt.Errorf("compare: -by %q; want kernel or cpu", by)
	}
	tables := c.Tables()
	if len(tables) == 0 {
		return errors.New("compare: no benchmark results in the input")
	}
	if len(c.Configs) == 2 {
		// benchstat labels two columns old and new.
		fmt.Fprintf(w, "old = %s, new = %s\n\n", c.Configs[0], c.Configs[1])
	}
	benchstat.FormatText(w, tables)
	return nil
}

// splitByImpl reads a benchmark file and returns, for each implementation, its
// results in the standard format with the impl= part removed from the names, so
// that the same benchmark on two implementations lines up in one row.
func splitByImpl(name string) (map[string][]byte, []string, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	bufs := map[string]*bytes.Buffer{}
	writers := map[string]*benchfmt.Writer{}
	var order []string
	r := benchfmt.NewReader(f, name)
	for r.Scan() {
		res, ok := r.Result().(*benchfmt.Result)
		if !ok {
			continue // syntax errors and unit metadata
		}
		full := string(res.Name)
		impl, rest := "", full
		if i := strings.Index(full, "/impl="); i >= 0 {
			j := i + len("/impl=")
			k := j
			for k < len(full) && full[k] != '/' && full[k] != '-' {
				k++
			}
			impl, rest = full[j:k], full[:i]+full[k:]
		}
		if impl == "" {
			continue
		}
		if bufs[impl] == nil {
			bufs[impl] = new(bytes.Buffer)
			writers[impl] = benchfmt.NewWriter(bufs[impl])
			order = append(order, impl)
		}
		out := res.Clone()
		out.Name = benchfmt.Name(rest)
		// Report the values as written, not benchfmt's normalized units.
		for i := range out.Values {
			if out.Values[i].OrigUnit != "" {
				out.Values[i].Value, out.Values[i].Unit = out.Values[i].OrigValue, out.Values[i].OrigUnit
			}
		}
		if err := writers[impl].Write(out); err != nil {
			return nil, nil, err
		}
	}
	if err := r.Err(); err != nil {
		return nil, nil, err
	}
	if len(order) == 0 {
		return nil, nil, fmt.Errorf("%s: no benchmark names with impl=", name)
	}
	data := map[string][]byte{}
	for impl, b := range bufs {
		data[impl] = b.Bytes()
	}
	return data, order, nil
}

// compareCmd is `bench compare`.
func compareCmd(args []string) error {
	fs := newFlags("compare")
	by := fs.String("by", "kernel", "columns: kernel (the implementations within each file) or cpu (one file against another)")
	fs.Parse(args)
	if fs.NArg() == 0 {
		return errors.New("compare: name one or more benchmark files")
	}
	return compare(os.Stdout, *by, fs.Args())
}
