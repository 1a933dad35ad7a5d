package adagrad

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"unsafe"

	"github.com/adagrad-go/adagrad/kernel"
	"github.com/adagrad-go/adagrad/ref"
)

// A checkpoint is the optimizer's state, version 1, little-endian throughout:
//
//	magic    8 bytes   "\x89ADAGRAD"
//	version  uint32    1
//	elem     uint8     4 (float32) or 8 (float64)
//	flags    uint8     bit 0 Maximize, 1 TorchForeach, 2 Form.EpsOutside,
//	                   3 Form.FusedAccumulator, 4 Form.Decay, 5 Form.Guard; others 0
//	order    uint8     Form.Order
//	wd       uint8     Form.WeightDecay
//	config   6×float64 LR, LRDecay, WeightDecay, InitialAccumulator, Eps, Decay
//	steps    uint64
//	count    uint64    the number of tensors
//	lengths  count×uint64
//	hcrc     uint32    CRC-32C (Castagnoli) of everything above
//	data     the accumulators, tensor after tensor, as IEEE 754 bits
//	dcrc     uint32    CRC-32C of data
//
// The header has its own checksum so that its length fields are known to be the
// writer's before they are compared with the optimizer's shapes; nothing is
// allocated from a length the file gives, only from the optimizer's own.
const (
	checkpointMagic   = "\x89ADAGRAD"
	checkpointVersion = 1
	headerFixed       = 8 + 4 + 4 + 6*8 + 8 + 8 // through count
)

const (
	flagMaximize = 1 << iota
	flagTorchForeach
	flagEpsOutside
	flagFusedAccumulator
	flagDecay
	flagGuard
	flagsKnown = 1<<iota - 1
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// CheckpointError is the type of the errors of Load and LoadFile below, for
// errors.Is; the error returned wraps one and says more. They are constants, not
// variables, so that no importer can replace one.
type CheckpointError string

func (e CheckpointError) Error() string { return string(e) }

const (
	// ErrCheckpointCorrupt: the input is not a whole, intact checkpoint (wrong
	// magic number, truncated, a checksum mismatch, an impossible field).
	ErrCheckpointCorrupt CheckpointError = "adagrad: corrupt checkpoint"
	// ErrCheckpointVersion: the checkpoint is of a format version this package does
	// not read.
	ErrCheckpointVersion CheckpointError = "adagrad: unsupported checkpoint version"
	// ErrCheckpointMismatch: an intact checkpoint of other tensors (their number or
	// lengths) or of the other element type than the optimizer's.
	ErrCheckpointMismatch CheckpointError = "adagrad: checkpoint does not match the optimizer"
)

// Save writes the optimizer's state to w: its configuration, the step count and
// every accumulator, in a versioned binary format with checksums (see Load). The
// parameters are not included: they belong to the model and are saved with it (for
// an optimizer made by NewArena, from Params). Config.Parallel and Config.Workers
// are not saved either: they say how this process runs a step, not what the step
// computes.
func (o *Optimizer[T]) Save(w io.Writer) error {
	var zero T
	c := o.cfg
	hdr := make([]byte, 0, headerFixed+8*len(o.sums)+4)
	hdr = append(hdr, checkpointMagic...)
	hdr = binary.LittleEndian.AppendUint32(hdr, checkpointVersion)
	var flags byte
	for i, on := range [...]bool{c.Maximize, c.TorchForeach, c.Form.EpsOutside, c.Form.FusedAccumulator, c.Form.Decay, c.Form.Guard} {
		if on {
			flags |= 1 << i
		}
	}
	hdr = append(hdr, byte(unsafe.Sizeof(zero)), flags, byte(c.Form.Order), byte(c.Form.WeightDecay))
	for _, v := range [...]float64{c.LR, c.LRDecay, c.WeightDecay, c.InitialAccumulator, c.Eps, c.Decay} {
		hdr = binary.LittleEndian.AppendUint64(hdr, math.Float64bits(v))
	}
	hdr = binary.LittleEndian.AppendUint64(hdr, uint64(o.steps))
	hdr = binary.LittleEndian.AppendUint64(hdr, uint64(len(o.sums)))
	for _, s := range o.sums {
		hdr = binary.LittleEndian.AppendUint64(hdr, uint64(len(s)))
	}
	hdr = binary.LittleEndian.AppendUint32(hdr, crc32.Checksum(hdr, castagnoli))
	if _, err := w.Write(hdr); err != nil {
		return fmt.Errorf("adagrad: Save: %w", err)
	}
	crc := uint32(0)
	buf := make([]byte, 0, 32<<10)
	flush := func() error {
		crc = crc32.Update(crc, castagnoli, buf)
		_, err := w.Write(buf)
		buf = buf[:0]
		return err
	}
	for _, s := range o.sums {
		for _, v := range s {
			if len(buf) == cap(buf) {
				if err := flush(); err != nil {
					return fmt.Errorf("adagrad: Save: %w", err)
				}
			}
			buf = appendFloat(buf, v)
		}
	}
	if err := flush(); err != nil {
		return fmt.Errorf("adagrad: Save: %w", err)
	}
	if _, err := w.Write(binary.LittleEndian.AppendUint32(nil, crc)); err != nil {
		return fmt.Errorf("adagrad: Save: %w", err)
	}
	return nil
}

func appendFloat[T Float](b []byte, v T) []byte {
	if x, ok := any(v).(float32); ok {
		return binary.LittleEndian.AppendUint32(b, math.Float32bits(x))
	}
	return binary.LittleEndian.AppendUint64(b, math.Float64bits(float64(v)))
}

// Load restores the state that Save wrote: the step count, every accumulator, and
// the configuration (all of it but Parallel and Workers, which stay the receiver's), as
// PyTorch's load_state_dict restores the hyperparameters, so that the rate's
// schedule resumes where it was. The checkpoint must hold as many tensors as the
// optimizer, of the same lengths and element type.
//
// Load reads exactly the checkpoint's bytes from r, nothing after them. It checks
// everything before it changes anything: on any error the optimizer is as it was.
// The errors wrap ErrCheckpointCorrupt, ErrCheckpointVersion or
// ErrCheckpointMismatch, or are r's own. Load allocates no more than the size of
// the accumulators, whatever the input says, and needs that much to stage them.
func (o *Optimizer[T]) Load(r io.Reader) error {
	st, err := o.read(r)
	if err != nil {
		return err
	}
	o.commit(st)
	return nil
}

// loaded is a checkpoint read and checked, not yet applied.
type loaded[T Float] struct {
	cfg    Config
	steps  int
	staged []T // the accumulators, end to end
}

// read reads and checks a checkpoint for o without changing o.
func (o *Optimizer[T]) read(r io.Reader) (*loaded[T], error) {
	var zero T
	fixed := make([]byte, headerFixed)
	if err := readFull(r, fixed[:12]); err != nil {
		return nil, err
	}
	if string(fixed[:8]) != checkpointMagic {
		return nil, fmt.Errorf("%w: not an adagrad checkpoint (magic number %q)", ErrCheckpointCorrupt, fixed[:8])
	}
	if v := binary.LittleEndian.Uint32(fixed[8:]); v != checkpointVersion {
		return nil, fmt.Errorf("%w: version %d; this package reads version %d", ErrCheckpointVersion, v, checkpointVersion)
	}
	if err := readFull(r, fixed[12:]); err != nil {
		return nil, err
	}
	count := binary.LittleEndian.Uint64(fixed[headerFixed-8:])
	if count != uint64(len(o.sums)) {
		return nil, fmt.Errorf("%w: it holds %d tensors, the optimizer %d", ErrCheckpointMismatch, count, len(o.sums))
	}
	rest := make([]byte, 8*count+4)
	if err := readFull(r, rest); err != nil {
		return nil, err
	}
	hdr, lengths := append(fixed, rest[:8*count]...), rest[:8*count]
	if want, got := crc32.Checksum(hdr, castagnoli), binary.LittleEndian.Uint32(rest[8*count:]); got != want {
		return nil, fmt.Errorf("%w: header checksum %08x, computed %08x", ErrCheckpointCorrupt, got, want)
	}

	elem, flags := fixed[12], fixed[13]
	var f [6]float64
	for i := range f {
		f[i] = math.Float64frombits(binary.LittleEndian.Uint64(fixed[16+8*i:]))
	}
	cfg := Config{
		LR: f[0], LRDecay: f[1], WeightDecay: f[2], InitialAccumulator: f[3], Eps: f[4], Decay: f[5],
		Maximize: flags&flagMaximize != 0, TorchForeach: flags&flagTorchForeach != 0,
		Parallel: o.cfg.Parallel, Workers: o.cfg.Workers,
		Form: kernel.Form{
			EpsOutside: flags&flagEpsOutside != 0, Order: ref.Order(fixed[14]), WeightDecay: ref.WeightDecay(fixed[15]),
			FusedAccumulator: flags&flagFusedAccumulator != 0, Decay: flags&flagDecay != 0, Guard: flags&flagGuard != 0,
		},
	}
	if flags&^flagsKnown != 0 {
		return nil, fmt.Errorf("%w: unknown flags %#02x", ErrCheckpointCorrupt, flags&^flagsKnown)
	}
	if err := validateFor[T](cfg); err != nil {
		return nil, fmt.Errorf("%w: %s", ErrCheckpointCorrupt, strings.TrimPrefix(err.Error(), "adagrad: "))
	}
	steps := binary.LittleEndian.Uint64(fixed[headerFixed-16:])
	if steps > math.MaxInt {
		return nil, fmt.Errorf("%w: step count %d", ErrCheckpointCorrupt, steps)
	}
	if elem != 4 && elem != 8 {
		return nil, fmt.Errorf("%w: element size %d", ErrCheckpointCorrupt, elem)
	}
	if int(elem) != int(unsafe.Sizeof(zero)) {
		return nil, fmt.Errorf("%w: float%d accumulators, the optimizer's are float%d", ErrCheckpointMismatch, 8*int(elem), 8*unsafe.Sizeof(zero))
	}
	total := 0
	for i, s := range o.sums {
		if n := binary.LittleEndian.Uint64(lengths[8*i:]); n != uint64(len(s)) {
			return nil, fmt.Errorf("%w: tensor %d has %d elements, the optimizer's %d", ErrCheckpointMismatch, i, n, len(s))
		}
		total += len(s)
	}

	staged := make([]T, total)
	buf := make([]byte, min(32<<10, int(elem)*total+4))
	crc := uint32(0)
	for done := 0; done < total; {
		n := min(total-done, len(buf)/int(elem))
		b := buf[:n*int(elem)]
		if err := readFull(r, b); err != nil {
			return nil, err
		}
		crc = crc32.Update(crc, castagnoli, b)
		for i := range n {
			if elem == 4 {
				staged[done+i] = T(math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:])))
			} else {
				staged[done+i] = T(math.Float64frombits(binary.LittleEndian.Uint64(b[8*i:])))
			}
		}
		done += n
	}
	if err := readFull(r, buf[:4]); err != nil {
		return nil, err
	}
	if got := binary.LittleEndian.Uint32(buf); got != crc {
		return nil, fmt.Errorf("%w: data checksum %08x, computed %08x", ErrCheckpointCorrupt, got, crc)
	}

	return &loaded[T]{cfg: cfg, steps: int(steps), staged: staged}, nil
}

// commit applies a checkpoint that read accepted.
func (o *Optimizer[T]) commit(st *loaded[T]) {
	staged := st.staged
	for _, s := range o.sums {
		staged = staged[copy(s, staged):]
	}
	o.cfg, o.form, o.steps = st.cfg, kernelForm(st.cfg), st.steps
}

// readFull is io.ReadFull with a checkpoint that ends early reported as corrupt.
func readFull(r io.Reader, b []byte) error {
	if _, err := io.ReadFull(r, b); err != nil {
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			return fmt.Errorf("%w: truncated", ErrCheckpointCorrupt)
		}
		return fmt.Errorf("adagrad: Load: %w", err)
	}
	return nil
}

// SaveFile saves the state (see Save) to the file at path so that a crash at any
// moment leaves either the old file or the new one, whole: it writes a temporary
// file in the same directory, flushes it to stable storage, renames it over path
// and flushes the directory. A file already at path keeps its permissions; a new
// one gets 0644.
// On error the temporary file is removed and path is untouched.
func (o *Optimizer[T]) SaveFile(path string) (err error) {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("adagrad: SaveFile: %w", err)
	}
	closed := false
	defer func() {
		if err != nil {
			if !closed {
				f.Close()
			}
			os.Remove(f.Name())
			err = fmt.Errorf("adagrad: SaveFile: %w", err)
		}
	}()
	mode := os.FileMode(0o644)
	if fi, err := os.Stat(path); err == nil {
		mode = fi.Mode().Perm()
	}
	if err := f.Chmod(mode); err != nil && !errors.Is(err, errors.ErrUnsupported) {
		return err
	}
	w := bufio.NewWriterSize(f, 64<<10)
	if err := o.Save(w); err != nil {
		return err
	}
	if err := w.Flush(); err != nil {
		return err
	}
	if err := f.Sync(); err != nil {
		return err
	}
	closed = true
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(f.Name(), path); err != nil {
		return err
	}
	return syncDir(dir)
}

// syncDir makes a rename in dir durable. Windows cannot open a directory to flush
// it (its renames are journaled by NTFS), and some systems report the flush as
// unsupported; both are taken as done.
func syncDir(dir string) error {
	if runtime.GOOS == "windows" {
		return nil
	}
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Sync(); err != nil && !errors.Is(err, errors.ErrUnsupported) {
		return err
	}
	return nil
}

// LoadFile loads the state (see Load) from the file at path, which must hold one
// checkpoint and nothing after it.
func (o *Optimizer[T]) LoadFile(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("adagrad: LoadFile: %w", err)
	}
	defer f.Close()
	r := bufio.NewReaderSize(f, 64<<10)
	st, err := o.read(r)
	if err != nil {
		return err
	}
	if _, err := r.ReadByte(); err != io.EOF {
		if err != nil {
			return fmt.Errorf("adagrad: LoadFile: %w", err)
		}
		return fmt.Errorf("%w: bytes after the end in %s", ErrCheckpointCorrupt, path)
	}
	o.commit(st)
	return nil
}
