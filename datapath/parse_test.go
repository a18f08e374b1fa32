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
				EthType: 0x86dd, NwProto: 58, NwTTL: 64, TpSrc: 128,
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
		if allocs := testing.AllocsPerRun(1, func() { Parse(frame, 7, &k) }); allocs != 0 {
			t.Fatalf("Parse allocated %v times", allocs)
		}
	})
}
