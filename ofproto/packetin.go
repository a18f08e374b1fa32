package ofproto

// Upcalls: packets the datapath hands back to the OpenFlow layer (a
// controller output or an invalid TTL becomes a PACKET_IN; send_maps sends
// a program's maps). They arrive on pmd threads and must never block.

import (
	"github.com/goko-net/goko/datapath"
	"github.com/goko-net/goko/openflow"
)

// Upcall implements datapath.Upcaller: it turns a packet the pipeline sent
// to the controller into a PACKET_IN for every connection that wants it.
// It runs on a datapath thread and never blocks.
func (b *Bridge) Upcall(pkt []byte, key *datapath.FlowKey, u *datapath.Userspace) {
	if sm, ok := u.Arg.(*sendMapsArg); ok {
		b.sendMaps(sm)
		return
	}
	arg, ok := u.Arg.(*packetInArg)
	if !ok {
		return
	}
	maxLen := arg.maxLen
	if arg.missSendLen {
		// Packet-ins not caused by an output action carry miss_send_len
		// bytes (OpenFlow 1.3.5 section 7.4.1).
		maxLen = uint16(b.missSendLen.Load())
	}
	data, bufID := pkt, openflow.NoBuffer
	if maxLen != openflow.ControllerMaxLenNoBuffer && int(maxLen) < len(pkt) {
		// Truncated: the whole packet waits in a buffer the controller
		// can name in a packet-out or flow-mod.
		bufID = b.buffers.store(pkt, key.InPort)
		data = pkt[:maxLen]
	}
	pi := &openflow.PacketIn{
		BufferID: bufID,
		TotalLen: uint16(min(len(pkt), 0xffff)),
		Reason:   arg.reason,
		TableID:  arg.tableID,
		Cookie:   arg.cookie,
		Match:    openflow.NewMatch(openflow.OXMInPortVal(key.InPort)),
		Data:     data,
	}
	if arg.metadata != 0 {
		pi.Match.Add(openflow.OXMUint(openflow.OXMMetadata, arg.metadata))
	}
	if key.TunID != 0 {
		pi.Match.Add(openflow.OXMUint(openflow.OXMTunnelID, key.TunID))
	}
	if b.debug() {
		b.logPacketIn(pi, arg)
	}
	b.broadcast(asyncPacketIn, uint8(arg.reason), pi)
}
