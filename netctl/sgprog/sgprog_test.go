package sgprog

import (
	"bytes"
	"encoding/binary"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/goko-net/goko/ubpf"
)

// TestObjectIsCurrent rebuilds sg.o from src/sg.c and compares it with the
// embedded object, so the C source and what netctl loads cannot drift
// (-fdebug-compilation-dir keeps the checkout's path out of the object).
func TestObjectIsCurrent(t *testing.T) {
	clang, err := exec.LookPath("clang")
	if err != nil {
		t.Skip("no clang")
	}
	out := filepath.Join(t.TempDir(), "sg.o")
	cmd := exec.Command(clang, "-O2", "-g", "-fdebug-compilation-dir=.", "-Wall", "-Werror", "-target", "bpf", "-I/usr/include/x86_64-linux-gnu",
		"-I../../ubpf/include", "-c", "src/sg.c", "-o", out)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("clang: %v\n%s", err, b)
	}
	fresh, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(fresh, Object) {
		t.Fatal("sg.o is not what clang builds from src/sg.c: run go generate ./netctl/sgprog")
	}
}

var (
	nicMAC  = [6]byte{0x52, 0x54, 0, 0, 0, 1}
	peerMAC = [6]byte{0x52, 0x54, 0, 0, 0, 2}
)

// packet builds an Ethernet frame from src to dst MAC carrying an IP
// packet from sip to dip with protocol proto; l4 starts the transport
// header (ports, or ICMP type and code).
func packet(srcMAC, dstMAC [6]byte, sip, dip string, proto uint8, l4 []byte, fragOff uint16) []byte {
	s, d := netip.MustParseAddr(sip), netip.MustParseAddr(dip)
	b := append(append(dstMAC[:0:0], dstMAC[:]...), srcMAC[:]...)
	if s.Is4() {
		b = append(b, 0x08, 0x00, 0x45, 0, 0, 0, 0, 0)
		b = binary.BigEndian.AppendUint16(b, fragOff)
		b = append(b, 64, proto, 0, 0)
		b = append(append(b, s.AsSlice()...), d.AsSlice()...)
	} else {
		b = append(b, 0x86, 0xdd, 0x60, 0, 0, 0, 0, byte(len(l4)), proto, 64)
		b = append(append(b, s.AsSlice()...), d.AsSlice()...)
	}
	return append(b, l4...)
}

func ports(dport uint16) []byte { return binary.BigEndian.AppendUint16([]byte{0x30, 0x39}, dport) }

func icmp(typ, code uint8) []byte { return []byte{typ, code, 0, 0, 0, 0, 0, 0} }

// TestProgram loads the object into goko's VM, fills the maps with the
// encoders of this package, and checks the verdicts.
func TestProgram(t *testing.T) {
	p, err := ubpf.LoadELFBytes(Object, ubpf.LoadOptions{Program: Program})
	if err != nil {
		t.Fatal(err)
	}
	put := func(m string, k, v []byte) {
		t.Helper()
		if err := p.Map(m).Update(k, v, 0); err != nil {
			t.Fatalf("%s: %v", m, err)
		}
	}
	put(MapNIC, NICKey(), NICValue(nicMAC))
	// Ingress: class 7 from 10.0.0.0/8 (tcp 1000-2000, icmp echo request),
	// class 9 from 10.1.0.0/16 (class 7's rules plus udp 53);
	// 2001:db8::/32 class 11 (icmpv6 type 128 code 0).
	// Egress: class 5 to anything (any protocol).
	put(MapRemote4, RemoteKey(DirIngress, netip.MustParsePrefix("10.0.0.0/8")), ClassValue(7))
	put(MapRemote4, RemoteKey(DirIngress, netip.MustParsePrefix("10.1.0.0/16")), ClassValue(9))
	put(MapRemote6, RemoteKey(DirIngress, netip.MustParsePrefix("2001:db8::/32")), ClassValue(11))
	put(MapRemote4, RemoteKey(DirEgress, netip.MustParsePrefix("0.0.0.0/0")), ClassValue(5))
	shapes := map[uint32][]Shape{
		7:  {{Proto: 6, PortLo: 1000, PortHi: 2000, ICMPType: -1, ICMPCode: -1}, {Proto: 1, ICMPType: 8, ICMPCode: -1}},
		9:  {{Proto: 6, PortLo: 1000, PortHi: 2000, ICMPType: -1, ICMPCode: -1}, {Proto: 1, ICMPType: 8, ICMPCode: -1}, {Proto: 17, PortLo: 53, PortHi: 53, ICMPType: -1, ICMPCode: -1}},
		11: {{Proto: 58, ICMPType: 128, ICMPCode: 0}},
		5:  {{ICMPType: -1, ICMPCode: -1}},
	}
	for class, ss := range shapes {
		for _, s := range ss {
			for _, k := range ShapeKeys(class, s) {
				put(MapShapes, k, ShapeValue())
			}
		}
	}
	in := func(sip string, proto uint8, l4 []byte) []byte {
		return packet(peerMAC, nicMAC, sip, "10.9.9.9", proto, l4, 0)
	}
	in6 := func(sip string, proto uint8, l4 []byte) []byte {
		return packet(peerMAC, nicMAC, sip, "2001:db8:9::9", proto, l4, 0)
	}
	tests := []struct {
		name string
		pkt  []byte
		want uint64
	}{
		{"tcp 1000, low end", in("10.2.3.4", 6, ports(1000)), 1},
		{"tcp 2000, high end", in("10.2.3.4", 6, ports(2000)), 1},
		{"tcp 1500", in("10.2.3.4", 6, ports(1500)), 1},
		{"tcp 999", in("10.2.3.4", 6, ports(999)), 0},
		{"tcp 2001", in("10.2.3.4", 6, ports(2001)), 0},
		{"udp 1500: wrong protocol", in("10.2.3.4", 17, ports(1500)), 0},
		{"udp 53 from the /8 only", in("10.2.3.4", 17, ports(53)), 0},
		{"udp 53 from the /16", in("10.1.3.4", 17, ports(53)), 1},
		{"tcp 1500 from the /16: the /8's rules hold there too", in("10.1.3.4", 6, ports(1500)), 1},
		{"icmp echo request", in("10.2.3.4", 1, icmp(8, 0)), 1},
		{"icmp echo request, any code", in("10.2.3.4", 1, icmp(8, 3)), 1},
		{"icmp echo reply", in("10.2.3.4", 1, icmp(0, 0)), 0},
		{"outside every prefix", in("11.0.0.1", 6, ports(1500)), 0},
		{"truncated tcp header", in("10.2.3.4", 6, []byte{0x30}), 0},
		{"later fragment of tcp", packet(peerMAC, nicMAC, "10.2.3.4", "10.9.9.9", 6, ports(1500), 100), 0},
		{"icmpv6 echo request code 0", in6("2001:db8::1", 58, icmp(128, 0)), 1},
		{"icmpv6 echo request code 1", in6("2001:db8::1", 58, icmp(128, 1)), 0},
		{"icmpv6 from elsewhere", in6("2001:db9::1", 58, icmp(128, 0)), 0},
		{"egress, any protocol to anyone", packet(nicMAC, peerMAC, "10.9.9.9", "192.0.2.1", 17, ports(9), 0), 1},
		{"egress IPv6: no rule", packet(nicMAC, peerMAC, "2001:db8:9::9", "2001:db8::1", 58, icmp(128, 0), 0), 0},
		{"neither MAC is the NIC's", packet(peerMAC, peerMAC, "10.2.3.4", "10.9.9.9", 6, ports(1500), 0), 0},
		{"ARP", append(append(nicMAC[:0:0], nicMAC[:]...), append(peerMAC[:], 0x08, 0x06, 0, 1)...), 0},
		{"runt", nicMAC[:], 0},
	}
	th := ubpf.NewThread()
	for _, tc := range tests {
		got, err := p.Run(th, tc.pkt)
		if err != nil {
			t.Errorf("%s: %v", tc.name, err)
			continue
		}
		if got != tc.want {
			t.Errorf("%s: got %d, want %d", tc.name, got, tc.want)
		}
	}
}

func TestShapeKeysTileRanges(t *testing.T) {
	for _, r := range [][2]uint16{{1000, 2000}, {1, 65535}, {22, 22}, {1024, 2047}, {65535, 65535}, {1, 1}} {
		keys := ShapeKeys(3, Shape{Proto: 6, PortLo: r[0], PortHi: r[1], ICMPType: -1, ICMPCode: -1})
		covered := map[uint32]int{}
		for _, k := range keys {
			bits := binary.LittleEndian.Uint32(k) - 40
			start := uint32(binary.BigEndian.Uint16(k[9:]))
			for p := start; p < start+1<<(16-bits); p++ {
				covered[p]++
			}
		}
		for p := uint32(0); p <= 65535; p++ {
			in := p >= uint32(r[0]) && p <= uint32(r[1])
			if (covered[p] == 1) != in || covered[p] > 1 {
				t.Fatalf("range %v: port %d covered %d times", r, p, covered[p])
			}
		}
		if len(keys) > 32 {
			t.Errorf("range %v: %d keys", r, len(keys))
		}
		if r == [2]uint16{1000, 2000} {
			t.Logf("1000-2000: %d entries", len(keys))
		}
	}
}
