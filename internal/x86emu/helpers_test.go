package x86emu

import (
	"fmt"
	"math/big"
	"regexp"
	"strings"
	"testing"

	"github.com/adagrad-go/adagrad/internal/fbits"
)

// kernel is the source of a function k of the kernels' signature,
// func(x, s, g []T, a, b T), after data: a prologue that loads the addresses of
// x, s and g into AX, CX and DX and the length into BX, then body. frame is the
// local frame's size, args the Go argument frame's: 80 for float32, 88 for
// float64.
func kernel(data string, frame, args int, body string) string {
	return fmt.Sprintf(`#include "textflag.h"

%s
TEXT ·k(SB), NOSPLIT, $%d-%d
	MOVQ x_base+0(FP), AX
	MOVQ s_base+24(FP), CX
	MOVQ g_base+48(FP), DX
	MOVQ x_len+8(FP), BX
%s`, data, frame, args, body)
}

// argsSize is the size of k's argument frame for T.
func argsSize[T float32 | float64]() int { return 72 + 2*sizeOf[T]() }

// mustParse parses src as test.s.
func mustParse(t *testing.T, src string) *Program {
	t.Helper()
	p, err := Parse("test.s", src)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// call runs k of src on x, s and g, with a and b as its scalars.
func call[T float32 | float64](t *testing.T, src string, x, s, g []T, a, b T, c Config) error {
	t.Helper()
	return Run(mustParse(t, src), "k", []string{"a", "b"}, x, s, g, []T{a, b}, c)
}

// wantErr fails unless err is an error whose text contains want.
func wantErr(t *testing.T, err error, want string) {
	t.Helper()
	if err == nil {
		t.Fatalf("no error, want one containing %q", want)
	}
	if !strings.Contains(err.Error(), want) {
		t.Fatalf("error %q, want one containing %q", err, want)
	}
}

func same[T float32 | float64](t *testing.T, what string, got, want []T) {
	t.Helper()
	for i := range want {
		if !fbits.Same(got[i], want[i]) {
			t.Fatalf("%s[%d] = %v (%#x), want %v (%#x)", what, i, got[i], fbits.Bits(got[i]), want[i], fbits.Bits(want[i]))
		}
	}
}

// The expected results of arithmetic are computed with math/big, rounded once
// to T's precision, so that they do not share the interpreter's arithmetic.

func precision[T float32 | float64]() uint {
	if sizeOf[T]() == 4 {
		return 24
	}
	return 53
}

func big0[T float32 | float64]() *big.Float { return new(big.Float).SetPrec(precision[T]()) }

func exact[T float32 | float64](v T) *big.Float { return new(big.Float).SetFloat64(float64(v)) }

func toT[T float32 | float64](z *big.Float) T {
	if sizeOf[T]() == 4 {
		f, _ := z.Float32()
		return T(f)
	}
	f, _ := z.Float64()
	return T(f)
}

// fmaExact is a·b + c rounded once to T.
func fmaExact[T float32 | float64](a, b, c T) T {
	p := new(big.Float).SetPrec(2*precision[T]()).Mul(exact(a), exact(b))
	return toT[T](big0[T]().Add(p, exact(c)))
}

func clone[T any](v []T) []T { return append([]T(nil), v...) }

var suffixRE = regexp.MustCompile(`([PS])X\b`)

// suffixed replaces the PX and SX that end a mnemonic in src with T's packed and
// scalar suffixes, PS and SS or PD and SD, and leaves VPXORD alone.
func suffixed[T float32 | float64](src string) string {
	if sizeOf[T]() == 4 {
		return suffixRE.ReplaceAllString(src, "${1}S")
	}
	return suffixRE.ReplaceAllString(src, "${1}D")
}
