package datapath

// Flow caches of one pmd thread.
//
// Two levels, as in Open vSwitch's dpif-netdev:
//
//   - The exact-match cache (EMC) maps a packet's whole flow key to a
//     megaflow. Each key has two candidate slots (two hash segments); an
//     entry is inserted with probability 1/emcInsertInv so that a flood of
//     short flows does not thrash it. An EMC hit costs one hash and one key
//     comparison.
//   - The megaflow classifier is a tuple-space search: per input port, one
//     subtable per distinct mask, each an open-addressing hash table over
//     the masked key. Only the 64-bit words a mask actually covers are
//     hashed and compared, so a typical mask costs 2-4 words, not 16.
//     Subtables are re-ranked by hits every second, so the busiest mask is
//     probed first.
//
// Correctness rests on one invariant: megaflows installed under one
// translation version never overlap unless they differ only by their
// filter chains. Each is exactly the region of key space in which one
// translation holds, so whichever subtable is probed first, a hit is the
// right answer. Entries with the same masked key but different filter
// chains are chained in one slot and tried in order; a packet takes the
// first whose programs all give the recorded results. A program runs at
// most once per packet: results are memoised while the packet is looked
// up.
//
// Everything here is owned by the pmd thread: no locks, no atomics. A new
// translation version flushes both levels (see datapath.go).

import (
	"math/bits"
	"sort"
)

const (
	emcEntries   = 8192 // per pmd, a power of two
	emcInsertInv = 100  // default: insert one in this many EMC misses that hit a megaflow
	// maxCachedFlows bounds the megaflows of one pmd; past it new
	// translations are used for their packet but not cached, until idle
	// flows expire.
	maxCachedFlows = 200000
	// megaflowIdleNs is how long an unused megaflow stays cached.
	megaflowIdleNs = 10e9
)

// cachedFlow is a megaflow with its actions resolved for this pmd.
type cachedFlow struct {
	mf      *Megaflow
	actions []execAction
	masked  FlowKey // mf.Key, masked
	hash    uint64
	used    int64 // unix ns of the last hit, for idle expiry
	// Counts not yet added to the shared rule counters (see
	// pmd.foldCounters).
	pendPkts, pendBytes uint64
	packets, bytes      uint64      // folded counts, for dumps (dump.go)
	hasFilters          bool        // len(mf.Filters) > 0, without the pointer chase
	next                *cachedFlow // same masked key, other filter chain
	dead                bool        // evicted: EMC entries pointing here are stale
}

type emcEntry struct {
	hash uint64 // compared first: most probes of another flow's entry stop here
	flow *cachedFlow
	key  FlowKey
}

type subtable struct {
	mask  FlowKey
	words []uint8 // indexes of the mask's non-zero words
	slots []*cachedFlow
	count int
	hits  uint64
}

type portClassifier struct {
	subtables []*subtable
}

type flowCache struct {
	emc    []emcEntry
	emcInv uint64 // insert one in emcInv megaflow hits into the EMC; 0: EMC off
	byPort map[uint32]*portClassifier
	flows  int
	rng    uint64

	// memo of filter results for the packet being looked up
	memo  [8]memoEntry
	memoN int

	emcHits, megaflowHits uint64 // lookups each level answered (dump.go)
}

type memoEntry = FilterCheck

func (c *flowCache) init(emcInv int) {
	c.emc = make([]emcEntry, emcEntries)
	c.emcInv = uint64(max(emcInv, 0))
	c.byPort = map[uint32]*portClassifier{}
	c.rng = 0x2545f4914f6cdd1d
}

// flush drops every cached flow.
func (c *flowCache) flush() {
	if c.flows == 0 {
		return
	}
	clear(c.emc)
	for _, pc := range c.byPort {
		for _, st := range pc.subtables {
			for _, f := range st.slots {
				for ; f != nil; f = f.next {
					f.dead = true
				}
			}
		}
	}
	clear(c.byPort)
	c.flows = 0
}

func emcSlots(h uint64) (int, int) {
	return int(h & (emcEntries - 1)), int((h >> 32) & (emcEntries - 1))
}

// lookup finds the cached flow for a packet, or nil.
func (c *flowCache) lookup(pkt []byte, key *FlowKey, pc *portClassifier) *cachedFlow {
	c.memoN = 0 // a new packet: forget the last one's filter results
	var h uint64
	if c.emcInv != 0 { // with the EMC off, skip its hash and probes
		h = key.Hash()
		i, j := emcSlots(h)
		if e := &c.emc[i]; e.hash == h && e.flow != nil && !e.flow.dead && e.key == *key && c.filtersPass(e.flow, pkt) {
			c.emcHits++
			return e.flow
		}
		if e := &c.emc[j]; e.hash == h && e.flow != nil && !e.flow.dead && e.key == *key && c.filtersPass(e.flow, pkt) {
			c.emcHits++
			return e.flow
		}
	}
	if pc == nil {
		return nil
	}
	for _, st := range pc.subtables {
		if f := st.find(key, pkt, c); f != nil {
			st.hits++
			c.megaflowHits++
			c.emcInsert(key, h, f)
			return f
		}
	}
	return nil
}

// filtersPass runs f's filter chain on pkt, reusing results the packet
// already got from the same programs.
func (c *flowCache) filtersPass(f *cachedFlow, pkt []byte) bool {
	if !f.hasFilters {
		return true
	}
	for _, fc := range f.mf.Filters {
		if c.runFilter(fc.Filter, pkt) != fc.Want {
			return false
		}
	}
	return true
}

func (c *flowCache) runFilter(flt Filter, pkt []byte) bool {
	for i := 0; i < c.memoN; i++ {
		if c.memo[i].Filter == flt {
			return c.memo[i].Want
		}
	}
	r := flt.Match(pkt)
	if c.memoN < len(c.memo) {
		c.memo[c.memoN] = FilterCheck{Filter: flt, Want: r}
		c.memoN++
	}
	return r
}

func (c *flowCache) emcInsert(key *FlowKey, h uint64, f *cachedFlow) {
	// xorshift: cheap, good enough to sample one in emcInsertInv.
	c.rng ^= c.rng << 13
	c.rng ^= c.rng >> 7
	c.rng ^= c.rng << 17
	if c.emcInv == 0 || c.rng%c.emcInv != 0 {
		return
	}
	i, j := emcSlots(h)
	e := &c.emc[i]
	if e.flow != nil && !e.flow.dead {
		if alt := &c.emc[j]; alt.flow == nil || alt.flow.dead {
			e = alt
		}
	}
	e.hash, e.key, e.flow = h, *key, f
}

// classifier returns the classifier of an input port, creating it.
func (c *flowCache) classifier(inPort uint32, create bool) *portClassifier {
	pc := c.byPort[inPort]
	if pc == nil && create {
		pc = &portClassifier{}
		c.byPort[inPort] = pc
	}
	return pc
}

// insert caches f (its mf.Mask must cover in_port).
func (c *flowCache) insert(f *cachedFlow) bool {
	if c.flows >= maxCachedFlows {
		return false
	}
	pc := c.classifier(f.mf.Key.InPort, true)
	var st *subtable
	for _, s := range pc.subtables {
		if s.mask == f.mf.Mask {
			st = s
			break
		}
	}
	if st == nil {
		st = newSubtable(&f.mf.Mask)
		pc.subtables = append(pc.subtables, st)
	}
	f.masked = f.mf.Key
	f.hash = st.hashMasked(&f.masked)
	st.add(f)
	c.flows++
	return true
}

// maintain expires idle megaflows and re-ranks subtables; the pmd calls it
// about once a second.
func (c *flowCache) maintain(now int64) {
	for port, pc := range c.byPort {
		kept := pc.subtables[:0]
		for _, st := range pc.subtables {
			c.flows -= st.expire(now)
			if st.count > 0 {
				kept = append(kept, st)
			}
		}
		clear(pc.subtables[len(kept):])
		pc.subtables = kept
		if len(kept) == 0 {
			delete(c.byPort, port)
			continue
		}
		sort.SliceStable(kept, func(i, j int) bool { return kept[i].hits > kept[j].hits })
		for _, st := range kept {
			st.hits /= 2 // decay, so the ranking follows the traffic
		}
	}
}

func newSubtable(mask *FlowKey) *subtable {
	st := &subtable{mask: *mask, slots: make([]*cachedFlow, 16)}
	for i, w := range mask.Words() {
		if w != 0 {
			st.words = append(st.words, uint8(i))
		}
	}
	return st
}

// hashMasked hashes the covered words of an already masked key.
func (st *subtable) hashMasked(k *FlowKey) uint64 {
	kw := k.Words()
	h := uint64(0x9e3779b97f4a7c15)
	for _, w := range st.words {
		h = (h ^ kw[w]) * 0xff51afd7ed558ccd
		h ^= h >> 29
	}
	return h
}

// find returns the flow matching key (and its filters) in this subtable.
func (st *subtable) find(key *FlowKey, pkt []byte, c *flowCache) *cachedFlow {
	kw, mw := key.Words(), st.mask.Words()
	h := uint64(0x9e3779b97f4a7c15)
	for _, w := range st.words {
		h = (h ^ (kw[w] & mw[w])) * 0xff51afd7ed558ccd
		h ^= h >> 29
	}
	n := uint64(len(st.slots) - 1)
	for i := h & n; ; i = (i + 1) & n {
		f := st.slots[i]
		if f == nil {
			return nil
		}
		if f.hash != h || !st.sameMasked(kw, mw, f) {
			continue
		}
		for ; f != nil; f = f.next {
			if c.filtersPass(f, pkt) {
				return f
			}
		}
		return nil
	}
}

func (st *subtable) sameMasked(kw, mw *[KeyWords]uint64, f *cachedFlow) bool {
	fw := f.masked.Words()
	for _, w := range st.words {
		if kw[w]&mw[w] != fw[w] {
			return false
		}
	}
	return true
}

// add inserts f, chaining it behind an entry with the same masked key.
func (st *subtable) add(f *cachedFlow) {
	if (st.count+1)*4 > len(st.slots)*3 {
		st.grow()
	}
	n := uint64(len(st.slots) - 1)
	for i := f.hash & n; ; i = (i + 1) & n {
		g := st.slots[i]
		if g == nil {
			st.slots[i] = f
			st.count++
			return
		}
		if g.hash == f.hash && g.masked == f.masked {
			for g.next != nil {
				g = g.next
			}
			g.next = f
			return
		}
	}
}

func (st *subtable) grow() {
	old := st.slots
	st.slots = make([]*cachedFlow, 1<<bits.Len(uint(len(old)*2-1)))
	st.count = 0
	n := uint64(len(st.slots) - 1)
	for _, f := range old {
		if f == nil {
			continue
		}
		for i := f.hash & n; ; i = (i + 1) & n {
			if st.slots[i] == nil {
				st.slots[i] = f
				st.count++
				break
			}
		}
	}
}

// expire removes chains whose flows are all idle and returns how many
// flows it removed. It rebuilds the table, which keeps linear probing
// correct without tombstones.
func (st *subtable) expire(now int64) int {
	removed := 0
	var keep []*cachedFlow
	for _, f := range st.slots {
		if f == nil {
			continue
		}
		live := false
		for g := f; g != nil; g = g.next {
			if now-g.used < megaflowIdleNs {
				live = true
			}
		}
		if live {
			keep = append(keep, f)
			continue
		}
		for g := f; g != nil; g = g.next {
			g.dead = true
			removed++
		}
	}
	if removed == 0 {
		return 0
	}
	clear(st.slots)
	st.count = 0
	for _, f := range keep {
		st.add(f)
	}
	return removed
}
