package ctl

import (
	"fmt"
	"strings"

	"github.com/goko-net/goko/ctl/flowsyntax"
	"github.com/goko-net/goko/openflow"
)

// Groups and meters: add-group, add-groups, mod-group, del-groups,
// dump-groups, dump-group-stats, dump-group-features, add-meter,
// mod-meter, del-meters, dump-meters, meter-stats, meter-features.

// FormatGroupDesc prints a GROUP_DESC reply as dump-groups does.
func FormatGroupDesc(xid uint32, groups []openflow.GroupDesc) string {
	var b strings.Builder
	b.WriteString(replyHeader("OFPST_GROUP_DESC reply", xid) + "\n")
	for i := range groups {
		b.WriteString(" " + flowsyntax.FormatGroup(&groups[i]) + "\n")
	}
	return b.String()
}

// FormatGroupStats prints a GROUP_STATS reply as dump-group-stats does.
func FormatGroupStats(xid uint32, stats []openflow.GroupStats) string {
	var b strings.Builder
	b.WriteString(replyHeader("OFPST_GROUP reply", xid) + "\n")
	for i := range stats {
		b.WriteString(" " + flowsyntax.FormatGroupStats(&stats[i]) + "\n")
	}
	return b.String()
}

// actionTypeNames are OVS's names of the OpenFlow 1.3 action types, in
// the order OVS prints them (goko's extras last).
var actionTypeNames = []struct {
	t    openflow.ActionType
	name string
}{
	{openflow.ActionTypeOutput, "output"}, {openflow.ActionTypeGroup, "group"}, {openflow.ActionTypeSetField, "set_field"},
	{openflow.ActionTypePopVLAN, "strip_vlan"}, {openflow.ActionTypePushVLAN, "push_vlan"},
	{openflow.ActionTypeSetNWTTL, "mod_nw_ttl"}, {openflow.ActionTypeDecNWTTL, "dec_ttl"},
	{openflow.ActionTypeSetMPLSTTL, "set_mpls_ttl"}, {openflow.ActionTypeDecMPLSTTL, "dec_mpls_ttl"},
	{openflow.ActionTypePushMPLS, "push_mpls"}, {openflow.ActionTypePopMPLS, "pop_mpls"},
	{openflow.ActionTypeSetQueue, "set_queue"}, {openflow.ActionTypeCopyTTLOut, "copy_ttl_out"},
	{openflow.ActionTypeCopyTTLIn, "copy_ttl_in"}, {openflow.ActionTypePushPBB, "push_pbb"}, {openflow.ActionTypePopPBB, "pop_pbb"},
}

func actionBitmapNames(bits uint32) []string {
	out := []string{}
	for _, a := range actionTypeNames {
		if a.t < 32 && bits&(1<<a.t) != 0 {
			out = append(out, a.name)
		}
	}
	return out
}

var groupTypeTitles = []string{"all", "select", "indirect", "fast failover"}

// FormatGroupFeatures prints a GROUP_FEATURES reply as
// dump-group-features does.
func FormatGroupFeatures(xid uint32, f *openflow.GroupFeaturesReply) string {
	var b strings.Builder
	b.WriteString(replyHeader("OFPST_GROUP_FEATURES reply", xid) + "\n")
	fmt.Fprintf(&b, " Group table:\n    Types:  0x%x\n    Capabilities:  0x%x\n", f.Types, uint32(f.Capabilities))
	for i, title := range groupTypeTitles {
		if f.Types&(1<<i) == 0 {
			continue
		}
		fmt.Fprintf(&b, "    %s group:\n       max_groups=0x%x\n", title, f.MaxGroups[i])
		fmt.Fprintf(&b, "       actions: %s\n", strings.Join(actionBitmapNames(f.Actions[i]), " "))
	}
	return b.String()
}

// FormatMeterConfigs prints a METER_CONFIG reply as dump-meters does.
func FormatMeterConfigs(xid uint32, configs []openflow.MeterConfig) string {
	var b strings.Builder
	b.WriteString(replyHeader("OFPST_METER_CONFIG reply", xid) + "\n")
	for i := range configs {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(flowsyntax.FormatMeterConfig(&configs[i]) + "\n")
	}
	return b.String()
}

// FormatMeterStats prints a METER_STATS reply as meter-stats does.
func FormatMeterStats(xid uint32, stats []openflow.MeterStats) string {
	var b strings.Builder
	b.WriteString(replyHeader("OFPST_METER reply", xid) + "\n")
	for i := range stats {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(flowsyntax.FormatMeterStats(&stats[i]) + "\n")
	}
	return b.String()
}

var bandTypeNames = map[openflow.MeterBandType]string{openflow.MeterBandDrop: "drop", openflow.MeterBandDSCPRemark: "dscp_remark"}

// FormatMeterFeatures prints a METER_FEATURES reply as meter-features
// does.
func FormatMeterFeatures(xid uint32, f *openflow.MeterFeaturesReply) string {
	var b strings.Builder
	b.WriteString(replyHeader("OFPST_METER_FEATURES reply", xid) + "\n")
	fmt.Fprintf(&b, "max_meter:%d max_bands:%d max_color:%d\n", f.MaxMeter, f.MaxBands, f.MaxColor)
	var bands []string
	for _, t := range []openflow.MeterBandType{openflow.MeterBandDrop, openflow.MeterBandDSCPRemark} {
		if f.BandTypes&(1<<t) != 0 {
			bands = append(bands, bandTypeNames[t])
		}
	}
	fmt.Fprintf(&b, "band_types: %s\n", strings.Join(bands, " "))
	fmt.Fprintf(&b, "capabilities: %s\n", strings.Join(flowsyntax.MeterFlagNames(openflow.MeterFlags(f.Capabilities)), " "))
	return b.String()
}

func (c *cli) groupMod(args []string, cmd openflow.GroupModCommand) error {
	s := &session{c: c, target: args[0]}
	defer s.close()
	text := ""
	if len(args) > 1 {
		text = args[1]
	}
	var gm *openflow.GroupMod
	if err := s.parse(func(o *flowsyntax.Options) (err error) {
		gm, err = flowsyntax.ParseGroupMod(text, cmd, o)
		return err
	}); err != nil {
		return err
	}
	return c.sendFlowMods(s, []flowReq{{msg: gm, kind: "group-mod", text: text}})
}

func (c *cli) addGroup(args []string) error  { return c.groupMod(args, openflow.GroupAdd) }
func (c *cli) modGroup(args []string) error  { return c.groupMod(args, openflow.GroupModify) }
func (c *cli) delGroups(args []string) error { return c.groupMod(args, openflow.GroupDelete) }

func (c *cli) addGroups(args []string) error {
	lines, err := c.readLines(args[1])
	if err != nil {
		return err
	}
	s := &session{c: c, target: args[0]}
	defer s.close()
	var reqs []flowReq
	var bad []string
	for _, l := range lines {
		text := strings.TrimSpace(strings.TrimPrefix(l.text, "group "))
		var gm *openflow.GroupMod
		err := s.parse(func(o *flowsyntax.Options) (err error) {
			gm, err = flowsyntax.ParseGroupMod(text, openflow.GroupAdd, o)
			return err
		})
		if err != nil {
			if !isUsage(err) {
				return err
			}
			bad = append(bad, l.where+err.Error())
			continue
		}
		reqs = append(reqs, flowReq{msg: gm, kind: "group-mod", text: text, where: l.where})
	}
	if err := reportBad(c, bad); err != nil {
		return err
	}
	if len(reqs) == 0 {
		return nil
	}
	return c.sendFlowMods(s, reqs)
}

func (c *cli) dumpGroups(args []string) error {
	want := openflow.GroupAll
	if len(args) > 1 {
		id, err := flowsyntax.ParseGroupID(args[1])
		if err != nil {
			return usageErr("%v", err)
		}
		want = id
	}
	bodies, xid, err := c.query(args[0], "group description request", 0, &openflow.GroupDescRequest{})
	if err != nil {
		return err
	}
	var groups []openflow.GroupDesc
	for _, b := range bodies {
		for _, g := range b.(*openflow.GroupDescReply).Groups {
			// OpenFlow 1.3 cannot ask for one group: filter here.
			if want == openflow.GroupAll || g.GroupID == want {
				groups = append(groups, g)
			}
		}
	}
	if c.json {
		return c.printJSON(jsonGroups(groups))
	}
	fmt.Fprint(c.out, FormatGroupDesc(xid, groups))
	return nil
}

func (c *cli) dumpGroupStats(args []string) error {
	id := openflow.GroupAll
	if len(args) > 1 {
		var err error
		if id, err = flowsyntax.ParseGroupID(args[1]); err != nil {
			return usageErr("%v", err)
		}
	}
	bodies, xid, err := c.query(args[0], "group stats request", 4, &openflow.GroupStatsRequest{GroupID: id})
	if err != nil {
		return err
	}
	var stats []openflow.GroupStats
	for _, b := range bodies {
		stats = append(stats, b.(*openflow.GroupStatsReply).Stats...)
	}
	if c.json {
		return c.printJSON(jsonGroupStats(stats))
	}
	fmt.Fprint(c.out, FormatGroupStats(xid, stats))
	return nil
}

func (c *cli) dumpGroupFeatures(args []string) error {
	bodies, xid, err := c.query(args[0], "group features request", 0, &openflow.GroupFeaturesRequest{})
	if err != nil {
		return err
	}
	f := bodies[len(bodies)-1].(*openflow.GroupFeaturesReply)
	if c.json {
		return c.printJSON(jsonGroupFeatures(f))
	}
	fmt.Fprint(c.out, FormatGroupFeatures(xid, f))
	return nil
}

func (c *cli) meterMod(args []string, cmd openflow.MeterModCommand) error {
	text := ""
	if len(args) > 1 {
		text = args[1]
	}
	mm, err := flowsyntax.ParseMeterMod(text, cmd)
	if err != nil {
		return usageErr("%v", err)
	}
	s := &session{c: c, target: args[0]}
	defer s.close()
	return c.sendFlowMods(s, []flowReq{{msg: mm, kind: "meter-mod", text: text}})
}

func (c *cli) addMeter(args []string) error  { return c.meterMod(args, openflow.MeterAdd) }
func (c *cli) modMeter(args []string) error  { return c.meterMod(args, openflow.MeterModify) }
func (c *cli) delMeters(args []string) error { return c.meterMod(args, openflow.MeterDelete) }

func (c *cli) meterArg(args []string) (uint32, error) {
	if len(args) < 2 {
		return openflow.MeterAll, nil
	}
	id, err := flowsyntax.ParseMeterID(args[1])
	if err != nil {
		return 0, usageErr("%v", err)
	}
	return id, nil
}

func (c *cli) dumpMeters(args []string) error {
	id, err := c.meterArg(args)
	if err != nil {
		return err
	}
	bodies, xid, err := c.query(args[0], "meter config request", 0, &openflow.MeterConfigRequest{MeterID: id})
	if err != nil {
		return err
	}
	var configs []openflow.MeterConfig
	for _, b := range bodies {
		configs = append(configs, b.(*openflow.MeterConfigReply).Configs...)
	}
	if c.json {
		return c.printJSON(jsonMeters(configs))
	}
	fmt.Fprint(c.out, FormatMeterConfigs(xid, configs))
	return nil
}

func (c *cli) meterStats(args []string) error {
	id, err := c.meterArg(args)
	if err != nil {
		return err
	}
	bodies, xid, err := c.query(args[0], "meter stats request", 0, &openflow.MeterStatsRequest{MeterID: id})
	if err != nil {
		return err
	}
	var stats []openflow.MeterStats
	for _, b := range bodies {
		stats = append(stats, b.(*openflow.MeterStatsReply).Stats...)
	}
	if c.json {
		return c.printJSON(jsonMeterStats(stats))
	}
	fmt.Fprint(c.out, FormatMeterStats(xid, stats))
	return nil
}

func (c *cli) meterFeatures(args []string) error {
	bodies, xid, err := c.query(args[0], "meter features request", 0, &openflow.MeterFeaturesRequest{})
	if err != nil {
		return err
	}
	f := bodies[len(bodies)-1].(*openflow.MeterFeaturesReply)
	if c.json {
		return c.printJSON(jsonMeterFeatures(f))
	}
	fmt.Fprint(c.out, FormatMeterFeatures(xid, f))
	return nil
}

// JSON forms.

type jsonBucket struct {
	Weight     uint16  `json:"weight"`
	WatchPort  string  `json:"watch_port,omitempty"`
	WatchGroup *uint32 `json:"watch_group,omitempty"`
	Actions    string  `json:"actions"`
}

type jsonGroup struct {
	GroupID uint32       `json:"group_id"`
	Type    string       `json:"type"`
	Buckets []jsonBucket `json:"buckets"`
}

func jsonGroups(groups []openflow.GroupDesc) []jsonGroup {
	out := []jsonGroup{}
	for _, g := range groups {
		jg := jsonGroup{GroupID: g.GroupID, Type: flowsyntax.GroupTypeName(g.GroupType), Buckets: []jsonBucket{}}
		for _, bk := range g.Buckets {
			jb := jsonBucket{Weight: bk.Weight, Actions: flowsyntax.FormatActions(bk.Actions)}
			if bk.WatchPort != openflow.PortAny {
				jb.WatchPort = flowsyntax.FormatPort(bk.WatchPort)
			}
			if bk.WatchGroup != openflow.GroupAny {
				wg := bk.WatchGroup
				jb.WatchGroup = &wg
			}
			jg.Buckets = append(jg.Buckets, jb)
		}
		out = append(out, jg)
	}
	return out
}

type jsonCounters struct {
	Packets uint64 `json:"packet_count"`
	Bytes   uint64 `json:"byte_count"`
}

type jsonGroupStat struct {
	GroupID  uint32         `json:"group_id"`
	Duration float64        `json:"duration"`
	RefCount uint32         `json:"ref_count"`
	Packets  uint64         `json:"packet_count"`
	Bytes    uint64         `json:"byte_count"`
	Buckets  []jsonCounters `json:"buckets"`
}

func jsonGroupStats(stats []openflow.GroupStats) []jsonGroupStat {
	out := []jsonGroupStat{}
	for _, s := range stats {
		j := jsonGroupStat{GroupID: s.GroupID, Duration: float64(s.DurationSec) + float64(s.DurationNsec)/1e9,
			RefCount: s.RefCount, Packets: s.PacketCount, Bytes: s.ByteCount, Buckets: []jsonCounters{}}
		for _, b := range s.Buckets {
			j.Buckets = append(j.Buckets, jsonCounters{b.PacketCount, b.ByteCount})
		}
		out = append(out, j)
	}
	return out
}

type jsonGroupTypeFeatures struct {
	Type      string   `json:"type"`
	MaxGroups uint32   `json:"max_groups"`
	Actions   []string `json:"actions"`
}

func jsonGroupFeatures(f *openflow.GroupFeaturesReply) any {
	types := []jsonGroupTypeFeatures{}
	for i := range groupTypeTitles {
		if f.Types&(1<<i) != 0 {
			types = append(types, jsonGroupTypeFeatures{flowsyntax.GroupTypeName(openflow.GroupType(i)), f.MaxGroups[i], actionBitmapNames(f.Actions[i])})
		}
	}
	return struct {
		Capabilities uint32                  `json:"capabilities"`
		Types        []jsonGroupTypeFeatures `json:"types"`
	}{uint32(f.Capabilities), types}
}

type jsonBand struct {
	Type      string `json:"type"`
	Rate      uint32 `json:"rate"`
	BurstSize uint32 `json:"burst_size"`
	PrecLevel *uint8 `json:"prec_level,omitempty"`
}

type jsonMeter struct {
	MeterID string     `json:"meter_id"`
	Flags   []string   `json:"flags"`
	Bands   []jsonBand `json:"bands"`
}

func jsonMeters(configs []openflow.MeterConfig) []jsonMeter {
	out := []jsonMeter{}
	for _, c := range configs {
		jm := jsonMeter{MeterID: flowsyntax.FormatMeterID(c.MeterID), Flags: flowsyntax.MeterFlagNames(c.Flags), Bands: []jsonBand{}}
		if jm.Flags == nil {
			jm.Flags = []string{}
		}
		for _, b := range c.Bands {
			t, ok := bandTypeNames[b.Type]
			if !ok {
				t = fmt.Sprint(b.Type)
			}
			jb := jsonBand{Type: t, Rate: b.Rate, BurstSize: b.BurstSize}
			if b.Type == openflow.MeterBandDSCPRemark {
				p := b.PrecLevel
				jb.PrecLevel = &p
			}
			jm.Bands = append(jm.Bands, jb)
		}
		out = append(out, jm)
	}
	return out
}

type jsonMeterStat struct {
	MeterID   string         `json:"meter_id"`
	FlowCount uint32         `json:"flow_count"`
	Packets   uint64         `json:"packet_in_count"`
	Bytes     uint64         `json:"byte_in_count"`
	Duration  float64        `json:"duration"`
	Bands     []jsonCounters `json:"bands"`
}

func jsonMeterStats(stats []openflow.MeterStats) []jsonMeterStat {
	out := []jsonMeterStat{}
	for _, s := range stats {
		j := jsonMeterStat{MeterID: flowsyntax.FormatMeterID(s.MeterID), FlowCount: s.FlowCount, Packets: s.PacketInCount,
			Bytes: s.ByteInCount, Duration: float64(s.DurationSec) + float64(s.DurationNsec)/1e9, Bands: []jsonCounters{}}
		for _, b := range s.Bands {
			j.Bands = append(j.Bands, jsonCounters{b.PacketBandCount, b.ByteBandCount})
		}
		out = append(out, j)
	}
	return out
}

func jsonMeterFeatures(f *openflow.MeterFeaturesReply) any {
	bands := []string{}
	for _, t := range []openflow.MeterBandType{openflow.MeterBandDrop, openflow.MeterBandDSCPRemark} {
		if f.BandTypes&(1<<t) != 0 {
			bands = append(bands, bandTypeNames[t])
		}
	}
	caps := flowsyntax.MeterFlagNames(openflow.MeterFlags(f.Capabilities))
	if caps == nil {
		caps = []string{}
	}
	return struct {
		MaxMeter     uint32   `json:"max_meter"`
		MaxBands     uint8    `json:"max_bands"`
		MaxColor     uint8    `json:"max_color"`
		BandTypes    []string `json:"band_types"`
		Capabilities []string `json:"capabilities"`
	}{f.MaxMeter, f.MaxBands, f.MaxColor, bands, caps}
}
