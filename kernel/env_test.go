package kernel

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"testing"
)

// TestEnvVarChild is run by TestEnvVar in a child process, where ADAGRAD_KERNEL was
// set before the package initialized.
func TestEnvVarChild(t *testing.T) {
	if os.Getenv("ADAGRAD_TEST_CHILD") == "" {
		t.Skip("only run as a child of TestEnvVar")
	}
	fmt.Printf("implementation=%s\n", Implementation())
}

func TestEnvVar(t *testing.T) {
	child := func(value string) (string, error) {
		args := []string{"-test.run=^TestEnvVarChild$", "-test.v"}
		run := func(name string, args ...string) (string, error) {
			cmd := exec.Command(name, args...)
			cmd.Env = append(os.Environ(), "ADAGRAD_TEST_CHILD=1", EnvVar+"="+value)
			out, err := cmd.CombinedOutput()
			return string(out), err
		}
		out, err := run(os.Args[0], args...)
		var exit *exec.ExitError
		if err != nil && !errors.As(err, &exit) && runtime.GOARCH == "arm64" {
			// Under qemu-user (make test-arm64) the binary runs through the emulator.
			if qemu, lerr := exec.LookPath("qemu-aarch64-static"); lerr == nil {
				out, err = run(qemu, append([]string{os.Args[0]}, args...)...)
			}
		}
		if err != nil && !errors.As(err, &exit) {
			t.Skipf("cannot re-run the test binary: %v", err)
		}
		return out, err
	}
	for _, name := range Implementations() {
		out, err := child(name)
		if err != nil || !strings.Contains(out, "implementation="+name+"\n") {
			t.Errorf("%s=%s: child reported %q (err %v)", EnvVar, name, out, err)
		}
	}
	out, err := child("no-such-kernel")
	if err == nil || !strings.Contains(out, `adagrad/kernel: ADAGRAD_KERNEL=no-such-kernel: kernel: unknown implementation "no-such-kernel"`) {
		t.Errorf("an unknown name did not stop the program at start-up: %q (err %v)", out, err)
	}
	for _, m := range impls {
		if !m.supported() {
			out, err := child(m.name)
			if err == nil || !strings.Contains(out, "which this CPU") {
				t.Errorf("%s=%s on a CPU without it: %q (err %v)", EnvVar, m.name, out, err)
			}
		}
	}
}
