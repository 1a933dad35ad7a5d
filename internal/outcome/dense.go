package outcome

import (
	"fmt"
	"strings"
	"testing"

	"github.com/adagrad-go/adagrad/internal/fbits"
	"github.com/adagrad-go/adagrad/ref"
)

// DenseArgs are the arguments of one call of a dense step: every slice a window
// of a Mem.
type DenseArgs[T ref.Float] struct {
	Form    ref.Form // the zero Form for a function that takes none
	X, S, G []T
	P       ref.Params[T]
}

// DenseOp is a dense step under test, such as kernel.Apply[float32]: what its
// messages call it, what it takes, and how to call it.
type DenseOp[T ref.Float] struct {
	Name string // as its messages name it: "kernel.Apply"
	Form bool   // it takes a Form; without one it runs only the cases of the zero Form
	Call func(DenseArgs[T])
	// Want computes what Call must by another route, the reference or an oracle,
	// on memory of the same contents; nil leaves an accepted step to the checks
	// every step must pass (see Test).
	Want func(DenseArgs[T])
	// Rel, when not 0, is how far an element of x may be from Want's, relative
	// to the larger: UpdateFast's estimate is pinned only at NaN, ±Inf and zero.
	Rel float64
}

// DenseCase is one row of the dense table.
type DenseCase[T ref.Float] struct {
	Name  string
	Args  func(m *Mem[T, int32]) DenseArgs[T]
	Panic string // the exact message, naming the op; "" accepts the call
	Steps bool   // the accepted call steps; otherwise it must write nothing
}

// denseLen is the length of most dense cases: past every small-slice threshold
// and every vector width, with a tail, and less than a region of a Mem.
const denseLen = 37

// Cases lists the dense cases that apply to op: nil and empty slices in every
// combination, lengths that differ, each pair of slices sharing memory (by one
// element at either end too), adjacent slices, invalid forms (when op takes a
// Form) and the odd scalars on the scalar path and the vector kernels.
func (op DenseOp[T]) Cases() []DenseCase[T] {
	const n = denseLen
	args := func(x, s, g func(m *Mem[T, int32]) []T) func(m *Mem[T, int32]) DenseArgs[T] {
		return func(m *Mem[T, int32]) DenseArgs[T] {
			return DenseArgs[T]{X: x(m), S: s(m), G: g(m), P: paramsOf[T](std)}
		}
	}
	at := func(lo, n int) func(m *Mem[T, int32]) []T { return func(m *Mem[T, int32]) []T { return m.At(lo, n) } }
	null := func(*Mem[T, int32]) []T { return nil }
	fixed := func(xl, xn, sl, sn, gl, gn int) func(m *Mem[T, int32]) DenseArgs[T] {
		return args(at(xl, xn), at(sl, sn), at(gl, gn))
	}
	lengths := func(lx, ls, lg int) string {
		return fmt.Sprintf("%s: len(x)=%d len(s)=%d len(g)=%d", op.Name, lx, ls, lg)
	}
	overlap := func(a, b string) string { return op.Name + ": " + a + " and " + b + " overlap" }
	withForm := func(f ref.Form, a func(m *Mem[T, int32]) DenseArgs[T]) func(m *Mem[T, int32]) DenseArgs[T] {
		return func(m *Mem[T, int32]) DenseArgs[T] { c := a(m); c.Form = f; return c }
	}

	var cases []DenseCase[T]
	// Nil and empty, in every combination: zero-length slices, accepted, nothing
	// written.
	for mask := range 8 {
		var name []string
		var pick [3]func(m *Mem[T, int32]) []T
		for bit, v := range []string{"x", "s", "g"} {
			pick[bit] = at(64*bit, 0)
			name = append(name, v+"=empty")
			if mask&(1<<bit) != 0 {
				pick[bit], name[bit] = null, v+"=nil"
			}
		}
		cases = append(cases, DenseCase[T]{Name: strings.Join(name, " "), Args: args(pick[0], pick[1], pick[2])})
	}
	nanLR := fixed(0, 0, 64, 0, 128, 0)
	cases = append(cases,
		DenseCase[T]{Name: "one empty slice thrice (empty never overlaps)", Args: fixed(5, 0, 5, 0, 5, 0)},
		DenseCase[T]{Name: "empty slices with NaN lr", Args: func(m *Mem[T, int32]) DenseArgs[T] {
			a := nanLR(m)
			a.P = paramsOf[T](scalars{lr: nan, eps: nan})
			return a
		}},

		// Lengths that differ.
		DenseCase[T]{Name: "len(g) one short", Args: fixed(0, n, 64, n, 128, n-1), Panic: lengths(n, n, n-1)},
		DenseCase[T]{Name: "len(s) one short", Args: fixed(0, n, 64, n-1, 128, n), Panic: lengths(n, n-1, n)},
		DenseCase[T]{Name: "len(x) one long", Args: fixed(0, n+1, 64, n, 128, n), Panic: lengths(n+1, n, n)},
		DenseCase[T]{Name: "x nil", Args: args(null, at(64, n), at(128, n)), Panic: lengths(0, n, n)},
		DenseCase[T]{Name: "g nil", Args: args(at(0, n), at(64, n), null), Panic: lengths(n, n, 0)},
		DenseCase[T]{Name: "x and s nil, g of 1", Args: args(null, null, at(128, 1)), Panic: lengths(0, 0, 1)},
		DenseCase[T]{Name: "lengths differ and overlap: the lengths are named", Args: fixed(0, n, 0, n, 0, n-1), Panic: lengths(n, n, n-1)},

		// Slices that share memory.
		DenseCase[T]{Name: "x is s", Args: fixed(0, n, 0, n, 128, n), Panic: overlap("x", "s")},
		DenseCase[T]{Name: "x is g", Args: fixed(0, n, 64, n, 0, n), Panic: overlap("x", "g")},
		DenseCase[T]{Name: "s is g", Args: fixed(0, n, 64, n, 64, n), Panic: overlap("s", "g")},
		DenseCase[T]{Name: "x, s and g the same", Args: fixed(0, n, 0, n, 0, n), Panic: overlap("x", "s")},
		DenseCase[T]{Name: "s starts on x's last element", Args: fixed(0, n, n-1, n, 128, n), Panic: overlap("x", "s")},
		DenseCase[T]{Name: "x starts on s's last element", Args: fixed(n-1, n, 0, n, 128, n), Panic: overlap("x", "s")},
		DenseCase[T]{Name: "g ends on x's first element", Args: fixed(64, n, 128, n, 64-n+1, n), Panic: overlap("x", "g")},
		DenseCase[T]{Name: "s one element after g", Args: fixed(0, n, 65, n, 64, n), Panic: overlap("s", "g")},
		DenseCase[T]{Name: "single elements, x is s", Args: fixed(3, 1, 3, 1, 128, 1), Panic: overlap("x", "s")},
		DenseCase[T]{Name: "adjacent slices do not overlap", Args: fixed(0, n, n, n, 2*n, n), Steps: true},
	)
	// Forms that are not valid: rejected whatever the length, but after the
	// lengths and the overlap.
	if op.Form {
		for _, bf := range BadForms {
			cases = append(cases,
				DenseCase[T]{Name: "form " + bf.Why, Args: withForm(bf.Form, fixed(0, n, 64, n, 128, n)), Panic: op.Name + ": " + bf.Why},
				DenseCase[T]{Name: "nil slices, form " + bf.Why, Args: withForm(bf.Form, args(null, null, null)), Panic: op.Name + ": " + bf.Why},
			)
		}
		cases = append(cases,
			DenseCase[T]{Name: "bad form and lengths: the lengths are named", Args: withForm(BadForms[0].Form, fixed(0, n, 64, n, 128, 2)),
				Panic: lengths(n, n, 2)},
			DenseCase[T]{Name: "bad form and overlap: the overlap is named", Args: withForm(BadForms[0].Form, fixed(0, n, 64, n, 64, n)),
				Panic: overlap("s", "g")},
		)
	}
	// Scalars are not checked: each form computes with them what the formula
	// gives, on the scalar path (3 elements) and the vector kernels.
	for _, f := range formsOf(op.Form) {
		for _, length := range []int{3, n} {
			eachMathRow(f, func(name string, p scalars) {
				slices := withForm(f, fixed(0, length, 64, length, 128, length))
				cases = append(cases, DenseCase[T]{Name: fmt.Sprintf("%v n=%d %s", f, length, name), Steps: true,
					Args: func(m *Mem[T, int32]) DenseArgs[T] { a := slices(m); a.P = paramsOf[T](p); return a }})
			})
		}
	}
	return cases
}

// Test runs every case of op as a subtest. A call must have the case's outcome;
// one that is rejected, or accepted without a step, must leave every bit of the
// memory as it was. One that steps may write x and s alone, must give Want's
// bits where there is a Want, and must do what the unchecked scalars make of
// the formula: a NaN lr makes every x NaN, a negative lr raises every x (the
// memory's values are positive, so every g' is), and lr never enters s.
func (op DenseOp[T]) Test(t *testing.T) {
	for _, c := range op.Cases() {
		t.Run(c.Name, func(t *testing.T) {
			m := NewMem[T, int32](seed)
			a := c.Args(m)
			m.hold(t, func() error { op.Call(a); return nil }, c.Panic, "", c.Steps, a.X, a.S)
			if !c.Steps {
				return
			}
			if op.Want != nil {
				want := NewMem[T, int32](seed)
				op.Want(c.Args(want))
				m.Matches(t, want, op.Rel)
			}
			x0 := c.Args(NewMem[T, int32](seed)).X
			for i, v := range a.X {
				switch lr := a.P.LR; {
				case lr != lr && v == v:
					t.Fatalf("x[%d] = %v with a NaN lr, want NaN", i, v)
				case lr < 0 && !(v > x0[i]):
					t.Fatalf("x[%d] went from %v to %v with lr %v: a negative lr ascends", i, x0[i], v, lr)
				}
			}
			other := c.Args(NewMem[T, int32](seed))
			other.P.LR = 0.75 // no case's
			op.Call(other)
			for i, v := range a.S {
				if !fbits.Same(v, other.S[i]) {
					t.Fatalf("s[%d] = %v with lr %v, %v with lr 0.75: lr entered s", i, v, a.P.LR, other.S[i])
				}
			}
		})
	}
}
