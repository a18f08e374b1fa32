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
			fm := flowMatch{mask: new(datapath.FlowKey)}
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
			fm.value.And(&k, fm.mask)
			r := &rule{priority: uint16(prios[i]), fm: fm}
			tbl.insert(r)
		}
		// Remove a few, to exercise index maintenance.
		tbl.applyRemove(tbl.planRemove(tbl.selectRules(func(r *rule) bool { return r.priority%7 == 0 })))
		for q := 0; q < 200; q++ {
			key := randKey()
			var want *rule
			tbl.each(func(r *rule) {
				if r.fm.matches(&key, 0) && (want == nil || r.priority > want.priority) {
					want = r
				}
			})
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

// checkIndex verifies the classifier's invariants: counts, exact top
// priorities, subtable order, shared masks, bucket order.
func checkIndex(t *testing.T, c *classifier) {
	t.Helper()
	total := 0
	for i, st := range c.subtables {
		if i > 0 && c.subtables[i-1].maxPrio < st.maxPrio {
			t.Fatalf("subtables out of order: %d before %d", c.subtables[i-1].maxPrio, st.maxPrio)
		}
		if c.byMask[maskKey{*st.mask, st.mdMask}] != st {
			t.Fatal("subtable missing from byMask")
		}
		n, top := 0, -1
		prios := map[uint16]int32{}
		for h, b := range st.buckets {
			if len(b) == 0 {
				t.Fatal("empty bucket kept")
			}
			for j, r := range b {
				if r.fm.mask != st.mask {
					t.Fatal("rule does not share its subtable's mask")
				}
				if hashValue(&valueKey{r.fm.value, r.fm.md}) != h {
					t.Fatal("rule in the wrong bucket")
				}
				if j > 0 && b[j-1].priority < r.priority {
					t.Fatal("bucket not sorted by priority")
				}
				prios[r.priority]++
				top = max(top, int(r.priority))
				n++
			}
		}
		if n != st.n || n == 0 || int(st.maxPrio) != top || len(prios) != len(st.prios) {
			t.Fatalf("subtable: n %d (counted %d), maxPrio %d (counted %d), %d priorities (counted %d)", st.n, n, st.maxPrio, top, len(st.prios), len(prios))
		}
		for p, k := range prios {
			if st.prios[p] != k {
				t.Fatalf("priority %d: %d rules, counted %d", p, st.prios[p], k)
			}
		}
		total += n
	}
	if total != c.n || len(c.byMask) != len(c.subtables) {
		t.Fatalf("classifier: n %d, counted %d; %d masks, %d subtables", c.n, total, len(c.byMask), len(c.subtables))
	}
}

// TestClassifierBulkRemoval removes random shares of a table (so that
// subtables are emptied, rebuilt and edited in place) and checks the
// invariants and lookups after each step.
func TestClassifierBulkRemoval(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	masks := []datapath.FlowKey{{NwDst: 0xffffff00}, {NwDst: 0xffffffff}, {NwDst: 0xffff0000, TpDst: 0xffff}, {}}
	var tbl flowTable
	var all []*rule
	for i := 0; i < 3000; i++ {
		m := masks[rng.IntN(len(masks))]
		fm := flowMatch{mask: &m}
		k := datapath.FlowKey{NwDst: rng.Uint32() & 0x0f0f0f0f, TpDst: uint16(rng.IntN(4))}
		fm.value.And(&k, fm.mask)
		r := &rule{priority: uint16(rng.IntN(50)), fm: fm}
		tbl.insert(r)
		all = append(all, r)
	}
	checkIndex(t, &tbl.index)
	for _, share := range []float64{0.01, 0.1, 0.5, 0.9, 1} {
		victims := tbl.selectRules(func(*rule) bool { return rng.Float64() < share })
		tbl.applyRemove(tbl.planRemove(victims))
		checkIndex(t, &tbl.index)
		gone := map[*rule]bool{}
		for _, r := range victims {
			gone[r] = true
		}
		kept := all[:0]
		for _, r := range all {
			if !gone[r] {
				kept = append(kept, r)
			}
		}
		all = kept
		for q := 0; q < 300; q++ {
			key := datapath.FlowKey{NwDst: rng.Uint32() & 0x0f0f0f0f, TpDst: uint16(rng.IntN(4))}
			var want *rule
			for _, r := range all {
				if r.fm.matches(&key, 0) && (want == nil || r.priority > want.priority) {
					want = r
				}
			}
			got := tbl.index.lookup(&key, 0, func(*datapath.FlowKey) {}, func(*rule) bool { return true })
			if (got == nil) != (want == nil) || (got != nil && got.priority != want.priority) {
				t.Fatalf("share %v: lookup found %v, linear scan %v", share, got, want)
			}
		}
		// Removing one rule at a time keeps the invariants too.
		for i := 0; i < 5 && len(all) > 0; i++ {
			r := all[len(all)-1]
			all = all[:len(all)-1]
			tbl.applyRemove(tbl.planRemove([]*rule{r}))
			checkIndex(t, &tbl.index)
		}
	}
	if tbl.len() != len(all) {
		t.Fatalf("%d rules left, want %d", tbl.len(), len(all))
	}
}
