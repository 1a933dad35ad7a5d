package x86emu

import (
	"fmt"
	"sync"
	"testing"
)

// loopSrc is a whole kernel of the generated ones' shape: x = x·g and s = s + g,
// a vector of 8 float32s per iteration, then a masked tail.
var loopSrc = kernel(tailData, 0, argsSize[float32](), `
loop:
	CMPQ    BX, $0x00000008
	JB      tail
	VMOVUPS (AX), Y0
	VMULPS  (DX), Y0, Y0
	VMOVUPS Y0, (AX)
	VMOVUPS (CX), Y1
	VADDPS  (DX), Y1, Y1
	VMOVUPS Y1, (CX)
	ADDQ    $0x00000020, AX
	ADDQ    $0x00000020, CX
	ADDQ    $0x00000020, DX
	SUBQ    $0x00000008, BX
	JMP     loop

tail:
	TESTQ      BX, BX
	JZ         done
	LEAQ       tail<>+0(SB), SI
	NEGQ       BX
	SHLQ       $0x02, BX
	VMOVDQU    32(SI)(BX*1), Y5
	VMASKMOVPS (AX), Y5, Y0
	VMASKMOVPS (DX), Y5, Y2
	VMULPS     Y2, Y0, Y0
	VMASKMOVPS Y0, Y5, (AX)
	VMASKMOVPS (CX), Y5, Y1
	VADDPS     Y2, Y1, Y1
	VMASKMOVPS Y1, Y5, (CX)

done:
	VZEROUPPER
	RET
`)

// TestLoop runs loopSrc on every length up to 40, on many goroutines at once,
// and counts the hits of the loop's instructions.
func TestLoop(t *testing.T) {
	p := mustParse(t, loopSrc)
	const maxN, runs = 40, 4
	var wg sync.WaitGroup
	errs := make(chan error, runs*(maxN+1))
	for range runs {
		for n := range maxN + 1 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				x, s, g := make([]float32, n), make([]float32, n), make([]float32, n)
				for i := range n {
					x[i], s[i], g[i] = float32(i)+0.5, float32(3*i), float32(i%5)-2
				}
				wx, ws := clone(x), clone(s)
				for i := range n {
					wx[i], ws[i] = x[i]*g[i], s[i]+g[i]
				}
				if err := Run(p, "k", []string{"a", "b"}, x, s, g, []float32{0, 0}, Config{}); err != nil {
					errs <- fmt.Errorf("n=%d: %w", n, err)
					return
				}
				for i := range n {
					if x[i] != wx[i] || s[i] != ws[i] {
						errs <- fmt.Errorf("n=%d: x[%d], s[%d] = %v, %v, want %v, %v", n, i, i, x[i], s[i], wx[i], ws[i])
						return
					}
				}
			}()
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}

	var vectors, tails int64
	for n := range maxN + 1 {
		vectors += int64(n / 8)
		if n%8 != 0 {
			tails++
		}
	}
	want := map[string]int64{
		"CMPQ": runs * (maxN + 1 + vectors), "VMULPS": runs * (vectors + tails), "JMP": runs * vectors,
		"TESTQ": runs * (maxN + 1), "VMOVDQU": runs * tails, "RET": runs * (maxN + 1),
	}
	got := map[string]int64{}
	for _, in := range p.Func("k").Insts() {
		if in.Hits() == 0 {
			t.Errorf("test.s:%d: %s was never executed", in.Line(), in.Text())
		}
		got[in.Op()] += in.Hits()
	}
	for op, w := range want {
		if got[op] != w {
			t.Errorf("%s executed %d times, want %d", op, got[op], w)
		}
	}
}

// TestControlErrors: what stops a run besides memory.
func TestControlErrors(t *testing.T) {
	for _, c := range []struct{ name, body, want string }{
		{"runaway loop", "spin:\n\tJMP spin\n", "k: still running after 384 instructions"},
		{"no RET", "\tVZEROUPPER\n", "k: ran past its last instruction without RET"},
		{"flags of ADDQ", "\tADDQ $0x08, BX\n\tJZ out\nout:\n\tRET\n", `JZ out: flags last written by "ADDQ", whose flags are not modeled`},
		{"flags never written", "\tJB out\nout:\n\tRET\n", `flags last written by ""`},
	} {
		t.Run(c.name, func(t *testing.T) {
			src := kernel("", 0, argsSize[float32](), c.body)
			wantErr(t, call(t, src, make([]float32, 8), make([]float32, 8), make([]float32, 8), 0, 0, Config{}), c.want)
		})
	}
}
