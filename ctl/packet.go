package ctl

import (
	"encoding/binary"
	"fmt"
	"net/netip"
	"strings"

	"github.com/goko-net/goko/header"
)

// FormatPacket describes an Ethernet frame in one line the way
// ovs-ofctl's monitor and ofp-print do (OVS's flow_format of the flow
// extracted from the packet, then the L4 checksum), e.g.
//
//	tcp,vlan_tci=0x0000,dl_src=02:00:00:00:00:01,dl_dst=02:00:00:00:00:02,nw_src=10.0.0.1,nw_dst=10.0.0.2,nw_tos=0,nw_ecn=0,nw_ttl=64,nw_frag=no,tp_src=1234,tp_dst=80,tcp_flags=syn tcp_csum:abcd
//
// Headers the frame is too short for are left at zero, as OVS does.
func FormatPacket(p []byte) string {
	var parts []string
	put := func(format string, args ...any) { parts = append(parts, fmt.Sprintf(format, args...)) }
	var dst, src [6]byte
	if len(p) < header.EthernetLen {
		return "vlan_tci=0x0000,dl_src=00:00:00:00:00:00,dl_dst=00:00:00:00:00:00,dl_type=0x0000"
	}
	copy(dst[:], p[0:6])
	copy(src[:], p[6:12])
	typ := header.Ethernet(p).Type()
	rest := p[header.EthernetLen:]
	var tcis []uint16
	for (typ == header.EtherTypeVLAN || typ == header.EtherTypeQinQ) && len(rest) >= header.VLANTagLen && len(tcis) < 2 {
		tcis = append(tcis, binary.BigEndian.Uint16(rest)|0x1000)
		typ = binary.BigEndian.Uint16(rest[2:])
		rest = rest[header.VLANTagLen:]
	}
	if typ < header.EtherTypeMin { // 802.3 length: OVS calls it 0x05ff
		typ = 0x05ff
	}
	// VLANs: "vlan_tci=0x0000" without a tag; "dl_vlan=N,dl_vlan_pcp=P"
	// per tag, then the next (absent) tag's vlan_tciN=0x0000.
	vlan := func() {
		for i := 0; i < 2; i++ {
			suffix := ""
			if i > 0 {
				suffix = fmt.Sprint(i)
			}
			if i >= len(tcis) {
				put("vlan_tci%s=0x0000", suffix)
				return
			}
			put("dl_vlan%s=%d", suffix, tcis[i]&0xfff)
			put("dl_vlan_pcp%s=%d", suffix, tcis[i]>>13)
		}
	}
	mac := func(m []byte) string { return formatMAC([6]byte(m[:6])) }
	l2 := func() {
		vlan()
		put("dl_src=%s", mac(src[:]))
		put("dl_dst=%s", mac(dst[:]))
	}
	csum := ""
	switch typ {
	case header.EtherTypeARP, header.EtherTypeRARP:
		var a [header.ARPLen]byte
		copy(a[:], rest)
		if len(rest) < header.ARPLen || !header.ARP(a[:]).IsEthernetIPv4() {
			a = [header.ARPLen]byte{}
		}
		parts = append(parts, map[uint16]string{header.EtherTypeARP: "arp", header.EtherTypeRARP: "rarp"}[typ])
		l2()
		put("arp_spa=%s", netip.AddrFrom4([4]byte(a[header.ARPSPA:])))
		put("arp_tpa=%s", netip.AddrFrom4([4]byte(a[header.ARPTPA:])))
		put("arp_op=%d", binary.BigEndian.Uint16(a[header.ARPOp:]))
		put("arp_sha=%s", mac(a[header.ARPSHA:]))
		put("arp_tha=%s", mac(a[header.ARPTHA:]))
	case header.EtherTypeIPv4:
		var proto, tos, ttl uint8
		var srcIP, dstIP [4]byte
		frag := "no"
		var l4 []byte
		if ip := header.IPv4(rest); len(ip) >= header.IPv4MinLen && ip[0]>>4 == 4 {
			ihl := ip.HeaderLen()
			tot := int(ip.TotalLen())
			if ihl >= header.IPv4MinLen && tot >= ihl && tot <= len(ip) {
				tos, ttl, proto = ip[header.IPv4TOS], ip[header.IPv4TTL], ip[header.IPv4Protocol]
				copy(srcIP[:], ip[header.IPv4Src:header.IPv4Src+4])
				copy(dstIP[:], ip[header.IPv4Dst:header.IPv4Dst+4])
				fo := binary.BigEndian.Uint16(ip[header.IPv4Flags:])
				switch {
				case fo&header.IPv4FragOffset != 0:
					frag = "later"
				case fo&header.IPv4FlagMF != 0:
					frag = "first"
				}
				l4 = ip[ihl:tot]
			}
		}
		name, l4parts, cs := formatL4(proto, l4, false, frag == "later")
		if name == "" {
			name = "ip"
		}
		parts = append(parts, name)
		l2()
		put("nw_src=%s", netip.AddrFrom4(srcIP))
		put("nw_dst=%s", netip.AddrFrom4(dstIP))
		if name == "ip" {
			put("nw_proto=%d", proto)
		}
		put("nw_tos=%d", tos&^3)
		put("nw_ecn=%d", tos&3)
		put("nw_ttl=%d", ttl)
		put("nw_frag=%s", frag)
		parts = append(parts, l4parts...)
		csum = cs
	case header.EtherTypeIPv6:
		var proto, tc, hlim uint8
		var label uint32
		var srcIP, dstIP [16]byte
		var l4 []byte
		frag := "no"
		if len(rest) >= header.IPv6Len && rest[0]>>4 == 6 {
			vtf := binary.BigEndian.Uint32(rest)
			tc, label = uint8(vtf>>20), vtf&0xfffff
			plen := int(binary.BigEndian.Uint16(rest[header.IPv6PayloadLen:]))
			proto, hlim = rest[header.IPv6NextHeader], rest[header.IPv6HopLimit]
			copy(srcIP[:], rest[header.IPv6Src:header.IPv6Dst])
			copy(dstIP[:], rest[header.IPv6Dst:header.IPv6Len])
			l4 = rest[header.IPv6Len:]
			if plen <= len(l4) {
				l4 = l4[:plen]
			}
			// Skip extension headers (hop-by-hop, routing, dest options, fragment).
			for len(l4) >= 8 {
				switch proto {
				case header.IPProtoHopByHop, header.IPProtoRouting, header.IPProtoDstOpts:
					n := (int(l4[1]) + 1) * 8
					if n > len(l4) {
						l4 = nil
						break
					}
					proto, l4 = l4[0], l4[n:]
					continue
				case header.IPProtoFragment:
					off := binary.BigEndian.Uint16(l4[2:])
					if off&0xfff8 != 0 {
						frag = "later"
					} else if off&1 != 0 {
						frag = "first"
					}
					proto, l4 = l4[0], l4[8:]
					continue
				}
				break
			}
		}
		name, l4parts, cs := formatL4(proto, l4, true, frag == "later")
		if name == "" {
			name = "ipv6"
		}
		parts = append(parts, name)
		l2()
		put("ipv6_src=%s", netip.AddrFrom16(srcIP))
		put("ipv6_dst=%s", netip.AddrFrom16(dstIP))
		put("ipv6_label=0x%05x", label)
		if name == "ipv6" {
			put("nw_proto=%d", proto)
		}
		put("nw_tos=%d", tc&^3)
		put("nw_ecn=%d", tc&3)
		put("nw_ttl=%d", hlim)
		put("nw_frag=%s", frag)
		parts = append(parts, l4parts...)
		csum = cs
	case header.EtherTypeMPLS, header.EtherTypeMPLSM:
		parts = append(parts, map[uint16]string{header.EtherTypeMPLS: "mpls", header.EtherTypeMPLSM: "mplsm"}[typ])
		l2()
		var lse uint32
		if len(rest) >= 4 {
			lse = binary.BigEndian.Uint32(rest)
		}
		put("mpls_label=%d", lse>>12)
		put("mpls_tc=%d", (lse>>9)&7)
		put("mpls_ttl=%d", lse&0xff)
		put("mpls_bos=%d", (lse>>8)&1)
	default:
		l2()
		put("dl_type=0x%04x", typ)
	}
	return strings.Join(parts, ",") + csum
}

var tcpFlagNames = []string{"fin", "syn", "rst", "psh", "ack", "urg", "ece", "cwr", "ns", "[200]", "[400]", "[800]"}

// formatL4 returns the protocol shorthand, the transport fields and the
// checksum suffix.
func formatL4(proto uint8, l4 []byte, v6, later bool) (name string, parts []string, csum string) {
	u16 := func(off int) uint16 {
		if len(l4) >= off+2 {
			return binary.BigEndian.Uint16(l4[off:])
		}
		return 0
	}
	suffix := ""
	if v6 {
		suffix = "6"
	}
	switch {
	case proto == header.IPProtoTCP:
		name = "tcp" + suffix
		var flags uint16
		if len(l4) >= header.TCPMinLen {
			flags = u16(12) & 0x0fff
		} else {
			l4 = nil
		}
		parts = []string{fmt.Sprintf("tp_src=%d", u16(0)), fmt.Sprintf("tp_dst=%d", u16(2))}
		var fl []string
		for i, n := range tcpFlagNames {
			if flags&(1<<i) != 0 {
				fl = append(fl, n)
			}
		}
		if len(fl) == 0 {
			fl = []string{"0"}
		}
		parts = append(parts, "tcp_flags="+strings.Join(fl, "|"))
		if len(l4) >= header.TCPMinLen {
			csum = fmt.Sprintf(" tcp_csum:%x", u16(header.TCPChecksum))
		}
	case proto == header.IPProtoUDP:
		name = "udp" + suffix
		if len(l4) < header.UDPLen {
			l4 = nil
		}
		parts = []string{fmt.Sprintf("tp_src=%d", u16(0)), fmt.Sprintf("tp_dst=%d", u16(2))}
		if len(l4) >= header.UDPLen {
			csum = fmt.Sprintf(" udp_csum:%x", u16(header.UDPChecksum))
		}
	case proto == header.IPProtoSCTP:
		name = "sctp" + suffix
		if len(l4) < 12 {
			l4 = nil
		}
		parts = []string{fmt.Sprintf("tp_src=%d", u16(0)), fmt.Sprintf("tp_dst=%d", u16(2))}
		if len(l4) >= 12 {
			csum = fmt.Sprintf(" sctp_csum:%x", binary.BigEndian.Uint32(l4[header.SCTPChecksum:]))
		}
	case proto == header.IPProtoICMP && !v6:
		name = "icmp"
		if len(l4) < 4 {
			l4 = nil
		}
		var t, c uint8
		if len(l4) >= 2 {
			t, c = l4[0], l4[1]
		}
		parts = []string{fmt.Sprintf("icmp_type=%d", t), fmt.Sprintf("icmp_code=%d", c)}
		if len(l4) >= 4 {
			csum = fmt.Sprintf(" icmp_csum:%x", u16(header.ICMPChecksum))
		}
	case proto == header.IPProtoICMPv6 && v6:
		name = "icmp6"
		if len(l4) < 4 {
			l4 = nil
		}
		var t, c uint8
		if len(l4) >= 2 {
			t, c = l4[0], l4[1]
		}
		parts = []string{fmt.Sprintf("icmp_type=%d", t), fmt.Sprintf("icmp_code=%d", c)}
		if (t == 135 || t == 136) && c == 0 && len(l4) >= 24 {
			parts = append(parts, "nd_target="+netip.AddrFrom16([16]byte(l4[8:24])).String())
			var sll, tll [6]byte
			for opt := l4[24:]; len(opt) >= 8 && opt[1] != 0 && int(opt[1])*8 <= len(opt); opt = opt[int(opt[1])*8:] {
				if opt[0] == 1 && opt[1] == 1 {
					copy(sll[:], opt[2:8])
				} else if opt[0] == 2 && opt[1] == 1 {
					copy(tll[:], opt[2:8])
				}
			}
			parts = append(parts, "nd_sll="+formatMAC(sll), "nd_tll="+formatMAC(tll))
		}
		if len(l4) >= 4 {
			csum = fmt.Sprintf(" icmp6_csum:%x", u16(header.ICMPChecksum))
		}
	}
	if later {
		parts = nil // a later fragment has no transport header
	}
	return name, parts, csum
}
