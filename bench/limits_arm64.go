//go:build !purego

package main

import (
	"github.com/klauspost/cpuid/v2"

	"github.com/adagrad-go/adagrad/kernel/asm"
)

// trafficKernel is the NEON traffic kernel where the CPU has NEON.
func trafficKernel() (string, func(x, s, g []float32)) {
	if cpuid.CPU.Supports(cpuid.ASIMD) {
		return "Traffic32NEON", asm.Traffic32NEON
	}
	return "Go loop", trafficGo
}
