package ofproto

// Incremental revalidation: which cached megaflows a change makes stale.
//
// Translation records, on each megaflow (datapath.Megaflow.Deps), what its
// decision read: for every table lookup, the table, the metadata, the
// winning rule (or a miss) and the key the lookup saw; and the groups and
// meters it expanded or checked. A change (change.go) records what it did:
// rules added, rules removed or modified, groups and meters changed. The
// megaflows it can make stale are exactly:
//
//   - those whose lookup was won by a rule that was removed or modified
//     (its instructions or counters are in the megaflow);
//   - those that looked up the table of an added rule, got a winner of
//     lower or equal priority (or a miss), and whose region overlaps the
//     new rule's match: some packet of the megaflow could now hit it.
//     Equal priority counts, as the classifier's choice among overlapping
//     equal-priority rules may move to the new one;
//   - those that expanded or watched a changed group, or used a changed
//     meter.
//
// Every other megaflow stays right: for each of its packets, every table
// it looked up still has the same winner (no new rule matches the packet
// with a priority that could win, the old winner is still there), so the
// same actions, counters and mask follow. A rule with a filter program or
// ct_reply is treated as matching: whether it would is a per-packet
// question the predicate cannot answer.
//
// The region a lookup saw. A lookup's key is the packet's key as changed
// by earlier actions. Bits of it that no action wrote (x.dirty clear) are
// the packet's own: they are fixed across the megaflow where its mask has
// them and free elsewhere. Bits an action wrote are determined by the
// masked bits and constants (xlate.go), so they are fixed too. A new rule
// (value v, mask m) therefore reaches the megaflow iff
// (v ^ key) & m & (megaflow mask | dirty) == 0, and its metadata agrees.
// Lookups made before any action wrote a bit (the usual table 0) keep no
// copy of the key: the megaflow's own key and mask describe it.
//
// Changes to what else translation reads (ports and their config or link
// state, the switch's fragment handling, the filter-program registry) are
// rare: they invalidate every megaflow. So does a change too large for a
// cheap predicate (maxPreciseRules).
//
// The predicate runs on the pmd threads after update returned, so it
// reads only a snapshot of the change and fields of rules that never
// change after insertion (table, priority, match).

import (
	"github.com/goko-net/goko/datapath"
)

// maxPreciseRules bounds the rules one change may add or remove and still
// be revalidated precisely; larger changes invalidate everything (the
// datapath keeps a predicate until every pmd has applied it, and with it
// the rules it names).
const maxPreciseRules = 4096

// deps is what one translation read, for revalidation.
type deps struct {
	lookups  []lookupDep
	groupIDs []uint32 // expanded or watched, with repeats
	meterIDs []uint32
}

// lookupDep is one table lookup of a translation.
type lookupDep struct {
	table uint8
	md    uint64
	rule  *rule // the winner; nil on a table miss
	// key and dirty are the lookup's key and the bits of it actions
	// wrote, or nil when no bit had been written: the megaflow's key and
	// mask then describe the lookup.
	key, dirty *datapath.FlowKey
}

// recordLookup notes a lookup of the current table that r won.
func (x *xlate) recordLookup(r *rule) {
	l := lookupDep{table: x.tableID, md: x.md, rule: r}
	if !isZero(&x.dirty) {
		k, d := x.key, x.dirty
		l.key, l.dirty = &k, &d
	}
	x.deps.lookups = append(x.deps.lookups, l)
}

func isZero(k *datapath.FlowKey) bool {
	var or uint64
	for _, w := range k.Words() {
		or |= w
	}
	return or == 0
}

// staleSet is a snapshot of one change, for the datapath's predicate.
type staleSet struct {
	added  []*rule
	gone   map[*rule]struct{}
	groups map[uint32]struct{}
	meters map[uint32]struct{}
}

// empty reports whether the change touched nothing translation reads.
func (s *staleSet) empty() bool {
	return len(s.added) == 0 && len(s.gone) == 0 && len(s.groups) == 0 && len(s.meters) == 0
}

// stale reports whether mf may no longer be what translation gives.
func (s *staleSet) stale(mf *datapath.Megaflow) bool {
	d, ok := mf.Deps.(*deps)
	if !ok {
		return true // made by something that recorded nothing: assume the worst
	}
	for i := range d.lookups {
		l := &d.lookups[i]
		if l.rule != nil {
			if _, ok := s.gone[l.rule]; ok {
				return true
			}
		}
		for _, r := range s.added {
			if r.tableID != l.table || (l.rule != nil && r.priority < l.rule.priority) {
				continue
			}
			if (r.fm.md^l.md)&r.fm.mdMask != 0 {
				continue
			}
			if l.key == nil {
				if reaches(&r.fm, &mf.Key, &mf.Mask, nil) {
					return true
				}
			} else if reaches(&r.fm, l.key, &mf.Mask, l.dirty) {
				return true
			}
		}
	}
	for _, g := range d.groupIDs {
		if _, ok := s.groups[g]; ok {
			return true
		}
	}
	for _, m := range d.meterIDs {
		if _, ok := s.meters[m]; ok {
			return true
		}
	}
	return false
}

// reaches reports whether some key k with k&known == key&known matches
// fm's fields, where known is mask | dirty.
func reaches(fm *flowMatch, key, mask, dirty *datapath.FlowKey) bool {
	vw, mw, kw, nw := fm.value.Words(), fm.mask.Words(), key.Words(), mask.Words()
	if dirty == nil {
		for i := range vw {
			if (vw[i]^kw[i])&mw[i]&nw[i] != 0 {
				return false
			}
		}
		return true
	}
	dw := dirty.Words()
	for i := range vw {
		if (vw[i]^kw[i])&mw[i]&(nw[i]|dw[i]) != 0 {
			return false
		}
	}
	return true
}
