package datapath

// Connection tracking for stateful security groups.
//
// The table records connections by (zone, protocol, source, destination,
// source port, destination port) of IPv4 packets. Two things use it:
//
//   - ActCTCommit records the packet's own tuple in a zone (the OpenFlow
//     layer emits it for packets a NIC sends), or refreshes it. A TCP
//     connection is recorded only by its opening SYN (SYN without ACK), an
//     ICMP one only by an echo request; other packets just refresh an
//     existing entry. So a connection that a peer opened towards the
//     zone's owner is never recorded by the owner's answers: its packets
//     keep needing an allow rule, and removing that rule stops them at
//     once. UDP has no handshake: any packet records its tuple.
//   - The Filter returned by ReplyFilter(zone) matches a packet whose
//     reversed tuple is recorded in that zone and not expired: the packet
//     is a reply within a connection that the zone's owner opened. It is an
//     Oko-style filter: the OpenFlow layer puts it in a megaflow's filter
//     chain, so the cache re-runs it on every packet of the megaflow, and a
//     connection that appears or expires changes the result for the very
//     next packet without any cache invalidation.
//
// For TCP, UDP and SCTP the ports are the transport ports. For ICMP only
// echo is tracked: a request (type 8) is recorded as (id, 8<<8) and a reply
// (type 0) looks itself up as (8<<8, id) reversed, so only the reply to a
// request that was committed matches. Other ICMP types, IPv6, and non-first
// fragments (which carry no ports) never match: ICMP errors "related" to a
// connection (e.g. fragmentation needed) are not let through by the table.
//
// What it does not do, compared with a full firewall conntrack such as
// Linux's nf_conntrack: it does not follow TCP sequence numbers or windows,
// so any packet with the right addresses and ports counts as part of the
// connection; and an entry exists from the first committed packet, not from
// a completed handshake. Timeouts are idle timeouts, refreshed by traffic
// in both directions: TCP 1 hour, or 10 s once a FIN or RST has been seen;
// UDP 60 s; ICMP echo 30 s. When the table is full (Config.ConntrackMax
// entries), or a zone holds a sixteenth of that, new connections (of that
// zone) are not recorded and their replies are dropped: it fails closed,
// and one NIC opening connections as fast as it can does not take the
// table from the others.
//
// The table is shared by every thread of the datapath: 64 shards, each a
// map under a RWMutex. A lookup takes a read lock and refreshes the entry
// with an atomic store; only a new connection takes a write lock. Expired
// entries are removed by a sweep once a second.

import (
	"sync"
	"sync/atomic"
	"time"
)

// Conntrack idle timeouts.
const (
	ctTimeoutTCP     = time.Hour
	ctTimeoutTCPDone = 10 * time.Second
	ctTimeoutUDP     = 60 * time.Second
	ctTimeoutICMP    = 30 * time.Second
	ctDefaultMax     = 1 << 18
	ctShards         = 64
)

// TCP flag bits of FlowKey.TCPFlags.
const (
	tcpFIN = 0x01
	tcpSYN = 0x02
	tcpRST = 0x04
	tcpACK = 0x10
)

type ctKey struct {
	zone     uint32
	src, dst uint32
	sport    uint16
	dport    uint16
	proto    uint8
}

type ctEntry struct {
	expires atomic.Int64 // unix ns
	done    atomic.Bool  // TCP FIN or RST seen
}

type ctShard struct {
	mu sync.RWMutex
	m  map[ctKey]*ctEntry
	_  [40]byte // keep shard locks on different cache lines
}

// Conntrack is a datapath's connection table. It is safe for concurrent
// use.
type Conntrack struct {
	shards  [ctShards]ctShard
	max     int64
	zoneMax int
	count   atomic.Int64
	zoneMu  sync.Mutex
	perZone map[uint32]int // entries per zone; guarded by zoneMu
	clock   atomic.Int64   // unix ns, advanced by the pmds and the sweeper
	stats   struct{ commits, created, full, replies atomic.Uint64 }
}

// ConntrackStats are the table's counters.
type ConntrackStats struct {
	Entries int64  // current entries (expired ones linger up to a second)
	Commits uint64 // packets committed
	Created uint64 // connections recorded
	Full    uint64 // connections not recorded because the table was full
	Replies uint64 // packets matched as replies
}

func newConntrack(max int) *Conntrack {
	if max <= 0 {
		max = ctDefaultMax
	}
	ct := &Conntrack{max: int64(max), zoneMax: max / 16, perZone: map[uint32]int{}}
	if ct.zoneMax < 1 {
		ct.zoneMax = 1
	}
	for i := range ct.shards {
		ct.shards[i].m = map[ctKey]*ctEntry{}
	}
	ct.clock.Store(time.Now().UnixNano())
	return ct
}

// Stats returns the table's counters.
func (ct *Conntrack) Stats() ConntrackStats {
	return ConntrackStats{Entries: ct.count.Load(), Commits: ct.stats.commits.Load(), Created: ct.stats.created.Load(),
		Full: ct.stats.full.Load(), Replies: ct.stats.replies.Load()}
}

func (k *ctKey) shard() int {
	h := (uint64(k.src)<<32 | uint64(k.dst)) ^ (uint64(k.sport)<<48 | uint64(k.dport)<<32 | uint64(k.proto)<<24 | uint64(k.zone))
	h *= 0x9e3779b97f4a7c15
	return int(h >> 58)
}

// tuple extracts pkt's tuple; reply says it is looked up as a reply (for
// ICMP echo the roles of id and type swap). ok is false for packets the
// table does not track.
func ctTuple(pkt []byte, key *FlowKey, off Offsets, zone uint32) (k ctKey, ok bool) {
	if key.EthType != EthTypeIPv4 || key.NwFrag&FragLater != 0 || off.L4 < 0 {
		return k, false
	}
	k = ctKey{zone: zone, src: key.NwSrc, dst: key.NwDst, proto: key.NwProto}
	switch key.NwProto {
	case IPProtoTCP, IPProtoUDP, IPProtoSCTP:
		k.sport, k.dport = key.TpSrc, key.TpDst
	case IPProtoICMP:
		l4 := int(off.L4)
		if len(pkt) < l4+8 {
			return k, false
		}
		id := be.Uint16(pkt[l4+4:])
		switch key.TpSrc {
		case 8: // echo request
			k.sport, k.dport = id, 8<<8
		case 0: // echo reply
			k.sport, k.dport = 8<<8, id
		default:
			return k, false
		}
	default:
		return k, false
	}
	return k, true
}

// zoneAdd changes zone's entry count by d and reports whether an addition
// stays within the zone's quota.
func (ct *Conntrack) zoneAdd(zone uint32, d int) bool {
	ct.zoneMu.Lock()
	defer ct.zoneMu.Unlock()
	n := ct.perZone[zone] + d
	if d > 0 && n > ct.zoneMax {
		return false
	}
	if n <= 0 {
		delete(ct.perZone, zone)
	} else {
		ct.perZone[zone] = n
	}
	return true
}

func (k ctKey) reversed() ctKey {
	return ctKey{zone: k.zone, src: k.dst, dst: k.src, sport: k.dport, dport: k.sport, proto: k.proto}
}

func ctTimeout(k *ctKey, done bool) int64 {
	switch k.proto {
	case IPProtoTCP:
		if done {
			return int64(ctTimeoutTCPDone)
		}
		return int64(ctTimeoutTCP)
	case IPProtoICMP:
		return int64(ctTimeoutICMP)
	}
	return int64(ctTimeoutUDP)
}

// commit records or refreshes the packet's connection in zone.
func (ct *Conntrack) commit(zone uint32, pkt []byte, key *FlowKey, off Offsets, now int64) {
	k, ok := ctTuple(pkt, key, off, zone)
	if !ok || (k.proto == IPProtoICMP && k.dport != 8<<8) {
		return // only echo requests open an ICMP "connection"
	}
	ct.stats.commits.Add(1)
	fin := k.proto == IPProtoTCP && key.TCPFlags&(tcpFIN|tcpRST) != 0
	s := &ct.shards[k.shard()]
	s.mu.RLock()
	e := s.m[k]
	s.mu.RUnlock()
	if e == nil {
		if k.proto == IPProtoTCP && key.TCPFlags&(tcpSYN|tcpACK) != tcpSYN {
			return // only an opening SYN records a TCP connection
		}
		if ct.count.Load() >= ct.max {
			ct.stats.full.Add(1)
			return
		}
		s.mu.Lock()
		if e = s.m[k]; e == nil {
			if !ct.zoneAdd(zone, 1) {
				s.mu.Unlock()
				ct.stats.full.Add(1)
				return
			}
			e = &ctEntry{}
			s.m[k] = e
			ct.count.Add(1)
			ct.stats.created.Add(1)
		}
		s.mu.Unlock()
	}
	ct.touch(e, &k, fin, now)
}

func (ct *Conntrack) touch(e *ctEntry, k *ctKey, fin bool, now int64) {
	if fin {
		e.done.Store(true)
	}
	e.expires.Store(now + ctTimeout(k, e.done.Load()))
}

// isReply reports whether pkt is a reply in a live connection of zone, and
// refreshes that connection.
func (ct *Conntrack) isReply(zone uint32, in *FilterInput) bool {
	k, ok := ctTuple(in.Data, in.Key, in.Off, zone)
	if !ok {
		return false
	}
	r := k.reversed()
	s := &ct.shards[r.shard()]
	s.mu.RLock()
	e := s.m[r]
	s.mu.RUnlock()
	now := ct.clock.Load()
	if e == nil || e.expires.Load() <= now {
		return false
	}
	ct.stats.replies.Add(1)
	ct.touch(e, &r, k.proto == IPProtoTCP && in.Key.TCPFlags&(tcpFIN|tcpRST) != 0, now)
	return true
}

// sweep removes expired entries.
func (ct *Conntrack) sweep(now int64) {
	ct.clock.Store(now)
	for i := range ct.shards {
		s := &ct.shards[i]
		s.mu.Lock()
		for k, e := range s.m {
			if e.expires.Load() <= now {
				delete(s.m, k)
				ct.count.Add(-1)
				ct.zoneAdd(k.zone, -1)
			}
		}
		s.mu.Unlock()
	}
}

// Flush removes every entry of zone (all zones if zone is 0).
func (ct *Conntrack) Flush(zone uint32) {
	for i := range ct.shards {
		s := &ct.shards[i]
		s.mu.Lock()
		for k := range s.m {
			if zone == 0 || k.zone == zone {
				delete(s.m, k)
				ct.count.Add(-1)
				ct.zoneAdd(k.zone, -1)
			}
		}
		s.mu.Unlock()
	}
}

// ctReply is the Filter of ReplyFilter. It is a comparable value, so two
// filters for the same zone are equal (the cache memoises by equality).
type ctReply struct {
	ct   *Conntrack
	zone uint32
}

// Match implements Filter.
func (f ctReply) Match(in *FilterInput) bool { return f.ct.isReply(f.zone, in) }

// ReplyFilter returns the Filter that matches replies within connections
// committed in zone.
func (ct *Conntrack) ReplyFilter(zone uint32) Filter { return ctReply{ct, zone} }
