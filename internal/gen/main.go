// Command gen writes the amd64 assembly of package kernel/asm with Avo.
//
// It is its own module, so that Avo is never a dependency of the library. Run it
// through `go generate ./...` (or `make generate`) at the root of the repository;
// the output is committed and must not drift from what this program writes.
package main

import (
	. "github.com/mmcloughlin/avo/build"
)

func main() {
	ConstraintExpr("!purego")
	declareMasks()
	for _, k := range []kernel{update, traffic} {
		for _, v := range []isa{avx2, avx512} {
			for _, e := range []elem{f32, f64} {
				generate(k, e, v)
			}
		}
	}
	Generate()
}
