package ofproto

import (
	"bufio"
	"net"
	"testing"
	"time"

	"github.com/goko-net/goko/datapath"
	"github.com/goko-net/goko/openflow"
)

// translate runs pkt, arriving on inPort, through the bridge's pipeline
// and returns the megaflow, as a datapath upcall would.
func (ts *testSwitch) translate(pkt []byte, inPort uint32) (datapath.Translation, datapath.FlowKey) {
	ts.t.Helper()
	var key datapath.FlowKey
	off := datapath.Parse(pkt, inPort, &key)
	return ts.translateKey(pkt, &key, off), key
}

// translateKey translates pkt with a key the test may have changed.
func (ts *testSwitch) translateKey(pkt []byte, key *datapath.FlowKey, off datapath.Offsets) datapath.Translation {
	var t datapath.Translation
	ts.b.Translate(&datapath.Miss{FilterInput: datapath.FilterInput{Data: pkt, Key: key, Off: off}}, &t)
	return t
}

func (ts *testSwitch) mustFlow(fm *openflow.FlowMod) {
	ts.t.Helper()
	if e := ts.flowMod(fm); e != nil {
		ts.t.Fatalf("flow-mod rejected: %v", e.Code)
	}
}

// errOf sends m and returns the error code it got, or 0.
func (ts *testSwitch) errOf(m openflow.Message) openflow.ErrorCode {
	ts.t.Helper()
	for _, r := range ts.request(m) {
		if e, ok := r.(*openflow.ErrorMsg); ok {
			return e.Code
		}
	}
	return 0
}

func apply(acts ...openflow.Action) openflow.Instruction {
	return openflow.InstApplyActions{Actions: acts}
}
func write(acts ...openflow.Action) openflow.Instruction {
	return openflow.InstWriteActions{Actions: acts}
}
func out(p uint32) openflow.Action                         { return openflow.ActionOutput{Port: p, MaxLen: 0xffff} }
func setf(o openflow.OXM) openflow.Action                  { return openflow.ActionSetField{Field: o} }
func ins(i ...openflow.Instruction) []openflow.Instruction { return i }

func kinds(acts []datapath.Action) []datapath.ActionKind {
	var k []datapath.ActionKind
	for _, a := range acts {
		k = append(k, a.Kind)
	}
	return k
}

func sameKinds(a, b []datapath.ActionKind) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

var ipv4 = openflow.OXMEthTypeVal(0x0800)

func TestActionSetOrder(t *testing.T) {
	ts := newTestSwitch(t, 3)
	ts.mustFlow(addFlow(1, openflow.NewMatch(ipv4), ins(
		// Written in the reverse of execution order.
		write(out(2), openflow.ActionSetQueue{QueueID: 1}, setf(openflow.OXMUint(openflow.OXMIPv4Dst, 0x0a000009)),
			openflow.ActionDecNWTTL{}, openflow.ActionPushVLAN{EtherType: 0x8100}),
		openflow.InstGotoTable{TableID: 1})))
	// Table 1 overrides the output and adds a set_field for another field.
	ts.mustFlow(&openflow.FlowMod{Command: openflow.FlowAdd, TableID: 1, BufferID: openflow.NoBuffer, Match: openflow.NewMatch(ipv4),
		Instructions: ins(write(out(3), setf(openflow.OXMUint(openflow.OXMIPv4Src, 0x0a000008))))})
	mf, _ := ts.translate(frame(2, 17, 53), 1)
	want := []datapath.ActionKind{datapath.ActPushVLAN, datapath.ActDecNwTTL, datapath.ActSetField, datapath.ActSetField,
		datapath.ActSetQueue, datapath.ActOutput}
	if !sameKinds(kinds(mf.Actions), want) {
		t.Fatalf("actions %v, want %v", kinds(mf.Actions), want)
	}
	if mf.Actions[5].Port != 3 {
		t.Errorf("output to %d, want the later write (3)", mf.Actions[5].Port)
	}
	if mf.Actions[1].User == nil || mf.Actions[1].User.Arg.(*packetInArg).reason != openflow.PacketInReasonInvalidTTL {
		t.Errorf("dec_nw_ttl carries no INVALID_TTL packet-in: %+v", mf.Actions[1])
	}
	// Clear-actions empties the set.
	ts.mustFlow(&openflow.FlowMod{Command: openflow.FlowModify, TableID: 1, BufferID: openflow.NoBuffer,
		OutPort: openflow.PortAny, OutGroup: openflow.GroupAny, Instructions: ins(openflow.InstClearActions{})})
	if mf, _ := ts.translate(frame(2, 17, 53), 1); len(mf.Actions) != 0 {
		t.Errorf("after clear-actions: %v", kinds(mf.Actions))
	}
}

func TestActionSetGroupSuppressesOutput(t *testing.T) {
	ts := newTestSwitch(t, 3)
	ts.mustGroup(&openflow.GroupMod{Command: openflow.GroupAdd, GroupType: openflow.GroupTypeIndirect, GroupID: 7,
		Buckets: []openflow.Bucket{{WatchPort: openflow.PortAny, WatchGroup: openflow.GroupAny, Actions: []openflow.Action{out(3)}}}})
	ts.mustFlow(addFlow(1, openflow.Match{}, ins(write(out(2), openflow.ActionGroup{GroupID: 7}))))
	mf, _ := ts.translate(frame(2, 17, 53), 1)
	if len(mf.Actions) != 1 || mf.Actions[0].Port != 3 {
		t.Fatalf("actions %+v, want only the group's output:3", mf.Actions)
	}
}

func TestSetFieldFeedsLaterTables(t *testing.T) {
	ts := newTestSwitch(t, 3)
	ts.mustFlow(addFlow(1, openflow.NewMatch(ipv4), ins(
		apply(setf(openflow.OXMUint(openflow.OXMIPv4Dst, 0x0a000063))), openflow.InstGotoTable{TableID: 1})))
	m := openflow.NewMatch(ipv4, openflow.OXMUint(openflow.OXMIPv4Dst, 0x0a000063))
	ts.mustFlow(&openflow.FlowMod{Command: openflow.FlowAdd, TableID: 1, Priority: 5, BufferID: openflow.NoBuffer, Match: m, Instructions: output(3)})
	mf, _ := ts.translate(frame(2, 17, 53), 1) // nw_dst 10.0.0.2, rewritten to .99
	k := kinds(mf.Actions)
	if !sameKinds(k, []datapath.ActionKind{datapath.ActSetField, datapath.ActOutput}) || mf.Actions[1].Port != 3 {
		t.Fatalf("actions %v %+v: table 1 did not see the rewritten nw_dst", k, mf.Actions)
	}
	if mf.Actions[0].Field != datapath.FieldIPv4Dst || mf.Actions[0].Value[3] != 0x63 {
		t.Errorf("set_field action %+v", mf.Actions[0])
	}
	// The original nw_dst played no part: it must not be in the mask.
	if mf.Mask.NwDst != 0 {
		t.Errorf("mask has nw_dst %#x; the field was set before it was matched", mf.Mask.NwDst)
	}
	if mf.Mask.EthType != 0xffff {
		t.Errorf("mask lacks eth_type: %+v", mf.Mask)
	}
	// Table counters: two lookups, two matches, two rules.
	if len(mf.Stats) != 6 {
		t.Errorf("megaflow carries %d counters, want 6 (2 tables x lookup, match, rule)", len(mf.Stats))
	}
}

func TestPopVLANMasksBothTags(t *testing.T) {
	ts := newTestSwitch(t, 2)
	m := openflow.NewMatch(openflow.OXMUintMasked(openflow.OXMVlanVID, 0x1000, 0x1000))
	ts.mustFlow(addFlow(1, m, ins(apply(openflow.ActionPopVLAN{}), openflow.InstGotoTable{TableID: 1})))
	ts.mustFlow(&openflow.FlowMod{Command: openflow.FlowAdd, TableID: 1, BufferID: openflow.NoBuffer,
		Match: openflow.NewMatch(openflow.OXMVlanVIDVal(0x1000 | 5)), Instructions: output(2)})
	f := frame(2, 17, 53)
	tagged := append(append(append([]byte(nil), f[:12]...), 0x81, 0, 0, 7, 0x81, 0, 0, 5), f[12:]...)
	mf, _ := ts.translate(tagged, 1)
	if len(mf.Actions) != 2 || mf.Actions[1].Kind != datapath.ActOutput {
		t.Fatalf("inner tag 5 should match after pop: %v", kinds(mf.Actions))
	}
	if mf.Mask.Vlan2TCI != 0xffff || mf.Mask.VlanTCI != 0xffff {
		t.Errorf("pop_vlan must put both tags in the mask: %#x %#x", mf.Mask.VlanTCI, mf.Mask.Vlan2TCI)
	}
}

func TestSetFieldValidation(t *testing.T) {
	ts := newTestSwitch(t, 2)
	arp := openflow.OXMEthTypeVal(0x0806)
	tcp := openflow.NewMatch(ipv4, openflow.OXMIPProtoVal(6))
	tests := []struct {
		name  string
		match openflow.Match
		acts  []openflow.Action
		want  openflow.ErrorCode
	}{
		{"ipv4_src on non-IP", openflow.NewMatch(arp), []openflow.Action{setf(openflow.OXMUint(openflow.OXMIPv4Src, 1))}, openflow.BACMatchInconsistent},
		{"ipv4_src without eth_type", openflow.Match{}, []openflow.Action{setf(openflow.OXMUint(openflow.OXMIPv4Src, 1))}, openflow.BACMatchInconsistent},
		{"udp_dst on tcp", tcp, []openflow.Action{setf(openflow.OXMPortVal(openflow.OXMUDPDst, 1))}, openflow.BACMatchInconsistent},
		{"vlan_vid untagged", openflow.Match{}, []openflow.Action{setf(openflow.OXMVlanVIDVal(0x1005))}, openflow.BACMatchInconsistent},
		{"in_port", openflow.Match{}, []openflow.Action{setf(openflow.OXMInPortVal(2))}, openflow.BACBadSetType},
		{"metadata", openflow.Match{}, []openflow.Action{setf(openflow.OXMUint(openflow.OXMMetadata, 1))}, openflow.BACBadSetType},
		{"ip_proto on non-IP", openflow.NewMatch(arp), []openflow.Action{setf(openflow.OXMIPProtoVal(17))}, openflow.BACMatchInconsistent},
		{"ipv4_src after eth_type changed", openflow.NewMatch(ipv4), []openflow.Action{setf(openflow.OXMEthTypeVal(0x8847)), setf(openflow.OXMUint(openflow.OXMIPv4Src, 1))}, openflow.BACMatchInconsistent},
		{"ipv6_exthdr", openflow.NewMatch(openflow.OXMEthTypeVal(0x86dd)), []openflow.Action{setf(openflow.OXMUint(openflow.OXMIPv6ExtHdr, 1))}, openflow.BACBadSetType},
		{"pop_vlan untagged", openflow.Match{}, []openflow.Action{openflow.ActionPopVLAN{}}, openflow.BACMatchInconsistent},
		{"dec_nw_ttl on arp", openflow.NewMatch(arp), []openflow.Action{openflow.ActionDecNWTTL{}}, openflow.BACMatchInconsistent},
		{"ipv4 set after push_mpls", openflow.NewMatch(ipv4), []openflow.Action{openflow.ActionPushMPLS{EtherType: 0x8847}, setf(openflow.OXMUint(openflow.OXMIPv4Src, 1))}, openflow.BACMatchInconsistent},
		{"push_vlan bad ethertype", openflow.Match{}, []openflow.Action{openflow.ActionPushVLAN{EtherType: 0x0800}}, openflow.BACBadArgument},
		{"group missing", openflow.Match{}, []openflow.Action{openflow.ActionGroup{GroupID: 42}}, openflow.BACBadOutGroup},
		{"pop_pbb without pbb", openflow.Match{}, []openflow.Action{openflow.ActionPopPBB{}}, openflow.BACMatchInconsistent},
		{"set pbb_isid without pbb", openflow.Match{}, []openflow.Action{openflow.ActionSetField{Field: openflow.OXMUint(openflow.OXMPBBISID, 7)}}, openflow.BACMatchInconsistent},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := ts.errOf(addFlow(1, tt.match, ins(apply(tt.acts...))))
			if got != tt.want {
				t.Fatalf("got %v, want %v", got, tt.want)
			}
		})
	}
	// Accepted: vlan_vid after push_vlan, tcp_dst on tcp, ipv4 after pop_mpls to IPv4.
	ok := []struct {
		match openflow.Match
		acts  []openflow.Action
	}{
		{openflow.Match{}, []openflow.Action{openflow.ActionPushVLAN{EtherType: 0x8100}, setf(openflow.OXMVlanVIDVal(0x1005))}},
		{tcp, []openflow.Action{setf(openflow.OXMPortVal(openflow.OXMTCPDst, 8080))}},
		{openflow.NewMatch(openflow.OXMEthTypeVal(0x8847)), []openflow.Action{openflow.ActionPopMPLS{EtherType: 0x0800}, setf(openflow.OXMUint(openflow.OXMIPv4Src, 1))}},
	}
	for i, o := range ok {
		if got := ts.errOf(addFlow(uint16(100+i), o.match, ins(apply(o.acts...)))); got != 0 {
			t.Errorf("case %d rejected: %v", i, got)
		}
	}
}

func TestFlowModSemantics(t *testing.T) {
	ts := newTestSwitch(t, 3)
	p1 := openflow.NewMatch(openflow.OXMInPortVal(1))
	p1ip := openflow.NewMatch(openflow.OXMInPortVal(1), ipv4)
	fa := addFlow(10, p1, output(2))
	fa.Cookie = 0x1100
	fb := addFlow(20, p1ip, output(2))
	fb.Cookie = 0x2200
	ts.mustFlow(fa)
	ts.mustFlow(fb)
	outputs := func() map[uint16]uint32 {
		got := map[uint16]uint32{}
		for _, s := range ts.flowStats() {
			for _, in := range s.Instructions {
				if a, ok := in.(openflow.InstApplyActions); ok {
					got[s.Priority] = a.Actions[0].(openflow.ActionOutput).Port
				}
			}
		}
		return got
	}
	// Strict modify of (p1, prio 10) touches only that rule.
	mod := &openflow.FlowMod{Command: openflow.FlowModifyStrict, Priority: 10, Match: p1, BufferID: openflow.NoBuffer, Instructions: output(3)}
	ts.mustFlow(mod)
	if o := outputs(); o[10] != 3 || o[20] != 2 {
		t.Fatalf("modify-strict: %v", o)
	}
	// Non-strict modify with match in_port=1 touches both.
	mod.Command, mod.Instructions = openflow.FlowModify, output(1)
	ts.mustFlow(mod)
	if o := outputs(); o[10] != 1 || o[20] != 1 {
		t.Fatalf("modify: %v", o)
	}
	// Cookie mask filters: only cookie 0x22xx.
	mod.Cookie, mod.CookieMask, mod.Instructions = 0x2200, 0xff00, output(2)
	ts.mustFlow(mod)
	if o := outputs(); o[10] != 1 || o[20] != 2 {
		t.Fatalf("modify with cookie mask: %v", o)
	}
	// Modify that selects nothing adds nothing (OpenFlow 1.3).
	ts.mustFlow(&openflow.FlowMod{Command: openflow.FlowModify, Match: openflow.NewMatch(openflow.OXMInPortVal(3)), BufferID: openflow.NoBuffer, Instructions: output(1)})
	if n := len(ts.flowStats()); n != 2 {
		t.Fatalf("modify of nothing changed the flow count to %d", n)
	}
	// Delete-strict with the wrong priority deletes nothing; delete with a
	// cookie mask deletes one.
	ts.mustFlow(&openflow.FlowMod{Command: openflow.FlowDeleteStrict, Priority: 11, Match: p1, TableID: tableAll,
		OutPort: openflow.PortAny, OutGroup: openflow.GroupAny, BufferID: openflow.NoBuffer})
	if n := len(ts.flowStats()); n != 2 {
		t.Fatalf("delete-strict wrong priority: %d flows", n)
	}
	ts.mustFlow(&openflow.FlowMod{Command: openflow.FlowDelete, Cookie: 0x1100, CookieMask: 0xffff, TableID: tableAll,
		OutPort: openflow.PortAny, OutGroup: openflow.GroupAny, BufferID: openflow.NoBuffer})
	if s := ts.flowStats(); len(s) != 1 || s[0].Priority != 20 {
		t.Fatalf("delete by cookie left %+v", s)
	}
}

func (ts *testSwitch) flowStats() []openflow.FlowStats {
	ts.t.Helper()
	var out []openflow.FlowStats
	for _, r := range ts.request(&openflow.MultipartRequest{Body: &openflow.FlowStatsRequest{TableID: tableAll, OutPort: openflow.PortAny, OutGroup: openflow.GroupAny}}) {
		out = append(out, r.(*openflow.MultipartReply).Body.(*openflow.FlowStatsReply).Stats...)
	}
	return out
}

func TestResetCountsAndOverlap(t *testing.T) {
	ts := newTestSwitch(t, 2)
	m := openflow.NewMatch(openflow.OXMInPortVal(1))
	ts.mustFlow(addFlow(5, m, output(2)))
	ts.ports[1].Inject(frame(2, 17, 53))
	if _, ok := ts.ports[2].Receive(2 * time.Second); !ok {
		t.Fatal("not forwarded")
	}
	// Re-adding the identical rule keeps the counters...
	ts.mustFlow(addFlow(5, m, output(2)))
	if s := ts.flowStats(); s[0].PacketCount != 1 {
		t.Fatalf("re-add lost counters: %d", s[0].PacketCount)
	}
	// ...unless reset_counts is set.
	f := addFlow(5, m, output(2))
	f.Flags = openflow.FlowFlagResetCounts
	ts.mustFlow(f)
	if s := ts.flowStats(); s[0].PacketCount != 0 {
		t.Fatalf("reset_counts kept counters: %d", s[0].PacketCount)
	}
	// check_overlap: same priority, overlapping match.
	g := addFlow(5, openflow.NewMatch(ipv4), output(2))
	g.Flags = openflow.FlowFlagCheckOverlap
	if c := ts.errOf(g); c != openflow.FMFCOverlap {
		t.Fatalf("overlap: %v", c)
	}
	g.Priority = 6
	if c := ts.errOf(g); c != 0 {
		t.Fatalf("different priority does not overlap: %v", c)
	}
}

func TestTimeoutsSendFlowRemoved(t *testing.T) {
	ts := newTestSwitch(t, 2)
	f := addFlow(5, openflow.NewMatch(openflow.OXMInPortVal(1)), output(2))
	f.HardTimeout, f.Flags, f.Cookie = 1, openflow.FlowFlagSendFlowRem, 0xabc
	ts.mustFlow(f)
	g := addFlow(6, openflow.NewMatch(openflow.OXMInPortVal(2)), output(1))
	g.IdleTimeout, g.Flags = 1, openflow.FlowFlagSendFlowRem
	ts.mustFlow(g)
	time.Sleep(1100 * time.Millisecond)
	ts.b.expireFlows(time.Now())
	got := map[uint16]*openflow.FlowRemoved{}
	for len(got) < 2 {
		if fr, ok := ts.recv().(*openflow.FlowRemoved); ok {
			got[fr.Priority] = fr
		}
	}
	if fr := got[5]; fr.Reason != openflow.FlowRemovedHardTimeout || fr.Cookie != 0xabc || fr.DurationSec < 1 || fr.HardTimeout != 1 {
		t.Errorf("hard timeout: %+v", fr)
	}
	if fr := got[6]; fr.Reason != openflow.FlowRemovedIdleTimeout || fr.IdleTimeout != 1 {
		t.Errorf("idle timeout: %+v", fr)
	}
	if n := len(ts.flowStats()); n != 0 {
		t.Errorf("%d flows left", n)
	}
	// A deleted flow with send_flow_rem reports reason DELETE.
	h := addFlow(7, openflow.Match{}, output(2))
	h.Flags = openflow.FlowFlagSendFlowRem
	ts.mustFlow(h)
	replies := ts.request(&openflow.FlowMod{Command: openflow.FlowDelete, TableID: tableAll, OutPort: openflow.PortAny, OutGroup: openflow.GroupAny, BufferID: openflow.NoBuffer})
	if len(replies) != 1 || replies[0].(*openflow.FlowRemoved).Reason != openflow.FlowRemovedDelete {
		t.Errorf("delete: %+v", replies)
	}
}

func TestFragDrop(t *testing.T) {
	ts := newTestSwitch(t, 2)
	ts.mustFlow(addFlow(0, openflow.Match{}, output(2)))
	ts.request(&openflow.SetConfig{SwitchConfig: openflow.SwitchConfig{Flags: openflow.FragDrop, MissSendLen: 128}})
	frag := frame(2, 17, 53)
	frag[20] = 0x20 // more fragments
	mf, _ := ts.translate(frag, 1)
	if len(mf.Actions) != 0 || mf.Mask.NwFrag&datapath.FragAny == 0 {
		t.Fatalf("fragment not dropped: %v mask %#x", kinds(mf.Actions), mf.Mask.NwFrag)
	}
	mf, _ = ts.translate(frame(2, 17, 53), 1)
	if len(mf.Actions) != 1 || mf.Mask.NwFrag&datapath.FragAny == 0 {
		t.Fatalf("non-fragment: %v mask %#x", kinds(mf.Actions), mf.Mask.NwFrag)
	}
	if c := ts.errOf(&openflow.SetConfig{SwitchConfig: openflow.SwitchConfig{Flags: openflow.FragReasm}}); c != openflow.SCFCBadFlags {
		t.Fatalf("frag reasm: %v", c)
	}
}

func TestPacketInBuffers(t *testing.T) {
	ts := newTestSwitch(t, 2)
	ts.mustFlow(addFlow(0, openflow.Match{}, ins(apply(openflow.ActionOutput{Port: openflow.PortController, MaxLen: 20}))))
	ts.ports[1].Inject(frame(2, 17, 53))
	pi, ok := ts.recv().(*openflow.PacketIn)
	if !ok {
		t.Fatal("no packet-in")
	}
	if pi.BufferID == openflow.NoBuffer || len(pi.Data) != 20 || pi.TotalLen != 60 || pi.Reason != openflow.PacketInReasonNoMatch {
		t.Fatalf("packet-in buffer %#x, %d bytes of %d, reason %v", pi.BufferID, len(pi.Data), pi.TotalLen, pi.Reason)
	}
	// A packet-out naming the buffer sends the whole packet.
	po := &openflow.PacketOut{BufferID: pi.BufferID, InPort: 1, Actions: []openflow.Action{out(2)}}
	if c := ts.errOf(po); c != 0 {
		t.Fatalf("packet-out with buffer: %v", c)
	}
	if got, ok := ts.ports[2].Receive(2 * time.Second); !ok || len(got) != 60 {
		t.Fatalf("buffered packet not sent whole (%d bytes)", len(got))
	}
	if c := ts.errOf(po); c != openflow.BRCBufferEmpty {
		t.Fatalf("reused buffer: %v, want BUFFER_EMPTY", c)
	}
	po.BufferID = 0x12345
	if c := ts.errOf(po); c != openflow.BRCBufferUnknown {
		t.Fatalf("unknown buffer: %v", c)
	}
	// A flow-mod naming a buffer installs the rule and then runs the packet.
	ts.ports[1].Inject(frame(2, 17, 53))
	pi = ts.recv().(*openflow.PacketIn)
	fm := addFlow(5, openflow.NewMatch(openflow.OXMInPortVal(1)), output(2))
	fm.BufferID = pi.BufferID
	if c := ts.errOf(fm); c != 0 {
		t.Fatalf("flow-mod with buffer: %v", c)
	}
	if _, ok := ts.ports[2].Receive(2 * time.Second); !ok {
		t.Fatal("flow-mod's buffered packet not forwarded")
	}
	// NO_BUFFER sends the whole packet unbuffered.
	ts.mustFlow(addFlow(9, openflow.NewMatch(openflow.OXMInPortVal(2)), ins(apply(openflow.ActionOutput{Port: openflow.PortController, MaxLen: openflow.ControllerMaxLenNoBuffer}))))
	ts.ports[2].Inject(frame(1, 17, 53))
	pi = ts.recv().(*openflow.PacketIn)
	if pi.BufferID != openflow.NoBuffer || len(pi.Data) != 60 || pi.Reason != openflow.PacketInReasonAction {
		t.Fatalf("no-buffer packet-in: %#x %d %v", pi.BufferID, len(pi.Data), pi.Reason)
	}
}

func TestBufferRing(t *testing.T) {
	var pb pktBuffer
	first := pb.store([]byte{1}, 1)
	for range bufferSlots {
		pb.store([]byte{2}, 1)
	}
	if _, _, err := pb.take(first); err == nil {
		t.Fatal("overwritten buffer still readable")
	} else if c, _ := openflow.CodeOf(err); c != openflow.BRCBufferUnknown {
		t.Fatalf("stale id: %v", err)
	}
	// Ids never equal OFP_NO_BUFFER, even when generations wrap.
	pb.slots[bufferSlots-1].gen = maxBufGen
	pb.next = bufferSlots - 1
	if id := pb.store([]byte{3}, 1); id == openflow.NoBuffer || id>>bufferBits != 1 {
		t.Fatalf("wrapped id %#x", id)
	}
}

func TestMultipartReqMore(t *testing.T) {
	ts := newTestSwitch(t, 1)
	// An empty table-features request split in two parts: one answer, after
	// the last part.
	ts.send(&openflow.MultipartRequest{Flags: openflow.MultipartMore, Body: &openflow.TableFeaturesRequest{}})
	replies := ts.request(&openflow.MultipartRequest{Body: &openflow.TableFeaturesRequest{}})
	n := 0
	for _, r := range replies {
		n += len(r.(*openflow.MultipartReply).Body.(*openflow.TableFeaturesReply).Tables)
	}
	if n != numTables {
		t.Fatalf("reassembled table-features: %d tables in %d replies", n, len(replies))
	}
	// A part of another type for the same xid is an error.
	ts.xid++
	xid := ts.xid
	b1, _ := openflow.Marshal(xid, &openflow.MultipartRequest{Flags: openflow.MultipartMore, Body: &openflow.TableFeaturesRequest{}})
	b2, _ := openflow.Marshal(xid, &openflow.MultipartRequest{Body: &openflow.DescRequest{}})
	ts.cli.Write(append(b1, b2...))
	if e, ok := ts.recv().(*openflow.ErrorMsg); !ok || e.Code != openflow.BRCBadMultipart {
		t.Fatalf("mixed multipart: %+v", e)
	}
}

// another opens a second controller connection to the same bridge.
func (ts *testSwitch) another() *testSwitch {
	srv, cli := net.Pipe()
	go ts.b.Serve(srv)
	c := &testSwitch{t: ts.t, b: ts.b, dp: ts.dp, ports: ts.ports, cli: cli, rd: bufio.NewReader(cli)}
	ts.t.Cleanup(func() { cli.Close() })
	c.send(openflow.NewHello(openflow.Version))
	if _, ok := c.recv().(*openflow.Hello); !ok {
		ts.t.Fatal("no HELLO")
	}
	return c
}

func TestSeveralControllers(t *testing.T) {
	ts := newTestSwitch(t, 2)
	c2 := ts.another()
	c2.request(&openflow.EchoRequest{}) // HELLO handled before packet-ins flow
	ts.mustFlow(addFlow(0, openflow.Match{}, output(openflow.PortController)))
	ts.ports[1].Inject(frame(2, 17, 53))
	for i, c := range []*testSwitch{ts, c2} {
		if _, ok := c.recv().(*openflow.PacketIn); !ok {
			t.Fatalf("controller %d got no packet-in", i)
		}
	}
	// c2 becomes master and ts slave: only c2 gets packet-ins.
	rr := c2.request(&openflow.RoleRequest{RoleMsg: openflow.RoleMsg{Role: openflow.RoleMaster, GenerationID: 1}})
	if r, ok := rr[0].(*openflow.RoleReply); !ok || r.Role != openflow.RoleMaster {
		t.Fatalf("role reply %+v", rr)
	}
	ts.request(&openflow.RoleRequest{RoleMsg: openflow.RoleMsg{Role: openflow.RoleSlave, GenerationID: 2}})
	ts.ports[1].Inject(frame(2, 17, 54))
	if _, ok := c2.recv().(*openflow.PacketIn); !ok {
		t.Fatal("master got no packet-in")
	}
	// The slave may not change state; its barrier shows nothing queued.
	if c := ts.errOf(addFlow(1, openflow.Match{}, nil)); c != openflow.BRCIsSlave {
		t.Fatalf("slave flow-mod: %v", c)
	}
	if got := ts.request(&openflow.EchoRequest{}); len(got) != 1 {
		t.Fatalf("slave got %+v, want only the echo reply", got)
	}
}

func TestInvalidTTLPacketIn(t *testing.T) {
	ts := newTestSwitch(t, 2)
	ts.request(&openflow.SetConfig{SwitchConfig: openflow.SwitchConfig{MissSendLen: 30}})
	ts.mustFlow(addFlow(0, openflow.NewMatch(ipv4), ins(apply(openflow.ActionDecNWTTL{}, out(2)))))
	mf, key := ts.translate(frame(2, 17, 53), 1)
	u := mf.Actions[0].User
	if mf.Actions[0].Kind != datapath.ActDecNwTTL || u == nil {
		t.Fatalf("actions %+v", mf.Actions)
	}
	// What the datapath does when the TTL is invalid: hand u back.
	ts.b.Upcall(frame(2, 17, 53), &key, u)
	pi, ok := ts.recv().(*openflow.PacketIn)
	if !ok || pi.Reason != openflow.PacketInReasonInvalidTTL || len(pi.Data) != 30 || pi.BufferID == openflow.NoBuffer {
		t.Fatalf("invalid-TTL packet-in %+v", pi)
	}
	// An async config without OFPR_INVALID_TTL silences it.
	a := defaultAsync
	a.PacketInMask[0] = 1<<openflow.PacketInReasonNoMatch | 1<<openflow.PacketInReasonAction
	ts.request(&openflow.SetAsync{AsyncConfig: a})
	ts.b.Upcall(frame(2, 17, 53), &key, u)
	if got := ts.request(&openflow.EchoRequest{}); len(got) != 1 {
		t.Fatalf("got %+v, want only the echo reply", got)
	}
}
