package ofproto

import (
	"math/rand/v2"
	"testing"

	"github.com/goko-net/goko/datapath"
)

// TestClassifierAgreesWithLinearScan checks the index against the
// definition: the highest-priority matching rule wins, and any key that
// agrees with the looked-up key on the returned mask gets the same rule.
func TestClassifierAgreesWithLinearScan(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	randKey := func() datapath.FlowKey {
		var k datapath.FlowKey
		k.InPort = uint32(rng.IntN(3) + 1)
		k.EthType = []uint16{0x0800, 0x0806}[rng.IntN(2)]
		k.NwDst = uint32(rng.IntN(4))<<8 | uint32(rng.IntN(4))
		k.NwProto = []uint8{6, 17}[rng.IntN(2)]
		k.TpDst = uint16(rng.IntN(3))
		return k
	}
	for round := 0; round < 50; round++ {
		var tbl flowTable
		prios := rng.Perm(1000)
		for i := 0; i < 40; i++ {
			var fm flowMatch
			k := randKey()
			if rng.IntN(2) == 0 {
				fm.mask.InPort = ^uint32(0)
			}
			if rng.IntN(2) == 0 {
				fm.mask.EthType = 0xffff
			}
			switch rng.IntN(3) {
			case 1:
				fm.mask.NwDst = 0xff00
			case 2:
				fm.mask.NwDst = 0xffff
			}
			if rng.IntN(3) == 0 {
				fm.mask.TpDst = 0xffff
			}
			fm.value.And(&k, &fm.mask)
			r := &rule{priority: uint16(prios[i]), fm: fm}
			tbl.insert(r)
		}
		// Remove a few, to exercise index maintenance.
		tbl.removeIf(func(r *rule) bool { return r.priority%7 == 0 })
		for q := 0; q < 200; q++ {
			key := randKey()
			var want *rule
			for _, r := range tbl.rules {
				if r.fm.matches(&key, 0) && (want == nil || r.priority > want.priority) {
					want = r
				}
			}
			var mask datapath.FlowKey
			got := tbl.index.lookup(&key, 0, func(m *datapath.FlowKey) { mask.Or(m) }, func(*rule) bool { return true })
			if got != want {
				t.Fatalf("round %d: index found %+v, linear scan %+v", round, got, want)
			}
			// Any key equal under the mask must get the same rule.
			other := randKey()
			var masked, om datapath.FlowKey
			masked.And(&key, &mask)
			om.And(&other, &mask)
			if masked == om {
				g2 := tbl.index.lookup(&other, 0, func(*datapath.FlowKey) {}, func(*rule) bool { return true })
				if g2 != got {
					t.Fatalf("megaflow mask too wide: keys equal under the mask got different rules")
				}
			}
		}
	}
}
