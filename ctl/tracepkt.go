package ctl

import (
	"encoding/binary"
	"fmt"

	"github.com/goko-net/goko/header"
	"github.com/goko-net/goko/openflow"
)

// PacketFromMatch builds the Ethernet frame ofctl trace sends for a flow
// given as match fields ("in_port=1,tcp,nw_dst=10.0.0.2,tp_dst=80"): the
// fields the match sets, everything else zero (TTL 64), with valid IPv4
// header and L4 checksums. It returns the frame and the input port.
// Fields a frame cannot carry (metadata, tunnel fields, filter_prog,
// ct_reply) are an error: trace a tunnel's inner packet on the tunnel
// port instead.
func PacketFromMatch(m openflow.Match) ([]byte, uint32, error) {
	get := func(f openflow.Field) *openflow.OXM { return m.Field(f) }
	in := get(openflow.OXMInPort)
	if in == nil {
		return nil, 0, fmt.Errorf("the flow must give in_port")
	}
	for _, o := range m.Fields {
		switch {
		case o.Field == openflow.OXMMetadata:
			return nil, 0, fmt.Errorf("metadata is not a packet field (it starts at 0 in table 0)")
		case o.Field == openflow.OXMTunnelID || o.Field == openflow.OXMTunIPv4Src || o.Field == openflow.OXMTunIPv4Dst:
			return nil, 0, fmt.Errorf("%v: tunnel fields come from decapsulation; trace the inner packet with in_port=TUNNEL_PORT", o.Field)
		case o.Field.Class() != openflow.OXMClassOpenFlowBasic:
			return nil, 0, fmt.Errorf("%v is not a packet field", o)
		}
	}
	mac := func(f openflow.Field) []byte {
		if o := get(f); o != nil {
			return o.Value
		}
		return make([]byte, 6)
	}
	u := func(f openflow.Field) uint64 {
		if o := get(f); o != nil {
			return o.Uint()
		}
		return 0
	}
	var p []byte
	p = append(p, mac(openflow.OXMEthDst)...)
	p = append(p, mac(openflow.OXMEthSrc)...)
	if v := get(openflow.OXMVlanVID); v != nil && v.Uint16()&openflow.VIDPresent != 0 {
		tci := v.Uint16()&0xfff | uint16(u(openflow.OXMVlanPCP))<<13
		p = binary.BigEndian.AppendUint16(p, header.EtherTypeVLAN)
		p = binary.BigEndian.AppendUint16(p, tci)
	}
	ethType := uint16(u(openflow.OXMEthType))
	switch ethType {
	case header.EtherTypeMPLS, header.EtherTypeMPLSM:
		p = binary.BigEndian.AppendUint16(p, ethType)
		lse := uint32(u(openflow.OXMMPLSLabel))<<12 | uint32(u(openflow.OXMMPLSTC))<<9 | uint32(u(openflow.OXMMPLSBOS))<<8 | 64
		if get(openflow.OXMMPLSBOS) == nil {
			lse |= 1 << 8 // one label: bottom of stack
		}
		return binary.BigEndian.AppendUint32(p, lse), uint32(in.Uint()), nil
	case 0:
		return binary.BigEndian.AppendUint16(p, 0x0000), uint32(in.Uint()), nil
	}
	p = binary.BigEndian.AppendUint16(p, ethType)
	proto := uint8(u(openflow.OXMIPProto))
	switch ethType {
	case header.EtherTypeARP, header.EtherTypeRARP:
		var sha, tha [6]byte
		copy(sha[:], mac(openflow.OXMARPSHA))
		copy(tha[:], mac(openflow.OXMARPTHA))
		a := header.ARP(make([]byte, header.ARPLen))
		a.Encode(uint16(u(openflow.OXMARPOp)), sha, uint32(u(openflow.OXMARPSPA)), tha, uint32(u(openflow.OXMARPTPA)))
		p = append(p, a...)
	case header.EtherTypeIPv4:
		l4 := transport(proto, u, false, get)
		ip := header.IPv4(make([]byte, header.IPv4MinLen))
		ip.Encode(&header.IPv4Fields{
			TOS:      uint8(u(openflow.OXMIPDSCP))<<2 | uint8(u(openflow.OXMIPECN)),
			TotalLen: uint16(header.IPv4MinLen + len(l4)),
			TTL:      64,
			Protocol: proto,
			Src:      uint32(u(openflow.OXMIPv4Src)),
			Dst:      uint32(u(openflow.OXMIPv4Dst)),
		})
		if off := header.ChecksumOffset(proto); off >= 0 && proto != header.IPProtoICMPv6 && len(l4) > off+1 {
			sum := uint16(0)
			if proto != header.IPProtoICMP {
				sum = header.PseudoHeaderSum(proto, ip[header.IPv4Src:header.IPv4Src+4], ip[header.IPv4Dst:header.IPv4Dst+4], len(l4))
			}
			c := header.Checksum(l4, sum)
			if c == 0 && proto == header.IPProtoUDP {
				c = 0xffff // zero means "no checksum" in UDP over IPv4
			}
			binary.BigEndian.PutUint16(l4[off:], c)
		}
		p = append(append(p, ip...), l4...)
	case header.EtherTypeIPv6:
		l4 := transport(proto, u, true, get)
		ip := make([]byte, 40)
		binary.BigEndian.PutUint32(ip, 6<<28|uint32(u(openflow.OXMIPDSCP))<<22|uint32(u(openflow.OXMIPECN))<<20|uint32(u(openflow.OXMIPv6FLabel)))
		binary.BigEndian.PutUint16(ip[4:], uint16(len(l4)))
		ip[6], ip[7] = proto, 64
		if o := get(openflow.OXMIPv6Src); o != nil {
			copy(ip[8:], o.Value)
		}
		if o := get(openflow.OXMIPv6Dst); o != nil {
			copy(ip[24:], o.Value)
		}
		if off := header.ChecksumOffset(proto); off >= 0 && proto != header.IPProtoICMP && len(l4) > off+1 {
			binary.BigEndian.PutUint16(l4[off:], header.Checksum(l4, header.PseudoHeaderSum(proto, ip[header.IPv6Src:header.IPv6Dst], ip[header.IPv6Dst:header.IPv6Len], len(l4))))
		}
		p = append(append(p, ip...), l4...)
	}
	return p, uint32(in.Uint()), nil
}

// transport builds the L4 header (and the ND option, for neighbor
// discovery) with a zero checksum.
func transport(proto uint8, u func(openflow.Field) uint64, v6 bool, get func(openflow.Field) *openflow.OXM) []byte {
	switch proto {
	case 6:
		h := make([]byte, 20)
		binary.BigEndian.PutUint16(h, uint16(u(openflow.OXMTCPSrc)))
		binary.BigEndian.PutUint16(h[2:], uint16(u(openflow.OXMTCPDst)))
		h[12] = 5 << 4
		h[13] = 0x02 // SYN
		binary.BigEndian.PutUint16(h[14:], 65535)
		return h
	case 17:
		h := make([]byte, 8)
		binary.BigEndian.PutUint16(h, uint16(u(openflow.OXMUDPSrc)))
		binary.BigEndian.PutUint16(h[2:], uint16(u(openflow.OXMUDPDst)))
		binary.BigEndian.PutUint16(h[4:], 8)
		return h
	case 132:
		h := make([]byte, 12)
		binary.BigEndian.PutUint16(h, uint16(u(openflow.OXMSCTPSrc)))
		binary.BigEndian.PutUint16(h[2:], uint16(u(openflow.OXMSCTPDst)))
		return h
	case 1:
		if v6 {
			return nil
		}
		return []byte{uint8(u(openflow.OXMICMPv4Type)), uint8(u(openflow.OXMICMPv4Code)), 0, 0, 0, 0, 0, 0}
	case 58:
		if !v6 {
			return nil
		}
		typ := uint8(u(openflow.OXMICMPv6Type))
		h := []byte{typ, uint8(u(openflow.OXMICMPv6Code)), 0, 0, 0, 0, 0, 0}
		if typ == 135 || typ == 136 {
			target := make([]byte, 16)
			if o := get(openflow.OXMIPv6NDTarget); o != nil {
				copy(target, o.Value)
			}
			h = append(h, target...)
			if o := get(openflow.OXMIPv6NDSLL); o != nil {
				h = append(append(h, 1, 1), o.Value...)
			} else if o := get(openflow.OXMIPv6NDTLL); o != nil {
				h = append(append(h, 2, 1), o.Value...)
			}
		}
		return h
	}
	return nil
}
