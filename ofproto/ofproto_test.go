package ofproto

import (
	"bufio"
	"errors"
	"net"
	"testing"
	"time"

	"github.com/goko-net/goko/datapath"
	"github.com/goko-net/goko/datapath/memport"
	"github.com/goko-net/goko/openflow"
)

// testSwitch is a bridge with memory ports and a client connection speaking
// raw OpenFlow to it.
type testSwitch struct {
	t     *testing.T
	b     *Bridge
	dp    *datapath.Datapath
	ports map[uint32]*memport.Port
	cli   net.Conn
	rd    *bufio.Reader
	xid   uint32
}

func newTestSwitch(t *testing.T, nports int) *testSwitch {
	return newTestSwitchConfig(t, nports, Config{Name: "br0", DatapathID: 0x1})
}

// newTestSwitchPMDs is newTestSwitch with pmds poll-mode threads.
func newTestSwitchPMDs(t *testing.T, nports, pmds int) *testSwitch {
	return newTestSwitchDP(t, nports, Config{Name: "br0", DatapathID: 0x1}, pmds)
}

func newTestSwitchConfig(t *testing.T, nports int, cfg Config) *testSwitch {
	return newTestSwitchDP(t, nports, cfg, 1)
}

func newTestSwitchDP(t *testing.T, nports int, cfg Config, pmds int) *testSwitch {
	b := New(cfg)
	dp := datapath.New(datapath.Config{Name: "br0", Translator: b, Upcaller: b, PMDs: pmds})
	b.SetDatapath(dp)
	ts := &testSwitch{t: t, b: b, dp: dp, ports: map[uint32]*memport.Port{}}
	for i := 1; i <= nports; i++ {
		p := memport.New("p" + string(rune('0'+i)))
		if _, err := b.AddPort(uint32(i), p); err != nil {
			t.Fatal(err)
		}
		ts.ports[uint32(i)] = p
	}
	if err := dp.Start(); err != nil {
		t.Fatal(err)
	}
	srv, cli := net.Pipe()
	go b.Serve(srv)
	ts.cli, ts.rd = cli, bufio.NewReader(cli)
	t.Cleanup(func() {
		cli.Close()
		b.Close()
		dp.Stop()
	})
	ts.send(openflow.NewHello(openflow.Version))
	if _, ok := ts.recv().(*openflow.Hello); !ok {
		t.Fatal("switch did not open with HELLO")
	}
	return ts
}

func (ts *testSwitch) send(m openflow.Message) uint32 {
	ts.t.Helper()
	ts.xid++
	b, err := openflow.Marshal(ts.xid, m)
	if err != nil {
		ts.t.Fatal(err)
	}
	ts.cli.SetWriteDeadline(time.Now().Add(5 * time.Second))
	if _, err := ts.cli.Write(b); err != nil {
		ts.t.Fatal(err)
	}
	return ts.xid
}

func (ts *testSwitch) recv() openflow.Message {
	ts.t.Helper()
	ts.cli.SetReadDeadline(time.Now().Add(5 * time.Second))
	raw, err := openflow.ReadMessage(ts.rd, nil)
	if err != nil {
		ts.t.Fatal(err)
	}
	_, m, err := openflow.Decode(raw)
	if err != nil {
		ts.t.Fatal(err)
	}
	return m
}

// request sends m and a barrier and returns everything received before the
// barrier reply.
func (ts *testSwitch) request(m openflow.Message) []openflow.Message {
	ts.t.Helper()
	ts.send(m)
	ts.send(&openflow.BarrierRequest{})
	var got []openflow.Message
	for {
		r := ts.recv()
		if _, ok := r.(*openflow.BarrierReply); ok {
			return got
		}
		got = append(got, r)
	}
}

func (ts *testSwitch) flowMod(fm *openflow.FlowMod) *openflow.ErrorMsg {
	ts.t.Helper()
	for _, r := range ts.request(fm) {
		if e, ok := r.(*openflow.ErrorMsg); ok {
			return e
		}
	}
	return nil
}

func output(port uint32) []openflow.Instruction {
	return []openflow.Instruction{openflow.InstApplyActions{Actions: []openflow.Action{openflow.ActionOutput{Port: port, MaxLen: 0xffff}}}}
}

func addFlow(prio uint16, m openflow.Match, ins []openflow.Instruction) *openflow.FlowMod {
	return &openflow.FlowMod{Command: openflow.FlowAdd, Priority: prio, BufferID: openflow.NoBuffer,
		OutPort: openflow.PortAny, OutGroup: openflow.GroupAny, Match: m, Instructions: ins}
}

func frame(dstLast byte, proto byte, dport uint16) []byte {
	f := make([]byte, 60)
	copy(f, []byte{2, 0, 0, 0, 0, dstLast, 2, 0, 0, 0, 0, 1, 0x08, 0x00, 0x45, 0, 0, 46, 0, 0, 0, 0, 64, proto})
	copy(f[26:], []byte{10, 0, 0, 1, 10, 0, 0, dstLast})
	f[36], f[37] = byte(dport>>8), byte(dport)
	return f
}

func TestFlowModForwardAndStats(t *testing.T) {
	ts := newTestSwitch(t, 3)
	if e := ts.flowMod(addFlow(10, openflow.NewMatch(openflow.OXMInPortVal(1)), output(2))); e != nil {
		t.Fatalf("add-flow: %v", e.Code)
	}
	// Higher priority: TCP to port 22 goes to port 3.
	m := openflow.NewMatch(openflow.OXMInPortVal(1), openflow.OXMEthTypeVal(0x0800), openflow.OXMIPProtoVal(6),
		openflow.OXMPortVal(openflow.OXMTCPDst, 22))
	if e := ts.flowMod(addFlow(20, m, output(3))); e != nil {
		t.Fatalf("add-flow tcp: %v", e.Code)
	}
	ts.ports[1].Inject(frame(2, 17, 53))
	ts.ports[1].Inject(frame(2, 6, 22))
	if _, ok := ts.ports[2].Receive(2 * time.Second); !ok {
		t.Fatal("udp packet not forwarded to port 2")
	}
	if _, ok := ts.ports[3].Receive(2 * time.Second); !ok {
		t.Fatal("tcp/22 packet not forwarded to port 3")
	}
	replies := ts.request(&openflow.MultipartRequest{Body: &openflow.FlowStatsRequest{TableID: 0xff,
		OutPort: openflow.PortAny, OutGroup: openflow.GroupAny}})
	fs := replies[0].(*openflow.MultipartReply).Body.(*openflow.FlowStatsReply)
	if len(fs.Stats) != 2 {
		t.Fatalf("flow stats: %d flows, want 2", len(fs.Stats))
	}
	for _, s := range fs.Stats {
		if s.PacketCount != 1 || s.ByteCount != 60 {
			t.Errorf("priority %d: packets %d bytes %d, want 1 and 60", s.Priority, s.PacketCount, s.ByteCount)
		}
	}
	if fs.Stats[0].Priority != 20 {
		t.Errorf("flows not in priority order")
	}

	// Deleting with out_port=3 removes only the tcp flow.
	del := &openflow.FlowMod{Command: openflow.FlowDelete, TableID: 0xff, OutPort: 3, OutGroup: openflow.GroupAny, BufferID: openflow.NoBuffer}
	if e := ts.flowMod(del); e != nil {
		t.Fatalf("delete: %v", e.Code)
	}
	ts.ports[1].Inject(frame(2, 6, 22))
	if _, ok := ts.ports[2].Receive(2 * time.Second); !ok {
		t.Fatal("after deleting the tcp rule, tcp/22 should take the in_port rule")
	}
}

func TestFlowModErrors(t *testing.T) {
	ts := newTestSwitch(t, 2)
	tests := []struct {
		name string
		fm   *openflow.FlowMod
		want openflow.ErrorCode
	}{
		{"tcp_dst without ip_proto", addFlow(1, openflow.NewMatch(openflow.OXMEthTypeVal(0x0800), openflow.OXMPortVal(openflow.OXMTCPDst, 80)), nil), openflow.BMCBadPrereq},
		{"bad table", func() *openflow.FlowMod { f := addFlow(1, openflow.Match{}, nil); f.TableID = 254; return f }(), openflow.FMFCBadTableID},
		{"goto backwards", func() *openflow.FlowMod {
			f := addFlow(1, openflow.Match{}, []openflow.Instruction{openflow.InstGotoTable{TableID: 0}})
			return f
		}(), openflow.BICBadTableID},
		{"output to port 0", addFlow(1, openflow.Match{}, output(0)), openflow.BACBadOutPort},
		{"unknown experimenter action", addFlow(1, openflow.Match{}, []openflow.Instruction{openflow.InstApplyActions{Actions: []openflow.Action{openflow.ActionExperimenter{Experimenter: 0x2320, Data: make([]byte, 8)}}}}), openflow.BACBadExperimenter},
		{"push_pbb bad ethertype", addFlow(1, openflow.Match{}, []openflow.Instruction{openflow.InstApplyActions{Actions: []openflow.Action{openflow.ActionPushPBB{EtherType: 0x8100}}}}), openflow.BACBadArgument},
		{"bad command", func() *openflow.FlowMod { f := addFlow(1, openflow.Match{}, nil); f.Command = 9; return f }(), openflow.FMFCBadCommand},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := ts.flowMod(tt.fm)
			if e == nil {
				t.Fatalf("accepted, want %v", tt.want)
			}
			if e.Code != tt.want {
				t.Fatalf("error %v, want %v", e.Code, tt.want)
			}
			if len(e.Data) == 0 {
				t.Error("error does not echo the offending message")
			}
		})
	}
	// check_overlap
	f := addFlow(5, openflow.NewMatch(openflow.OXMInPortVal(1)), output(2))
	if e := ts.flowMod(f); e != nil {
		t.Fatal(e.Code)
	}
	g := addFlow(5, openflow.NewMatch(openflow.OXMEthTypeVal(0x0800)), output(2))
	g.Flags = openflow.FlowFlagCheckOverlap
	if e := ts.flowMod(g); e == nil || e.Code != openflow.FMFCOverlap {
		t.Fatalf("overlap not detected: %v", e)
	}
}

func TestTableMissAndPacketIn(t *testing.T) {
	ts := newTestSwitch(t, 2)
	ts.ports[1].Inject(frame(2, 17, 53))
	ts.dp.Sync()
	ts.dp.Sync()
	if _, ok := ts.ports[2].Receive(100 * time.Millisecond); ok {
		t.Fatal("table miss must drop in OpenFlow 1.3")
	}
	if e := ts.flowMod(addFlow(0, openflow.Match{}, output(openflow.PortController))); e != nil {
		t.Fatal(e.Code)
	}
	ts.ports[1].Inject(frame(2, 17, 53))
	m := ts.recv()
	pi, ok := m.(*openflow.PacketIn)
	if !ok {
		t.Fatalf("got %T, want packet-in", m)
	}
	if pi.Reason != openflow.PacketInReasonNoMatch || pi.BufferID != openflow.NoBuffer || len(pi.Data) != 60 || pi.TotalLen != 60 {
		t.Errorf("packet-in %+v", pi)
	}
	if o := pi.Match.Field(openflow.OXMInPort); o == nil || o.Uint32() != 1 {
		t.Errorf("packet-in match lacks in_port=1: %+v", pi.Match)
	}
	// Packet-out to FLOOD reaches port 2 but not the input port 1.
	ts.request(&openflow.PacketOut{BufferID: openflow.NoBuffer, InPort: 1,
		Actions: []openflow.Action{openflow.ActionOutput{Port: openflow.PortFlood}}, Data: frame(9, 17, 1)})
	if _, ok := ts.ports[2].Receive(2 * time.Second); !ok {
		t.Fatal("packet-out flood did not reach port 2")
	}
	if _, ok := ts.ports[1].Receive(100 * time.Millisecond); ok {
		t.Fatal("flood went back out of the input port")
	}
}

func TestHandshakeAndErrors(t *testing.T) {
	ts := newTestSwitch(t, 1)
	ts.send(&openflow.FeaturesRequest{})
	fr, ok := ts.recv().(*openflow.FeaturesReply)
	if !ok || fr.DatapathID != 1 || fr.NTables != numTables {
		t.Fatalf("features reply %+v", fr)
	}
	ts.send(&openflow.EchoRequest{Data: []byte("hi")})
	if er, ok := ts.recv().(*openflow.EchoReply); !ok || string(er.Data) != "hi" {
		t.Fatalf("echo reply %+v", er)
	}
	// A truncated FLOW_MOD gets OFPBRC_BAD_LEN, and the session survives.
	raw, _ := openflow.Marshal(99, addFlow(1, openflow.Match{}, nil))
	bad := append([]byte(nil), raw[:20]...)
	bad[2], bad[3] = 0, 20
	ts.cli.Write(bad)
	e, ok := ts.recv().(*openflow.ErrorMsg)
	if !ok || e.Code.Type() != openflow.ETBadRequest {
		t.Fatalf("malformed flow-mod: got %+v", e)
	}
	replies := ts.request(&openflow.MultipartRequest{Body: &openflow.TableFeaturesRequest{}})
	n := 0
	for i, r := range replies {
		mp := r.(*openflow.MultipartReply)
		tf := mp.Body.(*openflow.TableFeaturesReply)
		for _, tb := range tf.Tables {
			if len(tb.Properties) < 8 {
				t.Fatalf("table %d has %d properties, want 8", tb.TableID, len(tb.Properties))
			}
		}
		n += len(tf.Tables)
		if more := mp.Flags&openflow.MultipartMore != 0; more != (i < len(replies)-1) {
			t.Fatalf("reply %d of %d: more flag %v", i, len(replies), more)
		}
	}
	if n != numTables {
		t.Fatalf("table features for %d tables, want %d", n, numTables)
	}
}

func TestCompileMatchSemantics(t *testing.T) {
	wide, _ := compileMatch(&openflow.Match{Fields: []openflow.OXM{openflow.OXMEthTypeVal(0x0800)}})
	narrow, _ := compileMatch(&openflow.Match{Fields: []openflow.OXM{openflow.OXMEthTypeVal(0x0800), openflow.OXMIPProtoVal(6)}})
	arp, _ := compileMatch(&openflow.Match{Fields: []openflow.OXM{openflow.OXMEthTypeVal(0x0806)}})
	if !wide.covers(&narrow) || narrow.covers(&wide) {
		t.Error("covers is wrong")
	}
	if !wide.overlaps(&narrow) || wide.overlaps(&arp) {
		t.Error("overlaps is wrong")
	}
	if _, err := compileMatch(&openflow.Match{Fields: []openflow.OXM{openflow.OXMInPortVal(0)}}); err == nil {
		t.Error("in_port=0 accepted")
	} else if code, _ := openflow.CodeOf(err); code != openflow.BMCBadValue {
		t.Errorf("in_port=0: %v", err)
	}
	var oe *openflow.Error
	_, err := compileMatch(&openflow.Match{Fields: []openflow.OXM{openflow.NewExperimenterOXM(0x00abcdef, 3, []byte{1, 2, 3, 4}, nil)}})
	if !errors.As(err, &oe) || oe.Code != openflow.BMCBadField {
		t.Errorf("unsupported field: %v", err)
	}
	fm, err := compileMatch(&openflow.Match{Fields: []openflow.OXM{openflow.OXMEthTypeVal(0x86dd),
		openflow.OXMUintMasked(openflow.OXMIPv6ExtHdr, 0x44, 0x1c4)}})
	if err != nil || fm.value.IPv6ExtHdr != 0x44 || fm.mask.IPv6ExtHdr != 0x1c4 {
		t.Errorf("ipv6_exthdr=0x44/0x1c4: %+v %v", fm.value, err)
	}
}
