package datapath_test

import (
	"bytes"
	"encoding/binary"
	"net"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/goko-net/goko/datapath"
	"github.com/goko-net/goko/datapath/memport"
	"github.com/goko-net/goko/header"
)

const (
	vmPort  = 1
	tunPort = 10
	ulPort  = datapath.InternalPortBase
)

var (
	ulMAC   = net.HardwareAddr{0x02, 0, 0, 0, 0, 0xa1}
	peerMAC = net.HardwareAddr{0x02, 0, 0, 0, 0, 0xb2}
	localIP = netip.MustParseAddr("192.0.2.1")
	peerIP  = netip.MustParseAddr("192.0.2.2")
)

// tunTranslator sends VM traffic into VNI 5 towards peerIP and delivers
// decapsulated VNI 5 traffic to the VM; it records the keys it saw.
type tunTranslator struct {
	mu   sync.Mutex
	keys []datapath.FlowKey
}

func (t *tunTranslator) Translate(m *datapath.Miss, mf *datapath.Translation) {
	t.mu.Lock()
	t.keys = append(t.keys, *m.Key)
	t.mu.Unlock()
	mf.Mask.TunID = ^uint64(0)
	switch {
	case m.Key.InPort == vmPort:
		var id, dst [16]byte
		binary.BigEndian.PutUint64(id[:], 5)
		copy(dst[:], peerIP.AsSlice())
		mf.Actions = []datapath.Action{
			{Kind: datapath.ActSetField, Field: datapath.FieldTunID, Value: id},
			{Kind: datapath.ActSetField, Field: datapath.FieldTunDst, Value: dst},
			{Kind: datapath.ActOutput, Port: tunPort},
		}
	case m.Key.InPort == tunPort && m.Key.TunID == 5:
		mf.Actions = []datapath.Action{{Kind: datapath.ActOutput, Port: vmPort}}
	}
}

func tunnelHarness(t *testing.T, static bool) (*datapath.Datapath, *memport.Port, *memport.Port, *tunTranslator, *datapath.Tunnel) {
	t.Helper()
	tr := &tunTranslator{}
	dp := datapath.New(datapath.Config{Name: "t", Translator: tr})
	vm := memport.New("vm")
	ul := memport.New("ul", memport.WithHWAddr(ulMAC))
	nb := datapath.NewNeighbors()
	if static {
		nb.AddStatic(peerIP, peerMAC)
	}
	tun, err := datapath.NewTunnel(datapath.TunnelConfig{Name: "vxlan0", LocalIP: localIP, Underlay: ulPort, Neighbors: nb})
	if err != nil {
		t.Fatal(err)
	}
	for no, p := range map[uint32]datapath.Port{vmPort: vm, ulPort: ul, tunPort: tun} {
		if err := dp.AddPort(no, p); err != nil {
			t.Fatal(err)
		}
	}
	if err := dp.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(dp.Stop)
	return dp, vm, ul, tr, tun
}

// vxlanFrame wraps inner for VNI vni from peerIP to localIP.
func vxlanFrame(inner []byte, vni uint32) []byte {
	f := make([]byte, 50+len(inner))
	copy(f[0:6], ulMAC)
	copy(f[6:12], peerMAC)
	f[12], f[13] = 0x08, 0
	ip := f[14:34]
	ip[0] = 0x45
	binary.BigEndian.PutUint16(ip[2:], uint16(36+len(inner)))
	ip[6] = 0x40
	ip[8], ip[9] = 64, 17
	copy(ip[12:16], peerIP.AsSlice())
	copy(ip[16:20], localIP.AsSlice())
	binary.BigEndian.PutUint16(ip[10:], header.Checksum(ip, 0))
	binary.BigEndian.PutUint16(f[34:], 50000)
	binary.BigEndian.PutUint16(f[36:], 4789)
	binary.BigEndian.PutUint16(f[38:], uint16(16+len(inner)))
	f[42] = 0x08
	binary.BigEndian.PutUint32(f[46:], vni<<8)
	copy(f[50:], inner)
	return f
}

func TestVXLANEncap(t *testing.T) {
	_, vm, ul, _, tun := tunnelHarness(t, true)
	inner := udpFrame(1234)
	vm.Inject(inner)
	out, ok := ul.Receive(2 * time.Second)
	if !ok {
		t.Fatal("no encapsulated packet on the underlay")
	}
	if len(out) != len(inner)+50 {
		t.Fatalf("outer length %d, want %d", len(out), len(inner)+50)
	}
	if !bytes.Equal(out[0:6], peerMAC) || !bytes.Equal(out[6:12], ulMAC) || out[12] != 8 || out[13] != 0 {
		t.Errorf("outer Ethernet % x", out[:14])
	}
	ip := out[14:34]
	if ip[0] != 0x45 || ip[6]&0x40 == 0 || ip[9] != 17 || !bytes.Equal(ip[12:16], localIP.AsSlice()) ||
		!bytes.Equal(ip[16:20], peerIP.AsSlice()) || binary.BigEndian.Uint16(ip[2:]) != uint16(36+len(inner)) {
		t.Errorf("outer IPv4 % x", ip)
	}
	if header.Checksum(ip, 0) != 0 {
		t.Errorf("outer IPv4 checksum wrong")
	}
	sport := binary.BigEndian.Uint16(out[34:])
	if sport < 49152 || binary.BigEndian.Uint16(out[36:]) != 4789 || binary.BigEndian.Uint16(out[38:]) != uint16(16+len(inner)) ||
		binary.BigEndian.Uint16(out[40:]) != 0 {
		t.Errorf("outer UDP % x", out[34:42])
	}
	if out[42] != 0x08 || binary.BigEndian.Uint32(out[46:])>>8 != 5 {
		t.Errorf("VXLAN header % x", out[42:50])
	}
	if !bytes.Equal(out[50:], inner) {
		t.Errorf("inner frame changed")
	}
	// Same flow, same source port; another flow usually another one.
	vm.Inject(inner)
	out2, _ := ul.Receive(2 * time.Second)
	if binary.BigEndian.Uint16(out2[34:]) != sport {
		t.Errorf("source port of one flow changed")
	}
	ports := map[uint16]bool{}
	for i := 0; i < 16; i++ {
		vm.Inject(udpFrame(uint16(2000 + i)))
		o, ok := ul.Receive(2 * time.Second)
		if !ok {
			t.Fatal("lost packet")
		}
		ports[binary.BigEndian.Uint16(o[34:])] = true
	}
	if len(ports) < 8 {
		t.Errorf("16 flows used only %d source ports", len(ports))
	}
	if st := tun.Stats(); st.TxPackets != 18 {
		t.Errorf("tunnel tx = %d, want 18", st.TxPackets)
	}
}

func TestVXLANDecapAndAttacks(t *testing.T) {
	dp, vm, ul, tr, tun := tunnelHarness(t, true)
	inner := udpFrame(77)
	ul.Inject(vxlanFrame(inner, 5))
	got, ok := vm.Receive(2 * time.Second)
	if !ok || !bytes.Equal(got, inner) {
		t.Fatalf("decapsulated frame not delivered intact (ok=%v)", ok)
	}
	tr.mu.Lock()
	k := tr.keys[len(tr.keys)-1]
	tr.mu.Unlock()
	if k.InPort != tunPort || k.TunID != 5 || k.TunSrc != binary.BigEndian.Uint32(peerIP.AsSlice()) ||
		k.TunDst != binary.BigEndian.Uint32(localIP.AsSlice()) {
		t.Errorf("key of decapsulated packet: in_port %d tun_id %d tun_src %x tun_dst %x", k.InPort, k.TunID, k.TunSrc, k.TunDst)
	}

	bad := map[string][]byte{}
	f := vxlanFrame(inner, 6) // a VNI the translator has no rule for
	bad["wrong VNI"] = f
	f = vxlanFrame(inner, 5)
	f[42] = 0 // I flag clear
	bad["no I flag"] = f
	f = vxlanFrame(inner, 5)
	f[33] = 9 // another destination; checksum fixed below
	f[24], f[25] = 0, 0
	binary.BigEndian.PutUint16(f[24:], header.Checksum(f[14:34], 0))
	bad["other destination"] = f
	f = vxlanFrame(inner, 5)
	f[0] = 0x04
	bad["other MAC"] = f
	f = vxlanFrame(inner, 5)
	f[22] = 0
	bad["bad IP checksum"] = f
	f = vxlanFrame(inner, 5)
	f[20] = 0x20 // MF: a fragment
	f[24], f[25] = 0, 0
	binary.BigEndian.PutUint16(f[24:], header.Checksum(f[14:34], 0))
	bad["fragment"] = f
	f = vxlanFrame(inner, 5)
	binary.BigEndian.PutUint16(f[36:], 4790)
	bad["other UDP port"] = f
	bad["plain frame"] = udpFrame(1)
	tagged := append(append(append([]byte(nil), inner[:12]...), 0x81, 0, 0, 5), inner[12:]...)
	bad["tagged inner"] = vxlanFrame(tagged, 5)
	for name, f := range bad {
		ul.Inject(f)
		dp.Sync()
		dp.Sync()
		if _, ok := vm.Receive(20 * time.Millisecond); ok {
			t.Errorf("%s: delivered to the VM", name)
		}
	}
	if n := dp.UnderlayDrops(ulPort); n != 7 {
		t.Errorf("underlay drops = %d, want 7", n)
	}
	if st := tun.Stats(); st.RxPackets != 2 || st.RxDropped != 1 {
		t.Errorf("tunnel rx %d dropped %d, want 2 and 1", st.RxPackets, st.RxDropped)
	}
	// No translation ever saw a packet with the underlay as in_port.
	tr.mu.Lock()
	defer tr.mu.Unlock()
	for _, k := range tr.keys {
		if k.InPort == ulPort {
			t.Errorf("underlay packet reached the translator: %+v", k)
		}
	}
}

func arpFrame(op uint16, sha net.HardwareAddr, spa netip.Addr, tpa netip.Addr, dst net.HardwareAddr) []byte {
	f := make([]byte, 60)
	copy(f[0:6], dst)
	copy(f[6:12], sha)
	f[12], f[13] = 0x08, 0x06
	a := f[14:]
	binary.BigEndian.PutUint16(a[0:], 1)
	binary.BigEndian.PutUint16(a[2:], 0x0800)
	a[4], a[5] = 6, 4
	binary.BigEndian.PutUint16(a[6:], op)
	copy(a[8:14], sha)
	copy(a[14:18], spa.AsSlice())
	copy(a[24:28], tpa.AsSlice())
	return f
}

func TestVXLANNextHopARP(t *testing.T) {
	_, vm, ul, _, tun := tunnelHarness(t, false)
	vm.Inject(udpFrame(5))
	req, ok := ul.Receive(2 * time.Second)
	if !ok {
		t.Fatal("no ARP request for the next hop")
	}
	if binary.BigEndian.Uint16(req[12:]) != 0x0806 || binary.BigEndian.Uint16(req[20:]) != 1 ||
		!bytes.Equal(req[38:42], peerIP.AsSlice()) || !bytes.Equal(req[28:32], localIP.AsSlice()) {
		t.Fatalf("bad ARP request % x", req[:42])
	}
	if st := tun.Stats(); st.TxDropped != 1 {
		t.Errorf("tx dropped = %d, want 1 (no neighbour yet)", st.TxDropped)
	}
	// An unsolicited reply for another address teaches nothing.
	other := netip.MustParseAddr("192.0.2.99")
	ul.Inject(arpFrame(2, net.HardwareAddr{2, 0, 0, 0, 0, 0x99}, other, localIP, ulMAC))
	ul.Inject(arpFrame(2, peerMAC, peerIP, localIP, ulMAC))
	deadline := time.Now().Add(2 * time.Second)
	for {
		vm.Inject(udpFrame(5))
		if out, ok := ul.Receive(100 * time.Millisecond); ok && binary.BigEndian.Uint16(out[12:]) == 0x0800 {
			if !bytes.Equal(out[0:6], peerMAC) {
				t.Fatalf("encapsulated to % x, want the learned MAC", out[0:6])
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("no encapsulation after the ARP reply")
		}
	}
	for _, n := range tun.Config().Neighbors.List() {
		if n.IP == other {
			t.Errorf("learned an unsolicited reply for %v", other)
		}
	}
	// Requests for local_ip are answered.
	asker := netip.MustParseAddr("192.0.2.7")
	askerMAC := net.HardwareAddr{2, 0, 0, 0, 0, 7}
	ul.Inject(arpFrame(1, askerMAC, asker, localIP, net.HardwareAddr{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}))
	deadline = time.Now().Add(2 * time.Second)
	for {
		r, ok := ul.Receive(time.Second)
		if ok && binary.BigEndian.Uint16(r[12:]) == 0x0806 && binary.BigEndian.Uint16(r[20:]) == 2 {
			if !bytes.Equal(r[0:6], askerMAC) || !bytes.Equal(r[22:28], ulMAC) || !bytes.Equal(r[28:32], localIP.AsSlice()) {
				t.Errorf("bad ARP reply % x", r[:42])
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("ARP request for local_ip not answered")
		}
	}
}

func TestConntrackReplyFilter(t *testing.T) {
	dp := datapath.New(datapath.Config{Name: "ct", Translator: &actionTranslator{[]datapath.Action{
		{Kind: datapath.ActCTCommit, Zone: 7}, {Kind: datapath.ActOutput, Port: 2}}}})
	p1, p2 := memport.New("p1"), memport.New("p2")
	dp.AddPort(1, p1)
	dp.AddPort(2, p2)
	if err := dp.Start(); err != nil {
		t.Fatal(err)
	}
	defer dp.Stop()
	out := udpFrame(1000) // 10.0.0.1:1000 -> 10.0.0.2:53
	reply := udpFrame(53)
	copy(reply[26:30], []byte{10, 0, 0, 2})
	copy(reply[30:34], []byte{10, 0, 0, 1})
	reply[36], reply[37] = 1000>>8, 1000&0xff
	f := dp.Conntrack().ReplyFilter(7)
	if f.Match(filterIn(reply)) {
		t.Fatal("reply matched before any commit")
	}
	p1.Inject(out)
	if _, ok := p2.Receive(2 * time.Second); !ok {
		t.Fatal("not forwarded")
	}
	if !f.Match(filterIn(reply)) {
		t.Error("reply does not match after the commit")
	}
	if dp.Conntrack().ReplyFilter(8).Match(filterIn(reply)) {
		t.Error("reply matched in another zone")
	}
	if f.Match(filterIn(out)) {
		t.Error("the original direction matched as a reply")
	}
	other := append([]byte(nil), reply...)
	other[35] = 54 // another source port of the same peer
	if f.Match(filterIn(other)) {
		t.Error("unsolicited packet from the same peer matched")
	}
	if dp.Conntrack().ReplyFilter(7) != f {
		t.Error("filters of one zone are not equal")
	}
	dp.Conntrack().Flush(7)
	if f.Match(filterIn(reply)) {
		t.Error("reply matched after Flush")
	}
}

// benchTunnel runs frames from port src of a tunnel datapath until the
// sink counted b.N packets, and reports Mpps.
func benchTunnel(b *testing.B, fromUnderlay bool, filters []datapath.FilterCheck) {
	frames := make([][]byte, 1024)
	for i := range frames {
		frames[i] = udpFrame(uint16(i))
		if fromUnderlay {
			frames[i] = vxlanFrame(frames[i], 5)
		}
	}
	tr := &benchTunTranslator{filters: filters}
	dp := datapath.New(datapath.Config{Name: "bench", Translator: tr})
	nb := datapath.NewNeighbors()
	nb.AddStatic(peerIP, peerMAC)
	tun, _ := datapath.NewTunnel(datapath.TunnelConfig{Name: "vx", LocalIP: localIP, Underlay: ulPort, Neighbors: nb})
	var vm, ul *memport.Port
	var sink *memport.Port
	if fromUnderlay {
		ul = memport.New("ul", memport.WithHWAddr(ulMAC), memport.WithReplay(frames))
		vm = memport.New("vm", memport.WithDiscard())
		sink = vm
	} else {
		vm = memport.New("vm", memport.WithReplay(frames))
		ul = memport.New("ul", memport.WithHWAddr(ulMAC), memport.WithDiscard())
		sink = ul
	}
	dp.AddPort(vmPort, vm)
	dp.AddPort(ulPort, ul)
	dp.AddPort(tunPort, tun)
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	if err := dp.Start(); err != nil {
		b.Fatal(err)
	}
	for sink.Stats().TxPackets < uint64(b.N) {
		time.Sleep(100 * time.Microsecond)
	}
	dp.Stop()
	b.ReportMetric(float64(sink.Stats().TxPackets)/time.Since(start).Seconds()/1e6, "Mpps")
}

// benchTunTranslator is tunTranslator without the recording, with an
// optional filter chain on the decapsulated direction.
type benchTunTranslator struct{ filters []datapath.FilterCheck }

func (t *benchTunTranslator) Translate(m *datapath.Miss, mf *datapath.Translation) {
	mf.Mask.TunID = ^uint64(0)
	if m.Key.InPort == vmPort {
		var id, dst [16]byte
		binary.BigEndian.PutUint64(id[:], 5)
		copy(dst[:], peerIP.AsSlice())
		mf.Actions = []datapath.Action{
			{Kind: datapath.ActSetField, Field: datapath.FieldTunID, Value: id},
			{Kind: datapath.ActSetField, Field: datapath.FieldTunDst, Value: dst},
			{Kind: datapath.ActOutput, Port: tunPort},
		}
		return
	}
	mf.Filters = t.filters
	mf.Actions = []datapath.Action{{Kind: datapath.ActOutput, Port: vmPort}}
}

func BenchmarkVXLANEncap(b *testing.B) { benchTunnel(b, false, nil) }
func BenchmarkVXLANDecap(b *testing.B) { benchTunnel(b, true, nil) }

// BenchmarkVXLANDecapConntrack adds a ct_reply check (a miss in an empty
// table, then the Want=false megaflow... here Want=true with a table that
// has the reverse tuples of every flow) to every decapsulated packet.
func BenchmarkVXLANDecapConntrack(b *testing.B) {
	ct := datapath.New(datapath.Config{}).Conntrack()
	f := ct.ReplyFilter(1)
	benchTunnel(b, true, []datapath.FilterCheck{{Filter: f, Want: false}})
}

func TestConntrackZoneQuota(t *testing.T) {
	dp := datapath.New(datapath.Config{Name: "ct", ConntrackMax: 32, Translator: &actionTranslator{[]datapath.Action{
		{Kind: datapath.ActCTCommit, Zone: 1}}}})
	p1 := memport.New("p1")
	dp.AddPort(1, p1)
	if err := dp.Start(); err != nil {
		t.Fatal(err)
	}
	defer dp.Stop()
	for i := 0; i < 10; i++ {
		p1.Inject(udpFrame(uint16(100 + i)))
	}
	deadline := time.Now().Add(2 * time.Second)
	for dp.Conntrack().Stats().Commits < 10 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	st := dp.Conntrack().Stats()
	if st.Entries != 2 || st.Full != 8 {
		t.Errorf("zone quota of 32/16: entries %d, refused %d; want 2 and 8", st.Entries, st.Full)
	}
}

// TestConntrackTCPOpensOnlyWithSYN: the answers of a NIC to a connection a
// peer opened (SYN-ACK, ACK) record nothing, so the peer's later packets
// are never "replies"; the NIC's own SYN does record its connection.
func TestConntrackTCPOpensOnlyWithSYN(t *testing.T) {
	dp := datapath.New(datapath.Config{Name: "ct", Translator: &actionTranslator{[]datapath.Action{
		{Kind: datapath.ActCTCommit, Zone: 3}, {Kind: datapath.ActOutput, Port: 2}}}})
	p1, p2 := memport.New("p1"), memport.New("p2")
	dp.AddPort(1, p1)
	dp.AddPort(2, p2)
	if err := dp.Start(); err != nil {
		t.Fatal(err)
	}
	defer dp.Stop()
	seg := func(flags byte) []byte { // 10.0.0.1:12345 -> 10.0.0.2:80
		f := tcpFrame()
		f[47] = flags
		fixTCP(f)
		return f
	}
	back := func(flags byte) []byte { // 10.0.0.2:80 -> 10.0.0.1:12345
		f := seg(flags)
		copy(f[26:30], []byte{10, 0, 0, 2})
		copy(f[30:34], []byte{10, 0, 0, 1})
		f[34], f[35], f[36], f[37] = 0, 80, 0x30, 0x39
		return f
	}
	f := dp.Conntrack().ReplyFilter(3)
	for _, flags := range []byte{0x12, 0x10, 0x18, 0x11, 0x04} { // SYN-ACK, ACK, PSH-ACK, FIN-ACK, RST
		p1.Inject(seg(flags))
		if _, ok := p2.Receive(2 * time.Second); !ok {
			t.Fatal("not forwarded")
		}
		if f.Match(filterIn(back(0x10))) {
			t.Fatalf("a segment with flags %#x opened a connection", flags)
		}
	}
	p1.Inject(seg(0x02)) // SYN
	p2.Receive(2 * time.Second)
	if !f.Match(filterIn(back(0x12))) || !f.Match(filterIn(back(0x10))) {
		t.Error("the answers to a SYN are not replies")
	}
}

// filterIn parses pkt as the datapath does before running filters.
func filterIn(pkt []byte) *datapath.FilterInput {
	in := &datapath.FilterInput{Data: pkt, Key: new(datapath.FlowKey)}
	in.Off = datapath.Parse(pkt, 1, in.Key)
	return in
}
