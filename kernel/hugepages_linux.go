package kernel

import (
	"os"
	"syscall"
)

// madvHugepage is MADV_HUGEPAGE, the same on every Linux architecture.
const madvHugepage = 14

func adviseHuge(b []byte) error {
	if err := syscall.Madvise(b, madvHugepage); err != nil {
		return &os.SyscallError{Syscall: "madvise", Err: err}
	}
	return nil
}
