package asm

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"github.com/adagrad-go/adagrad/internal/gotool"
)

// TestNEONWordsDisassemble holds every WORD directive of the NEON kernels to the
// instruction its comment names. Go's arm64 assembler has no vector FADD, FSUB,
// FMUL, FDIV, FSQRT or FCMGT, so the generator writes their encodings by hand; here
// the file is assembled for arm64 and `go tool objdump -gnu` must print, at each
// such line, exactly the GNU syntax of the comment. It runs on any host with the
// go command, not under -short (the arm64 tests run in an emulator).
func TestNEONWordsDisassemble(t *testing.T) {
	goCmd := gotool.Path(t)
	const file = "apply_neon_arm64.s"
	obj := filepath.Join(t.TempDir(), "neon.o")
	asm := exec.Command(goCmd, "tool", "asm", "-I", filepath.Join(runtime.GOROOT(), "pkg", "include"),
		"-p", "github.com/adagrad-go/adagrad/kernel/asm", "-o", obj, file)
	asm.Env = append(os.Environ(), "GOOS=linux", "GOARCH=arm64")
	if out, err := asm.CombinedOutput(); err != nil {
		t.Fatalf("go tool asm: %v\n%s", err, out)
	}
	out, err := exec.Command(goCmd, "tool", "objdump", "-gnu", obj).Output()
	if err != nil {
		t.Fatalf("go tool objdump: %v", err)
	}
	// "  apply_neon_arm64.s:123\t0x10\t\t4e22d420\t\tFADD ... // fadd v0.4s, v1.4s, v2.4s\t"
	gnu := map[int]string{}
	lineRE := regexp.MustCompile(`^\s*` + regexp.QuoteMeta(file) + `:(\d+)\s.*//\s*(.*?)\s*$`)
	for _, l := range strings.Split(string(out), "\n") {
		if m := lineRE.FindStringSubmatch(l); m != nil {
			n, _ := strconv.Atoi(m[1])
			gnu[n] = m[2]
		}
	}
	src, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	wordRE := regexp.MustCompile(`^\s*WORD \$0x[0-9a-f]{8} // (.*)$`)
	seen := map[string]int{}
	for i, l := range strings.Split(string(src), "\n") {
		m := wordRE.FindStringSubmatch(l)
		if m == nil {
			continue
		}
		want := m[1]
		got, ok := gnu[i+1]
		if !ok {
			t.Fatalf("%s:%d: no disassembly of %q", file, i+1, l)
		}
		if got != want {
			t.Errorf("%s:%d: %s disassembles as %q", file, i+1, strings.TrimSpace(l), got)
		}
		seen[strings.Fields(want)[0]]++
	}
	for _, op := range []string{"fadd", "fsub", "fmul", "fdiv", "fsqrt", "fcmgt", "frsqrte", "frsqrts"} {
		if seen[op] == 0 {
			t.Errorf("no %s was checked", op)
		}
	}
	t.Logf("checked %v", seen)
}
