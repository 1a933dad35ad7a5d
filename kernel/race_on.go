//go:build race

package kernel

import (
	"runtime"
	"unsafe"
)

// raceAnnotated wraps every sparse-step kernel of ms so that it reports the memory
// it reads and writes to the race detector, which cannot see inside assembly:
// under -race a data race between a kernel and other code is then caught as it is
// in Go code (TestRaceSeesAssembly). Each wrapper states the kernel's contract: x
// and s (or dst) are read and written over len(x), the others only read. The
// dense kernels report theirs in the dispatch (raceReadWrite).
func raceAnnotated(ms []*impl) []*impl {
	for _, m := range ms {
		r := m.rows
		m.rows.kernel32 = func(f Form) func(x, s, g []float32, lr, eps, wd, decay, gain float32) {
			return raceApply(r.kernel32(f))
		}
		m.rows.kernel64 = func(f Form) func(x, s, g []float64, lr, eps, wd, decay, gain float64) {
			return raceApply(r.kernel64(f))
		}
		m.rows.add32, m.rows.add64 = raceAdd(r.add32), raceAdd(r.add64)
		if r.rowWise32 != nil {
			m.rows.rowWise32 = func(f Form) (func(x, g []float32, wd float32) float32, func(x, g []float32, lr, k, wd float32)) {
				return raceRowWise(r.rowWise32(f))
			}
			m.rows.rowWise64 = func(f Form) (func(x, g []float64, wd float64) float64, func(x, g []float64, lr, k, wd float64)) {
				return raceRowWise(r.rowWise64(f))
			}
		}
	}
	return ms
}

func raceApply[T Float](k func(x, s, g []T, lr, eps, wd, decay, gain T)) func(x, s, g []T, lr, eps, wd, decay, gain T) {
	if k == nil {
		return nil
	}
	return func(x, s, g []T, lr, eps, wd, decay, gain T) {
		raceReadWrite(x, s, g)
		k(x, s, g, lr, eps, wd, decay, gain)
	}
}

func raceAdd[T Float](add func(dst, a, b []T)) func(dst, a, b []T) {
	return func(dst, a, b []T) {
		raceRead(a, len(dst))
		raceRead(b, len(dst))
		raceWrite(dst, len(dst))
		add(dst, a, b)
	}
}

func raceRowWise[T Float](sum func(x, g []T, wd T) T, step func(x, g []T, lr, k, wd T)) (func(x, g []T, wd T) T, func(x, g []T, lr, k, wd T)) {
	return func(x, g []T, wd T) T {
			raceRead(x, len(g))
			raceRead(g, len(g))
			return sum(x, g, wd)
		}, func(x, g []T, lr, k, wd T) {
			raceWrite(x, len(g))
			raceRead(g, len(g))
			step(x, g, lr, k, wd)
		}
}

// raceReadWrite reports a dense kernel's accesses: x and s read and written over
// len(x), g read.
func raceReadWrite[T Float](x, s, g []T) {
	raceWrite(x, len(x))
	raceWrite(s, len(x))
	raceRead(g, len(x))
}

func raceRead[T Float](a []T, n int) {
	if n > 0 {
		runtime.RaceReadRange(unsafe.Pointer(unsafe.SliceData(a)), n*int(unsafe.Sizeof(a[0])))
	}
}

func raceWrite[T Float](a []T, n int) {
	if n > 0 {
		runtime.RaceWriteRange(unsafe.Pointer(unsafe.SliceData(a)), n*int(unsafe.Sizeof(a[0])))
	}
}
