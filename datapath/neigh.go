package datapath

// Next-hop resolution on a tunnel underlay.
//
// The neighbour table maps IPv4 next hops to MAC addresses. Static entries
// come from the configuration and are never replaced by ARP, so a forged
// ARP reply on the underlay cannot redirect tunnel traffic to them. Dynamic
// entries are learned from ARP packets on the underlay that concern us: a
// request for local_ip teaches the requester's address (and is answered),
// and a reply teaches the sender's address only if we asked for it or
// already knew it. Learned entries do not age; a later ARP from the same
// address refreshes them.
//
// Reads happen on every encapsulation and take no lock: the table is an
// immutable map behind an atomic pointer, replaced on (rare) writes.

import (
	"net"
	"net/netip"
	"sort"
	"sync"
	"sync/atomic"

	"github.com/goko-net/goko/header"
)

// Neighbors is an underlay's next-hop table. It is safe for concurrent
// use.
type Neighbors struct {
	m  atomic.Pointer[map[uint32]neighEntry]
	mu sync.Mutex // serialises writers and guards asked
	// asked holds the unix ns of the last ARP request per address, for
	// rate limiting and to accept the replies.
	asked map[uint32]int64
}

type neighEntry struct {
	mac    [6]byte
	static bool
}

// Neighbor is one entry of a neighbour table.
type Neighbor struct {
	IP     netip.Addr
	MAC    net.HardwareAddr
	Static bool
}

// NewNeighbors returns an empty table.
func NewNeighbors() *Neighbors {
	n := &Neighbors{asked: map[uint32]int64{}}
	n.m.Store(&map[uint32]neighEntry{})
	return n
}

// AddStatic adds a static entry, replacing any entry for ip.
func (n *Neighbors) AddStatic(ip netip.Addr, mac net.HardwareAddr) {
	var e neighEntry
	copy(e.mac[:], mac)
	e.static = true
	n.set(addr4(ip), e, true)
}

// List returns the entries sorted by address.
func (n *Neighbors) List() []Neighbor {
	m := *n.m.Load()
	out := make([]Neighbor, 0, len(m))
	for ip, e := range m {
		var b [4]byte
		be.PutUint32(b[:], ip)
		out = append(out, Neighbor{IP: netip.AddrFrom4(b), MAC: append(net.HardwareAddr(nil), e.mac[:]...), Static: e.static})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].IP.Less(out[j].IP) })
	return out
}

func (n *Neighbors) lookup(ip uint32) ([6]byte, bool) {
	e, ok := (*n.m.Load())[ip]
	return e.mac, ok
}

// set stores e for ip unless a static entry is there (and force is not set).
// Unchanged entries do not copy the map.
func (n *Neighbors) set(ip uint32, e neighEntry, force bool) {
	if ip == 0 {
		return
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	old := *n.m.Load()
	if cur, ok := old[ip]; ok && (cur == e || (cur.static && !force)) {
		return
	}
	m := make(map[uint32]neighEntry, len(old)+1)
	for k, v := range old {
		m[k] = v
	}
	m[ip] = e
	n.m.Store(&m)
	delete(n.asked, ip)
}

// learn records a dynamic entry if we asked for ip, already know it, or
// must (the peer asked for our address).
func (n *Neighbors) learn(ip uint32, mac [6]byte, always bool) {
	if mac == [6]byte{} || mac[0]&1 != 0 {
		return // no multicast or zero MACs
	}
	if !always {
		n.mu.Lock()
		_, asked := n.asked[ip]
		n.mu.Unlock()
		if _, known := n.lookup(ip); !asked && !known {
			return
		}
	}
	n.set(ip, neighEntry{mac: mac}, false)
}

// shouldAsk reports whether an ARP request for ip may be sent now (one per
// second per address) and records it.
func (n *Neighbors) shouldAsk(ip uint32, now int64) bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	if last, ok := n.asked[ip]; ok && now-last < 1e9 {
		return false
	}
	n.asked[ip] = now
	return true
}

// underlayARP handles an ARP packet received on an underlay port.
func (p *pmd) underlayARP(ul *underlay, frame []byte, key *FlowKey) {
	if len(frame) < header.EthernetLen+header.ARPLen || key.NwDst != ul.local || key.NwSrc == 0 || key.NwSrc == ul.local {
		return // not about us (no IPv4/Ethernet ARP parses to NwDst 0)
	}
	switch key.NwProto {
	case header.ARPRequest: // for our address: learn the asker, answer
		ul.neigh.learn(key.NwSrc, key.ArpSHA, true)
		p.arpSend(ul, header.ARPReply, key.ArpSHA, key.ArpSHA, key.NwSrc)
	case header.ARPReply:
		ul.neigh.learn(key.NwSrc, key.ArpSHA, false)
	}
}

// arpRequest broadcasts a request for ip on the underlay.
func (p *pmd) arpRequest(ul *underlay, ip uint32) {
	p.arpSend(ul, header.ARPRequest, [6]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, [6]byte{}, ip)
}

// arpSend queues an ARP packet from our address on the underlay.
func (p *pmd) arpSend(ul *underlay, op uint16, ethDst, tha [6]byte, tpa uint32) {
	i, ok := p.ps.byNo[ul.no]
	if !ok {
		return
	}
	var f [header.ARPMinFrame]byte // zero padded
	eth := header.Ethernet(f[:])
	eth.SetAddrs(ethDst, ul.mac)
	eth.SetType(header.EtherTypeARP)
	header.ARP(f[header.EthernetLen:]).Encode(op, ul.mac, ul.local, tha, tpa)
	p.enqueue(&p.tx[i], p.arena.clone(&Packet{Data: f[:]}, 0))
}
