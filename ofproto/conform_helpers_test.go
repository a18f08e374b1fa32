package ofproto

// Frame builders and checksum verifiers for the conformance tests
// (conform_test.go). The builders compute every checksum; the verifiers
// recompute them from scratch, SCTP's CRC32c bit by bit, so they check the
// datapath's incremental updates and its table-driven CRC independently.

import (
	"encoding/binary"
	"fmt"
	"time"
)

var (
	macA = []byte{0x22, 0x22, 0x22, 0x22, 0x22, 0x22}
	macB = []byte{0x12, 0x11, 0x11, 0x11, 0x11, 0x11}
)

// sum16 is the Internet checksum's one's-complement sum of b, folded.
func sum16(init uint32, b []byte) uint32 {
	s := init
	for i := 0; i+1 < len(b); i += 2 {
		s += uint32(binary.BigEndian.Uint16(b[i:]))
	}
	if len(b)%2 == 1 {
		s += uint32(b[len(b)-1]) << 8
	}
	for s > 0xffff {
		s = s>>16 + s&0xffff
	}
	return s
}

// crc32cBitwise is CRC32c (Castagnoli, reflected 0x82f63b78) computed one
// bit at a time: slow, and sharing nothing with hash/crc32's tables.
func crc32cBitwise(b []byte) uint32 {
	c := ^uint32(0)
	for _, x := range b {
		c ^= uint32(x)
		for range 8 {
			if c&1 != 0 {
				c = c>>1 ^ 0x82f63b78
			} else {
				c >>= 1
			}
		}
	}
	return ^c
}

// l4Hdr returns a transport header of proto with ports (or ICMP
// type/code in src/dst) and an 8-byte payload; checksums are left zero.
func l4Hdr(proto uint8, src, dst uint16) []byte {
	payload := []byte{1, 2, 3, 4, 5, 6, 7, 8}
	var h []byte
	switch proto {
	case 6:
		h = make([]byte, 20)
		binary.BigEndian.PutUint16(h[0:], src)
		binary.BigEndian.PutUint16(h[2:], dst)
		h[12], h[13] = 5<<4, 0x10
		binary.BigEndian.PutUint16(h[14:], 8192)
	case 17:
		h = make([]byte, 8)
		binary.BigEndian.PutUint16(h[0:], src)
		binary.BigEndian.PutUint16(h[2:], dst)
		binary.BigEndian.PutUint16(h[4:], uint16(8+len(payload)))
	case 132:
		// Common header and one DATA chunk.
		h = make([]byte, 12, 28)
		binary.BigEndian.PutUint16(h[0:], src)
		binary.BigEndian.PutUint16(h[2:], dst)
		binary.BigEndian.PutUint32(h[4:], 0x11223344)
		h = append(h, 0, 3, 0, 16+8, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0)
	case 1, 58:
		h = []byte{byte(src), byte(dst), 0, 0, 0, 1, 0, 1}
	default:
		h = nil
	}
	return append(h, payload...)
}

// setL4Sum fills the transport checksum of l4 (protocol proto) for the
// pseudo-header sum pseudo.
func setL4Sum(proto uint8, l4 []byte, pseudo uint32) {
	switch proto {
	case 6, 17, 58:
		o := map[uint8]int{6: 16, 17: 6, 58: 2}[proto]
		binary.BigEndian.PutUint16(l4[o:], 0)
		s := ^uint16(sum16(pseudo+uint32(len(l4))+uint32(proto), l4))
		if s == 0 && proto == 17 {
			s = 0xffff
		}
		binary.BigEndian.PutUint16(l4[o:], s)
	case 1:
		binary.BigEndian.PutUint16(l4[2:], 0)
		binary.BigEndian.PutUint16(l4[2:], ^uint16(sum16(0, l4)))
	case 132:
		binary.LittleEndian.PutUint32(l4[8:], 0)
		binary.LittleEndian.PutUint32(l4[8:], crc32cBitwise(l4))
	}
}

// ip4Pkt returns an IPv4 packet (no Ethernet header) to 10.0.0.<dst>
// carrying l4, checksums set.
func ip4Pkt(tos, proto uint8, dst byte, l4 []byte) []byte {
	p := make([]byte, 20, 20+len(l4))
	p[0], p[1], p[8], p[9] = 0x45, tos, 64, proto
	binary.BigEndian.PutUint16(p[2:], uint16(20+len(l4)))
	copy(p[12:], []byte{10, 0, 0, 1, 10, 0, 0, dst})
	p = append(p, l4...)
	binary.BigEndian.PutUint16(p[10:], ^uint16(sum16(0, p[:20])))
	setL4Sum(proto, p[20:], sum16(0, p[12:20]))
	return p
}

// ip6Pkt returns an IPv6 packet whose extension headers are ext (8 bytes
// each; AH sized by its own rule) before l4 of protocol proto.
func ip6Pkt(tc uint8, ext []uint8, proto uint8, l4 []byte) []byte {
	p := make([]byte, 40)
	binary.BigEndian.PutUint32(p, 6<<28|uint32(tc)<<20|0x12345)
	p[7] = 64
	copy(p[8:], []byte{0x20, 0x01, 0x0d, 0xb8, 15: 1})
	copy(p[24:], []byte{0x20, 0x01, 0x0d, 0xb8, 15: 2})
	types := append(append([]uint8(nil), ext...), proto)
	p[6] = types[0]
	for i := range ext {
		e := make([]byte, 8)
		e[0] = types[i+1]
		p = append(p, e...)
	}
	n := len(p)
	p = append(p, l4...)
	binary.BigEndian.PutUint16(p[4:], uint16(len(p)-40))
	setL4Sum(proto, p[n:], sum16(0, p[8:40]))
	return p
}

// ethFrame returns an Ethernet frame dst<-src carrying payload of type
// etype, behind the given tags (each TPID<<16|TCI).
func ethFrame(dst, src []byte, etype uint16, payload []byte, tags ...uint32) []byte {
	f := append(append([]byte(nil), dst...), src...)
	for _, t := range tags {
		f = binary.BigEndian.AppendUint32(f, t)
	}
	f = binary.BigEndian.AppendUint16(f, etype)
	return append(f, payload...)
}

// mplsLSE is a label stack entry.
func mplsLSE(label uint32, tc uint8, bos bool, ttl uint8) uint32 {
	v := label<<12 | uint32(tc&7)<<9 | uint32(ttl)
	if bos {
		v |= 1 << 8
	}
	return v
}

// withLabels puts labels (outermost first) in front of payload.
func withLabels(payload []byte, labels ...uint32) []byte {
	var b []byte
	for _, l := range labels {
		b = binary.BigEndian.AppendUint32(b, l)
	}
	return append(b, payload...)
}

// pbbFrame wraps customer in an 802.1ah header with I-SID isid, behind
// the given backbone tags.
func pbbFrame(isid uint32, customer []byte, btags ...uint32) []byte {
	itag := binary.BigEndian.AppendUint32(nil, isid&0xffffff)
	return ethFrame([]byte{0xaa, 0, 0, 0, 0, 2}, []byte{0xaa, 0, 0, 0, 0, 1}, 0x88e7, append(itag, customer...), btags...)
}

// verifySums checks every checksum of an IPv4 or IPv6 packet (from its IP
// header on) and returns a description of the first wrong one.
func verifySums(ip []byte) error {
	var proto uint8
	var l4 []byte
	var pseudo uint32
	switch ip[0] >> 4 {
	case 4:
		ihl := int(ip[0]&15) * 4
		if s := sum16(0, ip[:ihl]); s != 0xffff {
			return fmt.Errorf("IPv4 header checksum wrong (sum %#x)", s)
		}
		proto, l4 = ip[9], ip[ihl:binary.BigEndian.Uint16(ip[2:])]
		pseudo = sum16(0, ip[12:20])
	case 6:
		proto, l4 = ip[6], ip[40:40+int(binary.BigEndian.Uint16(ip[4:]))]
		for proto == 0 || proto == 43 || proto == 60 || proto == 51 {
			n := (int(l4[1]) + 1) * 8
			if proto == 51 {
				n = (int(l4[1]) + 2) * 4
			}
			proto, l4 = l4[0], l4[n:]
		}
		pseudo = sum16(0, ip[8:40])
	default:
		return fmt.Errorf("not IP: % x", ip[:4])
	}
	switch proto {
	case 6, 17, 58:
		if proto == 17 && binary.BigEndian.Uint16(l4[6:]) == 0 {
			return nil
		}
		if s := sum16(pseudo+uint32(len(l4))+uint32(proto), l4); s != 0xffff {
			return fmt.Errorf("protocol %d checksum wrong (sum %#x)", proto, s)
		}
	case 1:
		if s := sum16(0, l4); s != 0xffff {
			return fmt.Errorf("ICMP checksum wrong (sum %#x)", s)
		}
	case 132:
		c := append([]byte(nil), l4...)
		got := binary.LittleEndian.Uint32(c[8:])
		binary.LittleEndian.PutUint32(c[8:], 0)
		if want := crc32cBitwise(c); got != want {
			return fmt.Errorf("SCTP CRC32c %#08x, want %#08x", got, want)
		}
	}
	return nil
}

// expectFrame injects in on port 1 and checks that port `to` sends exactly
// want; ipAt, when not negative, is where an IP packet starts in the
// output, whose checksums are then verified independently as well.
func (ts *testSwitch) expectFrame(in []byte, to uint32, want []byte, ipAt int) {
	ts.t.Helper()
	ts.ports[1].Inject(in)
	got, ok := ts.ports[to].Receive(2 * time.Second)
	if !ok {
		ts.t.Fatalf("nothing came out of port %d", to)
	}
	if string(got) != string(want) {
		ts.t.Fatalf("port %d sent\n% x\nwant\n% x", to, got, want)
	}
	if ipAt >= 0 {
		if err := verifySums(got[ipAt:]); err != nil {
			ts.t.Fatal(err)
		}
	}
}
