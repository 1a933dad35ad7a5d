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

// ApplyRows is the sparse step of form f: for k = 0, 1, … in order, row k of g,
// g[k·dim:(k+1)·dim], updates row rows[k] of the tables x and s (numRows·dim
// elements each) exactly as Apply updates a dense slice. A row that appears twice
// is updated twice, in order, as TensorFlow's CPU kernel and FBGEMM do.
//
// It panics when dim ≤ 0, the lengths do not fit, two of x, s and g share memory
// or f is not valid, and returns an error when an index is outside [0, numRows);
// in every case before writing anything.
func ApplyRows[T Float, I Index](f Form, x, s []T, dim int, rows []I, g []T, p Params[T]) error {
	if err := checkRowCall("ref.ApplyRows", f, x, s, dim, rows, g, false); err != nil {
		return err
	}
	for k, r := range rows {
		lo := int(r) * dim
		Apply(f, x[lo:lo+dim], s[lo:lo+dim], g[k*dim:(k+1)*dim], p)
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

// RowWise is row-wise Adagrad of form f, with one accumulator per row (s has
// numRows elements). For k = 0, 1, … in order, with r = rows[k] and g' the
// gradient row after weight decay (as in Apply, per element):
//
//	q    = Σ g'ᵢ²  over the row, in the fixed order of SumSquares
//	m    = q / dim
//	s[r] = s[r] + m        (Decay form: Decay·s[r] + Gain·m)
//	d    = √(s[r] + eps)   or, with EpsOutside, √s[r] + eps
//	xᵢ   = xᵢ − step(lr, g'ᵢ, d)   in the form's order, as Apply
//
// FusedAccumulator makes each square-and-add of the sum one multiply-add. The Guard
// tests s[r] > 0. A repeated row is updated again, in order. It panics or returns an
// error, before writing anything, as ApplyRows does.
func RowWise[T Float, I Index](f Form, x, s []T, dim int, rows []I, g []T, p Params[T]) error {
	if err := checkRowCall("ref.RowWise", f, x, s, dim, rows, g, true); err != nil {
		return err
	}
	gw := make([]T, dim)
	for k, r := range rows {
		xr, gr := x[int(r)*dim:(int(r)+1)*dim], g[k*dim:(k+1)*dim]
		for i := range gw {
			gw[i] = gradient(f, p, xr[i], gr[i])
		}
		var k T
		s[r], k = RowScale(f, p, s[r], SumSquares(gw, f.FusedAccumulator), dim)
		for i, gi := range gw {
			xr[i] = xr[i] - rowStep(f, p, gi, k)
		}
	}
	return nil
}

// RowScale is the scalar middle of RowWise's step of one row: from the row's
// accumulator s and the sum q of its squared gradient (SumSquares after weight
// decay) it returns the new accumulator s' and the factor k that every element of
// the row then uses:
//
//	m  = q / dim,  s' = s + m   (Decay form: Decay·s + Gain·m),  d = the form's root of s'
//	k  = lr/d              DivMul:  x −= k·g'
//	k  = d                 MulDiv:  x −= (lr·g')/k
//	k  = 1/d               Recip:   x −= lr·(g'·k); with Guard k = 0 unless s' > 0
//	k  = 1/d               MulRecip: x −= (lr·g')·k
//	k  = d                 QuotMul: x −= (g'/k)·lr
//
// Each operation is rounded as in Apply, so k·g' is exactly Apply's (lr/d)·g'.
// The SIMD row-wise kernels compute q and the update of x; this part is scalar on
// every path. It panics when dim ≤ 0; the scalars are not checked.
func RowScale[T Float](f Form, p Params[T], s, q T, dim int) (T, T) {
	if dim <= 0 {
		badDim("ref.RowScale", dim)
	}
	m := q / T(dim)
	sr := s + m
	if f.Decay {
		sr = T(p.Decay*s) + T(p.Gain*m)
	}
	d := root(f, p, sr)
	switch f.Order {
	case MulDiv, QuotMul:
		return sr, d
	case Recip, MulRecip:
		if f.Guard && !(sr > 0) {
			return sr, 0
		}
		return sr, 1 / d
	}
	return sr, p.LR / d
}

// rowStep is what RowWise subtracts from an element with gradient g' (after
// weight decay), given the row's factor k from RowScale: step with the per-row
// part already done.
func rowStep[T Float](f Form, p Params[T], g, k T) T {
	switch f.Order {
	case MulDiv:
		return T(p.LR*g) / k
	case Recip:
		return T(p.LR * T(g*k))
	case MulRecip:
		return T(T(p.LR*g) * k)
	case QuotMul:
		return T((g / k) * p.LR)
	}
	return T(k * g)
}

// SumSquares is the sum of v[i]² in the fixed order every row-wise kernel follows:
// one partial sum per lane of a 64-byte vector (16 for float32, 8 for float64),
// lane j taking v[j], v[j+L], v[j+2L], … in turn (each square and each sum
// rounded, or one multiply-add each when fused), then a fixed tree, lane
// j += lane j+L/2 (j < L/2), then j+L/4, …, j+1. AVX-512 holds the lanes in one
// register, AVX2 in two and NEON in four, so every path adds in this order.
func SumSquares[T Float](v []T, fused bool) T {
	lanes := 8
	if isFloat32[T]() {
		lanes = 16
	}
	var acc [16]T
	for i, e := range v {
		switch {
		case fused && isFloat32[T]():
			acc[i%lanes] = T(FMA32(float32(e), float32(e), float32(acc[i%lanes])))
		case fused: // math.FMA spelled out: fma would be a call per element (see Apply)
			acc[i%lanes] = T(math.FMA(float64(e), float64(e), float64(acc[i%lanes])))
		default:
			acc[i%lanes] = acc[i%lanes] + T(e*e)
		}
	}
	for w := lanes / 2; w >= 1; w /= 2 {
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
