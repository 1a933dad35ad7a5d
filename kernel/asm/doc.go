// Package asm holds the generated assembly behind package kernel: AVX2 and AVX-512
// on amd64, NEON on arm64.
//
// Every non-test file here but this one is written by the generator in internal/gen;
// edit the generator and run `go generate ./...`, never the output. The tests check
// the output: an interpreter (internal/x86emu) runs the AVX-512 kernels this CPU may lack, and the
// hand-encoded NEON instructions are disassembled and compared with their comments. The functions do
// no checking of their own: they read len(x) elements of x, s and g and trust the
// caller (package kernel) to have checked lengths, overlap and CPU features. Use
// package kernel instead of calling them directly.
//
// The package is internal to kernel in all but its location: it carries no
// compatibility promise, and its names may change with any commit. It holds no
// exported mutable state, and the kernels of the forms are unexported: they are
// reached through generated entry points (Apply32AVX2(id, …), Update32AVX2 and
// the like) that call each kernel directly, and through read-only lookups
// (Apply32AVX2Kernel(id)) for the sparse steps. Every stub is //go:noescape, so
// slices passed to an entry point stay on the caller's stack. The kernels that
// are one of a kind (UpdateFast32AVX2, Add32AVX2, and the ceilings and traffic
// kernels the benchmarks time) are exported as they are.
// The files build with the gc toolchain only (gc && !purego); gccgo and purego
// builds use package ref through package kernel.
package asm

//go:generate go run -C ../../internal/gen . -all
