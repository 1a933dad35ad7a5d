// Package asm holds the generated assembly behind package kernel: AVX2 and AVX-512
// on amd64, NEON on arm64.
//
// Every non-test file here but this one is written by the generator in internal/gen;
// edit the generator and run `go generate ./...`, never the output. The tests check
// the output: an emulator runs the AVX-512 kernels this CPU may lack, and the
// hand-encoded NEON instructions are disassembled and compared with their comments. The functions do
// no checking of their own: they read len(x) elements of x, s and g and trust the
// caller (package kernel) to have checked lengths, overlap and CPU features. Use
// package kernel instead of calling them directly.
//
// The package is internal to kernel in all but its location: it carries no
// compatibility promise, and its names may change with any commit. It holds no
// exported mutable state: the kernels of every form are reached through
// generated entry points (Apply32AVX2(id, …) and the like) that call each kernel
// directly, and through read-only lookups (Apply32AVX2Kernel(id)). Every stub is
// //go:noescape, so slices passed to an entry point stay on the caller's stack.
// The files build with the gc toolchain only (gc && !purego); gccgo and purego
// builds use package ref through package kernel.
package asm

//go:generate go run -C ../../internal/gen . -all
