package kernel

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/adagrad-go/adagrad/ref"
)

// formParams are the scalars every form is tested with: usual values, decay and gain
// of every kind (read only by the Decay forms), zero and negative rates, eps 0, and
// weight decay of either sign.
var formParams = []params{
	{lr: 0.1, eps: 1e-6, wd: 0.01, decay: 1, gain: 1},
	{lr: 0.05, eps: 1e-7, wd: 0.3, decay: 0.9, gain: 0.1},
	{lr: 0, eps: 0, wd: -0.2, decay: 1, gain: 1},
	{lr: -0.5, eps: 1e-10, wd: 0, decay: 0.5, gain: 2},
}

// compareForm runs form f on the implementation in use and on the reference, and
// checks bits, guards and that g is unchanged.
func compareForm[T float](t *testing.T, rng *rand.Rand, f Form, class string, n, off int, p params) {
	t.Helper()
	x, s, g := newGuarded[T](n, off), newGuarded[T](n, (off+3)%16), newGuarded[T](n, (off+9)%16)
	fill(rng, class, x.data, s.data, g.data)
	wantX, wantS, g0 := append([]T(nil), x.data...), append([]T(nil), s.data...), append([]T(nil), g.data...)
	refApply(f, wantX, wantS, append([]T(nil), g0...), p)

	Apply(f, x.data, s.data, g.data, paramsIn[T](p))

	what := fmt.Sprintf("%v %s n=%d off=%d %+v", f, class, n, off, p)
	verify(t, what, x, s, g, wantX, wantS, g0)
}

// testForms runs every form on every implementation: every length through the
// widest kernel's loops and tail, every class of value, every parameter set.
func testForms[T float](t *testing.T) {
	forEachImpl(t, func(t *testing.T) {
		for _, f := range ref.Forms() {
			t.Run(f.String(), func(t *testing.T) {
				rng := rand.New(rand.NewPCG(uint64(f.ID()), 11))
				// Every length up to 80 (every tail of every width), then every
				// fifth, which still lands on every residue mod 8 and 16.
				step, every := 5, 80
				if testing.Short() {
					// Under qemu: every length through two NEON blocks and a tail.
					step, every = 13, 40
				}
				for n := 0; n <= maxSmall; n++ {
					if n > every && n%step != 0 {
						continue
					}
					for ci, class := range classes {
						compareForm[T](t, rng, f, class, n, (n+ci)%16, formParams[(n+ci)%len(formParams)])
					}
				}
				large := 1<<16 + 5
				if testing.Short() {
					large = 1<<12 + 5 // still 64 blocks of the widest kernel; -short runs under qemu
				}
				compareForm[T](t, rng, f, "ordinary", large, 3, formParams[1])
			})
		}
	})
}

func TestForms32(t *testing.T) { testForms[float32](t) }
func TestForms64(t *testing.T) { testForms[float64](t) }

// formID must agree with ref.Form.ID on every valid form and reject exactly the
// forms Validate rejects, including out-of-range fields whose ID would alias a
// valid form's.
func TestFormID(t *testing.T) {
	valid := 0
	for order := range 5 {
		for wd := range 5 {
			for bits := range 16 {
				f := Form{Order: ref.Order(order), WeightDecay: ref.WeightDecay(wd),
					Decay: bits&8 != 0, EpsOutside: bits&4 != 0, FusedAccumulator: bits&2 != 0, Guard: bits&1 != 0}
				id, err := formID(f), f.Validate()
				switch {
				case err != nil && id != -1:
					t.Errorf("%+v: formID %d, but Validate says %v", f, id, err)
				case err == nil && id != f.ID():
					t.Errorf("%+v: formID %d, ID %d", f, id, f.ID())
				case err == nil:
					valid++
				}
			}
		}
	}
	if valid != len(ref.Forms()) {
		t.Errorf("%d valid forms, ref has %d", valid, len(ref.Forms()))
	}
}
