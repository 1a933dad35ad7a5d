package main

import (
	"bytes"
	"flag"
	"go/parser"
	"go/token"
	"slices"
	"strings"
	"testing"

	"github.com/adagrad-go/adagrad/internal/synopsis"
)

// definedFlags is c's flag set, its flags defined and nothing parsed.
func definedFlags(c command) *flag.FlagSet {
	fs := flag.NewFlagSet(c.name, flag.ContinueOnError)
	c.define(fs)
	return fs
}

// bench's usage has a line per command, and each line names every flag the
// command defines, with its default: `plot -limit-time 20ms` was the usage for
// a default of 50ms.
func TestUsageMatchesFlags(t *testing.T) {
	u := usage()
	for _, c := range commands {
		fs := definedFlags(c)
		var line string
		for _, l := range strings.Split(u, "\n") {
			if f := strings.Fields(l); len(f) > 0 && f[0] == c.name {
				line = l
			}
		}
		if line == "" {
			t.Errorf("no line for %s in:\n%s", c.name, u)
			continue
		}
		n := 0
		fs.VisitAll(func(f *flag.Flag) {
			n++
			if !strings.Contains(line, "[-"+f.Name+" ") && !strings.Contains(line, "[-"+f.Name+"]") {
				t.Errorf("%s: -%s is not on %q", c.name, f.Name, line)
			}
			if name, _ := flag.UnquoteUsage(f); !strings.Contains(f.Usage, "`") && f.DefValue != "" && !strings.Contains(line, "[-"+f.Name+" "+f.DefValue+"]") {
				t.Errorf("%s: -%s's default %s (%s) is not on %q", c.name, f.Name, f.DefValue, name, line)
			}
		})
		if got := strings.Count(line, "[-"); got != n {
			t.Errorf("%s: %d flags on %q, %d defined", c.name, got, line, n)
		}
	}
	if !strings.Contains(u, "plot    [-limit-time 50ms] [-o out] FILE\n") {
		t.Errorf("plot's line is not derived from its flags:\n%s", u)
	}
}

// The package comment shows each command as the usage does.
func TestDocMatchesUsage(t *testing.T) {
	f, err := parser.ParseFile(token.NewFileSet(), "main.go", nil, parser.ParseComments|parser.PackageClauseOnly)
	if err != nil {
		t.Fatal(err)
	}
	var doc []string
	for _, l := range strings.Split(f.Doc.Text(), "\n") {
		if l, ok := strings.CutPrefix(strings.TrimSpace(l), "go run ./bench "); ok {
			doc = append(doc, l)
		}
	}
	var want []string
	for _, c := range commands {
		want = append(want, synopsis.Line(c.name, definedFlags(c), c.operands))
	}
	if !slices.Equal(doc, want) {
		t.Errorf("main.go's comment shows\n\t%s\nthe flags say\n\t%s", strings.Join(doc, "\n\t"), strings.Join(want, "\n\t"))
	}
}

// A flag of another command, a stray operand, an unknown command or none are
// usage errors (status 2) that print the right usage; -h is not an error.
func TestUsageErrors(t *testing.T) {
	plot, _ := lookup("plot")
	plotUsage := "usage: bench " + synopsis.Line(plot.name, definedFlags(plot), plot.operands) + "\n"
	for _, tc := range []struct {
		args []string
		code int
		want []string
	}{
		{[]string{"plot", "-count", "3", "a.txt"}, 2, []string{"flag provided but not defined: -count", plotUsage, "-limit-time duration"}},
		{[]string{"plot", "-h"}, 0, []string{plotUsage}},
		{[]string{"sweep", "16K"}, 2, []string{`bench sweep: unexpected argument "16K"`, "usage: bench sweep [-sizes "}},
		{[]string{"profile"}, 2, []string{`bench: no command "profile"`, usage()}},
		{nil, 2, []string{usage()}},
	} {
		var stderr bytes.Buffer
		if code := bench(tc.args, &stderr); code != tc.code {
			t.Errorf("bench %q: status %d, want %d", tc.args, code, tc.code)
		}
		for _, w := range tc.want {
			if !strings.Contains(stderr.String(), w) {
				t.Errorf("bench %q: no %q in:\n%s", tc.args, w, stderr.String())
			}
		}
	}
}

// A measuring time of zero is refused before anything runs.
func TestZeroTime(t *testing.T) {
	var stderr bytes.Buffer
	if code := bench([]string{"limits", "-time", "0"}, &stderr); code != 1 || !strings.Contains(stderr.String(), "-time 0s: want a positive duration") {
		t.Errorf("limits -time 0: status %d, %q", code, stderr.String())
	}
}
