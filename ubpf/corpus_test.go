package ubpf_test

// The verifier corpus (issue 12): realistic filters in restricted C, built
// by clang -O2 into testdata/corpus/*.o (checked in; rebuild with
// go generate after editing a .c, see testdata/corpus/Makefile). Each
// NAME.c states the verdict Linux 6.x gives it ("// verdict: accept" or
// "// verdict: reject FRAGMENT") and why; NAME-v2.o and NAME-v1.o are the
// same source built for older instruction sets, with their own
// "// verdict-v2:" lines when present.
//
// TestCorpus loads every object and compares goko's verdict with the
// expected one. Programs goko wrongly rejects today are listed in
// knownFalseReject with the error they get; remove an entry when the
// verifier accepts the program.

//go:generate make -s -C testdata/corpus

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/goko-net/goko/ubpf"
)

// knownFalseReject: corpus objects Linux accepts and goko rejects today,
// with (a fragment of) the error goko gives. The comment on each entry is
// the verifier mechanism at fault.
var knownFalseReject = map[string]string{}

type corpusExpect struct {
	accept bool
	reason string // error fragment of an expected rejection
}

// corpusVerdicts reads the expected verdicts from the header of a
// corpus source: "// verdict: ..." for NAME.o, "// verdict-v2: ..." for
// NAME-v2.o.
func corpusVerdicts(t *testing.T, src string) map[string]corpusExpect {
	text, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]corpusExpect{}
	for _, line := range strings.Split(string(text), "\n") {
		key, v, ok := strings.Cut(strings.TrimPrefix(line, "// "), ": ")
		if !ok || !strings.HasPrefix(line, "// verdict") {
			continue
		}
		suffix := strings.TrimPrefix(key, "verdict")
		verdict, reason, _ := strings.Cut(v, " ")
		switch verdict {
		case "accept":
			out[suffix] = corpusExpect{accept: true}
		case "reject":
			if reason == "" {
				t.Fatalf("%s: %q: a rejection names the error it expects", src, line)
			}
			out[suffix] = corpusExpect{reason: reason}
		default:
			t.Fatalf("%s: bad verdict line %q", src, line)
		}
	}
	return out
}

func TestCorpus(t *testing.T) {
	objs, err := filepath.Glob("testdata/corpus/*.o")
	if err != nil || len(objs) < 40 {
		t.Fatalf("corpus: %d objects (%v); run go generate ./ubpf", len(objs), err)
	}
	srcs, _ := filepath.Glob("testdata/corpus/*.c")
	for _, s := range srcs {
		if _, err := os.Stat(strings.TrimSuffix(s, ".c") + ".o"); err != nil {
			t.Errorf("%s has no object: run go generate ./ubpf", s)
		}
	}
	type row struct {
		name, verdict string
		took          time.Duration
		vs            ubpf.VerifierStats
	}
	var rows []row
	for _, obj := range objs {
		name := strings.TrimSuffix(filepath.Base(obj), ".o")
		base, suffix := name, ""
		for _, v := range []string{"-v1", "-v2"} {
			if b, ok := strings.CutSuffix(name, v); ok {
				base, suffix = b, v
			}
		}
		want, ok := corpusVerdicts(t, filepath.Join("testdata/corpus", base+".c"))[suffix]
		if !ok {
			t.Errorf("%s: no verdict%s line in %s.c", name, suffix, base)
			continue
		}
		t.Run(name, func(t *testing.T) {
			b, err := os.ReadFile(obj)
			if err != nil {
				t.Fatal(err)
			}
			start := time.Now()
			p, err := ubpf.LoadELFBytes(b, ubpf.LoadOptions{Logger: quiet})
			took := time.Since(start)
			r := row{name: name, took: took}
			switch {
			case err == nil:
				r.vs = p.VerifierStats()
				r.verdict = "accept"
			default:
				r.verdict = "reject"
			}
			rows = append(rows, r)
			t.Logf("%s in %v: processed %d, states %d, pruned %d, err %v", r.verdict, took, r.vs.Processed, r.vs.States, r.vs.Pruned, err)
			if frag, known := knownFalseReject[name]; known {
				switch {
				case err == nil:
					t.Errorf("listed in knownFalseReject but accepted now: remove it from the list")
				case !strings.Contains(err.Error(), frag):
					t.Errorf("known false rejection, but the error changed: %v (listed: %q)", err, frag)
				default:
					t.Skipf("known false rejection: %v", err)
				}
				return
			}
			if want.accept {
				if err != nil {
					t.Fatalf("Linux accepts this program, goko rejects it: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("accepted; Linux rejects it (%s)", want.reason)
			}
			if !strings.Contains(err.Error(), want.reason) {
				t.Errorf("rejected with %q, want an error saying %q", err, want.reason)
			}
		})
	}
	sort.Slice(rows, func(i, j int) bool { return rows[i].name < rows[j].name })
	var b strings.Builder
	fmt.Fprintf(&b, "%-28s %-7s %10s %10s %8s %8s\n", "program", "verdict", "time", "processed", "states", "pruned")
	for _, r := range rows {
		fmt.Fprintf(&b, "%-28s %-7s %10v %10d %8d %8d\n", r.name, r.verdict, r.took.Round(time.Microsecond), r.vs.Processed, r.vs.States, r.vs.Pruned)
	}
	t.Logf("corpus summary:\n%s", b.String())
}
