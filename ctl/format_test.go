package ctl

import (
	"encoding/hex"
	"os/exec"
	"testing"

	"github.com/goko-net/goko/openflow"
)

// TestOVSFormats compares the reply printers with ovs-ofctl's ofp-print
// on replies the fake switch does not produce.
func TestOVSFormats(t *testing.T) {
	bin := needOVS(t)
	ts := func(active ...uint32) []openflow.TableStats {
		var s []openflow.TableStats
		for i, a := range active {
			s = append(s, openflow.TableStats{TableID: uint8(i), ActiveCount: a, LookupCount: 7})
		}
		return s
	}
	tests := []struct {
		msg  openflow.Message
		ours string
	}{
		{&openflow.FeaturesReply{DatapathID: 1, NBuffers: 256, NTables: 254, AuxiliaryID: 3, Capabilities: 0x1ff},
			FormatFeatures(1, &openflow.FeaturesReply{DatapathID: 1, NBuffers: 256, NTables: 254, AuxiliaryID: 3, Capabilities: 0x1ff})},
		{&openflow.FeaturesReply{Capabilities: 0x80000000}, FormatFeatures(1, &openflow.FeaturesReply{Capabilities: 0x80000000})},
	}
	for _, f := range []openflow.ConfigFlags{0, 1, 2, 3} {
		cfg := openflow.SwitchConfig{Flags: f, MissSendLen: 0xffff}
		tests = append(tests, struct {
			msg  openflow.Message
			ours string
		}{&openflow.GetConfigReply{SwitchConfig: cfg}, FormatSwitchConfig(1, &cfg)})
	}
	ports := []openflow.Port{
		{PortNo: 10, Name: "z", HWAddr: [6]byte{1, 2, 3, 4, 5, 6}, Config: 0xffffffff, State: 0xffffffff, Curr: 0xffffffff,
			Advertised: 1, Supported: 2, Peer: 0x8000, CurrSpeed: 1, MaxSpeed: 1500},
		{PortNo: openflow.PortLocal, Name: "br0"},
		{PortNo: 3, Name: "a b", Config: 1 | 4 | 32 | 64, State: 1 | 2 | 4},
		{PortNo: 100, Name: "0123456789abcdef"},
	}
	tests = append(tests, struct {
		msg  openflow.Message
		ours string
	}{&openflow.MultipartReply{Body: &openflow.PortDescReply{Ports: ports}}, FormatPortDesc(1, ports)})
	pstats := []openflow.PortStats{{PortNo: 10, DurationSec: ^uint32(0)}, {PortNo: 100, DurationSec: 1, DurationNsec: 1},
		{PortNo: 1000, RxCRCErr: 5}, {PortNo: 5, RxFrameErr: ^uint64(0)}, {PortNo: openflow.PortLocal, TxBytes: 9}}
	tests = append(tests, struct {
		msg  openflow.Message
		ours string
	}{&openflow.MultipartReply{Body: &openflow.PortStatsReply{Stats: pstats}}, FormatPortStats(1, pstats)})
	for _, s := range [][]openflow.TableStats{ts(1, 0, 0), ts(1, 0, 0, 0, 1), ts(1, 1, 1, 0, 0, 0, 1, 1), ts(1), nil,
		{{TableID: 0}, {TableID: 5}, {TableID: 6}, {TableID: 9, ActiveCount: 1}}} {
		tests = append(tests, struct {
			msg  openflow.Message
			ours string
		}{&openflow.MultipartReply{Body: &openflow.TableStatsReply{Stats: s}}, FormatTableStats(1, s)})
	}
	d := &openflow.DescReply{MfrDesc: "m", HWDesc: "h", SWDesc: "s", SerialNum: "1", DPDesc: "d"}
	a := &openflow.AggregateStatsReply{PacketCount: ^uint64(0), ByteCount: 5, FlowCount: 7}
	tests = append(tests, struct {
		msg  openflow.Message
		ours string
	}{&openflow.MultipartReply{Body: d}, FormatDesc(1, d)}, struct {
		msg  openflow.Message
		ours string
	}{&openflow.MultipartReply{Body: a}, FormatAggregate(1, a)})

	for _, tc := range tests {
		b, err := openflow.Marshal(1, tc.msg)
		if err != nil {
			t.Fatal(err)
		}
		out, err := exec.Command(bin, "ofp-print", hex.EncodeToString(b)).Output()
		if err != nil {
			t.Errorf("ofp-print %T: %v", tc.msg, err)
			continue
		}
		if string(out) != tc.ours {
			t.Errorf("%T:\novs-ofctl:\n%s\nofctl:\n%s", tc.msg, out, tc.ours)
		}
	}
}
