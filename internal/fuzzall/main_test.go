package main

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// modules finds every go.mod under the root, the root's first, and none in the
// directories the go command ignores.
func TestModules(t *testing.T) {
	root := t.TempDir()
	for _, f := range []string{"go.mod", "bench/go.mod", "internal/gen/go.mod", "kernel/k.go", "testdata/m/go.mod", ".cache/m/go.mod", "_old/go.mod", "bench/peers/simd/main.go"} {
		p := filepath.Join(root, f)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte("module m\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := modules(root)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{root, filepath.Join(root, "bench"), filepath.Join(root, "internal", "gen")}
	if !slices.Equal(got, want) {
		t.Errorf("modules: %q, want %q", got, want)
	}
}
