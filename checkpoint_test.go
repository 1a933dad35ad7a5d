package adagrad

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/adagrad-go/adagrad/kernel"
)

// state is everything Load may change, for comparing an optimizer before and after.
type state struct {
	cfg   Config
	form  kernel.Form
	steps int
	sums  []uint64 // the accumulators' bits
}

func stateOf[T float32 | float64](o *Optimizer[T]) state {
	st := state{cfg: o.cfg, form: o.form, steps: o.steps}
	for _, s := range o.sums {
		for _, v := range s {
			if f, ok := any(v).(float32); ok {
				st.sums = append(st.sums, uint64(math.Float32bits(f)))
			} else {
				st.sums = append(st.sums, math.Float64bits(float64(v)))
			}
		}
	}
	return st
}

func sameState(a, b state) bool {
	return a.cfg == b.cfg && a.form == b.form && a.steps == b.steps && reflect.DeepEqual(a.sums, b.sums)
}

// trained returns an optimizer of cfg over tensors of the given sizes after steps
// random steps, made by New or NewArena.
func trained[T float32 | float64](cfg Config, arena bool, steps int, sizes ...int) *Optimizer[T] {
	rng := rand.New(rand.NewPCG(uint64(steps), uint64(len(sizes))))
	var o *Optimizer[T]
	if arena {
		o = NewArena[T](cfg, sizes...)
	} else {
		params := make([][]T, len(sizes))
		for i, n := range sizes {
			params[i] = make([]T, n)
		}
		o = New(cfg, params...)
	}
	for _, p := range o.Params() {
		for i := range p {
			p[i] = T(rng.NormFloat64())
		}
	}
	for range steps {
		stepRandom(o, rng)
	}
	return o
}

// stepRandom takes one step with random gradients.
func stepRandom[T float32 | float64](o *Optimizer[T], rng *rand.Rand) {
	grads := o.Grads()
	if grads == nil {
		for _, p := range o.params {
			grads = append(grads, make([]T, len(p)))
		}
	}
	for _, g := range grads {
		for i := range g {
			g[i] = T(rng.NormFloat64())
		}
	}
	if o.arena != nil {
		o.Step()
	} else {
		o.Step(grads...)
	}
}

// checkpointConfigs are configurations that set every field Save writes.
func checkpointConfigs() map[string]Config {
	cfgs := map[string]Config{"PyTorch": PyTorch(), "Keras": Keras()}
	d2l := D2L()
	d2l.LR = 0.4
	cfgs["D2L"] = d2l
	tf := TF()
	tf.LR, tf.Eps = 0.1, 1e-7
	cfgs["TF"] = tf
	optax := Optax()
	optax.LR = 0.05
	cfgs["Optax"] = optax
	all := PyTorch()
	all.LRDecay, all.WeightDecay, all.InitialAccumulator, all.Maximize, all.TorchForeach = 0.01, 1e-4, 0.1, true, true
	cfgs["PyTorch everything"] = all
	rms := Keras()
	rms.Decay, rms.Form.FusedAccumulator = 0.9, true
	cfgs["Keras decay fused"] = rms
	return cfgs
}

// TestCheckpointRoundTrip saves trained optimizers and loads them into fresh ones
// of another configuration: the state must come back bit for bit, and the next
// steps of both must agree, which shows the configuration and the schedule came
// back too.
func TestCheckpointRoundTrip(t *testing.T) {
	for name, cfg := range checkpointConfigs() {
		for _, arena := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/arena=%v", name, arena), func(t *testing.T) {
				testRoundTrip[float32](t, cfg, arena)
				testRoundTrip[float64](t, cfg, arena)
			})
		}
	}
}

func testRoundTrip[T float32 | float64](t *testing.T, cfg Config, arena bool) {
	sizes := []int{5, 0, 1, 33, 1000}
	o := trained[T](cfg, arena, 7, sizes...)
	var buf bytes.Buffer
	if err := o.Save(&buf); err != nil {
		t.Fatal(err)
	}
	other := D2L()
	pool := kernel.DefaultPool()
	other.LR, other.Parallel = 3, pool
	p := trained[T](other, arena, 2, sizes...)
	copyParams(p, o)
	r := bytes.NewReader(append(buf.Bytes(), "after"...))
	if err := p.Load(r); err != nil {
		t.Fatal(err)
	}
	if r.Len() != len("after") {
		t.Errorf("Load left %d bytes of the reader, want exactly the %d after the checkpoint", r.Len(), len("after"))
	}
	want := stateOf(o)
	want.cfg.Parallel = pool
	if got := stateOf(p); !sameState(got, want) {
		t.Fatalf("loaded state differs:\n got cfg %+v steps %d\nwant cfg %+v steps %d", got.cfg, got.steps, want.cfg, want.steps)
	}
	var again bytes.Buffer
	if err := p.Save(&again); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(again.Bytes(), buf.Bytes()) {
		t.Errorf("saving the loaded state wrote other bytes")
	}
	r1, r2 := rand.New(rand.NewPCG(9, 9)), rand.New(rand.NewPCG(9, 9))
	for range 3 {
		stepRandom(o, r1)
		stepRandom(p, r2)
	}
	want, got := stateOf(o), stateOf(p)
	want.cfg.Parallel = pool
	if !sameState(got, want) || !reflect.DeepEqual(o.Params(), p.Params()) {
		t.Fatalf("the steps after Load differ from the original's")
	}
}

// copyParams sets dst's parameters to src's, as a model restores its own.
func copyParams[T float32 | float64](dst, src *Optimizer[T]) {
	for i, p := range src.Params() {
		copy(dst.Params()[i], p)
	}
}

// TestCheckpointCoversConfig fails when Config or Form gains a field, which the
// format (and its version) must then be taught.
func TestCheckpointCoversConfig(t *testing.T) {
	var fields []string
	for _, v := range []any{Config{}, kernel.Form{}} {
		typ := reflect.TypeOf(v)
		for i := range typ.NumField() {
			fields = append(fields, typ.Field(i).Name)
		}
	}
	want := "LR LRDecay WeightDecay InitialAccumulator Eps Maximize Decay Form TorchForeach Parallel Workers " +
		"EpsOutside Order WeightDecay FusedAccumulator Decay Guard"
	if got := strings.Join(fields, " "); got != want {
		t.Errorf("Config and Form have the fields\n%s\nthe checkpoint format knows\n%s\nteach Save and Load the new ones and raise checkpointVersion", got, want)
	}
}

// validCheckpoint is a small checkpoint of every preset field, its optimizer, and
// a fresh optimizer of the same shapes to load it into.
func validCheckpoint(t testing.TB) ([]byte, *Optimizer[float32], *Optimizer[float32]) {
	cfg := checkpointConfigs()["PyTorch everything"]
	o := trained[float32](cfg, false, 3, 3, 0, 17)
	var buf bytes.Buffer
	if err := o.Save(&buf); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes(), o, trained[float32](D2L2(), false, 1, 3, 0, 17)
}

// D2L2 is d2l's form with a rate, a configuration unlike validCheckpoint's.
func D2L2() Config { c := D2L(); c.LR = 2; return c }

// rehash recomputes the header checksum of a checkpoint of count tensors, so that
// a deliberately changed field is read as the writer's.
func rehash(b []byte, count int) []byte {
	b = append([]byte(nil), b...)
	end := headerFixed + 8*count
	binary.LittleEndian.PutUint32(b[end:], crc32.Checksum(b[:end], castagnoli))
	return b
}

// TestCheckpointRejects feeds Load every truncation and every single-bit flip of a
// valid checkpoint, and crafted headers: each must fail with the right error and
// leave the optimizer unchanged.
func TestCheckpointRejects(t *testing.T) {
	good, _, fresh := validCheckpoint(t)
	before := stateOf(fresh)
	check := func(what string, in []byte, want error, msg string) {
		t.Helper()
		err := fresh.Load(bytes.NewReader(in))
		if !errors.Is(err, want) || !strings.Contains(fmt.Sprint(err), msg) {
			t.Fatalf("%s: Load = %v, want %v saying %q", what, err, want, msg)
		}
		if !sameState(stateOf(fresh), before) {
			t.Fatalf("%s: a failed Load changed the optimizer", what)
		}
	}
	for n := range len(good) {
		check(fmt.Sprintf("truncated to %d bytes", n), good[:n], ErrCheckpointCorrupt, "truncated")
	}
	for bit := range 8 * len(good) {
		bad := append([]byte(nil), good...)
		bad[bit/8] ^= 1 << (bit % 8)
		err := fresh.Load(bytes.NewReader(bad))
		switch {
		case bit/8 >= 8 && bit/8 < 12:
			if !errors.Is(err, ErrCheckpointVersion) {
				t.Fatalf("bit %d (version) flipped: %v", bit, err)
			}
		case bit/8 >= headerFixed-8 && bit/8 < headerFixed:
			if !errors.Is(err, ErrCheckpointMismatch) { // the count, compared before the checksum
				t.Fatalf("bit %d (count) flipped: %v", bit, err)
			}
		case !errors.Is(err, ErrCheckpointCorrupt):
			t.Fatalf("bit %d flipped: Load = %v, want ErrCheckpointCorrupt", bit, err)
		}
		if !sameState(stateOf(fresh), before) {
			t.Fatalf("bit %d flipped: a failed Load changed the optimizer", bit)
		}
	}

	const count = 3
	field := func(off int, v uint64) []byte {
		b := append([]byte(nil), good...)
		binary.LittleEndian.PutUint64(b[off:], v)
		return rehash(b, count)
	}
	version := append([]byte(nil), good...)
	binary.LittleEndian.PutUint32(version[8:], 2)
	check("version 2", version, ErrCheckpointVersion, "version 2; this package reads version 1")
	check("magic", append([]byte("PK\x03\x04"), good[4:]...), ErrCheckpointCorrupt, "not an adagrad checkpoint")
	check("empty", nil, ErrCheckpointCorrupt, "truncated")
	check("hostile count", field(headerFixed-8, 1<<62), ErrCheckpointMismatch, "holds 4611686018427387904 tensors, the optimizer 3")
	check("hostile length", field(headerFixed+8, 1<<62), ErrCheckpointMismatch, "tensor 1 has 4611686018427387904 elements, the optimizer's 0")
	check("other length", field(headerFixed+16, 16), ErrCheckpointMismatch, "tensor 2 has 16 elements, the optimizer's 17")
	check("steps", field(headerFixed-16, math.MaxUint64), ErrCheckpointCorrupt, "step count 18446744073709551615")
	check("negative LR", field(16, math.Float64bits(-1)), ErrCheckpointCorrupt, "Config.LR is -1")
	check("NaN eps", field(16+4*8, math.Float64bits(math.NaN())), ErrCheckpointCorrupt, "Config.Eps is NaN (unset: a preset with no default for it leaves it NaN)")
	flags := append([]byte(nil), good...)
	flags[13] |= 0x80
	check("flags", rehash(flags, count), ErrCheckpointCorrupt, "unknown flags 0x80")
	elem := append([]byte(nil), good...)
	elem[12] = 8
	check("float64 into float32", rehash(elem, count), ErrCheckpointMismatch, "float64 accumulators, the optimizer's are float32")
	elem[12] = 2
	check("element size 2", rehash(elem, count), ErrCheckpointCorrupt, "element size 2")
	order := append([]byte(nil), good...)
	order[14] = 9
	check("order", rehash(order, count), ErrCheckpointCorrupt, "corrupt checkpoint: Config.Form: invalid form: unknown step order 9")

	// A float32 checkpoint into a float64 optimizer of the same shapes.
	o64 := trained[float64](D2L2(), false, 1, 3, 0, 17)
	if err := o64.Load(bytes.NewReader(good)); !errors.Is(err, ErrCheckpointMismatch) {
		t.Errorf("float32 checkpoint into float64: %v", err)
	}

	// A reader that fails is reported as itself, not as corruption.
	boom := errors.New("disk on fire")
	err := fresh.Load(io.MultiReader(bytes.NewReader(good[:50]), iotestErr{boom}))
	if !errors.Is(err, boom) || errors.Is(err, ErrCheckpointCorrupt) {
		t.Errorf("failing reader: %v", err)
	}
}

type iotestErr struct{ err error }

func (r iotestErr) Read([]byte) (int, error) { return 0, r.err }

// TestCheckpointHostileAllocation: length fields claiming exabytes must not be
// believed. Loading such headers allocates about as much as a valid load of the
// optimizer's own small shapes.
func TestCheckpointHostileAllocation(t *testing.T) {
	good, _, fresh := validCheckpoint(t)
	hostile := append([]byte(nil), good...)
	binary.LittleEndian.PutUint64(hostile[headerFixed-8:], math.MaxUint64)
	long := append([]byte(nil), good...)
	binary.LittleEndian.PutUint64(long[headerFixed+16:], 1<<40)
	long = rehash(long, 3)
	for name, in := range map[string][]byte{"count": hostile, "length": long} {
		var m0, m1 runtime.MemStats
		runtime.ReadMemStats(&m0)
		for range 100 {
			if fresh.Load(bytes.NewReader(in)) == nil {
				t.Fatalf("%s: a hostile checkpoint loaded", name)
			}
		}
		runtime.ReadMemStats(&m1)
		if per := (m1.TotalAlloc - m0.TotalAlloc) / 100; per > 4096 {
			t.Errorf("%s: %d bytes allocated per Load of a hostile header", name, per)
		}
	}
}

// TestSaveFile: SaveFile replaces a file whole, keeps its permissions, leaves no
// temporary file, and on failure leaves the old file as it was.
func TestSaveFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "opt.ckpt")
	o := trained[float64](PyTorch(), false, 4, 10, 3)
	if err := o.SaveFile(path); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o644 {
		t.Fatalf("new checkpoint: %v, mode %v; want 0644", err, fi.Mode())
	}
	if err := os.Chmod(path, 0o600); err != nil {
		t.Fatal(err)
	}
	stepRandom(o, rand.New(rand.NewPCG(1, 1)))
	if err := o.SaveFile(path); err != nil {
		t.Fatal(err)
	}
	if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o600 {
		t.Errorf("mode after replacing: %v, want the old file's 0600", fi.Mode())
	}
	p := trained[float64](D2L2(), false, 0, 10, 3)
	if err := p.LoadFile(path); err != nil {
		t.Fatal(err)
	}
	if p.Steps() != 5 || !reflect.DeepEqual(p.sums, o.sums) {
		t.Errorf("LoadFile: %d steps", p.Steps())
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("the directory holds %d entries, want the checkpoint alone", len(entries))
	}

	// Trailing bytes make the file corrupt, and nothing is loaded.
	withTail, _ := os.ReadFile(path)
	if err := os.WriteFile(path+"2", append(withTail, 0), 0o644); err != nil {
		t.Fatal(err)
	}
	q := trained[float64](D2L2(), false, 0, 10, 3)
	if err := q.LoadFile(path + "2"); !errors.Is(err, ErrCheckpointCorrupt) || q.Steps() != 0 {
		t.Errorf("trailing byte: %v, %d steps", err, q.Steps())
	}
	if err := q.LoadFile(filepath.Join(dir, "missing")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}

	// A failed save (the target is a directory) leaves no temporary file.
	sub := filepath.Join(dir, "sub")
	if err := os.Mkdir(sub, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := o.SaveFile(sub); err == nil {
		t.Fatal("SaveFile over a directory succeeded")
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 3 {
		t.Errorf("after a failed save the directory holds %d entries, want 3", len(entries))
	}
	if err := o.SaveFile(filepath.Join(dir, "no", "such", "dir")); err == nil {
		t.Error("SaveFile into a missing directory succeeded")
	}
}

// crashChild is the environment variable that makes TestSaveFileCrash's child
// process save in a loop until it is killed.
const crashChild = "ADAGRAD_TEST_CRASH_CHILD"

// crashSizes are the crash test's tensors: large enough that a save takes a few
// milliseconds, so that kills land in the middle of writes.
var crashSizes = []int{1 << 18, 7}

// crashGrads are the constant gradients of the crash test, whose state after k
// steps the parent recomputes.
func crashGrads() [][]float32 {
	g := make([][]float32, len(crashSizes))
	for i, n := range crashSizes {
		g[i] = make([]float32, n)
		for j := range g[i] {
			g[i][j] = float32(j%7) - 3
		}
	}
	return g
}

// TestSaveFileCrash kills a process that saves checkpoints in a loop, at random
// moments, many times: the file must always load, whole, as one of the states the
// child saved. (A killed process cannot show what a power cut does to unflushed
// data; SaveFile's fsyncs are what covers that.)
func TestSaveFileCrash(t *testing.T) {
	if path := os.Getenv(crashChild); path != "" {
		params := make([][]float32, len(crashSizes))
		for i, n := range crashSizes {
			params[i] = make([]float32, n)
		}
		o, g := New(D2L2(), params...), crashGrads()
		for {
			o.Step(g...)
			if err := o.SaveFile(path); err != nil {
				fmt.Fprintln(os.Stderr, err)
				os.Exit(3)
			}
		}
	}
	if runtime.GOOS == "js" || runtime.GOOS == "wasip1" || runtime.GOOS == "ios" || runtime.GOOS == "android" {
		t.Skip("no child processes here")
	}
	kills := 200
	if testing.Short() {
		kills = 20
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "crash.ckpt")
	params := make([][]float32, len(crashSizes))
	for i, n := range crashSizes {
		params[i] = make([]float32, n)
	}
	if err := New(D2L2(), params...).SaveFile(path); err != nil {
		t.Fatal(err)
	}
	// replay[k] is the state after k steps, computed as needed.
	replay := []state{stateOf(New(D2L2(), params...))}
	ref, g := New(D2L2(), params...), crashGrads()
	rng := rand.New(rand.NewPCG(2026, 11))
	midSave, steps := 0, map[int]bool{}
	for i := range kills {
		cmd := exec.Command(exe, "-test.run=^TestSaveFileCrash$")
		cmd.Env = append(os.Environ(), crashChild+"="+path)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		if err := cmd.Start(); err != nil {
			if errors.Is(err, syscall.ENOEXEC) {
				// Under an emulator (go test -exec qemu-…) the binary is not the host's.
				t.Skipf("cannot run the test binary as a child process: %v", err)
			}
			t.Fatal(err)
		}
		time.Sleep(time.Duration(rng.IntN(25_000)) * time.Microsecond)
		cmd.Process.Kill()
		if err := cmd.Wait(); err != nil && cmd.ProcessState.ExitCode() == 3 {
			t.Fatalf("child: %s", stderr.String())
		}
		o := New(D2L2(), params...)
		if err := o.LoadFile(path); err != nil {
			t.Fatalf("kill %d: %v", i, err)
		}
		for len(replay) <= o.Steps() {
			ref.Step(g...)
			replay = append(replay, stateOf(ref))
		}
		if !sameState(stateOf(o), replay[o.Steps()]) {
			t.Fatalf("kill %d: the file loads as step %d but holds other accumulators", i, o.Steps())
		}
		steps[o.Steps()] = true
		entries, _ := os.ReadDir(dir)
		for _, e := range entries {
			if strings.HasPrefix(e.Name(), ".crash.ckpt.tmp-") {
				midSave++
				os.Remove(filepath.Join(dir, e.Name()))
			}
		}
	}
	t.Logf("%d kills: %d mid-save (a temporary file left behind), %d distinct saved states loaded", kills, midSave, len(steps))
	if !testing.Short() && midSave == 0 {
		t.Errorf("no kill landed in the middle of a save: the test proved nothing")
	}
}

// FuzzLoad feeds Load arbitrary bytes: it either fails and leaves the optimizer as
// it was, or succeeds on a checkpoint that Save writes back byte for byte.
func FuzzLoad(f *testing.F) {
	good, _, _ := validCheckpoint(f)
	f.Add(good)
	f.Add(good[:len(good)/2])
	f.Add([]byte(checkpointMagic))
	for _, cfg := range checkpointConfigs() {
		var buf bytes.Buffer
		trained[float32](cfg, false, 2, 3, 0, 17).Save(&buf)
		f.Add(buf.Bytes())
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		o := trained[float32](D2L2(), false, 1, 3, 0, 17)
		before := stateOf(o)
		r := bytes.NewReader(in)
		if err := o.Load(r); err != nil {
			if !sameState(stateOf(o), before) {
				t.Fatalf("failed Load (%v) changed the optimizer", err)
			}
			if !errors.Is(err, ErrCheckpointCorrupt) && !errors.Is(err, ErrCheckpointVersion) && !errors.Is(err, ErrCheckpointMismatch) {
				t.Fatalf("Load of bytes: %v", err)
			}
			return
		}
		var out bytes.Buffer
		if err := o.Save(&out); err != nil {
			t.Fatal(err)
		}
		if used := in[:len(in)-r.Len()]; !bytes.Equal(out.Bytes(), used) {
			t.Fatalf("Load accepted %d bytes that Save writes as %d other bytes", len(used), out.Len())
		}
	})
}
