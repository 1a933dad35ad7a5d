package main

import (
	"fmt"
	"image/color"

	"gonum.org/v1/gonum/mat"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"

	"github.com/adagrad-go/adagrad/kernel"
)

// f2d is d2l's objective, f(x1, x2) = 0.1·x1² + 2·x2².
func f2d(x1, x2 float64) float64 { return 0.1*x1*x1 + 2*x2*x2 }

// quadratic runs d2l's train_2d with Adagrad: steps updates of (x1, x2) from
// (−5, −2) with s = 0 and eps = 1e-6, through the kernel's float64 path in the d2l
// form, s += g², x −= (lr/√(s + eps))·g. It returns the points visited, the start
// first.
func quadratic(lr float64, steps int) [][2]float64 {
	x, s, g := []float64{-5, -2}, []float64{0, 0}, make([]float64, 2)
	trace := [][2]float64{{x[0], x[1]}}
	for range steps {
		g[0], g[1] = 0.2*x[0], 4*x[1]
		kernel.Update(x, s, g, lr, 1e-6)
		trace = append(trace, [2]float64{x[0], x[1]})
	}
	return trace
}

// quadraticLine is train_2d's last line, as d2l prints it.
func quadraticLine(trace [][2]float64) string {
	last := trace[len(trace)-1]
	return fmt.Sprintf("epoch %d, x1: %f, x2: %f", len(trace)-1, last[0], last[1])
}

// contourGrid is f2d on d2l's meshgrid, x1 in [−5.5, 1.0) and x2 in [−3.0, 1.0),
// step 0.1.
type contourGrid struct{ z *mat.Dense }

func newContourGrid() contourGrid {
	cols, rows := 65, 40 // len(arange(-5.5, 1.0, 0.1)), len(arange(-3.0, 1.0, 0.1))
	z := mat.NewDense(rows, cols, nil)
	for r := range rows {
		for c := range cols {
			z.Set(r, c, f2d(gridX(c), gridY(r)))
		}
	}
	return contourGrid{z}
}

func gridX(c int) float64 { return -5.5 + 0.1*float64(c) }
func gridY(r int) float64 { return -3.0 + 0.1*float64(r) }

func (g contourGrid) Dims() (c, r int)   { r, c = g.z.Dims(); return c, r }
func (g contourGrid) Z(c, r int) float64 { return g.z.At(r, c) }
func (g contourGrid) X(c int) float64    { return gridX(c) }
func (g contourGrid) Y(r int) float64    { return gridY(r) }

// onePalette draws every contour level in one colour, as d2l's plot does.
type onePalette struct{ c color.Color }

func (p onePalette) Colors() []color.Color { return []color.Color{p.c} }

// plotQuadratic draws the trace over the contours of f (d2l's show_trace_2d).
func plotQuadratic(trace [][2]float64, lr float64) (*plot.Plot, error) {
	p := plot.New()
	p.Title.Text = fmt.Sprintf("Adagrad on f(x1, x2) = 0.1·x1² + 2·x2², lr = %g", lr)
	p.X.Label.Text = "x1"
	p.Y.Label.Text = "x2"
	levels := []float64{0.5, 1, 2, 4, 6, 8, 10, 12, 14, 16, 18}
	c := plotter.NewContour(newContourGrid(), levels, onePalette{blue})
	p.Add(c)
	pts := make(plotter.XYs, len(trace))
	for i, t := range trace {
		pts[i].X, pts[i].Y = t[0], t[1]
	}
	line, points, err := plotter.NewLinePoints(pts)
	if err != nil {
		return nil, err
	}
	line.Color, points.Color = orange, orange
	p.Add(line, points)
	p.X.Min, p.X.Max, p.Y.Min, p.Y.Max = -5.5, 1, -3, 1
	return p, nil
}
