package main

import (
	"bytes"
	"errors"
	"flag"
	"go/parser"
	"go/token"
	"slices"
	"strings"
	"testing"

	"github.com/adagrad-go/adagrad/internal/synopsis"
)

// usageLine is the usage line that parseArgs prints for cmd.
func usageLine(t *testing.T, cmd string) string {
	t.Helper()
	fs := flag.NewFlagSet(cmd, flag.ContinueOnError)
	if !defineFlags(fs, cmd, new(options)) {
		t.Fatalf("%s is not a command", cmd)
	}
	return "usage: trainer " + synopsis.Line(cmd, fs, "") + "\n"
}

// Each command takes its own flags: one meant for another command is a usage
// error naming the flags this one has, where it used to be accepted and ignored
// (quadratic -preset keras ran quadratic).
func TestCommandFlags(t *testing.T) {
	for _, tc := range []struct {
		args    []string
		rejects string   // the flag named in the error, "" when the line is accepted
		flags   []string // the flags the usage line must name, when rejected
	}{
		{[]string{"quadratic", "-preset", "keras"}, "-preset", []string{"[-lr 0.4]", "[-out out]"}},
		{[]string{"quadratic", "-seed", "2"}, "-seed", []string{"[-lr 0.4]", "[-out out]"}},
		{[]string{"sparse", "-data", "x.dat"}, "-data", []string{"[-out out]", "[-seed 1]"}},
		{[]string{"sparse", "-lr", "2"}, "-lr", []string{"[-out out]", "[-seed 1]"}},
		{[]string{"all", "-lr", "2"}, "-lr", []string{"[-data PATH]", "[-fetch]", "[-synthetic]", "[-preset d2l|pytorch|keras|optax|tf|gorgonia|spago]", "[-seed 1]"}},
		{[]string{"regression", "-lr", "2"}, "-lr", []string{"[-data PATH]", "[-fetch]", "[-synthetic]", "[-preset d2l|pytorch|keras|optax|tf|gorgonia|spago]", "[-seed 1]"}},
		{[]string{"quadratic", "-lr", "2", "-out", "d"}, "", nil},
		{[]string{"regression", "-preset", "keras", "-seed", "3", "-fetch"}, "", nil},
		{[]string{"sparse", "-seed", "4"}, "", nil},
		{[]string{"regression", "-synthetic"}, "", nil},
		{[]string{"all", "-data", "x.dat", "-preset", "tf"}, "", nil},
	} {
		var stderr bytes.Buffer
		_, _, err := parseArgs(tc.args, &stderr)
		if tc.rejects == "" {
			if err != nil {
				t.Errorf("%q: %v\n%s", tc.args, err, stderr.String())
			}
			continue
		}
		if !errors.Is(err, errUsage) {
			t.Errorf("%q: error %v, want a usage error", tc.args, err)
		}
		out := stderr.String()
		if !strings.Contains(out, "flag provided but not defined: "+tc.rejects+"\n") {
			t.Errorf("%q: the error does not name %s:\n%s", tc.args, tc.rejects, out)
		}
		line := usageLine(t, tc.args[0])
		if !strings.Contains(out, line) {
			t.Errorf("%q: no %q in:\n%s", tc.args, line, out)
		}
		for _, f := range tc.flags {
			if !strings.Contains(line, f) {
				t.Errorf("%q: the usage %q does not name %s", tc.args, line, f)
			}
		}
		if strings.Contains(line, "["+tc.rejects+" ") || strings.Contains(line, "["+tc.rejects+"]") {
			t.Errorf("%q: the usage %q names the flag it rejects", tc.args, line)
		}
	}
}

// The values parsed are the ones given, and the defaults the usage shows.
func TestCommandValues(t *testing.T) {
	cmd, o, err := parseArgs([]string{"regression", "-preset", "keras", "-seed", "3", "-data", "a.dat"}, new(bytes.Buffer))
	if err != nil || cmd != "regression" || o.preset != "keras" || o.seed != 3 || o.data != "a.dat" || o.fetch || o.out != "out" {
		t.Errorf("regression: %q %+v %v", cmd, o, err)
	}
	cmd, o, err = parseArgs([]string{"quadratic"}, new(bytes.Buffer))
	if err != nil || cmd != "quadratic" || o.lr != 0.4 || o.out != "out" {
		t.Errorf("quadratic: %q %+v %v", cmd, o, err)
	}
	cmd, o, err = parseArgs([]string{"all"}, new(bytes.Buffer))
	if err != nil || cmd != "all" || o.preset != "pytorch" || o.seed != 1 {
		t.Errorf("all: %q %+v %v", cmd, o, err)
	}
}

// No command, an unknown one or a stray operand are usage errors; -h prints the
// command's usage and is not one.
func TestUsageErrors(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want []string
		err  error
	}{
		{nil, []string{usage()}, errUsage},
		{[]string{"train"}, []string{`trainer: no command "train"`, usage()}, errUsage},
		{[]string{"sparse", "extra"}, []string{`trainer sparse: unexpected argument "extra"`, usageLine(t, "sparse")}, errUsage},
		{[]string{"quadratic", "-h"}, []string{usageLine(t, "quadratic"), "-lr float\n"}, flag.ErrHelp},
	} {
		var stderr bytes.Buffer
		if _, _, err := parseArgs(tc.args, &stderr); !errors.Is(err, tc.err) {
			t.Errorf("%q: error %v, want %v", tc.args, err, tc.err)
		}
		for _, w := range tc.want {
			if !strings.Contains(stderr.String(), w) {
				t.Errorf("%q: no %q in:\n%s", tc.args, w, stderr.String())
			}
		}
	}
	lines := strings.Split(usage(), "\n")
	for _, c := range commands {
		want := strings.Fields(strings.TrimPrefix(usageLine(t, c), "usage: trainer "))
		if !slices.ContainsFunc(lines, func(l string) bool { return slices.Equal(strings.Fields(l), want) }) {
			t.Errorf("the usage lacks %q:\n%s", strings.Join(want, " "), usage())
		}
	}
}

// The package comment shows each command as its usage does.
func TestDocMatchesUsage(t *testing.T) {
	f, err := parser.ParseFile(token.NewFileSet(), "main.go", nil, parser.ParseComments|parser.PackageClauseOnly)
	if err != nil {
		t.Fatal(err)
	}
	var doc, want []string
	for _, l := range strings.Split(f.Doc.Text(), "\n") {
		if l, ok := strings.CutPrefix(strings.TrimSpace(l), "go run ./trainer "); ok {
			doc = append(doc, "usage: trainer "+l+"\n")
		}
	}
	for _, c := range commands {
		want = append(want, usageLine(t, c))
	}
	if !slices.Equal(doc, want) {
		t.Errorf("main.go's comment shows\n%s\nthe flags say\n%s", strings.Join(doc, ""), strings.Join(want, ""))
	}
}
