package bpftest

import (
	"encoding/binary"
	"net/netip"
)

// Packet builders for the example tests: just enough Ethernet, VLAN, IPv4,
// IPv6, TCP, UDP and ICMP to feed the filters. Checksums are left zero;
// the filters do not look at them.

const (
	ethIPv4 = 0x0800
	ethIPv6 = 0x86dd
	ethARP  = 0x0806
	ethVLAN = 0x8100

	protoICMP   = 1
	protoTCP    = 6
	protoUDP    = 17
	protoICMPv6 = 58
)

// TCP flags.
const (
	fin = 0x01
	syn = 0x02
	rst = 0x04
	psh = 0x08
	ack = 0x10
)

func addr(s string) netip.Addr { return netip.MustParseAddr(s) }

// a4 is the 4 bytes of an IPv4 address, in network order: the layout of
// the __u32 address keys of the example maps.
func a4(s string) []byte { b := addr(s).As4(); return b[:] }

func ether(ethType uint16, payload []byte) []byte {
	p := make([]byte, 14, 14+len(payload))
	copy(p[0:6], []byte{0x02, 0, 0, 0, 0, 2})
	copy(p[6:12], []byte{0x02, 0, 0, 0, 0, 1})
	binary.BigEndian.PutUint16(p[12:], ethType)
	return append(p, payload...)
}

// vlanTag inserts an 802.1Q tag into an Ethernet frame.
func vlanTag(frame []byte, vid uint16) []byte {
	p := append([]byte{}, frame[:12]...)
	p = binary.BigEndian.AppendUint16(p, ethVLAN)
	p = binary.BigEndian.AppendUint16(p, vid)
	return append(p, frame[12:]...)
}

type ip4opts struct {
	ttl  uint8 // 64 when 0
	df   bool
	frag uint16 // fragment offset in 8-byte units
}

func ipv4(src, dst string, proto uint8, o ip4opts, payload []byte) []byte {
	h := make([]byte, 20, 20+len(payload))
	h[0] = 0x45
	binary.BigEndian.PutUint16(h[2:], uint16(20+len(payload)))
	ff := o.frag & 0x1fff
	if o.df {
		ff |= 0x4000
	}
	binary.BigEndian.PutUint16(h[6:], ff)
	h[8] = o.ttl
	if h[8] == 0 {
		h[8] = 64
	}
	h[9] = proto
	copy(h[12:16], a4(src))
	copy(h[16:20], a4(dst))
	return ether(ethIPv4, append(h, payload...))
}

func ipv6(src, dst string, next uint8, payload []byte) []byte {
	h := make([]byte, 40, 40+len(payload))
	h[0] = 0x60
	binary.BigEndian.PutUint16(h[4:], uint16(len(payload)))
	h[6] = next
	h[7] = 64
	s, d := addr(src).As16(), addr(dst).As16()
	copy(h[8:24], s[:])
	copy(h[24:40], d[:])
	return ether(ethIPv6, append(h, payload...))
}

type tcpSeg struct {
	sport, dport uint16
	flags        uint8
	window       uint16
	opts         []byte // padded to 4 bytes by the builder
	payload      []byte
}

func (s tcpSeg) bytes() []byte {
	opts := append([]byte{}, s.opts...)
	for len(opts)%4 != 0 {
		opts = append(opts, 0)
	}
	h := make([]byte, 20, 20+len(opts)+len(s.payload))
	binary.BigEndian.PutUint16(h[0:], s.sport)
	binary.BigEndian.PutUint16(h[2:], s.dport)
	binary.BigEndian.PutUint32(h[4:], 1000)
	h[12] = uint8((20+len(opts))/4) << 4
	h[13] = s.flags
	w := s.window
	if w == 0 {
		w = 64240
	}
	binary.BigEndian.PutUint16(h[14:], w)
	h = append(h, opts...)
	return append(h, s.payload...)
}

func tcp4(src, dst string, s tcpSeg) []byte {
	return ipv4(src, dst, protoTCP, ip4opts{df: true}, s.bytes())
}

func udpDgram(sport, dport uint16, payload []byte) []byte {
	h := make([]byte, 8, 8+len(payload))
	binary.BigEndian.PutUint16(h[0:], sport)
	binary.BigEndian.PutUint16(h[2:], dport)
	binary.BigEndian.PutUint16(h[4:], uint16(8+len(payload)))
	return append(h, payload...)
}

func udp4(src, dst string, sport, dport uint16, payload []byte) []byte {
	return ipv4(src, dst, protoUDP, ip4opts{}, udpDgram(sport, dport, payload))
}

func icmpEcho(src, dst string, size int) []byte {
	p := make([]byte, 8+size)
	p[0] = 8 // echo request
	return ipv4(src, dst, protoICMP, ip4opts{}, p)
}

func arpRequest() []byte {
	return ether(ethARP, make([]byte, 28))
}

// TCP options.
func optMSS(v uint16) []byte { return []byte{2, 4, byte(v >> 8), byte(v)} }
func optWS(v uint8) []byte   { return []byte{3, 3, v} }
func optSACKOK() []byte      { return []byte{4, 2} }
func optTS() []byte          { return []byte{8, 10, 0, 0, 0, 1, 0, 0, 0, 0} }
func optNOP() []byte         { return []byte{1} }
func optEOL() []byte         { return []byte{0} }

func cat(parts ...[]byte) []byte {
	var b []byte
	for _, p := range parts {
		b = append(b, p...)
	}
	return b
}

// Little-endian encoders for map keys and values (the examples' structs
// are laid out as C lays them out on a little-endian BPF target).
func le16(v uint16) []byte { return binary.LittleEndian.AppendUint16(nil, v) }
func le32(v uint32) []byte { return binary.LittleEndian.AppendUint32(nil, v) }
func le64(v uint64) []byte { return binary.LittleEndian.AppendUint64(nil, v) }

func u16At(b []byte, off int) uint16 { return binary.LittleEndian.Uint16(b[off:]) }
func u32At(b []byte, off int) uint32 { return binary.LittleEndian.Uint32(b[off:]) }
func u64At(b []byte, off int) uint64 { return binary.LittleEndian.Uint64(b[off:]) }

// lpm4 is a struct bpf_lpm_trie_key for an IPv4 prefix such as "10.1.0.0/16".
func lpm4(prefix string) []byte {
	p := netip.MustParsePrefix(prefix)
	a := p.Addr().As4()
	return append(le32(uint32(p.Bits())), a[:]...)
}
