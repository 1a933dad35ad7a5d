package ref

import (
	"fmt"
	"math"
)

// Index is the type of a row index in the sparse updates.
type Index interface{ ~int32 | ~int64 }

// Float is the element type of every generic function of the library: float32
// or float64, the width chosen when the function is instantiated.
type Float interface{ float32 | float64 }

// IndexError is the error of a sparse step, or of CheckRows, given a row index
// outside its table. It is returned before anything is written. Use errors.As to
// read its fields.
type IndexError struct {
	Func    string // the call that found it, such as "kernel.ApplyRows"
	Offset  int    // where in rows the index is
	Index   int64  // the index
	NumRows int    // the table's rows: the valid indices are [0, NumRows)
}

func (e *IndexError) Error() string {
	return fmt.Sprintf("%s: index %d at offset %d out of range [0, %d)", e.Func, e.Index, e.Offset, e.NumRows)
}

// CheckRows returns an *IndexError naming the first index outside [0, numRows),
// or nil. The sparse updates call it before writing anything. It panics when
// numRows < 0.
func CheckRows[I Index](numRows int, rows []I) error {
	return checkRows("ref.CheckRows", numRows, rows)
}

// checkRows is CheckRows, the error naming fn.
func checkRows[I Index](fn string, numRows int, rows []I) error {
	if numRows < 0 {
		panic(fmt.Sprintf("%s: numRows = %d; it must be ≥ 0", fn, numRows))
	}
	for k, r := range rows {
		if r < 0 || int64(r) >= int64(numRows) {
			return &IndexError{Func: fn, Offset: k, Index: int64(r), NumRows: numRows}
		}
	}
	return nil
}

// checkRowCall panics, naming fn, unless x and s are tables of whole rows of dim
// elements (s of numRows for row-wise), g holds one row per index, no two of x, s
// and g share memory and f is valid; then it returns CheckRows's verdict on rows.
func checkRowCall[T Float, I Index](fn string, f Form, x, s []T, dim int, rows []I, g []T, rowWise bool) error {
	numRows := rowShape(fn, len(x), len(s), dim, len(rows), len(g), rowWise)
	if shares(x, s) || shares(x, g) || shares(s, g) {
		panic(fn + ": x, s and g must not share memory")
	}
	if err := f.Validate(); err != nil {
		panic(fn + ": " + err.Error())
	}
	return checkRows(fn, numRows, rows)
}

// rowShape panics, naming fn, unless x and s are tables of whole rows of dim
// elements (sLen: the accumulator's length, numRows·dim or numRows for row-wise)
// and g holds one row per index. It returns the number of rows.
func rowShape(fn string, xLen, sLen, dim, nIdx, gLen int, rowWise bool) int {
	if dim <= 0 {
		badDim(fn, dim)
	}
	if xLen%dim != 0 {
		panic(fmt.Sprintf("%s: len(x)=%d is not a multiple of dim=%d", fn, xLen, dim))
	}
	numRows := xLen / dim
	want := xLen
	if rowWise {
		want = numRows
	}
	if sLen != want {
		panic(fmt.Sprintf("%s: len(s)=%d, want %d for %d rows of %d", fn, sLen, want, numRows, dim))
	}
	if gLen%dim != 0 || gLen/dim != nIdx { // gLen != nIdx*dim, which could overflow
		panic(fmt.Sprintf("%s: len(g)=%d, want len(rows)·dim = %d·%d", fn, gLen, nIdx, dim))
	}
	return numRows
}

// ApplyRows32 is the sparse step of form f: for k = 0, 1, … in order, row k of g,
// g[k·dim:(k+1)·dim], updates row rows[k] of the tables x and s (numRows·dim
// elements each) exactly as Apply32 updates a dense slice. A row that appears twice
// is updated twice, in order, as TensorFlow's CPU kernel and FBGEMM do.
//
// It panics when dim ≤ 0, the lengths do not fit, two of x, s and g share memory
// or f is not valid, and returns an error when an index is outside [0, numRows);
// in every case before writing anything.
func ApplyRows32[I Index](f Form, x, s []float32, dim int, rows []I, g []float32, p Params32) error {
	if err := checkRowCall("ref.ApplyRows32", f, x, s, dim, rows, g, false); err != nil {
		return err
	}
	for k, r := range rows {
		lo := int(r) * dim
		Apply32(f, x[lo:lo+dim], s[lo:lo+dim], g[k*dim:(k+1)*dim], p)
	}
	return nil
}

// ApplyRows64 is ApplyRows32 for float64.
func ApplyRows64[I Index](f Form, x, s []float64, dim int, rows []I, g []float64, p Params64) error {
	if err := checkRowCall("ref.ApplyRows64", f, x, s, dim, rows, g, false); err != nil {
		return err
	}
	for k, r := range rows {
		lo := int(r) * dim
		Apply64(f, x[lo:lo+dim], s[lo:lo+dim], g[k*dim:(k+1)*dim], p)
	}
	return nil
}

// Coalesce sums the gradient rows of repeated indices, as PyTorch's coalesce and
// Keras do before a sparse step: it returns the distinct indices in order of first
// appearance and, for each, the sum of its gradient rows, added in order of
// appearance, ((g₁ + g₂) + g₃) + …, each sum rounded. rows and g are only read;
// the indices are not checked (see CheckRows). It panics when dim ≤ 0 or len(g)
// is not len(rows)·dim.
func Coalesce[T Float, I Index](dim int, rows []I, g []T) ([]I, []T) {
	if dim <= 0 {
		panic(fmt.Sprintf("ref.Coalesce: dim = %d; it must be > 0", dim))
	}
	if len(g)%dim != 0 || len(g)/dim != len(rows) {
		panic(fmt.Sprintf("ref.Coalesce: len(g)=%d, want len(rows)·dim = %d·%d", len(g), len(rows), dim))
	}
	var out []I
	var sums []T
	at := map[I]int{}
	for k, r := range rows {
		src := g[k*dim : (k+1)*dim]
		j, seen := at[r]
		if !seen {
			at[r] = len(out)
			out = append(out, r)
			sums = append(sums, src...)
			continue
		}
		dst := sums[j*dim : (j+1)*dim]
		for i := range dst {
			dst[i] += src[i]
		}
	}
	return out, sums
}

// RowWise32 is row-wise Adagrad of form f, with one accumulator per row (s has
// numRows elements). For k = 0, 1, … in order, with r = rows[k] and g' the
// gradient row after weight decay (as in Apply32, per element):
//
//	q    = Σ g'ᵢ²  over the row, in the fixed order of SumSquares32
//	m    = q / dim
//	s[r] = s[r] + m        (Decay form: Decay·s[r] + Gain·m)
//	d    = √(s[r] + eps)   or, with EpsOutside, √s[r] + eps
//	xᵢ   = xᵢ − step(lr, g'ᵢ, d)   in the form's order, as Apply32
//
// FusedAccumulator makes each square-and-add of the sum one multiply-add. The Guard
// tests s[r] > 0. A repeated row is updated again, in order. It panics or returns an
// error, before writing anything, as ApplyRows32 does.
func RowWise32[I Index](f Form, x, s []float32, dim int, rows []I, g []float32, p Params32) error {
	if err := checkRowCall("ref.RowWise32", f, x, s, dim, rows, g, true); err != nil {
		return err
	}
	gw := make([]float32, dim)
	for k, r := range rows {
		xr, gr := x[int(r)*dim:(int(r)+1)*dim], g[k*dim:(k+1)*dim]
		for i := range gw {
			gw[i] = f.gradient32(p, xr[i], gr[i])
		}
		var k float32
		s[r], k = RowScale32(f, p, s[r], SumSquares32(gw, f.FusedAccumulator), dim)
		for i, gi := range gw {
			xr[i] = xr[i] - f.rowStep32(p, gi, k)
		}
	}
	return nil
}

// RowScale32 is the scalar middle of RowWise32's step of one row: from the row's
// accumulator s and the sum q of its squared gradient (SumSquares32 after weight
// decay) it returns the new accumulator s' and the factor k that every element of
// the row then uses:
//
//	m  = q / dim,  s' = s + m   (Decay form: Decay·s + Gain·m),  d = the form's root of s'
//	k  = lr/d              DivMul:  x −= k·g'
//	k  = d                 MulDiv:  x −= (lr·g')/k
//	k  = 1/d               Recip:   x −= lr·(g'·k); with Guard k = 0 unless s' > 0
//
// Each operation is rounded as in Apply32, so k·g' is exactly Apply32's (lr/d)·g'.
// The SIMD row-wise kernels compute q and the update of x; this part is scalar on
// every path. It panics when dim ≤ 0; the scalars are not checked.
func RowScale32(f Form, p Params32, s, q float32, dim int) (float32, float32) {
	if dim <= 0 {
		badDim("ref.RowScale32", dim)
	}
	m := q / float32(dim)
	sr := s + m
	if f.Decay {
		sr = float32(p.Decay*s) + float32(p.Gain*m)
	}
	d := f.root32(p, sr)
	switch f.Order {
	case MulDiv:
		return sr, d
	case Recip:
		if f.Guard && !(sr > 0) {
			return sr, 0
		}
		return sr, 1 / d
	}
	return sr, p.LR / d
}

// rowStep32 is what RowWise32 subtracts from an element with gradient g' (after
// weight decay), given the row's factor k from RowScale32: step32 with the
// per-row part already done.
func (f Form) rowStep32(p Params32, g, k float32) float32 {
	switch f.Order {
	case MulDiv:
		return float32(p.LR*g) / k
	case Recip:
		return float32(p.LR * float32(g*k))
	}
	return float32(k * g)
}

// SumSquares32 is the sum of v[i]² in the fixed order every row-wise kernel follows:
// 16 partial sums, lane j taking v[j], v[j+16], v[j+32], … in turn (each square and
// each sum rounded, or one multiply-add each when fused), then a fixed tree,
// lane j += lane j+8 (j < 8), then j+4, j+2, j+1. AVX-512 holds the 16 lanes in one
// register, AVX2 in two and NEON in four, so every path adds in this order.
func SumSquares32(v []float32, fused bool) float32 {
	var acc [16]float32
	for i, e := range v {
		if fused {
			acc[i%16] = FMA32(e, e, acc[i%16])
		} else {
			acc[i%16] = acc[i%16] + float32(e*e)
		}
	}
	for w := 8; w >= 1; w /= 2 {
		for j := 0; j < w; j++ {
			acc[j] = acc[j] + acc[j+w]
		}
	}
	return acc[0]
}

// RowWise64 is RowWise32 for float64, with the order of SumSquares64.
func RowWise64[I Index](f Form, x, s []float64, dim int, rows []I, g []float64, p Params64) error {
	if err := checkRowCall("ref.RowWise64", f, x, s, dim, rows, g, true); err != nil {
		return err
	}
	gw := make([]float64, dim)
	for k, r := range rows {
		xr, gr := x[int(r)*dim:(int(r)+1)*dim], g[k*dim:(k+1)*dim]
		for i := range gw {
			gw[i] = f.gradient64(p, xr[i], gr[i])
		}
		var k float64
		s[r], k = RowScale64(f, p, s[r], SumSquares64(gw, f.FusedAccumulator), dim)
		for i, gi := range gw {
			xr[i] = xr[i] - f.rowStep64(p, gi, k)
		}
	}
	return nil
}

// RowScale64 is RowScale32 for float64.
func RowScale64(f Form, p Params64, s, q float64, dim int) (float64, float64) {
	if dim <= 0 {
		badDim("ref.RowScale64", dim)
	}
	m := q / float64(dim)
	sr := s + m
	if f.Decay {
		sr = float64(p.Decay*s) + float64(p.Gain*m)
	}
	d := f.root64(p, sr)
	switch f.Order {
	case MulDiv:
		return sr, d
	case Recip:
		if f.Guard && !(sr > 0) {
			return sr, 0
		}
		return sr, 1 / d
	}
	return sr, p.LR / d
}

// rowStep64 is rowStep32 for float64.
func (f Form) rowStep64(p Params64, g, k float64) float64 {
	switch f.Order {
	case MulDiv:
		return float64(p.LR*g) / k
	case Recip:
		return float64(p.LR * float64(g*k))
	}
	return float64(k * g)
}

// SumSquares64 is SumSquares32 for float64 with 8 partial sums (lane j takes v[j],
// v[j+8], …) and the tree j += j+4, then j+2, j+1: one AVX-512 register, two AVX2
// registers or four NEON registers.
func SumSquares64(v []float64, fused bool) float64 {
	var acc [8]float64
	for i, e := range v {
		if fused {
			acc[i%8] = math.FMA(e, e, acc[i%8])
		} else {
			acc[i%8] = acc[i%8] + float64(e*e)
		}
	}
	for w := 4; w >= 1; w /= 2 {
		for j := 0; j < w; j++ {
			acc[j] = acc[j] + acc[j+w]
		}
	}
	return acc[0]
}

// badDim panics with the message of a dim ≤ 0; out of line, as overlapPanic.
//
//go:noinline
func badDim(fn string, dim int) {
	panic(fmt.Sprintf("%s: dim = %d; it must be > 0", fn, dim))
}
