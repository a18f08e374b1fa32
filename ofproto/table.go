package ofproto

// Flow tables.
//
// A table's rules live in its classifier (classifier.go), which finds the
// highest-priority match and builds the megaflow mask. Rules of equal
// priority that overlap are chosen between consistently (OpenFlow leaves
// that undefined). Replies list rules by descending priority, then in the
// order they were added (seq).
//
// Locking: see Bridge. Translation reads tables under Bridge.mu held for
// reading; every change holds Bridge.modMu, and Bridge.mu for writing while
// it edits the structures.

import (
	"cmp"
	"slices"
	"time"

	"github.com/goko-net/goko/datapath"
	"github.com/goko-net/goko/openflow"
)

// numTables is the number of flow tables (0..253), as OpenFlow allows.
const numTables = 254

type rule struct {
	tableID      uint8
	priority     uint16
	idleTimeout  uint16
	hardTimeout  uint16
	flags        openflow.FlowModFlags
	fm           flowMatch
	cookie       uint64
	seq          uint64 // order of addition, for replies
	created      int64  // unix ns
	match        []byte // the match as the controller sent it, encoded, for replies
	instructions []openflow.Instruction
	stats        *datapath.FlowStats
}

// Match decodes the match the controller sent.
func (r *rule) Match() openflow.Match {
	var m openflow.Match
	// Cannot fail: encoded by MarshalBinary from a match the decoder
	// accepted.
	m.UnmarshalBinary(r.match)
	return m
}

func (r *rule) createdAt() time.Time { return time.Unix(0, r.created) }

// isTableMiss reports whether r is a table-miss entry (lowest priority,
// wildcards everything), whose packet-ins carry reason NO_MATCH.
func (r *rule) isTableMiss() bool { return r.priority == 0 && r.fm.wildcardsAll() }

// outputsTo reports whether any of r's actions outputs to port (for the
// out_port filter of delete and stats requests).
func (r *rule) outputsTo(port uint32) bool {
	if port == openflow.PortAny {
		return true
	}
	found := false
	r.eachAction(func(a openflow.Action) {
		if o, ok := a.(openflow.ActionOutput); ok && o.Port == port {
			found = true
		}
	})
	return found
}

// usesGroup reports whether any of r's actions refers to group.
func (r *rule) usesGroup(group uint32) bool {
	if group == openflow.GroupAny {
		return true
	}
	found := false
	r.eachAction(func(a openflow.Action) {
		if g, ok := a.(openflow.ActionGroup); ok && g.GroupID == group {
			found = true
		}
	})
	return found
}

func (r *rule) eachAction(fn func(openflow.Action)) {
	for _, in := range r.instructions {
		switch in := in.(type) {
		case openflow.InstApplyActions:
			for _, a := range in.Actions {
				fn(a)
			}
		case openflow.InstWriteActions:
			for _, a := range in.Actions {
				fn(a)
			}
		}
	}
}

// flowTable is one OpenFlow table. Its lookup and match counters are
// FlowStats that translation attaches to megaflows, so the datapath counts
// every packet, cache hit or not.
type flowTable struct {
	index       classifier         // the rules
	seq         uint64             // last rule's seq
	timed       map[*rule]struct{} // rules with an idle or hard timeout
	lookupStats datapath.FlowStats
	matchStats  datapath.FlowStats
}

// len returns the number of rules.
func (t *flowTable) len() int { return t.index.n }

// lookup returns the highest-priority rule matching key and md, and passes
// to mask the mask of every subtable it examined: the classifier visits
// subtables by descending highest priority and stops at the first whose
// rules cannot beat the best match so far, so the megaflow is only as wide
// as the subtables that decided the outcome.
//
// A rule with a filter program matches only if the program also says so;
// pass runs it (and records the result for the megaflow). A filter that
// says no sends the lookup on to lower-priority rules, as in Oko (see the
// package comment).
//
// A ct_reply match works the same way through ctPass (conntrack.go).
func (t *flowTable) lookup(key *datapath.FlowKey, md uint64, mask func(*datapath.FlowKey), pass func(*filterProg) bool, ctPass func(uint32) bool) *rule {
	return t.index.lookup(key, md, mask, func(r *rule) bool {
		return (r.fm.filter == nil || pass(r.fm.filter)) && (!r.fm.ct || ctPass(r.fm.ctZone))
	})
}

// insert adds r.
func (t *flowTable) insert(r *rule) {
	t.seq++
	r.seq = t.seq
	t.index.add(r)
	t.trackTimed(nil, r)
}

// trackTimed keeps t.timed up to date when old (or nil) gives way to r (or
// nil).
func (t *flowTable) trackTimed(old, r *rule) {
	if old != nil && (old.idleTimeout != 0 || old.hardTimeout != 0) {
		delete(t.timed, old)
	}
	if r != nil && (r.idleTimeout != 0 || r.hardTimeout != 0) {
		if t.timed == nil {
			t.timed = map[*rule]struct{}{}
		}
		t.timed[r] = struct{}{}
	}
}

// replace puts r in the place of old (same match and priority).
func (t *flowTable) replace(old, r *rule) {
	r.seq = old.seq
	t.index.replace(old, r)
	t.trackTimed(old, r)
}

// findStrict returns the rule with exactly this match and priority, or nil.
func (t *flowTable) findStrict(fm *flowMatch, priority uint16) *rule {
	return t.index.find(fm, priority)
}

// each calls fn for every rule, in no particular order.
func (t *flowTable) each(fn func(*rule)) {
	t.index.each(func(r *rule) bool { fn(r); return true })
}

// sorted returns the rules fn selects in reply order: by descending
// priority, then in order of addition.
func (t *flowTable) sorted(sel func(*rule) bool) []*rule {
	var out []*rule
	t.each(func(r *rule) {
		if sel(r) {
			out = append(out, r)
		}
	})
	slices.SortFunc(out, func(a, b *rule) int {
		if a.priority != b.priority {
			return int(b.priority) - int(a.priority)
		}
		return cmp.Compare(a.seq, b.seq)
	})
	return out
}

// selectRules returns the rules pred holds for.
func (t *flowTable) selectRules(pred func(*rule) bool) []*rule {
	var out []*rule
	t.each(func(r *rule) {
		if pred(r) {
			out = append(out, r)
		}
	})
	return out
}

// planRemove prepares the removal of victims, rules of t (see
// classifier.go); it only reads the table.
func (t *flowTable) planRemove(victims []*rule) *removal {
	return t.index.planRemove(victims)
}

// applyRemove carries out a plan made on this table.
func (t *flowTable) applyRemove(p *removal) {
	t.index.applyRemove(p)
	for _, r := range p.victims {
		t.trackTimed(r, nil)
	}
}

// meterID returns the meter r's meter instruction names, or 0.
func (r *rule) meterID() uint32 {
	for _, in := range r.instructions {
		if m, ok := in.(openflow.InstMeter); ok {
			return m.MeterID
		}
	}
	return 0
}
