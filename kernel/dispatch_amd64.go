//go:build !purego

package kernel

import (
	"github.com/klauspost/cpuid/v2"

	"github.com/adagrad-go/adagrad/kernel/asm"
)

// The feature lists cover every extension named on the kernels' "Requires:" lines
// in kernel/asm (a test holds them to it), plus the extension a path is named for.
var archImpls = []*impl{
	&impl{
		name:     "avx2",
		requires: []cpuid.FeatureID{cpuid.AVX, cpuid.AVX2},
		update32: asm.Update32AVX2,
		update64: asm.Update64AVX2,
	},
	&impl{
		name:     "avx512",
		requires: []cpuid.FeatureID{cpuid.AVX, cpuid.AVX512F},
		update32: asm.Update32AVX512,
		update64: asm.Update64AVX512,
	},
}
