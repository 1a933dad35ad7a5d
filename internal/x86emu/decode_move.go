package x86emu

import "encoding/binary"

// decodeMove decodes the unmasked loads, the stores, masked or not, the
// broadcasts, the blends on a vector's sign bits and VZEROUPPER. The masked loads
// and the register moves are lane operations of decodeArith, where they take a
// write mask like any other.
func decodeMove(_ *Func, op, sh string, a []operand) func(*machine) error {
	switch {
	case op == "VZEROUPPER" && sh == "":
		return func(m *machine) error {
			for r := range 16 {
				clear(m.vec[r][16:])
			}
			return nil
		}

	case op == "KMOVW" && sh == "mk":
		src, dst := a[0], a[1].reg
		return func(m *machine) error {
			b, err := m.load(src, 2)
			if err != nil {
				return err
			}
			m.k[dst] = uint64(binary.LittleEndian.Uint16(b))
			return nil
		}

	case (op == "VBROADCASTSS" || op == "VBROADCASTSD") && sh == "mv" && !(op == "VBROADCASTSD" && a[1].width == 16):
		src, dst, size := a[0], a[1], elemSize(op)
		return func(m *machine) error {
			b, err := m.load(src, size)
			if err != nil {
				return err
			}
			var out [64]byte
			for i := range dst.width / size {
				copy(out[i*size:], b)
			}
			m.vec[dst.reg] = out
			return nil
		}

	case (op == "VMOVUPS" || op == "VMOVUPD" || op == "VMOVDQU") && sh == "mv":
		src, dst := a[0], a[1]
		return func(m *machine) error {
			b, err := m.load(src, dst.width)
			if err != nil {
				return err
			}
			m.setVec(dst.reg, b)
			return nil
		}

	case (op == "VMOVUPS" || op == "VMOVUPD" || op == "VMOVDQU") && sh == "vm":
		src, dst := a[0], a[1]
		return func(m *machine) error {
			v := m.vec[src.reg]
			return m.store(dst, v[:src.width])
		}

	case (op == "VMOVUPS" || op == "VMOVUPD") && sh == "vkm" && a[1].reg != 0:
		src, k, dst, size := a[0], a[1].reg, a[2], elemSize(op)
		return func(m *machine) error {
			v := m.vec[src.reg]
			return m.maskedStore(v[:src.width], dst, size, src.width/size, m.kbit(k))
		}

	// VBLENDVPS mask, b, a, dst: each lane of b where mask's sign bit is set, of a
	// elsewhere (Intel's "VBLENDVPS dst, a, b, mask").
	case (op == "VBLENDVPS" || op == "VBLENDVPD") && sh == "vvvv" && sameWidth(a...):
		mask, b, src, dst, size := a[0].reg, a[1].reg, a[2].reg, a[3], elemSize(op)
		return func(m *machine) error {
			var out [64]byte
			pick := m.vecMSB(mask, size)
			for i := range dst.width / size {
				from := src
				if pick(i) {
					from = b
				}
				copy(out[i*size:(i+1)*size], m.vec[from][i*size:])
			}
			m.vec[dst.reg] = out
			return nil
		}

	case (op == "VMASKMOVPS" || op == "VMASKMOVPD") && sh == "mvv" && sameWidth(a[1], a[2]):
		src, mask, dst, size := a[0], a[1].reg, a[2], elemSize(op)
		return func(m *machine) error {
			b, err := m.maskedLoad(src, size, dst.width/size, m.vecMSB(mask, size))
			if err != nil {
				return err
			}
			m.setVec(dst.reg, b)
			return nil
		}

	case (op == "VMASKMOVPS" || op == "VMASKMOVPD") && sh == "vvm" && sameWidth(a[0], a[1]):
		src, mask, dst, size := a[0], a[1].reg, a[2], elemSize(op)
		return func(m *machine) error {
			v := m.vec[src.reg]
			return m.maskedStore(v[:src.width], dst, size, src.width/size, m.vecMSB(mask, size))
		}

	}
	return nil
}
