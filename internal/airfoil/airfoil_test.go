package airfoil

import (
	"bytes"
	"crypto/sha1"
	"encoding/hex"
	"math"
	"strings"
	"testing"
)

// The embedded bytes are d2l's file, CRLF line ends and all.
func TestData(t *testing.T) {
	b := Data()
	if sum := sha1.Sum(b); hex.EncodeToString(sum[:]) != SHA1 {
		t.Fatalf("SHA-1 %x, want %s: the file changed (a line-ending conversion?)", sum, SHA1)
	}
	if len(b) != 59984 || bytes.Count(b, []byte("\r\n")) != 1503 {
		t.Fatalf("%d bytes, %d CRLF lines; want 59984 and 1503", len(b), bytes.Count(b, []byte("\r\n")))
	}
	b[0] = 'x'
	if Data()[0] == 'x' {
		t.Fatal("Data returned the embedded bytes, not a copy")
	}
}

// The standardized columns have mean 0 and population variance 1, and the first
// row is the file's first row standardized.
func TestStandardized(t *testing.T) {
	x, y := Standardized()
	if len(x) != 1503 || len(y) != 1503 || len(x[0]) != 5 {
		t.Fatalf("%d rows of %d features, %d targets", len(x), len(x[0]), len(y))
	}
	for c := range 6 {
		var mean, ss float64
		for i := range x {
			v := y[i]
			if c < 5 {
				v = x[i][c]
			}
			mean += v
			ss += v * v
		}
		if mean /= 1503; math.Abs(mean) > 1e-12 || math.Abs(ss/1503-1) > 1e-12 {
			t.Errorf("column %d: mean %g, variance %g", c, mean, ss/1503)
		}
	}
	if x[0][0] >= 0 || y[0] <= 0 {
		t.Errorf("row 0 (800 Hz, 126.201 dB): %v, %v", x[0], y[0])
	}
}

func TestParseTable(t *testing.T) {
	rows, err := ParseTable(strings.NewReader("1\t2\t3\r\n4\t5\t6\r\n\r\n"))
	if err != nil || len(rows) != 2 || rows[1][2] != 6 {
		t.Fatalf("%v, %v", rows, err)
	}
	if _, err := ParseTable(strings.NewReader("1\t2\n3\n")); err == nil || !strings.Contains(err.Error(), "line 2 has 1 columns") {
		t.Errorf("ragged rows: %v", err)
	}
	if _, err := ParseTable(strings.NewReader("1\tx\n")); err == nil {
		t.Error("a non-number was accepted")
	}
	// Standardized columns have mean 0 and population variance 1.
	rows = [][]float64{{1, 5}, {2, 5}, {3, 5}, {6, 5}}
	Standardize(rows)
	var mean, ss float64
	for _, r := range rows {
		mean += r[0]
		ss += r[0] * r[0]
	}
	if math.Abs(mean) > 1e-12 || math.Abs(ss/4-1) > 1e-12 || rows[0][1] != 0 {
		t.Errorf("standardized: %v", rows)
	}
}
