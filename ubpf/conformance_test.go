package ubpf_test

import (
	"encoding/hex"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/goko-net/goko/ubpf"
)

// A conformance case in the bpf_conformance file format:
//
//	-- asm
//	mov %r0, 1
//	exit
//	-- mem
//	00 01 02
//	-- result
//	0x1
//
// ("-- error" instead of "-- result" expects the load or run to fail.)
type confCase struct {
	name   string
	asm    string
	mem    []byte
	result uint64
	err    bool
}

func parseConf(t *testing.T, name, text string) confCase {
	c := confCase{name: name}
	sec := ""
	var asmb, memb strings.Builder
	for _, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		if strings.HasPrefix(line, "--") {
			sec = strings.TrimSpace(strings.TrimPrefix(line, "--"))
			if sec == "error" {
				c.err = true
			}
			continue
		}
		if line == "" || strings.HasPrefix(line, "#") && sec != "asm" {
			continue
		}
		switch sec {
		case "asm":
			asmb.WriteString(line + "\n")
		case "mem":
			memb.WriteString(line + " ")
		case "result":
			v, err := strconv.ParseUint(line, 0, 64)
			if err != nil {
				t.Fatalf("%s: bad result %q", name, line)
			}
			c.result = v
		}
	}
	c.asm = asmb.String()
	b, err := hex.DecodeString(strings.Join(strings.Fields(memb.String()), ""))
	if err != nil {
		t.Fatalf("%s: bad mem: %v", name, err)
	}
	c.mem = b
	return c
}

func runConf(t *testing.T, c confCase) {
	t.Helper()
	runConfEngine(t, c, ubpf.EngineAuto)
}

// TestConformanceFiles runs testdata/conformance/*.data.
func TestConformanceFiles(t *testing.T) {
	files, _ := filepath.Glob("testdata/conformance/*.data")
	if len(files) == 0 {
		t.Skip("no conformance files")
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		name := strings.TrimSuffix(filepath.Base(f), ".data")
		t.Run(name, func(t *testing.T) { runConf(t, parseConf(t, name, string(b))) })
	}
}
