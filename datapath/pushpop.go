package datapath

// Pushing and popping headers: VLAN tags, MPLS label stack entries and
// 802.1ah (PBB) backbone headers.
//
// A push grows the frame at the front, into the packet's headroom or into
// a copy with headroom (pmd.prepend, arena.go), and moves the L2 headers
// in front of the new one; a pop moves them back and gives the bytes to
// the headroom. Either way the header stack changes, so the key and the
// offsets are parsed again from the frame (reparse): later actions of the
// list see the packet as it now is.

// reparse refreshes key and offsets after a change to frame that alters
// how it parses (a push or pop, a new Ethertype or IP protocol), keeping
// what does not come from the frame: in_port and the tunnel metadata.
func reparse(frame []byte, key *FlowKey, off *Offsets) {
	in, tid, tsrc, tdst := key.InPort, key.TunID, key.TunSrc, key.TunDst
	*off = Parse(frame, in, key)
	key.TunID, key.TunSrc, key.TunDst = tid, tsrc, tdst
}

// pushVLAN inserts a tag with TPID tpid after the MAC addresses. Its VID
// and PCP are those of the current outer tag, or zero (OpenFlow 1.3,
// section 7.2.5).
func (p *pmd) pushVLAN(pkt *Packet, key *FlowKey, off *Offsets, tpid uint16) {
	if len(pkt.Data) < 14 {
		return
	}
	var tci uint16
	if key.VlanTCI&VlanPresent != 0 {
		tci = be.Uint16(pkt.Data[14:])
	}
	p.prepend(pkt, 4)
	d := pkt.Data
	copy(d[0:12], d[4:16])
	be.PutUint16(d[12:], tpid)
	be.PutUint16(d[14:], tci)
	reparse(pkt.Data, key, off)
}

// popVLAN removes the outer tag.
func (p *pmd) popVLAN(pkt *Packet, key *FlowKey, off *Offsets) {
	if key.VlanTCI&VlanPresent == 0 || len(pkt.Data) < 18 {
		return
	}
	d := pkt.Data
	copy(d[4:16], d[0:12])
	pkt.Data = d[4:]
	pkt.Head += 4
	reparse(pkt.Data, key, off)
}

// l2End returns where the L2 headers (Ethernet and VLAN tags) end: the
// offset of the Ethertype field is l2End-2.
func l2End(key *FlowKey, off *Offsets) int {
	if off.L3 >= 0 {
		return int(off.L3)
	}
	n := 14
	if key.VlanTCI&VlanPresent != 0 {
		n += 4
	}
	if key.Vlan2TCI&VlanPresent != 0 {
		n += 4
	}
	return n
}

// pushMPLS inserts a label stack entry between the L2 headers and the
// payload. On a packet that has labels already, the new entry copies the
// outermost one's label, TC and TTL, with bottom-of-stack clear (OpenFlow
// 1.3.5 section 5.12.1, "push MPLS"); otherwise label and TC are zero, the
// TTL is the IP TTL (zero without IP) and bottom-of-stack is set.
func (p *pmd) pushMPLS(pkt *Packet, key *FlowKey, off *Offsets, etype uint16) {
	end := l2End(key, off)
	if end > len(pkt.Data) {
		return
	}
	lse := PushedLSE(key)
	p.prepend(pkt, 4)
	d := pkt.Data
	copy(d[0:end], d[4:end+4])
	be.PutUint16(d[end-2:], etype)
	be.PutUint32(d[end:], lse)
	reparse(pkt.Data, key, off)
}

// PushedLSE returns the label stack entry push_mpls puts on a packet
// with flow key k (see pushMPLS).
func PushedLSE(k *FlowKey) uint32 {
	if k.EthType == EthTypeMPLS || k.EthType == EthTypeMPLSM {
		return k.MPLSLSE &^ (1 << 8)
	}
	return 1<<8 | uint32(k.NwTTL)
}

// pushPBB encapsulates the frame in 802.1ah (PBB): new backbone addresses
// (copied from the customer ones, as OpenFlow 1.3 section 7.2.5 has the
// new header's fields copied from the existing ones), Ethertype etype and
// an I-TAG carrying the outer VLAN's PCP and, for a frame that was already
// PBB, its I-SID. The customer frame, tags included, follows unchanged.
func (p *pmd) pushPBB(pkt *Packet, key *FlowKey, off *Offsets, etype uint16) {
	if len(pkt.Data) < 14 {
		return
	}
	itag := key.PBBISID & 0xffffff
	if key.VlanTCI&VlanPresent != 0 {
		itag |= uint32(key.VlanTCI>>13) << 29
	}
	p.prepend(pkt, 18)
	d := pkt.Data
	copy(d[0:12], d[18:30])
	be.PutUint16(d[12:], etype)
	be.PutUint32(d[14:], itag)
	reparse(pkt.Data, key, off)
}

// popPBB removes the backbone header (addresses, any backbone tag, the
// Ethertype and the I-TAG): the customer frame becomes the frame.
func (p *pmd) popPBB(pkt *Packet, key *FlowKey, off *Offsets) {
	if key.EthType != EthTypePBB || off.L3 < 0 || int(off.L3)+4+14 > len(pkt.Data) {
		return
	}
	n := int(off.L3) + 4
	pkt.Data = pkt.Data[n:]
	pkt.Head += n
	reparse(pkt.Data, key, off)
}

// popMPLS removes the top label; etype becomes the frame's Ethertype.
func (p *pmd) popMPLS(pkt *Packet, key *FlowKey, off *Offsets, etype uint16) {
	if key.EthType != EthTypeMPLS && key.EthType != EthTypeMPLSM {
		return
	}
	end := l2End(key, off)
	if end+4 > len(pkt.Data) {
		return
	}
	d := pkt.Data
	copy(d[4:end+4], d[0:end])
	pkt.Data = d[4:]
	pkt.Head += 4
	be.PutUint16(pkt.Data[end-2:], etype)
	reparse(pkt.Data, key, off)
}
