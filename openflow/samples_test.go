package openflow

import "net/netip"

// sampleMessages returns at least one message of every type and every
// multipart body, in the exact form the decoder produces (nil for empty
// lists and payloads).
func sampleMessages() []Message {
	mac := [6]byte{0x02, 0, 0, 0, 0, 0x01}
	match := NewMatch(
		OXMInPortVal(1),
		OXMMACVal(OXMEthDst, mac, &[6]byte{0xff, 0xff, 0xff, 0, 0, 0}),
		OXMEthTypeVal(0x0800),
		OXMIPProtoVal(6),
		OXMAddrVal(OXMIPv4Src, netip.MustParsePrefix("10.1.2.0/24")),
		OXMPortVal(OXMTCPDst, 80),
		OXMMetadataVal(0x1200, 0xff00),
		OXMVlanVIDVal(VIDPresent|10),
		NewExperimenterOXM(0x00abcdef, 1, []byte{0, 0, 0, 7}, nil),
		NewExperimenterOXM(0x00abcdef, 2, []byte{1, 0}, []byte{3, 0}),
	)
	allActions := []Action{
		ActionOutput{Port: 2, MaxLen: ControllerMaxLenNoBuffer},
		ActionCopyTTLOut{}, ActionCopyTTLIn{},
		ActionSetMPLSTTL{TTL: 9}, ActionDecMPLSTTL{},
		ActionPushVLAN{EtherType: 0x8100}, ActionPopVLAN{},
		ActionPushMPLS{EtherType: 0x8847}, ActionPopMPLS{EtherType: 0x0800},
		ActionSetQueue{QueueID: 3}, ActionGroup{GroupID: 4},
		ActionSetNWTTL{TTL: 64}, ActionDecNWTTL{},
		ActionSetField{Field: OXMIPv6Val()},
		ActionSetField{Field: OXMUint(OXMPBBISID, 0x123456)},
		ActionPushPBB{EtherType: 0x88e7}, ActionPopPBB{},
		ActionExperimenter{Experimenter: 0x2320, Data: []byte{1, 2, 3, 4, 5, 6, 7, 8}},
	}
	insts := []Instruction{
		InstMeter{MeterID: 1},
		InstApplyActions{Actions: allActions},
		InstClearActions{},
		InstWriteActions{Actions: []Action{ActionGroup{GroupID: 1}}},
		InstWriteActions{},
		InstWriteMetadata{Metadata: 5, Mask: 0xff},
		InstGotoTable{TableID: 3},
		InstExperimenter{Experimenter: 7, Data: []byte{9, 9, 9, 9, 9, 9, 9, 9}},
	}
	port := Port{PortNo: 1, HWAddr: mac, Name: "eth0", Config: PortConfigNoPacketIn,
		State: PortStateLive, Curr: PortFeature10GbFD | PortFeatureFiber,
		Advertised: 1, Supported: 2, Peer: 3, CurrSpeed: 10000000, MaxSpeed: 10000000}
	tf := FullTableFeatures(0, 4, "classifier", 1000000)
	tf.Properties = append(tf.Properties,
		&TFPInstructions{Type: TFPTInstructionsMiss, Instructions: []InstructionID{{Type: InstTypeApplyActions}, {Type: InstTypeExperimenter, Data: []byte{0, 0, 0x23, 0x20}}}},
		&TFPNextTables{Type: TFPTNextTablesMiss},
		&TFPActions{Type: TFPTWriteActionsMiss, Actions: []ActionID{{Type: ActionTypeOutput}}},
		&TFPActions{Type: TFPTApplyActionsMiss, Actions: []ActionID{{Type: ActionTypeExperimenter, Data: []byte{1, 2, 3, 4}}}},
		&TFPOXM{Type: TFPTWriteSetfieldMiss, Fields: []OXMID{NewOXMID(OXMEthDst, false)}},
		&TFPOXM{Type: TFPTApplySetfieldMiss, Fields: []OXMID{{Field: MakeField(OXMClassExperimenter, 3), Length: 8, Experimenter: 0xabcdef}}},
		&TFPExperimenter{Type: TFPTExperimenter, Experimenter: 1, ExpType: 2, Data: []byte{3}},
		&TFPExperimenter{Type: TFPTExperimenterMiss, Experimenter: 1, ExpType: 2},
	)
	bands := []MeterBand{
		{Type: MeterBandDrop, Rate: 1000, BurstSize: 100},
		{Type: MeterBandDSCPRemark, Rate: 500, BurstSize: 50, PrecLevel: 1},
		{Type: MeterBandExperimenter, Rate: 1, BurstSize: 2, Experimenter: 3, Data: []byte{4, 5, 6, 7}},
	}
	buckets := []Bucket{
		{Weight: 1, WatchPort: PortAny, WatchGroup: GroupAny, Actions: []Action{ActionOutput{Port: 1}}},
		{Weight: 2, WatchPort: 3, WatchGroup: 4},
	}
	async := AsyncConfig{PacketInMask: [2]uint32{7, 0}, PortStatusMask: [2]uint32{7, 7}, FlowRemovedMask: [2]uint32{15, 0}}
	fsr := FlowStatsRequest{TableID: TableAll, OutPort: PortAny, OutGroup: GroupAny, Cookie: 1, CookieMask: 1, Match: NewMatch(OXMInPortVal(3))}
	return []Message{
		NewHello(1, 4),
		&Hello{Version: 5, Elements: []HelloElem{{Type: 7, Data: []byte{1, 2, 3}}, {Type: HelloElemVersionBitmap, Data: []byte{0, 0, 0, 0x30}}}},
		&Hello{Version: 4},
		&ErrorMsg{Code: BMCBadPrereq, Data: []byte{4, 14, 0, 8, 0, 0, 0, 1}},
		&ErrorMsg{Code: MakeErrorCode(ETExperimenter, 5), Experimenter: 0x2320, Data: []byte{1}},
		&ErrorMsg{Code: HFCIncompatible},
		&EchoRequest{Data: []byte("ping")},
		&EchoRequest{},
		&EchoReply{Data: []byte("pong")},
		&Experimenter{Experimenter: 0x2320, ExpType: 12, Data: []byte{1, 2}},
		&FeaturesRequest{},
		&FeaturesReply{DatapathID: 0x0102030405060708, NBuffers: 256, NTables: 254, AuxiliaryID: 1,
			Capabilities: CapFlowStats | CapTableStats | CapPortStats | CapGroupStats, Reserved: 9},
		&GetConfigRequest{},
		&GetConfigReply{SwitchConfig{Flags: FragDrop, MissSendLen: 128}},
		&SetConfig{SwitchConfig{Flags: FragNormal, MissSendLen: 0xffff}},
		&PacketIn{BufferID: NoBuffer, TotalLen: 60, Reason: PacketInReasonAction, TableID: 2, Cookie: 99,
			Match: NewMatch(OXMInPortVal(7)), Data: []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 1, 2}},
		&PacketIn{BufferID: 1, Match: Match{}},
		&FlowRemoved{Cookie: 1, Priority: 2, Reason: FlowRemovedDelete, TableID: 3, DurationSec: 4,
			DurationNsec: 5, IdleTimeout: 6, HardTimeout: 7, PacketCount: 8, ByteCount: 9, Match: match},
		&PortStatus{Reason: PortReasonModify, Desc: port},
		&PacketOut{BufferID: NoBuffer, InPort: PortController, Actions: []Action{ActionOutput{Port: PortTable}}, Data: []byte{1, 2, 3}},
		&PacketOut{BufferID: 5, InPort: 1},
		&FlowMod{Cookie: 1, CookieMask: 2, TableID: 0, Command: FlowAdd, IdleTimeout: 10, HardTimeout: 20,
			Priority: 100, BufferID: NoBuffer, OutPort: PortAny, OutGroup: GroupAny,
			Flags: FlowFlagSendFlowRem, Match: match, Instructions: insts},
		&FlowMod{Command: FlowDelete, TableID: TableAll, OutPort: PortAny, OutGroup: GroupAny},
		&GroupMod{Command: GroupAdd, GroupType: GroupTypeSelect, GroupID: 1, Buckets: buckets},
		&GroupMod{Command: GroupDelete, GroupID: GroupAll},
		&PortMod{PortNo: 1, HWAddr: mac, Config: PortConfigDown, Mask: PortConfigDown, Advertise: PortFeature1GbFD},
		&TableMod{TableID: 1, Config: 3},
		&MultipartRequest{Body: &DescRequest{}},
		&MultipartReply{Body: &DescReply{MfrDesc: "goko", HWDesc: "hw", SWDesc: "sw", SerialNum: "1", DPDesc: "dp"}},
		&MultipartRequest{Body: &fsr},
		&MultipartReply{Flags: MultipartMore, Body: &FlowStatsReply{Stats: []FlowStats{
			{TableID: 1, DurationSec: 2, DurationNsec: 3, Priority: 4, IdleTimeout: 5, HardTimeout: 6,
				Flags: 7, Cookie: 8, PacketCount: 9, ByteCount: 10, Match: match, Instructions: insts},
			{TableID: 2}}}},
		&MultipartReply{Body: &FlowStatsReply{}},
		&MultipartRequest{Body: (*AggregateStatsRequest)(&fsr)},
		&MultipartReply{Body: &AggregateStatsReply{PacketCount: 1, ByteCount: 2, FlowCount: 3}},
		&MultipartRequest{Body: &TableStatsRequest{}},
		&MultipartReply{Body: &TableStatsReply{Stats: []TableStats{{TableID: 0, ActiveCount: 1, LookupCount: 2, MatchedCount: 3}, {TableID: 1}}}},
		&MultipartRequest{Body: &PortStatsRequest{PortNo: PortAny}},
		&MultipartReply{Body: &PortStatsReply{Stats: []PortStats{{PortNo: 1, RxPackets: 1, TxPackets: 2, RxBytes: 3, TxBytes: 4,
			RxDropped: 5, TxDropped: 6, RxErrors: 7, TxErrors: 8, RxFrameErr: 9, RxOverErr: 10, RxCRCErr: 11,
			Collisions: 12, DurationSec: 13, DurationNsec: 14}}}},
		&MultipartRequest{Body: &QueueStatsRequest{PortNo: PortAny, QueueID: QueueAll}},
		&MultipartReply{Body: &QueueStatsReply{Stats: []QueueStats{{PortNo: 1, QueueID: 2, TxBytes: 3, TxPackets: 4, TxErrors: 5, DurationSec: 6, DurationNsec: 7}}}},
		&MultipartRequest{Body: &GroupStatsRequest{GroupID: GroupAll}},
		&MultipartReply{Body: &GroupStatsReply{Stats: []GroupStats{{GroupID: 1, RefCount: 2, PacketCount: 3, ByteCount: 4,
			DurationSec: 5, DurationNsec: 6, Buckets: []BucketCounter{{1, 2}, {3, 4}}}, {GroupID: 2}}}},
		&MultipartRequest{Body: &GroupDescRequest{}},
		&MultipartReply{Body: &GroupDescReply{Groups: []GroupDesc{{GroupType: GroupTypeFF, GroupID: 1, Buckets: buckets}, {GroupID: 2}}}},
		&MultipartRequest{Body: &GroupFeaturesRequest{}},
		&MultipartReply{Body: &GroupFeaturesReply{Types: 15, Capabilities: GroupCapChaining, MaxGroups: [4]uint32{1, 2, 3, 4}, Actions: [4]uint32{5, 6, 7, 8}}},
		&MultipartRequest{Body: &MeterStatsRequest{MeterID: MeterAll}},
		&MultipartReply{Body: &MeterStatsReply{Stats: []MeterStats{{MeterID: 1, FlowCount: 2, PacketInCount: 3, ByteInCount: 4,
			DurationSec: 5, DurationNsec: 6, Bands: []MeterBandStats{{1, 2}}}}}},
		&MultipartRequest{Body: &MeterConfigRequest{MeterID: 1}},
		&MultipartReply{Body: &MeterConfigReply{Configs: []MeterConfig{{Flags: MeterFlagKbps, MeterID: 1, Bands: bands}, {MeterID: 2}}}},
		&MultipartRequest{Body: &MeterFeaturesRequest{}},
		&MultipartReply{Body: &MeterFeaturesReply{MaxMeter: 1, BandTypes: 6, Capabilities: 15, MaxBands: 2, MaxColor: 3}},
		&MultipartRequest{Body: &TableFeaturesRequest{}},
		&MultipartRequest{Flags: MultipartMore, Body: &TableFeaturesRequest{Tables: []TableFeatures{tf}}},
		&MultipartReply{Body: &TableFeaturesReply{Tables: []TableFeatures{tf, FullTableFeatures(3, 4, "last", 10)}}},
		&MultipartRequest{Body: &PortDescRequest{}},
		&MultipartReply{Body: &PortDescReply{Ports: []Port{port, {PortNo: PortLocal, Name: "br0-sixteen-byte"}}}},
		&MultipartRequest{Body: &MultipartExperimenterBody{Experimenter: 1, ExpType: 2, Data: []byte{3}}},
		&MultipartReply{Body: &MultipartExperimenterBody{Experimenter: 1, ExpType: 2}},
		&BarrierRequest{},
		&BarrierReply{},
		&QueueGetConfigRequest{Port: 1},
		&QueueGetConfigReply{Port: 1, Queues: []PacketQueue{
			{QueueID: 1, Port: 1, Properties: []QueueProp{{Type: QueuePropMinRate, Rate: 100}, {Type: QueuePropMaxRate, Rate: 1001},
				{Type: QueuePropExperimenter, Experimenter: 5, Data: []byte{1, 2, 3}}}},
			{QueueID: 2, Port: 1}}},
		&RoleRequest{RoleMsg{Role: RoleMaster, GenerationID: 7}},
		&RoleReply{RoleMsg{Role: RoleSlave, GenerationID: 8}},
		&GetAsyncRequest{},
		&GetAsyncReply{async},
		&SetAsync{async},
		&MeterMod{Command: MeterAdd, Flags: MeterFlagKbps | MeterFlagBurst, MeterID: 1, Bands: bands},
		&MeterMod{Command: MeterDelete, MeterID: MeterAll},
	}
}

// OXMIPv6Val is a test helper: ipv6_dst=2001:db8::1.
func OXMIPv6Val() OXM {
	return OXMAddrVal(OXMIPv6Dst, netip.MustParsePrefix("2001:db8::1/128"))
}
