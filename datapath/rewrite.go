package datapath

// Header rewriting.
//
// Every function here edits a frame in place and keeps the flow key and the
// header offsets in step with it, so later actions in the same list (a
// select group's hash, a second set_field, an output after a push) see the
// packet as it now is. Checksums are updated incrementally (RFC 1624), so
// the cost does not grow with the payload; SCTP's CRC32c cannot be updated
// that way and is recomputed. Fields of layers the frame does not have are
// left alone: the OpenFlow layer has already refused set_field actions
// whose prerequisites the match does not guarantee.

import (
	"encoding/binary"
	"hash/crc32"

	"github.com/goko-net/goko/header"
)

var (
	be         = binary.BigEndian
	castagnoli = crc32.MakeTable(crc32.Castagnoli)
)

// l4CsumOffset returns the offset of the transport checksum within the L4
// header, or -1 when the protocol has none that covers the IP pseudo-header
// (ICMPv4's covers the ICMP message alone).
func l4CsumOffset(proto uint8) int {
	if proto == IPProtoICMP {
		return -1
	}
	return header.ChecksumOffset(proto)
}

type headers struct {
	frame []byte
	key   *FlowKey
	off   *Offsets
}

func (h *headers) l3() []byte {
	if h.off.L3 < 0 || int(h.off.L3) > len(h.frame) {
		return nil
	}
	return h.frame[h.off.L3:]
}

func (h *headers) l4() []byte {
	if h.off.L4 < 0 || int(h.off.L4) > len(h.frame) {
		return nil
	}
	return h.frame[h.off.L4:]
}

// updateL4Csum adjusts the transport checksum for a change of old to new
// in the pseudo-header or the transport header itself.
func (h *headers) updateL4Csum(old, new []byte) {
	l4 := h.l4()
	co := l4CsumOffset(h.key.NwProto)
	if l4 == nil || co < 0 || len(l4) < co+2 || h.key.NwFrag&FragLater != 0 {
		return
	}
	sum := be.Uint16(l4[co:])
	if h.key.NwProto == IPProtoUDP && h.key.EthType == EthTypeIPv4 && sum == 0 {
		return // no checksum
	}
	sum = header.Update(sum, old, new)
	if sum == 0 && h.key.NwProto == IPProtoUDP {
		sum = 0xffff
	}
	be.PutUint16(l4[co:], sum)
}

// sctpCsum recomputes an SCTP packet's CRC32c.
func (h *headers) sctpCsum() {
	l4 := h.l4()
	if len(l4) < 12 {
		return
	}
	if ip := h.l3(); h.key.EthType == EthTypeIPv4 && ip != nil {
		if total := int(header.IPv4(ip).TotalLen()); total >= int(h.off.L4-h.off.L3) && total-int(h.off.L4-h.off.L3) < len(l4) {
			l4 = l4[:total-int(h.off.L4-h.off.L3)]
		}
	}
	l4[8], l4[9], l4[10], l4[11] = 0, 0, 0, 0
	binary.LittleEndian.PutUint32(l4[8:], crc32.Checksum(l4, castagnoli))
}

// SetField applies an ActSetField of field f with value v to frame, whose
// key and offsets are key and off, outside any datapath thread: the
// OpenFlow layer uses it to follow a packet whose headers a set_field
// reinterprets. Checksums, key and offsets are kept in step.
func SetField(frame []byte, key *FlowKey, off *Offsets, f Field, v *[16]byte) {
	h := headers{frame: frame, key: key, off: off}
	h.setField(f, v)
}

// setField writes v (network order, left-aligned) into field f.
func (h *headers) setField(f Field, v *[16]byte) {
	fr, k := h.frame, h.key
	switch f {
	case FieldEthDst:
		if len(fr) >= 6 {
			copy(fr[0:6], v[:6])
			copy(k.EthDst[:], v[:6])
		}
	case FieldEthSrc:
		if len(fr) >= 12 {
			copy(fr[6:12], v[:6])
			copy(k.EthSrc[:], v[:6])
		}
	case FieldVlanVID, FieldVlanPCP:
		if k.VlanTCI&VlanPresent == 0 || len(fr) < 16 {
			return
		}
		tci := be.Uint16(fr[14:])
		if f == FieldVlanVID {
			tci = tci&0xf000 | be.Uint16(v[:])&0x0fff
		} else {
			tci = tci&0x1fff | uint16(v[0]&7)<<13
		}
		be.PutUint16(fr[14:], tci)
		k.VlanTCI = tci | VlanPresent
	case FieldIPv4Src, FieldIPv4Dst:
		ip := h.l3()
		if k.EthType != EthTypeIPv4 || len(ip) < 20 {
			return
		}
		o := 12
		if f == FieldIPv4Dst {
			o = 16
		}
		var old [4]byte
		copy(old[:], ip[o:o+4])
		copy(ip[o:o+4], v[:4])
		header.IPv4(ip).UpdateChecksum(old[:], v[:4])
		h.updateL4Csum(old[:], v[:4])
		if f == FieldIPv4Src {
			k.NwSrc = be.Uint32(v[:])
		} else {
			k.NwDst = be.Uint32(v[:])
		}
		if k.NwProto == IPProtoSCTP {
			h.sctpCsum()
		}
	case FieldIPDSCP, FieldIPECN:
		tos := k.NwTos
		if f == FieldIPDSCP {
			tos = tos&3 | v[0]<<2
		} else {
			tos = tos&0xfc | v[0]&3
		}
		h.setTos(tos)
	case FieldIPv6Src, FieldIPv6Dst:
		ip := h.l3()
		if k.EthType != EthTypeIPv6 || len(ip) < 40 {
			return
		}
		o := 8
		if f == FieldIPv6Dst {
			o = 24
		}
		var old [16]byte
		copy(old[:], ip[o:o+16])
		copy(ip[o:o+16], v[:16])
		h.updateL4Csum(old[:], v[:16])
		if f == FieldIPv6Src {
			copy(k.IPv6Src[:], v[:16])
		} else {
			copy(k.IPv6Dst[:], v[:16])
		}
		if k.NwProto == IPProtoSCTP {
			h.sctpCsum()
		}
	case FieldIPv6Label:
		ip := h.l3()
		if k.EthType != EthTypeIPv6 || len(ip) < 4 {
			return
		}
		lbl := be.Uint32(v[:]) & 0xfffff
		be.PutUint32(ip, be.Uint32(ip)&^0xfffff|lbl)
		k.IPv6Label = lbl
	case FieldTpSrc, FieldTpDst:
		l4 := h.l4()
		if len(l4) < 4 || k.NwFrag&FragLater != 0 {
			return
		}
		o := 0
		if f == FieldTpDst {
			o = 2
		}
		var old [2]byte
		copy(old[:], l4[o:o+2])
		copy(l4[o:o+2], v[:2])
		switch k.NwProto {
		case IPProtoTCP, IPProtoUDP:
			h.updateL4Csum(old[:], v[:2])
		case IPProtoSCTP:
			h.sctpCsum()
		}
		if f == FieldTpSrc {
			k.TpSrc = be.Uint16(v[:])
		} else {
			k.TpDst = be.Uint16(v[:])
		}
	case FieldICMPType, FieldICMPCode:
		l4 := h.l4()
		if len(l4) < 4 {
			return
		}
		var old [2]byte
		copy(old[:], l4[0:2])
		if f == FieldICMPType {
			l4[0] = v[0]
			k.TpSrc = uint16(v[0])
		} else {
			l4[1] = v[0]
			k.TpDst = uint16(v[0])
		}
		be.PutUint16(l4[header.ICMPChecksum:], header.Update(be.Uint16(l4[header.ICMPChecksum:]), old[:], l4[0:2]))
	case FieldARPOp, FieldARPSPA, FieldARPTPA, FieldARPSHA, FieldARPTHA:
		h.setARP(f, v)
	case FieldNDTarget, FieldNDSLL, FieldNDTLL:
		h.setND(f, v)
	case FieldMPLSLabel, FieldMPLSTC, FieldMPLSBOS:
		if k.MPLSLSE == 0 && (k.EthType != EthTypeMPLS && k.EthType != EthTypeMPLSM) {
			return
		}
		lse := h.l3()
		if len(lse) < 4 {
			return
		}
		x := be.Uint32(lse)
		switch f {
		case FieldMPLSLabel:
			x = x&0xfff | (be.Uint32(v[:])&0xfffff)<<12
		case FieldMPLSTC:
			x = x&^0xe00 | uint32(v[0]&7)<<9
		case FieldMPLSBOS:
			x = x&^0x100 | uint32(v[0]&1)<<8
		}
		be.PutUint32(lse, x)
		k.MPLSLSE = x
	case FieldPBBISID:
		if k.EthType != EthTypePBB {
			return
		}
		itag := h.l3()
		if len(itag) < 4 {
			return
		}
		copy(itag[1:4], v[:3])
		k.PBBISID = uint32(v[0])<<16 | uint32(v[1])<<8 | uint32(v[2])
	case FieldEthType:
		end := l2End(k, h.off)
		if end < 14 || end > len(fr) {
			return
		}
		copy(fr[end-2:end], v[:2])
		reparse(h.frame, h.key, h.off)
	case FieldIPProto:
		h.setIPProto(v[0])
	case FieldTunID:
		k.TunID = be.Uint64(v[:])
	case FieldTunSrc:
		k.TunSrc = be.Uint32(v[:])
	case FieldTunDst:
		k.TunDst = be.Uint32(v[:])
	}
}

// setIPProto rewrites the IPv4 protocol, or the next-header field that
// names an IPv6 packet's transport protocol (that of the IPv6 header or of
// the last extension header). The protocol is part of the TCP, UDP and
// ICMPv6 pseudo-header, so their checksum follows it.
func (h *headers) setIPProto(p uint8) {
	ip, k := h.l3(), h.key
	var at int // offset in ip of the protocol byte
	switch {
	case k.EthType == EthTypeIPv4 && len(ip) >= header.IPv4MinLen:
		at = header.IPv4Protocol
	case k.EthType == EthTypeIPv6 && len(ip) >= header.IPv6Len:
		at = header.IPv6NextHeader
		if h.off.L4 >= 0 {
			// Walk the extension headers to the one that names L4.
			end := int(h.off.L4 - h.off.L3)
			for q := 40; q+2 <= end && q+2 <= len(ip); {
				n := (int(ip[q+1]) + 1) * 8
				switch ip[at] {
				case header.IPProtoAH:
					n = (int(ip[q+1]) + 2) * 4
				case header.IPProtoFragment:
					n = 8
				}
				at, q = q, q+n
			}
		}
	default:
		return
	}
	old, nw := [2]byte{0, ip[at]}, [2]byte{0, p}
	if k.EthType == EthTypeIPv4 {
		header.IPv4(ip).SetProtocol(p)
	} else {
		ip[at] = p
	}
	h.updateL4Csum(old[:], nw[:])
	reparse(h.frame, h.key, h.off)
}

func (h *headers) setTos(tos uint8) {
	ip := h.l3()
	switch {
	case h.key.EthType == EthTypeIPv4 && len(ip) >= 20:
		header.IPv4(ip).SetTOS(tos)
	case h.key.EthType == EthTypeIPv6 && len(ip) >= 40:
		w := be.Uint32(ip)
		be.PutUint32(ip, w&^0x0ff00000|uint32(tos)<<20)
	default:
		return
	}
	h.key.NwTos = tos
}

func (h *headers) setARP(f Field, v *[16]byte) {
	a := h.l3()
	if h.key.EthType != EthTypeARP || len(a) < header.ARPLen {
		return
	}
	k := h.key
	switch f {
	case FieldARPOp:
		copy(a[header.ARPOp:header.ARPOp+2], v[:2])
		k.NwProto = v[1]
	case FieldARPSHA:
		copy(a[header.ARPSHA:header.ARPSHA+6], v[:6])
		copy(k.ArpSHA[:], v[:6])
	case FieldARPSPA:
		copy(a[header.ARPSPA:header.ARPSPA+4], v[:4])
		k.NwSrc = be.Uint32(v[:])
	case FieldARPTHA:
		copy(a[header.ARPTHA:header.ARPTHA+6], v[:6])
		copy(k.ArpTHA[:], v[:6])
	case FieldARPTPA:
		copy(a[header.ARPTPA:header.ARPTPA+4], v[:4])
		k.NwDst = be.Uint32(v[:])
	}
}

// setND rewrites the target or a link-layer address option of a neighbour
// solicitation or advertisement.
func (h *headers) setND(f Field, v *[16]byte) {
	l4 := h.l4()
	k := h.key
	if k.NwProto != IPProtoICMPv6 || (k.TpSrc != 135 && k.TpSrc != 136) || len(l4) < 24 {
		return
	}
	switch f {
	case FieldNDTarget:
		var old [16]byte
		copy(old[:], l4[8:24])
		copy(l4[8:24], v[:16])
		h.updateL4Csum(old[:], v[:16])
		copy(k.NDTarget[:], v[:16])
		return
	}
	want := byte(1) // source link-layer address
	if f == FieldNDTLL {
		want = 2
	}
	for p := 24; p+8 <= len(l4); {
		n := int(l4[p+1]) * 8
		if n == 0 || p+n > len(l4) {
			return
		}
		if l4[p] == want && n == 8 {
			var old [6]byte
			copy(old[:], l4[p+2:p+8])
			copy(l4[p+2:p+8], v[:6])
			h.updateL4Csum(old[:], v[:6])
			if want == 1 {
				copy(k.ArpSHA[:], v[:6])
			} else {
				copy(k.ArpTHA[:], v[:6])
			}
			return
		}
		p += n
	}
}

// decNwTTL decrements the IPv4 TTL or IPv6 hop limit. It reports false
// when the TTL was already 0 or 1 (the packet must then not be forwarded),
// or when the packet is not IP.
func (h *headers) decNwTTL() bool {
	ip := h.l3()
	switch {
	case h.key.EthType == EthTypeIPv4 && len(ip) >= 20:
		if ip[header.IPv4TTL] <= 1 {
			return false
		}
		header.IPv4(ip).SetTTL(ip[header.IPv4TTL] - 1)
		h.key.NwTTL = ip[header.IPv4TTL]
		return true
	case h.key.EthType == EthTypeIPv6 && len(ip) >= 40:
		if ip[header.IPv6HopLimit] <= 1 {
			return false
		}
		ip[header.IPv6HopLimit]--
		h.key.NwTTL = ip[header.IPv6HopLimit]
		return true
	}
	return false
}

// setNwTTL sets the IPv4 TTL or IPv6 hop limit.
func (h *headers) setNwTTL(ttl uint8) {
	ip := h.l3()
	switch {
	case h.key.EthType == EthTypeIPv4 && len(ip) >= 20:
		header.IPv4(ip).SetTTL(ttl)
	case h.key.EthType == EthTypeIPv6 && len(ip) >= 40:
		ip[header.IPv6HopLimit] = ttl
	default:
		return
	}
	h.key.NwTTL = ttl
}

// isMPLS reports whether the packet's L3 header is an MPLS label.
func (h *headers) isMPLS() bool {
	return (h.key.EthType == EthTypeMPLS || h.key.EthType == EthTypeMPLSM) && len(h.l3()) >= 4
}

func (h *headers) setMPLSTTL(ttl uint8) {
	if h.isMPLS() {
		h.l3()[3] = ttl
		h.key.MPLSLSE = h.key.MPLSLSE&^0xff | uint32(ttl)
	}
}

func (h *headers) decMPLSTTL() bool {
	if !h.isMPLS() {
		return false
	}
	lse := h.l3()
	if lse[3] <= 1 {
		return false
	}
	lse[3]--
	h.key.MPLSLSE--
	return true
}

// copyTTLOut copies the IP TTL into the MPLS TTL of an MPLS packet whose
// next header is IP (bottom of stack), and copyTTLIn the other way.
func (h *headers) copyTTL(out bool) {
	if !h.isMPLS() {
		return
	}
	lse := h.l3()
	if lse[2]&1 == 0 || len(lse) < 4+20 {
		return // not bottom of stack: the inner TTL is another label's
	}
	ip := lse[4:]
	switch ip[0] >> 4 {
	case 4:
		if out {
			h.setMPLSTTL(ip[header.IPv4TTL])
		} else {
			header.IPv4(ip).SetTTL(lse[3])
		}
	case 6:
		if len(ip) < 40 {
			return
		}
		if out {
			h.setMPLSTTL(ip[header.IPv6HopLimit])
		} else {
			ip[header.IPv6HopLimit] = lse[3]
		}
	}
}

// remarkDSCP raises a packet's drop precedence by prec levels, as a
// dscp_remark meter band does to traffic above its rate. OpenFlow does not
// say how the DSCP encodes drop precedence, so goko follows the two
// encodings DiffServ has:
//   - an assured-forwarding codepoint (AFcd, RFC 2597) has one: d rises by
//     prec within class c, up to 3 (AF11 becomes AF12);
//   - any other codepoint is a class selector (RFC 2474 section 4.2.2),
//     where a lower class is the one dropped first: the class (the top
//     three bits) falls by prec, down to 0, the rest kept. This is what
//     the public OpenFlow switch test suite expects (CS3, DSCP 24, remarked
//     with prec_level 1 becomes DSCP 16), and how other switches read
//     prec_level ("precedence levels to subtract").
func (h *headers) remarkDSCP(prec uint8) {
	dscp := h.key.NwTos >> 2
	class, drop := dscp>>3, (dscp>>1)&3
	if class >= 1 && class <= 4 && dscp&1 == 0 && drop != 0 {
		drop = uint8(min(int(drop)+int(prec), 3))
		dscp = class<<3 | drop<<1
	} else {
		dscp = uint8(max(int(class)-int(prec), 0))<<3 | dscp&7
	}
	h.setTos(dscp<<2 | h.key.NwTos&3)
}
