package ofproto

// The checks OpenFlow 1.3.5 (and Open vSwitch 3.1, where the spec leaves a
// choice) make on each request that changes or reads the switch: one
// table per message type. Each table runs in order on one switch, after
// group 1 (indirect, output:1) and meter 1 exist.

import (
	"testing"

	"github.com/goko-net/goko/openflow"
)

type validationCase struct {
	name string
	msg  openflow.Message
	want openflow.ErrorCode // 0: accepted
}

func runValidation(t *testing.T, cases []validationCase) {
	t.Helper()
	ts := newTestSwitch(t, 2)
	setup := []openflow.Message{
		&openflow.GroupMod{Command: openflow.GroupAdd, GroupType: openflow.GroupTypeIndirect, GroupID: 1, Buckets: []openflow.Bucket{bucket(out(1))}},
		meterAdd(1, openflow.MeterFlagKbps, openflow.MeterBand{Type: openflow.MeterBandDrop, Rate: 1000}),
	}
	for _, m := range setup {
		if c := ts.errOf(m); c != 0 {
			t.Fatalf("setup %v: %v", m.Type(), c)
		}
	}
	for _, tc := range cases {
		if got := ts.errOf(tc.msg); got != tc.want {
			t.Errorf("%s: got %v, want %v", tc.name, errName(got), errName(tc.want))
		}
	}
}

func errName(c openflow.ErrorCode) string {
	if c == 0 {
		return "accepted"
	}
	return c.String()
}

var (
	tagged   = openflow.NewMatch(openflow.OXMUintMasked(openflow.OXMVlanVID, uint64(openflow.VIDPresent), uint64(openflow.VIDPresent)))
	ipv4Only = openflow.NewMatch(ipv4)
)

func TestFlowModValidation(t *testing.T) {
	inTable := func(fm *openflow.FlowMod, table uint8) *openflow.FlowMod { fm.TableID = table; return fm }
	runValidation(t, []validationCase{
		// set_field values: the value must fit the field, and a VID
		// carries OFPVID_PRESENT.
		{"set vlan_vid without OFPVID_PRESENT", addFlow(1, tagged, ins(apply(setf(openflow.OXMUint(openflow.OXMVlanVID, 5))))), openflow.BACBadSetArgument},
		{"set vlan_vid with OFPVID_PRESENT", addFlow(1, tagged, ins(apply(setf(openflow.OXMUint(openflow.OXMVlanVID, 0x1005))))), 0},
		{"set vlan_vid wider than 13 bits", addFlow(1, tagged, ins(apply(setf(openflow.OXMUint(openflow.OXMVlanVID, 0x2005))))), openflow.BACBadSetArgument},
		{"set ip_dscp=64", addFlow(1, ipv4Only, ins(apply(setf(openflow.OXMUint(openflow.OXMIPDSCP, 64))))), openflow.BACBadSetArgument},
		{"set in_port", addFlow(1, openflow.Match{}, ins(apply(setf(openflow.OXMInPortVal(2))))), openflow.BACBadSetType},
		{"set tcp_src on IPv4", addFlow(1, ipv4Only, ins(apply(setf(openflow.OXMUint(openflow.OXMTCPSrc, 1))))), openflow.BACMatchInconsistent},
		// Output ports: a flow may name a port that appears later.
		{"output to a port that does not exist yet", addFlow(1, openflow.Match{}, ins(apply(out(7)))), 0},
		{"output to port 0", addFlow(1, openflow.Match{}, ins(apply(out(0)))), openflow.BACBadOutPort},
		{"output to TABLE", addFlow(1, openflow.Match{}, ins(apply(out(openflow.PortTable)))), openflow.BACBadOutPort},
		{"output to a reserved port", addFlow(1, openflow.Match{}, ins(apply(out(0xfffffff0)))), openflow.BACBadOutPort},
		{"group that does not exist", addFlow(1, openflow.Match{}, ins(apply(openflow.ActionGroup{GroupID: 99}))), openflow.BACBadOutGroup},
		{"meter that does not exist", addFlow(1, openflow.Match{}, ins(openflow.InstMeter{MeterID: 99})), openflow.MMFCUnknownMeter},
		{"unknown experimenter action", addFlow(1, openflow.Match{}, ins(apply(openflow.ActionExperimenter{Experimenter: 0x1234, Data: make([]byte, 8)}))), openflow.BACBadExperimenter},
		{"unknown experimenter instruction", addFlow(1, openflow.Match{}, ins(openflow.InstExperimenter{Experimenter: 0x1234, Data: make([]byte, 4)})), openflow.BICBadExperimenter},
		{"goto backwards", addFlow(1, openflow.Match{}, ins(openflow.InstGotoTable{TableID: 0})), openflow.BICBadTableID},
		{"table 254", inTable(addFlow(1, openflow.Match{}, nil), 254), openflow.FMFCBadTableID},
		{"pop_vlan of an untagged packet", addFlow(1, openflow.Match{}, ins(apply(openflow.ActionPopVLAN{}))), openflow.BACMatchInconsistent},
		{"unknown flags", func() *openflow.FlowMod { fm := addFlow(1, openflow.Match{}, nil); fm.Flags = 0x80; return fm }(), openflow.FMFCBadFlags},
	})
}

func TestGroupModValidation(t *testing.T) {
	add := func(typ openflow.GroupType, id uint32, bs ...openflow.Bucket) *openflow.GroupMod {
		return &openflow.GroupMod{Command: openflow.GroupAdd, GroupType: typ, GroupID: id, Buckets: bs}
	}
	watch := func(port, group uint32, weight uint16) openflow.Bucket {
		return openflow.Bucket{Weight: weight, WatchPort: port, WatchGroup: group, Actions: []openflow.Action{out(1)}}
	}
	runValidation(t, []validationCase{
		// Buckets are checked like flows: a port may appear later.
		{"bucket outputs to a port that does not exist yet", add(openflow.GroupTypeAll, 10, bucket(out(7))), 0},
		{"bucket outputs to TABLE", add(openflow.GroupTypeAll, 11, bucket(out(openflow.PortTable))), openflow.BACBadOutPort},
		{"bucket sets vlan_vid without OFPVID_PRESENT", add(openflow.GroupTypeAll, 12, bucket(setf(openflow.OXMUint(openflow.OXMVlanVID, 5)), out(1))), openflow.BACBadSetArgument},
		{"bucket forwards to a group that does not exist", add(openflow.GroupTypeAll, 13, bucket(openflow.ActionGroup{GroupID: 99})), openflow.BACBadOutGroup},
		// Liveness.
		{"fast failover watches a port that does not exist yet", add(openflow.GroupTypeFF, 20, watch(7, openflow.GroupAny, 0)), 0},
		{"fast failover watches a group that does not exist", add(openflow.GroupTypeFF, 21, watch(openflow.PortAny, 99, 0)), openflow.GMFCBadWatch},
		{"fast failover watches group 1", add(openflow.GroupTypeFF, 22, watch(openflow.PortAny, 1, 0)), 0},
		{"fast failover watches nothing", add(openflow.GroupTypeFF, 23, bucket(out(1))), openflow.GMFCBadWatch},
		{"all group watches a port", add(openflow.GroupTypeAll, 24, watch(1, openflow.GroupAny, 0)), openflow.GMFCWatchUnsupported},
		{"indirect group watches a group", add(openflow.GroupTypeIndirect, 25, watch(openflow.PortAny, 1, 0)), openflow.GMFCWatchUnsupported},
		{"select group watches a port", add(openflow.GroupTypeSelect, 26, watch(7, openflow.GroupAny, 1)), 0},
		{"watched group cannot be deleted", &openflow.GroupMod{Command: openflow.GroupDelete, GroupID: 1}, openflow.GMFCChainedGroup},
		// Weights belong to select groups.
		{"all group with a weight", add(openflow.GroupTypeAll, 30, watch(openflow.PortAny, openflow.GroupAny, 5)), openflow.GMFCInvalidGroup},
		{"select group with weights", add(openflow.GroupTypeSelect, 31, watch(openflow.PortAny, openflow.GroupAny, 0), watch(openflow.PortAny, openflow.GroupAny, 3)), 0},
		// Identity and structure.
		{"indirect group with two buckets", add(openflow.GroupTypeIndirect, 40, bucket(out(1)), bucket(out(2))), openflow.GMFCInvalidGroup},
		{"reserved group id", add(openflow.GroupTypeAll, 0xffffff01, bucket(out(1))), openflow.GMFCInvalidGroup},
		{"unknown group type", add(9, 41, bucket(out(1))), openflow.GMFCBadType},
		{"group exists", add(openflow.GroupTypeIndirect, 1, bucket(out(1))), openflow.GMFCGroupExists},
		{"modify a group that does not exist", &openflow.GroupMod{Command: openflow.GroupModify, GroupType: openflow.GroupTypeAll, GroupID: 99}, openflow.GMFCUnknownGroup},
		{"forwards to itself", add(openflow.GroupTypeAll, 42, bucket(openflow.ActionGroup{GroupID: 42})), openflow.GMFCLoop},
		{"delete a group that does not exist", &openflow.GroupMod{Command: openflow.GroupDelete, GroupID: 99}, 0},
	})
}

func TestPacketOutValidation(t *testing.T) {
	po := func(in uint32, acts ...openflow.Action) *openflow.PacketOut {
		return &openflow.PacketOut{BufferID: openflow.NoBuffer, InPort: in, Actions: acts, Data: frame(2, 17, 53)}
	}
	runValidation(t, []validationCase{
		{"output to port 1", po(openflow.PortController, out(1)), 0},
		// A packet-out goes out now: a port that does not exist is an
		// error, not a future port.
		{"output to a port that does not exist", po(openflow.PortController, out(7)), openflow.BACBadOutPort},
		{"output to TABLE", po(openflow.PortController, out(openflow.PortTable)), 0},
		{"output to port 0", po(openflow.PortController, out(0)), openflow.BACBadOutPort},
		{"in_port that does not exist", po(7, out(1)), openflow.BRCBadPort},
		{"in_port 2", po(2, out(1)), 0},
		{"in_port 0", po(0, out(1)), openflow.BRCBadPort},
		{"in_port LOCAL", po(openflow.PortLocal, out(1)), 0},
		{"unknown buffer", &openflow.PacketOut{BufferID: 0x12345, InPort: openflow.PortController, Actions: []openflow.Action{out(1)}}, openflow.BRCBufferUnknown},
		{"group that does not exist", po(openflow.PortController, openflow.ActionGroup{GroupID: 99}), openflow.BACBadOutGroup},
		{"unknown experimenter action", po(openflow.PortController, openflow.ActionExperimenter{Experimenter: 0x1234, Data: make([]byte, 8)}), openflow.BACBadExperimenter},
		{"set vlan_vid on an untagged packet", po(openflow.PortController, setf(openflow.OXMUint(openflow.OXMVlanVID, 0x1005)), out(1)), openflow.BACMatchInconsistent},
		{"shorter than an Ethernet header", &openflow.PacketOut{BufferID: openflow.NoBuffer, InPort: openflow.PortController, Actions: []openflow.Action{out(1)}, Data: []byte{1, 2, 3}}, openflow.BRCBadPacket},
	})
}

func TestPortModValidation(t *testing.T) {
	hw := [6]byte{0x02, 0, 0, 0, 0, 2} // memport "p1"
	supported := openflow.PortFeature10GbFD | openflow.PortFeatureCopper
	runValidation(t, []validationCase{
		{"port that does not exist", &openflow.PortMod{PortNo: 7, HWAddr: hw}, openflow.PMFCBadPort},
		{"port LOCAL", &openflow.PortMod{PortNo: openflow.PortLocal, HWAddr: hw}, openflow.PMFCBadPort},
		{"wrong hardware address", &openflow.PortMod{PortNo: 1, HWAddr: [6]byte{1, 2, 3, 4, 5, 6}}, openflow.PMFCBadHWAddr},
		{"unknown config bit", &openflow.PortMod{PortNo: 1, HWAddr: hw, Config: 0x80, Mask: 0x80}, openflow.PMFCBadConfig},
		{"advertise what the port cannot do", &openflow.PortMod{PortNo: 1, HWAddr: hw, Advertise: 0xffffffff}, openflow.PMFCBadAdvertise},
		{"advertise what the port supports", &openflow.PortMod{PortNo: 1, HWAddr: hw, Advertise: supported}, 0},
		{"no_packet_in", &openflow.PortMod{PortNo: 1, HWAddr: hw, Config: openflow.PortConfigNoPacketIn, Mask: openflow.PortConfigNoPacketIn}, 0},
	})
}

func TestTableModValidation(t *testing.T) {
	runValidation(t, []validationCase{
		{"table that does not exist", &openflow.TableMod{TableID: 254}, openflow.TMFCBadTable},
		{"undefined config bit", &openflow.TableMod{TableID: 0, Config: 4}, openflow.TMFCBadConfig},
		{"deprecated config bits", &openflow.TableMod{TableID: 0, Config: 3}, 0},
		{"all tables", &openflow.TableMod{TableID: tableAll}, 0},
	})
}

func TestMultipartValidation(t *testing.T) {
	mp := func(body openflow.MultipartBody) *openflow.MultipartRequest {
		return &openflow.MultipartRequest{Body: body}
	}
	flows := func(table uint8, m openflow.Match) *openflow.FlowStatsRequest {
		return &openflow.FlowStatsRequest{TableID: table, OutPort: openflow.PortAny, OutGroup: openflow.GroupAny, Match: m}
	}
	runValidation(t, []validationCase{
		{"flow stats of all tables", mp(flows(tableAll, openflow.Match{})), 0},
		{"flow stats of a table that does not exist", mp(flows(254, openflow.Match{})), openflow.BRCBadTableID},
		{"aggregate of a table that does not exist", mp((*openflow.AggregateStatsRequest)(flows(254, openflow.Match{}))), openflow.BRCBadTableID},
		{"flow stats with a match missing its prerequisite", mp(flows(tableAll, openflow.NewMatch(openflow.OXMUint(openflow.OXMTCPDst, 80)))), openflow.BMCBadPrereq},
		{"port stats of a port that does not exist", mp(&openflow.PortStatsRequest{PortNo: 7}), openflow.BRCBadPort},
		{"meter stats of a meter that does not exist", mp(&openflow.MeterStatsRequest{MeterID: 99}), openflow.MMFCUnknownMeter},
		{"meter config of a meter that does not exist", mp(&openflow.MeterConfigRequest{MeterID: 99}), openflow.MMFCUnknownMeter},
		{"meter stats of meter 1", mp(&openflow.MeterStatsRequest{MeterID: 1}), 0},
		{"meter config of all meters", mp(&openflow.MeterConfigRequest{MeterID: openflow.MeterAll}), 0},
		{"group stats of a group that does not exist", mp(&openflow.GroupStatsRequest{GroupID: 99}), 0},
		{"unknown experimenter", mp(&openflow.MultipartExperimenterBody{Experimenter: 0x1234}), openflow.BRCBadExperimenter},
		{"changing table features", mp(&openflow.TableFeaturesRequest{Tables: []openflow.TableFeatures{{TableID: 0}}}), openflow.TFFCEperm},
	})
}
