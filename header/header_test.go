package header

import (
	"encoding/binary"
	"math/rand/v2"
	"testing"
)

// refChecksum is RFC 1071's algorithm as written: 32-bit sum of 16-bit
// words, odd byte padded, carries folded, complemented.
func refChecksum(b []byte) uint16 {
	var s uint32
	for i := 0; i+1 < len(b); i += 2 {
		s += uint32(binary.BigEndian.Uint16(b[i:]))
	}
	if len(b)%2 == 1 {
		s += uint32(b[len(b)-1]) << 8
	}
	for s>>16 != 0 {
		s = s&0xffff + s>>16
	}
	return ^uint16(s)
}

func TestChecksum(t *testing.T) {
	for _, c := range []struct {
		name string
		b    []byte
		want uint16
	}{
		// RFC 1071 section 3: the sum of these words is 0xddf2.
		{"rfc1071", []byte{0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7}, ^uint16(0xddf2)},
		// An IPv4 header with its checksum field zeroed.
		{"ipv4", []byte{0x45, 0, 0, 0x73, 0, 0, 0x40, 0, 0x40, 0x11, 0, 0, 0xc0, 0xa8, 0, 1, 0xc0, 0xa8, 0, 0xc7}, 0xb861},
		{"odd", []byte{0x01, 0x02, 0x03}, ^uint16(0x0102 + 0x0300)},
		{"empty", nil, 0xffff},
		{"carry", []byte{0xff, 0xff, 0x00, 0x01}, ^uint16(0x0001)},
	} {
		if got := Checksum(c.b, 0); got != c.want {
			t.Errorf("%s: Checksum = %#04x, want %#04x", c.name, got, c.want)
		}
	}
	// A header holding its right checksum sums to zero.
	ip := IPv4{0x45, 0, 0, 0x73, 0, 0, 0x40, 0, 0x40, 0x11, 0xb8, 0x61, 0xc0, 0xa8, 0, 1, 0xc0, 0xa8, 0, 0xc7}
	if !ip.ChecksumValid() {
		t.Error("valid header not recognised")
	}
	ip[IPv4TTL]--
	if ip.ChecksumValid() {
		t.Error("broken header taken as valid")
	}
}

// TestChecksumRandom checks Sum against the reference on random data of
// every length up to 300, whole and split in two at an even offset (how
// partial sums combine), and Update against recomputing.
func TestChecksumRandom(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for n := 0; n <= 300; n++ {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(r.Uint32())
		}
		if got, want := Checksum(b, 0), refChecksum(b); got != want {
			t.Fatalf("len %d: Checksum %#04x, reference %#04x", n, got, want)
		}
		cut := r.IntN(n/2+1) * 2
		if got, want := Checksum(b[cut:], Sum(b[:cut], 0)), refChecksum(b); got != want {
			t.Fatalf("len %d split at %d: %#04x, want %#04x", n, cut, got, want)
		}
		if n < 4 || n%2 == 1 {
			continue
		}
		sum := Checksum(b, 0)
		at := r.IntN(n/2-1) * 2
		old := append([]byte(nil), b[at:at+2]...)
		b[at], b[at+1] = byte(r.Uint32()), byte(r.Uint32())
		got, want := Update(sum, old, b[at:at+2]), refChecksum(b)
		if got16 := Update16(sum, binary.BigEndian.Uint16(old), binary.BigEndian.Uint16(b[at:])); got16 != got {
			t.Fatalf("len %d: Update16 %#04x, Update %#04x", n, got16, got)
		}
		// One's complement has two zeros: an incremental update may
		// give 0xffff where recomputing gives 0 (RFC 1624 section 3).
		if got != want && !(got == 0xffff && want == 0 || got == 0 && want == 0xffff) {
			t.Fatalf("len %d: Update %#04x, recomputed %#04x", n, got, want)
		}
	}
}

func TestPseudoHeaderSum(t *testing.T) {
	src, dst := []byte{10, 0, 0, 1}, []byte{10, 0, 0, 2}
	udp := []byte{0x04, 0x00, 0x00, 0x35, 0x00, 0x0c, 0x00, 0x00, 'h', 'i', '!', '?'}
	var pseudo []byte
	pseudo = append(append(append(pseudo, src...), dst...), 0, IPProtoUDP, 0, byte(len(udp)))
	want := refChecksum(append(pseudo, udp...))
	if got := Checksum(udp, PseudoHeaderSum(IPProtoUDP, src, dst, len(udp))); got != want {
		t.Errorf("IPv4 UDP checksum %#04x, want %#04x", got, want)
	}
	// IPv6: 16-byte addresses, 32-bit length.
	src6, dst6 := make([]byte, 16), make([]byte, 16)
	src6[0], dst6[15] = 0xfe, 1
	pseudo = append(append(append([]byte(nil), src6...), dst6...), 0, 0, 0, byte(len(udp)), 0, 0, 0, IPProtoUDP)
	want = refChecksum(append(pseudo, udp...))
	if got := Checksum(udp, PseudoHeaderSum(IPProtoUDP, src6, dst6, len(udp))); got != want {
		t.Errorf("IPv6 UDP checksum %#04x, want %#04x", got, want)
	}
}

func TestViews(t *testing.T) {
	b := make([]byte, EthernetLen+IPv4MinLen+UDPLen+VXLANLen)
	eth := Ethernet(b)
	eth.SetAddrs([6]byte{1, 2, 3, 4, 5, 6}, [6]byte{7, 8, 9, 10, 11, 12})
	eth.SetType(EtherTypeIPv4)
	ip := IPv4(b[EthernetLen:])
	ip.Encode(&IPv4Fields{TotalLen: 36, Flags: IPv4FlagDF, TTL: 64, Protocol: IPProtoUDP, Src: 0x0a000001, Dst: 0x0a000002})
	udp := UDP(ip[IPv4MinLen:])
	udp.Encode(49152, VXLANPort, 16, 0)
	VXLAN(udp[UDPLen:]).Encode(0xabcdef)
	want := []byte{
		1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 0x08, 0x00,
		0x45, 0, 0, 36, 0, 0, 0x40, 0, 64, 17, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2,
		0xc0, 0x00, 0x12, 0xb5, 0, 16, 0, 0,
		0x08, 0, 0, 0, 0xab, 0xcd, 0xef, 0,
	}
	binary.BigEndian.PutUint16(want[EthernetLen+IPv4Checksum:], refChecksum(want[EthernetLen:EthernetLen+IPv4MinLen]))
	if string(b) != string(want) {
		t.Fatalf("encoded\n% x\nwant\n% x", b, want)
	}
	if eth.Type() != EtherTypeIPv4 || ip.HeaderLen() != 20 || ip.TotalLen() != 36 || ip.Src() != 0x0a000001 ||
		ip.Dst() != 0x0a000002 || !ip.ChecksumValid() || udp.Length() != 16 || VXLAN(udp[UDPLen:]).VNI() != 0xabcdef {
		t.Error("views read back wrong")
	}
	old := []byte{ip[IPv4TTL], ip[IPv4Protocol]}
	ip[IPv4TTL]--
	ip.UpdateChecksum(old, ip[IPv4TTL:IPv4TTL+2])
	if !ip.ChecksumValid() {
		t.Error("UpdateChecksum left a wrong checksum")
	}
	for _, set := range []struct {
		name string
		fn   func()
		at   int
		want byte
	}{
		{"SetTTL", func() { ip.SetTTL(1) }, IPv4TTL, 1},
		{"SetProtocol", func() { ip.SetProtocol(IPProtoTCP) }, IPv4Protocol, IPProtoTCP},
		{"SetTOS", func() { ip.SetTOS(0xb8) }, IPv4TOS, 0xb8},
	} {
		set.fn()
		if ip[set.at] != set.want || !ip.ChecksumValid() {
			t.Errorf("%s: field %#x, checksum valid %v", set.name, ip[set.at], ip.ChecksumValid())
		}
	}
}

func TestChecksumOffset(t *testing.T) {
	for proto, want := range map[uint8]int{IPProtoTCP: 16, IPProtoUDP: 6, IPProtoICMP: 2, IPProtoICMPv6: 2, IPProtoSCTP: -1, 0: -1} {
		if got := ChecksumOffset(proto); got != want {
			t.Errorf("ChecksumOffset(%d) = %d, want %d", proto, got, want)
		}
	}
}

func BenchmarkChecksum(b *testing.B) {
	for _, n := range []int{20, 1500} {
		buf := make([]byte, n)
		for i := range buf {
			buf[i] = byte(i * 7)
		}
		b.Run(map[int]string{20: "ipv4-header", 1500: "1500B"}[n], func(b *testing.B) {
			b.SetBytes(int64(n))
			var s uint16
			for b.Loop() {
				s += Checksum(buf, 0)
			}
			_ = s
		})
	}
}

func TestARP(t *testing.T) {
	a := ARP(make([]byte, ARPLen))
	a.Encode(ARPReply, [6]byte{1, 2, 3, 4, 5, 6}, 0x0a000001, [6]byte{7, 8, 9, 10, 11, 12}, 0x0a000002)
	want := []byte{0, 1, 0x08, 0x00, 6, 4, 0, 2, 1, 2, 3, 4, 5, 6, 10, 0, 0, 1, 7, 8, 9, 10, 11, 12, 10, 0, 0, 2}
	if string(a) != string(want) {
		t.Fatalf("encoded\n% x\nwant\n% x", []byte(a), want)
	}
	if !a.IsEthernetIPv4() {
		t.Error("Ethernet/IPv4 ARP not recognised")
	}
	a[ARPPLen] = 16
	if a.IsEthernetIPv4() {
		t.Error("ARP with 16-byte protocol addresses taken for IPv4")
	}
}
