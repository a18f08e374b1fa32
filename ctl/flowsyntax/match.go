package flowsyntax

import (
	"bytes"
	"errors"
	"fmt"
	"strings"

	"github.com/goko-net/goko/openflow"
)

// setting is one value written to a slot.
type setting struct {
	def   *fieldDef
	name  string // as written, or the shorthand that wrote it
	raw   string // the value as written, for error messages
	u     uint64 // integer value (kindUint, kindPort, ...)
	umask uint64 // integer mask; all ones of the width when unmasked
	b     []byte // address value (kindMAC, kindIPv4, kindIPv6)
	bmask []byte // address mask, nil when unmasked
}

// matchBuilder collects the settings of a flow string.
type matchBuilder struct {
	slots [numSlots]*setting
	names map[string]uint32
	raw   []openflow.OXM // fields given as oxm(...)=VALUE that have no name
}

// Errors carry the field name, as in "nw_dst: prefix length 33 out of range".
func fieldErr(name string, err error) error {
	return fmt.Errorf("%s: %w", name, err)
}

// add parses one "name=value" match item. It returns false if name is not
// a match field or protocol shorthand.
func (mb *matchBuilder) add(name, value string) (bool, error) {
	if sh, ok := shorthands[name]; ok {
		if value != "" {
			return true, fmt.Errorf("%s: a protocol keyword takes no value", name)
		}
		mb.slots[slotEthType] = &setting{def: fieldByName["dl_type"], name: name, u: uint64(sh.ethType), umask: 0xffff}
		if sh.proto != 0 {
			mb.slots[slotProto] = &setting{def: fieldByName["ip_proto"], name: name, u: uint64(sh.proto), umask: 0xff}
		}
		return true, nil
	}
	def, ok := fieldByName[name]
	if !ok {
		if strings.HasPrefix(name, "oxm(") {
			return true, mb.addGeneric(name, value)
		}
		return false, nil
	}
	if value == "" {
		return true, fmt.Errorf("field %s missing value", name)
	}
	s := &setting{def: def, name: name, raw: value}
	var err error
	switch def.kind {
	case kindUint:
		var hasMask bool
		s.u, s.umask, hasMask, err = parseUintMasked(value, def.bits)
		if err == nil && hasMask && !def.maskable {
			err = fmt.Errorf("OpenFlow 1.3 does not allow a mask on %s", name)
		}
	case kindPort:
		var p uint32
		p, err = parsePort(value, mb.names)
		s.u, s.umask = uint64(p), 0xffffffff
		if err == nil && (p == openflow.PortAny || p == openflow.PortTable || p == openflow.PortAll ||
			p == openflow.PortFlood || p == openflow.PortNormal || p == openflow.PortInPort) {
			err = fmt.Errorf("%s is not a valid input port", value)
		}
	case kindMAC:
		var mac [6]byte
		var mask *[6]byte
		mac, mask, err = parseMACMasked(value)
		if err == nil && mask != nil && !def.maskable {
			err = fmt.Errorf("OpenFlow 1.3 does not allow a mask on %s", name)
		}
		s.b = mac[:]
		if mask != nil {
			s.bmask = mask[:]
			for i := range s.b {
				s.b[i] &= s.bmask[i]
			}
		}
	case kindIPv4, kindIPv6:
		bits := 32
		if def.kind == kindIPv6 {
			bits = 128
		}
		s.b, s.bmask, err = parseAddrMasked(value, bits)
		if err == nil && s.bmask != nil && !def.maskable {
			err = fmt.Errorf("OpenFlow 1.3 does not allow a mask on %s", name)
		}
	case kindTOS:
		// OVS keeps only the DSCP bits of nw_tos; so do we.
		var v uint64
		v, err = parseUint(value, 8)
		s.def, s.u, s.umask = fieldByName["ip_dscp"], v>>2, 0x3f
	case kindDlVlan:
		var v uint64
		v, err = parseUint(value, 16)
		switch {
		case err != nil:
		case v == 0xffff: // OpenFlow 1.0's "no VLAN"
			s.u = uint64(openflow.VIDNone)
		case v < 4096:
			s.u = uint64(openflow.VIDPresent) | v
		default:
			err = fmt.Errorf("%d is not a VLAN id (0 to 4095, or 0xffff for no VLAN)", v)
		}
		s.def, s.umask = fieldByName["vlan_vid"], 0x1fff
	case kindVlanTCI:
		return true, mb.addTCI(name, value)
	}
	if err != nil {
		return true, fieldErr(name, err)
	}
	mb.slots[def.slot] = s
	return true, nil
}

// addTCI splits an 802.1Q TCI value and mask, as OVS's vlan_tci, into the
// OpenFlow 1.3 fields vlan_vid (with OFPVID_PRESENT = the CFI bit) and
// vlan_pcp.
func (mb *matchBuilder) addTCI(name, value string) error {
	v, m, _, err := parseUintMasked(value, 16)
	if err != nil {
		return fieldErr(name, err)
	}
	vidMask, pcpMask := m&0x1fff, m&0xe000
	if pcpMask != 0 && pcpMask != 0xe000 {
		return fieldErr(name, errors.New("OpenFlow 1.3 cannot match part of the priority (PCP) bits"))
	}
	mb.slots[slotVlanVID], mb.slots[slotVlanPCP] = nil, nil
	if vidMask != 0 {
		mb.slots[slotVlanVID] = &setting{def: fieldByName["vlan_vid"], name: name, raw: value, u: v & vidMask, umask: vidMask}
	}
	if pcpMask != 0 && vidMask&uint64(openflow.VIDPresent) != 0 && v&uint64(openflow.VIDPresent) == 0 {
		// "No VLAN" (e.g. vlan_tci=0): there is no priority to match.
		if v&0xe000 != 0 {
			return fieldErr(name, errors.New("a priority (PCP) needs the VLAN-present bit 0x1000"))
		}
		pcpMask = 0
	}
	if pcpMask != 0 {
		mb.slots[slotVlanPCP] = &setting{def: fieldByName["vlan_pcp"], name: name, raw: value, u: v >> 13, umask: 7}
	}
	return nil
}

// ctx is what the prerequisites of a field are checked against.
type ctx struct {
	ethType  uint16
	hasEth   bool
	proto    uint8 // ip_proto, when the flow is IP and has one
	hasProto bool
}

func (c *ctx) isIP() bool   { return c.hasEth && (c.ethType == ethIPv4 || c.ethType == ethIPv6) }
func (c *ctx) isIPv4() bool { return c.hasEth && c.ethType == ethIPv4 }
func (c *ctx) isIPv6() bool { return c.hasEth && c.ethType == ethIPv6 }
func (c *ctx) isARP() bool  { return c.hasEth && (c.ethType == ethARP || c.ethType == ethRARP) }
func (c *ctx) isMPLS() bool { return c.hasEth && (c.ethType == ethMPLS || c.ethType == ethMPLSM) }

// need builds the error for a missing prerequisite: what is missing and
// an example of how to write the flow.
func need(s *setting, what, example string) error {
	v := s.raw
	if v == "" {
		v = "..."
	}
	return fmt.Errorf("%s needs %s (use %s)", s.name, what, strings.ReplaceAll(example, "%v", s.name+"="+v))
}

// resolve picks the OXM field of each setting now that dl_type and
// nw_proto are known, checking prerequisites on the way.
func (mb *matchBuilder) resolve(s *setting, c *ctx) (openflow.Field, error) {
	d := s.def
	switch s.def.slot {
	case slotProto:
		switch {
		case d.name == "arp_op" || (d.name == "nw_proto" && c.isARP()):
			if !c.isARP() {
				return 0, need(s, "dl_type=0x0806", `"arp,%v"`)
			}
			return openflow.OXMARPOp, nil
		case !c.isIP() && s.raw == "":
			// Written by a shorthand ("tcp") whose dl_type was overridden.
			return 0, fmt.Errorf("%s needs dl_type=0x0800 or 0x86dd, not 0x%04x", s.name, c.ethType)
		case !c.isIP():
			return 0, need(s, "dl_type=0x0800 or 0x86dd", `"ip,%v" or "ipv6,%v"`)
		}
		return openflow.OXMIPProto, nil
	case slotDSCP, slotECN:
		if !c.isIP() {
			return 0, need(s, "dl_type=0x0800 or 0x86dd", `"ip,%v" or "ipv6,%v"`)
		}
	case slotNwSrc, slotNwDst:
		if d.oxm == openflow.OXMARPSPA || d.oxm == openflow.OXMARPTPA {
			if !c.isARP() {
				return 0, need(s, "dl_type=0x0806", `"arp,%v"`)
			}
			return d.oxm, nil
		}
		if c.isARP() && d.oxm == 0 {
			if s.def.slot == slotNwSrc {
				return openflow.OXMARPSPA, nil
			}
			return openflow.OXMARPTPA, nil
		}
		if !c.isIPv4() {
			if c.isIPv6() {
				return 0, fmt.Errorf("%s is an IPv4 field; use ipv6_%s for IPv6", s.name, map[slot]string{slotNwSrc: "src", slotNwDst: "dst"}[s.def.slot])
			}
			if d.oxm == 0 {
				return 0, need(s, "dl_type=0x0800 or 0x0806", `"ip,%v" or "arp,%v"`)
			}
			return 0, need(s, "dl_type=0x0800", `"ip,%v"`)
		}
		if s.def.slot == slotNwSrc {
			return openflow.OXMIPv4Src, nil
		}
		return openflow.OXMIPv4Dst, nil
	case slotIPv6Src, slotIPv6Dst, slotIPv6Label, slotIPv6ExtHdr:
		if !c.isIPv6() {
			return 0, need(s, "dl_type=0x86dd", `"ipv6,%v"`)
		}
	case slotTpSrc, slotTpDst:
		return mb.resolveTp(s, c)
	case slotSHA, slotTHA:
		if d.oxm == openflow.OXMARPSHA || d.oxm == openflow.OXMARPTHA {
			if !c.isARP() {
				return 0, need(s, "dl_type=0x0806", `"arp,%v"`)
			}
			return d.oxm, nil
		}
		want := uint64(135)
		if d.oxm == openflow.OXMIPv6NDTLL {
			want = 136
		}
		if !mb.icmp6Type(c, want) {
			return 0, need(s, fmt.Sprintf("icmp6 with icmp_type=%d", want), fmt.Sprintf(`"icmp6,icmp_type=%d,%%v"`, want))
		}
	case slotNDTarget:
		if !mb.icmp6Type(c, 135) && !mb.icmp6Type(c, 136) {
			return 0, need(s, "icmp6 with icmp_type=135 or 136", `"icmp6,icmp_type=135,%v"`)
		}
	case slotMPLSLabel, slotMPLSTC, slotMPLSBOS:
		if !c.isMPLS() {
			return 0, need(s, "dl_type=0x8847 or 0x8848", `"mpls,%v"`)
		}
	case slotPBBISID:
		if !c.hasEth || c.ethType != ethPBB {
			return 0, need(s, "dl_type=0x88e7", `"dl_type=0x88e7,%v"`)
		}
	case slotInPhyPort:
		if mb.slots[slotInPort] == nil {
			return 0, need(s, "in_port", `"in_port=1,%v"`)
		}
	}
	return d.oxm, nil
}

// icmp6Type reports whether the flow is ICMPv6 with type exactly want.
func (mb *matchBuilder) icmp6Type(c *ctx, want uint64) bool {
	t := mb.slots[slotTpSrc]
	return c.isIPv6() && c.hasProto && c.proto == protoICMPv6 && t != nil &&
		t.umask == ones(t.def.bits) && t.u == want
}

// resolveTp resolves the transport slots: tp_src is tcp_src, udp_src or
// sctp_src by nw_proto, icmp_type is icmpv4_type or icmpv6_type, and the
// protocol-specific names check that nw_proto agrees.
func (mb *matchBuilder) resolveTp(s *setting, c *ctx) (openflow.Field, error) {
	src := s.def.slot == slotTpSrc
	d := s.def
	pick := func(a, b openflow.Field) openflow.Field {
		if src {
			return a
		}
		return b
	}
	switch d.name {
	case "tp_src", "tp_dst":
		if c.isIP() && c.hasProto {
			switch c.proto {
			case protoTCP:
				return pick(openflow.OXMTCPSrc, openflow.OXMTCPDst), nil
			case protoUDP:
				return pick(openflow.OXMUDPSrc, openflow.OXMUDPDst), nil
			case protoSCTP:
				return pick(openflow.OXMSCTPSrc, openflow.OXMSCTPDst), nil
			}
		}
		return 0, need(s, "ip_proto=6, 17 or 132", `"tcp,%v", "udp,%v" or "sctp,%v"`)
	case "icmp_type", "icmp_code":
		if c.isIPv4() && c.hasProto && c.proto == protoICMP {
			return pick(openflow.OXMICMPv4Type, openflow.OXMICMPv4Code), nil
		}
		if c.isIPv6() && c.hasProto && c.proto == protoICMPv6 {
			return pick(openflow.OXMICMPv6Type, openflow.OXMICMPv6Code), nil
		}
		return 0, need(s, "ip_proto=1 (IPv4) or 58 (IPv6)", `"icmp,%v" or "icmp6,%v"`)
	}
	// A protocol-specific name: tcp_dst, udp_src, icmpv6_type, ...
	var eth, proto = uint16(ethIPv4), uint8(0)
	var short string
	generic := "tp_" + map[bool]string{true: "src", false: "dst"}[src]
	switch d.oxm {
	case openflow.OXMTCPSrc, openflow.OXMTCPDst:
		proto, short = protoTCP, "tcp"
	case openflow.OXMUDPSrc, openflow.OXMUDPDst:
		proto, short = protoUDP, "udp"
	case openflow.OXMSCTPSrc, openflow.OXMSCTPDst:
		proto, short = protoSCTP, "sctp"
	case openflow.OXMICMPv4Type, openflow.OXMICMPv4Code:
		proto, short = protoICMP, "icmp"
		generic = "icmp_" + map[bool]string{true: "type", false: "code"}[src]
	case openflow.OXMICMPv6Type, openflow.OXMICMPv6Code:
		eth, proto, short = ethIPv6, protoICMPv6, "icmp6"
		generic = "icmp_" + map[bool]string{true: "type", false: "code"}[src]
	}
	okEth := c.isIP()
	if proto == protoICMP {
		okEth = c.isIPv4()
	} else if eth == ethIPv6 {
		okEth = c.isIPv6()
	}
	if !okEth || !c.hasProto || c.proto != proto {
		return 0, fmt.Errorf("%s needs ip_proto=%d (use \"%s,%s=%s\")", s.name, proto, short, generic, s.raw)
	}
	return d.oxm, nil
}

// slotOrder is the order OVS (nx_put_raw) writes OXM fields in; resolved
// fields are emitted in this order so that ofctl sends what ovs-ofctl
// sends.
var oxmOrder = []openflow.Field{
	openflow.OXMInPort, openflow.OXMInPhyPort,
	openflow.OXMEthSrc, openflow.OXMEthDst, openflow.OXMEthType,
	openflow.OXMVlanVID, openflow.OXMVlanPCP,
	openflow.OXMMPLSTC, openflow.OXMMPLSBOS, openflow.OXMMPLSLabel, openflow.OXMPBBISID,
	openflow.OXMIPv4Src, openflow.OXMIPv4Dst, openflow.OXMIPv6Src, openflow.OXMIPv6Dst,
	openflow.OXMIPDSCP, openflow.OXMIPECN, openflow.OXMIPv6FLabel, openflow.OXMIPProto,
	openflow.OXMTCPSrc, openflow.OXMTCPDst, openflow.OXMUDPSrc, openflow.OXMUDPDst,
	openflow.OXMSCTPSrc, openflow.OXMSCTPDst,
	openflow.OXMICMPv4Type, openflow.OXMICMPv4Code, openflow.OXMICMPv6Type, openflow.OXMICMPv6Code,
	openflow.OXMIPv6NDTarget, openflow.OXMIPv6NDSLL, openflow.OXMIPv6NDTLL, openflow.OXMIPv6ExtHdr,
	openflow.OXMARPOp, openflow.OXMARPSPA, openflow.OXMARPTPA, openflow.OXMARPSHA, openflow.OXMARPTHA,
	openflow.OXMTunnelID, openflow.OXMTunIPv4Src, openflow.OXMTunIPv4Dst, openflow.OXMMetadata,
}

// build resolves every setting and returns the match.
func (mb *matchBuilder) build() (openflow.Match, error) {
	var c ctx
	if s := mb.slots[slotEthType]; s != nil {
		c.ethType, c.hasEth = uint16(s.u), true
	}
	if s := mb.slots[slotProto]; s != nil && c.isIP() {
		c.proto, c.hasProto = uint8(s.u), true
	}
	// vlan_pcp needs vlan_vid with OFPVID_PRESENT. Like OVS, match
	// "any VLAN" when the flow gives a PCP but no VLAN id.
	if p := mb.slots[slotVlanPCP]; p != nil {
		v := mb.slots[slotVlanVID]
		if v == nil {
			mb.slots[slotVlanVID] = &setting{def: fieldByName["vlan_vid"], name: p.name,
				u: uint64(openflow.VIDPresent), umask: uint64(openflow.VIDPresent)}
		} else if v.umask&uint64(openflow.VIDPresent) == 0 || v.u&uint64(openflow.VIDPresent) == 0 {
			return openflow.Match{}, fmt.Errorf("%s needs a VLAN: it cannot be combined with %s=%s (use \"dl_vlan=N,%s=%s\")", p.name, v.name, v.raw, p.name, p.raw)
		}
	}
	fields := make(map[openflow.Field]openflow.OXM)
	for sl := slot(1); sl < numSlots; sl++ {
		s := mb.slots[sl]
		if s == nil {
			continue
		}
		f, err := mb.resolve(s, &c)
		if err != nil {
			return openflow.Match{}, err
		}
		if sl == slotFilterProg || sl == slotCTReply {
			continue // an experimenter OXM, appended last
		}
		o, keep := s.oxm(f)
		if keep {
			fields[f] = o
		}
	}
	var m openflow.Match
	for _, f := range oxmOrder {
		if o, ok := fields[f]; ok {
			m.Fields = append(m.Fields, o)
		}
	}
	if s := mb.slots[slotFilterProg]; s != nil {
		m.Fields = append(m.Fields, openflow.OXMFilterProg(uint32(s.u)))
	}
	if s := mb.slots[slotCTReply]; s != nil {
		m.Fields = append(m.Fields, openflow.OXMCTReply(uint32(s.u)))
	}
	m.Fields = append(m.Fields, mb.raw...)
	return m, nil
}

// oxm encodes a setting as field f. keep is false when the mask is all
// zeros, which matches everything: like OVS, such a field is left out.
func (s *setting) oxm(f openflow.Field) (o openflow.OXM, keep bool) {
	if s.b != nil {
		if s.bmask != nil && bytes.Count(s.bmask, []byte{0}) == len(s.bmask) {
			return o, false
		}
		o = openflow.OXM{Field: f, Value: append([]byte(nil), s.b...)}
		if s.bmask != nil {
			o.Mask = append([]byte(nil), s.bmask...)
		}
		return o, true
	}
	if s.umask == 0 {
		return o, false
	}
	if !f.Maskable() || s.umask&ones(oxmBits(f)) == ones(oxmBits(f)) {
		return openflow.OXMUint(f, s.u), true
	}
	return openflow.OXMUintMasked(f, s.u, s.umask), true
}

// oxmBits is the number of significant bits of a basic OXM field.
func oxmBits(f openflow.Field) int {
	switch f {
	case openflow.OXMVlanVID:
		return 13
	case openflow.OXMVlanPCP, openflow.OXMMPLSTC:
		return 3
	case openflow.OXMIPDSCP:
		return 6
	case openflow.OXMIPECN:
		return 2
	case openflow.OXMIPv6FLabel, openflow.OXMMPLSLabel:
		return 20
	case openflow.OXMMPLSBOS:
		return 1
	case openflow.OXMIPv6ExtHdr:
		return 9
	}
	return f.Size() * 8
}
