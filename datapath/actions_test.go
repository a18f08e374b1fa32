package datapath_test

import (
	"bytes"
	"encoding/binary"
	"testing"
	"time"

	"github.com/goko-net/goko/datapath"
	"github.com/goko-net/goko/datapath/memport"
	"github.com/goko-net/goko/header"
)

// actionTranslator gives every packet the same actions, matching on nothing
// but in_port.
type actionTranslator struct{ actions []datapath.Action }

func (t *actionTranslator) Translate(m *datapath.Miss, mf *datapath.Translation) {
	mf.Actions = t.actions
}

// harness runs one datapath with ports 1..n and the given actions.
func harness(t *testing.T, n int, actions []datapath.Action) (*datapath.Datapath, []*memport.Port) {
	t.Helper()
	dp := datapath.New(datapath.Config{Name: "t", Translator: &actionTranslator{actions}})
	ports := []*memport.Port{nil}
	for i := 1; i <= n; i++ {
		p := memport.New("p")
		ports = append(ports, p)
		if err := dp.AddPort(uint32(i), p); err != nil {
			t.Fatal(err)
		}
	}
	if err := dp.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(dp.Stop)
	return dp, ports
}

// tcpFrame builds an Ethernet/IPv4/TCP frame with valid checksums.
func tcpFrame() []byte {
	f := make([]byte, 14+20+20+6)
	copy(f, []byte{2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 0x08, 0x00})
	ip := f[14:34]
	copy(ip, []byte{0x45, 0x28, 0, 46, 0, 1, 0, 0, 64, 6, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2})
	binary.BigEndian.PutUint16(ip[header.IPv4Checksum:], header.Checksum(ip, 0))
	tcp := f[34:54]
	copy(tcp, []byte{0x30, 0x39, 0, 80, 0, 0, 0, 1, 0, 0, 0, 0, 0x50, 0x02, 0xff, 0xff})
	copy(f[54:], "hello!")
	fixTCP(f)
	return f
}

func fixTCP(f []byte) {
	tcp := f[34:]
	tcp[16], tcp[17] = 0, 0
	binary.BigEndian.PutUint16(tcp[16:], header.Checksum(tcp, header.PseudoHeaderSum(header.IPProtoTCP, f[26:30], f[30:34], len(tcp))))
}

// checksumsValid verifies the IPv4 header and TCP checksums of f.
func checksumsValid(t *testing.T, f []byte) {
	t.Helper()
	if header.Checksum(f[14:34], 0) != 0 {
		t.Errorf("IPv4 header checksum wrong")
	}
	tcp := f[34:]
	if header.Checksum(tcp, header.PseudoHeaderSum(header.IPProtoTCP, f[26:30], f[30:34], len(tcp))) != 0 {
		t.Errorf("TCP checksum wrong")
	}
}

func setField(f datapath.Field, v ...byte) datapath.Action {
	a := datapath.Action{Kind: datapath.ActSetField, Field: f}
	copy(a.Value[:], v)
	return a
}

func out(port uint32) datapath.Action { return datapath.Action{Kind: datapath.ActOutput, Port: port} }

func TestSetFieldKeepsChecksums(t *testing.T) {
	tests := []struct {
		name   string
		action datapath.Action
		check  func([]byte) bool
	}{
		{"ipv4_src", setField(datapath.FieldIPv4Src, 192, 168, 7, 9), func(f []byte) bool { return bytes.Equal(f[26:30], []byte{192, 168, 7, 9}) }},
		{"ipv4_dst", setField(datapath.FieldIPv4Dst, 172, 16, 0, 1), func(f []byte) bool { return bytes.Equal(f[30:34], []byte{172, 16, 0, 1}) }},
		{"tcp_dst", setField(datapath.FieldTpDst, 0x1f, 0x90), func(f []byte) bool { return f[36] == 0x1f && f[37] == 0x90 }},
		{"dscp", setField(datapath.FieldIPDSCP, 46), func(f []byte) bool { return f[15]>>2 == 46 }},
		{"ttl", datapath.Action{Kind: datapath.ActDecNwTTL}, func(f []byte) bool { return f[22] == 63 }},
		{"eth_dst", setField(datapath.FieldEthDst, 0xaa, 0xbb, 0xcc, 0, 0, 1), func(f []byte) bool { return f[0] == 0xaa && f[5] == 1 }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, ports := harness(t, 2, []datapath.Action{tt.action, out(2)})
			ports[1].Inject(tcpFrame())
			f, ok := ports[2].Receive(2 * time.Second)
			if !ok {
				t.Fatal("no output")
			}
			if !tt.check(f) {
				t.Errorf("field not set: % x", f[:40])
			}
			checksumsValid(t, f)
		})
	}
}

func TestOutputBeforeRewriteSeesOriginal(t *testing.T) {
	_, ports := harness(t, 3, []datapath.Action{out(2), setField(datapath.FieldIPv4Dst, 1, 2, 3, 4), out(3)})
	orig := tcpFrame()
	ports[1].Inject(orig)
	a, ok1 := ports[2].Receive(2 * time.Second)
	b, ok2 := ports[3].Receive(2 * time.Second)
	if !ok1 || !ok2 {
		t.Fatal("missing output")
	}
	if !bytes.Equal(a, orig) {
		t.Error("the first output saw the later rewrite")
	}
	if !bytes.Equal(b[30:34], []byte{1, 2, 3, 4}) {
		t.Error("the second output lacks the rewrite")
	}
}

func TestVLANAndMPLSPushPop(t *testing.T) {
	orig := tcpFrame()
	_, ports := harness(t, 4, []datapath.Action{
		{Kind: datapath.ActPushVLAN, Arg: 0x8100}, setField(datapath.FieldVlanVID, 0, 42), out(2),
		{Kind: datapath.ActPopVLAN}, {Kind: datapath.ActPushMPLS, Arg: 0x8847}, setField(datapath.FieldMPLSLabel, 0, 0x01, 0x23, 0x45), out(3),
		{Kind: datapath.ActPopMPLS, Arg: 0x0800}, out(4),
	})
	ports[1].Inject(orig)
	v, _ := ports[2].Receive(2 * time.Second)
	if len(v) != len(orig)+4 || binary.BigEndian.Uint16(v[12:]) != 0x8100 || binary.BigEndian.Uint16(v[14:])&0xfff != 42 ||
		binary.BigEndian.Uint16(v[16:]) != 0x0800 || !bytes.Equal(v[18:], orig[14:]) {
		t.Errorf("vlan push: % x", v[:24])
	}
	m, _ := ports[3].Receive(2 * time.Second)
	if len(m) != len(orig)+4 || binary.BigEndian.Uint16(m[12:]) != 0x8847 {
		t.Fatalf("mpls push: % x", m[:24])
	}
	lse := binary.BigEndian.Uint32(m[14:])
	if lse>>12 != 0x12345 || lse&0x100 == 0 || lse&0xff != 64 {
		t.Errorf("mpls lse %#x: want label 0x12345, bos, ttl 64", lse)
	}
	p, _ := ports[4].Receive(2 * time.Second)
	if !bytes.Equal(p, orig) {
		t.Errorf("after pop mpls the frame differs from the original:\n% x\n% x", p, orig)
	}
}

func TestSelectGroupIsStablePerFlow(t *testing.T) {
	g := &datapath.SelectGroup{Buckets: []datapath.Bucket{
		{Weight: 1, Actions: []datapath.Action{out(2)}, Stats: new(datapath.FlowStats)},
		{Weight: 1, Actions: []datapath.Action{out(3)}, Stats: new(datapath.FlowStats)},
	}}
	_, ports := harness(t, 3, []datapath.Action{{Kind: datapath.ActSelect, Group: g}})
	for i := 0; i < 200; i++ {
		f := tcpFrame()
		binary.BigEndian.PutUint16(f[34:], uint16(1000+i%20)) // 20 flows
		ports[1].Inject(f)
	}
	seen := map[uint16]int{}
	for i := 0; i < 200; i++ {
		for port, p := range map[int]*memport.Port{2: ports[2], 3: ports[3]} {
			if f, ok := p.Receive(5 * time.Millisecond); ok {
				src := binary.BigEndian.Uint16(f[34:])
				if prev, ok := seen[src]; ok && prev != port {
					t.Fatalf("flow %d went to ports %d and %d", src, prev, port)
				}
				seen[src] = port
			}
		}
	}
	a, b := g.Buckets[0].Stats.Packets.Load(), g.Buckets[1].Stats.Packets.Load()
	if a+b != 200 || a == 0 || b == 0 {
		t.Errorf("bucket counts %d and %d: want 200 spread over both", a, b)
	}
}

func TestMeterDropsAboveRate(t *testing.T) {
	const rate, burst = 20, 10
	m := datapath.NewMeter(true, []datapath.MeterBand{{Rate: rate, Burst: burst, Drop: true}})
	_, ports := harness(t, 2, []datapath.Action{{Kind: datapath.ActMeter, Meter: m}, out(2)})
	start := time.Now()
	for i := 0; i < 1000; i++ {
		ports[1].Inject(tcpFrame())
	}
	got := 0
	for m.Packets.Load() < 1000 {
		time.Sleep(time.Millisecond)
	}
	elapsed := time.Since(start)
	for {
		if _, ok := ports[2].Receive(100 * time.Millisecond); !ok {
			break
		}
		got++
	}
	// The burst passes, plus what the rate refilled while the 1000
	// packets were being processed; everything else is dropped.
	limit := burst + int(rate*elapsed.Seconds()) + 1
	if got < burst || got > limit {
		t.Errorf("%d of 1000 packets passed a %d pps meter with burst %d in %v (want %d..%d)", got, rate, burst, elapsed, burst, limit)
	}
	if m.Packets.Load() != 1000 || m.BandStats(0).Packets.Load() != uint64(1000-got) {
		t.Errorf("meter counted %d packets, band %d drops; passed %d", m.Packets.Load(), m.BandStats(0).Packets.Load(), got)
	}
}

func TestDecTTLExpiryUpcalls(t *testing.T) {
	up := &recorder{}
	u := &datapath.Userspace{Arg: "invalid-ttl"}
	dp := datapath.New(datapath.Config{Name: "t", Upcaller: up,
		Translator: &actionTranslator{[]datapath.Action{{Kind: datapath.ActDecNwTTL, User: u}, out(2)}}})
	p1, p2 := memport.New("a"), memport.New("b")
	dp.AddPort(1, p1)
	dp.AddPort(2, p2)
	dp.Start()
	defer dp.Stop()
	f := tcpFrame()
	f[22] = 1
	binary.BigEndian.PutUint16(f[24:], 0)
	binary.BigEndian.PutUint16(f[24:], header.Checksum(f[14:34], 0))
	p1.Inject(f)
	if _, ok := p2.Receive(200 * time.Millisecond); ok {
		t.Fatal("packet with TTL 1 was forwarded")
	}
	if up.n.Load() != 1 {
		t.Fatalf("upcalls = %d, want 1", up.n.Load())
	}
}

func TestPBBPushSetPop(t *testing.T) {
	orig := tcpFrame()
	_, ports := harness(t, 3, []datapath.Action{
		{Kind: datapath.ActPushPBB, Arg: 0x88e7}, setField(datapath.FieldPBBISID, 0x12, 0x34, 0x56), out(2),
		{Kind: datapath.ActPopPBB}, out(3),
	})
	ports[1].Inject(orig)
	p, ok := ports[2].Receive(2 * time.Second)
	if !ok {
		t.Fatal("no PBB frame")
	}
	if len(p) != len(orig)+18 || binary.BigEndian.Uint16(p[12:]) != 0x88e7 || binary.BigEndian.Uint32(p[14:])&0xffffff != 0x123456 ||
		!bytes.Equal(p[0:12], orig[0:12]) || !bytes.Equal(p[18:], orig) {
		t.Errorf("push_pbb + set pbb_isid:\n% x", p[:40])
	}
	var k datapath.FlowKey
	datapath.Parse(p, 2, &k)
	if k.EthType != 0x88e7 || k.PBBISID != 0x123456 {
		t.Errorf("parsed PBB key: eth_type %#x isid %#x", k.EthType, k.PBBISID)
	}
	if c, _ := ports[3].Receive(2 * time.Second); !bytes.Equal(c, orig) {
		t.Errorf("pop_pbb did not restore the customer frame:\n% x", c)
	}
}
