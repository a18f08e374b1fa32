package datapath

import (
	"encoding/binary"

	"github.com/goko-net/goko/header"
)

// Ethertypes and IP protocols the parser understands, under the names the
// datapath's users know them by; the values are package header's.
const (
	EthTypeIPv4  = header.EtherTypeIPv4
	EthTypeARP   = header.EtherTypeARP
	EthTypeVLAN  = header.EtherTypeVLAN
	EthTypeQinQ  = header.EtherTypeQinQ
	EthTypeIPv6  = header.EtherTypeIPv6
	EthTypeMPLS  = header.EtherTypeMPLS
	EthTypeMPLSM = header.EtherTypeMPLSM
	EthTypePBB   = header.EtherTypePBB

	IPProtoICMP   = header.IPProtoICMP
	IPProtoTCP    = header.IPProtoTCP
	IPProtoUDP    = header.IPProtoUDP
	IPProtoICMPv6 = header.IPProtoICMPv6
	IPProtoSCTP   = header.IPProtoSCTP
)

// Offsets records where each layer starts in the frame, so that actions can
// rewrite headers without parsing again. A negative offset means the layer
// is absent.
type Offsets struct {
	L3 int16
	L4 int16
}

// Parse extracts the flow key of frame, which arrived on inPort, into key
// and returns the header offsets. It never allocates and never fails: a
// truncated or malformed header simply stops the parse, leaving the fields of
// deeper layers zero, as a switch must still forward (or drop by rule) such
// frames.
func Parse(frame []byte, inPort uint32, key *FlowKey) Offsets {
	if parseUDPTCP4(frame, inPort, key) {
		return Offsets{L3: 14, L4: 14 + 20}
	}
	return parseFull(frame, inPort, key)
}

// parseUDPTCP4 is Parse for the commonest frame, in one function and a
// few checks: untagged IPv4 with a 20-byte header, not a fragment,
// carrying UDP or TCP whose header fits in the datagram. It reports
// whether frame was one; if not it has written nothing. The fuzz test
// checks that it agrees with parseFull.
func parseUDPTCP4(frame []byte, inPort uint32, key *FlowKey) bool {
	if len(frame) < 14+20+20 || frame[12] != 0x08 || frame[13] != 0x00 || frame[14] != 0x45 {
		return false
	}
	ip := frame[14 : 14+20+20]
	proto := ip[header.IPv4Protocol]
	l4 := 0
	switch proto {
	case IPProtoUDP:
		l4 = 8
	case IPProtoTCP:
		l4 = 20
	default:
		return false
	}
	total := int(binary.BigEndian.Uint16(ip[header.IPv4TotalLen:]))
	frag := binary.BigEndian.Uint16(ip[header.IPv4Flags:])
	if total < 20+l4 || frag&(header.IPv4FlagMF|header.IPv4FragOffset) != 0 {
		return false
	}
	*key = FlowKey{InPort: inPort}
	key.EthDst = [6]byte(frame[0:6]) // a conversion, not a copy: no memmove call
	key.EthSrc = [6]byte(frame[6:12])
	key.EthType = EthTypeIPv4
	key.NwTos = ip[header.IPv4TOS]
	key.NwTTL = ip[header.IPv4TTL]
	key.NwProto = proto
	key.NwSrc = binary.BigEndian.Uint32(ip[header.IPv4Src:])
	key.NwDst = binary.BigEndian.Uint32(ip[header.IPv4Dst:])
	key.TpSrc = binary.BigEndian.Uint16(ip[20:])
	key.TpDst = binary.BigEndian.Uint16(ip[22:])
	if proto == IPProtoTCP {
		key.TCPFlags = binary.BigEndian.Uint16(ip[20+12:]) & 0x0fff
	}
	return true
}

// parseFull is Parse for any frame.
func parseFull(frame []byte, inPort uint32, key *FlowKey) Offsets {
	*key = FlowKey{InPort: inPort}
	off := Offsets{L3: -1, L4: -1}
	if len(frame) < 14 {
		return off
	}
	copy(key.EthDst[:], frame[0:6])
	copy(key.EthSrc[:], frame[6:12])
	p := 12
	typ := binary.BigEndian.Uint16(frame[p:])
	p += 2
	if typ == EthTypeVLAN || typ == EthTypeQinQ {
		if len(frame) < p+4 {
			key.EthType = typ
			return off
		}
		key.VlanTCI = binary.BigEndian.Uint16(frame[p:]) | VlanPresent
		typ = binary.BigEndian.Uint16(frame[p+2:])
		p += 4
		if typ == EthTypeVLAN || typ == EthTypeQinQ {
			if len(frame) < p+4 {
				key.EthType = typ
				return off
			}
			key.Vlan2TCI = binary.BigEndian.Uint16(frame[p:]) | VlanPresent
			typ = binary.BigEndian.Uint16(frame[p+2:])
			p += 4
		}
	}
	key.EthType = typ
	switch typ {
	case EthTypeIPv4:
		off.L3 = int16(p)
		off.L4 = parseIPv4(frame[p:], key, p)
	case EthTypeIPv6:
		off.L3 = int16(p)
		off.L4 = parseIPv6(frame[p:], key, p)
	case EthTypeARP:
		off.L3 = int16(p)
		parseARP(frame[p:], key)
	case EthTypePBB:
		// The customer frame inside is not parsed, as for MPLS.
		off.L3 = int16(p)
		if len(frame) >= p+4 {
			key.PBBISID = binary.BigEndian.Uint32(frame[p:]) & 0xffffff
		}
	case EthTypeMPLS, EthTypeMPLSM:
		off.L3 = int16(p)
		if len(frame) >= p+4 {
			key.MPLSLSE = binary.BigEndian.Uint32(frame[p:])
		}
	}
	return off
}

func parseARP(b []byte, key *FlowKey) {
	// Only Ethernet/IPv4 ARP carries the fields OpenFlow matches on.
	a := header.ARP(b)
	if len(a) < header.ARPLen || !a.IsEthernetIPv4() {
		return
	}
	op := binary.BigEndian.Uint16(a[header.ARPOp:])
	if op <= 0xff {
		key.NwProto = uint8(op)
	}
	copy(key.ArpSHA[:], a[header.ARPSHA:header.ARPSHA+6])
	key.NwSrc = ipv4(a[header.ARPSPA : header.ARPSPA+4])
	copy(key.ArpTHA[:], a[header.ARPTHA:header.ARPTHA+6])
	key.NwDst = ipv4(a[header.ARPTPA : header.ARPTPA+4])
}

// parseIPv4 fills the IPv4 and transport fields and returns the L4 offset in
// the frame (base is the offset of b), or -1.
func parseIPv4(b []byte, key *FlowKey, base int) int16 {
	if len(b) < 20 || b[0]>>4 != 4 {
		return -1
	}
	ihl := int(b[0]&0x0f) * 4
	total := int(binary.BigEndian.Uint16(b[header.IPv4TotalLen:]))
	if ihl < 20 || len(b) < ihl || total < ihl {
		return -1
	}
	if total < len(b) {
		b = b[:total] // drop Ethernet padding
	}
	ip := header.IPv4(b)
	key.NwTos = ip[header.IPv4TOS]
	key.NwTTL = ip[header.IPv4TTL]
	key.NwProto = ip[header.IPv4Protocol]
	key.NwSrc = ip.Src()
	key.NwDst = ip.Dst()
	frag := binary.BigEndian.Uint16(b[header.IPv4Flags:])
	if frag&(header.IPv4FlagMF|header.IPv4FragOffset) != 0 {
		key.NwFrag = FragAny
		if frag&header.IPv4FragOffset != 0 {
			key.NwFrag |= FragLater
			return -1
		}
	}
	parseL4(b[ihl:], key, key.NwProto)
	return int16(base + ihl)
}

// IPv6 extension headers the parser skips to reach the transport header,
// and the two that end the chain for it.
const (
	ipv6HopByHop = header.IPProtoHopByHop
	ipv6Routing  = header.IPProtoRouting
	ipv6Fragment = header.IPProtoFragment
	ipv6ESP      = header.IPProtoESP
	ipv6AH       = header.IPProtoAH
	ipv6NoNext   = header.IPProtoNoNext
	ipv6DestOpts = header.IPProtoDstOpts
)

// exthdrRank is each extension header's place in the order RFC 8200
// section 4.1 recommends: hop-by-hop, destination options (for the routing
// header's hops), routing, fragment, AH, ESP, destination options (for the
// final destination). A header ranked below one seen before it is out of
// sequence (OFPIEH_UNSEQ).
const (
	rankHop = iota + 1
	rankDestFirst
	rankRouting
	rankFragment
	rankAH
	rankESP
	rankDestLast
)

// exthdrState accumulates the ipv6_exthdr flags over one header chain.
type exthdrState struct {
	flags uint16
	last  int // rank of the previous extension header, 0 before the first
	dests int // destination options headers seen
}

// see records one extension header of type next.
func (s *exthdrState) see(next uint8) {
	var bit uint16
	rank := 0
	switch next {
	case ipv6HopByHop:
		bit, rank = IPv6ExtHop, rankHop
		if s.last != 0 {
			// Hop-by-hop must come first, right after the IPv6 header.
			s.flags |= IPv6ExtUnseq
		}
	case ipv6DestOpts:
		bit, rank = IPv6ExtDest, rankDestFirst
		if s.last >= rankDestFirst {
			rank = rankDestLast
		}
		s.dests++
		if s.dests > 2 {
			s.flags |= IPv6ExtUnrep
		}
	case ipv6Routing:
		bit, rank = IPv6ExtRouter, rankRouting
	case ipv6Fragment:
		bit, rank = IPv6ExtFrag, rankFragment
	case ipv6AH:
		bit, rank = IPv6ExtAuth, rankAH
	case ipv6ESP:
		bit, rank = IPv6ExtESP, rankESP
	case ipv6NoNext:
		s.flags |= IPv6ExtNoNext
		return
	default:
		return
	}
	if next != ipv6DestOpts && s.flags&bit != 0 {
		s.flags |= IPv6ExtUnrep // only destination options may appear twice
	}
	if rank < s.last {
		s.flags |= IPv6ExtUnseq
	}
	s.flags |= bit
	s.last = rank
}

func parseIPv6(b []byte, key *FlowKey, base int) int16 {
	if len(b) < 40 || b[0]>>4 != 6 {
		return -1
	}
	vtcfl := binary.BigEndian.Uint32(b[0:])
	key.NwTos = uint8(vtcfl >> 20)
	key.IPv6Label = vtcfl & 0xfffff
	payload := int(binary.BigEndian.Uint16(b[4:]))
	if 40+payload < len(b) {
		b = b[:40+payload]
	}
	next := b[6]
	key.NwTTL = b[7]
	copy(key.IPv6Src[:], b[8:24])
	copy(key.IPv6Dst[:], b[24:40])
	p := 40
	var ext exthdrState
	// Each extension header is at least 8 bytes, so this loop is bounded by
	// the frame length.
	for {
		ext.see(next)
		key.IPv6ExtHdr = ext.flags
		switch next {
		case ipv6HopByHop, ipv6Routing, ipv6DestOpts:
			if len(b) < p+8 {
				key.NwProto = next
				return -1
			}
			next, p = b[p], p+(int(b[p+1])+1)*8
			continue
		case ipv6AH:
			if len(b) < p+8 {
				key.NwProto = next
				return -1
			}
			next, p = b[p], p+(int(b[p+1])+2)*4
			continue
		case ipv6Fragment:
			if len(b) < p+8 {
				key.NwProto = next
				return -1
			}
			key.NwFrag = FragAny
			if binary.BigEndian.Uint16(b[p+2:])&0xfff8 != 0 {
				// A later fragment: the headers after this one are in
				// the first fragment, so the chain ends here.
				key.NwFrag |= FragLater
				key.NwProto = b[p]
				return -1
			}
			next, p = b[p], p+8
			continue
		}
		break
	}
	key.NwProto = next
	if p > len(b) {
		return -1
	}
	parseL4(b[p:], key, next)
	return int16(base + p)
}

func parseL4(b []byte, key *FlowKey, proto uint8) {
	switch proto {
	case IPProtoTCP:
		if len(b) >= 20 {
			key.TpSrc = binary.BigEndian.Uint16(b[0:])
			key.TpDst = binary.BigEndian.Uint16(b[2:])
			key.TCPFlags = binary.BigEndian.Uint16(b[12:]) & 0x0fff
		}
	case IPProtoUDP, IPProtoSCTP:
		if len(b) >= 8 {
			key.TpSrc = binary.BigEndian.Uint16(b[0:])
			key.TpDst = binary.BigEndian.Uint16(b[2:])
		}
	case IPProtoICMP:
		if len(b) >= 4 {
			key.TpSrc = uint16(b[0])
			key.TpDst = uint16(b[1])
		}
	case IPProtoICMPv6:
		if len(b) >= 4 {
			key.TpSrc = uint16(b[0])
			key.TpDst = uint16(b[1])
			if (b[0] == 135 || b[0] == 136) && len(b) >= 24 {
				parseND(b, key)
			}
		}
	}
}

// parseND reads the target address and link-layer address options of an
// IPv6 neighbour solicitation (135) or advertisement (136).
func parseND(b []byte, key *FlowKey) {
	copy(key.NDTarget[:], b[8:24])
	for p := 24; p+8 <= len(b); {
		typ, n := b[p], int(b[p+1])*8
		if n == 0 || p+n > len(b) {
			return
		}
		if n == 8 {
			switch typ {
			case 1:
				copy(key.ArpSHA[:], b[p+2:p+8])
			case 2:
				copy(key.ArpTHA[:], b[p+2:p+8])
			}
		}
		p += n
	}
}
