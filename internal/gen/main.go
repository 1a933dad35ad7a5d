// Command gen writes the amd64 assembly of package kernel/asm with Avo.
//
// It is its own module, so that Avo is never a dependency of the library. Run it
// through `go generate ./...` (or `make generate`) at the root of the repository;
// the output is committed and must not drift from what this program writes.
//
// Every kernel is derived from a ref.Form, the same value that defines the
// reference, so one description of each variant drives the specification, the
// assembly and the dispatch tables:
//
//	gen -isa avx2 -out apply_avx2_amd64.s -stubs apply_avx2_amd64.go -pkg asm
//	gen -table forms_amd64.go
//	gen -isa avx2 -rows -out rows_avx2_amd64.s -stubs rows_avx2_amd64.go -pkg asm
//	gen -isa avx2 -limits -out limits_avx2_amd64.s -stubs limits_avx2_amd64.go -pkg asm
//	gen -isa avx2 -fast -out fast_avx2_amd64.s -stubs fast_avx2_amd64.go -pkg asm
//	gen -isa avx512 -fast -out fast_avx512_amd64.s -stubs fast_avx512_amd64.go -pkg asm
//	gen -prefetch -out prefetch_amd64.s -stubs prefetch_amd64.go -pkg asm
//	gen -neon-asm apply_neon_arm64.s -neon-stubs apply_neon_arm64.go -neon-table forms_arm64.go
package main

import (
	"flag"
	"fmt"
	"os"

	. "github.com/mmcloughlin/avo/build"

	"github.com/adagrad-go/adagrad/ref"
)

func main() {
	isaName := flag.String("isa", "", "vector extension to emit: avx2 or avx512")
	table := flag.String("table", "", "write the Go table of kernels by form to `file` instead")
	prefetchOnly := flag.Bool("prefetch", false, "emit the prefetch helper instead of kernels")
	rows := flag.Bool("rows", false, "emit the sparse-row kernels of -isa (avx2 only) instead of Apply")
	limits := flag.Bool("limits", false, "emit the compute-ceiling kernels of -isa instead of Apply")
	fast := flag.Bool("fast", false, "emit the fast approximate mode's kernels of -isa instead of Apply")
	neonAsm := flag.String("neon-asm", "", "write the arm64 NEON kernels to `file` (with -neon-stubs) instead")
	neonStubs := flag.String("neon-stubs", "", "write the Go declarations of the NEON kernels to `file`")
	neonTab := flag.String("neon-table", "", "write the Go table of NEON kernels by form to `file` instead")
	flag.Parse()
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
	for _, e := range []elem{f32, f64} {
		for _, f := range ref.Forms() {
			generate(apply(f, e, v), e, v)
		}
		generate(traffic(e, v), e, v)
	}
	Generate()
}
