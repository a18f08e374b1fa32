package ofproto

// The lookup index of a flow table, which is also where its rules live.
//
// Rules are grouped into subtables by their mask (packet-key mask plus
// metadata mask). Within a subtable, rules sit in buckets keyed by a hash of
// their masked value; a bucket is sorted by descending priority, rules of
// equal priority in insertion order, and may hold rules of other values
// that share the hash (a lookup compares values). A lookup probes subtables
// in order of their highest priority and stops as soon as no later subtable
// can hold a better rule, so its cost grows with the number of distinct
// masks, not of rules, and the megaflow mask it produces is the union of the
// masks of the subtables it probed (not of every rule above the hit), which
// keeps megaflows as wide as the table allows.
//
// Correctness: a subtable that was not probed has a highest priority no
// greater than the rule found, so no rule in it could have won; a probed
// subtable's verdict depends only on the bits of its mask, which are in the
// megaflow mask. Among rules of equal priority that overlap, OpenFlow leaves
// the choice undefined; the index picks one consistently.
//
// Invariants:
//   - a subtable's maxPrio is exactly the highest priority among its rules
//     (prios counts its rules per priority), and subtables are sorted by it;
//   - a rule's fm.mask points to its subtable's mask, so rules of one mask
//     share one copy (nothing writes a mask after compileMatch).
//
// Concurrency (see the locking comment on Bridge): lookups run under
// Bridge.mu held for reading. add and replace change the structures in
// place and need Bridge.mu held for writing. A bulk removal is split in two:
// planRemove selects the victims and builds replacement subtables for those
// that lose many rules, reading only, so it runs while lookups go on
// (Bridge.modMu keeps other changes out); applyRemove then swaps the
// replacements in and removes the few remaining victims in place under the
// write lock. So a delete of a million rules holds the write lock for the
// swap, not for the selection, and costs O(rules) in all, not O(rules²).

import (
	"hash/maphash"
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
	mask    *datapath.FlowKey // shared with the rules' fm.mask
	mdMask  uint64
	maxPrio uint16
	prios   map[uint16]int32   // number of rules of each priority
	buckets map[uint64][]*rule // by hashValue of the masked value
	n       int
}

type classifier struct {
	subtables []*ruleSubtable // by descending maxPrio
	byMask    map[maskKey]*ruleSubtable
	n         int
}

// valueSeed keys the bucket hash. It is random per process, so a
// controller cannot pick values that pile up in one bucket.
var valueSeed = maphash.MakeSeed()

func hashValue(vk *valueKey) uint64 { return maphash.Comparable(valueSeed, *vk) }

func newSubtable(mk *maskKey) *ruleSubtable {
	mask := mk.mask
	return &ruleSubtable{mask: &mask, mdMask: mk.mdMask, prios: map[uint16]int32{}, buckets: map[uint64][]*rule{}}
}

// insertSorted puts r into bucket after every rule of higher or equal
// priority.
func insertSorted(bucket []*rule, r *rule) []*rule {
	i := sort.Search(len(bucket), func(i int) bool { return bucket[i].priority < r.priority })
	return slices.Insert(bucket, i, r)
}

func (st *ruleSubtable) addRule(h uint64, r *rule) {
	r.fm.mask = st.mask
	st.buckets[h] = insertSorted(st.buckets[h], r)
	st.prios[r.priority]++
	st.n++
	if st.n == 1 || r.priority > st.maxPrio {
		st.maxPrio = r.priority
	}
}

// fixMaxPrio recomputes maxPrio after removals; it reports whether it moved.
func (st *ruleSubtable) fixMaxPrio() bool {
	if st.prios[st.maxPrio] > 0 {
		return false
	}
	old := st.maxPrio
	st.maxPrio = 0
	for p := range st.prios {
		st.maxPrio = max(st.maxPrio, p)
	}
	return st.maxPrio != old
}

// add puts r into the index.
func (c *classifier) add(r *rule) {
	vk := valueKey{r.fm.value, r.fm.md}
	h := hashValue(&vk)
	mk := maskKey{*r.fm.mask, r.fm.mdMask}
	if c.byMask == nil {
		c.byMask = map[maskKey]*ruleSubtable{}
	}
	st := c.byMask[mk]
	if st == nil {
		st = newSubtable(&mk)
		c.byMask[mk] = st
		c.subtables = append(c.subtables, st)
	}
	top := st.n == 0 || r.priority > st.maxPrio
	st.addRule(h, r)
	c.n++
	if top {
		c.sort()
	}
}

// replace puts r in the place of old, which has the same match and
// priority.
func (c *classifier) replace(old, r *rule) {
	st := c.byMask[maskKey{*old.fm.mask, old.fm.mdMask}]
	b := st.buckets[hashValue(&valueKey{old.fm.value, old.fm.md})]
	r.fm.mask = st.mask
	b[slices.Index(b, old)] = r
}

// removeFrom takes r, a rule of st, out of st without fixing st's rank.
func (c *classifier) removeFrom(st *ruleSubtable, r *rule) {
	h := hashValue(&valueKey{r.fm.value, r.fm.md})
	b := st.buckets[h]
	i := slices.Index(b, r)
	if i < 0 {
		return
	}
	if len(b) == 1 {
		delete(st.buckets, h)
	} else {
		st.buckets[h] = slices.Delete(b, i, i+1)
	}
	if st.prios[r.priority]--; st.prios[r.priority] == 0 {
		delete(st.prios, r.priority)
	}
	st.n--
	c.n--
}

// find returns the rule with exactly match fm and this priority, or nil.
func (c *classifier) find(fm *flowMatch, priority uint16) *rule {
	st := c.byMask[maskKey{*fm.mask, fm.mdMask}]
	if st == nil {
		return nil
	}
	for _, r := range st.buckets[hashValue(&valueKey{fm.value, fm.md})] {
		if r.priority == priority && r.fm.equal(fm) {
			return r
		}
	}
	return nil
}

// each calls fn for every rule, in no particular order, until fn returns
// false.
func (c *classifier) each(fn func(*rule) bool) {
	for _, st := range c.subtables {
		for _, b := range st.buckets {
			for _, r := range b {
				if !fn(r) {
					return
				}
			}
		}
	}
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
		mask(st.mask)
		vk.value.And(key, st.mask)
		vk.md = md & st.mdMask
		for _, r := range st.buckets[hashValue(&vk)] {
			if best != nil && r.priority <= best.priority {
				break
			}
			if r.fm.value == vk.value && r.fm.md == vk.md && accept(r) {
				best = r
				break
			}
		}
	}
	return best
}

// rebuildShare is the share of a subtable's rules above which a bulk
// removal builds a replacement subtable from the survivors instead of
// removing the victims one by one under the write lock. Building costs
// O(survivors) < O(victims/rebuildShare), so a bulk removal is linear either
// way, and what stays under the lock is at most a quarter of a subtable.
const rebuildShare = 4

// removal is a bulk removal planned by planRemove.
type removal struct {
	victims []*rule
	// Per affected subtable, either a replacement (nil: the subtable
	// empties) or the victims to take out in place.
	replace map[*ruleSubtable]*ruleSubtable
	inPlace map[*ruleSubtable][]*rule
}

// planRemove prepares the removal of victims, rules of c, without changing
// c: see the file comment.
func (c *classifier) planRemove(victims []*rule) *removal {
	p := &removal{victims: victims}
	bySub := map[*ruleSubtable][]*rule{}
	for _, r := range victims {
		st := c.byMask[maskKey{*r.fm.mask, r.fm.mdMask}]
		bySub[st] = append(bySub[st], r)
	}
	for st, vs := range bySub {
		switch {
		case len(vs) == st.n:
			p.setReplace(st, nil)
		case len(vs)*rebuildShare > st.n:
			p.setReplace(st, st.without(vs))
		default:
			if p.inPlace == nil {
				p.inPlace = map[*ruleSubtable][]*rule{}
			}
			p.inPlace[st] = vs
		}
	}
	return p
}

func (p *removal) setReplace(st, with *ruleSubtable) {
	if p.replace == nil {
		p.replace = map[*ruleSubtable]*ruleSubtable{}
	}
	p.replace[st] = with
}

// without builds a copy of st without the victims. The rules are shared,
// and st is only read.
func (st *ruleSubtable) without(victims []*rule) *ruleSubtable {
	gone := make(map[*rule]struct{}, len(victims))
	for _, r := range victims {
		gone[r] = struct{}{}
	}
	ns := &ruleSubtable{mask: st.mask, mdMask: st.mdMask, prios: map[uint16]int32{},
		buckets: make(map[uint64][]*rule, len(st.buckets)-len(victims)/2)}
	isGone := func(r *rule) bool { _, ok := gone[r]; return ok }
	for h, b := range st.buckets {
		// Untouched buckets are shared: st is dropped when ns replaces it.
		kept := b
		if slices.ContainsFunc(b, isGone) {
			kept = slices.DeleteFunc(slices.Clone(b), isGone)
		}
		if len(kept) == 0 {
			continue
		}
		ns.buckets[h] = kept
		for _, r := range kept {
			ns.prios[r.priority]++
			ns.maxPrio = max(ns.maxPrio, r.priority)
		}
		ns.n += len(kept)
	}
	return ns
}

// applyRemove carries out a plan made on this classifier with no change in
// between.
func (c *classifier) applyRemove(p *removal) {
	if len(p.victims) == 0 {
		return
	}
	for old, ns := range p.replace {
		c.n -= old.n
		if ns == nil {
			delete(c.byMask, maskKey{*old.mask, old.mdMask})
			continue
		}
		c.n += ns.n
		c.byMask[maskKey{*old.mask, old.mdMask}] = ns
	}
	for st, victims := range p.inPlace {
		for _, r := range victims {
			c.removeFrom(st, r)
		}
		st.fixMaxPrio()
	}
	if len(p.replace) > 0 {
		kept := c.subtables[:0]
		for _, st := range c.subtables {
			ns, ok := p.replace[st]
			if !ok {
				kept = append(kept, st)
			} else if ns != nil {
				kept = append(kept, ns)
			}
		}
		clear(c.subtables[len(kept):])
		c.subtables = kept
	}
	c.sort()
}
