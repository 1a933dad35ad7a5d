package x86emu

import (
	"encoding/binary"
	"math"
	"strings"
)

// Vector registers and memory are little-endian bytes, as on the hardware, so
// that a load of a float32 vector reads the lanes a float64 one would see
// together, and DATA written in one size can be read in another.

// lane is lane i, of size 4 or 8 bytes, of b.
func lane(b []byte, i, size int) uint64 {
	if size == 4 {
		return uint64(binary.LittleEndian.Uint32(b[i*4:]))
	}
	return binary.LittleEndian.Uint64(b[i*8:])
}

// putLane stores the low size bytes of v in lane i of b; size is 1, 2, 4 or 8
// (DATA has all four).
func putLane(b []byte, i, size int, v uint64) {
	switch size {
	case 1:
		b[i] = byte(v)
	case 2:
		binary.LittleEndian.PutUint16(b[i*2:], uint16(v))
	case 4:
		binary.LittleEndian.PutUint32(b[i*4:], uint32(v))
	default:
		binary.LittleEndian.PutUint64(b[i*8:], v)
	}
}

// laneFloat widens lane i of b to float64, which is exact for float32, NaN aside
// (whose payload no comparison looks at).
func laneFloat(b []byte, i, size int) float64 { return bitsFloat(lane(b, i, size), size) }

// bitsFloat is the float32 (size 4) or float64 of bits v, widened to float64.
func bitsFloat(v uint64, size int) float64 {
	if size == 4 {
		return float64(math.Float32frombits(uint32(v)))
	}
	return math.Float64frombits(v)
}

// elemSize is the lane size implied by a packed mnemonic's suffix (PS, PD, SS, SD).
func elemSize(op string) int {
	op = strings.TrimSuffix(op, ".Z")
	if strings.HasSuffix(op, "S") {
		return 4
	}
	return 8
}
