// Package gotool finds the go command for the tests that build or disassemble
// code with it.
package gotool

import (
	"os"
	"path/filepath"
	"runtime"
	"testing"
)

// Path returns the go command of the toolchain running the test. It skips the
// test under -short (building takes seconds, and the arm64 tests run in an
// emulator) and where the toolchain has no go command.
func Path(t testing.TB) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds with the go command")
	}
	goCmd := filepath.Join(runtime.GOROOT(), "bin", "go")
	if _, err := os.Stat(goCmd); err != nil {
		t.Skipf("no go command at %s", goCmd)
	}
	return goCmd
}
