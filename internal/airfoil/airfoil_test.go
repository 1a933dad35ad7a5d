package airfoil

import (
	"bytes"
	"crypto/sha1"
	"encoding/hex"
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
