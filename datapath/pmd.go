package datapath

import "time"

// pmd is the state owned by the poll-mode thread. Nothing here is shared.
type pmd struct {
	dp       *Datapath
	ps       *portSet
	cacheVer uint64
	cache    flowCache
	tx       []txQueue // parallel to ps.list
	burst
	rel  [BurstSize]Packet // the packets as received, for Release
	skip [BurstSize]bool   // consumed before lookup (underlay ARP, drops)
	// decapsulation counts of the current burst (tunnel.go)
	rxTun, txTun          *Tunnel
	rxTunPkts, rxTunBytes uint64
	txTunPkts, txTunBytes uint64
	miss                  Miss                   // upcall's scratch
	preds                 []func(*Megaflow) bool // revalidate's scratch
	now                   int64                  // unix nanoseconds at the start of the current burst
	arena                 arena

	idx          int           // which pmd of the datapath this is
	foldGen      uint64        // last Datapath.foldGen acted on
	dirty        []*cachedFlow // flows with counts not yet folded
	lastFold     int64
	upcallTokens float64
	upcallLast   int64
	lastMaint    int64
	cnt          pmdCounters // dump.go
}

// burst is the packets of the burst being processed, their keys and
// header offsets (the cache reads them when it runs filters).
type burst struct {
	pkts [BurstSize]Packet
	keys [BurstSize]FlowKey
	offs [BurstSize]Offsets
}

type txQueue struct {
	vp   *vport
	pkts [BurstSize]*Packet
	n    int
}

// execAction is an Action resolved for this pmd: output ports are tx queue
// indexes, and each output knows whether a later action of the same list
// rewrites the packet, in which case it must send a copy (the device may
// still be reading the frame when the rewrite happens).
type execAction struct {
	a       *Action
	out     int // ActOutput: tx queue index, -1 if the port is gone
	copyOut bool
	nested  []execAction   // ActClone
	buckets [][]execAction // ActSelect, parallel to a.Group.Buckets
	total   uint32         // ActSelect: sum of bucket weights
	tun     *Tunnel        // ActOutput to a tunnel: out is its underlay's queue
	ul      *underlay
}

func newPMD(dp *Datapath) *pmd {
	p := &pmd{dp: dp, dirty: make([]*cachedFlow, 0, 1024)}
	p.cache.init(&p.burst, dp.cfg.EMCInsertInv, &dp.megaflows, dp.cfg.FlowLimit)
	p.arena.init()
	return p
}

// poll runs one iteration over every port and the injection queue and
// returns the number of packets handled.
func (p *pmd) poll() int {
	p.now = time.Now().UnixNano()
	if ps := p.dp.ports.Load(); ps != p.ps {
		// Cached actions name transmit queues by their index in the
		// port list: a new list makes them all stale.
		p.foldCounters()
		p.cache.flush()
		p.ps = ps
		p.tx = make([]txQueue, len(ps.list))
		for i, vp := range ps.list {
			p.tx[i].vp = vp
		}
		// The previous iteration, which may have polled queues this set
		// gives to another pmd, is over: acknowledge the set.
		p.dp.pmds[p.idx].gen.Store(ps.gen)
	}
	if v := p.dp.version.Load(); v != p.cacheVer {
		p.revalidate(v)
	}
	p.dp.ct.clock.Store(p.now)
	if g := p.dp.foldGen.Load(); p.now-p.lastFold > counterFoldNs || g != p.foldGen {
		p.foldGen = g
		p.foldCounters()
	}
	if p.now-p.lastMaint > 1e9 {
		p.cache.maintain(p.now)
		p.lastMaint = p.now
	}
	p.serveDump()
	got := 0
	for _, q := range p.ps.poll[p.idx] {
		n := q.recv(p.pkts[:])
		if n == 0 {
			continue
		}
		got += n
		copy(p.rel[:n], p.pkts[:n])
		p.processBurst(q.vp.no, p.pkts[:n])
		p.flushTx()
		q.release(p.rel[:n])
		p.arena.reset()
	}
	for i := 0; i < BurstSize && p.idx == 0; i++ {
		select {
		case in := <-p.dp.inject:
			p.runInjected(in)
			got++
		default:
			i = BurstSize
		}
	}
	return got
}

func (p *pmd) processBurst(inPort uint32, pkts []Packet) {
	ul := p.ps.underlays[inPort]
	pc := p.cache.classifier(inPort, false)
	if ul == nil && pc != nil && pc.simple != nil && !pc.simple.dead {
		p.simpleMatch(pc.simple, pkts)
		return
	}
	keys, offs := p.keys[:len(pkts)], p.offs[:len(pkts)]
	// Parse the whole burst first: the key array then stays hot in the
	// cache for the lookups. Packets of a tunnel underlay are decapsulated
	// here and continue with the tunnel as their in_port (tunnel.go).
	for i := range pkts {
		offs[i] = Parse(pkts[i].Data, inPort, &keys[i])
		p.skip[i] = ul != nil && !p.fromUnderlay(ul, &pkts[i], &keys[i], &offs[i])
	}
	p.flushTunnelRx()
	pcPort := inPort
	for i := range pkts {
		if p.skip[i] {
			continue
		}
		key := &keys[i]
		if key.InPort != pcPort {
			pcPort = key.InPort
			pc = p.cache.classifier(pcPort, false)
		}
		f := p.cache.lookup(i, key, pc)
		if f == nil {
			p.dp.stats.misses.Add(1)
			p.cnt.misses++
			f = p.upcall(&pkts[i], key, &offs[i])
			if f == nil {
				continue
			}
			pc = p.cache.classifier(pcPort, false)
		}
		if f.pendPkts == 0 {
			p.dirty = append(p.dirty, f)
		}
		f.pendPkts++
		f.pendBytes += uint64(len(pkts[i].Data))
		p.execute(f.actions, &pkts[i], key, &offs[i])
	}
	p.dp.stats.packets.Add(uint64(len(pkts)))
	p.cnt.packets += uint64(len(pkts))
}

// simpleMatch forwards a burst with f, a megaflow that is right for every
// packet of the port (see portClassifier.simple): no parsing, no lookup,
// and f's plain outputs need no key.
func (p *pmd) simpleMatch(f *cachedFlow, pkts []Packet) {
	if f.pendPkts == 0 {
		p.dirty = append(p.dirty, f)
	}
	var bytes uint64
	for i := range pkts {
		bytes += uint64(len(pkts[i].Data))
		p.execute(f.actions, &pkts[i], nil, nil)
	}
	f.pendPkts += uint64(len(pkts))
	f.pendBytes += bytes
	p.dp.stats.packets.Add(uint64(len(pkts)))
	p.cnt.packets += uint64(len(pkts))
	p.cache.megaflowHits += uint64(len(pkts))
}

// revalidate brings the cache from version p.cacheVer to v: it drops the
// megaflows the changes in between made stale.
func (p *pmd) revalidate(v uint64) {
	p.foldCounters() // before the flows they sit on are dropped
	preds, all := p.dp.revalsSince(p.cacheVer, v, p.preds[:0])
	p.cacheVer = v
	defer p.dp.pmds[p.idx].applied.Store(v)
	if all {
		p.cache.flush()
	} else {
		p.cache.dropIf(func(f *cachedFlow) bool {
			for _, stale := range preds {
				if stale(&f.mf) {
					return true
				}
			}
			return false
		})
	}
	clear(preds)
	p.preds = preds[:0]
}

// foldCounters adds the packets counted on cached flows since the last
// fold to the shared OpenFlow counters. Doing it every counterFoldNs
// instead of per packet or burst turns several atomic adds per packet into
// a few per flow per interval; OpenFlow counters lag by at most that.
func (p *pmd) foldCounters() {
	for _, f := range p.dirty {
		f.used = p.now
		for _, s := range f.mf.Stats {
			s.Packets.Add(f.pendPkts)
			s.Bytes.Add(f.pendBytes)
			s.Used.Store(p.now)
		}
		f.packets += f.pendPkts
		f.bytes += f.pendBytes
		f.pendPkts, f.pendBytes = 0, 0
	}
	clear(p.dirty)
	p.dirty = p.dirty[:0]
	p.lastFold = p.now
	p.publish()
}

// counterFoldNs is how often per-flow counts reach the OpenFlow counters.
const counterFoldNs = 20e6

// modifies reports whether an action changes the packet's bytes.
func modifies(a *Action) bool {
	switch a.Kind {
	case ActOutput, ActUserspace, ActSetQueue, ActClone, ActCTCommit:
		return false
	case ActSelect:
		for i := range a.Group.Buckets {
			for j := range a.Group.Buckets[i].Actions {
				if modifies(&a.Group.Buckets[i].Actions[j]) {
					return true
				}
			}
		}
		return false
	case ActSetField:
		return a.Field != FieldTunID && a.Field != FieldTunSrc && a.Field != FieldTunDst
	}
	return true // header edits, TTLs, and meters (DSCP remark)
}

// resolve binds actions to this pmd's tx queues. laterModifies says
// whether something after this list (in an enclosing list) rewrites the
// packet.
func (p *pmd) resolve(actions []Action, laterModifies bool) []execAction {
	out := make([]execAction, len(actions))
	mod := laterModifies
	// Walk backwards so each output knows whether a rewrite follows it.
	for i := len(actions) - 1; i >= 0; i-- {
		a := &actions[i]
		e := execAction{a: a, out: -1}
		switch a.Kind {
		case ActOutput:
			if j, ok := p.ps.byNo[a.Port]; ok {
				e.out = j
				if t, ok := p.ps.list[j].port.(*Tunnel); ok {
					// Encapsulation writes a copy: nothing to protect.
					e.tun, e.out = t, -1
					if e.ul = p.ps.underlays[t.cfg.Underlay]; e.ul != nil {
						e.out = p.ps.byNo[e.ul.no]
					}
				}
			}
			e.copyOut = mod
		case ActClone:
			// A clone works on its own copy when it rewrites; otherwise it
			// shares the packet and must copy before later rewrites.
			e.nested = p.resolve(a.Nested, mod && !cloneCopies(a.Nested))
		case ActSelect:
			for _, b := range a.Group.Buckets {
				e.buckets = append(e.buckets, p.resolve(b.Actions, mod && !cloneCopies(b.Actions)))
				e.total += uint32(b.Weight)
			}
		}
		out[i] = e
		mod = mod || modifies(a)
	}
	return out
}

// cloneCopies reports whether a nested list will run on its own copy.
func cloneCopies(actions []Action) bool {
	for i := range actions {
		if modifies(&actions[i]) {
			return true
		}
	}
	return false
}

// execute runs actions on pkt. It returns false if the packet was dropped
// (an invalid TTL or a meter), which ends the list.
func (p *pmd) execute(actions []execAction, pkt *Packet, key *FlowKey, off *Offsets) bool {
	for i := range actions {
		e := &actions[i]
		a := e.a
		switch a.Kind {
		case ActOutput:
			if e.tun != nil {
				p.encap(e, pkt, key)
				continue
			}
			if e.out < 0 {
				continue
			}
			out := pkt
			if e.copyOut {
				out = p.arena.clone(pkt, 0)
			}
			q := &p.tx[e.out]
			if q.n == BurstSize {
				p.flushQueue(q)
			}
			q.pkts[q.n] = out
			q.n++
		case ActUserspace:
			if p.dp.cfg.Upcaller != nil {
				p.dp.cfg.Upcaller.Upcall(pkt.Data, key, a.User)
			}
		case ActSetField:
			h := hdrOf(pkt, key, off)
			h.setField(a.Field, &a.Value)
		case ActPushVLAN:
			p.pushVLAN(pkt, key, off, a.Arg)
		case ActPopVLAN:
			p.popVLAN(pkt, key, off)
		case ActPushMPLS:
			p.pushMPLS(pkt, key, off, a.Arg)
		case ActPopMPLS:
			p.popMPLS(pkt, key, off, a.Arg)
		case ActPushPBB:
			p.pushPBB(pkt, key, off, a.Arg)
		case ActPopPBB:
			p.popPBB(pkt, key, off)
		case ActSetMPLSTTL:
			h := hdrOf(pkt, key, off)
			h.setMPLSTTL(uint8(a.Arg))
		case ActDecMPLSTTL:
			h := hdrOf(pkt, key, off)
			if !h.decMPLSTTL() {
				p.invalidTTL(a, pkt, key)
				return false
			}
		case ActSetNwTTL:
			h := hdrOf(pkt, key, off)
			h.setNwTTL(uint8(a.Arg))
		case ActDecNwTTL:
			h := hdrOf(pkt, key, off)
			if !h.decNwTTL() {
				p.invalidTTL(a, pkt, key)
				return false
			}
		case ActCopyTTLOut:
			h := hdrOf(pkt, key, off)
			h.copyTTL(true)
		case ActCopyTTLIn:
			h := hdrOf(pkt, key, off)
			h.copyTTL(false)
		case ActClone:
			p.runNested(e.nested, a.Nested, pkt, key, off)
		case ActSelect:
			if e.total == 0 {
				continue
			}
			pick := uint32(selectHash(key) % uint64(e.total))
			for b := range a.Group.Buckets {
				w := uint32(a.Group.Buckets[b].Weight)
				if pick >= w {
					pick -= w
					continue
				}
				bk := &a.Group.Buckets[b]
				if bk.Stats != nil {
					bk.Stats.Packets.Add(1)
					bk.Stats.Bytes.Add(uint64(len(pkt.Data)))
				}
				p.runNested(e.buckets[b], bk.Actions, pkt, key, off)
				break
			}
		case ActMeter:
			drop, prec := a.Meter.apply(p.now, len(pkt.Data))
			if drop {
				return false
			}
			if prec > 0 {
				h := hdrOf(pkt, key, off)
				h.remarkDSCP(prec)
			}
		case ActSetQueue:
			// One queue per port: nothing to select.
		case ActCTCommit:
			p.dp.ct.commit(a.Zone, pkt.Data, key, *off, p.now)
		}
	}
	return true
}

// hdrOf is the header view of pkt as it is now (pushes and pops move its
// frame). Header edits build it when they run, so a plain output pays
// nothing for it.
func hdrOf(pkt *Packet, key *FlowKey, off *Offsets) headers {
	return headers{frame: pkt.Data, key: key, off: off}
}

// runNested runs a group bucket or clone list, on a copy of the packet
// when the list rewrites it.
func (p *pmd) runNested(exec []execAction, actions []Action, pkt *Packet, key *FlowKey, off *Offsets) {
	if !cloneCopies(actions) {
		p.execute(exec, pkt, key, off)
		return
	}
	c := p.arena.clone(pkt, 64)
	k, o := *key, *off
	p.execute(exec, c, &k, &o)
}

// invalidTTL sends a packet whose TTL ran out to user space when the
// action asks for it (packet-in with reason INVALID_TTL).
func (p *pmd) invalidTTL(a *Action, pkt *Packet, key *FlowKey) {
	if a.User != nil && p.dp.cfg.Upcaller != nil {
		p.dp.cfg.Upcaller.Upcall(pkt.Data, key, a.User)
	}
}

func (p *pmd) runInjected(in injected) {
	pkt := &Packet{Data: in.pkt}
	var key FlowKey
	off := Parse(in.pkt, in.inPort, &key)
	// Injected packets are rare (packet-out): resolving per packet is fine.
	p.execute(p.resolve(in.actions, false), pkt, &key, &off)
	// The packet's memory is Go-owned and must outlive the tx that copies
	// it, so flush now rather than with the next burst.
	p.flushTx()
	p.arena.reset()
}

func (p *pmd) flushTx() {
	p.flushTunnelTx()
	for i := range p.tx {
		if p.tx[i].n > 0 {
			p.flushQueue(&p.tx[i])
		}
	}
}

func (p *pmd) flushQueue(q *txQueue) {
	if mq, ok := q.vp.port.(MultiQueuePort); ok && p.dp.cfg.PMDs > 1 {
		if locks := q.vp.txLocks; locks != nil {
			l := &locks[p.idx%len(locks)]
			l.Lock()
			mq.SendQueue(p.idx%len(locks), q.pkts[:q.n])
			l.Unlock()
		} else {
			mq.SendQueue(p.idx, q.pkts[:q.n])
		}
	} else {
		q.vp.port.Send(q.pkts[:q.n])
	}
	clear(q.pkts[:q.n])
	q.n = 0
}
