package kernel

import (
	"bufio"
	"errors"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"unsafe"
)

// TestAdviseHugePages checks what the advice is, the kernel's record of it on
// the table's memory, rather than how many huge pages the kernel then grants:
// that depends on the machine's free memory, its fragmentation and its THP
// settings, not on this code, so it is logged.
func TestAdviseHugePages(t *testing.T) {
	for _, n := range []int{0, 1, 1000, hugePage / 4} { // none holds a whole aligned huge page, or just one
		if err := AdviseHugePages(make([]float32, n)); err != nil {
			t.Fatalf("%d elements: %v", n, err)
		}
	}
	thp, thpErr := os.ReadFile("/sys/kernel/mm/transparent_hugepage/enabled")
	table := make([]float32, 32*hugePage/4) // 64 MiB: fresh memory from the OS, not reused
	if err := AdviseHugePages(table); err != nil {
		if runtime.GOOS == "linux" && thpErr != nil && errors.Is(err, syscall.EINVAL) {
			t.Skipf("this Linux has no transparent huge pages (%v): %v", thpErr, err)
		}
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
	if thpErr != nil {
		t.Skipf("no transparent huge pages here: %v", thpErr)
	}
	// The first whole huge page inside the table: the advice splits the table's
	// mapping there, so the mapping of &table[0] may be an unadvised head.
	first := (uintptr(unsafe.Pointer(&table[0])) + hugePage - 1) &^ (hugePage - 1)
	m := smapsOf(t, first)
	if !slices.Contains(m.flags, "hg") && !madviseShows(t) {
		t.Skipf("madvise(MADV_HUGEPAGE) leaves no hg flag on memory here (an emulator such as qemu-user takes the advice without passing it on)")
	}
	if !slices.Contains(m.flags, "hg") {
		t.Errorf("the mapping %s holding the table's first whole huge page has VmFlags %v after the advice, without hg (MADV_HUGEPAGE)", m.rangeText, m.flags)
	}
	pmd := "unknown"
	if b, err := os.ReadFile("/sys/kernel/mm/transparent_hugepage/hpage_pmd_size"); err == nil {
		pmd = strings.TrimSpace(string(b))
		if n, err := strconv.Atoi(pmd); err == nil && n != hugePage {
			t.Logf("this kernel's huge page is %d bytes, not the %d AdviseHugePages aligns to", n, hugePage)
		}
	}
	t.Logf("%d KiB of the advised mapping %s are huge pages (enabled: %s; huge page: %s bytes)",
		m.anonHugeKB, m.rangeText, strings.TrimSpace(string(thp)), pmd)
}

// madviseShows reports whether this system records MADV_HUGEPAGE in the VmFlags
// of /proc/self/smaps at all: the advice given directly to a fresh mapping of 4
// huge pages, the control for AdviseHugePages' own.
func madviseShows(t *testing.T) bool {
	b := make([]byte, 5*hugePage)
	off := int(-uintptr(unsafe.Pointer(&b[0])) & (hugePage - 1))
	b = b[off : off+4*hugePage]
	if err := adviseHuge(b); err != nil {
		t.Fatal(err)
	}
	return slices.Contains(smapsOf(t, uintptr(unsafe.Pointer(&b[0]))).flags, "hg")
}

// smapsEntry is what /proc/self/smaps says of one mapping.
type smapsEntry struct {
	rangeText  string
	anonHugeKB int
	flags      []string
}

// smapsOf reads the entry of the mapping that holds addr from /proc/self/smaps.
func smapsOf(t *testing.T, addr uintptr) smapsEntry {
	f, err := os.Open("/proc/self/smaps")
	if err != nil {
		t.Skip(err)
	}
	defer f.Close()
	var e smapsEntry
	in := false
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) == 0 {
			continue
		}
		if lo, hi, ok := strings.Cut(fields[0], "-"); ok && !strings.HasSuffix(fields[0], ":") {
			// A mapping's first line: "7f0c00000000-7f0c04000000 rw-p ...".
			l, err1 := strconv.ParseUint(lo, 16, 64)
			h, err2 := strconv.ParseUint(hi, 16, 64)
			if in {
				break // the entry ended without VmFlags
			}
			in = err1 == nil && err2 == nil && uintptr(l) <= addr && addr < uintptr(h)
			e.rangeText = fields[0]
			continue
		}
		if !in {
			continue
		}
		switch fields[0] {
		case "AnonHugePages:":
			if len(fields) > 1 {
				e.anonHugeKB, _ = strconv.Atoi(fields[1])
			}
		case "VmFlags:":
			e.flags = fields[1:]
			return e
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if !in {
		t.Fatalf("no mapping of %#x in /proc/self/smaps", addr)
	}
	t.Skipf("/proc/self/smaps shows no VmFlags for %s (a kernel older than 3.8)", e.rangeText)
	return e
}
