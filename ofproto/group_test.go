package ofproto

import (
	"reflect"
	"testing"
	"time"

	"github.com/goko-net/goko/datapath"
	"github.com/goko-net/goko/openflow"
)

func (ts *testSwitch) mustGroup(gm *openflow.GroupMod) {
	ts.t.Helper()
	if c := ts.errOf(gm); c != 0 {
		ts.t.Fatalf("group-mod rejected: %v", c)
	}
}

func bucket(acts ...openflow.Action) openflow.Bucket {
	return openflow.Bucket{WatchPort: openflow.PortAny, WatchGroup: openflow.GroupAny, Actions: acts}
}

func groupAdd(id uint32, typ openflow.GroupType, bs ...openflow.Bucket) *openflow.GroupMod {
	return &openflow.GroupMod{Command: openflow.GroupAdd, GroupType: typ, GroupID: id, Buckets: bs}
}

func toGroup(id uint32) []openflow.Instruction { return ins(apply(openflow.ActionGroup{GroupID: id})) }

func TestGroupTypes(t *testing.T) {
	ts := newTestSwitch(t, 4)
	setMAC := setf(openflow.OXMMACVal(openflow.OXMEthDst, [6]byte{2, 0, 0, 0, 0, 9}, nil))
	ts.mustGroup(groupAdd(1, openflow.GroupTypeAll, bucket(out(2)), bucket(setMAC, out(3))))
	ts.mustGroup(groupAdd(2, openflow.GroupTypeIndirect, bucket(out(4))))
	ts.mustGroup(groupAdd(3, openflow.GroupTypeSelect,
		openflow.Bucket{Weight: 1, WatchPort: openflow.PortAny, WatchGroup: openflow.GroupAny, Actions: []openflow.Action{out(2)}},
		openflow.Bucket{Weight: 3, WatchPort: openflow.PortAny, WatchGroup: openflow.GroupAny, Actions: []openflow.Action{out(3)}}))
	ts.mustGroup(groupAdd(4, openflow.GroupTypeFF,
		openflow.Bucket{WatchPort: 2, WatchGroup: openflow.GroupAny, Actions: []openflow.Action{out(2)}},
		openflow.Bucket{WatchPort: 3, WatchGroup: openflow.GroupAny, Actions: []openflow.Action{out(3)}}))
	// Chaining: group 5 (all) forwards to indirect group 2 and outputs to 3.
	ts.mustGroup(groupAdd(5, openflow.GroupTypeAll, bucket(openflow.ActionGroup{GroupID: 2}), bucket(out(3))))

	flowTo := func(g uint32) datapath.Translation {
		ts.mustFlow(addFlow(1, openflow.Match{}, toGroup(g)))
		mf, _ := ts.translate(frame(2, 17, 53), 1)
		return mf
	}
	// all: bucket 1 plain output, bucket 2 changes a header so runs on a clone.
	mf := flowTo(1)
	if !sameKinds(kinds(mf.Actions), []datapath.ActionKind{datapath.ActOutput, datapath.ActClone}) ||
		!sameKinds(kinds(mf.Actions[1].Nested), []datapath.ActionKind{datapath.ActSetField, datapath.ActOutput}) {
		t.Fatalf("all group: %v", kinds(mf.Actions))
	}
	g1 := ts.b.groups[1]
	if !hasStats(mf.Stats, g1.stats) || !hasStats(mf.Stats, g1.bucketStats[0]) || !hasStats(mf.Stats, g1.bucketStats[1]) {
		t.Error("all group: group and bucket counters not on the megaflow")
	}
	// indirect: inline.
	if mf := flowTo(2); len(mf.Actions) != 1 || mf.Actions[0].Port != 4 {
		t.Fatalf("indirect: %+v", mf.Actions)
	}
	// select: one ActSelect with weighted buckets and the hash fields masked.
	mf = flowTo(3)
	if len(mf.Actions) != 1 || mf.Actions[0].Kind != datapath.ActSelect {
		t.Fatalf("select: %v", kinds(mf.Actions))
	}
	sg := mf.Actions[0].Group
	if len(sg.Buckets) != 2 || sg.Buckets[1].Weight != 3 || sg.Buckets[1].Actions[0].Port != 3 || !hasStats(mf.Stats, ts.b.groups[3].stats) || sg.Buckets[0].Stats != ts.b.groups[3].bucketStats[0] {
		t.Fatalf("select group %+v", sg)
	}
	if sm := datapath.SelectMask(); mf.Mask.NwSrc != sm.NwSrc || mf.Mask.TpDst != sm.TpDst || mf.Mask.EthSrc != sm.EthSrc {
		t.Errorf("select: hash fields not in the mask: %+v", mf.Mask)
	}
	// fast failover: first live bucket; port 2 going down moves to port 3.
	if mf := flowTo(4); len(mf.Actions) != 1 || mf.Actions[0].Port != 2 {
		t.Fatalf("ff: %+v", mf.Actions)
	}
	ts.ports[2].SetLink(false)
	ts.b.checkLinks()
	if mf := flowTo(4); len(mf.Actions) != 1 || mf.Actions[0].Port != 3 {
		t.Fatalf("ff after port 2 link down: %+v", mf.Actions)
	}
	ts.ports[2].SetLink(true)
	ts.b.checkLinks()
	// chaining.
	if mf := flowTo(5); !sameKinds(kinds(mf.Actions), []datapath.ActionKind{datapath.ActOutput, datapath.ActOutput}) || mf.Actions[0].Port != 4 {
		t.Fatalf("chained: %+v", mf.Actions)
	}
}

func hasStats(list []*datapath.FlowStats, s *datapath.FlowStats) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func TestGroupFastFailoverWatchGroup(t *testing.T) {
	ts := newTestSwitch(t, 3)
	ts.mustGroup(groupAdd(1, openflow.GroupTypeFF, openflow.Bucket{WatchPort: 2, WatchGroup: openflow.GroupAny, Actions: []openflow.Action{out(2)}}))
	ts.mustGroup(groupAdd(2, openflow.GroupTypeFF,
		openflow.Bucket{WatchPort: openflow.PortAny, WatchGroup: 1, Actions: []openflow.Action{openflow.ActionGroup{GroupID: 1}}},
		openflow.Bucket{WatchPort: 3, WatchGroup: openflow.GroupAny, Actions: []openflow.Action{out(3)}}))
	ts.mustFlow(addFlow(1, openflow.Match{}, toGroup(2)))
	if mf, _ := ts.translate(frame(2, 17, 53), 1); len(mf.Actions) != 1 || mf.Actions[0].Port != 2 {
		t.Fatalf("watch_group live: %+v", mf.Actions)
	}
	// Port 2 administratively down makes group 1 dead, so group 2 fails over.
	ts.request(&openflow.PortMod{PortNo: 2, Config: openflow.PortConfigDown, Mask: openflow.PortConfigDown, HWAddr: [6]byte(ts.ports[2].Info().HWAddr)})
	if mf, _ := ts.translate(frame(2, 17, 53), 1); len(mf.Actions) != 1 || mf.Actions[0].Port != 3 {
		t.Fatalf("watch_group dead: %+v", mf.Actions)
	}
}

func TestGroupModErrors(t *testing.T) {
	ts := newTestSwitch(t, 2)
	ts.mustGroup(groupAdd(1, openflow.GroupTypeIndirect, bucket(out(2))))
	ts.mustGroup(groupAdd(2, openflow.GroupTypeAll, bucket(openflow.ActionGroup{GroupID: 1})))
	tests := []struct {
		name string
		gm   *openflow.GroupMod
		want openflow.ErrorCode
	}{
		{"exists", groupAdd(1, openflow.GroupTypeAll, bucket(out(2))), openflow.GMFCGroupExists},
		{"reserved id", groupAdd(openflow.GroupAll, openflow.GroupTypeAll), openflow.GMFCInvalidGroup},
		{"indirect two buckets", groupAdd(9, openflow.GroupTypeIndirect, bucket(out(1)), bucket(out(2))), openflow.GMFCInvalidGroup},
		{"bad type", groupAdd(9, 7), openflow.GMFCBadType},
		{"bad command", &openflow.GroupMod{Command: 9, GroupID: 9}, openflow.GMFCBadCommand},
		{"modify unknown", &openflow.GroupMod{Command: openflow.GroupModify, GroupID: 9, GroupType: openflow.GroupTypeAll}, openflow.GMFCUnknownGroup},
		{"self loop", groupAdd(9, openflow.GroupTypeAll, bucket(openflow.ActionGroup{GroupID: 9})), openflow.GMFCLoop},
		{"chain loop", &openflow.GroupMod{Command: openflow.GroupModify, GroupID: 1, GroupType: openflow.GroupTypeIndirect,
			Buckets: []openflow.Bucket{bucket(openflow.ActionGroup{GroupID: 2})}}, openflow.GMFCLoop},
		{"unknown group in bucket", groupAdd(9, openflow.GroupTypeAll, bucket(openflow.ActionGroup{GroupID: 77})), openflow.BACBadOutGroup},
		{"ff without watch", groupAdd(9, openflow.GroupTypeFF, bucket(out(2))), openflow.GMFCBadWatch},
		{"bad watch port", groupAdd(9, openflow.GroupTypeFF, openflow.Bucket{WatchPort: openflow.PortInPort, WatchGroup: openflow.GroupAny}), openflow.GMFCBadWatch},
		{"bad action", groupAdd(9, openflow.GroupTypeAll, bucket(openflow.ActionPushPBB{EtherType: 0x0800})), openflow.BACBadArgument},
		{"delete chained", &openflow.GroupMod{Command: openflow.GroupDelete, GroupID: 1}, openflow.GMFCChainedGroup},
		{"flow to missing group", nil, openflow.BACBadOutGroup},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got openflow.ErrorCode
			if tt.gm == nil {
				got = ts.errOf(addFlow(1, openflow.Match{}, toGroup(55)))
			} else {
				got = ts.errOf(tt.gm)
			}
			if got != tt.want {
				t.Fatalf("got %v, want %v", got, tt.want)
			}
		})
	}
	// Deleting a missing group is fine.
	if c := ts.errOf(&openflow.GroupMod{Command: openflow.GroupDelete, GroupID: 1234}); c != 0 {
		t.Fatalf("delete missing: %v", c)
	}
}

func TestGroupDeleteRemovesFlows(t *testing.T) {
	ts := newTestSwitch(t, 2)
	ts.mustGroup(groupAdd(1, openflow.GroupTypeAll, bucket(out(2))))
	f := addFlow(1, openflow.NewMatch(openflow.OXMInPortVal(1)), ins(write(openflow.ActionGroup{GroupID: 1})))
	f.Flags = openflow.FlowFlagSendFlowRem
	ts.mustFlow(f)
	ts.mustFlow(addFlow(2, openflow.NewMatch(openflow.OXMInPortVal(2)), output(1)))
	replies := ts.request(&openflow.GroupMod{Command: openflow.GroupDelete, GroupID: 1})
	if len(replies) != 1 {
		t.Fatalf("replies %+v, want one flow-removed", replies)
	}
	if fr, ok := replies[0].(*openflow.FlowRemoved); !ok || fr.Reason != openflow.FlowRemovedGroupDelete || fr.Priority != 1 {
		t.Fatalf("got %+v", replies[0])
	}
	if s := ts.flowStats(); len(s) != 1 || s[0].Priority != 2 {
		t.Fatalf("flows left: %+v", s)
	}
}

func TestGroupDescStatsFeatures(t *testing.T) {
	ts := newTestSwitch(t, 3)
	gm := groupAdd(3, openflow.GroupTypeSelect,
		openflow.Bucket{Weight: 2, WatchPort: 2, WatchGroup: openflow.GroupAny, Actions: []openflow.Action{setf(openflow.OXMUint(openflow.OXMIPv4Dst, 0x0a000001)), out(2)}},
		openflow.Bucket{Weight: 5, WatchPort: openflow.PortAny, WatchGroup: openflow.GroupAny, Actions: []openflow.Action{out(3)}})
	ts.mustGroup(gm)
	ts.mustGroup(groupAdd(1, openflow.GroupTypeAll, bucket(out(2)), bucket(out(3))))
	ts.mustFlow(addFlow(1, openflow.NewMatch(openflow.OXMInPortVal(1)), toGroup(1)))
	desc := ts.request(&openflow.MultipartRequest{Body: &openflow.GroupDescRequest{}})[0].(*openflow.MultipartReply).Body.(*openflow.GroupDescReply)
	if len(desc.Groups) != 2 || desc.Groups[0].GroupID != 1 {
		t.Fatalf("group desc %+v", desc)
	}
	if g := desc.Groups[1]; g.GroupType != gm.GroupType || !reflect.DeepEqual(g.Buckets, gm.Buckets) {
		t.Fatalf("group desc not as configured:\n got %+v\nwant %+v", g.Buckets, gm.Buckets)
	}
	// Group and bucket counters come from the datapath.
	ts.ports[1].Inject(frame(2, 17, 53))
	ts.ports[2].Receive(2 * time.Second)
	ts.ports[3].Receive(2 * time.Second)
	st := ts.request(&openflow.MultipartRequest{Body: &openflow.GroupStatsRequest{GroupID: 1}})[0].(*openflow.MultipartReply).Body.(*openflow.GroupStatsReply)
	if len(st.Stats) != 1 {
		t.Fatalf("group stats %+v", st)
	}
	s := st.Stats[0]
	if s.PacketCount != 1 || s.ByteCount != 60 || s.RefCount != 1 || len(s.Buckets) != 2 || s.Buckets[1].PacketCount != 1 {
		t.Fatalf("group stats %+v", s)
	}
	feat := ts.request(&openflow.MultipartRequest{Body: &openflow.GroupFeaturesRequest{}})[0].(*openflow.MultipartReply).Body.(*openflow.GroupFeaturesReply)
	if feat.Types != 0xf || feat.Capabilities&openflow.GroupCapChaining == 0 || feat.Actions[0]&(1<<openflow.ActionTypeSetField) == 0 {
		t.Fatalf("group features %+v", feat)
	}
}

// TestPortDown: mod-port down reports LINK_DOWN (not LIVE), as Open vSwitch
// does, and the port neither forwards nor receives; up restores both.
func TestPortDown(t *testing.T) {
	ts := newTestSwitch(t, 2)
	ts.mustFlow(addFlow(1, openflow.Match{}, output(2)))
	state := func(no uint32) openflow.PortState {
		for _, m := range ts.request(&openflow.MultipartRequest{Body: &openflow.PortDescRequest{}}) {
			for _, p := range m.(*openflow.MultipartReply).Body.(*openflow.PortDescReply).Ports {
				if p.PortNo == no {
					return p.State
				}
			}
		}
		t.Fatalf("port %d not described", no)
		return 0
	}
	mod := func(no uint32, cfg openflow.PortConfig) {
		ts.request(&openflow.PortMod{PortNo: no, Config: cfg, Mask: openflow.PortConfigDown | openflow.PortConfigNoRecv,
			HWAddr: [6]byte(ts.ports[no].Info().HWAddr)})
	}
	if s := state(1); s != openflow.PortStateLive {
		t.Fatalf("port 1 state %v, want LIVE", s)
	}
	mod(2, openflow.PortConfigDown)
	if s := state(2); s != openflow.PortStateLinkDown {
		t.Errorf("port 2 down: state %v, want LINK_DOWN", s)
	}
	if mf, _ := ts.translate(frame(2, 17, 53), 1); len(mf.Actions) != 0 {
		t.Errorf("output to a down port: %+v", mf.Actions)
	}
	mod(1, openflow.PortConfigDown)
	mod(2, 0)
	// (The decision rests on in_port, which the datapath always adds to
	// the mask.)
	if mf, _ := ts.translate(frame(2, 17, 53), 1); len(mf.Actions) != 0 {
		t.Errorf("packet received on a down port: %+v", mf.Actions)
	}
	mod(1, openflow.PortConfigNoRecv)
	if mf, _ := ts.translate(frame(2, 17, 53), 1); len(mf.Actions) != 0 {
		t.Errorf("packet received on a no-receive port: %+v", mf.Actions)
	}
	mod(1, 0)
	if s := state(1); s != openflow.PortStateLive {
		t.Errorf("port 1 up again: state %v, want LIVE", s)
	}
	if mf, _ := ts.translate(frame(2, 17, 53), 1); len(mf.Actions) != 1 || mf.Actions[0].Port != 2 {
		t.Errorf("after up: %+v", mf.Actions)
	}
}
