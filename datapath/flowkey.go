package datapath

import (
	"encoding/binary"
	"unsafe"
)

// FlowKey holds every header field the OpenFlow pipeline can match on, in
// host byte order for integers and wire order for addresses. Its layout has
// no implicit padding (a test checks it) so that it can be viewed as an
// array of 64-bit words for masking and hashing: two keys are equal exactly
// when their words are.
type FlowKey struct {
	TunID     uint64 // VXLAN VNI of a decapsulated packet
	TunSrc    uint32 // outer IPv4 source of a decapsulated packet
	TunDst    uint32 // outer IPv4 destination
	InPort    uint32 // the datapath port the packet arrived on
	MPLSLSE   uint32 // top MPLS label stack entry (label, tc, bos, ttl)
	EthDst    [6]byte
	EthSrc    [6]byte
	EthType   uint16 // innermost Ethertype after VLAN and MPLS tags are skipped
	VlanTCI   uint16 // outer 802.1Q tag; VlanPresent set when a tag exists
	Vlan2TCI  uint16 // inner tag of a double-tagged frame; VlanPresent when present
	TCPFlags  uint16
	NwSrc     uint32 // IPv4 source, or ARP SPA
	NwDst     uint32 // IPv4 destination, or ARP TPA
	NwProto   uint8  // IP protocol, or the low byte of the ARP opcode
	NwTos     uint8  // DSCP << 2 | ECN
	NwTTL     uint8
	NwFrag    uint8  // FragAny, FragLater
	TpSrc     uint16 // TCP/UDP/SCTP source port, ICMP type
	TpDst     uint16 // TCP/UDP/SCTP destination port, ICMP code
	IPv6Src   [16]byte
	IPv6Dst   [16]byte
	IPv6Label uint32
	ArpSHA    [6]byte // ARP source hardware address, or ND source link-layer address
	ArpTHA    [6]byte // ARP target hardware address, or ND target link-layer address
	NDTarget  [16]byte
	PBBISID   uint32 // I-SID of an 802.1ah (PBB) frame's I-TAG (low 24 bits)
	// IPv6ExtHdr is OpenFlow's ipv6_exthdr pseudo-field: which extension
	// headers an IPv6 packet carries and whether they repeat or come out
	// of order (the IPv6Ext* bits).
	IPv6ExtHdr uint16
	_          [6]byte // keeps the size a whole number of words; always zero
}

// Bits of FlowKey.IPv6ExtHdr, as OpenFlow 1.3 numbers them (enum
// ofp_ipv6exthdr_flags).
const (
	IPv6ExtNoNext = 1 << 0 // a "no next header" (59) was reached
	IPv6ExtESP    = 1 << 1 // an ESP header is present
	IPv6ExtAuth   = 1 << 2 // an authentication header is present
	IPv6ExtDest   = 1 << 3 // one or two destination options headers are present
	IPv6ExtFrag   = 1 << 4 // a fragment header is present
	IPv6ExtRouter = 1 << 5 // a routing header is present
	IPv6ExtHop    = 1 << 6 // a hop-by-hop options header is present
	IPv6ExtUnrep  = 1 << 7 // some header appears more often than RFC 8200 allows
	IPv6ExtUnseq  = 1 << 8 // the headers are not in RFC 8200's order
)

// VlanPresent is set in FlowKey.VlanTCI when the frame carries that tag; it
// takes the place of the CFI/DEI bit, as in Open vSwitch.
const VlanPresent = 0x1000

// Fragment flags in FlowKey.NwFrag.
const (
	FragAny   = 1 << 0 // the packet is an IP fragment
	FragLater = 1 << 1 // the fragment offset is non-zero (no L4 header)
)

// KeyWords is the size of a FlowKey in 64-bit words.
const KeyWords = int(unsafe.Sizeof(FlowKey{}) / 8)

// Words views k as an array of 64-bit words.
func (k *FlowKey) Words() *[KeyWords]uint64 {
	return (*[KeyWords]uint64)(unsafe.Pointer(k))
}

// And sets k to the field-wise AND of a and mask.
func (k *FlowKey) And(a, mask *FlowKey) {
	kw, aw, mw := k.Words(), a.Words(), mask.Words()
	for i := range kw {
		kw[i] = aw[i] & mw[i]
	}
}

// Or merges mask bits from m into k (used to union masks).
func (k *FlowKey) Or(m *FlowKey) {
	kw, mw := k.Words(), m.Words()
	for i := range kw {
		kw[i] |= mw[i]
	}
}

// Hash returns a 64-bit hash of the key. The words are mixed in four
// independent lanes so the multiplications overlap in the CPU pipeline.
// An IPv4 key has nothing in the words after the transport ports (IPv6,
// ARP and ND addresses, PBB), so they are mixed in only for other
// Ethertypes: the hash stays a function of the key, at half the cost for
// the common case.
func (k *FlowKey) Hash() uint64 {
	w := k.Words()
	const m1, m2, m3, m4 = 0xff51afd7ed558ccd, 0xc4ceb9fe1a85ec53, 0x94d049bb133111eb, 0xbf58476d1ce4e5b9
	a := (0x9e3779b97f4a7c15 ^ w[0]) * m1
	b := (0xc2b2ae3d27d4eb4f ^ w[1]) * m2
	c := (0x165667b19e3779f9 ^ w[2]) * m3
	d := (0x27d4eb2f165667c5 ^ w[3]) * m4
	a = (a ^ w[4]) * m1
	b = (b ^ w[5]) * m2
	c = (c ^ w[6]) * m3
	d = (d ^ w[7]) * m4
	if k.EthType != EthTypeIPv4 {
		i := 8
		for ; i+3 < KeyWords; i += 4 {
			a = (a ^ w[i]) * m1
			b = (b ^ w[i+1]) * m2
			c = (c ^ w[i+2]) * m3
			d = (d ^ w[i+3]) * m4
		}
		for ; i < KeyWords; i++ { // the words past the last group of four
			a = (a ^ w[i]) * m2
		}
	}
	h := a ^ (b >> 17) ^ (b << 47) ^ (c >> 31) ^ (c << 33) ^ (d >> 43) ^ (d << 21)
	h ^= h >> 33
	h *= 0xff51afd7ed558ccd
	h ^= h >> 33
	return h
}

// IPv4 helpers convert between wire and key order.
func ipv4(b []byte) uint32 { return binary.BigEndian.Uint32(b) }
