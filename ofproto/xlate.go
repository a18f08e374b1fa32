package ofproto

// Translation: running one packet through the OpenFlow pipeline.
//
// Instructions of a rule run in the order the spec fixes (meter, apply,
// clear, write, write-metadata, goto), not the order they were sent in.
// Apply-actions take effect at once; write-actions accumulate in the action
// set, which runs in the spec's order when the pipeline ends without a
// goto. Output actions become datapath outputs resolved against the current
// port set: flood, all and in_port are expanded here, so the datapath only
// ever sees plain port numbers. Because flood depends on the input port,
// every megaflow mask includes in_port.
//
// The key and the mask. Translation works on a copy of the packet's key and
// applies every header change to it, so later tables match on the packet as
// modified. The megaflow mask, though, is about the ORIGINAL key: it must
// hold every original bit the result depended on. x.dirty marks the bits of
// the copy that no longer come from the original packet:
//   - set_field makes its field's bits constant: they are dirty, and a
//     later match on them needs no original bits (mask |= rule mask &^ dirty).
//   - push and pop move bits between fields (pop_vlan makes the outer tag
//     what the inner one was). They OR every field they read or write into
//     the mask first, so the result is a function of masked bits, and then
//     mark the fields they wrote dirty.
// So the copy is always determined by the masked original bits plus
// constants, which is what makes the megaflow correct.
//
// Groups. Indirect, all and fast-failover groups are expanded inline; their
// liveness (fast failover) is resolved here, so link and group changes must
// invalidate the datapath (they do). Select groups become one ActSelect
// whose live buckets are pre-translated; the datapath picks a bucket per
// packet. A group bucket acts on a copy of the packet (OpenFlow: the packet
// is cloned for each bucket), so a bucket whose actions change headers is
// wrapped in ActClone, and the key copy is restored after every bucket.
//
// Counters. Translation appends the FlowStats of every table looked up,
// every table that matched, every rule hit and every group and bucket
// expanded inline to the megaflow; the datapath counts each packet into all
// of them, so cache hits count like misses. A select group's buckets are
// counted by the datapath when it picks one (Bucket.Stats); the group's
// total goes on the megaflow like the rest.
//
// Known limits, both needing recirculation to lift:
//   - after pop_mpls the inner packet's L3/L4 fields are not in the ORIGINAL
//     key (the parser stops at MPLS), so the mask cannot express them; later
//     tables see them as zero. The datapath does reparse, so set_field and
//     TTL actions on the inner header still work.
//   - a DSCP remark by a meter band happens per packet; later tables match
//     the DSCP the packet had before the meter.

import (
	"github.com/goko-net/goko/datapath"
	"github.com/goko-net/goko/openflow"
)

// maxGroupDepth bounds group chaining at translation time. Loops are
// rejected at group-mod time; this only guards against very long chains.
const maxGroupDepth = 16

// packetInArg is the context of a packet sent to the controller; it rides
// on the datapath's Userspace action.
type packetInArg struct {
	reason      openflow.PacketInReason
	tableID     uint8
	cookie      uint64
	maxLen      uint16
	missSendLen bool // use the switch's miss_send_len (invalid TTL) instead of maxLen
	metadata    uint64
}

type xlate struct {
	b         *Bridge
	key       datapath.FlowKey // the packet as modified so far
	dirty     datapath.FlowKey // bits of key that no longer come from the packet
	t         *datapath.Translation
	acts      *[]datapath.Action // where actions go (a bucket's list inside groups)
	actionSet []openflow.Action
	tableID   uint8
	rule      *rule
	md        uint64
	depth     int
	in        *datapath.FilterInput  // the packet as received, for filters
	known     []datapath.FilterCheck // filter results the datapath computed already
	// After a pop of MPLS or PBB, frame is the packet as the datapath will
	// have it (a copy) and popped says later lookups see fields the cache
	// key cannot hold.
	frame  []byte
	popped bool
	tr     *tracer // set when tracing (trace.go)
	deps   *deps   // what the decision read, for revalidation
}

func newXlate(b *Bridge, m *datapath.Miss, t *datapath.Translation) *xlate {
	x := &xlate{b: b, key: *m.Key, t: t, in: &m.FilterInput, known: m.Known, deps: &deps{}}
	x.acts = &t.Actions
	t.Deps = x.deps
	return x
}

// Translate implements datapath.Translator.
func (b *Bridge) Translate(m *datapath.Miss, t *datapath.Translation) {
	b.translate(m, t, nil)
	if b.debug() {
		b.logUpcall(m.Key, t)
	}
}

// translate is Translate, traced by tr when it is not nil.
func (b *Bridge) translate(m *datapath.Miss, t *datapath.Translation, tr *tracer) {
	b.mu.RLock()
	defer b.mu.RUnlock()
	key := m.Key
	if openflow.ConfigFlags(b.switchFlags.Load())&openflow.FragMask == openflow.FragDrop {
		// OFPC_FRAG_DROP: IP fragments are dropped before the pipeline.
		t.Mask.NwFrag |= datapath.FragAny
		if key.NwFrag&datapath.FragAny != 0 {
			if tr != nil {
				tr.note("the packet is an IP fragment and the switch drops fragments (set-frags drop)")
			}
			return
		}
	}
	if p := b.ports[key.InPort]; p != nil && p.config&(openflow.PortConfigDown|openflow.PortConfigNoRecv) != 0 {
		if tr != nil {
			tr.note("port %d is down or has no-receive set: received packets are dropped", key.InPort)
		}
		return // OFPPC_PORT_DOWN and OFPPC_NO_RECV: received packets are dropped
	}
	x := newXlate(b, m, t)
	x.tr = tr
	x.pipeline(0)
}

// popInner makes the key describe the packet inside a popped MPLS label
// or PBB header, so later tables match what the datapath will forward. The
// cache key is the packet as received, whose inner headers were never
// parsed, so such a translation is executed but not cached (see
// pipeline). Header fields the pipeline had set in the outer Ethernet
// header survive an MPLS pop, as they do in the datapath.
func (x *xlate) popInner(outer, etype uint16) {
	if x.frame == nil {
		x.frame = append([]byte(nil), x.in.Data...)
	}
	var cur datapath.FlowKey
	off := datapath.Parse(x.frame, x.key.InPort, &cur)
	if cur.EthType != outer && !(outer == datapath.EthTypeMPLS && cur.EthType == datapath.EthTypeMPLSM) || off.L3 < 0 {
		return
	}
	l3 := int(off.L3)
	if len(x.frame) < l3+4 {
		return
	}
	old := x.key
	if outer == datapath.EthTypePBB {
		x.frame = x.frame[l3+4:]
	} else {
		copy(x.frame[4:l3+4], x.frame[:l3])
		x.frame = x.frame[4:]
		x.frame[l3-2], x.frame[l3-1] = byte(etype>>8), byte(etype)
	}
	var nk datapath.FlowKey
	datapath.Parse(x.frame, old.InPort, &nk)
	nk.TunID, nk.TunSrc, nk.TunDst = old.TunID, old.TunSrc, old.TunDst
	if outer != datapath.EthTypePBB {
		nk.EthDst, nk.EthSrc, nk.VlanTCI, nk.Vlan2TCI = old.EthDst, old.EthSrc, old.VlanTCI, old.Vlan2TCI
	}
	x.key = nk
	x.popped = true
}

// reinterpret applies a set_field of eth_type or ip_proto, after which the
// rest of the packet reads differently (an IPv4 header becomes an MPLS
// label, TCP ports become ICMP type and code). The key is made by parsing
// the rewritten frame, so later tables see what the datapath forwards;
// fields earlier set_field actions wrote (dirty bits) keep their values,
// as the datapath has written them into the frame. Like a pop, this takes
// the packet where the megaflow key cannot follow, so later lookups are
// not cached; without later lookups the result depends only on the masked
// fields and the megaflow is cached as usual.
func (x *xlate) reinterpret(o openflow.OXM) {
	if x.frame == nil {
		x.frame = append([]byte(nil), x.in.Data...)
	}
	var cur datapath.FlowKey
	off := datapath.Parse(x.frame, x.key.InPort, &cur)
	var v [16]byte
	copy(v[:], o.Value)
	datapath.SetField(x.frame, &cur, &off, setFields[o.Field], &v)
	old := x.key
	var nk datapath.FlowKey
	datapath.Parse(x.frame, old.InPort, &nk)
	nk.TunID, nk.TunSrc, nk.TunDst = old.TunID, old.TunSrc, old.TunDst
	nw, ow, dw := nk.Words(), old.Words(), x.dirty.Words()
	for i := range nw {
		nw[i] = nw[i]&^dw[i] | ow[i]&dw[i]
	}
	switch o.Field {
	case openflow.OXMEthType:
		nk.EthType, x.dirty.EthType = o.Uint16(), 0xffff
	case openflow.OXMIPProto:
		nk.NwProto, x.dirty.NwProto = o.Uint8(), 0xff
	}
	x.key = nk
	x.popped = true
}

// filterPass runs a filter program on the packet, at most once per
// translation, and records its result in the megaflow's filter chain so
// the datapath checks it for every later packet. Programs always see the
// packet as received: the datapath runs the chain before any action.
func (x *xlate) filterPass(f *filterProg) bool {
	for _, fc := range x.t.Filters {
		if fc.Filter == datapath.Filter(f) {
			if x.tr != nil {
				x.tr.reused(f, fc.Want)
			}
			return fc.Want
		}
	}
	res, known := false, false
	for _, fc := range x.known {
		if fc.Filter == datapath.Filter(f) {
			res, known = fc.Want, true
		}
	}
	switch {
	case known && x.tr != nil:
		x.tr.reused(f, res)
	case !known && x.tr != nil:
		res = x.tr.runFilter(f, x.in.Data)
	case !known:
		res = f.Match(x.in)
	}
	x.t.Filters = append(x.t.Filters, datapath.FilterCheck{Filter: f, Want: res})
	return res
}

// mask ORs the bits of m that still come from the original packet into the
// megaflow mask.
func (x *xlate) mask(m *datapath.FlowKey) {
	mw, dw, kw := m.Words(), x.dirty.Words(), x.t.Mask.Words()
	for i := range kw {
		kw[i] |= mw[i] &^ dw[i]
	}
}

func (x *xlate) pipeline(table uint8) {
	for {
		x.tableID = table
		t := &x.b.tables[table]
		if x.popped {
			x.t.NoCache = true
		}
		x.t.Stats = append(x.t.Stats, &t.lookupStats)
		if x.tr != nil {
			x.tr.add(openflow.GokoTraceEvent{Kind: openflow.TraceTable, Table: table})
		}
		r := t.lookup(&x.key, x.md, x.mask, x.filterPass, x.ctPass)
		x.recordLookup(r)
		if x.tr != nil {
			x.tr.lookup(x.b, table, r)
		}
		if r == nil {
			return // OpenFlow 1.3: a table miss with no table-miss rule drops
		}
		x.rule = r
		x.t.Stats = append(x.t.Stats, &t.matchStats, r.stats)
		var gotoTable *openflow.InstGotoTable
		for _, typ := range instructionOrder {
			for _, in := range r.instructions {
				if in.InstructionType() != typ {
					continue
				}
				switch in := in.(type) {
				case openflow.InstMeter:
					x.deps.meterIDs = append(x.deps.meterIDs, in.MeterID)
					if m := x.b.meters[in.MeterID]; m != nil {
						x.emit(datapath.Action{Kind: datapath.ActMeter, Meter: m.dp})
					}
				case openflow.InstApplyActions:
					for _, a := range in.Actions {
						x.action(a)
					}
				case openflow.InstClearActions:
					x.actionSet = x.actionSet[:0]
				case openflow.InstWriteActions:
					x.actionSet = mergeActionSet(x.actionSet, in.Actions)
				case openflow.InstWriteMetadata:
					x.md = x.md&^in.Mask | in.Metadata&in.Mask
				case openflow.InstGotoTable:
					gotoTable = &in
				}
			}
		}
		if gotoTable == nil {
			if x.tr != nil && len(x.actionSet) > 0 {
				x.tr.note("end of the pipeline: the action set runs")
			}
			for _, a := range orderedActionSet(x.actionSet) {
				x.action(a)
			}
			return
		}
		table = gotoTable.TableID
	}
}

// instructionOrder is the execution order of OpenFlow 1.3 section 5.9.
var instructionOrder = [...]openflow.InstructionType{
	openflow.InstTypeMeter, openflow.InstTypeApplyActions, openflow.InstTypeClearActions,
	openflow.InstTypeWriteActions, openflow.InstTypeWriteMetadata, openflow.InstTypeGotoTable,
}

func (x *xlate) emit(a datapath.Action) { *x.acts = append(*x.acts, a) }

// full is a FlowKey of all ones, for masking whole fields.
var full = func() (k datapath.FlowKey) {
	for i := range k.Words() {
		k.Words()[i] = ^uint64(0)
	}
	return
}()

func (x *xlate) action(a openflow.Action) {
	if x.tr != nil {
		if !x.tr.entered {
			x.traceAction(a) // records a, then comes back here to run it
			return
		}
		x.tr.entered = false
	}
	k := &x.key
	switch a := a.(type) {
	case openflow.ActionExperimenter:
		if zone, ok := openflow.ParseGokoCTCommit(a); ok {
			x.emit(datapath.Action{Kind: datapath.ActCTCommit, Zone: zone})
			return
		}
		// Otherwise send_maps: checkAction (actions.go) lets in no other
		// experimenter action.
		if sm, err := openflow.ParseGokoSendMaps(a); err == nil {
			if f := x.b.filters.progs[sm.ProgID]; f != nil {
				x.emit(datapath.Action{Kind: datapath.ActUserspace,
					User: &datapath.Userspace{Arg: &sendMapsArg{prog: f, maps: sm.Maps}}})
			}
		}
	case openflow.ActionOutput:
		x.output(a)
	case openflow.ActionGroup:
		x.group(a.GroupID)
	case openflow.ActionSetField:
		x.setField(a.Field)
	case openflow.ActionSetQueue:
		x.emit(datapath.Action{Kind: datapath.ActSetQueue, Port: a.QueueID})
	case openflow.ActionPushVLAN:
		// The new tag copies the outer one's VID and PCP, or is zero.
		x.t.Mask.VlanTCI, x.t.Mask.Vlan2TCI = 0xffff, 0xffff
		k.Vlan2TCI = k.VlanTCI
		k.VlanTCI |= datapath.VlanPresent
		x.dirty.VlanTCI, x.dirty.Vlan2TCI = 0xffff, 0xffff
		x.emit(datapath.Action{Kind: datapath.ActPushVLAN, Arg: a.EtherType})
	case openflow.ActionPopVLAN:
		x.t.Mask.VlanTCI, x.t.Mask.Vlan2TCI = 0xffff, 0xffff
		k.VlanTCI, k.Vlan2TCI = k.Vlan2TCI, 0
		x.dirty.VlanTCI, x.dirty.Vlan2TCI = 0xffff, 0xffff
		x.emit(datapath.Action{Kind: datapath.ActPopVLAN})
	case openflow.ActionPushMPLS:
		// As the datapath does: a copy of the outer entry (bottom of
		// stack clear), or label and TC zero with the IP TTL.
		x.mask(&datapath.FlowKey{EthType: 0xffff, MPLSLSE: ^uint32(0), NwTTL: 0xff})
		k.MPLSLSE = datapath.PushedLSE(k)
		k.EthType = a.EtherType
		x.dirty.EthType, x.dirty.MPLSLSE = 0xffff, ^uint32(0)
		x.emit(datapath.Action{Kind: datapath.ActPushMPLS, Arg: a.EtherType})
	case openflow.ActionPopMPLS:
		x.mask(&datapath.FlowKey{EthType: 0xffff, MPLSLSE: ^uint32(0)})
		k.EthType, k.MPLSLSE = a.EtherType, 0
		x.dirty.EthType, x.dirty.MPLSLSE = 0xffff, ^uint32(0)
		x.emit(datapath.Action{Kind: datapath.ActPopMPLS, Arg: a.EtherType})
		x.popInner(datapath.EthTypeMPLS, a.EtherType)
	case openflow.ActionPushPBB:
		// As the datapath does: the I-TAG takes the outer VLAN's PCP and,
		// for a frame that was PBB already, its I-SID; the customer frame
		// with its tags moves inside.
		x.mask(&datapath.FlowKey{EthType: 0xffff, VlanTCI: 0xffff, PBBISID: 0xffffff})
		if k.EthType != datapath.EthTypePBB {
			k.PBBISID = 0
		}
		k.EthType, k.VlanTCI, k.Vlan2TCI = a.EtherType, 0, 0
		x.dirty.EthType, x.dirty.VlanTCI, x.dirty.Vlan2TCI, x.dirty.PBBISID = 0xffff, 0xffff, 0xffff, 0xffffff
		x.emit(datapath.Action{Kind: datapath.ActPushPBB, Arg: a.EtherType})
	case openflow.ActionPopPBB:
		// The customer frame was never parsed, so later tables cannot
		// match its fields from the megaflow's key (as after pop_mpls).
		x.mask(&datapath.FlowKey{EthType: 0xffff, PBBISID: 0xffffff})
		k.EthType, k.PBBISID = 0, 0
		x.dirty.EthType, x.dirty.PBBISID = 0xffff, 0xffffff
		x.emit(datapath.Action{Kind: datapath.ActPopPBB})
		x.popInner(datapath.EthTypePBB, 0)
	case openflow.ActionSetMPLSTTL:
		x.emit(datapath.Action{Kind: datapath.ActSetMPLSTTL, Arg: uint16(a.TTL)})
	case openflow.ActionDecMPLSTTL:
		x.emit(datapath.Action{Kind: datapath.ActDecMPLSTTL, User: x.invalidTTL()})
	case openflow.ActionSetNWTTL:
		x.emit(datapath.Action{Kind: datapath.ActSetNwTTL, Arg: uint16(a.TTL)})
	case openflow.ActionDecNWTTL:
		x.emit(datapath.Action{Kind: datapath.ActDecNwTTL, User: x.invalidTTL()})
	case openflow.ActionCopyTTLOut:
		x.emit(datapath.Action{Kind: datapath.ActCopyTTLOut})
	case openflow.ActionCopyTTLIn:
		x.emit(datapath.Action{Kind: datapath.ActCopyTTLIn})
	}
	// Flow-mod validation rejects everything else.
}

// invalidTTL is the packet-in a TTL decrement sends when the TTL is invalid
// (reason INVALID_TTL; connections filter it by their async config).
func (x *xlate) invalidTTL() *datapath.Userspace {
	if p := x.b.ports[x.key.InPort]; p != nil && p.config&openflow.PortConfigNoPacketIn != 0 {
		return nil
	}
	return &datapath.Userspace{Arg: x.packetIn(openflow.PacketInReasonInvalidTTL, 0, true)}
}

func (x *xlate) packetIn(reason openflow.PacketInReason, maxLen uint16, missSendLen bool) *packetInArg {
	arg := &packetInArg{reason: reason, tableID: x.tableID, maxLen: maxLen, missSendLen: missSendLen, metadata: x.md}
	if x.rule != nil {
		arg.cookie = x.rule.cookie
	}
	return arg
}

// setField writes a field of the key copy and emits the datapath action. A
// field whose header the packet lacks is left alone, as the datapath would
// have nowhere to write it; the decision depends on the protocol fields,
// which therefore join the mask.
func (x *xlate) setField(o openflow.OXM) {
	df, ok := setFields[o.Field]
	if !ok {
		return
	}
	pm := prereqMask(o.Field)
	x.mask(&pm)
	if !keyCtx(&x.key).allowsSet(o.Field) {
		return
	}
	a := datapath.Action{Kind: datapath.ActSetField, Field: df}
	copy(a.Value[:], o.Value)
	k, d := &x.key, &x.dirty
	switch o.Field {
	case openflow.OXMEthType, openflow.OXMIPProto:
		x.emit(a)
		x.reinterpret(o)
		return
	case openflow.OXMPBBISID:
		k.PBBISID = uint32(o.Value[0])<<16 | uint32(o.Value[1])<<8 | uint32(o.Value[2])
		d.PBBISID = 0xffffff
	case openflow.OXMEthDst:
		copy(k.EthDst[:], o.Value)
		d.EthDst = full.EthDst
	case openflow.OXMEthSrc:
		copy(k.EthSrc[:], o.Value)
		d.EthSrc = full.EthSrc
	case openflow.OXMVlanVID:
		vid := o.Uint16() & 0xfff
		a.Value[0], a.Value[1] = byte(vid>>8), byte(vid)
		k.VlanTCI = k.VlanTCI&^0xfff | vid
		d.VlanTCI |= 0xfff
	case openflow.OXMVlanPCP:
		k.VlanTCI = k.VlanTCI&^0xe000 | uint16(o.Uint8()&7)<<13
		d.VlanTCI |= 0xe000
	case openflow.OXMIPDSCP:
		k.NwTos = k.NwTos&3 | o.Uint8()<<2
		d.NwTos |= 0xfc
	case openflow.OXMIPECN:
		k.NwTos = k.NwTos&^3 | o.Uint8()&3
		d.NwTos |= 3
	case openflow.OXMIPv4Src, openflow.OXMARPSPA:
		k.NwSrc, d.NwSrc = o.Uint32(), ^uint32(0)
	case openflow.OXMIPv4Dst, openflow.OXMARPTPA:
		k.NwDst, d.NwDst = o.Uint32(), ^uint32(0)
	case openflow.OXMTCPSrc, openflow.OXMUDPSrc, openflow.OXMSCTPSrc:
		k.TpSrc, d.TpSrc = o.Uint16(), 0xffff
	case openflow.OXMTCPDst, openflow.OXMUDPDst, openflow.OXMSCTPDst:
		k.TpDst, d.TpDst = o.Uint16(), 0xffff
	case openflow.OXMICMPv4Type, openflow.OXMICMPv6Type:
		k.TpSrc, d.TpSrc = uint16(o.Uint8()), 0xffff
	case openflow.OXMICMPv4Code, openflow.OXMICMPv6Code:
		k.TpDst, d.TpDst = uint16(o.Uint8()), 0xffff
	case openflow.OXMARPOp:
		k.NwProto, d.NwProto = uint8(o.Uint16()), 0xff
	case openflow.OXMARPSHA, openflow.OXMIPv6NDSLL:
		copy(k.ArpSHA[:], o.Value)
		d.ArpSHA = full.ArpSHA
	case openflow.OXMARPTHA, openflow.OXMIPv6NDTLL:
		copy(k.ArpTHA[:], o.Value)
		d.ArpTHA = full.ArpTHA
	case openflow.OXMIPv6Src:
		copy(k.IPv6Src[:], o.Value)
		d.IPv6Src = full.IPv6Src
	case openflow.OXMIPv6Dst:
		copy(k.IPv6Dst[:], o.Value)
		d.IPv6Dst = full.IPv6Dst
	case openflow.OXMIPv6FLabel:
		k.IPv6Label, d.IPv6Label = o.Uint32(), ^uint32(0)
	case openflow.OXMIPv6NDTarget:
		copy(k.NDTarget[:], o.Value)
		d.NDTarget = full.NDTarget
	case openflow.OXMMPLSLabel:
		k.MPLSLSE = k.MPLSLSE&0xfff | o.Uint32()<<12
		d.MPLSLSE |= 0xfffff000
	case openflow.OXMMPLSTC:
		k.MPLSLSE = k.MPLSLSE&^0xe00 | uint32(o.Uint8()&7)<<9
		d.MPLSLSE |= 0xe00
	case openflow.OXMMPLSBOS:
		k.MPLSLSE = k.MPLSLSE&^0x100 | uint32(o.Uint8()&1)<<8
		d.MPLSLSE |= 0x100
	case openflow.OXMTunnelID:
		k.TunID, d.TunID = o.Uint64(), ^uint64(0)
	case openflow.OXMTunIPv4Src:
		k.TunSrc, d.TunSrc = o.Uint32(), ^uint32(0)
	case openflow.OXMTunIPv4Dst:
		k.TunDst, d.TunDst = o.Uint32(), ^uint32(0)
	}
	x.emit(a)
}

// prereqMask is the part of the key that decides whether a packet has the
// header field f lives in.
func prereqMask(f openflow.Field) datapath.FlowKey {
	switch f {
	case openflow.OXMEthDst, openflow.OXMEthSrc, openflow.OXMTunnelID, openflow.OXMTunIPv4Src, openflow.OXMTunIPv4Dst:
		return datapath.FlowKey{}
	case openflow.OXMVlanVID, openflow.OXMVlanPCP:
		return datapath.FlowKey{VlanTCI: datapath.VlanPresent}
	case openflow.OXMTCPSrc, openflow.OXMTCPDst, openflow.OXMUDPSrc, openflow.OXMUDPDst,
		openflow.OXMSCTPSrc, openflow.OXMSCTPDst, openflow.OXMICMPv4Type, openflow.OXMICMPv4Code,
		openflow.OXMICMPv6Type, openflow.OXMICMPv6Code:
		return datapath.FlowKey{EthType: 0xffff, NwProto: 0xff}
	case openflow.OXMEthType:
		// Written wherever the Ethertype is, which the VLAN tags decide.
		return datapath.FlowKey{VlanTCI: datapath.VlanPresent, Vlan2TCI: datapath.VlanPresent}
	case openflow.OXMIPv6NDTarget, openflow.OXMIPv6NDSLL, openflow.OXMIPv6NDTLL:
		return datapath.FlowKey{EthType: 0xffff, NwProto: 0xff, TpSrc: 0xffff}
	}
	return datapath.FlowKey{EthType: 0xffff}
}

func (x *xlate) output(o openflow.ActionOutput) {
	in := x.key.InPort
	switch o.Port {
	case openflow.PortInPort:
		x.emit(datapath.Action{Kind: datapath.ActOutput, Port: in})
	case openflow.PortFlood, openflow.PortAll:
		for _, p := range x.b.portList {
			if p.no == in || p.config&openflow.PortConfigNoFwd != 0 || p.config&openflow.PortConfigDown != 0 {
				continue
			}
			x.emit(datapath.Action{Kind: datapath.ActOutput, Port: p.no})
		}
	case openflow.PortController:
		if p := x.b.ports[in]; p != nil && p.config&openflow.PortConfigNoPacketIn != 0 {
			return
		}
		reason := openflow.PacketInReasonAction
		if x.rule != nil && x.rule.isTableMiss() {
			reason = openflow.PacketInReasonNoMatch
		}
		x.emit(datapath.Action{Kind: datapath.ActUserspace,
			User: &datapath.Userspace{Arg: x.packetIn(reason, o.MaxLen, false)}})
	case openflow.PortLocal:
		// goko bridges have no local port (no host interface): output to
		// LOCAL is accepted and drops, as a port that does not exist would.
	default:
		// A packet never goes back out of its input port unless the rule
		// says IN_PORT (OpenFlow 1.3 section 7.2.5).
		if o.Port == in {
			return
		}
		if p := x.b.ports[o.Port]; p != nil && p.config&(openflow.PortConfigNoFwd|openflow.PortConfigDown) == 0 {
			x.emit(datapath.Action{Kind: datapath.ActOutput, Port: o.Port})
		}
	}
}
