package ubpf

import (
	"flag"
	"testing"

	"github.com/goko-net/goko/ubpf/internal/progen"
)

// progenDiff turns a generated program (ubpf/internal/progen: code, maps,
// their contents, packets) into a differential case.
func progenDiff(g *progen.Program) (*diffProg, [][]byte) {
	d := &diffProg{kind: Kind(g.Kind), code: g.Bytes(), maxInsns: 50000}
	for _, m := range g.Maps {
		d.specs = append(d.specs, MapSpec{Name: m.Name, Type: MapType(m.Type), KeySize: m.KeySize,
			ValueSize: m.ValueSize, MaxEntries: m.MaxEntries, Flags: m.Flags})
	}
	d.fill = func(ms []*Map) {
		for i, es := range g.MapContents {
			for _, e := range es {
				ms[i].Update(e.Key, e.Value, UpdateAny)
			}
		}
	}
	return d, g.Packets
}

var progenSeeds = flag.Int("jitdiff.seeds", 2000, "TestJITDiffProgen: generated programs to compare")

// TestJITDiffProgen compares the engines on generated programs (filters
// and XDP, with maps, helpers, calls, loops, atomics and LDABS): every
// program the verifier accepts must give the same results, errors,
// packets and maps under both.
func TestJITDiffProgen(t *testing.T) {
	skipNoJIT(t)
	n := *progenSeeds
	if testing.Short() {
		n = min(n, 300)
	}
	accepted := 0
	for seed := uint64(1); seed <= uint64(n); seed++ {
		d, pkts := progenDiff(progen.FromSeed(seed, progen.Config{}))
		if diffCheck(t, d, pkts) {
			accepted++
		}
	}
	t.Logf("%d of %d generated programs verified and agree", accepted, n)
	if accepted == 0 {
		t.Fatal("no generated program verified")
	}
}

// FuzzJITDiffProgen steers progen with the fuzzer's bytes: every program
// the verifier accepts must behave the same under both engines.
func FuzzJITDiffProgen(f *testing.F) {
	for i := byte(0); i < 16; i++ {
		f.Add([]byte{i, i * 7, i * 13, 0xff - i})
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		skipNoJIT(t)
		d, pkts := progenDiff(progen.FromBytes(data, progen.Config{}))
		diffCheck(t, d, pkts)
	})
}
