package datapath

import (
	"encoding/hex"
	"strings"
	"testing"
)

func mustHex(t testing.TB, s string) []byte {
	b, err := hex.DecodeString(strings.NewReplacer(" ", "", "\n", "").Replace(s))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

const (
	ethHdr     = "020000000002 020000000001"
	ipv4TCPSyn = "0800 4500002c 0001 4000 40 06 0000 0a000001 0a000002" +
		" 3039 0016 00000001 00000000 6002 ffff 0000 0000 020405b4"
)

func TestParse(t *testing.T) {
	tests := []struct {
		name  string
		frame string
		want  FlowKey
		l4    int16
	}{
		{
			name:  "ipv4 tcp syn",
			frame: ethHdr + ipv4TCPSyn,
			want: FlowKey{InPort: 1, EthDst: [6]byte{2, 0, 0, 0, 0, 2}, EthSrc: [6]byte{2, 0, 0, 0, 0, 1},
				EthType: 0x0800, NwSrc: 0x0a000001, NwDst: 0x0a000002, NwProto: 6, NwTTL: 64,
				TpSrc: 12345, TpDst: 22, TCPFlags: 0x002},
			l4: 34,
		},
		{
			name:  "vlan tagged arp request",
			frame: "ffffffffffff 020000000001 8100 0064 0806 0001 0800 06 04 0001 020000000001 0a000001 000000000000 0a000002",
			want: FlowKey{InPort: 1, EthDst: [6]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, EthSrc: [6]byte{2, 0, 0, 0, 0, 1},
				EthType: 0x0806, VlanTCI: 0x0064 | VlanPresent, NwProto: 1, NwSrc: 0x0a000001, NwDst: 0x0a000002,
				ArpSHA: [6]byte{2, 0, 0, 0, 0, 1}},
			l4: -1,
		},
		{
			name:  "qinq udp",
			frame: ethHdr + "88a8 0005 8100 0007 0800 45000024 0000 0000 40 11 0000 0a000001 0a000002 0035 1234 0010 0000 00000000 00000000",
			want: FlowKey{InPort: 1, EthDst: [6]byte{2, 0, 0, 0, 0, 2}, EthSrc: [6]byte{2, 0, 0, 0, 0, 1},
				EthType: 0x0800, VlanTCI: 5 | VlanPresent, Vlan2TCI: 7 | VlanPresent, NwSrc: 0x0a000001, NwDst: 0x0a000002,
				NwProto: 17, NwTTL: 64, TpSrc: 53, TpDst: 0x1234},
			l4: 42,
		},
		{
			name:  "ipv4 later fragment has no l4",
			frame: ethHdr + "0800 45000024 0001 0010 40 11 0000 0a000001 0a000002 0035 1234 0010 0000 00000000 00000000",
			want: FlowKey{InPort: 1, EthDst: [6]byte{2, 0, 0, 0, 0, 2}, EthSrc: [6]byte{2, 0, 0, 0, 0, 1},
				EthType: 0x0800, NwSrc: 0x0a000001, NwDst: 0x0a000002, NwProto: 17, NwTTL: 64, NwFrag: FragAny | FragLater},
			l4: -1,
		},
		{
			name: "ipv6 hop-by-hop then icmpv6 echo",
			frame: ethHdr + "86dd 60000000 0010 00 40 " + "fe800000000000000000000000000001" + "fe800000000000000000000000000002" +
				"3a00 0000 0000 0000" + "8000 0000 0001 0001",
			want: FlowKey{InPort: 1, EthDst: [6]byte{2, 0, 0, 0, 0, 2}, EthSrc: [6]byte{2, 0, 0, 0, 0, 1},
				EthType: 0x86dd, NwProto: 58, NwTTL: 64, TpSrc: 128, IPv6ExtHdr: IPv6ExtHop,
				IPv6Src: [16]byte{0xfe, 0x80, 15: 1}, IPv6Dst: [16]byte{0xfe, 0x80, 15: 2}},
			l4: 62,
		},
		{
			name:  "truncated ipv4 keeps l2",
			frame: ethHdr + "0800 4500",
			want: FlowKey{InPort: 1, EthDst: [6]byte{2, 0, 0, 0, 0, 2}, EthSrc: [6]byte{2, 0, 0, 0, 0, 1},
				EthType: 0x0800},
			l4: -1,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var k FlowKey
			off := Parse(mustHex(t, tt.frame), 1, &k)
			if k != tt.want {
				t.Errorf("key\n got %+v\nwant %+v", k, tt.want)
			}
			if off.L4 != tt.l4 {
				t.Errorf("L4 offset = %d, want %d", off.L4, tt.l4)
			}
		})
	}
}

func FuzzParse(f *testing.F) {
	f.Add(mustHex(f, ethHdr+ipv4TCPSyn))
	for _, fr := range udpFrames(3) {
		f.Add(fr)
	}
	f.Add(mustHex(f, "ffffffffffff 020000000001 8100 0064 0806 0001 0800 06 04 0001 020000000001 0a000001 000000000000 0a000002"))
	f.Add(mustHex(f, ethHdr+"86dd 60000000 0020 3a 40 fe800000000000000000000000000001 fe800000000000000000000000000002 8700 0000 00000000 fe800000000000000000000000000002 0101 020000000001"))
	f.Fuzz(func(t *testing.T, frame []byte) {
		var k FlowKey
		off := Parse(frame, 7, &k)
		if k.InPort != 7 {
			t.Fatal("in_port lost")
		}
		if int(off.L3) > len(frame) || int(off.L4) > len(frame) {
			t.Fatalf("offsets %+v beyond frame of %d bytes", off, len(frame))
		}
		var full FlowKey
		if fullOff := parseFull(frame, 7, &full); full != k || fullOff != off {
			t.Fatalf("Parse gave %+v, %+v; parseFull %+v, %+v", off, k, fullOff, full)
		}
		if allocs := testing.AllocsPerRun(1, func() { Parse(frame, 7, &k) }); allocs != 0 {
			t.Fatalf("Parse allocated %v times", allocs)
		}
	})
}

// ipv6Chain builds an Ethernet/IPv6 frame whose extension headers are
// hdrs (each 8 bytes long, AH with its own length rule) followed by an
// 8-byte transport header of protocol last.
func ipv6Chain(hdrs []uint8, last uint8) []byte {
	f := []byte{2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 0x86, 0xdd}
	ip := make([]byte, 40)
	ip[0] = 0x60
	ip[7] = 64
	ip[23], ip[39] = 1, 2
	types := append(append([]uint8(nil), hdrs...), last)
	ip[6] = types[0]
	var body []byte
	for i, h := range hdrs {
		e := make([]byte, 8)
		e[0] = types[i+1]
		if h == ipv6AH {
			e[1] = 0 // (0+2)*4 = 8 bytes
		}
		body = append(body, e...)
	}
	body = append(body, 0x30, 0x39, 0x00, 0x16, 0, 8, 0, 0)
	ip[4], ip[5] = byte(len(body)>>8), byte(len(body))
	return append(append(f, ip...), body...)
}

func TestParseIPv6ExtHdr(t *testing.T) {
	tests := []struct {
		name  string
		hdrs  []uint8
		last  uint8
		flags uint16
		proto uint8
	}{
		{"none", nil, IPProtoUDP, 0, IPProtoUDP},
		{"no next header", nil, ipv6NoNext, IPv6ExtNoNext, ipv6NoNext},
		{"hop auth (ryu's 68)", []uint8{ipv6HopByHop, ipv6AH}, IPProtoTCP, IPv6ExtHop | IPv6ExtAuth, IPProtoTCP},
		{"esp ends the chain", []uint8{ipv6HopByHop}, ipv6ESP, IPv6ExtHop | IPv6ExtESP, ipv6ESP},
		{"full order", []uint8{ipv6HopByHop, ipv6DestOpts, ipv6Routing, ipv6Fragment, ipv6AH, ipv6DestOpts}, IPProtoUDP,
			IPv6ExtHop | IPv6ExtDest | IPv6ExtRouter | IPv6ExtFrag | IPv6ExtAuth, IPProtoUDP},
		{"dest router", []uint8{ipv6DestOpts, ipv6Routing}, IPProtoUDP, IPv6ExtDest | IPv6ExtRouter, IPProtoUDP},
		{"hop not first", []uint8{ipv6DestOpts, ipv6HopByHop}, IPProtoUDP, IPv6ExtDest | IPv6ExtHop | IPv6ExtUnseq, IPProtoUDP},
		{"fragment before routing", []uint8{ipv6Fragment, ipv6Routing}, IPProtoUDP, IPv6ExtFrag | IPv6ExtRouter | IPv6ExtUnseq, IPProtoUDP},
		{"routing twice", []uint8{ipv6Routing, ipv6Routing}, IPProtoUDP, IPv6ExtRouter | IPv6ExtUnrep, IPProtoUDP},
		{"three dests", []uint8{ipv6DestOpts, ipv6Routing, ipv6DestOpts, ipv6DestOpts}, IPProtoUDP,
			IPv6ExtDest | IPv6ExtRouter | IPv6ExtUnrep, IPProtoUDP},
		{"auth then none", []uint8{ipv6AH}, ipv6NoNext, IPv6ExtAuth | IPv6ExtNoNext, ipv6NoNext},
	}
	for _, tt := range tests {
		var k FlowKey
		off := Parse(ipv6Chain(tt.hdrs, tt.last), 1, &k)
		if k.IPv6ExtHdr != tt.flags || k.NwProto != tt.proto {
			t.Errorf("%s: exthdr %#x proto %d, want %#x proto %d", tt.name, k.IPv6ExtHdr, k.NwProto, tt.flags, tt.proto)
		}
		if tt.last == IPProtoUDP && (k.TpSrc != 12345 || k.TpDst != 22 || off.L4 != int16(54+8*len(tt.hdrs))) {
			t.Errorf("%s: ports %d/%d at %d", tt.name, k.TpSrc, k.TpDst, off.L4)
		}
	}
	// A truncated chain keeps the flags of the headers seen so far.
	f := ipv6Chain([]uint8{ipv6HopByHop, ipv6Routing}, IPProtoUDP)
	var k FlowKey
	Parse(f[:54+8+4], 1, &k)
	if k.IPv6ExtHdr != IPv6ExtHop|IPv6ExtRouter {
		t.Errorf("truncated: %#x", k.IPv6ExtHdr)
	}
}
