package ubpf_test

// Programs whose verification is pathologically slow, found by the
// fuzzers: a benchmark, since speed is measured, never asserted.
//
//	go test -run XXX -bench VerifierSlowCases ./ubpf

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func BenchmarkVerifierSlowCases(b *testing.B) {
	files, _ := filepath.Glob("testdata/slow/*.asm")
	for _, file := range files {
		text, err := os.ReadFile(file)
		if err != nil {
			b.Fatal(err)
		}
		name := strings.TrimSuffix(filepath.Base(file), ".asm")
		cf, err := parseCaseFile(name, string(text))
		if err != nil {
			b.Fatal(err)
		}
		b.Run(name, func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				cf.load()
			}
		})
	}
}
