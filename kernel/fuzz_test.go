package kernel

import (
	"errors"
	"fmt"
	"testing"
	"unsafe"

	"github.com/adagrad-go/adagrad/internal/fbits"
	"github.com/adagrad-go/adagrad/ref"
)

// fuzzUpdate compares every implementation this CPU runs with the reference on
// inputs decoded from arbitrary bytes: a length (past every loop and tail of the
// widest kernel), start offsets, the bit patterns of lr and eps, and element bit
// patterns taken cyclically from data.
func fuzzUpdate[T float](f *testing.F) {
	f.Add(uint16(37), uint8(3), uint64(0x3dcccccd3fb99999), uint64(0x358637bd3eb0c6f7), []byte{0x40, 0x49, 0x0f, 0xdb, 0x80, 0, 0, 0})
	f.Add(uint16(513), uint8(0xf1), uint64(0), uint64(0), []byte{0x7f, 0x80, 0, 0, 0xff, 0xc0, 0, 1, 0, 0, 0, 1})
	f.Add(uint16(8), uint8(0), uint64(0xbf000000bfe00000), uint64(1), []byte{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16})
	f.Fuzz(func(t *testing.T, n uint16, off uint8, lrBits, epsBits uint64, data []byte) {
		var zero T
		size := int(unsafe.Sizeof(zero))
		length := int(n) % 1100
		lr, eps := fbits.FromBits[T](lrBits), fbits.FromBits[T](epsBits)
		next := 0
		element := func() T {
			var b uint64
			for i := 0; i < size && len(data) > 0; i++ {
				b = b<<8 | uint64(data[next%len(data)])
				next++
			}
			return fbits.FromBits[T](b)
		}
		in := make([][]T, 3)
		for i := range in {
			in[i] = make([]T, length)
			for j := range in[i] {
				in[i][j] = element()
			}
		}
		wantX, wantS := append([]T(nil), in[0]...), append([]T(nil), in[1]...)
		refUpdate(wantX, wantS, append([]T(nil), in[2]...), lr, eps)

		for _, m := range impls {
			if !m.supported() {
				continue
			}
			x, s, g := newGuarded[T](length, int(off%16)), newGuarded[T](length, int(off/16)), newGuarded[T](length, int(off%7))
			copy(x.data, in[0])
			copy(s.data, in[1])
			copy(g.data, in[2])
			implUpdate(m, x.data, s.data, g.data, lr, eps)
			what := fmt.Sprintf("%s n=%d lr=%v eps=%v", m.name, length, lr, eps)
			verify(t, what, x, s, g, wantX, wantS, in[2])
		}
	})
}

func FuzzUpdate32(f *testing.F) { fuzzUpdate[float32](f) }
func FuzzUpdate64(f *testing.F) { fuzzUpdate[float64](f) }

// fuzzApply is fuzzUpdate for every form: the form's ID, a length, offsets, and
// bytes that give the five scalars (lr, eps, wd, decay, gain) and then the elements,
// cyclically.
func fuzzApply[T float](f *testing.F) {
	f.Add(uint8(0), uint16(37), uint8(3), []byte{0x3d, 0xcc, 0xcc, 0xcd, 0x35, 0x86, 0x37, 0xbd, 1, 2, 3})
	f.Add(uint8(17), uint16(300), uint8(0x52), []byte{0x7f, 0xc0, 0, 0, 0, 0, 0, 0, 0x80, 0, 0, 0})
	f.Add(uint8(0x6e), uint16(9), uint8(0xff), []byte{0x3f, 0x80, 0, 0, 0xbf, 0, 0, 0, 0x3f, 0x66, 0x66, 0x66})
	forms := ref.Forms()
	f.Fuzz(func(t *testing.T, formIndex uint8, n uint16, off uint8, data []byte) {
		form := forms[int(formIndex)%len(forms)]
		var zero T
		size := int(unsafe.Sizeof(zero))
		next := 0
		element := func() T {
			var b uint64
			for i := 0; i < size && len(data) > 0; i++ {
				b = b<<8 | uint64(data[next%len(data)])
				next++
			}
			return fbits.FromBits[T](b)
		}
		p := params{lr: float64(element()), eps: float64(element()), wd: float64(element()), decay: float64(element()), gain: float64(element())}
		length := int(n) % 1100
		in := make([][]T, 3)
		for i := range in {
			in[i] = make([]T, length)
			for j := range in[i] {
				in[i][j] = element()
			}
		}
		wantX, wantS := append([]T(nil), in[0]...), append([]T(nil), in[1]...)
		refApply(form, wantX, wantS, append([]T(nil), in[2]...), p)
		for _, m := range impls {
			if !m.supported() {
				continue
			}
			x, s, g := newGuarded[T](length, int(off%16)), newGuarded[T](length, int(off/16)), newGuarded[T](length, int(off%5))
			copy(x.data, in[0])
			copy(s.data, in[1])
			copy(g.data, in[2])
			implApply(m, form, x.data, s.data, g.data, p)
			what := fmt.Sprintf("%s %v n=%d %+v", m.name, form, length, p)
			verify(t, what, x, s, g, wantX, wantS, in[2])
		}
	})
}

func FuzzApply32(f *testing.F) { fuzzApply[float32](f) }
func FuzzApply64(f *testing.F) { fuzzApply[float64](f) }

// FuzzUpdateRows compares the sparse steps (ApplyRows in either mode, and RowWise)
// of every implementation with the reference: table shape, duplicates mode and form from the fuzzer, index bytes that
// may repeat rows or fall outside the table (then both must return the same error
// and write nothing), and element bit patterns from data.
func FuzzUpdateRows(f *testing.F) {
	f.Add(uint8(5), uint8(3), uint8(0), []byte{0, 4, 4, 2}, []byte{0x3f, 0x80, 0, 0, 0xbf, 0xc0, 0, 0})
	f.Add(uint8(1), uint8(17), uint8(0x81), []byte{0, 0, 0}, []byte{1, 2, 3, 4, 5, 6, 7, 8, 9})
	f.Add(uint8(9), uint8(1), uint8(0x42), []byte{8, 9, 0xff}, []byte{0x7f, 0xc0, 0, 0})
	forms := ref.Forms()
	f.Fuzz(func(t *testing.T, numRows, dim uint8, mode uint8, idx, data []byte) {
		nr, d := int(numRows%12)+1, int(dim%70)+1
		form := forms[int(mode&0x7f)%len(forms)]
		dup := DuplicatesInOrder
		if mode&0x80 != 0 {
			dup = DuplicatesSummed
		}
		rows := make([]int32, len(idx)%40)
		for k := range rows {
			rows[k] = int32(int8(idx[k])) // negative and too-large indices included
		}
		next := 0
		element := func() float32 {
			var b uint32
			for i := 0; i < 4 && len(data) > 0; i++ {
				b = b<<8 | uint32(data[next%len(data)])
				next++
			}
			return fbits.FromBits[float32](uint64(b))
		}
		p := params{lr: float64(element()), eps: float64(element()), wd: float64(element()), decay: float64(element()), gain: float64(element())}
		x0, s0, g := make([]float32, nr*d), make([]float32, nr*d), make([]float32, len(rows)*d)
		for _, v := range [][]float32{x0, s0, g} {
			for i := range v {
				v[i] = element()
			}
		}
		wantX, wantS := append([]float32(nil), x0...), append([]float32(nil), s0...)
		wantErr := refRows(form, dup, wantX, wantS, d, rows, append([]float32(nil), g...), p)
		wantRowX, wantRowS := append([]float32(nil), x0...), append([]float32(nil), s0[:nr]...)
		wantRowErr := ref.RowWise(form, wantRowX, wantRowS, d, rows, append([]float32(nil), g...), paramsIn[float32](p))
		saved := Implementation()
		defer Use(saved)
		for _, name := range Implementations() {
			if err := Use(name); err != nil {
				t.Fatal(err)
			}
			x, s := append([]float32(nil), x0...), append([]float32(nil), s0...)
			err := kernelRows(form, dup, x, s, d, rows, g, p, nil, 0)
			if !sameIndexError(err, wantErr) {
				t.Fatalf("%s: error %v, ref %v", name, err, wantErr)
			}
			what := fmt.Sprintf("%s %v dup=%d dim=%d rows=%v", name, form, dup, d, rows)
			if !checkSame(t, what+" s", s, wantS) || !checkSame(t, what+" x", x, wantX) {
				t.FailNow()
			}
			// Row-wise on the same inputs, the first numRows of s as the accumulators.
			x, s = append([]float32(nil), x0...), append([]float32(nil), s0[:nr]...)
			err = RowWise(form, x, s, d, rows, g, paramsIn[float32](p))
			if !sameIndexError(err, wantRowErr) {
				t.Fatalf("%s RowWise: error %v, ref %v", name, err, wantRowErr)
			}
			if !checkSame(t, what+" RowWise s", s, wantRowS) || !checkSame(t, what+" RowWise x", x, wantRowX) {
				t.FailNow()
			}
		}
	})
}

// sameIndexError reports whether a and b are both nil or both an *IndexError of
// the same index, offset and table, whichever call each names.
func sameIndexError(a, b error) bool {
	var ea, eb *IndexError
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	if !errors.As(a, &ea) || !errors.As(b, &eb) {
		return false
	}
	return ea.Index == eb.Index && ea.Offset == eb.Offset && ea.NumRows == eb.NumRows
}
