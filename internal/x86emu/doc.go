// Package x86emu interprets the subset of Go's amd64 assembly (Plan 9 syntax)
// that the generated AVX2 and AVX-512 kernels of kernel/asm use, so that their
// tests can run AVX-512 code on CPUs without AVX-512 and prove that no kernel
// reads or writes a byte outside the slices it is given.
//
// The interpreter is deliberately strict: Parse checks every instruction and
// operand form of a file, including code no test reaches, and anything it does
// not model is an error rather than a guess. That includes encodability: an
// instruction that has no VEX encoding cannot name a Z register, K0 cannot be a
// write mask, and EVEX forms need Z registers, since AVX512VL is not modeled.
//
// Run calls one function on a sparse address space in which the slices x, s and
// g, each read-only table of the file, the argument frame and the function's
// local stack frame are separate islands far apart, so that a single byte read
// or written outside a slice, a store to read-only data, or a read of the stack
// before it was stored is reported with the instruction that did it. Registers
// and the stack start with garbage, as on hardware, so that a read of something
// the code never set shows in its results.
//
// Each lane operation is one IEEE 754 operation in Go, rounded to nearest even
// without flushing denormals to zero, as Go computes on every architecture, so
// that results are the hardware's on any host. The exception is the payload and
// sign of a NaN, which follow the host's arithmetic: compare NaNs as NaN or not.
// The estimate instructions (VRSQRTPS, VRCPPS, VRSQRT14PS/PD, VRCP14PS/PD),
// whose bits the vendors do not specify, are computed by the Models given to Run.
//
// Under a write mask, an EVEX instruction reads from memory only the lanes the
// mask selects, as the hardware does: it suppresses faults on the others, so a
// masked tail may take any source from memory without reading past a slice.
package x86emu
