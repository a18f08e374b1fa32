package datapath

// Flow caches of one pmd thread.
//
// Two levels, as in Open vSwitch's dpif-netdev:
//
//   - The exact-match cache (EMC) maps the hash of a packet's whole flow
//     key to a megaflow. Each key has two candidate slots (two hash
//     segments); an entry is inserted with probability 1/emcInsertInv so
//     that a flood of short flows does not thrash it. An EMC hit costs one
//     hash and a comparison of the packet's key with the flow's in the
//     words the flow's mask covers: that is exactly "the packet is in the
//     megaflow", all a hit needs, and it reads the flow the pmd reads
//     anyway rather than a 136-byte copy of a key (OVS's EMC keeps the
//     copy). For a port whose megaflow classifier has one subtable, a
//     megaflow lookup is a single probe of a compact key, so the EMC only
//     pays while it hits nearly always (at 10k flows it hit 54% of the
//     time and cost 10% more instructions and 18 times the L2 misses of
//     the megaflow path alone when it still kept key copies; without them,
//     always using it is still 28% slower in process there; at 1k flows it
//     hits 96% and saves 6%). So such ports use it only while the pmd's
//     EMC hit rate over the last second was at least emcTrustRate; when it
//     was not, the EMC is left alone for emcRetryNs and then tried again
//     for a second. Ports with several masks always use it.
//   - The megaflow classifier is a tuple-space search: per input port, one
//     subtable per distinct mask, each an open-addressing hash table over
//     the masked key. Only the 64-bit words a mask actually covers are
//     hashed and compared, so a typical mask costs 2-4 words, not 16.
//     Subtables are re-ranked by hits every second, so the busiest mask is
//     probed first.
//   - Simple match (as OVS 3.1): a megaflow whose mask is in_port alone,
//     with no filters and only plain outputs, is right for every packet of
//     its port, so while it is cached the pmd forwards that port's bursts
//     with it without parsing or looking anything up (portClassifier.simple).
//
// Correctness rests on one invariant: every cached megaflow is right for
// the current state, for every packet it matches (revalidation removes the
// ones a change made stale, see datapath.go). Each is a region of key
// space in which one translation holds, so whichever subtable is probed
// first, a hit is the right answer: two entries that overlap give the same
// result to the packets they share. Entries with the same masked key but
// different filter chains are chained in one slot and tried in order; a
// packet takes the first whose programs all give the recorded results. A
// program runs at most once per packet: results are memoised while the
// packet is looked up.
//
// Everything here is owned by the pmd thread: no locks, no atomics.

import (
	"math/bits"
	"sort"
	"sync/atomic"

	"github.com/goko-net/goko/ubpf"
)

const (
	emcEntries   = 8192 // per pmd, a power of two
	emcTrustRate = 0.8  // EMC hit rate that keeps it on for one-mask ports
	emcRetryNs   = 10e9 // how long the EMC stays off for them before a retry
	emcInsertInv = 100  // default: insert one in this many EMC misses that hit a megaflow
	// DefaultFlowLimit bounds the megaflows of a datapath, all pmds
	// together, when Config.FlowLimit is 0 (OVS's flow-limit default).
	DefaultFlowLimit = 200000
	// megaflowIdleNs is how long an unused megaflow stays cached.
	megaflowIdleNs = 10e9
)

// cachedFlow is a megaflow with its actions resolved for this pmd.
//
// Layout: what a hit reads and writes fills the first cache line (flags,
// output, the subtable, pending counts, the first filter of the chain),
// then comes the megaflow, whose key (already masked) starts at byte 56:
// its words 1 to 8, every word an IPv4 mask can cover but the tunnel ID
// (in_port, eth_type, nw_dst: words 2, 4 and 6, typically), then lie in
// the second line, so a hit touches the flow's first two cache lines and
// no other. The size is padded to a multiple
// of 64 bytes (TestCacheEntrySizes checks both) so that the allocator's
// size class keeps every flow on a cache line boundary; unpadded, every
// other flow straddled one more line.
type cachedFlow struct {
	dead      bool // evicted: EMC entries pointing here are stale
	simple    bool // fit for simple match (see portClassifier.simple)
	firstWant bool // see first
	// nFilters is len(mf.Filters) up to 255 (more: 255), without the
	// pointer chase
	nFilters uint8
	// out is the tx queue index when the actions are a single plain
	// output (the common case), which the pmd then runs without
	// execute's pointer chases through actions; -1 otherwise.
	out int32
	// soleProg is first's program when first is a ProgramFilter and the
	// chain's only filter: the cache runs it itself (see filtersPass)
	soleProg *atomic.Pointer[ubpf.Program]
	// st is the subtable of the flow's mask: an EMC hit compares the
	// packet's key with the flow's in the words that mask covers
	st *subtable
	// Counts not yet added to the shared rule counters (see
	// pmd.foldCounters).
	pendPkts, pendBytes uint64
	// first and firstWant are mf.Filters[0]: a chain usually has one
	// program, and running it then reads nothing beyond the flow's
	// first cache line
	first Filter
	mf    Megaflow

	hash           uint64
	next           *cachedFlow // same masked key, other filter chain
	used           int64       // unix ns of the last hit, for idle expiry
	packets, bytes uint64      // folded counts, for dumps (dump.go)
	actions        []execAction
	_              [cachedFlowPad]byte
}

// cachedFlowPad rounds cachedFlow up to a multiple of 64 bytes (512);
// TestCacheEntrySizes fails, saying by how much, when a change of the
// fields breaks that.
const cachedFlowPad = 24

// emcEntry is an EMC slot: the hash of the key of the packet that put it
// there, and its flow. A hit is decided on the flow's masked key, not on
// a copy of the whole packet key: the 16-byte entries (128 KiB per pmd)
// stay in the CPU caches, and a hit reads the words of the flow's key its
// mask covers (2-4 words, in the flow the pmd reads anyway to forward)
// and the subtable's mask, shared by all flows of that mask.
type emcEntry struct {
	hash uint64
	flow *cachedFlow
}

type subtable struct {
	mask FlowKey
	// wordIdx[:nWords] are the indexes of the mask's non-zero words (see
	// words), in the subtable itself rather than behind a slice: an EMC
	// hit reaches them from its flow in one load fewer (flow, subtable,
	// words was a chain of dependent loads that took a third of the EMC
	// lookup's time in scenario b's profile).
	wordIdx [KeyWords]uint8
	nWords  uint8
	// four: the mask covers at most four words and wordIdx[:4] lists
	// them padded with uncovered ones (see newSubtable)
	four  bool
	slots []*cachedFlow
	// hashes[i] is slots[i].hash, so that a probe of a slot another key
	// holds does not load that flow (a cache miss per probe).
	hashes []uint64
	count  int
	hits   uint64
}

type portClassifier struct {
	subtables []*subtable
	// simple is a live megaflow of this port whose mask is in_port alone,
	// with no filters and only plain outputs, or nil (dead when evicted).
	simple *cachedFlow
}

type flowCache struct {
	emc []emcEntry
	// EMC use by one-mask ports (see the file comment): probes and hits
	// since the last maintain, whether to use it, and when it was turned
	// off.
	emcWinProbes, emcWinHits uint64
	emcTrusted               bool
	emcOffSince              int64
	emcInv                   uint64 // insert one in emcInv megaflow hits into the EMC; 0: EMC off
	byPort                   map[uint32]*portClassifier
	flows                    int
	rng                      uint64
	// total counts the megaflows of every pmd of the datapath against
	// limit: past it new translations are used for their packet but not
	// cached, until flows expire or are revalidated away.
	total *atomic.Int64
	limit int64

	// The burst being looked up (the pmd's arrays) and the index of the
	// packet in it, for filters, which get in (filled when one runs; its
	// VM, the pmd's own, set once), and a memo of their results.
	burst *burst
	cur   int
	in    FilterInput
	memo  [8]memoEntry
	memoN int

	emcHits, megaflowHits uint64 // lookups each level answered (dump.go)
}

type memoEntry = FilterCheck

func (c *flowCache) init(b *burst, emcInv int, total *atomic.Int64, limit int) {
	c.burst, c.total, c.limit = b, total, int64(limit)
	c.in.VM = ubpf.NewThread()
	c.emc = make([]emcEntry, emcEntries)
	c.emcTrusted = true
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
	c.total.Add(-int64(c.flows))
	c.flows = 0
}

// dropIf drops the cached flows for which stale holds.
func (c *flowCache) dropIf(stale func(*cachedFlow) bool) {
	c.sweep(func(st *subtable) int { return st.removeIf(stale) })
}

func emcSlots(h uint64) (int, int) {
	return int(h & (emcEntries - 1)), int((h >> 32) & (emcEntries - 1))
}

// lookup finds the cached flow for packet i of the burst, whose key is
// key, or nil.
func (c *flowCache) lookup(i int, key *FlowKey, pc *portClassifier) *cachedFlow {
	c.memoN = 0 // a new packet: forget the last one's filter results
	c.cur = i
	if pc == nil {
		return nil
	}
	emc := c.emcInv != 0 && (c.emcTrusted || len(pc.subtables) > 1)
	var h uint64
	if emc {
		c.emcWinProbes++
		h = key.Hash()
		i, j := emcSlots(h)
		if e := &c.emc[i]; e.hash == h && e.flow != nil && !e.flow.dead && e.flow.matches(key) && (e.flow.nFilters == 0 || c.filtersPass(e.flow)) {
			c.emcHits++
			c.emcWinHits++
			return e.flow
		}
		if e := &c.emc[j]; e.hash == h && e.flow != nil && !e.flow.dead && e.flow.matches(key) && (e.flow.nFilters == 0 || c.filtersPass(e.flow)) {
			c.emcHits++
			c.emcWinHits++
			return e.flow
		}
	}
	for _, st := range pc.subtables {
		if f := st.find(key, c); f != nil {
			st.hits++
			c.megaflowHits++
			if emc {
				c.emcInsert(h, f)
			}
			return f
		}
	}
	return nil
}

// setFilters sets what filtersPass reads from f.mf.Filters.
func (f *cachedFlow) setFilters() {
	fs := f.mf.Filters
	f.nFilters = uint8(min(len(fs), 255))
	if len(fs) > 0 {
		f.first, f.firstWant = fs[0].Filter, fs[0].Want
		if pf, ok := f.first.(ProgramFilter); ok && len(fs) == 1 {
			f.soleProg = pf.Program()
		}
	}
}

// filtersPass runs f's filter chain on pkt, reusing results the packet
// already got from the same programs. The common case, one eBPF program
// that is the packet's first filter, runs here: no FilterInput, no
// interface call, and a frame small enough for the call into the code to
// be most of it. Its result is worth remembering only when the lookup
// goes on (it is not the one f wants); when it is, f is the packet's
// flow.
func (c *flowCache) filtersPass(f *cachedFlow) bool {
	if pr := f.soleProg; pr != nil && c.memoN == 0 {
		if pr.Load().Match(c.in.VM, c.burst.pkts[c.cur&(BurstSize-1)].Data) == f.firstWant {
			return true
		}
		c.rememberFirst(f, !f.firstWant)
		return false
	}
	return c.chainPass(f)
}

// rememberFirst records that f's first filter gave r, as the packet's
// first result.
func (c *flowCache) rememberFirst(f *cachedFlow, r bool) {
	m := &c.memo[0] // field by field, see match
	m.Filter, m.Want = f.first, r
	c.memoN = 1
}

// chainPass is filtersPass for every other chain: one filter of another
// kind (the same shortcut through the memo), or several, each run at
// most once per packet.
func (c *flowCache) chainPass(f *cachedFlow) bool {
	if f.nFilters == 1 && c.memoN == 0 {
		r := c.match(f.first)
		if r != f.firstWant {
			c.rememberFirst(f, r)
			return false
		}
		return true
	}
next:
	for k := range f.mf.Filters {
		flt, want := f.first, f.firstWant
		if k > 0 {
			fc := &f.mf.Filters[k]
			flt, want = fc.Filter, fc.Want
		}
		for i := 0; i < c.memoN; i++ {
			if c.memo[i].Filter == flt {
				if c.memo[i].Want != want {
					return false
				}
				continue next
			}
		}
		r := c.match(flt)
		if c.memoN < len(c.memo) {
			m := &c.memo[c.memoN] // field by field, see match
			m.Filter, m.Want = flt, r
			c.memoN++
		}
		if r != want {
			return false
		}
	}
	return true
}

// match runs flt on the packet being looked up.
func (c *flowCache) match(flt Filter) bool {
	b, i := c.burst, c.cur
	// field by field: a composite literal is built in a temporary with
	// narrow stores (Off) and copied with wide loads, which the CPU
	// cannot forward from them: a stall of a dozen cycles per run
	in := &c.in
	in.Data, in.Key, in.Off = b.pkts[i].Data, &b.keys[i], b.offs[i] // in.VM is set once
	return flt.Match(in)
}

func (c *flowCache) emcInsert(h uint64, f *cachedFlow) {
	// xorshift: cheap, good enough to sample one in emcInsertInv.
	c.rng ^= c.rng << 13
	c.rng ^= c.rng >> 7
	c.rng ^= c.rng << 17
	if c.rng%c.emcInv != 0 {
		return
	}
	i, j := emcSlots(h)
	if e := &c.emc[i]; e.flow != nil && !e.flow.dead {
		if alt := &c.emc[j]; alt.flow == nil || alt.flow.dead {
			i = j
		}
	}
	e := &c.emc[i] // field by field, see filtersPass
	e.hash, e.flow = h, f
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

// insert caches f (its mf.Mask must cover in_port). It returns false if
// the datapath's flow limit is reached.
func (c *flowCache) insert(f *cachedFlow) bool {
	if c.total.Load() >= c.limit {
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
	f.hash = st.hashMasked(&f.mf.Key)
	f.st = st
	st.add(f)
	if f.simple {
		pc.simple = f
	}
	c.flows++
	c.total.Add(1)
	return true
}

// sweep lets drop remove flows from every subtable (it returns how many),
// then forgets the subtables and ports left empty.
func (c *flowCache) sweep(drop func(*subtable) int) {
	for port, pc := range c.byPort {
		kept := pc.subtables[:0]
		for _, st := range pc.subtables {
			n := drop(st)
			c.flows -= n
			c.total.Add(-int64(n))
			if st.count > 0 {
				kept = append(kept, st)
			}
		}
		clear(pc.subtables[len(kept):])
		pc.subtables = kept
		if len(kept) == 0 {
			delete(c.byPort, port)
		}
	}
}

// maintain expires idle megaflows and re-ranks subtables; the pmd calls it
// about once a second.
func (c *flowCache) maintain(now int64) {
	c.judgeEMC(now)
	c.sweep(func(st *subtable) int { return st.expire(now) })
	for _, pc := range c.byPort {
		kept := pc.subtables
		sort.SliceStable(kept, func(i, j int) bool { return kept[i].hits > kept[j].hits })
		for _, st := range kept {
			st.hits /= 2 // decay, so the ranking follows the traffic
		}
	}
}

// judgeEMC decides, once a second, whether one-mask ports use the EMC (see
// the file comment).
func (c *flowCache) judgeEMC(now int64) {
	switch {
	case c.emcWinProbes >= 1000:
		trusted := float64(c.emcWinHits) >= emcTrustRate*float64(c.emcWinProbes)
		if c.emcTrusted && !trusted {
			c.emcOffSince = now
		}
		c.emcTrusted = trusted
	case !c.emcTrusted && now-c.emcOffSince >= emcRetryNs:
		c.emcTrusted = true // a trial: judged again in a second
	}
	c.emcWinProbes, c.emcWinHits = 0, 0
}

func newSubtable(mask *FlowKey) *subtable {
	st := &subtable{mask: *mask, slots: make([]*cachedFlow, 16), hashes: make([]uint64, 16)}
	uncovered := -1
	for i, w := range mask.Words() {
		if w != 0 {
			st.wordIdx[st.nWords] = uint8(i)
			st.nWords++
		} else if uncovered < 0 {
			uncovered = i
		}
	}
	// A mask usually covers two to four words (in_port, eth_type and
	// nw_dst are words 2, 4 and 6). Its list is then padded to four with
	// a word it does not cover, whose masked value is zero in every key,
	// so that find hashes and compares four words unrolled instead of in
	// a loop. The hash of a subtable's keys is over the padded list.
	if uncovered >= 0 && st.nWords <= 4 {
		st.four = true
		for i := st.nWords; i < 4; i++ {
			st.wordIdx[i] = uint8(uncovered)
		}
	}
	return st
}

// words returns the indexes of the key words the subtable's mask covers.
func (st *subtable) words() []uint8 { return st.wordIdx[:st.nWords] }

// hashWords returns the indexes of the words its keys' hash is over: the
// covered ones, padded to four when st.four.
func (st *subtable) hashWords() []uint8 {
	if st.four {
		return st.wordIdx[:4]
	}
	return st.words()
}

// masked4 returns the masked words of a key in a subtable with four.
func (st *subtable) masked4(kw, mw *[KeyWords]uint64) (a, b, c, d uint64) {
	w := &st.wordIdx
	return kw[w[0]] & mw[w[0]], kw[w[1]] & mw[w[1]], kw[w[2]] & mw[w[2]], kw[w[3]] & mw[w[3]]
}

// mixWord is one step of the hash of a subtable's masked words.
func mixWord(h, x uint64) uint64 {
	h = (h ^ x) * 0xff51afd7ed558ccd
	return h ^ h>>29
}

// hashMasked hashes an already masked key over hashWords, as find does.
func (st *subtable) hashMasked(k *FlowKey) uint64 {
	kw := k.Words()
	h := uint64(hashSeed)
	for _, w := range st.hashWords() {
		h = mixWord(h, kw[w])
	}
	return finalMix(h)
}

const hashSeed = 0x9e3779b97f4a7c15

// finalMix spreads every bit of h over the low bits that index the
// slots. Without it, keys that differ in a few bits of one word (the 256
// nw_dst/24 of the benchmark: one byte) fill runs of neighbouring slots,
// and linear probing took 5.5 probes on average (18 at worst) at half
// load instead of about 1.5.
func finalMix(h uint64) uint64 {
	h ^= h >> 33
	h *= 0xc4ceb9fe1a85ec53
	h ^= h >> 33
	return h
}

// find returns the flow matching key (and its filters) in this subtable.
func (st *subtable) find(key *FlowKey, c *flowCache) *cachedFlow {
	kw, mw := key.Words(), st.mask.Words()
	four := st.four
	var a0, a1, a2, a3 uint64
	h := uint64(hashSeed)
	if four {
		a0, a1, a2, a3 = st.masked4(kw, mw)
		h = mixWord(mixWord(mixWord(mixWord(h, a0), a1), a2), a3)
	} else {
		for _, w := range st.words() {
			h = mixWord(h, kw[w]&mw[w])
		}
	}
	h = finalMix(h)
	n := uint64(len(st.slots) - 1)
	for i := h & n; ; i = (i + 1) & n {
		f := st.slots[i]
		if f == nil {
			return nil
		}
		if st.hashes[i] != h {
			continue
		}
		if four {
			fw, w := f.mf.Key.Words(), &st.wordIdx // f's key is masked
			if fw[w[0]] != a0 || fw[w[1]] != a1 || fw[w[2]] != a2 || fw[w[3]] != a3 {
				continue
			}
		} else if !st.sameMasked(kw, mw, f) {
			continue
		}
		for ; f != nil; f = f.next {
			if f.nFilters == 0 || c.filtersPass(f) {
				return f
			}
		}
		return nil
	}
}

// matches reports whether key is in f's megaflow: equal to f's key in the
// bits of its mask. That is all a hit needs (see the file comment).
func (f *cachedFlow) matches(key *FlowKey) bool {
	return f.st.sameMasked(key.Words(), f.st.mask.Words(), f)
}

func (st *subtable) sameMasked(kw, mw *[KeyWords]uint64, f *cachedFlow) bool {
	fw := f.mf.Key.Words()
	for _, w := range st.words() {
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
			st.slots[i], st.hashes[i] = f, f.hash
			st.count++
			return
		}
		if g.hash == f.hash && g.mf.Key == f.mf.Key {
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
	st.hashes = make([]uint64, len(st.slots))
	st.count = 0
	n := uint64(len(st.slots) - 1)
	for _, f := range old {
		if f == nil {
			continue
		}
		for i := f.hash & n; ; i = (i + 1) & n {
			if st.slots[i] == nil {
				st.slots[i], st.hashes[i] = f, f.hash
				st.count++
				break
			}
		}
	}
}

// expire removes chains whose flows are all idle and returns how many
// flows it removed.
func (st *subtable) expire(now int64) int {
	removed := 0
	st.editChains(func(f *cachedFlow) *cachedFlow {
		for g := f; g != nil; g = g.next {
			if now-g.used < megaflowIdleNs {
				return f
			}
		}
		for g := f; g != nil; g = g.next {
			g.dead = true
			removed++
		}
		return nil
	})
	return removed
}

// removeIf removes the flows for which stale holds, also from the middle
// of chains, and returns how many it removed.
func (st *subtable) removeIf(stale func(*cachedFlow) bool) int {
	removed := 0
	st.editChains(func(f *cachedFlow) *cachedFlow {
		for g := f; g.next != nil; {
			if stale(g.next) {
				g.next.dead = true
				g.next = g.next.next
				removed++
			} else {
				g = g.next
			}
		}
		if !stale(f) {
			return f
		}
		f.dead = true
		removed++
		return f.next
	})
	return removed
}

// editChains replaces each slot's chain by what edit returns for it (nil
// empties the slot). If a head changed it rebuilds the table, which keeps
// linear probing correct without tombstones.
func (st *subtable) editChains(edit func(*cachedFlow) *cachedFlow) {
	changed := false
	var keep []*cachedFlow
	for _, f := range st.slots {
		if f == nil {
			continue
		}
		g := edit(f)
		if g != f {
			changed = true
		}
		if g != nil {
			keep = append(keep, g)
		}
	}
	if !changed {
		return
	}
	clear(st.slots)
	clear(st.hashes)
	st.count = 0
	for _, f := range keep {
		st.add(f)
	}
}
