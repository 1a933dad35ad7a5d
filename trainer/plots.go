package main

import (
	"image/color"
	"path/filepath"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/vg"
)

// Every figure is 640×480 pixels in PNG (at gonum's 96 dpi) and the same size in
// points×4/3 in SVG.
const (
	plotWidth  = 640 * vg.Inch / 96
	plotHeight = 480 * vg.Inch / 96
)

// The two colours of d2l's figures (matplotlib's first two).
var (
	blue   = color.RGBA{R: 0x1f, G: 0x77, B: 0xb4, A: 0xff}
	orange = color.RGBA{R: 0xff, G: 0x7f, B: 0x0e, A: 0xff}
	green  = color.RGBA{R: 0x2c, G: 0xa0, B: 0x2c, A: 0xff}
	red    = color.RGBA{R: 0xd6, G: 0x27, B: 0x28, A: 0xff}
)

// save writes p as dir/base.png and dir/base.svg and returns the two paths.
func save(p *plot.Plot, dir, base string) ([]string, error) {
	var paths []string
	for _, ext := range []string{".png", ".svg"} {
		path := filepath.Join(dir, base+ext)
		if err := p.Save(plotWidth, plotHeight, path); err != nil {
			return paths, err
		}
		paths = append(paths, path)
	}
	return paths, nil
}
