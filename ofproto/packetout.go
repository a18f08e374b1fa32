package ofproto

// PACKET_OUT: a controller's packet, checked against its own headers (the
// only match a packet-out has), translated like a pipeline miss and handed
// to the datapath to execute.

import (
	"time"

	"github.com/goko-net/goko/datapath"
	"github.com/goko-net/goko/openflow"
)

// PacketOut injects a controller's packet into the datapath.
func (b *Bridge) PacketOut(po *openflow.PacketOut) error {
	in := po.InPort
	if in != openflow.PortController && in != openflow.PortLocal && in != openflow.PortAny && (in == 0 || in > openflow.PortMax) {
		return openflow.Errorf(openflow.BRCBadPort, "packet-out in_port %#x is not valid", in)
	}
	if po.BufferID == openflow.NoBuffer && len(po.Data) < 14 {
		return openflow.Errorf(openflow.BRCBadPacket, "packet-out carries %d bytes, less than an Ethernet header", len(po.Data))
	}
	// Actions are checked against the packet itself, the only "match" a
	// packet-out has; nothing is consumed before they pass.
	pkt := po.Data
	if po.BufferID != openflow.NoBuffer {
		var err error
		if pkt, err = b.buffers.peek(po.BufferID); err != nil {
			return err
		}
	}
	var key datapath.FlowKey
	datapath.Parse(pkt, in, &key)
	b.mu.RLock()
	var err error
	if in >= 1 && in <= openflow.PortMax && b.ports[in] == nil {
		// "a valid standard switch port or OFPP_CONTROLLER" (section
		// 7.3.7); LOCAL and ANY are accepted too, as Open vSwitch does.
		err = openflow.Errorf(openflow.BRCBadPort, "packet-out in_port %d does not exist", in)
	} else {
		err = b.checkActions(po.Actions, actionCheck{ctx: keyCtx(&key), packetOut: true})
	}
	b.mu.RUnlock()
	if err != nil {
		return err
	}
	if po.BufferID != openflow.NoBuffer {
		if pkt, _, err = b.buffers.take(po.BufferID); err != nil {
			return err
		}
	} else {
		pkt = append([]byte(nil), po.Data...)
	}
	return b.runPacketOut(in, pkt, po.Actions)
}

// runPacketOut translates actions for pkt, which arrived on in, and hands
// the packet to the datapath. output:TABLE runs the pipeline; the counters
// the pipeline touched count this packet, as the datapath does not count
// injected packets.
func (b *Bridge) runPacketOut(in uint32, pkt []byte, actions []openflow.Action) error {
	var key datapath.FlowKey
	m := datapath.Miss{FilterInput: datapath.FilterInput{Data: pkt, Key: &key, Off: datapath.Parse(pkt, in, &key)}}
	var t datapath.Translation
	b.mu.RLock()
	x := newXlate(b, &m, &t)
	for _, a := range actions {
		if o, ok := a.(openflow.ActionOutput); ok && o.Port == openflow.PortTable {
			x.rule, x.md, x.actionSet = nil, 0, nil
			x.pipeline(0)
			continue
		}
		x.action(a)
	}
	b.mu.RUnlock()
	now := time.Now().UnixNano()
	for _, s := range t.Stats {
		s.Packets.Add(1)
		s.Bytes.Add(uint64(len(pkt)))
		s.Used.Store(now)
	}
	return b.dp.Inject(in, pkt, t.Actions)
}
