package kernel

import (
	"fmt"
	"os"
	"strings"
	"sync/atomic"

	"github.com/klauspost/cpuid/v2"

	"github.com/adagrad-go/adagrad/ref"
)

// EnvVar names the environment variable that forces an implementation at start-up,
// as Use does. An unknown name, or one this CPU cannot run, makes the program panic
// during initialization rather than silently measure or test another path.
const EnvVar = "ADAGRAD_KERNEL"

// impl is one implementation of every kernel, with the CPU features it needs.
type impl struct {
	name     string
	requires []cpuid.FeatureID
	// code names the assembly the dense kernels call: update32, apply32 and the
	// others (dispatch_<arch>.go) switch on it and call the kernel directly, never
	// through a function value, so that the caller's slices stay on its stack.
	code isaCode
	// rows is the sparse steps' part of the implementation.
	rows rowKernels
}

// isaCode selects an implementation's assembly in the dispatch's switches.
type isaCode uint8

const (
	codeGeneric isaCode = iota // the generated Go loops (apply_generic.go) and ref.Update
	codeAVX2
	codeAVX2Hybrid // codeAVX2 with the square roots and divisions shared with FMAs
	codeAVX512
	codeAVX512Hybrid // codeAVX512 likewise
	codeNEON
)

// rowKernels are the kernels of the sparse steps, which call them once per row.
type rowKernels struct {
	// kernel32 and kernel64 return the Apply kernel of form f, looked up once per
	// call, not once per row; nil means the reference.
	kernel32 func(f Form) func(x, s, g []float32, lr, eps, wd, decay, gain float32)
	kernel64 func(f Form) func(x, s, g []float64, lr, eps, wd, decay, gain float64)
	// add32 and add64 set dst = a + b, each sum rounded; dst may be a.
	add32 func(dst, a, b []float32)
	add64 func(dst, a, b []float64)
	// rowWise32 and rowWise64 return the two vector halves of a row-wise step of
	// form f: the sum of squares of g' (ref.SumSquares) and the update of x by
	// the row's factor from ref.RowScale. nil means the reference runs whole.
	rowWise32 func(f Form) (func(x, g []float32, wd float32) float32, func(x, g []float32, lr, k, wd float32))
	rowWise64 func(f Form) (func(x, g []float64, wd float64) float64, func(x, g []float64, lr, k, wd float64))
}

func (m *impl) supported() bool { return cpuid.CPU.Supports(m.requires...) }

// generic is the pure-Go path, present on every architecture: a loop per form,
// generated from the descriptions the assembly comes from (apply_generic.go), so
// that no form decides its options per element as ref.Apply does.
var generic = &impl{
	name: "generic",
	code: codeGeneric,
	rows: rowKernels{
		kernel32: func(f Form) func(x, s, g []float32, lr, eps, wd, decay, gain float32) {
			return genericApply32Kernels[f.ID()]
		},
		kernel64: func(f Form) func(x, s, g []float64, lr, eps, wd, decay, gain float64) {
			return genericApply64Kernels[f.ID()]
		},
		add32: addGo[float32],
		add64: addGo[float64],
	},
}

// formsByID are the valid forms at their IDs, for ref.Apply (genericOne32).
var formsByID = func() (t [ref.NumIDs]ref.Form) {
	for _, f := range ref.Forms() {
		t[f.ID()] = f
	}
	return t
}()

// formID returns f.ID(), or -1 when f is not a valid form (the rules of
// ref.Form.Validate). It reads the fields one by one rather than calling f.ID:
// the inlined method copies the six bytes, which arrived in six registers, as
// wider words, a store-forwarding stall on every call that small slices feel.
// TestFormID holds it to f.ID() and f.Validate().
func formID(f Form) int {
	order, wd := int(f.Order), int(f.WeightDecay)
	if order >= numOrders || wd > int(WeightDecayFMA) || (f.Guard && f.Order != Recip) {
		return -1
	}
	return (order+numOrders*wd)<<4 | bit(f.Decay)<<3 | bit(f.EpsOutside)<<2 | bit(f.FusedAccumulator)<<1 | bit(f.Guard)
}

func bit(b bool) int {
	if b {
		return 1
	}
	return 0
}

// addGo is the pure-Go add32 and add64.
func addGo[T Float](dst, a, b []T) {
	a, b = a[:len(dst)], b[:len(dst)]
	for i := range dst {
		dst[i] = a[i] + b[i]
	}
}

// impls lists every implementation compiled in, from the narrowest to the widest.
var impls = append([]*impl{generic}, archImpls...)

// active is the implementation in use.
var active atomic.Pointer[impl]

func init() {
	active.Store(best())
	if name, ok := os.LookupEnv(EnvVar); ok {
		if err := Use(name); err != nil {
			panic(fmt.Sprintf("adagrad/kernel: %s=%s: %v", EnvVar, name, err))
		}
	}
}

// best returns the widest implementation that this CPU supports.
func best() *impl {
	for i := len(impls) - 1; i >= 0; i-- {
		if impls[i].supported() {
			return impls[i]
		}
	}
	return generic
}

// Implementations returns the names of the implementations this CPU can run,
// narrowest first: "generic" always, then for example "avx2div" (the AVX2
// kernels on the divider alone, the hybrid ones' reference), "avx2",
// "avx512div" and "avx512".
func Implementations() []string {
	var names []string
	for _, m := range impls {
		if m.supported() {
			names = append(names, m.name)
		}
	}
	return names
}

// Implementation returns the name of the implementation in use.
func Implementation() string { return active.Load().name }

// Use switches every kernel to the named implementation. It returns an error, and
// changes nothing, when the name is unknown or this CPU cannot run it. Calls that are
// under way when Use returns finish on the implementation they started with.
func Use(name string) error {
	for _, m := range impls {
		if m.name != name {
			continue
		}
		if !m.supported() {
			return fmt.Errorf("kernel: implementation %q needs %s, which this CPU (%s) lacks",
				name, featureList(m.requires), cpuid.CPU.BrandName)
		}
		active.Store(m)
		return nil
	}
	var all []string
	for _, m := range impls {
		all = append(all, m.name)
	}
	return fmt.Errorf("kernel: unknown implementation %q (built with: %s)", name, strings.Join(all, ", "))
}

func featureList(fs []cpuid.FeatureID) string {
	var names []string
	for _, f := range fs {
		if !cpuid.CPU.Supports(f) {
			names = append(names, f.String())
		}
	}
	return strings.Join(names, "+")
}
