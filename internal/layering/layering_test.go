package layering

import (
	"slices"
	"strings"
	"testing"
)

// TestModule checks the rules on goko's own source.
func TestModule(t *testing.T) {
	tr, err := load("../..")
	if err != nil {
		t.Fatal(err)
	}
	if tr.module != "github.com/goko-net/goko" {
		t.Fatalf("loaded module %q: is ../.. the module root?", tr.module)
	}
	// The rules must be about packages that exist, or they check nothing.
	for _, r := range rules {
		for _, p := range slices.Concat(r.From, r.Not) {
			if p == "" {
				continue
			}
			if !slices.ContainsFunc(keys(tr), func(rel string) bool { return under(rel, []string{p}) }) {
				t.Errorf("rule %q names %s, which has no package", r.Why, p)
			}
		}
	}
	for _, v := range checkImports(tr) {
		t.Error(v)
	}
	for _, v := range checkInvalidation(tr) {
		t.Error(v)
	}
}

// TestViolations runs the checks on a small module (testdata/bad) that
// breaks each kind of rule once, and keeps within them once (ctl/client
// has a flush of its own), to show that each check can fail and that
// names are matched only where they can mean the datapath's methods.
func TestViolations(t *testing.T) {
	tr, err := load("testdata/bad")
	if err != nil {
		t.Fatal(err)
	}
	got := slices.Concat(checkImports(tr), checkInvalidation(tr))
	want := []string{
		"openflow imports datapath (openflow -> via -> datapath): ",
		"netctl imports ctl/client (netctl -> ctl/client): ",
		"testdata/bad/datapath/cache.go:10:26: pmd.lookup calls flowCache.flush: ",
		"testdata/bad/ofproto/change.go:10:30: Bridge.flowMod calls Datapath.Invalidate: ",
		"testdata/bad/ofproto/change.go:13:1: declares a method Invalidate besides datapath/datapath.go:Datapath.Invalidate",
	}
	if len(got) != len(want) {
		t.Errorf("%d violations, want %d:\n%s", len(got), len(want), strings.Join(got, "\n"))
	}
	for i := range min(len(got), len(want)) {
		if !strings.HasPrefix(got[i], want[i]) {
			t.Errorf("violation %d:\n got %s\nwant %s...", i, got[i], want[i])
		}
	}
}

func keys(tr *tree) []string {
	var k []string
	for rel := range tr.pkgs {
		k = append(k, rel)
	}
	return k
}
