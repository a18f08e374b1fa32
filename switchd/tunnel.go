package switchd

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"

	"github.com/goko-net/goko/datapath"
	"github.com/goko-net/goko/datapath/dpdk"
)

// TunnelSpec is the parsed body of a vxlan: port spec:
//
//	vxlan:local_ip=IP[/LEN],remote_ip=IP|flow,underlay=IFNAME[,gateway=IP][,dst_port=N]
type TunnelSpec struct {
	LocalIP  netip.Addr
	Subnet   netip.Prefix // from local_ip's /LEN; invalid when not given
	RemoteIP netip.Addr   // invalid: flow
	Underlay string       // kernel interface carrying the tunnel
	Gateway  netip.Addr
	DstPort  uint16
}

func (t TunnelSpec) String() string {
	var b strings.Builder
	b.WriteString("local_ip=")
	if t.Subnet.IsValid() {
		b.WriteString(netip.PrefixFrom(t.LocalIP, t.Subnet.Bits()).String())
	} else {
		b.WriteString(t.LocalIP.String())
	}
	b.WriteString(",remote_ip=")
	if t.RemoteIP.IsValid() {
		b.WriteString(t.RemoteIP.String())
	} else {
		b.WriteString("flow")
	}
	b.WriteString(",underlay=" + t.Underlay)
	if t.Gateway.IsValid() {
		b.WriteString(",gateway=" + t.Gateway.String())
	}
	if t.DstPort != datapath.VXLANPort {
		b.WriteString(",dst_port=" + strconv.Itoa(int(t.DstPort)))
	}
	return b.String()
}

// parseTunnelSpec parses what follows "vxlan:".
func parseTunnelSpec(s string) (TunnelSpec, error) {
	t := TunnelSpec{DstPort: datapath.VXLANPort}
	seen := map[string]bool{}
	for _, kv := range strings.Split(s, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(kv), "=")
		if !ok || v == "" {
			return t, fmt.Errorf("vxlan option %q: want KEY=VALUE", kv)
		}
		if seen[k] {
			return t, fmt.Errorf("vxlan option %s given twice", k)
		}
		seen[k] = true
		switch k {
		case "local_ip":
			if strings.Contains(v, "/") {
				p, err := netip.ParsePrefix(v)
				if err != nil || !p.Addr().Is4() {
					return t, fmt.Errorf("vxlan local_ip %q: want an IPv4 address or IPv4/LEN", v)
				}
				t.LocalIP, t.Subnet = p.Addr(), p.Masked()
			} else {
				a, err := netip.ParseAddr(v)
				if err != nil || !a.Is4() {
					return t, fmt.Errorf("vxlan local_ip %q: want an IPv4 address", v)
				}
				t.LocalIP = a
			}
		case "remote_ip":
			if v == "flow" {
				continue
			}
			a, err := netip.ParseAddr(v)
			if err != nil || !a.Is4() {
				return t, fmt.Errorf("vxlan remote_ip %q: want an IPv4 address or \"flow\"", v)
			}
			t.RemoteIP = a
		case "underlay":
			if len(v) > 15 || strings.ContainsAny(v, " /:=") {
				return t, fmt.Errorf("vxlan underlay %q is not a valid interface name", v)
			}
			t.Underlay = v
		case "gateway":
			a, err := netip.ParseAddr(v)
			if err != nil || !a.Is4() {
				return t, fmt.Errorf("vxlan gateway %q: want an IPv4 address", v)
			}
			t.Gateway = a
		case "dst_port":
			n, err := strconv.ParseUint(v, 10, 16)
			if err != nil || n == 0 {
				return t, fmt.Errorf("vxlan dst_port %q: want 1-65535", v)
			}
			t.DstPort = uint16(n)
		default:
			return t, fmt.Errorf("unknown vxlan option %q (want local_ip, remote_ip, underlay, gateway, dst_port)", k)
		}
	}
	switch {
	case !t.LocalIP.IsValid():
		return t, errors.New("vxlan: local_ip is required")
	case !seen["remote_ip"]:
		return t, errors.New("vxlan: remote_ip is required (an IPv4 address, or flow)")
	case t.Underlay == "":
		return t, errors.New("vxlan: underlay is required")
	case t.RemoteIP == t.LocalIP:
		return t, errors.New("vxlan: remote_ip equals local_ip")
	case t.Gateway.IsValid() && !t.Subnet.IsValid():
		return t, errors.New("vxlan: gateway needs local_ip with a prefix length (local_ip=IP/LEN)")
	case t.Gateway.IsValid() && !t.Subnet.Contains(t.Gateway):
		return t, fmt.Errorf("vxlan: gateway %v is not in %v", t.Gateway, t.Subnet)
	}
	return t, nil
}

// ParseNeighbor parses a static neighbour, IP=MAC.
func ParseNeighbor(s string) (netip.Addr, net.HardwareAddr, error) {
	ip, mac, ok := strings.Cut(s, "=")
	a, err := netip.ParseAddr(ip)
	if !ok || err != nil || !a.Is4() {
		return netip.Addr{}, nil, fmt.Errorf("neighbor %q: want IPv4=MAC", s)
	}
	hw, err := net.ParseMAC(mac)
	if err != nil || len(hw) != 6 || hw[0]&1 != 0 {
		return netip.Addr{}, nil, fmt.Errorf("neighbor %q: %q is not a unicast Ethernet address", s, mac)
	}
	return a, hw, nil
}

// underlayPort is an underlay interface opened for a bridge's tunnels.
type underlayPort struct {
	no    uint32
	local netip.Addr
	neigh *datapath.Neighbors
}

// openTunnel opens a vxlan port: its underlay first (once per interface
// and bridge, as an internal datapath port that OpenFlow never sees), then
// the tunnel itself as an OpenFlow port.
func (d *Daemon) openTunnel(br *bridge, spec PortSpec) error {
	ts := spec.Tunnel
	d.mu.Lock()
	ul := br.underlays[ts.Underlay]
	d.mu.Unlock()
	if ul != nil && ul.local != ts.LocalIP {
		return fmt.Errorf("vxlan: underlay %s already carries local_ip %v", ts.Underlay, ul.local)
	}
	if ul == nil {
		if _, err := net.InterfaceByName(ts.Underlay); err != nil {
			return fmt.Errorf("kernel interface %q (vxlan underlay) does not exist", ts.Underlay)
		}
		devargs := fmt.Sprintf("%s,iface=%s,qpairs=1", d.nextVdev("net_af_packet"), ts.Underlay)
		d.mu.Lock()
		p, err := d.eal.OpenPort(devargs, dpdk.PortOptions{Name: ts.Underlay})
		d.mu.Unlock()
		if err != nil {
			return err
		}
		nb := datapath.NewNeighbors()
		for _, n := range br.cfg.Neighbors {
			ip, mac, _ := ParseNeighbor(n) // validated already
			nb.AddStatic(ip, mac)
		}
		d.mu.Lock()
		no := uint32(datapath.InternalPortBase + len(br.underlays))
		d.mu.Unlock()
		if err := br.dp.AddPort(no, p); err != nil {
			p.Close()
			return err
		}
		ul = &underlayPort{no: no, local: ts.LocalIP, neigh: nb}
		d.mu.Lock()
		br.underlays[ts.Underlay] = ul
		d.mu.Unlock()
		d.log.Info("vxlan underlay added", "bridge", br.cfg.Name, "iface", ts.Underlay, "local_ip", ts.LocalIP,
			"mac", p.Info().HWAddr.String(), "mtu", p.Info().MTU)
	}
	name := spec.Name
	tun, err := datapath.NewTunnel(datapath.TunnelConfig{
		Name: name, LocalIP: ts.LocalIP, Subnet: ts.Subnet, Gateway: ts.Gateway, RemoteIP: ts.RemoteIP,
		UDPPort: ts.DstPort, Underlay: ul.no, Neighbors: ul.neigh,
	})
	if err != nil {
		return err
	}
	no, err := br.of.AddPort(spec.Number, tun)
	if err != nil {
		return err
	}
	d.log.Info("port added", "bridge", br.cfg.Name, "port", no, "name", name, "vxlan", ts.String())
	return nil
}
