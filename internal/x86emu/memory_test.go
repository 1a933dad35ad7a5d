package x86emu

import (
	"fmt"
	"testing"
)

// copy8 copies 8 float32s of x and s to themselves, through Y0 and Y1, after
// the instructions of pre: the smallest body that meets Run's contract.
func copy8(data string, frame int, pre string) string {
	return kernel(data, frame, argsSize[float32](), pre+`
	VMOVUPS (AX), Y0
	VMOVUPS Y0, (AX)
	VMOVUPS (CX), Y1
	VMOVUPS Y1, (CX)
	VZEROUPPER
	RET
`)
}

const roData = "DATA ro<>+0(SB)/8, $1\nGLOBL ro<>(SB), RODATA|NOPTR, $64\n"

// TestBounds: every access must lie inside one island of the address space; one
// byte past or before a slice is an error that names the instruction.
func TestBounds(t *testing.T) {
	for _, c := range []struct {
		name string
		n    int // elements of x, s and g
		src  string
		want string // "" for success
	}{
		{"exact", 8, copy8("", 0, ""), ""},
		{"one element short", 7, copy8("", 0, ""), fmt.Sprintf("test.s:10: VMOVUPS (AX), Y0: read of 32 bytes at %#x is outside mapped memory", xBase)},
		{"one byte before", 8, copy8("", 0, "\tVMOVUPS -1(DX), Y2"), fmt.Sprintf("read of 32 bytes at %#x is outside", gBase-1)},
		{"one byte past", 8, copy8("", 0, "\tVMOVUPS 1(DX), Y2"), fmt.Sprintf("read of 32 bytes at %#x is outside", gBase+1)},
		{"indexed past", 8, copy8("", 0, "\tVBROADCASTSS (DX)(BX*4), Y2"), fmt.Sprintf("read of 4 bytes at %#x is outside", gBase+32)},
		{"indexed last", 8, copy8("", 0, "\tVBROADCASTSS -4(DX)(BX*4), Y2"), ""},
		{"store past", 8, copy8("", 0, "\tVMOVUPS (AX), Y2\n\tVMOVUPS Y2, 4(AX)"), fmt.Sprintf("write of 32 bytes at %#x is outside", xBase+4)},
		{"prefetch last", 8, copy8("", 0, "\tPREFETCHT0 31(DX)"), ""},
		{"prefetch past", 8, copy8("", 0, "\tPREFETCHT0 32(DX)"), fmt.Sprintf("test.s:9: PREFETCHT0 32(DX): read of 1 bytes at %#x is outside", gBase+32)},
		{"scalar past", 1, copy8("", 0, ""), "read of 32 bytes"},
		{"symbol", 8, copy8(roData, 0, "\tVMOVUPS ro<>+32(SB), Y2"), ""},
		{"symbol past", 8, copy8(roData, 0, "\tVMOVUPS ro<>+33(SB), Y2"), "outside mapped memory"},
		{"symbol is read-only", 8, copy8(roData, 0, "\tVMOVUPS (AX), Y2\n\tVMOVUPS Y2, ro<>+0(SB)"), "ro<> is read-only"},
		{"register never set", 8, copy8("", 0, "\tVMOVUPS (R8), Y2"), "outside mapped memory"},
		{"stack read before written", 8, copy8("", 32, "\tVMOVUPS (SP), Y2"), "read of 32 bytes at stack+0: byte 0 was never written"},
		{"stack written then read", 8, copy8("", 32, "\tVMOVUPS (DX), Y2\n\tVMOVUPS Y2, (SP)\n\tVMOVUPS (SP), Y3"), ""},
		{"stack past its frame", 8, copy8("", 32, "\tVMOVUPS (DX), Y2\n\tVMOVUPS Y2, 4(SP)"), "write of 32 bytes at 0x60000004 is outside"},
		{"no stack without a frame", 8, copy8("", 0, "\tVMOVUPS (DX), Y2\n\tVMOVUPS Y2, (SP)"), "write of 32 bytes at 0x60000000 is outside"},
	} {
		t.Run(c.name, func(t *testing.T) {
			p, err := Parse("test.s", c.src)
			if err != nil {
				if c.want != "" {
					wantErr(t, err, c.want)
					return
				}
				t.Fatal(err)
			}
			n := c.n
			err = Run(p, "k", []string{"a", "b"}, make([]float32, n), make([]float32, n), make([]float32, n), []float32{0, 0}, Config{})
			if c.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			wantErr(t, err, c.want)
		})
	}
}

// TestContract: each byte of x and s written exactly once, g never.
func TestContract(t *testing.T) {
	for _, c := range []struct{ name, body, want string }{
		{"x twice", "\tVMOVUPS (AX), Y0\n\tVMOVUPS Y0, (AX)\n\tVMOVUPS Y0, (AX)\n\tVMOVUPS (CX), Y1\n\tVMOVUPS Y1, (CX)\n", "byte 0 of x (element 0 of 8) was written 2 times, want 1"},
		{"s not at all", "\tVMOVUPS (AX), Y0\n\tVMOVUPS Y0, (AX)\n", "byte 0 of s (element 0 of 8) was written 0 times, want 1"},
		{"s short", "\tVMOVUPS (AX), Y0\n\tVMOVUPS Y0, (AX)\n\tVMOVUPS (CX), X1\n\tVMOVUPS X1, (CX)\n", "byte 16 of s (element 4 of 8) was written 0 times"},
		{"g written", "\tVMOVUPS (AX), Y0\n\tVMOVUPS Y0, (AX)\n\tVMOVUPS Y0, (CX)\n\tVMOVUPS Y0, (DX)\n", "byte 0 of g (element 0 of 8) was written 1 times, want 0"},
	} {
		t.Run(c.name, func(t *testing.T) {
			src := kernel("", 0, argsSize[float32](), c.body+"\tRET\n")
			wantErr(t, call(t, src, make([]float32, 8), make([]float32, 8), make([]float32, 8), 0, 0, Config{}), c.want)
		})
	}
}

// TestArgs: arguments are read by name at the offset and size that go vet's
// asmdecl would require, from a frame that must be the size TEXT declares.
func TestArgs(t *testing.T) {
	for _, c := range []struct {
		name, pre string
		args      int
		want      string
	}{
		{"a and b", "\tVBROADCASTSS a+72(FP), Y2\n\tVBROADCASTSS b+76(FP), Y2\n\tMOVQ g_cap+64(FP), R8", 80, ""},
		{"wrong offset", "\tVBROADCASTSS a+76(FP), Y2", 80, "argument a is 4 bytes at +72, operand accesses 4 bytes at +76"},
		{"wrong size", "\tVBROADCASTSD a+72(FP), Y2", 80, "argument a is 4 bytes at +72, operand accesses 8 bytes at +72"},
		{"unknown name", "\tVBROADCASTSS c+72(FP), Y2", 80, "no argument c in the frame"},
		{"frame too large", "", 84, "the Go frame of its arguments is 80 bytes, TEXT declares $0-84"},
	} {
		t.Run(c.name, func(t *testing.T) {
			src := kernel("", 0, c.args, c.pre+"\n\tVMOVUPS (AX), Y0\n\tVMOVUPS Y0, (AX)\n\tVMOVUPS (CX), Y1\n\tVMOVUPS Y1, (CX)\n\tRET\n")
			err := call(t, src, make([]float32, 8), make([]float32, 8), make([]float32, 8), 0, 0, Config{})
			if c.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			wantErr(t, err, c.want)
		})
	}
	p := mustParse(t, copy8("", 0, ""))
	n8 := make([]float32, 8)
	wantErr(t, Run(p, "k", []string{"a"}, n8, n8, n8, []float32{0, 0}, Config{}), "1 names for 2 scalar arguments")
	wantErr(t, Run(p, "k", nil, n8, n8, n8[:7], nil, Config{}), "8, 8 and 7 elements")
	wantErr(t, Run(p, "j", nil, n8, n8, n8, nil, Config{}), "no TEXT ·j in test.s")
}
