// Command fuzzall runs every fuzz target of the repository, one after the other,
// for the same -fuzztime each, and prints how many inputs each one ran and the
// total:
//
//	go run ./internal/fuzzall -fuzztime 10m
//	go run ./internal/fuzzall -corpus   # copy what the fuzzer kept into testdata/fuzz
//
// The targets are found with `go test -list` in every module under the current
// directory (the library, trainer, bench, the generator: each go.mod), so a new
// one is fuzzed without being listed anywhere, in whichever module it is. A timed
// run that ends in Go's "context deadline exceeded" with no failing input counts
// as passed, and says so: that is the fuzzing coordinator's race at the end of a
// timed run (go.dev/issue/75804), not a failure of the code under test.
package main

import (
	"bufio"
	"bytes"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

func main() {
	fuzztime := flag.String("fuzztime", "1m", "go test -fuzztime for each target: a duration or a count like 30000x")
	corpus := flag.Bool("corpus", false, "instead of fuzzing, copy the inputs the fuzzer kept (in GOCACHE) into each package's testdata/fuzz")
	run := flag.String("run", ".", "fuzz only the targets whose names match this regexp")
	flag.Parse()
	targets, err := listTargets(regexp.MustCompile(*run))
	if err != nil {
		fmt.Fprintln(os.Stderr, "fuzzall:", err)
		os.Exit(1)
	}
	if *corpus {
		if err := copyCorpus(targets); err != nil {
			fmt.Fprintln(os.Stderr, "fuzzall:", err)
			os.Exit(1)
		}
		return
	}
	total, failed := int64(0), false
	var summary bytes.Buffer
	for _, t := range targets {
		execs, status, err := fuzz(t, *fuzztime)
		total += execs
		if err != nil {
			status, failed = "FAIL: "+err.Error(), true
		}
		fmt.Fprintf(&summary, "%-40s %14d  %s\n", t.pkg+" "+t.name, execs, status)
	}
	fmt.Printf("\n%-40s %14s\n%s%-40s %14d\n", "target", "inputs", summary.String(), "total", total)
	if failed {
		os.Exit(1)
	}
}

// target is one fuzz function, the package directory and import path it is in,
// and the directory of its module, where go test runs it.
type target struct{ pkg, dir, importPath, name, module string }

// modules are the directories under root that hold a go.mod, root first. They
// are found, not listed, so that a module added later is fuzzed too. A
// directory that the go command ignores (testdata, or a name starting with . or
// _) is skipped, as its modules are no part of this one.
func modules(root string) ([]string, error) {
	var dirs []string
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && path != root && (d.Name() == "testdata" || strings.HasPrefix(d.Name(), ".") || strings.HasPrefix(d.Name(), "_")) {
			return filepath.SkipDir
		}
		if !d.IsDir() && d.Name() == "go.mod" {
			dirs = append(dirs, filepath.Dir(path))
		}
		return nil
	})
	slices.Sort(dirs) // a parent before the modules inside it
	return dirs, err
}

// listTargets asks go test for the fuzz targets of every package of every module
// under the current directory. Each module's go command runs in the module's
// own directory, where ./... is its packages and no nested module's.
func listTargets(match *regexp.Regexp) ([]target, error) {
	root := mustGetwd()
	mods, err := modules(root)
	if err != nil {
		return nil, err
	}
	var targets []target
	for _, mod := range mods {
		list := exec.Command("go", "list", "-f", "{{.ImportPath}} {{.Dir}}", "./...")
		list.Dir = mod
		out, err := list.Output()
		if err != nil {
			return nil, fmt.Errorf("go list in %s: %w", mod, err)
		}
		for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
			importPath, dir, _ := strings.Cut(line, " ")
			if importPath == "" { // a module without packages
				continue
			}
			test := exec.Command("go", "test", "-list", "^Fuzz", importPath)
			test.Dir = mod
			names, err := test.Output()
			if err != nil {
				return nil, fmt.Errorf("go test -list %s: %w", importPath, err)
			}
			rel, _ := filepath.Rel(root, dir)
			pkg := "./" + filepath.ToSlash(rel)
			if rel == "." {
				pkg = "."
			}
			for _, name := range strings.Fields(string(names)) {
				if strings.HasPrefix(name, "Fuzz") && match.MatchString(name) {
					targets = append(targets, target{pkg: pkg, dir: dir, importPath: importPath, name: name, module: mod})
				}
			}
		}
	}
	return targets, nil
}

var execsRE = regexp.MustCompile(`execs: (\d+)`)

// fuzz runs one target, echoing its output, and returns how many inputs it ran and
// a note for the summary. A timed run that ends in Go's "context deadline exceeded"
// with no failing input is not a failure: it ran its whole time, and the error is
// the fuzzing coordinator's race at the deadline (go.dev/issue/75804). Running it
// again would only repeat that time.
func fuzz(t target, fuzztime string) (int64, string, error) {
	fmt.Printf("=== %s %s (-fuzztime %s)\n", t.pkg, t.name, fuzztime)
	cmd := exec.Command("go", "test", "-run", "^$", "-fuzz", "^"+t.name+"$", "-fuzztime", fuzztime, t.importPath)
	cmd.Dir = t.module
	var out bytes.Buffer
	pipe, err := cmd.StdoutPipe()
	if err != nil {
		return 0, "", err
	}
	cmd.Stderr = cmd.Stdout
	if err := cmd.Start(); err != nil {
		return 0, "", err
	}
	execs := int64(0)
	sc := bufio.NewScanner(io.TeeReader(pipe, &out))
	for sc.Scan() {
		fmt.Println(sc.Text())
		if m := execsRE.FindStringSubmatch(sc.Text()); m != nil {
			execs, _ = strconv.ParseInt(m[1], 10, 64)
		}
	}
	err = cmd.Wait()
	if err != nil && strings.Contains(out.String(), "context deadline exceeded") && !strings.Contains(out.String(), "Failing input written to") {
		return execs, "ok (ended in Go's deadline race, go.dev/issue/75804; no failing input)", nil
	}
	return execs, "ok", err
}

// copyCorpus copies each target's cached inputs into its package's testdata/fuzz,
// where go test runs them as seeds.
func copyCorpus(targets []target) error {
	cache, err := exec.Command("go", "env", "GOCACHE").Output()
	if err != nil {
		return err
	}
	for _, t := range targets {
		src := filepath.Join(strings.TrimSpace(string(cache)), "fuzz", t.importPath, t.name)
		dst := filepath.Join(t.dir, "testdata", "fuzz", t.name)
		entries, err := os.ReadDir(src)
		if os.IsNotExist(err) {
			fmt.Printf("%s %s: nothing cached (fuzz it first)\n", t.pkg, t.name)
			continue
		} else if err != nil {
			return err
		}
		if err := os.MkdirAll(dst, 0o755); err != nil {
			return err
		}
		for _, e := range entries {
			b, err := os.ReadFile(filepath.Join(src, e.Name()))
			if err != nil {
				return err
			}
			if err := os.WriteFile(filepath.Join(dst, e.Name()), b, 0o644); err != nil {
				return err
			}
		}
		fmt.Printf("%s %s: %d inputs in %s\n", t.pkg, t.name, len(entries), dst)
	}
	return nil
}

func mustGetwd() string {
	wd, err := os.Getwd()
	if err != nil {
		panic(err)
	}
	return wd
}
