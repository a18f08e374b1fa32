package ofproto

// Flow tables.
//
// Each table keeps its rules sorted by descending priority; rules of equal
// priority keep insertion order (OpenFlow leaves the choice between
// overlapping equal-priority rules undefined). A lookup walks the list and
// takes the first match, ORing the mask of every rule it examined into the
// megaflow mask: a packet that agrees with this one on those bits fails the
// same higher-priority rules and hits the same rule, which is what makes the
// cached megaflow correct.
//
// Tables are changed only under Bridge.mu held for writing; translation
// holds it for reading. Translation is the slow path (cache misses), so the
// lock never touches a cache hit.

import (
	"sort"
	"time"

	"github.com/goko-net/goko/datapath"
	"github.com/goko-net/goko/openflow"
)

// numTables is the number of flow tables (0..253), as OpenFlow allows.
const numTables = 254

type rule struct {
	tableID      uint8
	priority     uint16
	match        openflow.Match // as the controller sent it, for replies
	fm           flowMatch
	cookie       uint64
	idleTimeout  uint16
	hardTimeout  uint16
	flags        openflow.FlowModFlags
	instructions []openflow.Instruction
	stats        *datapath.FlowStats
	created      time.Time
}

// isTableMiss reports whether r is a table-miss entry (lowest priority,
// wildcards everything), whose packet-ins carry reason NO_MATCH.
func (r *rule) isTableMiss() bool { return r.priority == 0 && len(r.match.Fields) == 0 }

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
	rules       []*rule
	index       classifier // lookup index over rules
	lookupStats datapath.FlowStats
	matchStats  datapath.FlowStats
}

// lookup returns the highest-priority rule matching key and md, and passes
// the mask of every rule it examined to mask.
//
// A rule with a filter program matches only if the program also says so;
// pass runs it (and records the result for the megaflow). A filter that
// says no sends the lookup on to lower-priority rules, as in Oko.
//
// A ct_reply match works the same way through ctPass (tenant.go).
func (t *flowTable) lookup(key *datapath.FlowKey, md uint64, mask func(*datapath.FlowKey), pass func(*filterProg) bool, ctPass func(uint32) bool) *rule {
	return t.index.lookup(key, md, mask, func(r *rule) bool {
		return (r.fm.filter == nil || pass(r.fm.filter)) && (!r.fm.ct || ctPass(r.fm.ctZone))
	})
}

// insert adds r after every rule of higher or equal priority.
func (t *flowTable) insert(r *rule) {
	i := sort.Search(len(t.rules), func(i int) bool { return t.rules[i].priority < r.priority })
	t.rules = append(t.rules, nil)
	copy(t.rules[i+1:], t.rules[i:])
	t.rules[i] = r
	t.index.add(r)
}

// replace puts r in the place of old (same match and priority).
func (t *flowTable) replace(old, r *rule) {
	i := sort.Search(len(t.rules), func(i int) bool { return t.rules[i].priority <= old.priority })
	for ; i < len(t.rules) && t.rules[i] != old; i++ {
	}
	t.index.remove(old)
	t.rules[i] = r
	t.index.add(r)
}

// findStrict returns the rule with exactly this match and priority, or nil.
func (t *flowTable) findStrict(fm *flowMatch, priority uint16) *rule {
	return t.index.find(fm, priority)
}

// removeIf deletes the rules for which pred holds and returns them.
func (t *flowTable) removeIf(pred func(*rule) bool) []*rule {
	var removed []*rule
	kept := t.rules[:0]
	for _, r := range t.rules {
		if pred(r) {
			removed = append(removed, r)
			t.index.remove(r)
		} else {
			kept = append(kept, r)
		}
	}
	clear(t.rules[len(kept):])
	t.rules = kept
	return removed
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
