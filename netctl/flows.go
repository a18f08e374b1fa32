package netctl

// The flows of one switch.
//
// Table 0, admission. A packet enters a tenant network only here, and only
// if it proves who sent it:
//   - from a NIC's port: untagged, eth_src = the NIC's MAC, and IPv4 or
//     IPv6 with the source = one of its addresses (metadata = VNI, on to
//     table 10), or an ARP request with arp_sha = its MAC and arp_spa = one
//     of its addresses (on to table 5);
//   - from the tunnel port: tun_id = the VNI of a NIC on another switch,
//     tun_src = that switch's VTEP, eth_src = the NIC's MAC, IPv4 or IPv6
//     with the source = one of its addresses (metadata = VNI plus a "from
//     tunnel" bit 32, on to table 15). Its egress rules were applied at
//     its own host.
//
// Everything else (other MACs or addresses, other VNIs, tagged frames,
// broadcasts other than ARP requests, ARP replies, IPv6 neighbour
// discovery) matches nothing and is dropped: OpenFlow 1.3 drops on a table
// miss.
//
// Table 5, ARP responder. The controller knows every address of every
// VNI, so the switch answers ARP requests itself: for a request from NIC n
// for an address of NIC m of the same VNI, it rewrites the request into
// m's reply and sends it back out of n's port. Requests never cross the
// tunnel, and no NIC can answer for another.
//
// Table 10, the source NIC's egress rules (metadata VNI + eth_src): a
// packet an egress rule allows is committed to the connection table in the
// NIC's zone (ct_commit) and goes on to table 15; a reply within a
// connection a peer opened to the NIC (ct_reply in the NIC's ingress zone)
// goes on too. Nothing else leaves the NIC.
//
// Table 15, forwarding within the VNI (metadata): to a local NIC's MAC, on
// to table 20; to a remote NIC's MAC, set tun_id and tun_dst and output
// to the tunnel port, only for packets that did not come from the tunnel
// (bit 32 clear), so nothing is ever reflected between hosts.
//
// Table 20, the destination NIC's ingress rules (metadata VNI + eth_dst):
// a packet an ingress rule allows is committed in the NIC's ingress zone
// and output to the NIC's port; a reply within a connection the NIC opened
// (ct_reply in its zone) is output too. Nothing else reaches the NIC.
//
// Rules become flows in one of two ways, chosen per switch (Switch.SGMode):
//   - flows: one flow per (rule, remote prefix, destination port), at
//     priority 200; a port range costs one flow per port (OpenFlow 1.3
//     cannot mask transport ports), a remote group one flow per member
//     address;
//   - program: one flow per NIC and direction, matching filter_prog=P,
//     where P is the NIC's own instance of the security-group program
//     whose maps hold the rules (sgprog.go): a port range or a remote group
//     costs map entries, not flows, and a rule change is a map update.

import (
	"net"
	"net/netip"
	"sort"

	"github.com/goko-net/goko/ofclient"
	"github.com/goko-net/goko/openflow"
)

// Tables used by netctl.
const (
	TableAdmit   uint8 = 0
	TableARP     uint8 = 5
	TableEgress  uint8 = 10
	TableForward uint8 = 15
	TableSG      uint8 = 20
)

// Cookie marks every flow netctl installs; flows with another cookie are
// left alone.
const Cookie uint64 = 0x4e45_5443_0000_0001

const (
	prioNIC   = 100
	prioRule  = 200
	prioReply = 100

	vniMask        = 0xffffff
	fromTunnel     = uint64(1) << 32
	metadataMask   = vniMask | fromTunnel
	ethTypeIPv4    = 0x0800
	ethTypeIPv6    = 0x86dd
	ethTypeARP     = 0x0806
	arpOpRequest   = 1
	arpOpReply     = 2
	ipProtoICMP    = 1
	ipProtoTCP     = 6
	ipProtoUDP     = 17
	ipProtoICMPv6  = 58
	maxFlowsPerNIC = 200000

	// inZoneBit makes a NIC's ingress zone from its zone: connections
	// peers open to the NIC are committed there, apart from the ones the
	// NIC opens.
	inZoneBit = uint32(1) << 31
)

// Flow is one flow netctl wants on a switch.
type Flow struct {
	Table        uint8
	Priority     uint16
	Match        openflow.Match
	Instructions []openflow.Instruction
}

func mac(s string) [6]byte {
	var m [6]byte
	hw, _ := net.ParseMAC(s)
	copy(m[:], hw)
	return m
}

func addr(s string) netip.Addr { a, _ := netip.ParseAddr(s); return a }

func host(s string) netip.Prefix { a := addr(s); return netip.PrefixFrom(a, a.BitLen()) }

func setField(o openflow.OXM) openflow.Action { return openflow.ActionSetField{Field: o} }

func output(p uint32) openflow.Action { return openflow.ActionOutput{Port: p, MaxLen: 0xffff} }

func apply(acts ...openflow.Action) openflow.Instruction {
	return openflow.InstApplyActions{Actions: acts}
}

// ipMatch returns the eth_type and source or destination address fields
// of prefix p.
func ipMatch(p netip.Prefix, dst bool) []openflow.OXM {
	if p.Addr().Is4() {
		f := openflow.OXMIPv4Src
		if dst {
			f = openflow.OXMIPv4Dst
		}
		return []openflow.OXM{openflow.OXMEthTypeVal(ethTypeIPv4), openflow.OXMAddrVal(f, p)}
	}
	f := openflow.OXMIPv6Src
	if dst {
		f = openflow.OXMIPv6Dst
	}
	return []openflow.OXM{openflow.OXMEthTypeVal(ethTypeIPv6), openflow.OXMAddrVal(f, p)}
}

// inZone is the zone where connections that peers open to n are committed.
func (n *NIC) inZone() uint32 { return n.Zone | inZoneBit }

// Flows returns the flows switch name must have.
func (st *State) Flows(name string) []Flow {
	return st.index().flows(name)
}

// FlowsAll returns every switch's flows, computing the model's index once.
func (st *State) FlowsAll() map[string][]Flow {
	ix := st.index()
	out := make(map[string][]Flow, len(st.Switches))
	for name := range st.Switches {
		out[name] = ix.flows(name)
	}
	return out
}

// index is the model arranged for computing flows: NICs by switch, by VNI
// and by group, each sorted by id, so that one switch's flows cost time in
// proportion to what that switch carries and not to the whole model.
type index struct {
	st       *State
	bySwitch map[string][]*NIC
	byVNI    map[uint32][]*NIC
	members  map[string][]*NIC // group id -> member NICs
}

func (st *State) index() *index {
	ix := &index{st: st, bySwitch: map[string][]*NIC{}, byVNI: map[uint32][]*NIC{}, members: map[string][]*NIC{}}
	for _, n := range st.sortedNICs() {
		ix.bySwitch[n.Switch] = append(ix.bySwitch[n.Switch], n)
		if st.Switches[n.Switch] != nil {
			ix.byVNI[n.VNI] = append(ix.byVNI[n.VNI], n)
		}
		for _, g := range n.SGs {
			ix.members[g] = append(ix.members[g], n)
		}
	}
	return ix
}

func (ix *index) flows(name string) []Flow {
	st := ix.st
	sw := st.Switches[name]
	if sw == nil {
		return nil
	}
	var flows []Flow
	add := func(table uint8, prio uint16, m openflow.Match, ins ...openflow.Instruction) {
		flows = append(flows, Flow{Table: table, Priority: prio, Match: m, Instructions: ins})
	}
	local := ix.bySwitch[name]
	vnis := map[uint32]bool{}
	for _, n := range local {
		vnis[n.VNI] = true
	}
	var vniList []uint32
	for v := range vnis {
		vniList = append(vniList, v)
	}
	sort.Slice(vniList, func(i, j int) bool { return vniList[i] < vniList[j] })

	for _, n := range local {
		m := mac(n.MAC)
		for _, ip := range n.IPs {
			a := addr(ip)
			add(TableAdmit, prioNIC, openflow.NewMatch(append([]openflow.OXM{
				openflow.OXMInPortVal(n.Port), openflow.OXMMACVal(openflow.OXMEthSrc, m, nil),
				openflow.OXMVlanVIDVal(openflow.VIDNone)}, ipMatch(host(ip), false)...)...),
				openflow.InstWriteMetadata{Metadata: uint64(n.VNI), Mask: metadataMask},
				openflow.InstGotoTable{TableID: TableEgress})
			if !a.Is4() {
				continue
			}
			add(TableAdmit, prioNIC, openflow.NewMatch(
				openflow.OXMInPortVal(n.Port), openflow.OXMMACVal(openflow.OXMEthSrc, m, nil),
				openflow.OXMVlanVIDVal(openflow.VIDNone), openflow.OXMEthTypeVal(ethTypeARP),
				openflow.OXMUint(openflow.OXMARPOp, arpOpRequest),
				openflow.OXMAddrVal(openflow.OXMARPSPA, host(ip)), openflow.OXMMACVal(openflow.OXMARPSHA, m, nil)),
				openflow.InstGotoTable{TableID: TableARP})
			for _, o := range ix.byVNI[n.VNI] {
				if o == n {
					continue
				}
				om := mac(o.MAC)
				for _, oip := range o.IPs {
					if !addr(oip).Is4() {
						continue
					}
					add(TableARP, prioNIC, openflow.NewMatch(
						openflow.OXMInPortVal(n.Port), openflow.OXMEthTypeVal(ethTypeARP),
						openflow.OXMUint(openflow.OXMARPOp, arpOpRequest),
						openflow.OXMAddrVal(openflow.OXMARPSPA, host(ip)), openflow.OXMAddrVal(openflow.OXMARPTPA, host(oip))),
						apply(
							setField(openflow.OXMMACVal(openflow.OXMEthDst, m, nil)),
							setField(openflow.OXMMACVal(openflow.OXMEthSrc, om, nil)),
							setField(openflow.OXMUint(openflow.OXMARPOp, arpOpReply)),
							setField(openflow.OXMMACVal(openflow.OXMARPSHA, om, nil)),
							setField(openflow.OXMAddrVal(openflow.OXMARPSPA, host(oip))),
							setField(openflow.OXMMACVal(openflow.OXMARPTHA, m, nil)),
							setField(openflow.OXMAddrVal(openflow.OXMARPTPA, host(ip))),
							output(openflow.PortInPort)))
				}
			}
		}
		add(TableForward, prioNIC, openflow.NewMatch(
			openflow.OXMMetadataVal(uint64(n.VNI), vniMask), openflow.OXMMACVal(openflow.OXMEthDst, m, nil)),
			openflow.InstGotoTable{TableID: TableSG})
		ix.sgFlows(sw, n, add)
	}
	for _, v := range vniList {
		for _, o := range ix.byVNI[v] {
			if o.Switch == name {
				continue
			}
			vtep := addr(st.Switches[o.Switch].VTEP)
			om := mac(o.MAC)
			for _, ip := range o.IPs {
				add(TableAdmit, prioNIC, openflow.NewMatch(append([]openflow.OXM{
					openflow.OXMInPortVal(sw.TunnelPort), openflow.OXMUint(openflow.OXMTunnelID, uint64(o.VNI)),
					openflow.OXMTunIPv4(openflow.OXMTunIPv4Src, vtep),
					openflow.OXMMACVal(openflow.OXMEthSrc, om, nil)}, ipMatch(host(ip), false)...)...),
					openflow.InstWriteMetadata{Metadata: uint64(o.VNI) | fromTunnel, Mask: metadataMask},
					openflow.InstGotoTable{TableID: TableForward})
			}
			add(TableForward, prioNIC, openflow.NewMatch(
				openflow.OXMMetadataVal(uint64(o.VNI), metadataMask), openflow.OXMMACVal(openflow.OXMEthDst, om, nil)),
				apply(setField(openflow.OXMUint(openflow.OXMTunnelID, uint64(o.VNI))),
					setField(openflow.OXMTunIPv4(openflow.OXMTunIPv4Dst, vtep)),
					output(sw.TunnelPort)))
		}
	}
	return flows
}

// rules returns the union of the rules of n's groups, deduplicated, in a
// stable order.
func (st *State) rules(n *NIC) []Rule {
	seen := map[Rule]bool{}
	var out []Rule
	for _, id := range n.SGs {
		g := st.SGs[id]
		if g == nil {
			continue
		}
		for _, r := range g.Rules {
			if !seen[r] {
				seen[r] = true
				out = append(out, r)
			}
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].String() < out[j].String() })
	return out
}

// remotes returns the prefixes a rule admits as its remote side: its CIDR,
// or the addresses (of the rule's family) of its group's members.
func (ix *index) remotes(r Rule) []netip.Prefix {
	if r.CIDR != "" {
		return []netip.Prefix{netip.MustParsePrefix(r.CIDR)}
	}
	set := map[netip.Prefix]bool{}
	for _, m := range ix.members[r.Members] {
		for _, ip := range m.IPs {
			if a := addr(ip); a.Is6() == r.IPv6() {
				set[host(ip)] = true
			}
		}
	}
	out := make([]netip.Prefix, 0, len(set))
	for p := range set {
		out = append(out, p)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Addr().Less(out[j].Addr()) })
	return out
}

// ruleFields returns the protocol, port and ICMP fields of r.
func ruleFields(r Rule, port uint16) []openflow.OXM {
	var f []openflow.OXM
	proto := r.protoNumber()
	if proto != 0 {
		f = append(f, openflow.OXMIPProtoVal(proto))
	}
	if port != 0 {
		pf := openflow.OXMTCPDst
		if proto == ipProtoUDP {
			pf = openflow.OXMUDPDst
		}
		f = append(f, openflow.OXMPortVal(pf, port))
	}
	if typ, code := r.icmp(); typ >= 0 {
		tf, cf := openflow.OXMICMPv4Type, openflow.OXMICMPv4Code
		if r.IPv6() {
			tf, cf = openflow.OXMICMPv6Type, openflow.OXMICMPv6Code
		}
		f = append(f, openflow.OXMUint(tf, uint64(typ)))
		if code >= 0 {
			f = append(f, openflow.OXMUint(cf, uint64(code)))
		}
	}
	return f
}

// sgFlows adds the egress (table 10) and ingress (table 20) flows of
// local NIC n.
func (ix *index) sgFlows(sw *Switch, n *NIC, add func(uint8, uint16, openflow.Match, ...openflow.Instruction)) {
	m := mac(n.MAC)
	base := func(egress bool) []openflow.OXM {
		f := openflow.OXMEthDst
		if egress {
			f = openflow.OXMEthSrc
		}
		return []openflow.OXM{openflow.OXMMetadataVal(uint64(n.VNI), vniMask), openflow.OXMMACVal(f, m, nil)}
	}
	allow := func(egress bool) []openflow.Instruction {
		if egress {
			return []openflow.Instruction{apply(openflow.GokoCTCommit(n.Zone)), openflow.InstGotoTable{TableID: TableForward}}
		}
		return []openflow.Instruction{apply(openflow.GokoCTCommit(n.inZone()), output(n.Port))}
	}
	pass := func(egress bool) []openflow.Instruction {
		if egress {
			return []openflow.Instruction{openflow.InstGotoTable{TableID: TableForward}}
		}
		return []openflow.Instruction{apply(output(n.Port))}
	}
	if sw.SGMode == SGModeProgram {
		for _, egress := range []bool{true, false} {
			table := TableSG
			if egress {
				table = TableEgress
			}
			add(table, prioRule, openflow.NewMatch(append(base(egress), openflow.OXMFilterProg(ProgID(n)))...), allow(egress)...)
		}
	} else {
		count := 0
		for _, r := range ix.st.rules(n) {
			table := TableSG
			if r.Egress() {
				table = TableEgress
			}
			for _, remote := range ix.remotes(r) {
				ports := []uint16{0}
				if r.PortMin != 0 {
					ports = ports[:0]
					for p := uint32(r.PortMin); p <= uint32(r.PortMax); p++ {
						ports = append(ports, uint16(p))
					}
				}
				for _, port := range ports {
					f := append(base(r.Egress()), ipMatch(remote, r.Egress())...)
					if remote.Bits() == 0 { // any address: the ethertype is enough
						f = f[:len(f)-1]
					}
					f = append(f, ruleFields(r, port)...)
					if count++; count > maxFlowsPerNIC {
						break
					}
					add(table, prioRule, openflow.NewMatch(f...), allow(r.Egress())...)
				}
			}
		}
	}
	// Replies: to the NIC within connections it opened, from the NIC
	// within connections peers opened to it (IPv4: the connection table
	// tracks IPv4 only).
	add(TableSG, prioReply, openflow.NewMatch(append(base(false), openflow.OXMEthTypeVal(ethTypeIPv4), openflow.OXMCTReply(n.Zone))...), pass(false)...)
	add(TableEgress, prioReply, openflow.NewMatch(append(base(true), openflow.OXMEthTypeVal(ethTypeIPv4), openflow.OXMCTReply(n.inZone()))...), pass(true)...)
}

// clientFlow is f as the flow diff sees it, with netctl's cookie.
func (f *Flow) clientFlow() ofclient.Flow {
	return ofclient.Flow{Table: f.Table, Priority: f.Priority, Match: f.Match, Cookie: Cookie, Instructions: f.Instructions}
}
