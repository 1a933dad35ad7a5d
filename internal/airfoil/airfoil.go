// Package airfoil embeds the airfoil self-noise data set that d2l's Adagrad
// chapter trains on, so that the trainer and the framework examples run on the
// real data with no download.
//
// The data is T. Brooks, D. Pope and M. Marcolini's "Airfoil Self-Noise" (NASA),
// from the UCI Machine Learning Repository (doi:10.24432/C5VW2C), licensed under
// CC BY 4.0, not under this repository's licence; testdata/README.md has the
// attribution and where the copy comes from.
package airfoil

import (
	_ "embed"
	"math"
	"strconv"
	"strings"
)

//go:embed testdata/airfoil_self_noise.dat
var data string

// SHA1 is the hex SHA-1 of the file, the one d2l's DATA_HUB records.
const SHA1 = "76e5be1548fd8222e5074cf0faae75edff8cf93f"

// Name is the file's name as d2l serves it.
const Name = "airfoil_self_noise.dat"

// Data returns a copy of the file's bytes: 1503 rows of 6 tab-separated numbers
// (five features, then the sound pressure level in dB), CRLF line ends, no
// header.
func Data() []byte { return []byte(data) }

// Standardized is the data set as d2l's get_data_ch11 prepares it: every column
// set to (v − mean)/std with the population std, the first five columns the
// features and the last the target.
func Standardized() (features [][]float64, target []float64) {
	var rows [][]float64
	for _, line := range strings.Split(strings.TrimSpace(data), "\n") {
		var r []float64
		for _, f := range strings.Split(strings.TrimSpace(line), "\t") {
			v, err := strconv.ParseFloat(f, 64)
			if err != nil {
				panic("airfoil: the embedded file does not parse: " + err.Error())
			}
			r = append(r, v)
		}
		rows = append(rows, r)
	}
	for c := range rows[0] {
		var mean, ss float64
		for _, r := range rows {
			mean += r[c]
		}
		mean /= float64(len(rows))
		for _, r := range rows {
			ss += (r[c] - mean) * (r[c] - mean)
		}
		std := math.Sqrt(ss / float64(len(rows)))
		for _, r := range rows {
			r[c] = (r[c] - mean) / std
		}
	}
	for _, r := range rows {
		features = append(features, r[:5:5])
		target = append(target, r[5])
	}
	return features, target
}
