package datapath

import "sync/atomic"

// ActionKind says what a datapath action does.
type ActionKind uint8

// Datapath actions. They are flat and pre-resolved: the OpenFlow layer has
// already expanded flood, all, in_port and indirect/all/fast-failover groups
// into plain actions. Header-changing actions keep checksums right
// (incrementally) and update the packet's flow key, so later actions (a
// select group's hash, a second set_field) see the new values.
const (
	ActOutput     ActionKind = iota + 1 // send to Port
	ActUserspace                        // hand the packet to the Upcaller (packet-in)
	ActSetField                         // set header Field to Value
	ActPushVLAN                         // push an 802.1Q/802.1ad tag with TPID Arg
	ActPopVLAN                          // pop the outer VLAN tag
	ActPushMPLS                         // push an MPLS label stack entry; Ethertype Arg (0x8847/0x8848)
	ActPopMPLS                          // pop the top MPLS entry; Arg is the new Ethertype
	ActSetMPLSTTL                       // set the top MPLS TTL to Arg
	ActDecMPLSTTL                       // decrement the MPLS TTL; see User for invalid TTLs
	ActSetNwTTL                         // set the IPv4 TTL / IPv6 hop limit to Arg
	ActDecNwTTL                         // decrement TTL / hop limit; see User for invalid TTLs
	ActCopyTTLOut                       // copy the TTL from the next-to-outermost header outwards
	ActCopyTTLIn                        // copy the TTL from the outermost header inwards
	ActSelect                           // run one bucket of Group, chosen by a hash of the flow
	ActClone                            // run Nested on a copy of the packet (group buckets)
	ActMeter                            // pass the packet through Meter; it may drop it or remark DSCP
	ActSetQueue                         // select egress queue Arg32 (ports have one queue: recorded only)
	ActPushPBB                          // encapsulate in 802.1ah: backbone MACs, Ethertype Arg, I-TAG
	ActPopPBB                           // remove the 802.1ah encapsulation
	ActCTCommit                         // record the packet's connection in conntrack zone Zone (see conntrack.go)
)

// Field names a packet header field that ActSetField can write.
type Field uint8

// Settable fields. Values are in network byte order, left-aligned in
// Action.Value, with the field's natural width (e.g. 6 bytes for a MAC, 2
// for a port, 1 for DSCP in its low 6 bits, 3 bytes for an MPLS label in
// its low 20 bits).
const (
	FieldEthDst Field = iota + 1
	FieldEthSrc
	FieldVlanVID // 2 bytes, the 12-bit VID
	FieldVlanPCP // 1 byte
	FieldIPv4Src
	FieldIPv4Dst
	FieldIPDSCP // 1 byte, low 6 bits
	FieldIPECN  // 1 byte, low 2 bits
	FieldIPv6Src
	FieldIPv6Dst
	FieldIPv6Label // 4 bytes, low 20 bits
	FieldTpSrc     // TCP, UDP or SCTP source port, 2 bytes
	FieldTpDst
	FieldICMPType // ICMPv4 or ICMPv6, 1 byte
	FieldICMPCode
	FieldARPOp // 2 bytes
	FieldARPSPA
	FieldARPTPA
	FieldARPSHA
	FieldARPTHA
	FieldNDTarget
	FieldNDSLL
	FieldNDTLL
	FieldMPLSLabel // 4 bytes, low 20 bits
	FieldMPLSTC    // 1 byte
	FieldMPLSBOS   // 1 byte
	FieldTunID     // 8 bytes: metadata for a later tunnel push
	FieldTunSrc    // 4 bytes
	FieldTunDst    // 4 bytes
	FieldPBBISID   // 3 bytes: the I-SID of a PBB frame
	FieldEthType   // 2 bytes: the innermost Ethertype (after any VLAN tags); the packet is parsed anew
	FieldIPProto   // 1 byte: IPv4 protocol or IPv6 last next-header; the packet is parsed anew
)

// Action is one step of a megaflow's action list.
type Action struct {
	Kind   ActionKind
	Field  Field      // ActSetField
	Arg    uint16     // Ethertype or TTL, per Kind
	Port   uint32     // ActOutput: datapath port number; ActSetQueue: queue id
	Zone   uint32     // ActCTCommit: conntrack zone
	Value  [16]byte   // ActSetField
	User   *Userspace // ActUserspace; ActDec*TTL: packet-in for an invalid TTL (nil: drop)
	Group  *SelectGroup
	Meter  *Meter
	Nested []Action // ActClone
}

// Userspace carries the OpenFlow layer's context for a packet sent to user
// space; the datapath passes it back untouched.
type Userspace struct {
	Arg any
}

// SelectGroup is an OpenFlow select group resolved for the datapath. The
// bucket is chosen by a hash of the flow key's L2-L4 fields (SelectMask),
// weighted, so one flow always takes the same bucket while the group is
// unchanged. Buckets whose watch port or group is down have already been
// left out; with no bucket left the packet is dropped. The group's total
// counters are not kept here: the OpenFlow layer puts them on the
// megaflow's Stats, so that cache hits count.
type SelectGroup struct {
	Buckets []Bucket
}

// Bucket is one bucket of a select group. A bucket whose actions rewrite
// the packet runs on a copy of it.
type Bucket struct {
	Weight  uint16
	Actions []Action
	Stats   *FlowStats // counted once per packet that takes this bucket
}

// FlowStats are counters shared between a rule of the OpenFlow layer and
// every megaflow that hit it.
type FlowStats struct {
	Packets atomic.Uint64
	Bytes   atomic.Uint64
	Used    atomic.Int64 // unix nanoseconds of the last hit, 0 if never
}
