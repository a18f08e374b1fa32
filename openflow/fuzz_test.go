package openflow

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

// FuzzDecode checks that Decode never panics and that whatever it accepts
// re-encodes to bytes that decode to an equal message.
func FuzzDecode(f *testing.F) {
	for i, m := range sampleMessages() {
		b, err := Marshal(uint32(i), m)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		xid, m, err := Decode(b)
		if err != nil {
			if _, ok := CodeOf(err); !ok {
				t.Fatalf("error without OpenFlow code: %v", err)
			}
			return
		}
		if m == nil {
			t.Fatal("nil message without error")
		}
		b2, err := Marshal(xid, m)
		if err != nil {
			t.Fatalf("re-encoding %T: %v", m, err)
		}
		if len(b2) > len(b)+8*len(b)+64 {
			t.Fatalf("re-encoding grew from %d to %d bytes", len(b), len(b2))
		}
		xid2, m2, err := Decode(b2)
		if err != nil {
			t.Fatalf("decoding re-encoded %T: %v\n%x", m, err, b2)
		}
		if xid2 != xid || !reflect.DeepEqual(m, m2) {
			t.Fatalf("round trip mismatch\nfirst:  %#v\nsecond: %#v", m, m2)
		}
		// The aliasing decoder must agree with the copying one.
		_, m3, err := DecodeAliased(b2)
		if err != nil || !reflect.DeepEqual(m2, m3) {
			t.Fatalf("DecodeAliased disagrees: %v", err)
		}
	})
}

// TestWriteFuzzCorpus regenerates testdata/fuzz/FuzzDecode from the sample
// messages when OPENFLOW_WRITE_CORPUS=1.
func TestWriteFuzzCorpus(t *testing.T) {
	if os.Getenv("OPENFLOW_WRITE_CORPUS") != "1" {
		t.Skip("set OPENFLOW_WRITE_CORPUS=1 to regenerate the seed corpus")
	}
	dir := filepath.Join("testdata", "fuzz", "FuzzDecode")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for i, m := range sampleMessages() {
		b := mustMarshal(t, uint32(i), m)
		sum := sha256.Sum256(b)
		name := fmt.Sprintf("seed-%02d-%s-%s", i, sanitize(name(m)), hex.EncodeToString(sum[:4]))
		data := fmt.Sprintf("go test fuzz v1\n[]byte(%q)\n", b)
		if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func sanitize(s string) string {
	out := []byte(s)
	for i, c := range out {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_') {
			out[i] = '_'
		}
	}
	return string(out)
}
