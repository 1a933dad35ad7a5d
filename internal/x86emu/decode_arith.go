package x86emu

import "math"

// decodeArith decodes the lane operations: the arithmetic and logic of ops.go,
// the estimates, the compares and tests, the blends and the register moves, each
// with the write mask of its EVEX forms if it has one.
func decodeArith(_ *Func, op, sh string, a []operand) func(*machine) error {
	op, a, wm, ok := splitMask(op, a)
	if !ok {
		return nil
	}
	sh = shape(a)
	// The first source ("VMULPS a, b, c": a) may be a register or a whole vector
	// in memory, unaligned: VEX and EVEX both allow it.
	two := (sh == "vvv" || sh == "mvv") && sameWidth(a...)
	one := (sh == "vv" || sh == "mv") && sameWidth(a...)
	// Compares and tests into a K register: "$imm, src2, src1, k" or "src2, src1, k".
	toK := (sh == "vvk" || sh == "mvk") && sameWidth(a...)
	toKImm := (sh == "ivvk" || sh == "imvk") && sameWidth(a...)

	if fn, size := twoSource(op); fn != nil && two {
		y := a[1].reg
		return lanewise(a[0], a[2], wm, size, func(m *machine, xv []byte, i, size int) uint64 {
			return fn(lane(m.vec[y][:], i, size), lane(xv, i, size))
		})
	}
	switch {
	case fmaOps[op] != nil && two:
		fn, y, d := fmaOps[op], a[1].reg, a[2].reg
		return lanewise(a[0], a[2], wm, elemSize(op), func(m *machine, xv []byte, i, size int) uint64 {
			return fn(lane(m.vec[d][:], i, size), lane(m.vec[y][:], i, size), lane(xv, i, size))
		})

	case unaryOps[op] != nil && one:
		fn := unaryOps[op]
		return lanewise(a[0], a[1], wm, elemSize(op), func(_ *machine, xv []byte, i, size int) uint64 {
			return fn(lane(xv, i, size))
		})

	// Run gives the machine the model of each estimate the function names, or
	// refuses the call.
	case estimates[op] != nil && one:
		return lanewise(a[0], a[1], wm, elemSize(op), func(m *machine, xv []byte, i, size int) uint64 {
			return m.estimates[op](lane(xv, i, size))
		})

	// VMOVAPS needs an aligned address, which is not modeled, so only the
	// unaligned moves read memory here (the unmasked loads are decodeMove's).
	case moves[op] && one && (a[0].kind == kindVec || op == "VMOVUPS" || op == "VMOVUPD"):
		return lanewise(a[0], a[1], wm, elemSize(op), func(_ *machine, xv []byte, i, size int) uint64 {
			return lane(xv, i, size)
		})

	case dwordShifts[op] != nil && (sh == "ivv" || sh == "imv") && sameWidth(a[1:]...) && a[0].imm >= 0 && a[0].imm < 256:
		fn, n := dwordShifts[op], uint(a[0].imm)
		return lanewise(a[1], a[2], wm, 4, func(_ *machine, xv []byte, i, size int) uint64 {
			return fn(lane(xv, i, size), n)
		})

	// VBLENDMPS src2, src1, k, dst: src2's lanes where k is set, src1's (or zeros,
	// .Z) elsewhere; Intel's "VBLENDMPS dst {k}, src1, src2".
	case (op == "VBLENDMPS" || op == "VBLENDMPD" || op == "VPBLENDMD") && two:
		size := elemSize(op)
		if op == "VPBLENDMD" {
			size = 4
		}
		return masked(a[0], a[2], a[1].reg, wm, size, func(_ *machine, xv []byte, i, size int) uint64 {
			return lane(xv, i, size)
		})

	// VCMPPS $imm, src2, src1, dst: all-ones lanes where the predicate holds (VEX),
	// or the bits of a K register (EVEX).
	case (op == "VCMPPS" || op == "VCMPPD") && (sh == "ivvv" || sh == "imvv") && sameWidth(a[1:]...) && a[0].imm >= 0 && a[0].imm < 32:
		pred, src1 := int(a[0].imm), a[2].reg
		return lanewise(a[1], a[3], wm, elemSize(op), func(m *machine, xv []byte, i, size int) uint64 {
			if compare(pred, laneFloat(m.vec[src1][:], i, size), laneFloat(xv, i, size)) {
				return math.MaxUint64
			}
			return 0
		})
	case (op == "VCMPPS" || op == "VCMPPD") && toKImm && a[0].imm >= 0 && a[0].imm < 32:
		pred, size := int(a[0].imm), elemSize(op)
		return maskOut(a[1], a[2], a[3].reg, wm, size, func(src1, src2 uint64) bool {
			return compare(pred, bitsFloat(src1, size), bitsFloat(src2, size))
		})

	// The immediate of VPCMPD and VPCMPUD is a predicate in bits 0..2; the assembler
	// takes any byte, but what the hardware makes of the rest is not modeled.
	case (op == "VPCMPD" || op == "VPCMPUD") && toKImm && a[0].imm >= 0 && a[0].imm < 8:
		return maskOut(a[1], a[2], a[3].reg, wm, 4, dwordCompare(int(a[0].imm), op == "VPCMPD"))
	case (op == "VPCMPQ" || op == "VPCMPUQ") && toKImm && a[0].imm >= 0 && a[0].imm < 8:
		return maskOut(a[1], a[2], a[3].reg, wm, 8, qwordCompare(int(a[0].imm), op == "VPCMPQ"))
	case (op == "VPCMPEQD" || op == "VPCMPGTD") && toK:
		pred := 0 // EQ
		if op == "VPCMPGTD" {
			pred = 6 // NLE
		}
		return maskOut(a[0], a[1], a[2].reg, wm, 4, dwordCompare(pred, true))
	case (op == "VPTESTMD" || op == "VPTESTNMD") && toK:
		want := op == "VPTESTMD"
		return maskOut(a[0], a[1], a[2].reg, wm, 4, func(src1, src2 uint64) bool {
			return (uint32(src1&src2) != 0) == want
		})
	case (op == "VPTESTMQ" || op == "VPTESTNMQ") && toK:
		want := op == "VPTESTMQ"
		return maskOut(a[0], a[1], a[2].reg, wm, 8, func(src1, src2 uint64) bool {
			return (src1&src2 != 0) == want
		})
	}
	return nil
}

// twoSource is the lane function of a two-source instruction and its lane size, or
// nil.
func twoSource(op string) (func(b, a uint64) uint64, int) {
	if fn := binaryOps[op]; fn != nil {
		return fn, elemSize(op)
	}
	if fn := bitOps[op]; fn != nil {
		return fn, 8
	}
	if fn := qwordOps[op]; fn != nil {
		return fn, 8
	}
	return dwordOps[op], 4
}

// laneFunc computes lane i, of size bytes, of an instruction's result, where xv is
// its first source as read.
type laneFunc func(m *machine, xv []byte, i, size int) uint64

// lanewise is an instruction that sets every lane of dst, of size bytes, to
// fn(m, xv, i, size), where xv is the first source, src, as read; under the
// write mask wm only the active lanes, the others keeping dst's or zero.
func lanewise(src, dst operand, wm writeMask, size int, fn laneFunc) func(*machine) error {
	return masked(src, dst, dst.reg, wm, size, fn)
}

// masked is lanewise where the inactive lanes keep those of register keep, which
// the blends read instead of dst. The lanes are computed into a copy, so that
// dst may be a source too.
func masked(src, dst operand, keep int, wm writeMask, size int, fn laneFunc) func(*machine) error {
	x := source(src, dst.width, size, wm)
	return func(m *machine) error {
		active := m.active(wm)
		xv, err := x(m, active)
		if err != nil {
			return err
		}
		var out [64]byte
		for i := range dst.width / size {
			switch {
			case active>>i&1 != 0:
				putLane(out[:], i, size, fn(m, xv[:], i, size))
			case !wm.zero:
				putLane(out[:], i, size, lane(m.vec[keep][:], i, size))
			}
		}
		m.vec[dst.reg] = out
		return nil
	}
}

// maskOut is an instruction that sets bit i of K register dst where test holds
// of lane i of src1 and of src2, in Intel's operand order, and clears the bits
// of lanes the write mask leaves out and those beyond the lanes, as the compares
// and tests into K registers do.
func maskOut(src2, src1 operand, dst int, wm writeMask, size int, test func(src1, src2 uint64) bool) func(*machine) error {
	x := source(src2, src1.width, size, wm)
	return func(m *machine) error {
		active := m.active(wm)
		v2, err := x(m, active)
		if err != nil {
			return err
		}
		var bits uint64
		for i := range src1.width / size {
			if active>>i&1 != 0 && test(lane(m.vec[src1.reg][:], i, size), lane(v2[:], i, size)) {
				bits |= 1 << i
			}
		}
		m.k[dst] = bits
		return nil
	}
}

// active is the lanes that write mask wm selects, one bit each: all of them
// when there is none.
func (m *machine) active(wm writeMask) uint64 {
	if wm.reg == 0 {
		return math.MaxUint64
	}
	return m.k[wm.reg]
}

// source reads operand o as a vector of width bytes: a register, or width bytes
// of memory, of which a write mask reads only the active lanes of size bytes;
// the hardware suppresses faults on the others, so a masked tail may use any
// instruction that reads memory.
func source(o operand, width, size int, wm writeMask) func(m *machine, active uint64) ([64]byte, error) {
	if o.kind == kindVec {
		r := o.reg
		return func(m *machine, _ uint64) ([64]byte, error) { return m.vec[r], nil }
	}
	return func(m *machine, active uint64) ([64]byte, error) {
		var v [64]byte
		var b []byte
		var err error
		if wm.reg == 0 {
			b, err = m.load(o, width)
		} else {
			b, err = m.maskedLoad(o, size, width/size, func(i int) bool { return active>>i&1 != 0 })
		}
		if err != nil {
			return v, err
		}
		copy(v[:], b)
		return v, nil
	}
}
