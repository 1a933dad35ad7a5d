package main

import (
	"bytes"
	"crypto/sha1"
	"encoding/hex"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"

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

// regressionSet standardizes rows and takes the first n: the last column is the
// target, the others the features.
func regressionSet(name string, rows [][]float64, n int) (*dataset, error) {
	if len(rows[0]) < 2 {
		return nil, fmt.Errorf("%s: %d column; want features and a target", name, len(rows[0]))
	}
	if len(rows) < n {
		return nil, fmt.Errorf("%s: %d rows, want at least %d", name, len(rows), n)
	}
	airfoil.Standardize(rows)
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
	rows, err := airfoil.ParseTable(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return regressionSet(path, rows, n)
}

// embedded is the airfoil data the program carries: d2l's file, the first n rows.
func embedded(n int) (*dataset, error) {
	rows, err := airfoil.ParseTable(bytes.NewReader(airfoil.Data()))
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
