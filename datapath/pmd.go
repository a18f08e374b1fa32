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
	// Handoff (transmit.go): zero-copy outputs of each received packet,
	// and the packets whose reference a port took over (not released).
	refs    [BurstSize]uint8
	handed  [BurstSize]bool
	nHanded int
	// decapsulation counts of the current burst (tunnel.go)
	rxTun, txTun          *Tunnel
	rxTunPkts, rxTunBytes uint64
	txTunPkts, txTunBytes uint64
	miss                  Miss                   // upcall's scratch
	preds                 []func(*Megaflow) bool // revalidate's scratch
	now                   int64                  // unix nanoseconds at the start of the current burst (see clockPackets)
	sinceClock            int                    // packets handled since now was read
	busy                  bool                   // the last poll received packets
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

func newPMD(dp *Datapath) *pmd {
	p := &pmd{dp: dp, dirty: make([]*cachedFlow, 0, 1024)}
	p.cache.init(&p.burst, dp.cfg.EMCInsertInv, &dp.megaflows, dp.cfg.FlowLimit)
	p.arena.init()
	return p
}

// poll runs one iteration over every port and the injection queue and
// returns the number of packets handled.
func (p *pmd) poll() int {
	if p.sinceClock >= clockPackets || !p.busy {
		p.now = time.Now().UnixNano()
		p.sinceClock = 0
		p.dp.ct.clock.Store(p.now) // an atomic store: a full barrier
	}
	if ps := p.dp.ports.Load(); ps != p.ps {
		// Cached actions name transmit queues by their index in the
		// port list: a new list makes them all stale.
		p.foldCounters()
		p.cache.flush()
		p.ps = ps
		p.tx = make([]txQueue, len(ps.list))
		for i, vp := range ps.list {
			p.tx[i].vp = vp
			p.tx[i].hp, _ = vp.port.(HandoffPort)
		}
		// The previous iteration, which may have polled queues this set
		// gives to another pmd, is over: acknowledge the set.
		p.dp.pmds[p.idx].gen.Store(ps.gen)
	}
	if v := p.dp.version.Load(); v != p.cacheVer {
		p.revalidate(v)
	}
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
		p.flushTx(n)
		p.releaseBurst(q, n)
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
	p.busy = got > 0
	p.sinceClock += got
	return got
}

// clockPackets is how many packets, while packets keep coming, polls
// handle on one reading of the clock (p.now): the clock is read again at
// the start of the first poll past that many, and after an idle poll. A
// reading costs about 40 ns in a VM, over a nanosecond per packet of a
// 32-packet burst; everything that uses the time (meters, counters' fold,
// idle expiry, upcall rate, conntrack) works in tens of microseconds or
// more, about what 128 packets and one poll take.
const clockPackets = 4 * BurstSize

// releaseBurst releases the n packets of the burst received from q,
// except those a port took over (p.handed).
func (p *pmd) releaseBurst(q *rxq, n int) {
	rel := p.rel[:n]
	if p.nHanded > 0 {
		k := 0
		for i := range rel {
			if !p.handed[i] {
				rel[k] = rel[i]
				k++
			}
		}
		clear(rel[k:])
		clear(p.handed[:n])
		p.nHanded = 0
		rel = rel[:k]
	}
	if len(rel) > 0 {
		q.release(rel)
	}
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
		// Parse, by hand: its call cost a third of its fast path's
		// instructions
		d, k := pkts[i].Data, &keys[i]
		if parseUDPTCP4(d, inPort, k) {
			offs[i] = Offsets{L3: 14, L4: 14 + 20}
		} else {
			offs[i] = parseFull(d, inPort, k)
		}
		p.skip[i] = ul != nil && !p.fromUnderlay(ul, &pkts[i], k, &offs[i])
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
		if f.out >= 0 {
			p.enqueue(&p.tx[f.out], &pkts[i])
		} else {
			p.execute(f.actions, &pkts[i], key, &offs[i])
		}
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
		if f.out >= 0 {
			p.enqueue(&p.tx[f.out], &pkts[i])
		} else {
			p.execute(f.actions, &pkts[i], nil, nil)
		}
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
