package datapath

// Action execution.
//
// The pmd runs a cached megaflow's actions on each packet of a burst that
// hits it. resolve binds the actions to this pmd once, when the flow is
// cached (ports become transmit-queue indexes, and each output learns
// whether a later action rewrites the packet); execute runs them, one case
// per action kind, each handing the work to the file of its concern:
//
//	output           transmit.go (enqueue), tunnel.go (encap) for tunnel ports
//	set_field, TTLs  rewrite.go (in place, checksums updated incrementally)
//	push and pop     pushpop.go
//	select, clone    here: runNested on the packet or a copy (arena.go)
//	meter            meter.go
//	ct_commit        conntrack.go
//	userspace        the Upcaller (upcall.go)
//
// Nothing here allocates per packet: copies come from the burst arena.

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
			p.enqueue(&p.tx[e.out], out)
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
	p.flushTx(0)
	p.arena.reset()
}

// selectHash hashes the fields a select group balances on.
func selectHash(k *FlowKey) uint64 {
	h := uint64(k.NwSrc)<<32 | uint64(k.NwDst)
	h ^= uint64(k.TpSrc)<<48 | uint64(k.TpDst)<<32 | uint64(k.NwProto)<<16 | uint64(k.EthType)
	for i := 0; i < 16; i += 8 {
		h ^= be.Uint64(k.IPv6Src[i:]) * 0x9e3779b97f4a7c15
		h ^= be.Uint64(k.IPv6Dst[i:]) * 0xc2b2ae3d27d4eb4f
	}
	var mac [8]byte
	copy(mac[:], k.EthSrc[:])
	h ^= be.Uint64(mac[:]) * 0x94d049bb133111eb
	copy(mac[:], k.EthDst[:])
	h ^= be.Uint64(mac[:]) * 0xbf58476d1ce4e5b9
	h *= 0xff51afd7ed558ccd
	h ^= h >> 33
	h *= 0xc4ceb9fe1a85ec53
	h ^= h >> 33
	return h
}

// SelectMask is the flow-key mask a translation that emits ActSelect must
// OR into its megaflow mask: the fields selectHash reads.
func SelectMask() FlowKey {
	var m FlowKey
	m.NwSrc, m.NwDst, m.TpSrc, m.TpDst, m.NwProto, m.EthType = ^uint32(0), ^uint32(0), 0xffff, 0xffff, 0xff, 0xffff
	for i := range m.IPv6Src {
		m.IPv6Src[i], m.IPv6Dst[i] = 0xff, 0xff
	}
	for i := range m.EthSrc {
		m.EthSrc[i], m.EthDst[i] = 0xff, 0xff
	}
	return m
}
