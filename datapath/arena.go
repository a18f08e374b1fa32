package datapath

import "unsafe"

// arena holds packet copies made while a burst is processed (outputs that
// must not see later rewrites, group buckets, frames that need headroom).
// It is reset after the burst's transmissions, which copy Go memory into
// the devices, so nothing is allocated per packet in the steady state.
type arena struct {
	buf  []byte
	off  int
	pkts []Packet
	n    int
}

const (
	arenaBytes   = 256 << 10
	arenaPackets = 256
	pushHeadroom = 64 // room left in front of a copy for header pushes
)

func (a *arena) init() {
	a.buf = make([]byte, arenaBytes)
	a.pkts = make([]Packet, arenaPackets)
}

// clone copies pkt with head bytes of headroom.
func (a *arena) clone(pkt *Packet, head int) *Packet {
	need := head + len(pkt.Data)
	if a.off+need > len(a.buf) || a.n == len(a.pkts) {
		// Exhausted mid-burst: queued packets still point into the old
		// memory, so take fresh memory rather than reuse it.
		a.buf = make([]byte, max(arenaBytes, need))
		a.pkts = make([]Packet, arenaPackets)
		a.off, a.n = 0, 0
	}
	d := a.buf[a.off+head : a.off+need : a.off+need]
	copy(d, pkt.Data)
	a.off += need
	c := &a.pkts[a.n]
	a.n++
	*c = Packet{Data: d, Head: head}
	return c
}

func (a *arena) reset() { a.off, a.n = 0, 0 }

// prepend grows pkt.Data by n bytes at the front, into its headroom, or
// into a copy with headroom when it has too little. The new bytes are
// uninitialised.
func (p *pmd) prepend(pkt *Packet, n int) {
	if pkt.Head < n {
		*pkt = *p.arena.clone(pkt, pushHeadroom)
	}
	base := unsafe.Add(unsafe.Pointer(unsafe.SliceData(pkt.Data)), -n)
	pkt.Data = unsafe.Slice((*byte)(base), len(pkt.Data)+n)
	pkt.Head -= n
}

// reparse refreshes key and offsets after a push or pop changed the
// header stack, keeping what does not come from the frame.
func reparse(pkt *Packet, key *FlowKey, off *Offsets) {
	in, tid, tsrc, tdst := key.InPort, key.TunID, key.TunSrc, key.TunDst
	*off = Parse(pkt.Data, in, key)
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
	reparse(pkt, key, off)
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
	reparse(pkt, key, off)
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
	reparse(pkt, key, off)
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
	reparse(pkt, key, off)
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
	reparse(pkt, key, off)
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
	reparse(pkt, key, off)
}
