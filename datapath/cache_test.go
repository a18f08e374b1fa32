package datapath

import (
	"sync/atomic"
	"testing"

	"github.com/goko-net/goko/ubpf"
)

// boolFilter always gives its result.
type boolFilter bool

func (f *boolFilter) Match(*FilterInput) bool { return bool(*f) }

// TestSubtableRemoveIfChains removes flows from the head, middle and end
// of filter chains and from single slots, and checks what stays findable.
func TestSubtableRemoveIfChains(t *testing.T) {
	mask := FlowKey{InPort: ^uint32(0), NwDst: ^uint32(0)}
	st := newSubtable(&mask)
	var c flowCache
	c.init(new(burst), -1, new(atomic.Int64), 100)
	yes, no := boolFilter(true), boolFilter(false)
	mk := func(dst uint32, filters ...FilterCheck) *cachedFlow {
		f := &cachedFlow{mf: Megaflow{Key: FlowKey{InPort: 1, NwDst: dst}, Translation: Translation{Mask: mask, Filters: filters}}}
		f.setFilters()
		f.hash = st.hashMasked(&f.mf.Key)
		st.add(f)
		return f
	}
	// Three flows share dst 1 and differ by filter chain: a packet takes
	// the first whose filters pass.
	a := mk(1, FilterCheck{Filter: &no, Want: true})
	b := mk(1, FilterCheck{Filter: &yes, Want: true})
	c3 := mk(1)
	var singles []*cachedFlow
	for d := uint32(2); d < 40; d++ {
		singles = append(singles, mk(d))
	}
	find := func(dst uint32) *cachedFlow {
		c.memoN = 0
		return st.find(&FlowKey{InPort: 1, NwDst: dst}, &c)
	}
	if find(1) != b {
		t.Fatal("chain lookup did not find the flow whose filter passes")
	}
	// Remove the middle of the chain, and every third single.
	gone := map[*cachedFlow]bool{b: true}
	for i, f := range singles {
		if i%3 == 0 {
			gone[f] = true
		}
	}
	if n := st.removeIf(func(f *cachedFlow) bool { return gone[f] }); n != len(gone) {
		t.Fatalf("removed %d, want %d", n, len(gone))
	}
	if find(1) != c3 || !b.dead || a.dead {
		t.Fatalf("after removing the chain's middle: found %p (want %p), dead %v %v", find(1), c3, a.dead, b.dead)
	}
	// Remove the head: the rest of the chain stays findable.
	st.removeIf(func(f *cachedFlow) bool { return f == a })
	if find(1) != c3 || !a.dead {
		t.Fatal("removing the chain's head lost the rest of it")
	}
	for i, f := range singles {
		got := find(f.mf.Key.NwDst)
		if gone[f] != (got == nil) || gone[f] != f.dead {
			t.Fatalf("single %d: found %v, dead %v, removed %v", i, got != nil, f.dead, gone[f])
		}
	}
	st.removeIf(func(f *cachedFlow) bool { return f == c3 })
	if find(1) != nil || st.count != len(singles)-len(gone)+1 {
		t.Fatalf("after removing the whole chain: count %d", st.count)
	}
}

// TestRevalidateLogOverflow checks that a pmd that fell behind more
// requests than the log keeps flushes its whole cache.
func TestRevalidateLogOverflow(t *testing.T) {
	p, _ := benchPMD(t, 64, &dstTranslator{}, false)
	for i := 0; i < 10; i++ {
		p.poll()
	}
	if p.cache.flows == 0 {
		t.Fatal("nothing cached")
	}
	never := func(*Megaflow) bool { return false }
	p.dp.Revalidate(never)
	p.revalidate(p.dp.version.Load())
	if p.cache.flows == 0 {
		t.Fatal("a predicate that names nothing flushed the cache")
	}
	for i := 0; i < maxRevals+1; i++ {
		p.dp.Revalidate(never)
	}
	p.revalidate(p.dp.version.Load())
	if p.cache.flows != 0 {
		t.Fatalf("%d flows left after the log overflowed", p.cache.flows)
	}
}

// switchTranslator sends everything to port out, looking at in_port only,
// or, when byDst is set, by nw_dst to port out or out+1.
type switchTranslator struct {
	out   uint32
	byDst bool
	calls int
	stats FlowStats
}

func (t *switchTranslator) Translate(m *Miss, tr *Translation) {
	t.calls++
	tr.Stats = []*FlowStats{&t.stats}
	if !t.byDst {
		tr.Actions = []Action{{Kind: ActOutput, Port: t.out}}
		return
	}
	tr.Mask.NwDst = ^uint32(0)
	tr.Actions = []Action{{Kind: ActOutput, Port: t.out + (m.Key.NwDst>>8)%2}}
}

// TestSimpleMatch checks that a port whose cached megaflow looks at
// in_port only is forwarded without parsing or lookups, counts its
// packets, and goes back to the full path when revalidation drops it.
func TestSimpleMatch(t *testing.T) {
	tr := &switchTranslator{out: 2}
	src, sink2, sink3 := &benchSource{frames: udpFrames(64)}, &benchSink{}, &benchSink{}
	dp := New(Config{Name: "simple", Translator: tr})
	dp.AddPort(1, src)
	dp.AddPort(2, sink2)
	dp.AddPort(3, sink3)
	p := newPMD(dp)
	for i := 0; i < 10; i++ {
		p.poll()
	}
	pc := p.cache.classifier(1, false)
	if tr.calls != 1 || pc == nil || pc.simple == nil || sink2.n != 320 {
		t.Fatalf("translations %d, simple %v, port 2 sent %d; want 1, a simple flow, 320", tr.calls, pc != nil && pc.simple != nil, sink2.n)
	}
	// Simple match leaves the keys alone: the next burst is not parsed.
	before := p.keys
	p.poll()
	if p.keys != before {
		t.Error("a simple-match burst was parsed")
	}
	p.foldCounters()
	if got := tr.stats.Packets.Load(); got != 352 {
		t.Errorf("counted %d packets, want 352", got)
	}
	// The translation now depends on nw_dst: the simple flow goes.
	tr.byDst = true
	dp.Revalidate(func(*Megaflow) bool { return true })
	p.poll()
	if !pc.simple.dead || sink3.n == 0 {
		t.Fatalf("after revalidation: simple flow dead %v, port 3 sent %d", pc.simple.dead, sink3.n)
	}
	if p.cache.classifier(1, false).simple != nil && !p.cache.classifier(1, false).simple.dead {
		t.Fatal("a flow that looks at nw_dst was taken for a simple one")
	}
}

// TestJudgeEMC walks the EMC's on/off rule for one-mask ports: off after
// a second of low hit rate, left alone for emcRetryNs, then tried again.
func TestJudgeEMC(t *testing.T) {
	var c flowCache
	c.init(new(burst), 100, new(atomic.Int64), 100)
	second := int64(1e9)
	now := int64(1e12)
	judge := func(probes, hits uint64) bool {
		c.emcWinProbes, c.emcWinHits = probes, hits
		c.judgeEMC(now)
		now += second
		return c.emcTrusted
	}
	if !c.emcTrusted {
		t.Fatal("the EMC starts off")
	}
	if !judge(100, 0) {
		t.Fatal("turned off on too few probes to judge")
	}
	if !judge(10000, 9000) {
		t.Fatal("turned off at a 90% hit rate")
	}
	if judge(10000, 5000) {
		t.Fatal("kept at a 50% hit rate")
	}
	for i := 1; i < int(emcRetryNs/second); i++ {
		if judge(0, 0) {
			t.Fatalf("retried after %d s, want %v", i, emcRetryNs/1e9)
		}
	}
	if !judge(0, 0) {
		t.Fatal("not retried")
	}
	if judge(10000, 4000) {
		t.Fatal("a failed trial kept it on")
	}
	for i := 0; !judge(0, 0); i++ {
		if i > 2*int(emcRetryNs/second) {
			t.Fatal("never retried after a failed trial")
		}
	}
	for i := 0; i < 2; i++ {
		if !judge(10000, 9500) {
			t.Fatalf("a good trial did not keep it on (second %d)", i)
		}
	}
}

// TestSubtableProbes checks that keys differing in one byte of one word
// (256 nw_dst/24 prefixes, scenario (a) of bench/ovs-compare.sh) spread
// over a subtable's slots: linear probing then stays short. Before
// finalMix they took 5.5 probes on average at half load.
func TestSubtableProbes(t *testing.T) {
	var mask FlowKey
	mask.InPort, mask.EthType, mask.NwDst = ^uint32(0), 0xffff, 0xffffff00
	st := newSubtable(&mask)
	key := func(x int) FlowKey {
		var k FlowKey
		k.InPort, k.EthType, k.NwDst = 1, EthTypeIPv4, 0x0a010000|uint32(x)<<8
		return k
	}
	for x := 0; x < 256; x++ {
		f := &cachedFlow{}
		f.mf.Key = key(x)
		f.hash = st.hashMasked(&f.mf.Key)
		st.add(f)
	}
	total := 0
	n := uint64(len(st.slots) - 1)
	for x := 0; x < 256; x++ {
		k := key(x)
		h := st.hashMasked(&k)
		i := h & n
		for total++; st.slots[i].mf.Key != k; i = (i + 1) & n {
			total++
		}
		k.NwDst |= 0x2a // a packet's key: the masked-off bits differ
		var c flowCache
		if f := st.find(&k, &c); f == nil || f.mf.Key.NwDst != key(x).NwDst {
			t.Fatalf("find(10.1.%d.42) = %v", x, f)
		}
	}
	if avg := float64(total) / 256; avg > 2.5 {
		t.Errorf("%.2f probes per lookup on average in %d slots; want at most 2.5", avg, len(st.slots))
	}
}

// TestEMCHitIsMegaflowMatch: an EMC entry is a hint; a hit needs the
// packet to be in the entry's megaflow. A packet whose key hash equals an
// entry's (forced here) but that is outside the entry's flow is not given
// that flow, and one inside it is, whatever its unmasked fields.
func TestEMCHitIsMegaflowMatch(t *testing.T) {
	var c flowCache
	c.init(new(burst), 1, new(atomic.Int64), 100)
	mask := FlowKey{InPort: ^uint32(0), EthType: 0xffff, NwDst: 0xffffff00}
	in := FlowKey{InPort: 1, EthType: 0x0800, NwDst: 0x0a010100}
	f := &cachedFlow{}
	f.mf.Mask = mask
	f.mf.Key.And(&in, &mask)
	if !c.insert(f) {
		t.Fatal("insert refused")
	}
	pc := c.classifier(1, false)
	other := FlowKey{InPort: 1, EthType: 0x0800, NwDst: 0x0a010205, TpDst: 53}
	same := FlowKey{InPort: 1, EthType: 0x0800, NwDst: 0x0a0101fe, TpDst: 99, NwSrc: 7}
	for _, k := range []*FlowKey{&other, &same} {
		h := k.Hash()
		i, j := emcSlots(h)
		c.emc[i] = emcEntry{hash: h, flow: f}
		c.emc[j] = emcEntry{hash: h, flow: f}
	}
	if got := c.lookup(0, &other, pc); got != nil {
		t.Fatalf("a packet outside the flow (nw_dst %#x) got it from the EMC", other.NwDst)
	}
	hits := c.emcHits
	if got := c.lookup(0, &same, pc); got != f || c.emcHits != hits+1 {
		t.Fatalf("a packet inside the flow: got %p (want %p), EMC hits %d -> %d", got, f, hits, c.emcHits)
	}
}

// TestSubtableWordCounts: find agrees with the hash insert computed, and
// compares exactly the covered words, for masks of one to seven words
// (up to four take find's unrolled path over a padded word list, more
// its loop).
func TestSubtableWordCounts(t *testing.T) {
	fields := []func(k *FlowKey, v uint32){
		func(k *FlowKey, v uint32) { k.InPort = v },
		func(k *FlowKey, v uint32) { k.EthType = uint16(v) },
		func(k *FlowKey, v uint32) { k.NwDst = v },
		func(k *FlowKey, v uint32) { k.TpDst = uint16(v) },
		func(k *FlowKey, v uint32) { k.TunID = uint64(v) },
		func(k *FlowKey, v uint32) { k.MPLSLSE = v },
		func(k *FlowKey, v uint32) { k.PBBISID = v },
	}
	for n := 1; n <= len(fields); n++ {
		var mask, in FlowKey
		for _, set := range fields[:n] {
			set(&mask, 0xffffffff)
			set(&in, 7)
		}
		st := newSubtable(&mask)
		if covered := int(st.nWords); st.four != (covered <= 4) {
			t.Fatalf("%d fields, %d words: four = %v", n, covered, st.four)
		}
		var c flowCache
		f := &cachedFlow{}
		f.mf.Mask = mask
		f.mf.Key.And(&in, &mask)
		f.hash = st.hashMasked(&f.mf.Key)
		st.add(f)
		outside := in
		outside.NwSrc, outside.EthSrc = 99, [6]byte{1, 2, 3}
		if got := st.find(&outside, &c); got != f {
			t.Fatalf("%d fields: a key equal in the covered words was not found", n)
		}
		for i, set := range fields[:n] {
			k := in
			set(&k, 8)
			if got := st.find(&k, &c); got != nil {
				t.Fatalf("%d fields: a key that differs in field %d was found", n, i)
			}
		}
	}
}

// knownTranslator is dstTranslator recording what each miss brought.
type knownTranslator struct {
	dstTranslator
	vms   map[*ubpf.Thread]bool
	known []FilterCheck // the last miss's
}

func (t *knownTranslator) Translate(m *Miss, mf *Translation) {
	t.vms[m.VM] = true
	t.known = append(t.known[:0], m.Known...)
	t.dstTranslator.Translate(m, mf)
}

// TestProgramFilterOnHit: the cache runs a ProgramFilter's current program
// itself on the pmd's VM (the program counts the runs, Match is never
// called), a program swapped in answers from the next packet on, and a
// miss brings the result the cache already got.
func TestProgramFilterOnHit(t *testing.T) {
	f := newProgFilter(t, 1)
	tr := &knownTranslator{dstTranslator: dstTranslator{filters: []FilterCheck{{Filter: f, Want: true}}},
		vms: map[*ubpf.Thread]bool{}}
	p, sink := benchPMD(t, 100, tr, true)
	for i := 0; i < 100; i++ {
		p.poll()
	}
	misses := p.dp.Stats().Misses
	if misses == 0 || misses > 100 || sink.n == 0 {
		t.Fatalf("%d misses, %d forwarded: want the 100 flows' first packets to miss", misses, sink.n)
	}
	if len(tr.vms) != 1 || !tr.vms[p.cache.in.VM] || p.cache.in.VM == nil {
		t.Fatalf("translations saw VMs %v, want only the pmd's %p", tr.vms, p.cache.in.VM)
	}
	runs0, sent0 := f.prog.Load().Stats().Runs, sink.n
	for i := 0; i < 100; i++ {
		p.poll()
	}
	hits := sink.n - sent0
	if got := p.dp.Stats().Misses; got != misses {
		t.Fatalf("%d more misses with the flows cached", got-misses)
	}
	if runs := f.prog.Load().Stats().Runs - runs0; runs != hits || f.calls != 0 {
		t.Fatalf("%d hits ran the program %d times and called Match %d times, want %d and 0", hits, runs, f.calls, hits)
	}

	// swap in a program that does not match: every packet misses, and the
	// miss knows the result
	f.prog.Store(newProgFilter(t, 0).prog.Load())
	sent0 = sink.n
	for i := 0; i < 10; i++ {
		p.poll()
	}
	if got := p.dp.Stats().Misses - misses; got != sink.n-sent0 || got == 0 {
		t.Fatalf("%d misses for %d packets after the swap, want every packet", got, sink.n-sent0)
	}
	if len(tr.known) != 1 || tr.known[0].Filter != Filter(f) || tr.known[0].Want {
		t.Fatalf("the miss knew %+v, want the filter's false", tr.known)
	}
	if f.calls != 0 {
		t.Fatalf("Match called %d times", f.calls)
	}
}
