//go:build race

package kernel

import (
	"bytes"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// raceChild names the kernel that TestRaceSeesAssembly's child runs against a
// racing plain write, on the implementation in EnvVar.
const raceChild = "ADAGRAD_TEST_RACE_CHILD"

// raceKernels are the kernel kinds whose assembly the race detector must see: each
// touches x[0] (or, for the sum of squares, reads it).
var raceKernels = map[string]func(x, s, g []float32){
	"Apply":  func(x, s, g []float32) { Apply(Form{Order: MulDiv}, x, s, g, Params[float32]{LR: 0.1, Eps: 1e-6}) },
	"Update": func(x, s, g []float32) { Update(x, s, g, 0.1, 1e-6) },
	"Fast":   func(x, s, g []float32) { UpdateFast(x, s, g, 0.1, 1e-6) },
	"Rows": func(x, s, g []float32) {
		ApplyRows(Form{}, DuplicatesSummed, x, s, 32, []int32{0, 0}, append(g, g...), Params[float32]{LR: 0.1}, nil)
	},
	"RowWise": func(x, s, g []float32) {
		RowWise(Form{}, x, s[:1], 32, []int64{0}, g, Params[float32]{LR: 0.1, Eps: 1e-6})
	},
}

// TestRaceSeesAssembly runs, in a child process for every implementation and
// kernel kind, a plain write to x[0] in one goroutine and a kernel call on x in
// another, with nothing ordering them: the race detector must report it, which it
// does for assembly only through the annotations of race_on.go.
func TestRaceSeesAssembly(t *testing.T) {
	if name := os.Getenv(raceChild); name != "" {
		x, s, g := make([]float32, 32), make([]float32, 32), make([]float32, 32)
		for i := range g {
			s[i], g[i] = 1, 0.5
		}
		go func() { x[0] = 1 }()
		time.Sleep(50 * time.Millisecond)
		raceKernels[name](x, s, g)
		return
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	for _, impl := range Implementations() {
		for name := range raceKernels {
			t.Run(impl+"/"+name, func(t *testing.T) {
				cmd := exec.Command(exe, "-test.run=^TestRaceSeesAssembly$", "-test.count=1")
				cmd.Env = append(os.Environ(), raceChild+"="+name, EnvVar+"="+impl, "GORACE=halt_on_error=1")
				var out bytes.Buffer
				cmd.Stdout, cmd.Stderr = &out, &out
				err := cmd.Run()
				if err == nil || !strings.Contains(out.String(), "WARNING: DATA RACE") {
					t.Fatalf("the race detector did not see the kernel race (err %v):\n%s", err, out.String())
				}
			})
		}
	}
}
