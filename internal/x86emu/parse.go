package x86emu

import (
	"fmt"
	"maps"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

var (
	textRE  = regexp.MustCompile(`^TEXT\s+·(\w+)\(SB\),\s*([A-Z|]+),\s*\$(\d+)-(\d+)$`)
	dataRE  = regexp.MustCompile(`^DATA\s+(\w+<>)\+(\d+)\(SB\)/([1248]),\s*\$(\S+)$`)
	globlRE = regexp.MustCompile(`^GLOBL\s+(\w+<>)\(SB\),\s*([A-Z|]+),\s*\$(\d+)$`)
	labelRE = regexp.MustCompile(`^([A-Za-z_]\w*):$`)
	floatRE = regexp.MustCompile(`^\((-?\d+\.\d*(?:[eE][-+]?\d+)?)\)$`)
)

// isJump reports whether op is a jump, whose operand is a label: every mnemonic
// of the assembler's that begins with J is one, so that a jump the machine does
// not model (JLT) is refused as an instruction, not for its label.
func isJump(op string) bool { return strings.HasPrefix(op, "J") }

// Parse parses and decodes the assembly file src, named file in errors. Every
// instruction is decoded here, not when first executed, so that an unmodeled
// form on a path no test reaches is still an error.
func Parse(file, src string) (*Program, error) {
	type datum struct {
		line, off, size int
		value           uint64
	}
	p := &Program{file: file, byName: map[string]*Func{}, syms: map[string][]byte{}}
	data := map[string][]datum{}
	var f *Func
	for i, raw := range strings.Split(src, "\n") {
		line := i + 1
		text := raw
		if j := strings.Index(text, "//"); j >= 0 {
			text = text[:j]
		}
		text = strings.TrimSpace(text)
		fail := func(format string, args ...any) error {
			return fmt.Errorf("%s:%d: %q: %s", file, line, text, fmt.Sprintf(format, args...))
		}
		if text == "" || text == `#include "textflag.h"` {
			continue
		}
		if m := textRE.FindStringSubmatch(text); m != nil {
			if p.byName[m[1]] != nil {
				return nil, fail("duplicate TEXT")
			}
			frame, err1 := strconv.Atoi(m[3])
			size, err2 := strconv.Atoi(m[4])
			if err1 != nil || err2 != nil {
				return nil, fail("frame size out of range")
			}
			f = &Func{name: m[1], frameSize: frame, argSize: size, labels: map[string]int{}}
			p.byName[f.name] = f
			p.funcs = append(p.funcs, f)
			continue
		}
		if m := dataRE.FindStringSubmatch(text); m != nil {
			off, err := strconv.Atoi(m[2])
			if err != nil {
				return nil, fail("offset out of range")
			}
			size, _ := strconv.Atoi(m[3])
			v, err := dataValue(m[4], size)
			if err != nil {
				return nil, fail("bad value: %v", err)
			}
			data[m[1]] = append(data[m[1]], datum{line, off, size, v})
			continue
		}
		if m := globlRE.FindStringSubmatch(text); m != nil {
			// Writable data would be shared between calls, which Run does not model.
			if !slices.Contains(strings.Split(m[2], "|"), "RODATA") {
				return nil, fail("only read-only data is modeled")
			}
			if p.syms[m[1]] != nil {
				return nil, fail("duplicate GLOBL")
			}
			size, err := strconv.Atoi(m[3])
			if err != nil {
				return nil, fail("size out of range")
			}
			p.syms[m[1]] = make([]byte, size)
			continue
		}
		if strings.HasPrefix(text, "DATA") || strings.HasPrefix(text, "GLOBL") || strings.HasPrefix(text, "TEXT") || strings.HasPrefix(text, "#") {
			return nil, fail("directive form not modeled")
		}
		if f == nil {
			return nil, fail("instruction outside TEXT")
		}
		if m := labelRE.FindStringSubmatch(text); m != nil {
			if _, dup := f.labels[m[1]]; dup {
				return nil, fail("duplicate label")
			}
			f.labels[m[1]] = len(f.insts)
			continue
		}
		in := &Inst{line: line, text: text}
		in.op = strings.Fields(text)[0]
		if rest := strings.TrimSpace(strings.TrimPrefix(text, in.op)); rest != "" {
			for _, s := range strings.Split(rest, ",") {
				o, err := parseOperand(strings.TrimSpace(s), isJump(in.op))
				if err != nil {
					return nil, fail("%v", err)
				}
				in.args = append(in.args, o)
			}
		}
		f.insts = append(f.insts, in)
	}

	// DATA may come before or after its GLOBL, so the contents are filled in last;
	// ranging over the names in order keeps the first error the same each time.
	for _, name := range slices.Sorted(maps.Keys(data)) {
		ds := data[name]
		buf := p.syms[name]
		if buf == nil {
			return nil, fmt.Errorf("%s:%d: DATA for %s without GLOBL", file, ds[0].line, name)
		}
		set := make([]bool, len(buf))
		for _, d := range ds {
			if d.off+d.size > len(buf) {
				return nil, fmt.Errorf("%s:%d: DATA past the end of %s", file, d.line, name)
			}
			for b := d.off; b < d.off+d.size; b++ {
				if set[b] {
					return nil, fmt.Errorf("%s:%d: DATA overlaps earlier DATA of %s", file, d.line, name)
				}
				set[b] = true
			}
			putLane(buf[d.off:], 0, d.size, d.value)
		}
	}

	for _, f := range p.funcs {
		for _, in := range f.insts {
			if err := p.decode(f, in); err != nil {
				return nil, fmt.Errorf("%s:%d: %q: %v", file, in.line, in.text, err)
			}
		}
	}
	return p, nil
}

// dataValue decodes the $value of a DATA directive of size bytes: an integer, or a
// floating-point constant in parentheses, which the assembler stores in the IEEE
// format of that size. A constant that the float32 format cannot hold exactly is
// refused, rather than guessing how the assembler rounds it.
func dataValue(s string, size int) (uint64, error) {
	if m := floatRE.FindStringSubmatch(s); m != nil {
		f, err := strconv.ParseFloat(m[1], 64)
		switch {
		case err != nil:
			return 0, err
		case size == 8:
			return math.Float64bits(f), nil
		case size == 4 && float64(float32(f)) == f:
			return uint64(math.Float32bits(float32(f))), nil
		}
		return 0, fmt.Errorf("float constant %s in %d bytes not modeled", s, size)
	}
	return strconv.ParseUint(s, 0, 8*size)
}
