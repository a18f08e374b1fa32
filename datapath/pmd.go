package datapath

import "time"

// pmd is the state owned by the poll-mode thread. Nothing here is shared.
type pmd struct {
	dp       *Datapath
	ps       *portSet
	cacheVer uint64
	cache    flowCache
	tx       []txQueue // parallel to ps.list
	pkts     [BurstSize]Packet
	keys     [BurstSize]FlowKey
	scratch  Megaflow
	now      int64 // unix nanoseconds at the start of the current burst
}

type txQueue struct {
	vp   *vport
	pkts [BurstSize]*Packet
	n    int
}

// execAction is an Action with its output port resolved to a tx queue index.
type execAction struct {
	kind ActionKind
	out  int
	user *Userspace
}

func newPMD(dp *Datapath) *pmd {
	p := &pmd{dp: dp}
	p.cache.init()
	return p
}

// poll runs one iteration over every port and the injection queue and
// returns the number of packets handled.
func (p *pmd) poll() int {
	if ps := p.dp.ports.Load(); ps != p.ps {
		p.ps = ps
		p.tx = make([]txQueue, len(ps.list))
		for i, vp := range ps.list {
			p.tx[i].vp = vp
		}
	}
	if v := p.dp.version.Load(); v != p.cacheVer {
		p.cache.flush()
		p.cacheVer = v
	}
	p.now = time.Now().UnixNano()
	got := 0
	for _, vp := range p.ps.list {
		n := vp.port.Recv(p.pkts[:])
		if n == 0 {
			continue
		}
		got += n
		p.processBurst(vp.no, p.pkts[:n])
		p.flushTx()
		vp.port.Release(p.pkts[:n])
	}
	for i := 0; i < BurstSize; i++ {
		select {
		case in := <-p.dp.inject:
			p.runInjected(in)
			got++
		default:
			i = BurstSize
		}
	}
	if got > 0 {
		p.flushTx()
	}
	return got
}

func (p *pmd) processBurst(inPort uint32, pkts []Packet) {
	for i := range pkts {
		key := &p.keys[i]
		Parse(pkts[i].Data, inPort, key)
		f := p.cache.lookup(key)
		if f == nil {
			f = p.upcall(&pkts[i], key)
			if f == nil {
				continue
			}
		}
		n := uint64(len(pkts[i].Data))
		for _, s := range f.mf.Stats {
			s.Packets.Add(1)
			s.Bytes.Add(n)
			s.Used.Store(p.now)
		}
		p.execute(f.actions, &pkts[i], key)
	}
}

// upcall translates a packet that missed the cache and installs the result
// if no invalidation raced with the translation.
func (p *pmd) upcall(pkt *Packet, key *FlowKey) *cachedFlow {
	ver := p.dp.version.Load()
	mf := &p.scratch
	*mf = Megaflow{}
	if err := p.dp.cfg.Translator.Translate(pkt.Data, key, mf); err != nil {
		if p.dp.upcallErrors.Add(1)&1023 == 1 {
			p.dp.log.Warn("upcall failed, packet dropped", "err", err)
		}
		return nil
	}
	mf.Key.And(key, &mf.Mask)
	f := &cachedFlow{mf: &Megaflow{Key: mf.Key, Mask: mf.Mask, Actions: mf.Actions, Stats: mf.Stats}}
	f.actions = p.resolve(mf.Actions)
	if ver == p.cacheVer && p.dp.version.Load() == ver {
		p.cache.insert(f)
	}
	return f
}

func (p *pmd) resolve(actions []Action) []execAction {
	out := make([]execAction, 0, len(actions))
	for _, a := range actions {
		switch a.Kind {
		case ActOutput:
			if i, ok := p.ps.byNo[a.Port]; ok {
				out = append(out, execAction{kind: ActOutput, out: i})
			}
		case ActUserspace:
			out = append(out, execAction{kind: ActUserspace, user: a.User})
		}
	}
	return out
}

func (p *pmd) execute(actions []execAction, pkt *Packet, key *FlowKey) {
	for i := range actions {
		a := &actions[i]
		switch a.kind {
		case ActOutput:
			q := &p.tx[a.out]
			if q.n == BurstSize {
				p.flushQueue(q)
			}
			q.pkts[q.n] = pkt
			q.n++
		case ActUserspace:
			if p.dp.cfg.Upcaller == nil {
				continue
			}
			p.dp.cfg.Upcaller.Upcall(pkt.Data, key, a.user)
		}
	}
}

func (p *pmd) runInjected(in injected) {
	pkt := Packet{Data: in.pkt}
	var key FlowKey
	Parse(in.pkt, in.inPort, &key)
	// Injected packets are rare (packet-out): resolving per packet is fine.
	p.execute(p.resolve(in.actions), &pkt, &key)
	// The packet's memory is Go-owned and must outlive the tx that copies
	// it, so flush now rather than with the next burst.
	p.flushTx()
}

func (p *pmd) flushTx() {
	for i := range p.tx {
		if p.tx[i].n > 0 {
			p.flushQueue(&p.tx[i])
		}
	}
}

func (p *pmd) flushQueue(q *txQueue) {
	q.vp.port.Send(q.pkts[:q.n])
	clear(q.pkts[:q.n])
	q.n = 0
}

// cachedFlow is a megaflow with its actions resolved for this pmd.
type cachedFlow struct {
	mf      *Megaflow
	actions []execAction
}

// flowCache is a tuple-space-search classifier: one hash table per distinct
// mask. Lookups probe the subtables in order and take the first hit; this is
// correct because megaflows installed under one version never overlap (each
// is the exact region of key space where one translation holds).
type flowCache struct {
	subtables []*subtable
	entries   int
}

type subtable struct {
	mask  FlowKey
	flows map[FlowKey]*cachedFlow
	hits  uint64
}

// maxCachedFlows bounds the cache; past it the cache is flushed, which is
// crude but keeps memory bounded until a proper eviction policy exists.
const maxCachedFlows = 65536

func (c *flowCache) init() { c.subtables = nil }

func (c *flowCache) flush() {
	c.subtables = nil
	c.entries = 0
}

func (c *flowCache) lookup(key *FlowKey) *cachedFlow {
	var masked FlowKey
	for _, st := range c.subtables {
		masked.And(key, &st.mask)
		if f, ok := st.flows[masked]; ok {
			st.hits++
			return f
		}
	}
	return nil
}

func (c *flowCache) insert(f *cachedFlow) {
	if c.entries >= maxCachedFlows {
		c.flush()
	}
	for _, st := range c.subtables {
		if st.mask == f.mf.Mask {
			st.flows[f.mf.Key] = f
			c.entries++
			return
		}
	}
	st := &subtable{mask: f.mf.Mask, flows: map[FlowKey]*cachedFlow{f.mf.Key: f}}
	c.subtables = append(c.subtables, st)
	c.entries++
}
