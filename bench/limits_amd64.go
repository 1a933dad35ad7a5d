//go:build !purego

package main

import (
	"github.com/klauspost/cpuid/v2"

	"github.com/adagrad-go/adagrad/kernel/asm"
)

// trafficKernel is the widest traffic kernel this CPU runs.
func trafficKernel() (string, func(x, s, g []float32)) {
	switch {
	case cpuid.CPU.Supports(cpuid.AVX, cpuid.AVX512F):
		return "Traffic32AVX512", asm.Traffic32AVX512
	case cpuid.CPU.Supports(cpuid.AVX, cpuid.AVX2):
		return "Traffic32AVX2", asm.Traffic32AVX2
	}
	return "Go loop", trafficGo
}
