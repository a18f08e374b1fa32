package ofproto

// The lookup index of a flow table.
//
// Rules are grouped into subtables by their mask (packet-key mask plus
// metadata mask). Within a subtable, rules with the same masked value share
// a bucket in a hash map, sorted by descending priority. A lookup probes
// subtables in order of their highest priority and stops as soon as no
// later subtable can hold a better rule, so its cost grows with the number
// of distinct masks, not of rules, and the megaflow mask it produces is the
// union of the masks of the subtables it probed (not of every rule above
// the hit), which keeps megaflows as wide as the table allows.
//
// Correctness: a subtable that was not probed has a highest priority no
// greater than the rule found, so no rule in it could have won; a probed
// subtable's verdict depends only on the bits of its mask, which are in the
// megaflow mask. Among rules of equal priority that overlap, OpenFlow leaves
// the choice undefined; the index picks one consistently.
//
// The index is derived from flowTable.rules and changed with it, under
// Bridge.mu held for writing.

import (
	"slices"
	"sort"

	"github.com/goko-net/goko/datapath"
)

type maskKey struct {
	mask   datapath.FlowKey
	mdMask uint64
}

type valueKey struct {
	value datapath.FlowKey
	md    uint64
}

type ruleSubtable struct {
	maskKey
	maxPrio uint16
	buckets map[valueKey][]*rule
	n       int
}

type classifier struct {
	subtables []*ruleSubtable // by descending maxPrio
	byMask    map[maskKey]*ruleSubtable
}

func (c *classifier) add(r *rule) {
	if c.byMask == nil {
		c.byMask = map[maskKey]*ruleSubtable{}
	}
	mk := maskKey{r.fm.mask, r.fm.mdMask}
	st := c.byMask[mk]
	if st == nil {
		st = &ruleSubtable{maskKey: mk, buckets: map[valueKey][]*rule{}}
		c.byMask[mk] = st
		c.subtables = append(c.subtables, st)
	}
	vk := valueKey{r.fm.value, r.fm.md}
	b := st.buckets[vk]
	i := sort.Search(len(b), func(i int) bool { return b[i].priority < r.priority })
	st.buckets[vk] = slices.Insert(b, i, r)
	st.n++
	if st.n == 1 || r.priority > st.maxPrio {
		st.maxPrio = r.priority
		c.sort()
	}
}

// remove takes r out of the index.
func (c *classifier) remove(r *rule) {
	st := c.byMask[maskKey{r.fm.mask, r.fm.mdMask}]
	if st == nil {
		return
	}
	vk := valueKey{r.fm.value, r.fm.md}
	b := st.buckets[vk]
	i := slices.Index(b, r)
	if i < 0 {
		return
	}
	b = slices.Delete(b, i, i+1)
	if len(b) == 0 {
		delete(st.buckets, vk)
	} else {
		st.buckets[vk] = b
	}
	st.n--
	if st.n == 0 {
		delete(c.byMask, st.maskKey)
		c.subtables = slices.DeleteFunc(c.subtables, func(s *ruleSubtable) bool { return s == st })
		return
	}
	if r.priority == st.maxPrio {
		st.maxPrio = 0
		for _, b := range st.buckets {
			st.maxPrio = max(st.maxPrio, b[0].priority)
		}
		c.sort()
	}
}

// find returns the rule with exactly match fm and this priority, or nil.
func (c *classifier) find(fm *flowMatch, priority uint16) *rule {
	st := c.byMask[maskKey{fm.mask, fm.mdMask}]
	if st == nil {
		return nil
	}
	for _, r := range st.buckets[valueKey{fm.value, fm.md}] {
		if r.priority == priority && r.fm.equal(fm) {
			return r
		}
	}
	return nil
}

func (c *classifier) sort() {
	sort.SliceStable(c.subtables, func(i, j int) bool { return c.subtables[i].maxPrio > c.subtables[j].maxPrio })
}

// lookup finds the best rule for key and md; see the file comment. accept
// decides rules whose match has more than fields (filter programs,
// connection state) and is called in priority order within a bucket.
func (c *classifier) lookup(key *datapath.FlowKey, md uint64, mask func(*datapath.FlowKey), accept func(*rule) bool) *rule {
	var best *rule
	var vk valueKey
	for _, st := range c.subtables {
		if best != nil && st.maxPrio <= best.priority {
			break
		}
		mask(&st.mask)
		vk.value.And(key, &st.mask)
		vk.md = md & st.mdMask
		for _, r := range st.buckets[vk] {
			if best != nil && r.priority <= best.priority {
				break
			}
			if accept(r) {
				best = r
				break
			}
		}
	}
	return best
}
