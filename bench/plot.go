package main

import (
	"cmp"
	"flag"
	"fmt"
	"image/color"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"time"

	"golang.org/x/perf/benchfmt"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
)

// series are the median Gelem/s of one implementation by size.
type series map[int]float64

// readRates collects, from a `bench run` file, the median Gelem/s of every
// benchmark named <bench>/N=<size>/impl=<impl>, by bench, then impl, then size;
// and of the sparse steps, by name without impl=, then impl.
func readRates(file string) (dense map[string]map[string]series, rows map[string]map[string]float64, err error) {
	f, err := os.Open(file)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	denseRE := regexp.MustCompile(`^(\w+)/N=(\d+)([KM]?)/impl=([\w.-]+)`)
	rowsRE := regexp.MustCompile(`^Rows/(.*)/impl=(\w+)`)
	all := map[[3]string][]float64{}
	r := benchfmt.NewReader(f, file)
	for r.Scan() {
		res, ok := r.Result().(*benchfmt.Result)
		if !ok {
			continue
		}
		v, ok := res.Value("Gelem/s")
		if !ok {
			continue
		}
		name := procsSuffix.ReplaceAllString(string(res.Name), "")
		if m := denseRE.FindStringSubmatch(name); m != nil {
			n, _ := strconv.Atoi(m[2])
			n <<= map[string]int{"": 0, "K": 10, "M": 20}[m[3]]
			key := [3]string{m[1], m[4], strconv.Itoa(n)}
			all[key] = append(all[key], v)
		} else if m := rowsRE.FindStringSubmatch(name); m != nil {
			key := [3]string{"Rows", m[2], m[1]}
			all[key] = append(all[key], v)
		}
	}
	if err := r.Err(); err != nil {
		return nil, nil, err
	}
	dense, rows = map[string]map[string]series{}, map[string]map[string]float64{}
	for key, vs := range all {
		if key[0] == "Rows" {
			if rows[key[2]] == nil {
				rows[key[2]] = map[string]float64{}
			}
			rows[key[2]][key[1]] = median(vs)
			continue
		}
		if dense[key[0]] == nil {
			dense[key[0]] = map[string]series{}
		}
		if dense[key[0]][key[1]] == nil {
			dense[key[0]][key[1]] = series{}
		}
		n, _ := strconv.Atoi(key[2])
		dense[key[0]][key[1]][n] = median(vs)
	}
	if len(dense) == 0 && len(rows) == 0 {
		return nil, nil, fmt.Errorf("%s: no Gelem/s results of bench run", file)
	}
	return dense, rows, nil
}

var palette = []color.Color{
	color.RGBA{0x1f, 0x77, 0xb4, 0xff}, color.RGBA{0xff, 0x7f, 0x0e, 0xff},
	color.RGBA{0x2c, 0xa0, 0x2c, 0xff}, color.RGBA{0xd6, 0x27, 0x28, 0xff},
	color.RGBA{0x94, 0x67, 0xbd, 0xff}, color.RGBA{0x8c, 0x56, 0x4b, 0xff},
	color.RGBA{0xe3, 0x77, 0xc2, 0xff}, color.RGBA{0xbc, 0xbd, 0x22, 0xff},
	color.RGBA{0x17, 0xbe, 0xcf, 0xff}, color.RGBA{0x39, 0x3b, 0x79, 0xff},
}

// plotFile draws, from a file of `bench run` or `bench peers`, throughput against N (log scale) for
// each implementation of each dense benchmark, with the memory-traffic limit of
// this machine measured at the same sizes (per > 0) and the exact and approximate
// compute limits as a roofline, and the sparse
// steps as bars; PNG and SVG into dir. It returns the files written.
func plotFile(file, dir string, per time.Duration) ([]string, error) {
	dense, rows, err := readRates(file)
	if err != nil {
		return nil, err
	}
	var written []string
	save := func(p *plot.Plot, base string) error {
		for _, ext := range []string{".png", ".svg"} {
			path := filepath.Join(dir, base+ext)
			if err := p.Save(640*vg.Inch/96, 480*vg.Inch/96, path); err != nil {
				return err
			}
			written = append(written, path)
		}
		return nil
	}
	k := ceilingKernels()
	traffic, sqrtDiv, rsqrtMul := k.traffic.f, k.sqrtDiv, k.rsqrtMul
	for _, bench := range sortedKeys(dense) {
		p := plot.New()
		p.Title.Text = bench + " throughput, " + filepath.Base(file)
		p.X.Label.Text = "N (elements)"
		p.Y.Label.Text = "G elements/s"
		p.X.Scale, p.X.Tick.Marker = plot.LogScale{}, plot.LogTicks{Prec: -1}
		if bench == "Peers" { // from Python's overhead to the SIMD kernels: decades apart
			p.Y.Scale, p.Y.Tick.Marker = plot.LogScale{}, plot.LogTicks{Prec: -1}
		}
		impls := sortedKeys(dense[bench])
		var sizes []int
		for i, impl := range impls {
			s := dense[bench][impl]
			pts := plotter.XYs{}
			for _, n := range sortedKeys(s) {
				pts = append(pts, plotter.XY{X: float64(n), Y: s[n]})
				if !slices.Contains(sizes, n) {
					sizes = append(sizes, n)
				}
			}
			l, sc, err := plotter.NewLinePoints(pts)
			if err != nil {
				return nil, err
			}
			l.Color, sc.Color = palette[i%len(palette)], palette[i%len(palette)]
			p.Add(l, sc)
			p.Legend.Add(impl, l, sc)
		}
		if per > 0 && (bench == "Update32" || bench == "Peers") { // float32, 20 bytes per element
			slices.Sort(sizes)
			pts := plotter.XYs{}
			for _, n := range sizes {
				x, s, g := inputs(n)
				var rs []float64
				for range rounds {
					rs = append(rs, rate(n, per, func() { traffic(x, s, g) }))
				}
				pts = append(pts, plotter.XY{X: float64(n), Y: median(rs)})
			}
			l, err := plotter.NewLine(pts)
			if err != nil {
				return nil, err
			}
			l.Dashes = []vg.Length{vg.Points(5), vg.Points(3)}
			p.Add(l)
			p.Legend.Add("memory-traffic limit (1 thread, measured now)", l)
			for i, c := range []struct {
				k     ceilingKernel
				label string
			}{{sqrtDiv, "exact sqrt+div limit (1 thread, L1)"}, {rsqrtMul, "approximate rsqrt limit (1 thread, L1)"}} {
				if c.k.f == nil {
					continue
				}
				fit, _ := inL1([]int{1 << 10, 2 << 10})
				v := computeLimit(c.k, fit, per)
				l, err := plotter.NewLine(plotter.XYs{{X: float64(sizes[0]), Y: v}, {X: float64(sizes[len(sizes)-1]), Y: v}})
				if err != nil {
					return nil, err
				}
				l.Dashes = []vg.Length{vg.Points(float64(1 + 2*i)), vg.Points(3)}
				l.Color = color.Gray{0x80}
				p.Add(l)
				p.Legend.Add(c.label, l)
			}
		}
		p.Legend.Top, p.Legend.Left = true, true
		if bench == "Peers" {
			// The legend goes bottom right, below the slowest peer's large-N points,
			// with two decades of room made for it.
			p.Legend.Top, p.Legend.Left = false, false
			p.Y.Min /= 100
		} else {
			// Room above the highest line for the legend.
			p.Y.Min, p.Y.Max = 0, p.Y.Max*1.6
		}
		if err := save(p, bench); err != nil {
			return nil, err
		}
	}
	if len(rows) > 0 {
		p := plot.New()
		p.Title.Text = "Sparse rows, " + filepath.Base(file)
		p.Y.Label.Text = "G elements/s"
		names := sortedKeys(rows)
		var impls []string
		for _, n := range names {
			for impl := range rows[n] {
				if !slices.Contains(impls, impl) {
					impls = append(impls, impl)
				}
			}
		}
		slices.Sort(impls)
		w := vg.Points(20)
		for i, impl := range impls {
			vals := make(plotter.Values, len(names))
			for j, n := range names {
				vals[j] = rows[n][impl]
			}
			bars, err := plotter.NewBarChart(vals, w)
			if err != nil {
				return nil, err
			}
			bars.Color = palette[i%len(palette)]
			bars.LineStyle.Width = 0
			bars.Offset = vg.Length(float64(i)-float64(len(impls)-1)/2) * w
			p.Add(bars)
			p.Legend.Add(impl, bars)
		}
		p.NominalX(names...)
		p.Legend.Top = true
		if err := save(p, "Rows"); err != nil {
			return nil, err
		}
	}
	return written, nil
}

func sortedKeys[K cmp.Ordered, V any](m map[K]V) []K {
	keys := make([]K, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// plotCmd defines `bench plot`'s flags on fs and returns the command.
func plotCmd(fs *flag.FlagSet) func() error {
	dir := fs.String("o", "out", "directory for the charts")
	per := fs.Duration("limit-time", 50*time.Millisecond, "time per roofline measurement; 0 draws no roofline")
	return func() error {
		if fs.NArg() != 1 {
			return fmt.Errorf("plot: name one file of bench run")
		}
		if err := os.MkdirAll(*dir, 0o755); err != nil {
			return err
		}
		files, err := plotFile(fs.Arg(0), *dir, *per)
		for _, f := range files {
			fmt.Fprintln(stdout, "wrote", f)
		}
		return err
	}
}

// procsSuffix is the -GOMAXPROCS that ends a benchmark's name.
var procsSuffix = regexp.MustCompile(`-\d+$`)
