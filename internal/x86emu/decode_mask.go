package x86emu

// kOps are the AVX512F instructions on K registers as 16-bit masks, b and a in
// Go operand order ("KANDNW a, b, c" computes c = ¬b ∧ a, Intel's "KANDNW c, b,
// a": the operand Go writes second is the one complemented). Each clears the bits
// of the destination above 16.
var kOps = map[string]func(b, a uint64) uint64{
	"KANDW":  func(b, a uint64) uint64 { return b & a },
	"KANDNW": func(b, a uint64) uint64 { return ^b & a },
	"KORW":   func(b, a uint64) uint64 { return b | a },
	"KXORW":  func(b, a uint64) uint64 { return b ^ a },
	"KXNORW": func(b, a uint64) uint64 { return ^(b ^ a) },
}

// decodeMask decodes the K-register instructions and the vector instructions
// that set the flags or a general register: everything by which a vector or a
// mask decides a branch. KTESTW is not modeled: it needs AVX512DQ, which the
// AVX-512 kernels do not require.
func decodeMask(_ *Func, op, sh string, a []operand) func(*machine) error {
	switch {
	case kOps[op] != nil && sh == "kkk":
		fn, x, y, dst := kOps[op], a[0].reg, a[1].reg, a[2].reg
		return func(m *machine) error {
			m.k[dst] = fn(m.k[y], m.k[x]) & 0xffff
			return nil
		}

	// KUNPCKBW b, a, dst (Intel's "KUNPCKBW dst, a, b"): dst = a's low byte
	// above b's.
	case op == "KUNPCKBW" && sh == "kkk":
		b, x, dst := a[0].reg, a[1].reg, a[2].reg
		return func(m *machine) error {
			m.k[dst] = (m.k[x]&0xff)<<8 | m.k[b]&0xff
			return nil
		}

	case op == "KNOTW" && sh == "kk":
		src, dst := a[0].reg, a[1].reg
		return func(m *machine) error {
			m.k[dst] = ^m.k[src] & 0xffff
			return nil
		}

	// KORTESTW: ZF when the OR of the low 16 bits is all zeros, CF when all ones.
	case op == "KORTESTW" && sh == "kk":
		x, y := a[0].reg, a[1].reg
		return func(m *machine) error {
			or := (m.k[x] | m.k[y]) & 0xffff
			m.flags = flagState{valid: true, writer: op, zf: or == 0, cf: or == 0xffff}
			return nil
		}

	// VPTEST a, b (Intel's "VPTEST b, a"): ZF when a ∧ b is zero, CF when a ∧ ¬b
	// is. VTESTPS and VTESTPD look at the lanes' sign bits only.
	case (op == "VPTEST" || op == "VTESTPS" || op == "VTESTPD") && (sh == "vv" || sh == "mv") && sameWidth(a...):
		src, b, width := a[0], a[1].reg, a[1].width
		var sel [64]byte // the bits tested
		for i := range width {
			switch {
			case op == "VPTEST":
				sel[i] = 0xff
			case (i+1)%elemSize(op) == 0:
				sel[i] = 0x80
			}
		}
		x := source(src, width, 1, writeMask{})
		return func(m *machine) error {
			av, err := x(m, 0)
			if err != nil {
				return err
			}
			zf, cf := true, true
			for i := range width {
				zf = zf && av[i]&m.vec[b][i]&sel[i] == 0
				cf = cf && av[i]&^m.vec[b][i]&sel[i] == 0
			}
			m.flags = flagState{valid: true, writer: op, zf: zf, cf: cf}
			return nil
		}

	// VMOVMSKPS src, r: the lanes' sign bits, zero-extended to 64 bits as every
	// write of a 32-bit register is.
	case (op == "VMOVMSKPS" || op == "VMOVMSKPD") && sh == "vr":
		src, dst, size := a[0], a[1].reg, elemSize(op)
		return func(m *machine) error {
			var r uint64
			for i := range src.width / size {
				r |= lane(m.vec[src.reg][:], i, size) >> (8*size - 1) << i
			}
			m.gp[dst] = r
			return nil
		}
	}
	return nil
}
