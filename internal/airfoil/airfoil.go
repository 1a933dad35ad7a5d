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
	"bufio"
	_ "embed"
	"errors"
	"fmt"
	"io"
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

// ParseTable reads rows of tab-separated numbers (CRLF or LF line ends, no
// header), all with the same number of columns: the airfoil file's format.
func ParseTable(r io.Reader) ([][]float64, error) {
	var rows [][]float64
	sc := bufio.NewScanner(r)
	for line := 1; sc.Scan(); line++ {
		text := strings.TrimRight(sc.Text(), "\r")
		if strings.TrimSpace(text) == "" {
			continue
		}
		fields := strings.Split(text, "\t")
		if len(rows) > 0 && len(fields) != len(rows[0]) {
			return nil, fmt.Errorf("line %d has %d columns, line 1 has %d", line, len(fields), len(rows[0]))
		}
		row := make([]float64, len(fields))
		for i, f := range fields {
			v, err := strconv.ParseFloat(strings.TrimSpace(f), 64)
			if err != nil {
				return nil, fmt.Errorf("line %d, column %d: %v", line, i+1, err)
			}
			row[i] = v
		}
		rows = append(rows, row)
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if len(rows) == 0 {
		return nil, errors.New("no data rows")
	}
	return rows, nil
}

// Standardize sets every column to (v − mean)/std over all rows, with the
// population standard deviation, as d2l's get_data_ch11 does. A constant column
// becomes zeros.
func Standardize(rows [][]float64) {
	n := float64(len(rows))
	for c := range rows[0] {
		var mean float64
		for _, r := range rows {
			mean += r[c]
		}
		mean /= n
		var ss float64
		for _, r := range rows {
			ss += (r[c] - mean) * (r[c] - mean)
		}
		std := math.Sqrt(ss / n)
		for _, r := range rows {
			if std == 0 {
				r[c] = 0
				continue
			}
			r[c] = (r[c] - mean) / std
		}
	}
}

// Standardized is the data set as d2l's get_data_ch11 prepares it (Standardize),
// the first five columns the features and the last the target.
func Standardized() (features [][]float64, target []float64) {
	rows, err := ParseTable(strings.NewReader(data))
	if err != nil {
		panic("airfoil: the embedded file does not parse: " + err.Error())
	}
	Standardize(rows)
	for _, r := range rows {
		features = append(features, r[:5:5])
		target = append(target, r[5])
	}
	return features, target
}
