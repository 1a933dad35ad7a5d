// Command gen writes the assembly of package kernel/asm: amd64 with Avo, arm64 as
// text.
//
// It is its own module, so that Avo is never a dependency of the library. Run it
// through `go generate ./...` (or `make generate`) at the root of the repository;
// the output is committed and must not drift from what this program writes.
//
// Every kernel is derived from a ref.Form, the same value that defines the
// reference, and the math of each form is written once (stages.go), rendered for
// amd64 by Avo and for arm64 as text, so one description of each variant drives
// the specification, the assembly and the dispatch tables.
//
//	gen -all    # every file of kernel/asm, each by one run of the modes below
//
// The modes exist because Avo keeps the program of one output file in a global
// context, so each Avo file needs a process of its own: -all runs this program
// once per entry of jobs. The Go tables and the NEON files need no Avo but go
// through the same list, so that any one file can be written alone:
//
//	gen -isa avx2 -out apply_avx2_amd64.s -stubs apply_avx2_amd64.go -pkg asm
//	gen -isa avx2 -rows|-limits|-fast -out … -stubs … -pkg asm
//	gen -prefetch -out prefetch_amd64.s -stubs prefetch_amd64.go -pkg asm
//	gen -table forms_amd64.go
//	gen -neon-asm apply_neon_arm64.s -neon-stubs apply_neon_arm64.go -neon-table forms_arm64.go
package main

import (
	"flag"
	"fmt"
	"os"
	"os/exec"
	"strings"

	. "github.com/mmcloughlin/avo/build"

	"github.com/adagrad-go/adagrad/ref"
)

// out is where -all writes, relative to this directory (go generate runs the
// generator with -C internal/gen).
const out = "../../kernel/asm/"

// jobs are the runs of -all: for each Avo output, its flags.
var jobs = func() [][]string {
	var js [][]string
	avo := func(name string, mode ...string) {
		js = append(js, append(mode, "-out", out+name+".s", "-stubs", out+name+".go", "-pkg", "asm"))
	}
	avo("apply_avx2_amd64", "-isa", "avx2")
	avo("apply_avx512_amd64", "-isa", "avx512")
	avo("rows_avx2_amd64", "-isa", "avx2", "-rows")
	avo("limits_avx2_amd64", "-isa", "avx2", "-limits")
	avo("limits_avx512_amd64", "-isa", "avx512", "-limits")
	avo("fast_avx2_amd64", "-isa", "avx2", "-fast")
	avo("fast_avx512_amd64", "-isa", "avx512", "-fast")
	avo("prefetch_amd64", "-prefetch")
	js = append(js, []string{"-table", out + "forms_amd64.go"})
	js = append(js, []string{"-neon-asm", out + "apply_neon_arm64.s", "-neon-stubs", out + "apply_neon_arm64.go", "-neon-table", out + "forms_arm64.go"})
	js = append(js, []string{"-generic", genericFile})
	return js
}()

// all runs every job with this program.
func all() error {
	self, err := os.Executable()
	if err != nil {
		return err
	}
	for _, args := range jobs {
		cmd := exec.Command(self, args...)
		cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
		if err := cmd.Run(); err != nil {
			return fmt.Errorf("gen %s: %w", strings.Join(args, " "), err)
		}
	}
	return nil
}

func main() {
	everything := flag.Bool("all", false, "write every file of kernel/asm (the jobs list), one run each")
	isaName := flag.String("isa", "", "vector extension to emit: avx2 or avx512")
	table := flag.String("table", "", "write the Go table of kernels by form to `file` instead")
	prefetchOnly := flag.Bool("prefetch", false, "emit the prefetch helper instead of kernels")
	rows := flag.Bool("rows", false, "emit the sparse-row kernels of -isa (avx2 only) instead of Apply")
	limits := flag.Bool("limits", false, "emit the compute-ceiling kernels of -isa instead of Apply")
	fast := flag.Bool("fast", false, "emit the fast approximate mode's kernels of -isa instead of Apply")
	neonAsm := flag.String("neon-asm", "", "write the arm64 NEON kernels to `file` (with -neon-stubs) instead")
	neonStubs := flag.String("neon-stubs", "", "write the Go declarations of the NEON kernels to `file`")
	neonTab := flag.String("neon-table", "", "write the Go table of NEON kernels by form to `file` instead")
	generic := flag.String("generic", "", "write the generic path's Go loops by form (kernel/apply_generic.go) to `file` instead")
	flag.Parse()
	if *everything {
		if err := all(); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		return
	}
	if *neonAsm != "" || *neonTab != "" {
		var err error
		if *neonAsm != "" {
			asm, stubs := neonFile()
			err = os.WriteFile(*neonAsm, asm, 0o644)
			if err == nil {
				err = os.WriteFile(*neonStubs, stubs, 0o644)
			}
		}
		if err == nil && *neonTab != "" {
			err = os.WriteFile(*neonTab, neonTable(), 0o644)
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		return
	}
	if *generic != "" {
		writeGeneric(*generic)
		return
	}
	if *prefetchOnly {
		ConstraintExpr("gc,!purego")
		prefetch()
		Generate()
		return
	}
	if *table != "" {
		if err := os.WriteFile(*table, formTable(), 0o644); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		return
	}
	var v isa
	switch *isaName {
	case "avx2":
		v = avx2
	case "avx512":
		v = avx512
	default:
		fmt.Fprintln(os.Stderr, "gen: -isa must be avx2 or avx512")
		os.Exit(2)
	}
	ConstraintExpr("gc,!purego")
	if *rows {
		if v.name != "AVX2" {
			fmt.Fprintln(os.Stderr, "gen: -rows is avx2 only")
			os.Exit(2)
		}
		rowKernels(v)
		Generate()
		return
	}
	if *fast {
		fastKernels(v)
		Generate()
		return
	}
	if *limits {
		limitKernels(v)
		Generate()
		return
	}
	declareData()
	if splitOf(v, f32) != "" || splitOf(v, f64) != "" {
		declareHybrid(v, splitOf(v, f64) != "")
	}
	for _, e := range []elem{f32, f64} {
		for _, f := range ref.Forms() {
			generate(apply(f, e, v), e, v)
			if formSplit(f, e, v) != "" {
				generate(hybridApply(f, e, v), e, v)
			}
		}
		generate(traffic(e, v), e, v)
	}
	Generate()
}
