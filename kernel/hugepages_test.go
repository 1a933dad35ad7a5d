package kernel

import (
	"bufio"
	"fmt"
	"os"
	"runtime"
	"strings"
	"testing"
	"unsafe"
)

func TestAdviseHugePages(t *testing.T) {
	for _, n := range []int{0, 1, 1000, hugePage / 4} { // none holds a whole aligned huge page, or just one
		if err := AdviseHugePages(make([]float32, n)); err != nil {
			t.Fatalf("%d elements: %v", n, err)
		}
	}
	table := make([]float32, 32*hugePage/4) // 64 MiB: fresh memory from the OS, not reused
	if err := AdviseHugePages(table); err != nil {
		t.Fatal(err)
	}
	for i := range table {
		table[i] = float32(i)
	}
	for i, v := range table {
		if v != float32(i) {
			t.Fatalf("table[%d] = %v after the advice", i, v)
		}
	}
	if runtime.GOOS != "linux" {
		return
	}
	mode, err := os.ReadFile("/sys/kernel/mm/transparent_hugepage/enabled")
	if err != nil || strings.Contains(string(mode), "[never]") {
		t.Skipf("transparent huge pages are off here (%q, %v)", mode, err)
	}
	huge := anonHugeKB(t, uintptr(unsafe.Pointer(&table[0])))
	if huge == 0 {
		t.Skip("the advice took, but the kernel gave no huge page (memory too fragmented?)")
	}
	t.Logf("%d KiB of the table's mapping are huge pages", huge)
}

// anonHugeKB reads AnonHugePages of the mapping that holds addr from
// /proc/self/smaps.
func anonHugeKB(t *testing.T, addr uintptr) int {
	f, err := os.Open("/proc/self/smaps")
	if err != nil {
		t.Skip(err)
	}
	defer f.Close()
	in := false
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		var lo, hi uintptr
		if n, _ := fmt.Sscanf(line, "%x-%x", &lo, &hi); n == 2 && strings.Contains(line, " ") && !strings.HasSuffix(strings.Fields(line)[0], ":") {
			in = lo <= addr && addr < hi
			continue
		}
		var kb int
		if in && strings.HasPrefix(line, "AnonHugePages:") {
			fmt.Sscanf(strings.TrimPrefix(line, "AnonHugePages:"), "%d", &kb)
			return kb
		}
	}
	t.Fatalf("no mapping of %#x in /proc/self/smaps", addr)
	return 0
}
