package flowsyntax

import "github.com/goko-net/goko/openflow"

// slot is a place in the parsed flow. Several names can write one slot
// (nw_src, ip_src and arp_spa all write slotNwSrc) and the last write wins,
// as in ovs-ofctl. The slot's final OXM field is chosen once the whole
// string is read (see resolve in match.go).
type slot int

const (
	slotNone slot = iota
	slotInPort
	slotInPhyPort
	slotMetadata
	slotTunnelID
	slotEthSrc
	slotEthDst
	slotEthType
	slotVlanVID
	slotVlanPCP
	slotNwSrc
	slotNwDst
	slotProto // ip_proto or arp_op
	slotDSCP
	slotECN
	slotIPv6Src
	slotIPv6Dst
	slotIPv6Label
	slotTpSrc // tcp/udp/sctp src, icmp type
	slotTpDst // tcp/udp/sctp dst, icmp code
	slotSHA   // arp_sha or nd_sll
	slotTHA   // arp_tha or nd_tll
	slotNDTarget
	slotMPLSLabel
	slotMPLSTC
	slotMPLSBOS
	slotPBBISID
	slotIPv6ExtHdr
	slotFilterProg // goko's experimenter field
	slotTunSrc     // the outer IPv4 addresses of a tunnel (NXM fields)
	slotTunDst
	slotCTReply // goko's experimenter field
	numSlots
)

// kind is the syntax of a field's value.
type kind int

const (
	kindUint    kind = iota // decimal or 0x hex, "/mask" if maskable
	kindPort                // port number or name
	kindMAC                 // xx:xx:xx:xx:xx:xx[/mask]
	kindIPv4                // a.b.c.d[/len or /mask]
	kindIPv6                // IPv6 address[/len or /mask]
	kindVlanTCI             // the 16-bit 802.1Q TCI, split into vlan_vid and vlan_pcp
	kindDlVlan              // 12-bit VLAN id, or 0xffff for "no VLAN"
	kindTOS                 // nw_tos: the IP TOS byte, stored as DSCP
)

// fieldDef describes one match field name.
type fieldDef struct {
	name     string // the name as accepted in flows
	slot     slot
	kind     kind
	bits     int  // width of kindUint values
	maskable bool // a "/mask" is allowed (OpenFlow 1.3 table 12)
	// oxm is the field written, or 0 when it depends on the flow's
	// dl_type and nw_proto (see resolve).
	oxm openflow.Field
}

// fieldDefs lists every match field name, OVS's names and aliases first,
// then the OpenFlow 1.3 OXM names OVS lacks.
var fieldDefs = []fieldDef{
	{name: "in_port", slot: slotInPort, kind: kindPort, oxm: openflow.OXMInPort},
	{name: "in_phy_port", slot: slotInPhyPort, kind: kindPort, oxm: openflow.OXMInPhyPort},
	{name: "metadata", slot: slotMetadata, bits: 64, maskable: true, oxm: openflow.OXMMetadata},
	{name: "tun_id", slot: slotTunnelID, bits: 64, maskable: true, oxm: openflow.OXMTunnelID},
	{name: "tunnel_id", slot: slotTunnelID, bits: 64, maskable: true, oxm: openflow.OXMTunnelID},
	{name: "dl_src", slot: slotEthSrc, kind: kindMAC, maskable: true, oxm: openflow.OXMEthSrc},
	{name: "eth_src", slot: slotEthSrc, kind: kindMAC, maskable: true, oxm: openflow.OXMEthSrc},
	{name: "dl_dst", slot: slotEthDst, kind: kindMAC, maskable: true, oxm: openflow.OXMEthDst},
	{name: "eth_dst", slot: slotEthDst, kind: kindMAC, maskable: true, oxm: openflow.OXMEthDst},
	{name: "dl_type", slot: slotEthType, bits: 16, oxm: openflow.OXMEthType},
	{name: "eth_type", slot: slotEthType, bits: 16, oxm: openflow.OXMEthType},
	{name: "dl_vlan", slot: slotVlanVID, kind: kindDlVlan, oxm: openflow.OXMVlanVID},
	{name: "vlan_vid", slot: slotVlanVID, bits: 13, maskable: true, oxm: openflow.OXMVlanVID},
	{name: "dl_vlan_pcp", slot: slotVlanPCP, bits: 3, oxm: openflow.OXMVlanPCP},
	{name: "vlan_pcp", slot: slotVlanPCP, bits: 3, oxm: openflow.OXMVlanPCP},
	{name: "vlan_tci", slot: slotVlanVID, kind: kindVlanTCI},
	{name: "nw_src", slot: slotNwSrc, kind: kindIPv4, maskable: true},
	{name: "ip_src", slot: slotNwSrc, kind: kindIPv4, maskable: true, oxm: openflow.OXMIPv4Src},
	{name: "ipv4_src", slot: slotNwSrc, kind: kindIPv4, maskable: true, oxm: openflow.OXMIPv4Src},
	{name: "nw_dst", slot: slotNwDst, kind: kindIPv4, maskable: true},
	{name: "ip_dst", slot: slotNwDst, kind: kindIPv4, maskable: true, oxm: openflow.OXMIPv4Dst},
	{name: "ipv4_dst", slot: slotNwDst, kind: kindIPv4, maskable: true, oxm: openflow.OXMIPv4Dst},
	{name: "nw_proto", slot: slotProto, bits: 8},
	{name: "ip_proto", slot: slotProto, bits: 8, oxm: openflow.OXMIPProto},
	{name: "nw_tos", slot: slotDSCP, kind: kindTOS, oxm: openflow.OXMIPDSCP},
	{name: "ip_dscp", slot: slotDSCP, bits: 6, oxm: openflow.OXMIPDSCP},
	{name: "nw_ecn", slot: slotECN, bits: 2, oxm: openflow.OXMIPECN},
	{name: "ip_ecn", slot: slotECN, bits: 2, oxm: openflow.OXMIPECN},
	{name: "tp_src", slot: slotTpSrc, bits: 16},
	{name: "tp_dst", slot: slotTpDst, bits: 16},
	{name: "tcp_src", slot: slotTpSrc, bits: 16, oxm: openflow.OXMTCPSrc},
	{name: "tcp_dst", slot: slotTpDst, bits: 16, oxm: openflow.OXMTCPDst},
	{name: "udp_src", slot: slotTpSrc, bits: 16, oxm: openflow.OXMUDPSrc},
	{name: "udp_dst", slot: slotTpDst, bits: 16, oxm: openflow.OXMUDPDst},
	{name: "sctp_src", slot: slotTpSrc, bits: 16, oxm: openflow.OXMSCTPSrc},
	{name: "sctp_dst", slot: slotTpDst, bits: 16, oxm: openflow.OXMSCTPDst},
	{name: "icmp_type", slot: slotTpSrc, bits: 8},
	{name: "icmp_code", slot: slotTpDst, bits: 8},
	{name: "icmpv4_type", slot: slotTpSrc, bits: 8, oxm: openflow.OXMICMPv4Type},
	{name: "icmpv4_code", slot: slotTpDst, bits: 8, oxm: openflow.OXMICMPv4Code},
	{name: "icmpv6_type", slot: slotTpSrc, bits: 8, oxm: openflow.OXMICMPv6Type},
	{name: "icmpv6_code", slot: slotTpDst, bits: 8, oxm: openflow.OXMICMPv6Code},
	{name: "arp_op", slot: slotProto, bits: 16, oxm: openflow.OXMARPOp},
	{name: "arp_spa", slot: slotNwSrc, kind: kindIPv4, maskable: true, oxm: openflow.OXMARPSPA},
	{name: "arp_tpa", slot: slotNwDst, kind: kindIPv4, maskable: true, oxm: openflow.OXMARPTPA},
	{name: "arp_sha", slot: slotSHA, kind: kindMAC, maskable: true, oxm: openflow.OXMARPSHA},
	{name: "arp_tha", slot: slotTHA, kind: kindMAC, maskable: true, oxm: openflow.OXMARPTHA},
	{name: "ipv6_src", slot: slotIPv6Src, kind: kindIPv6, maskable: true, oxm: openflow.OXMIPv6Src},
	{name: "ipv6_dst", slot: slotIPv6Dst, kind: kindIPv6, maskable: true, oxm: openflow.OXMIPv6Dst},
	{name: "ipv6_label", slot: slotIPv6Label, bits: 20, maskable: true, oxm: openflow.OXMIPv6FLabel},
	{name: "ipv6_flabel", slot: slotIPv6Label, bits: 20, maskable: true, oxm: openflow.OXMIPv6FLabel},
	{name: "nd_target", slot: slotNDTarget, kind: kindIPv6, oxm: openflow.OXMIPv6NDTarget},
	{name: "ipv6_nd_target", slot: slotNDTarget, kind: kindIPv6, oxm: openflow.OXMIPv6NDTarget},
	{name: "nd_sll", slot: slotSHA, kind: kindMAC, oxm: openflow.OXMIPv6NDSLL},
	{name: "ipv6_nd_sll", slot: slotSHA, kind: kindMAC, oxm: openflow.OXMIPv6NDSLL},
	{name: "nd_tll", slot: slotTHA, kind: kindMAC, oxm: openflow.OXMIPv6NDTLL},
	{name: "ipv6_nd_tll", slot: slotTHA, kind: kindMAC, oxm: openflow.OXMIPv6NDTLL},
	{name: "mpls_label", slot: slotMPLSLabel, bits: 20, oxm: openflow.OXMMPLSLabel},
	{name: "mpls_tc", slot: slotMPLSTC, bits: 3, oxm: openflow.OXMMPLSTC},
	{name: "mpls_bos", slot: slotMPLSBOS, bits: 1, oxm: openflow.OXMMPLSBOS},
	{name: "pbb_isid", slot: slotPBBISID, bits: 24, maskable: true, oxm: openflow.OXMPBBISID},
	{name: "ipv6_exthdr", slot: slotIPv6ExtHdr, bits: 9, maskable: true, oxm: openflow.OXMIPv6ExtHdr},
	// goko's experimenter OXM: the flow matches when eBPF program N
	// says so (docs/openflow-extensions.md).
	{name: "filter_prog", slot: slotFilterProg, bits: 32, oxm: FilterProgField},
	// Tenant networks (docs/openflow-extensions.md): the outer IPv4
	// addresses of a decapsulated packet, under Open vSwitch's NXM names,
	// and goko's connection-tracking match.
	{name: "tun_src", slot: slotTunSrc, kind: kindIPv4, maskable: true, oxm: openflow.OXMTunIPv4Src},
	{name: "tun_dst", slot: slotTunDst, kind: kindIPv4, maskable: true, oxm: openflow.OXMTunIPv4Dst},
	{name: "ct_reply", slot: slotCTReply, bits: 32, oxm: CTReplyField},
}

// FilterProgField is the OXM field of goko's filter_prog match (class
// 0xFFFF, experimenter GokoExperimenter).
var FilterProgField = openflow.MakeField(openflow.OXMClassExperimenter, openflow.GokoFieldFilterProg)

// CTReplyField is the OXM field of goko's ct_reply match (class 0xFFFF,
// experimenter GokoExperimenter).
var CTReplyField = openflow.MakeField(openflow.OXMClassExperimenter, openflow.GokoFieldCTReply)

var fieldByName = func() map[string]*fieldDef {
	m := make(map[string]*fieldDef, len(fieldDefs))
	for i := range fieldDefs {
		m[fieldDefs[i].name] = &fieldDefs[i]
	}
	return m
}()

// Ethernet types that have shorthands or prerequisites.
const (
	ethIPv4  = 0x0800
	ethARP   = 0x0806
	ethRARP  = 0x8035
	ethIPv6  = 0x86dd
	ethMPLS  = 0x8847
	ethMPLSM = 0x8848
	ethPBB   = 0x88e7
)

// IP protocol numbers that have shorthands or prerequisites.
const (
	protoICMP   = 1
	protoTCP    = 6
	protoUDP    = 17
	protoICMPv6 = 58
	protoSCTP   = 132
)

// shorthand is a protocol keyword such as "tcp": it sets dl_type and,
// when proto is non-zero, nw_proto.
type shorthand struct {
	ethType uint16
	proto   uint8
}

var shorthands = map[string]shorthand{
	"ip":    {ethIPv4, 0},
	"ipv4":  {ethIPv4, 0},
	"icmp":  {ethIPv4, protoICMP},
	"tcp":   {ethIPv4, protoTCP},
	"udp":   {ethIPv4, protoUDP},
	"sctp":  {ethIPv4, protoSCTP},
	"ipv6":  {ethIPv6, 0},
	"ip6":   {ethIPv6, 0},
	"icmp6": {ethIPv6, protoICMPv6},
	"tcp6":  {ethIPv6, protoTCP},
	"udp6":  {ethIPv6, protoUDP},
	"sctp6": {ethIPv6, protoSCTP},
	"arp":   {ethARP, 0},
	"rarp":  {ethRARP, 0},
	"mpls":  {ethMPLS, 0},
	"mplsm": {ethMPLSM, 0},
}

// SortFields returns the OXM fields a field name can stand for, for
// dump-flows --sort=NAME: "tp_src" is tcp_src, udp_src or sctp_src,
// "nw_src" is ipv4_src or arp_spa, and so on. ok is false for unknown
// names.
func SortFields(name string) (fields []openflow.Field, ok bool) {
	def, ok := fieldByName[name]
	if !ok {
		if sh, isShort := shorthands[name]; isShort {
			if sh.proto != 0 {
				return []openflow.Field{openflow.OXMIPProto}, true
			}
			return []openflow.Field{openflow.OXMEthType}, true
		}
		return nil, false
	}
	seen := map[openflow.Field]bool{}
	for _, d := range fieldDefs {
		if d.slot == def.slot && d.oxm != 0 && !seen[d.oxm] && (def.oxm == 0 || d.oxm == def.oxm || def.kind == kindVlanTCI) {
			seen[d.oxm] = true
			fields = append(fields, d.oxm)
		}
	}
	switch def.kind {
	case kindVlanTCI, kindDlVlan:
		fields = append(fields, openflow.OXMVlanVID)
	case kindTOS:
		fields = []openflow.Field{openflow.OXMIPDSCP}
	}
	return fields, true
}
