package main

import (
	"bufio"
	"bytes"
	"crypto/sha1"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/adagrad-go/adagrad/internal/airfoil"
)

// The airfoil self-noise data as d2l serves it, and its SHA-1 (d2l's DATA_HUB entry).
const (
	airfoilURL  = "http://d2l-data.s3-accelerate.amazonaws.com/airfoil_self_noise.dat"
	airfoilSHA1 = airfoil.SHA1
	airfoilName = airfoil.Name
)

// dataset is a regression set: rows of features and their targets.
type dataset struct {
	name     string // where it came from, for the output: a path, or "synthetic"
	features [][]float32
	labels   []float32
}

// parseTable reads rows of tab-separated numbers (CRLF or LF line ends, no
// header), all with the same number of columns.
func parseTable(r io.Reader) ([][]float64, error) {
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

// standardize sets every column to (v − mean)/std over all rows, with the
// population standard deviation, as d2l's get_data_ch11 does. A constant column
// becomes zeros.
func standardize(rows [][]float64) {
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

// regressionSet standardizes rows and takes the first n: the last column is the
// target, the others the features.
func regressionSet(name string, rows [][]float64, n int) (*dataset, error) {
	if len(rows[0]) < 2 {
		return nil, fmt.Errorf("%s: %d column; want features and a target", name, len(rows[0]))
	}
	if len(rows) < n {
		return nil, fmt.Errorf("%s: %d rows, want at least %d", name, len(rows), n)
	}
	standardize(rows)
	d := &dataset{name: name}
	for _, r := range rows[:n] {
		f := make([]float32, len(r)-1)
		for i, v := range r[:len(r)-1] {
			f[i] = float32(v)
		}
		d.features = append(d.features, f)
		d.labels = append(d.labels, float32(r[len(r)-1]))
	}
	return d, nil
}

// loadFile reads a data file in the airfoil format.
func loadFile(path string, n int) (*dataset, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	rows, err := parseTable(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return regressionSet(path, rows, n)
}

// embedded is the airfoil data the program carries: d2l's file, the first n rows.
func embedded(n int) (*dataset, error) {
	rows, err := parseTable(bytes.NewReader(airfoil.Data()))
	if err != nil {
		return nil, fmt.Errorf("the embedded %s: %w", airfoil.Name, err)
	}
	return regressionSet("the airfoil self-noise data (embedded)", rows, n)
}

// synthetic is the -synthetic regression set: n rows of 5 features and a target
// made by a seeded linear model with noise, in the airfoil set's shape, so that
// the experiment runs without any download.
func synthetic(seed uint64, n int) *dataset {
	rng := rand.New(rand.NewPCG(seed, 0x5eed))
	w := []float64{0.8, -0.5, 0.3, -0.2, 0.6}
	rows := make([][]float64, n)
	for i := range rows {
		r := make([]float64, len(w)+1)
		y := 0.1
		for j := range w {
			r[j] = rng.NormFloat64()
			y += w[j] * r[j]
		}
		r[len(w)] = y + 0.5*rng.NormFloat64()
		rows[i] = r
	}
	d, err := regressionSet("synthetic", rows, n)
	if err != nil {
		panic(err) // the shape is ours
	}
	return d
}

// fetch returns the path of d2l's airfoil file in cacheDir, downloading it from url
// first unless a copy with the right SHA-1 is there. A download whose SHA-1 is not
// airfoilSHA1 is an error, and nothing of it is kept.
func fetch(client *http.Client, url, cacheDir string) (string, error) {
	path := filepath.Join(cacheDir, airfoilName)
	if b, err := os.ReadFile(path); err == nil && sha1Hex(b) == airfoilSHA1 {
		return path, nil
	}
	if err := os.MkdirAll(cacheDir, 0o755); err != nil {
		return "", err
	}
	resp, err := client.Get(url)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	// The file is 58 KB; anything far larger is not it.
	body, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		return "", fmt.Errorf("GET %s: %w", url, err)
	}
	if got := sha1Hex(body); got != airfoilSHA1 {
		return "", fmt.Errorf("GET %s: SHA-1 %s, want %s; nothing kept", url, got, airfoilSHA1)
	}
	tmp, err := os.CreateTemp(cacheDir, airfoilName+".*")
	if err != nil {
		return "", err
	}
	defer os.Remove(tmp.Name()) // after the rename, a no-op
	if _, err := io.Copy(tmp, bytes.NewReader(body)); err != nil {
		tmp.Close()
		return "", err
	}
	if err := tmp.Close(); err != nil {
		return "", err
	}
	return path, os.Rename(tmp.Name(), path)
}

func sha1Hex(b []byte) string {
	h := sha1.Sum(b)
	return hex.EncodeToString(h[:])
}

// cacheDir is where -fetch keeps the download.
func cacheDir() (string, error) {
	dir, err := os.UserCacheDir()
	if err != nil {
		return "", err
	}
	return filepath.Join(dir, "adagrad-go"), nil
}
