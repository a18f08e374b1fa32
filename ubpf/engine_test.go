package ubpf_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/goko-net/goko/ubpf"
	"github.com/goko-net/goko/ubpf/asm"
)

// engines are the engines this build can run.
func engines() []ubpf.Engine {
	if ubpf.JITAvailable() {
		return []ubpf.Engine{ubpf.EngineInterp, ubpf.EngineJIT}
	}
	return []ubpf.Engine{ubpf.EngineInterp}
}

// TestConformanceEngines runs every conformance case through each engine
// and checks the expected result (or failure).
func TestConformanceEngines(t *testing.T) {
	files, _ := filepath.Glob("testdata/conformance/*.data")
	if len(files) == 0 {
		t.Skip("no conformance files")
	}
	for _, e := range engines() {
		passed := 0
		for _, f := range files {
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			name := strings.TrimSuffix(filepath.Base(f), ".data")
			c := parseConf(t, name, string(b))
			if ok := t.Run(e.String()+"/"+name, func(t *testing.T) { runConfEngine(t, c, e) }); ok {
				passed++
			}
		}
		t.Logf("%s: %d/%d conformance cases pass", e, passed, len(files))
	}
}

func runConfEngine(t *testing.T, c confCase, e ubpf.Engine) {
	t.Helper()
	code, err := asm.Assemble(c.asm)
	if err != nil {
		t.Fatalf("assemble: %v", err)
	}
	p, err := ubpf.Load(code, ubpf.LoadOptions{Kind: ubpf.KindRaw, Helpers: ubpf.HelpersConformance, Engine: e, Logger: quiet})
	if err != nil {
		if c.err {
			return
		}
		t.Fatalf("load: %v\n%s", err, c.asm)
	}
	if e != ubpf.EngineAuto && p.Engine() != e {
		t.Fatalf("engine %s, want %s", p.Engine(), e)
	}
	th := ubpf.NewThread()
	defer th.Close()
	mem := append([]byte(nil), c.mem...)
	got, err := p.Run(th, mem)
	if c.err {
		if err == nil {
			t.Fatalf("expected an error, got result %#x", got)
		}
		return
	}
	if err != nil {
		t.Fatalf("run: %v", err)
	}
	if uint32(got) != uint32(c.result) || got != c.result && c.result>>32 != 0 {
		t.Fatalf("result %#x, want %#x", got, c.result)
	}
}
