package netctl

// The flows of one switch.
//
// Table 0, admission. A packet enters a tenant network only here, and only
// if it proves who sent it:
//   - from a NIC's port: untagged, eth_src = the NIC's MAC, and IPv4 with
//     ipv4_src = one of its addresses (then ct_commit in the NIC's zone,
//     metadata = VNI, on to table 10), or an ARP request with arp_sha =
//     its MAC and arp_spa = one of its addresses (on to table 5);
//   - from the tunnel port: tun_id = the VNI of a NIC on another switch,
//     tun_src = that switch's VTEP, eth_src = the NIC's MAC, IPv4 with
//     ipv4_src = one of its addresses (metadata = VNI plus a "from tunnel"
//     bit 32, on to table 10).
//
// Everything else (other MACs or addresses, other VNIs, tagged frames,
// IPv6, broadcasts other than ARP requests, ARP replies) matches nothing
// and is dropped: OpenFlow 1.3 drops on a table miss.
//
// Table 5, ARP responder. The controller knows every address of every
// VNI, so the switch answers ARP requests itself: for a request from NIC n
// for an address of NIC m of the same VNI, it rewrites the request into
// m's reply and sends it back out of n's port. Requests never cross the
// tunnel, and no NIC can answer for another.
//
// Table 10, forwarding within the VNI (metadata): to a local NIC's MAC, on
// to table 20; to a remote NIC's MAC, set tun_id and tun_dst and output
// to the tunnel port, only for packets that did not come from the tunnel
// (bit 32 clear), so nothing is ever reflected between hosts.
//
// Table 20, the destination NIC's security groups: one flow per (rule,
// source, port) that outputs to the NIC's port, then a lower-priority flow
// with ct_reply in the NIC's own zone that lets replies of connections the
// NIC opened through. Nothing else reaches the NIC.

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
	TableForward uint8 = 10
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
	ethTypeARP     = 0x0806
	arpOpRequest   = 1
	arpOpReply     = 2
	ipProtoTCP     = 6
	ipProtoUDP     = 17
	maxFlowsPerNIC = 200000
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

func host(s string) netip.Prefix { a := addr(s); return netip.PrefixFrom(a, 32) }

func setField(o openflow.OXM) openflow.Action { return openflow.ActionSetField{Field: o} }

func output(p uint32) openflow.Action { return openflow.ActionOutput{Port: p, MaxLen: 0xffff} }

func apply(acts ...openflow.Action) openflow.Instruction {
	return openflow.InstApplyActions{Actions: acts}
}

// Flows returns the flows switch name must have.
func (st *State) Flows(name string) []Flow {
	sw := st.Switches[name]
	if sw == nil {
		return nil
	}
	var flows []Flow
	add := func(table uint8, prio uint16, m openflow.Match, ins ...openflow.Instruction) {
		flows = append(flows, Flow{Table: table, Priority: prio, Match: m, Instructions: ins})
	}
	nics := st.sortedNICs()
	vnis := map[uint32]bool{}
	for _, n := range nics {
		if n.Switch == name {
			vnis[n.VNI] = true
		}
	}
	var local, remote []*NIC
	for _, n := range nics {
		switch {
		case n.Switch == name:
			local = append(local, n)
		case vnis[n.VNI] && st.Switches[n.Switch] != nil:
			remote = append(remote, n)
		}
	}
	byVNI := map[uint32][]*NIC{}
	for _, n := range append(append([]*NIC(nil), local...), remote...) {
		byVNI[n.VNI] = append(byVNI[n.VNI], n)
	}

	for _, n := range local {
		m := mac(n.MAC)
		for _, ip := range n.IPs {
			add(TableAdmit, prioNIC, openflow.NewMatch(
				openflow.OXMInPortVal(n.Port), openflow.OXMMACVal(openflow.OXMEthSrc, m, nil),
				openflow.OXMVlanVIDVal(openflow.VIDNone), openflow.OXMEthTypeVal(ethTypeIPv4),
				openflow.OXMAddrVal(openflow.OXMIPv4Src, host(ip))),
				apply(openflow.GokoCTCommit(n.Zone)),
				openflow.InstWriteMetadata{Metadata: uint64(n.VNI), Mask: metadataMask},
				openflow.InstGotoTable{TableID: TableForward})
			add(TableAdmit, prioNIC, openflow.NewMatch(
				openflow.OXMInPortVal(n.Port), openflow.OXMMACVal(openflow.OXMEthSrc, m, nil),
				openflow.OXMVlanVIDVal(openflow.VIDNone), openflow.OXMEthTypeVal(ethTypeARP),
				openflow.OXMUint(openflow.OXMARPOp, arpOpRequest),
				openflow.OXMAddrVal(openflow.OXMARPSPA, host(ip)), openflow.OXMMACVal(openflow.OXMARPSHA, m, nil)),
				openflow.InstGotoTable{TableID: TableARP})
			for _, o := range byVNI[n.VNI] {
				if o == n {
					continue
				}
				om := mac(o.MAC)
				for _, oip := range o.IPs {
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
		st.sgFlows(n, add)
	}
	for _, o := range remote {
		osw := st.Switches[o.Switch]
		vtep := addr(osw.VTEP)
		om := mac(o.MAC)
		for _, ip := range o.IPs {
			add(TableAdmit, prioNIC, openflow.NewMatch(
				openflow.OXMInPortVal(sw.TunnelPort), openflow.OXMUint(openflow.OXMTunnelID, uint64(o.VNI)),
				openflow.OXMTunIPv4(openflow.OXMTunIPv4Src, vtep),
				openflow.OXMMACVal(openflow.OXMEthSrc, om, nil), openflow.OXMEthTypeVal(ethTypeIPv4),
				openflow.OXMAddrVal(openflow.OXMIPv4Src, host(ip))),
				openflow.InstWriteMetadata{Metadata: uint64(o.VNI) | fromTunnel, Mask: metadataMask},
				openflow.InstGotoTable{TableID: TableForward})
		}
		add(TableForward, prioNIC, openflow.NewMatch(
			openflow.OXMMetadataVal(uint64(o.VNI), metadataMask), openflow.OXMMACVal(openflow.OXMEthDst, om, nil)),
			apply(setField(openflow.OXMUint(openflow.OXMTunnelID, uint64(o.VNI))),
				setField(openflow.OXMTunIPv4(openflow.OXMTunIPv4Dst, vtep)),
				output(sw.TunnelPort)))
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

// sources returns the IPv4 prefixes a rule admits.
func (st *State) sources(r Rule) []netip.Prefix {
	if r.CIDR != "" {
		return []netip.Prefix{netip.MustParsePrefix(r.CIDR)}
	}
	set := map[netip.Prefix]bool{}
	for _, m := range st.sortedNICs() {
		for _, sg := range m.SGs {
			if sg == r.Members {
				for _, ip := range m.IPs {
					set[host(ip)] = true
				}
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

// sgFlows adds table 20's flows for local NIC n.
func (st *State) sgFlows(n *NIC, add func(uint8, uint16, openflow.Match, ...openflow.Instruction)) {
	m := mac(n.MAC)
	base := func() []openflow.OXM {
		return []openflow.OXM{openflow.OXMMetadataVal(uint64(n.VNI), vniMask),
			openflow.OXMMACVal(openflow.OXMEthDst, m, nil), openflow.OXMEthTypeVal(ethTypeIPv4)}
	}
	count := 0
	for _, r := range st.rules(n) {
		proto := r.protoNumber()
		for _, src := range st.sources(r) {
			ports := []uint16{0}
			if r.PortMin != 0 {
				ports = ports[:0]
				for p := uint32(r.PortMin); p <= uint32(r.PortMax); p++ {
					ports = append(ports, uint16(p))
				}
			}
			for _, port := range ports {
				f := base()
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
				f = append(f, openflow.OXMAddrVal(openflow.OXMIPv4Src, src))
				if count++; count > maxFlowsPerNIC {
					return
				}
				add(TableSG, prioRule, openflow.NewMatch(f...), apply(output(n.Port)))
			}
		}
	}
	add(TableSG, prioReply, openflow.NewMatch(append(base(), openflow.OXMCTReply(n.Zone))...), apply(output(n.Port)))
}

// clientFlow is f as the flow diff sees it, with netctl's cookie.
func (f *Flow) clientFlow() ofclient.Flow {
	return ofclient.Flow{Table: f.Table, Priority: f.Priority, Match: f.Match, Cookie: Cookie, Instructions: f.Instructions}
}
