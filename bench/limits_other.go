//go:build !gc || purego || !(amd64 || arm64)

package main

// ceilingKernels are the Go loops: this build has no assembly.
func ceilingKernels() ceilings { return goCeilings() }
