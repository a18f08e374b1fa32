package datapath

// VXLAN tunnel ports (RFC 7348) over an IPv4 underlay.
//
// A tunnel is a logical port: it has an OpenFlow port number like any
// other, but no device of its own. It rides on an underlay port (a real
// port of the same datapath, attached under an internal number that
// OpenFlow never sees) and owns every packet that arrives there:
//
//   - An IPv4/UDP packet to the tunnel's local_ip and UDP port (4789), not
//     a fragment, with a valid IPv4 header checksum, sent to the underlay
//     port's MAC and carrying a VXLAN header whose I flag is set, is
//     decapsulated in place: Data moves past the outer headers, the inner
//     frame is parsed with in_port = the tunnel's number, and TunID (the
//     VNI), TunSrc and TunDst (the outer addresses) are set in its key.
//     Every other bit of the inner frame is left as it came. A tunnel with a
//     fixed remote_ip takes only packets from that address; a flow-based
//     tunnel (remote_ip=flow) takes the rest. Inner frames with a VLAN tag
//     are dropped (RFC 7348 section 6.1: SHOULD be discarded).
//   - ARP on the underlay is answered for local_ip and used to learn next
//     hops (see neigh.go). It never reaches the OpenFlow pipeline.
//   - Everything else arriving on the underlay is dropped and counted.
//
// So no packet from the underlay ever enters a tenant network except as the
// inner frame of a well-formed VXLAN packet addressed to us, and that frame
// is looked up in the tunnel port's classifier: the caches are per in_port,
// and in_port of a decapsulated packet is the tunnel, never the underlay,
// so a decapsulated packet and a native one never share a cache entry.
// The megaflow mask of a decapsulated packet covers the tunnel fields its
// translation looked at, like any other field.
//
// Encapsulation is what output to a tunnel port means: the packet is
// copied into the burst arena with headroom, and a 50-byte outer header
// is written in front of it:
//
//	Ethernet  dst = next hop's MAC (neighbour table), src = underlay MAC, 0x0800
//	IPv4      DF set, ID 0, TTL 64, proto UDP, src local_ip,
//	          dst remote_ip (fixed) or the key's TunDst (remote_ip=flow),
//	          header checksum computed
//	UDP       src port 49152 + hash(inner L2-L4) mod 16384, dst 4789,
//	          checksum 0 (RFC 7348: SHOULD be transmitted as zero)
//	VXLAN     flags 0x08 (I), VNI = the key's TunID (24 bits)
//
// The inner frame is not touched. The VNI and destination come from the
// packet's key at execution time (set_field tun_id / tun_dst before the
// output), so the encapsulation reads no cached state. A packet is dropped
// (and counted) when its TunID does not fit in 24 bits, when it has no
// destination or the destination is local_ip, when the next hop's MAC is
// not known yet (an ARP request goes out, at most one per second per next
// hop), and when the outer packet would exceed the underlay's MTU: VTEPs
// must not fragment (RFC 7348 section 4.3), so a VM's MTU must be at most
// the underlay MTU minus 50.

import (
	"encoding/binary"
	"fmt"
	"net"
	"net/netip"
	"sync/atomic"

	"github.com/goko-net/goko/header"
)

// VXLANPort is the IANA-assigned VXLAN UDP port.
const VXLANPort = header.VXLANPort

// VXLANOverhead is the size of the outer headers of an untagged IPv4
// VXLAN packet: Ethernet 14, IPv4 20, UDP 8, VXLAN 8.
const VXLANOverhead = header.EthernetLen + header.IPv4MinLen + header.UDPLen + header.VXLANLen

// InternalPortBase is the first datapath port number used for ports that
// OpenFlow does not see (tunnel underlays). OpenFlow port numbers stop at
// 0xffffff00, and 0xffffff01-0xffffff07 are not reserved ports either.
const InternalPortBase = 0xffffff01

// TunnelConfig configures a VXLAN tunnel port.
type TunnelConfig struct {
	Name     string
	LocalIP  netip.Addr   // the VTEP address (IPv4)
	Subnet   netip.Prefix // local_ip's subnet: remotes outside it go through Gateway
	Gateway  netip.Addr   // next hop for remotes off Subnet (invalid: none, they are dropped)
	RemoteIP netip.Addr   // fixed remote VTEP; invalid means flow-chosen (key.TunDst)
	UDPPort  uint16       // default VXLANPort
	Underlay uint32       // datapath port number of the underlay port
	// Neighbors is the next-hop table of the underlay; tunnels that share
	// an underlay must share it (and their local_ip).
	Neighbors *Neighbors
}

// Tunnel is a VXLAN tunnel port. It implements Port, so that the OpenFlow
// layer can list it and count its traffic, but it never receives or sends
// by itself: the datapath decapsulates for it and encapsulates on output
// to it.
type Tunnel struct {
	cfg     TunnelConfig
	local   uint32
	remote  uint32 // 0: flow
	gateway uint32
	netmask uint32
	closed  atomic.Bool
	st      struct {
		rxPackets, rxBytes, txPackets, txBytes atomic.Uint64
		txDropped, rxDropped                   atomic.Uint64
	}
}

// NewTunnel validates cfg and returns a tunnel port for it.
func NewTunnel(cfg TunnelConfig) (*Tunnel, error) {
	if !cfg.LocalIP.Is4() {
		return nil, fmt.Errorf("tunnel %s: local_ip %v is not an IPv4 address", cfg.Name, cfg.LocalIP)
	}
	if cfg.RemoteIP.IsValid() && !cfg.RemoteIP.Is4() {
		return nil, fmt.Errorf("tunnel %s: remote_ip %v is not an IPv4 address", cfg.Name, cfg.RemoteIP)
	}
	if cfg.Gateway.IsValid() && !cfg.Gateway.Is4() {
		return nil, fmt.Errorf("tunnel %s: gateway %v is not an IPv4 address", cfg.Name, cfg.Gateway)
	}
	if cfg.Neighbors == nil {
		return nil, fmt.Errorf("tunnel %s: no neighbour table", cfg.Name)
	}
	if cfg.UDPPort == 0 {
		cfg.UDPPort = VXLANPort
	}
	t := &Tunnel{cfg: cfg, local: addr4(cfg.LocalIP), remote: addr4(cfg.RemoteIP), gateway: addr4(cfg.Gateway)}
	if cfg.Subnet.IsValid() && cfg.Subnet.Addr().Is4() {
		t.netmask = ^uint32(0) << (32 - cfg.Subnet.Bits())
		if cfg.Subnet.Bits() == 0 {
			t.netmask = 0
		}
	}
	return t, nil
}

func addr4(a netip.Addr) uint32 {
	if !a.Is4() {
		return 0
	}
	b := a.As4()
	return binary.BigEndian.Uint32(b[:])
}

// Config returns the tunnel's configuration.
func (t *Tunnel) Config() TunnelConfig { return t.cfg }

// Info implements Port.
func (t *Tunnel) Info() PortInfo {
	return PortInfo{Name: t.cfg.Name, HWAddr: net.HardwareAddr{0, 0, 0, 0, 0, 0}, MTU: 1500, LinkUp: !t.closed.Load()}
}

// Recv implements Port: a tunnel receives through its underlay.
func (t *Tunnel) Recv([]Packet) int { return 0 }

// Send implements Port; the datapath never calls it (output to a tunnel
// encapsulates onto the underlay), so anything sent here is dropped.
func (t *Tunnel) Send(pkts []*Packet) int {
	t.st.txDropped.Add(uint64(len(pkts)))
	return 0
}

// Release implements Port.
func (t *Tunnel) Release([]Packet) {}

// Stats implements Port: rx counts decapsulated packets (inner bytes), tx
// encapsulated ones, tx_dropped the packets that could not be
// encapsulated (no next hop MAC, too big, no VNI or destination).
func (t *Tunnel) Stats() PortStats {
	return PortStats{
		RxPackets: t.st.rxPackets.Load(), RxBytes: t.st.rxBytes.Load(),
		TxPackets: t.st.txPackets.Load(), TxBytes: t.st.txBytes.Load(),
		TxDropped: t.st.txDropped.Load(), RxDropped: t.st.rxDropped.Load(),
	}
}

// Close implements Port.
func (t *Tunnel) Close() error {
	t.closed.Store(true)
	return nil
}

// nextHop returns the IPv4 address whose MAC the outer header needs, or 0
// when dst is unreachable.
func (t *Tunnel) nextHop(dst uint32) uint32 {
	if t.netmask == 0 && t.gateway == 0 {
		return dst // no subnet configured: every VTEP is on-link
	}
	if dst&t.netmask == t.local&t.netmask {
		return dst
	}
	return t.gateway
}

// underlay is what the pmd knows about a port that carries tunnels. It is
// built when the port set is published and is immutable.
type underlay struct {
	no      uint32
	mac     [6]byte
	mtu     int
	local   uint32
	udpPort uint16
	neigh   *Neighbors
	fixed   map[uint32]*tunnelRef // by remote IP
	flow    *tunnelRef            // remote_ip=flow, or nil
	dropped atomic.Uint64         // non-tunnel packets dropped
}

type tunnelRef struct {
	no  uint32
	tun *Tunnel
}

// UnderlayDrops returns how many packets that were neither VXLAN for a
// tunnel nor ARP arrived on underlay port no and were dropped.
func (dp *Datapath) UnderlayDrops(no uint32) uint64 {
	if ul := dp.ports.Load().underlays[no]; ul != nil {
		return ul.dropped.Load()
	}
	return 0
}

// buildUnderlays groups the tunnels of a port list by underlay.
func buildUnderlays(list []*vport, old map[uint32]*underlay) map[uint32]*underlay {
	var out map[uint32]*underlay
	byNo := map[uint32]*vport{}
	for _, vp := range list {
		byNo[vp.no] = vp
	}
	for _, vp := range list {
		t, ok := vp.port.(*Tunnel)
		if !ok {
			continue
		}
		uvp := byNo[t.cfg.Underlay]
		if uvp == nil {
			continue
		}
		if out == nil {
			out = map[uint32]*underlay{}
		}
		ul := out[uvp.no]
		if ul == nil {
			info := uvp.port.Info()
			ul = &underlay{no: uvp.no, mtu: info.MTU, local: t.local, udpPort: t.cfg.UDPPort, neigh: t.cfg.Neighbors,
				fixed: map[uint32]*tunnelRef{}}
			if ul.mtu == 0 {
				ul.mtu = 1500
			}
			copy(ul.mac[:], info.HWAddr)
			if o := old[uvp.no]; o != nil {
				ul.dropped.Store(o.dropped.Load())
			}
			out[uvp.no] = ul
		}
		ref := &tunnelRef{no: vp.no, tun: t}
		if t.remote != 0 {
			ul.fixed[t.remote] = ref
		} else if ul.flow == nil {
			ul.flow = ref
		}
	}
	return out
}

// fromUnderlay handles a packet received on an underlay port. It returns
// true when the packet was decapsulated and must now be looked up (pkt, key
// and off describe the inner frame); false when it was consumed (ARP) or
// dropped.
func (p *pmd) fromUnderlay(ul *underlay, pkt *Packet, key *FlowKey, off *Offsets) bool {
	d := pkt.Data
	switch {
	case key.EthType == EthTypeARP && key.VlanTCI == 0:
		p.underlayARP(ul, d, key)
		return false
	case key.EthType != EthTypeIPv4 || key.VlanTCI != 0 || key.NwProto != IPProtoUDP || key.NwFrag != 0 ||
		key.NwDst != ul.local || key.TpDst != ul.udpPort || key.EthDst != ul.mac || off.L4 < 0:
		ul.dropped.Add(1)
		return false
	}
	l3, l4 := int(off.L3), int(off.L4)
	ip := d[l3:l4]
	if header.Checksum(ip, 0) != 0 {
		ul.dropped.Add(1)
		return false
	}
	total := int(header.IPv4(ip).TotalLen())
	udpLen := int(header.UDP(d[l4:]).Length())
	if udpLen < header.UDPLen+header.VXLANLen+header.EthernetLen || l4+udpLen > len(d) || l3+total < l4+udpLen {
		ul.dropped.Add(1)
		return false
	}
	ref := ul.flow
	if len(ul.fixed) > 0 {
		if r := ul.fixed[key.NwSrc]; r != nil {
			ref = r
		}
	}
	vx := header.VXLAN(d[l4+header.UDPLen : l4+header.UDPLen+header.VXLANLen])
	if ref == nil || vx[header.VXLANFlags]&header.VXLANFlagI == 0 {
		ul.dropped.Add(1)
		return false
	}
	vni := uint64(vx.VNI())
	src, dst := key.NwSrc, key.NwDst
	inner := d[l4+header.UDPLen+header.VXLANLen : l4+udpLen]
	pkt.Head += l4 + header.UDPLen + header.VXLANLen
	pkt.Data = inner
	*off = Parse(inner, ref.no, key)
	if key.VlanTCI != 0 || len(inner) < 14 {
		ref.tun.st.rxDropped.Add(1)
		return false
	}
	key.TunID, key.TunSrc, key.TunDst = vni, src, dst
	if p.rxTun != ref.tun {
		p.flushTunnelRx()
		p.rxTun = ref.tun
	}
	p.rxTunPkts++
	p.rxTunBytes += uint64(len(inner))
	return true
}

// flushTunnelTx adds the encapsulation counts gathered since the last
// flush to the tunnel's counters.
func (p *pmd) flushTunnelTx() {
	if p.txTun != nil {
		p.txTun.st.txPackets.Add(p.txTunPkts)
		p.txTun.st.txBytes.Add(p.txTunBytes)
		p.txTun, p.txTunPkts, p.txTunBytes = nil, 0, 0
	}
}

// flushTunnelRx adds the decapsulation counts gathered in this burst to
// the tunnel's counters (one atomic add per burst, not per packet).
func (p *pmd) flushTunnelRx() {
	if p.rxTun != nil {
		p.rxTun.st.rxPackets.Add(p.rxTunPkts)
		p.rxTun.st.rxBytes.Add(p.rxTunBytes)
		p.rxTun, p.rxTunPkts, p.rxTunBytes = nil, 0, 0
	}
}

// encap sends pkt out of tunnel e.tun: see the file comment.
func (p *pmd) encap(e *execAction, pkt *Packet, key *FlowKey) {
	t := e.tun
	ul := e.ul
	dst := t.remote
	if dst == 0 {
		dst = key.TunDst
	}
	if ul == nil || e.out < 0 || dst == 0 || dst == t.local || key.TunID > 0xffffff || len(pkt.Data) < 14 {
		t.st.txDropped.Add(1)
		return
	}
	if len(pkt.Data)+VXLANOverhead-14 > ul.mtu {
		t.st.txDropped.Add(1)
		return
	}
	nh := t.nextHop(dst)
	mac, ok := ul.neigh.lookup(nh)
	if !ok {
		t.st.txDropped.Add(1)
		if nh != 0 && ul.neigh.shouldAsk(nh, p.now) {
			p.arpRequest(ul, nh)
		}
		return
	}
	inner := len(pkt.Data)
	c := p.arena.clone(pkt, pushHeadroom)
	p.prepend(c, VXLANOverhead)
	d := c.Data
	eth := header.Ethernet(d)
	eth.SetAddrs(mac, ul.mac)
	eth.SetType(header.EtherTypeIPv4)
	// Field by field rather than with IPv4.Encode, which is too large to
	// inline: the call cost about 10 ns per packet (BenchmarkVXLANEncap).
	ip := header.IPv4(d[header.EthernetLen : header.EthernetLen+header.IPv4MinLen])
	ip[0], ip[header.IPv4TOS] = 0x45, 0
	be.PutUint16(ip[header.IPv4TotalLen:], uint16(header.IPv4MinLen+header.UDPLen+header.VXLANLen+inner))
	be.PutUint32(ip[header.IPv4ID:], header.IPv4FlagDF) // ID 0, DF, offset 0
	ip[header.IPv4TTL], ip[header.IPv4Protocol] = 64, IPProtoUDP
	ip[header.IPv4Checksum], ip[header.IPv4Checksum+1] = 0, 0
	be.PutUint32(ip[header.IPv4Src:], t.local)
	be.PutUint32(ip[header.IPv4Dst:], dst)
	be.PutUint16(ip[header.IPv4Checksum:], header.Checksum(ip, 0))
	udp := header.UDP(d[header.EthernetLen+header.IPv4MinLen:])
	// Checksum 0: RFC 7348 says it SHOULD be sent as zero.
	udp.Encode(uint16(49152+selectHash(key)%16384), t.cfg.UDPPort, uint16(header.UDPLen+header.VXLANLen+inner), 0)
	header.VXLAN(udp[header.UDPLen:]).Encode(uint32(key.TunID))
	if p.txTun != t {
		p.flushTunnelTx()
		p.txTun = t
	}
	p.txTunPkts++
	p.txTunBytes += uint64(inner)
	p.enqueue(&p.tx[e.out], c)
}
