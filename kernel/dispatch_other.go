//go:build purego || !(amd64 || arm64)

package kernel

// archImpls is empty: this build has no assembly, so only the generic path exists.
var archImpls []*impl

// prefetch does nothing: this build has no prefetch instruction to call.
func prefetch(p, n uintptr) {}
