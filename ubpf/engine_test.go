package ubpf_test

import (
	"fmt"
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

// TestMatchAgreesWithRun: Match is Run followed by IsMatch, with a fault
// as no match, on every engine and every path a run takes (the JIT's fast
// path, the timed runs, exits to Go for helpers, faults), and it counts
// runs, matches and errors as Run does.
func TestMatchAgreesWithRun(t *testing.T) {
	cases := []struct {
		name   string
		kind   ubpf.Kind
		src    string
		budget int
		want   bool // Match's answer
		fault  bool
	}{
		{"r0=1", ubpf.KindFilter, "mov %r0, 1\nexit", 0, true, false},
		{"r0=0", ubpf.KindFilter, "mov %r0, 0\nexit", 0, false, false},
		{"r0=2", ubpf.KindFilter, "mov %r0, 2\nexit", 0, false, false},
		{"xdp pass", ubpf.KindXDP, "mov %r0, 2\nexit", 0, true, false},
		{"xdp r0=1", ubpf.KindXDP, "mov %r0, 1\nexit", 0, false, false},
		{"helper", ubpf.KindFilter, "call 5\nmov %r0, 1\nexit", 0, true, false},
		{"budget", ubpf.KindFilter, "mov %r0, 0\nloop:\nadd %r0, 1\njlt %r0, 1000, loop\nmov %r0, 1\nexit", 100, false, true},
	}
	pkt := make([]byte, 64)
	for _, e := range engines() {
		for _, c := range cases {
			for _, measure := range []bool{false, true} {
				t.Run(fmt.Sprintf("%s/%s/measure=%v", e, c.name, measure), func(t *testing.T) {
					p, err := ubpf.Load(mustAsm(t, c.src), ubpf.LoadOptions{Kind: c.kind, Engine: e, Logger: quiet,
						MeasureTime: measure, RunBudget: c.budget})
					if err != nil {
						t.Fatal(err)
					}
					th := ubpf.NewThread()
					defer th.Close()
					const n = 600 // more than two timed runs' interval
					for i := 0; i < n; i++ {
						if got := p.Match(th, pkt); got != c.want {
							t.Fatalf("run %d: Match %v, want %v", i, got, c.want)
						}
						r, err := p.Run(th, pkt)
						if (err != nil) != c.fault || (err == nil && p.IsMatch(r) != c.want) {
							t.Fatalf("run %d: Run r0=%d err=%v", i, r, err)
						}
					}
					s := p.Stats()
					wantMatches, wantErrors := uint64(0), uint64(0)
					if c.want {
						wantMatches = 2 * n
					}
					if c.fault {
						wantErrors = 2 * n
					}
					if s.Runs != 2*n || s.Matches != wantMatches || s.Errors != wantErrors {
						t.Fatalf("stats %+v, want %d runs, %d matches, %d errors", s, 2*n, wantMatches, wantErrors)
					}
				})
			}
		}
	}
}
