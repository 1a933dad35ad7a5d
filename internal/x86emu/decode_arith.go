package x86emu

import "math"

// decodeArith decodes the lane arithmetic of ops.go, the compares and the
// estimates.
func decodeArith(_ *Func, op, sh string, a []operand) func(*machine) error {
	switch {
	// The first source of the arithmetic below ("VMULPS a, b, c": a) may be a
	// register or a whole vector in memory, unaligned: VEX and EVEX both allow it.
	case binaryOps[op] != nil && (sh == "vvv" || sh == "mvv") && sameWidth(a...):
		fn, y := binaryOps[op], a[1].reg
		return lanewise(a[0], a[2], elemSize(op), func(m *machine, xv []byte, i, size int) uint64 {
			return fn(lane(m.vec[y][:], i, size), lane(xv, i, size))
		})

	case bitOps[op] != nil && (sh == "vvv" || sh == "mvv") && sameWidth(a...):
		fn, y := bitOps[op], a[1].reg
		return lanewise(a[0], a[2], 8, func(m *machine, xv []byte, i, size int) uint64 {
			return fn(lane(m.vec[y][:], i, size), lane(xv, i, size))
		})

	case fmaOps[op] != nil && (sh == "vvv" || sh == "mvv") && sameWidth(a...):
		fn, y, d := fmaOps[op], a[1].reg, a[2].reg
		return lanewise(a[0], a[2], elemSize(op), func(m *machine, xv []byte, i, size int) uint64 {
			return fn(lane(m.vec[d][:], i, size), lane(m.vec[y][:], i, size), lane(xv, i, size))
		})

	// VCMPPS $imm, src2, src1, dst: all-ones lanes where the predicate holds (VEX), or
	// the bits of a K register (EVEX), whose bits beyond the lanes are cleared.
	case (op == "VCMPPS" || op == "VCMPPD") && (sh == "ivvv" || sh == "imvv" || sh == "ivvk" || sh == "imvk") &&
		sameWidth(a[1:]...) && a[0].imm >= 0 && a[0].imm < 32:
		pred, src1, dst, size := int(a[0].imm), a[2].reg, a[3], elemSize(op)
		width := a[2].width
		src2 := vsrc(a[1], width)
		return func(m *machine) error {
			v2, err := src2(m)
			if err != nil {
				return err
			}
			var out [64]byte
			var bits uint64
			for i := range width / size {
				if compare(pred, laneFloat(m.vec[src1][:], i, size), laneFloat(v2[:], i, size)) {
					bits |= 1 << i
					putLane(out[:], i, size, math.MaxUint64)
				}
			}
			if dst.kind == kindMask {
				m.k[dst.reg] = bits
			} else {
				m.vec[dst.reg] = out
			}
			return nil
		}

	case unaryOps[op] != nil && (sh == "vv" || sh == "mv") && sameWidth(a...):
		fn := unaryOps[op]
		return lanewise(a[0], a[1], elemSize(op), func(_ *machine, xv []byte, i, size int) uint64 {
			return fn(lane(xv, i, size))
		})

	// Run refuses a call whose Models lack an estimate the function names, so
	// the model here is never nil.
	case estimates[op] != nil && (sh == "vv" || sh == "mv") && sameWidth(a...):
		model := estimates[op]
		return lanewise(a[0], a[1], 4, func(m *machine, xv []byte, i, size int) uint64 {
			y := model(&m.models)(math.Float32frombits(uint32(lane(xv, i, size))))
			return uint64(math.Float32bits(y))
		})

	}
	return nil
}

// lanewise is an instruction that sets every lane of dst, of size bytes, to
// lanes(m, xv, i, size), where xv is the first source, src, as read.
func lanewise(src, dst operand, size int, lanes func(m *machine, xv []byte, i, size int) uint64) func(*machine) error {
	x := vsrc(src, dst.width)
	return func(m *machine) error {
		xv, err := x(m)
		if err != nil {
			return err
		}
		var out [64]byte
		for i := range dst.width / size {
			putLane(out[:], i, size, lanes(m, xv[:], i, size))
		}
		m.vec[dst.reg] = out
		return nil
	}
}
