// Package header is goko's vocabulary for packet headers: Ethertypes and
// IP protocol numbers, header lengths and field offsets, byte views of the
// headers goko writes and reads (in the manner of gVisor's
// pkg/tcpip/header), and the one Internet checksum (RFC 1071, updated
// incrementally per RFC 1624).
//
// It depends on nothing of goko, so the datapath, ofctl's packet printer
// and builder (package ctl) and the benchmark tools share it without
// importing one another. A view is a []byte that starts at its header; its
// methods neither check the length (the caller checked it against the
// header's Len constant) nor allocate, and they inline, so the datapath
// pays nothing for them.
package header

import "encoding/binary"

var be = binary.BigEndian

// Ethertypes.
const (
	EtherTypeIPv4  = 0x0800
	EtherTypeARP   = 0x0806
	EtherTypeRARP  = 0x8035
	EtherTypeVLAN  = 0x8100 // 802.1Q customer tag
	EtherTypeQinQ  = 0x88a8 // 802.1ad service tag
	EtherTypeIPv6  = 0x86dd
	EtherTypeMPLS  = 0x8847
	EtherTypeMPLSM = 0x8848 // MPLS multicast
	EtherTypePBB   = 0x88e7 // 802.1ah backbone service instance tag (I-TAG)

	// EtherTypeMin is the smallest Ethertype: a smaller value in the type
	// field is an 802.3 length.
	EtherTypeMin = 0x0600
)

// IP protocol numbers (IPv4 protocol, IPv6 next header).
const (
	IPProtoHopByHop = 0
	IPProtoICMP     = 1
	IPProtoTCP      = 6
	IPProtoUDP      = 17
	IPProtoRouting  = 43
	IPProtoFragment = 44
	IPProtoESP      = 50
	IPProtoAH       = 51
	IPProtoICMPv6   = 58
	IPProtoNoNext   = 59
	IPProtoDstOpts  = 60
	IPProtoSCTP     = 132
)

// Ethernet header.
const (
	EthernetLen = 14
	EthDst      = 0  // destination MAC
	EthSrc      = 6  // source MAC
	EthType     = 12 // Ethertype (after the addresses, before any tag)
	VLANTagLen  = 4  // an 802.1Q or 802.1ad tag: TPID, TCI
)

// Ethernet is a view of an Ethernet header.
type Ethernet []byte

// Type returns the Ethertype field (that of the untagged header).
func (e Ethernet) Type() uint16 { return be.Uint16(e[EthType:]) }

// SetType sets the Ethertype field.
func (e Ethernet) SetType(t uint16) { be.PutUint16(e[EthType:], t) }

// SetAddrs sets the destination and source MACs.
func (e Ethernet) SetAddrs(dst, src [6]byte) {
	copy(e[EthDst:EthDst+6], dst[:])
	copy(e[EthSrc:EthSrc+6], src[:])
}

// ARP for IPv4 over Ethernet (RFC 826): the only kind goko parses.
const (
	ARPLen      = 28
	ARPHType    = 0 // hardware type: 1, Ethernet
	ARPPType    = 2 // protocol type: EtherTypeIPv4
	ARPHLen     = 4 // 6
	ARPPLen     = 5 // 4
	ARPOp       = 6
	ARPSHA      = 8  // sender MAC
	ARPSPA      = 14 // sender IPv4 address
	ARPTHA      = 18 // target MAC
	ARPTPA      = 24 // target IPv4 address
	ARPRequest  = 1
	ARPReply    = 2
	ARPHTypeEth = 1
	ARPMinFrame = 60 // an ARP frame padded to Ethernet's minimum (no FCS)
)

// ARP is a view of an ARP packet.
type ARP []byte

// IsEthernetIPv4 reports whether the packet is ARP for IPv4 over
// Ethernet, the kind whose addresses sit at the ARP offsets.
func (a ARP) IsEthernetIPv4() bool {
	return be.Uint16(a[ARPHType:]) == ARPHTypeEth && be.Uint16(a[ARPPType:]) == EtherTypeIPv4 && a[ARPHLen] == 6 && a[ARPPLen] == 4
}

// Encode writes an IPv4-over-Ethernet ARP packet.
func (a ARP) Encode(op uint16, sha [6]byte, spa uint32, tha [6]byte, tpa uint32) {
	be.PutUint16(a[ARPHType:], ARPHTypeEth)
	be.PutUint16(a[ARPPType:], EtherTypeIPv4)
	a[ARPHLen], a[ARPPLen] = 6, 4
	be.PutUint16(a[ARPOp:], op)
	copy(a[ARPSHA:ARPSHA+6], sha[:])
	be.PutUint32(a[ARPSPA:], spa)
	copy(a[ARPTHA:ARPTHA+6], tha[:])
	be.PutUint32(a[ARPTPA:], tpa)
}

// IPv4 header (RFC 791).
const (
	IPv4MinLen   = 20
	IPv4TOS      = 1
	IPv4TotalLen = 2
	IPv4ID       = 4
	IPv4Flags    = 6 // flags and fragment offset
	IPv4TTL      = 8
	IPv4Protocol = 9
	IPv4Checksum = 10
	IPv4Src      = 12
	IPv4Dst      = 16

	IPv4FlagDF     = 0x4000 // in the 16 bits at IPv4Flags
	IPv4FlagMF     = 0x2000
	IPv4FragOffset = 0x1fff
)

// IPv4 is a view of an IPv4 header.
type IPv4 []byte

// HeaderLen returns the header's length from its IHL field.
func (h IPv4) HeaderLen() int { return int(h[0]&0xf) * 4 }

// TotalLen returns the total length field.
func (h IPv4) TotalLen() uint16 { return be.Uint16(h[IPv4TotalLen:]) }

// Src returns the source address.
func (h IPv4) Src() uint32 { return be.Uint32(h[IPv4Src:]) }

// Dst returns the destination address.
func (h IPv4) Dst() uint32 { return be.Uint32(h[IPv4Dst:]) }

// ChecksumValid reports whether the header checksum over the first
// HeaderLen bytes (or all of h, if shorter) is right.
func (h IPv4) ChecksumValid() bool {
	n := min(h.HeaderLen(), len(h))
	return Checksum(h[:n], 0) == 0
}

// IPv4Fields are the fields Encode writes; the rest is zero.
type IPv4Fields struct {
	TOS      uint8
	TotalLen uint16
	ID       uint16
	Flags    uint16 // flags and fragment offset, e.g. IPv4FlagDF
	TTL      uint8
	Protocol uint8
	Src, Dst uint32
}

// Encode writes a 20-byte header (no options) with f's fields and a
// correct checksum.
func (h IPv4) Encode(f *IPv4Fields) {
	h[0], h[IPv4TOS] = 0x45, f.TOS
	be.PutUint16(h[IPv4TotalLen:], f.TotalLen)
	be.PutUint16(h[IPv4ID:], f.ID)
	be.PutUint16(h[IPv4Flags:], f.Flags)
	h[IPv4TTL], h[IPv4Protocol] = f.TTL, f.Protocol
	h[IPv4Checksum], h[IPv4Checksum+1] = 0, 0
	be.PutUint32(h[IPv4Src:], f.Src)
	be.PutUint32(h[IPv4Dst:], f.Dst)
	be.PutUint16(h[IPv4Checksum:], Checksum(h[:IPv4MinLen], 0))
}

// IPv6 header (RFC 8200).
const (
	IPv6Len        = 40
	IPv6PayloadLen = 4
	IPv6NextHeader = 6
	IPv6HopLimit   = 7
	IPv6Src        = 8
	IPv6Dst        = 24
)

// UDP header (RFC 768).
const (
	UDPLen      = 8
	UDPSrcPort  = 0
	UDPDstPort  = 2
	UDPLength   = 4
	UDPChecksum = 6
)

// UDP is a view of a UDP header.
type UDP []byte

// Length returns the length field (header and payload).
func (u UDP) Length() uint16 { return be.Uint16(u[UDPLength:]) }

// Encode writes the header. A zero checksum means none (IPv4 only).
func (u UDP) Encode(src, dst, length, checksum uint16) {
	be.PutUint16(u[UDPSrcPort:], src)
	be.PutUint16(u[UDPDstPort:], dst)
	be.PutUint16(u[UDPLength:], length)
	be.PutUint16(u[UDPChecksum:], checksum)
}

// Transport headers: lengths and where their checksums are.
const (
	TCPMinLen    = 20
	TCPFlags     = 13 // the low 8 flag bits; byte 12 holds the rest and the data offset
	TCPChecksum  = 16
	ICMPChecksum = 2 // ICMP and ICMPv6
	SCTPChecksum = 8 // CRC32c, little-endian, not the Internet checksum
)

// ChecksumOffset returns where proto's Internet checksum is in its
// header (TCP, UDP, ICMP, ICMPv6), or -1.
func ChecksumOffset(proto uint8) int {
	switch proto {
	case IPProtoTCP:
		return TCPChecksum
	case IPProtoUDP:
		return UDPChecksum
	case IPProtoICMP, IPProtoICMPv6:
		return ICMPChecksum
	}
	return -1
}

// VXLAN header (RFC 7348).
const (
	VXLANLen   = 8
	VXLANFlags = 0    // flags byte
	VXLANFlagI = 0x08 // the VNI is valid
	VXLANVNI   = 4    // VNI in the top 24 bits of the 32 at this offset
	VXLANPort  = 4789 // the IANA-assigned UDP port
)

// VXLAN is a view of a VXLAN header.
type VXLAN []byte

// VNI returns the VXLAN network identifier.
func (v VXLAN) VNI() uint32 { return be.Uint32(v[VXLANVNI:]) >> 8 }

// Encode writes a header with the I flag and vni.
func (v VXLAN) Encode(vni uint32) {
	be.PutUint32(v[VXLANFlags:], VXLANFlagI<<24)
	be.PutUint32(v[VXLANVNI:], vni<<8)
}

// UpdateChecksum adjusts the header checksum after the bytes old of the
// header became new (see Update).
func (h IPv4) UpdateChecksum(old, new []byte) {
	be.PutUint16(h[IPv4Checksum:], Update(be.Uint16(h[IPv4Checksum:]), old, new))
}

// SetTTL sets the TTL, updating the checksum incrementally.
func (h IPv4) SetTTL(ttl uint8) {
	old := be.Uint16(h[IPv4TTL:])
	h[IPv4TTL] = ttl
	h.update16(old, be.Uint16(h[IPv4TTL:]))
}

// SetProtocol sets the protocol, updating the checksum incrementally.
func (h IPv4) SetProtocol(p uint8) {
	old := be.Uint16(h[IPv4TTL:])
	h[IPv4Protocol] = p
	h.update16(old, be.Uint16(h[IPv4TTL:]))
}

// SetTOS sets the type of service (DSCP and ECN), updating the checksum
// incrementally.
func (h IPv4) SetTOS(tos uint8) {
	old := be.Uint16(h[0:])
	h[IPv4TOS] = tos
	h.update16(old, be.Uint16(h[0:]))
}

// update16 adjusts the checksum for one header word that went from old to
// new.
func (h IPv4) update16(old, new uint16) {
	be.PutUint16(h[IPv4Checksum:], Update16(be.Uint16(h[IPv4Checksum:]), old, new))
}
