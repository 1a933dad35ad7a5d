//go:build purego || !(amd64 || arm64)

package main

// trafficKernel is the Go loop: this build has no assembly.
func trafficKernel() (string, func(x, s, g []float32)) { return "Go loop", trafficGo }
