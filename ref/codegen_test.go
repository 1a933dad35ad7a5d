package ref

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/adagrad-go/adagrad/internal/gotool"
)

// TestCodegen compiles the reference as a user's package instantiates it
// (testdata/probe) for amd64 and arm64 and reads the machine code, which the
// results alone cannot show:
//   - every square root is one instruction (SQRTSS/SQRTSD, FSQRTS/FSQRTD), never a
//     call: Go 1.26 calls math.Sqrt out of line from some generic bodies (see sqrt);
//   - on arm64, where the compiler fuses a·b + c whenever no rounding point stops
//     it, Update's loop, in both widths, holds no fused multiply-add: its
//     conversions T(a*b) are rounding points in generic code too.
//
// Fusion in the other functions shows in their results, which the tests compare
// with oracles under qemu on arm64. It runs on any host with the go command, not
// under -short.
func TestCodegen(t *testing.T) {
	goCmd := gotool.Path(t)
	fused := regexp.MustCompile(`\bF(N?)M(ADD|SUB)[SD]\b`)
	for _, arch := range []string{"amd64", "arm64"} {
		t.Run(arch, func(t *testing.T) {
			bin := filepath.Join(t.TempDir(), "probe")
			build := exec.Command(goCmd, "build", "-o", bin, "./testdata/probe")
			build.Env = append(os.Environ(), "GOOS=linux", "GOARCH="+arch, "CGO_ENABLED=0", "GOFLAGS=")
			if out, err := build.CombinedOutput(); err != nil {
				t.Fatalf("go build: %v\n%s", err, out)
			}
			out, err := exec.Command(goCmd, "tool", "objdump", "-s", `^(main\.|github.com/adagrad-go/adagrad/ref\.)`, bin).Output()
			if err != nil {
				t.Fatalf("go tool objdump: %v", err)
			}
			roots := map[string]int{}
			var fn string
			for _, l := range strings.Split(string(out), "\n") {
				if strings.HasPrefix(l, "TEXT ") {
					fn = strings.Fields(l)[1]
					continue
				}
				f := strings.Fields(l)
				if len(f) < 4 {
					continue
				}
				ins := strings.Join(f[3:], " ")
				switch {
				case strings.Contains(ins, "CALL math.Sqrt") || strings.Contains(ins, "CALL math.sqrt"):
					t.Errorf("%s calls math.Sqrt: %s", fn, strings.TrimSpace(l))
				case strings.HasPrefix(ins, "SQRTS") || strings.HasPrefix(ins, "FSQRT"):
					roots[fn]++
				}
				if arch == "arm64" && (strings.HasPrefix(fn, "main.update") || strings.HasPrefix(fn, "github.com/adagrad-go/adagrad/ref.Update[")) && fused.MatchString(ins) {
					t.Errorf("%s fuses: %s", fn, strings.TrimSpace(l))
				}
			}
			if len(roots) == 0 {
				t.Fatalf("no square-root instruction found in the probe; the test reads the wrong code")
			}
			t.Logf("square-root instructions per function: %v", roots)
		})
	}
}
