package netctl

// Security-group rules, the way clouds define them (OpenStack's
// security_group_rule, OVN's ACLs): a direction, an ethertype, a protocol
// with a destination-port range or an ICMP type and code, and a remote
// side given as a CIDR or as another group, whose members' addresses the
// rule follows as they come and go. Rules only allow; what no rule of a
// NIC's groups allows is dropped, in both directions.

import (
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
)

// Rule allows one kind of traffic into (ingress) or out of (egress) the
// NICs of a group.
type Rule struct {
	Direction string `json:"direction,omitempty"`  // "" (ingress) or "egress"
	EtherType string `json:"ethertype,omitempty"`  // "" (IPv4) or "IPv6"
	Proto     string `json:"ip_proto"`             // tcp, udp, icmp, icmpv6, all, or a protocol number
	PortMin   uint16 `json:"port_min,omitempty"`   // tcp/udp destination ports; 0: any
	PortMax   uint16 `json:"port_max,omitempty"`   //
	ICMP      string `json:"icmp,omitempty"`       // icmp/icmpv6: "TYPE" or "TYPE/CODE"; "": any
	CIDR      string `json:"cidr,omitempty"`       // the remote prefix (source of ingress, destination of egress), or
	Members   string `json:"sg_members,omitempty"` // the addresses of this group's members
}

// Directions and ethertypes as they are stored.
const (
	Ingress = ""
	Egress  = "egress"
	IPv4    = ""
	IPv6    = "IPv6"
)

// Egress reports whether r filters what a NIC sends.
func (r Rule) Egress() bool { return r.Direction == Egress }

// IPv6 reports whether r is about IPv6.
func (r Rule) IPv6() bool { return r.EtherType == IPv6 }

func (r Rule) String() string {
	s := ""
	if r.Egress() {
		s = "egress "
	}
	if r.IPv6() {
		s += "ipv6 "
	}
	s += "ip-proto " + r.Proto
	if r.PortMin != 0 {
		s += " port " + strconv.Itoa(int(r.PortMin))
		if r.PortMax != r.PortMin {
			s += "-" + strconv.Itoa(int(r.PortMax))
		}
	}
	if r.ICMP != "" {
		s += " icmp " + r.ICMP
	}
	if r.CIDR != "" {
		s += " cidr " + r.CIDR
	} else {
		s += " sg-members " + r.Members
	}
	return s
}

// protoNumber returns the IP protocol of a rule (0: all).
func (r Rule) protoNumber() uint8 {
	switch r.Proto {
	case "tcp":
		return ipProtoTCP
	case "udp":
		return ipProtoUDP
	case "icmp":
		return ipProtoICMP
	case "icmpv6":
		return ipProtoICMPv6
	case "all":
		return 0
	}
	n, _ := strconv.Atoi(r.Proto)
	return uint8(n)
}

// icmp returns the rule's ICMP type and code, each -1 for any.
func (r Rule) icmp() (typ, code int) {
	if r.ICMP == "" {
		return -1, -1
	}
	t, c, hasCode := strings.Cut(r.ICMP, "/")
	typ, _ = strconv.Atoi(t)
	code = -1
	if hasCode {
		code, _ = strconv.Atoi(c)
	}
	return typ, code
}

// RuleSpec is a rule as a user writes it (netctl sg rule add's flags).
type RuleSpec struct {
	Direction string // ingress (default) or egress
	EtherType string // ipv4 or ipv6; default: the CIDR's family, else IPv4 (icmpv6: IPv6)
	Proto     string // tcp, udp, icmp, icmpv6, all or 1-255
	Port      string // N or N-M (tcp, udp)
	ICMP      string // TYPE or TYPE/CODE (icmp, icmpv6)
	CIDR      string
	Members   string
}

// NewRule validates and normalises a rule.
func NewRule(spec RuleSpec) (Rule, error) {
	r := Rule{Proto: strings.ToLower(spec.Proto)}
	switch strings.ToLower(spec.Direction) {
	case "", "ingress":
	case "egress":
		r.Direction = Egress
	default:
		return r, fmt.Errorf("direction %q: want ingress or egress", spec.Direction)
	}
	switch r.Proto {
	case "tcp", "udp", "icmp", "icmpv6", "all":
	case "any":
		r.Proto = "all"
	case "":
		return r, errors.New("--ip-proto is required (tcp, udp, icmp, icmpv6, all or a number)")
	default:
		n, err := strconv.Atoi(r.Proto)
		if err != nil || n < 1 || n > 255 {
			return r, fmt.Errorf("ip-proto %q: want tcp, udp, icmp, icmpv6, all or 1-255", spec.Proto)
		}
		switch n {
		case ipProtoTCP:
			r.Proto = "tcp"
		case ipProtoUDP:
			r.Proto = "udp"
		case ipProtoICMP:
			r.Proto = "icmp"
		case ipProtoICMPv6:
			r.Proto = "icmpv6"
		}
	}
	var prefix netip.Prefix
	switch {
	case spec.CIDR != "" && spec.Members != "":
		return r, errors.New("give --cidr or --sg-members, not both (a rule has one remote side; add two rules)")
	case spec.CIDR != "":
		p, err := netip.ParsePrefix(spec.CIDR)
		if err != nil {
			a, err2 := netip.ParseAddr(spec.CIDR)
			if err2 != nil || a.Zone() != "" {
				return r, fmt.Errorf("cidr %q: want an address or a prefix such as 10.0.0.0/8, 0.0.0.0/0 or 2001:db8::/32", spec.CIDR)
			}
			p = netip.PrefixFrom(a, a.BitLen())
		}
		if p.Addr().Is4In6() {
			return r, fmt.Errorf("cidr %q: write IPv4 prefixes as IPv4", spec.CIDR)
		}
		prefix = p.Masked()
		r.CIDR = prefix.String()
	case spec.Members != "":
		r.Members = spec.Members
	default:
		return r, errors.New("say who the remote side is: --cidr PREFIX (0.0.0.0/0 or ::/0: anyone) or --sg-members SG (the addresses of that group's NICs)")
	}
	switch strings.ToLower(spec.EtherType) {
	case "ipv4":
	case "ipv6":
		r.EtherType = IPv6
	case "":
		if (prefix.IsValid() && prefix.Addr().Is6()) || r.Proto == "icmpv6" {
			r.EtherType = IPv6
		}
	default:
		return r, fmt.Errorf("ethertype %q: want ipv4 or ipv6", spec.EtherType)
	}
	if prefix.IsValid() && prefix.Addr().Is6() != r.IPv6() {
		return r, fmt.Errorf("cidr %s is not an %s prefix", r.CIDR, map[bool]string{false: "IPv4", true: "IPv6"}[r.IPv6()])
	}
	if (r.Proto == "icmp" && r.IPv6()) || (r.Proto == "icmpv6" && !r.IPv6()) {
		return r, fmt.Errorf("ip-proto %s does not go with %s (icmp is IPv4's, icmpv6 IPv6's)", r.Proto, map[bool]string{false: "IPv4", true: "IPv6"}[r.IPv6()])
	}
	if spec.Port != "" {
		if r.Proto != "tcp" && r.Proto != "udp" {
			return r, errors.New("--port needs --ip-proto tcp or udp")
		}
		lo, hi, isRange := strings.Cut(spec.Port, "-")
		a, err1 := strconv.ParseUint(lo, 10, 16)
		b := a
		var err2 error
		if isRange {
			b, err2 = strconv.ParseUint(hi, 10, 16)
		}
		if err1 != nil || err2 != nil || a == 0 || b < a {
			return r, fmt.Errorf("port %q: want N or N-M with 1 <= N <= M <= 65535", spec.Port)
		}
		r.PortMin, r.PortMax = uint16(a), uint16(b)
	}
	if spec.ICMP != "" {
		if r.Proto != "icmp" && r.Proto != "icmpv6" {
			return r, errors.New("--icmp needs --ip-proto icmp or icmpv6")
		}
		t, c, hasCode := strings.Cut(spec.ICMP, "/")
		tv, err1 := strconv.ParseUint(t, 10, 8)
		var cv uint64
		var err2 error
		if hasCode {
			cv, err2 = strconv.ParseUint(c, 10, 8)
		}
		if err1 != nil || err2 != nil {
			return r, fmt.Errorf("icmp %q: want TYPE or TYPE/CODE, each 0-255", spec.ICMP)
		}
		r.ICMP = strconv.FormatUint(tv, 10)
		if hasCode {
			r.ICMP += "/" + strconv.FormatUint(cv, 10)
		}
	}
	return r, nil
}

// defaultEgress are the rules a new group gets, as in OpenStack: its NICs
// may send anything, and the answers come back through the connection
// table.
func defaultEgress() []Rule {
	return []Rule{
		{Direction: Egress, Proto: "all", CIDR: "0.0.0.0/0"},
		{Direction: Egress, EtherType: IPv6, Proto: "all", CIDR: "::/0"},
	}
}
