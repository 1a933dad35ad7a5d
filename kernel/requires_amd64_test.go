//go:build gc && !purego

package kernel

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/klauspost/cpuid/v2"
)

// TestDispatchCoversRequires holds the dispatch to the generated code: every
// extension that Avo lists on a kernel's "Requires:" line must be among the features
// checked before that kernel's implementation is chosen.
func TestDispatchCoversRequires(t *testing.T) {
	files, err := filepath.Glob("asm/*.s")
	if err != nil || len(files) == 0 {
		t.Fatalf("no assembly found in asm/: %v", err)
	}
	var src []byte
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		src = append(src, b...)
	}
	re := regexp.MustCompile(`// Requires: (.*)\nTEXT ·\w+?(AVX2|AVX512)\w*\(SB\)`)
	found := re.FindAllStringSubmatch(string(src), -1)
	if len(found) == 0 {
		t.Fatal("no Requires lines found in asm/*.s")
	}
	byName := map[string]*impl{}
	for _, m := range impls {
		byName[m.name] = m
	}
	for _, f := range found {
		m := byName[strings.ToLower(f[2])]
		if m == nil {
			t.Fatalf("no implementation for %s kernels", f[2])
		}
		for _, name := range strings.Split(f[1], ", ") {
			if amd64Baseline[name] {
				continue
			}
			id := cpuid.ParseFeature(name)
			if id == cpuid.UNKNOWN {
				t.Fatalf("cpuid does not know the feature %q", name)
			}
			if !slices.Contains(m.requires, id) {
				t.Errorf("%s kernels require %s, which the dispatch does not check", m.name, name)
			}
		}
	}
}

// amd64Baseline are the Requires names of instructions every CPU that runs Go's
// amd64 code has. Avo files PREFETCHT0 under "MMX+", AMD's name for the MMX
// extensions that came with SSE; SSE and SSE2 are amd64's baseline.
var amd64Baseline = map[string]bool{"MMX+": true}
