package x86emu

import (
	"encoding/binary"
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"strings"

	"github.com/adagrad-go/adagrad/internal/fbits"
)

// Models computes the estimate instructions, one lane at a time. Their results
// differ between vendors within a documented bound, so a test chooses what they
// are: the CPU's own, a vendor's published algorithm, or estimates at the ends of
// the bound. A function that names an estimate whose model is nil does not run.
type Models struct {
	RsqrtPS   func(float32) float32 // VRSQRTPS
	Rsqrt14PS func(float32) float32 // VRSQRT14PS
	RcpPS     func(float32) float32 // VRCPPS
	Rcp14PS   func(float32) float32 // VRCP14PS
	Rsqrt14PD func(float64) float64 // VRSQRT14PD
	Rcp14PD   func(float64) float64 // VRCP14PD
}

// Config is what a Run needs besides the call's arguments.
type Config struct {
	// Models computes the estimate instructions.
	Models Models
	// Rand supplies the garbage in which the registers and the local stack frame
	// start. Nil means a fixed seed.
	Rand *rand.Rand
	// Probe runs a function of the form func(y, a []T) or func(y, a, b []T), as
	// the probes of kernel/asm are, with x as y (written exactly once) and s and
	// g as a and b (never written). Names are the slices' parameter names, two
	// or three.
	Probe bool
	Names []string
}

// The islands of the address space are far apart, so a stray pointer lands in
// unmapped space rather than in a neighbour that would hide it.
const (
	xBase     = 0x1000_0000
	sBase     = 0x2000_0000
	gBase     = 0x3000_0000
	symBase   = 0x4000_0000 // one island per symbol, symStride apart
	symStride = 0x0100_0000
	frameBase = 0x5000_0000
	stackBase = 0x6000_0000
)

// Run calls function name of p as func(x, s, g []T, params...) with the scalar
// arguments args, named params (their names in the source, such as "lr"), and
// copies the results back into x and s. x, s and g must have the same length,
// and params must name each of args.
//
// Beyond the checks of every memory access, Run holds the function to the
// contract that the kernels share: each byte of x and s is written exactly
// once, g never, and the argument frame is exactly the one TEXT declares. It
// stops with an error after 256 + 16·len(x) instructions, which no kernel
// needs, so that a runaway loop fails instead of hanging.
//
// Run is safe to call on one Program from many goroutines.
func Run[T float32 | float64](p *Program, name string, params []string, x, s, g, args []T, c Config) error {
	f := p.byName[name]
	if f == nil {
		return fmt.Errorf("no TEXT ·%s in %s", name, p.file)
	}
	n := len(x)
	if len(s) != n || len(g) != n || len(params) != len(args) {
		return fmt.Errorf("%s: %d, %d and %d elements of x, s and g, %d names for %d scalar arguments", name, len(x), len(s), len(g), len(params), len(args))
	}
	models := map[string]func(uint64) uint64{}
	for _, in := range f.insts {
		op := strings.TrimSuffix(in.op, ".Z")
		if est := estimates[op]; est != nil {
			if models[op] = est(&c.Models); models[op] == nil {
				return fmt.Errorf("%s:%d: %s: no model of %s in Models", p.file, in.line, in.text, op)
			}
		}
	}
	rng := c.Rand
	if rng == nil {
		rng = rand.New(rand.NewPCG(1, 2))
	}

	m := &machine{syms: map[string]uint64{}, estimates: models, limit: 256 + 16*n}
	xsg := []*region{
		{name: "x", base: xBase, data: encode(x)},
		{name: "s", base: sBase, data: encode(s)},
		{name: "g", base: gBase, data: encode(g)},
	}
	if c.Probe {
		xsg = xsg[:len(c.Names)]
	}
	for _, r := range xsg {
		r.writes = make([]uint8, len(r.data))
		m.mem = append(m.mem, r)
	}
	m.mapSymbols(p)
	frame, slots := argFrame(xsg, c.Names, n, params, args)
	if len(frame) != f.argSize {
		return fmt.Errorf("the Go frame of its arguments is %d bytes, TEXT declares $%d-%d", len(frame), f.frameSize, f.argSize)
	}
	m.frame, m.frameBase = slots, frameBase
	m.mem = append(m.mem, &region{name: "args", base: frameBase, data: frame, readOnly: true})
	m.fillGarbage(rng, f.frameSize)

	if err := m.run(p.file, f); err != nil {
		return err
	}
	size := sizeOf[T]()
	for _, r := range xsg {
		want := uint8(1)
		if r.name == "g" || c.Probe && r.name == "s" {
			want = 0
		}
		for i, c := range r.writes {
			if c != want {
				return fmt.Errorf("byte %d of %s (element %d of %d) was written %d times, want %d", i, r.name, i/size, n, c, want)
			}
		}
	}
	for i := range x {
		x[i] = fbits.FromBits[T](lane(xsg[0].data, i, size))
		s[i] = fbits.FromBits[T](lane(xsg[1].data, i, size))
	}
	return nil
}

// mapSymbols maps each read-only symbol of p at an island of its own, in the
// order of their names, so that each has the same address from run to run.
func (m *machine) mapSymbols(p *Program) {
	for i, sym := range slices.Sorted(maps.Keys(p.syms)) {
		base := uint64(symBase + i*symStride)
		m.syms[sym] = base
		m.mem = append(m.mem, &region{name: sym, base: base, data: p.syms[sym], readOnly: true})
	}
}

// argFrame lays out the Go ABI0 argument frame: each slice as (ptr, len, cap),
// then each scalar at its natural alignment. There are no results, so the frame
// ends with the last argument, unpadded, as go vet's asmdecl computes it.
func argFrame[T float32 | float64](xsg []*region, names []string, n int, params []string, args []T) ([]byte, map[string]frameSlot) {
	size := sizeOf[T]()
	slots := map[string]frameSlot{}
	var frame []byte
	for i, r := range xsg {
		name := r.name
		if names != nil {
			name = names[i]
		}
		for _, w := range []struct {
			part string
			v    uint64
		}{{"_base", r.base}, {"_len", uint64(n)}, {"_cap", uint64(n)}} {
			slots[name+w.part] = frameSlot{off: len(frame), size: 8}
			frame = binary.LittleEndian.AppendUint64(frame, w.v)
		}
	}
	for i, v := range args {
		for len(frame)%size != 0 {
			frame = append(frame, 0)
		}
		slots[params[i]] = frameSlot{off: len(frame), size: size}
		frame = append(frame, encode([]T{v})...)
	}
	return frame, slots
}

// fillGarbage fills the registers from rng, and maps the local stack frame of
// frameSize bytes at SP, filled from rng too. The draws are in a fixed order,
// so that a caller's later draws from rng depend on nothing but frameSize.
func (m *machine) fillGarbage(rng *rand.Rand, frameSize int) {
	for i := range m.gp {
		m.gp[i] = rng.Uint64()
	}
	// The local frame of $N-NN is the N bytes from SP up; the frame pointer the
	// assembler saves above it is not the function's to touch. The garbage in it
	// must never be read.
	stack := &region{name: "stack", base: stackBase, data: make([]byte, frameSize), writes: make([]uint8, frameSize), setBefore: true}
	for i := range stack.data {
		stack.data[i] = byte(rng.Uint32())
	}
	m.mem = append(m.mem, stack)
	m.gp[regSP] = stackBase
	for i := range m.vec {
		for j := 0; j < len(m.vec[i]); j += 8 {
			binary.LittleEndian.PutUint64(m.vec[i][j:], rng.Uint64())
		}
	}
	for i := range m.k {
		m.k[i] = rng.Uint64()
	}
}

func sizeOf[T float32 | float64]() int {
	var z T
	if _, ok := any(z).(float32); ok {
		return 4
	}
	return 8
}

// encode is v as little-endian bytes, NaN payloads kept.
func encode[T float32 | float64](v []T) []byte {
	size := sizeOf[T]()
	b := make([]byte, len(v)*size)
	for i, e := range v {
		putLane(b, i, size, fbits.Bits(e))
	}
	return b
}
