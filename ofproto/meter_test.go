package ofproto

import (
	"reflect"
	"testing"

	"github.com/goko-net/goko/datapath"
	"github.com/goko-net/goko/openflow"
)

func meterAdd(id uint32, flags openflow.MeterFlags, bands ...openflow.MeterBand) *openflow.MeterMod {
	return &openflow.MeterMod{Command: openflow.MeterAdd, Flags: flags, MeterID: id, Bands: bands}
}

func TestMeterConfigRoundTrip(t *testing.T) {
	ts := newTestSwitch(t, 2)
	mods := []*openflow.MeterMod{
		meterAdd(1, openflow.MeterFlagKbps|openflow.MeterFlagStats, openflow.MeterBand{Type: openflow.MeterBandDrop, Rate: 1000}),
		meterAdd(2, openflow.MeterFlagPktps|openflow.MeterFlagBurst,
			openflow.MeterBand{Type: openflow.MeterBandDrop, Rate: 100, BurstSize: 0},
			openflow.MeterBand{Type: openflow.MeterBandDSCPRemark, Rate: 50, BurstSize: 20, PrecLevel: 1}),
		// Burst size without OFPMF_BURST is kept as sent (and ignored).
		meterAdd(3, openflow.MeterFlagKbps, openflow.MeterBand{Type: openflow.MeterBandDrop, Rate: 5, BurstSize: 7}),
	}
	for _, m := range mods {
		if c := ts.errOf(m); c != 0 {
			t.Fatalf("meter %d: %v", m.MeterID, c)
		}
	}
	cfg := ts.request(&openflow.MultipartRequest{Body: &openflow.MeterConfigRequest{MeterID: openflow.MeterAll}})[0].(*openflow.MultipartReply).Body.(*openflow.MeterConfigReply)
	if len(cfg.Configs) != 3 {
		t.Fatalf("meter config %+v", cfg)
	}
	for i, m := range mods {
		c := cfg.Configs[i]
		if c.MeterID != m.MeterID || c.Flags != m.Flags || !reflect.DeepEqual(c.Bands, m.Bands) {
			t.Errorf("meter %d config\n got %+v\nwant %+v", m.MeterID, c, m)
		}
	}
	// Modify keeps the id, replaces the bands.
	mod := meterAdd(1, openflow.MeterFlagKbps, openflow.MeterBand{Type: openflow.MeterBandDrop, Rate: 2000})
	mod.Command = openflow.MeterModify
	if c := ts.errOf(mod); c != 0 {
		t.Fatal(c)
	}
	one := ts.request(&openflow.MultipartRequest{Body: &openflow.MeterConfigRequest{MeterID: 1}})[0].(*openflow.MultipartReply).Body.(*openflow.MeterConfigReply)
	if len(one.Configs) != 1 || one.Configs[0].Bands[0].Rate != 2000 {
		t.Fatalf("after modify: %+v", one)
	}
	feat := ts.request(&openflow.MultipartRequest{Body: &openflow.MeterFeaturesRequest{}})[0].(*openflow.MultipartReply).Body.(*openflow.MeterFeaturesReply)
	if feat.MaxMeter == 0 || feat.BandTypes != 6 || feat.MaxBands == 0 {
		t.Fatalf("meter features %+v", feat)
	}
}

func TestMeterErrors(t *testing.T) {
	ts := newTestSwitch(t, 2)
	drop := openflow.MeterBand{Type: openflow.MeterBandDrop, Rate: 10}
	if c := ts.errOf(meterAdd(1, openflow.MeterFlagKbps, drop)); c != 0 {
		t.Fatal(c)
	}
	tests := []struct {
		name string
		mm   *openflow.MeterMod
		want openflow.ErrorCode
	}{
		{"exists", meterAdd(1, openflow.MeterFlagKbps, drop), openflow.MMFCMeterExists},
		{"id 0", meterAdd(0, openflow.MeterFlagKbps, drop), openflow.MMFCInvalidMeter},
		{"virtual meter", meterAdd(openflow.MeterController, openflow.MeterFlagKbps, drop), openflow.MMFCInvalidMeter},
		{"rate 0", meterAdd(5, openflow.MeterFlagKbps, openflow.MeterBand{Type: openflow.MeterBandDrop}), openflow.MMFCBadRate},
		{"kbps and pktps", meterAdd(5, openflow.MeterFlagKbps|openflow.MeterFlagPktps, drop), openflow.MMFCBadFlags},
		{"unknown flag", meterAdd(5, 0x100, drop), openflow.MMFCBadFlags},
		{"experimenter band", meterAdd(5, openflow.MeterFlagKbps, openflow.MeterBand{Type: openflow.MeterBandExperimenter, Rate: 1, Experimenter: 1}), openflow.MMFCBadBand},
		{"no unit", meterAdd(5, 0, drop), openflow.MMFCBadFlags},
		{"modify unknown", &openflow.MeterMod{Command: openflow.MeterModify, Flags: openflow.MeterFlagKbps, MeterID: 9, Bands: []openflow.MeterBand{drop}}, openflow.MMFCUnknownMeter},
		{"bad command", &openflow.MeterMod{Command: 7, MeterID: 9}, openflow.MMFCBadCommand},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := ts.errOf(tt.mm); got != tt.want {
				t.Fatalf("got %v, want %v", got, tt.want)
			}
		})
	}
	if c := ts.errOf(addFlow(1, openflow.Match{}, ins(openflow.InstMeter{MeterID: 4}, apply(out(2))))); c != openflow.MMFCUnknownMeter {
		t.Fatalf("flow with unknown meter: %v", c)
	}
}

func TestMeterInstruction(t *testing.T) {
	ts := newTestSwitch(t, 2)
	if c := ts.errOf(meterAdd(1, openflow.MeterFlagPktps, openflow.MeterBand{Type: openflow.MeterBandDrop, Rate: 10})); c != 0 {
		t.Fatal(c)
	}
	f := addFlow(1, openflow.Match{}, ins(apply(out(2)), openflow.InstMeter{MeterID: 1}))
	f.Flags = openflow.FlowFlagSendFlowRem
	ts.mustFlow(f)
	mf, _ := ts.translate(frame(2, 17, 53), 1)
	if !sameKinds(kinds(mf.Actions), []datapath.ActionKind{datapath.ActMeter, datapath.ActOutput}) || mf.Actions[0].Meter != ts.b.meters[1].dp {
		t.Fatalf("actions %v: meter must come first", kinds(mf.Actions))
	}
	st := ts.request(&openflow.MultipartRequest{Body: &openflow.MeterStatsRequest{MeterID: openflow.MeterAll}})[0].(*openflow.MultipartReply).Body.(*openflow.MeterStatsReply)
	if len(st.Stats) != 1 || st.Stats[0].FlowCount != 1 || len(st.Stats[0].Bands) != 1 {
		t.Fatalf("meter stats %+v", st)
	}
	// A modify replaces the datapath meter.
	old := ts.b.meters[1].dp
	mod := meterAdd(1, openflow.MeterFlagPktps, openflow.MeterBand{Type: openflow.MeterBandDrop, Rate: 20})
	mod.Command = openflow.MeterModify
	ts.errOf(mod)
	if mf, _ := ts.translate(frame(2, 17, 53), 1); mf.Actions[0].Meter == old {
		t.Fatal("modify did not replace the datapath meter")
	}
	// Deleting the meter removes its flow.
	replies := ts.request(&openflow.MeterMod{Command: openflow.MeterDelete, MeterID: 1})
	if len(replies) != 1 {
		t.Fatalf("meter delete: %+v", replies)
	}
	if _, ok := replies[0].(*openflow.FlowRemoved); !ok {
		t.Fatalf("meter delete: %+v", replies[0])
	}
	if n := len(ts.flowStats()); n != 0 {
		t.Fatalf("%d flows left", n)
	}
}
