package flowsyntax

// Groups and meters in ovs-ofctl's syntax.
//
// A group (add-group, mod-group):
//
//	group_id=1,type=select,bucket=weight:10,actions=output:1,bucket=weight:20,output:2
//	group_id=2,type=ff,bucket=watch_port:1,actions=output:1,bucket=watch_port:2,actions=output:2
//
// type is all, select, indirect or ff (fast_failover). Each "bucket="
// starts a bucket: weight, watch_port and watch_group, then its actions,
// written "actions=..." or directly. Buckets come after the other fields.
// As in OVS, a select bucket's weight defaults to 1.
//
// A meter (add-meter, mod-meter):
//
//	meter=1,kbps,burst,stats,band=type=drop,rate=1000,burst_size=100
//
// with kbps or pktps, optionally burst and stats, and one or more bands,
// each starting with type=drop or type=dscp_remark (prec_level=N).

import (
	"errors"
	"fmt"
	"strings"

	"github.com/goko-net/goko/openflow"
)

var groupTypeNames = []struct {
	name string
	t    openflow.GroupType
}{
	{"all", openflow.GroupTypeAll},
	{"select", openflow.GroupTypeSelect},
	{"indirect", openflow.GroupTypeIndirect},
	{"ff", openflow.GroupTypeFF},
	{"fast_failover", openflow.GroupTypeFF},
}

// GroupTypeName is the name ovs-ofctl prints for a group type.
func GroupTypeName(t openflow.GroupType) string {
	for _, n := range groupTypeNames {
		if n.t == t {
			return n.name
		}
	}
	return fmt.Sprintf("%d", t)
}

// GroupError is a group or meter string that does not parse.
type GroupError struct {
	What string // "group" or "meter"
	Text string
	Err  error
}

func (e *GroupError) Error() string { return fmt.Sprintf("bad %s %q: %v", e.What, e.Text, e.Err) }

// Unwrap returns the underlying error.
func (e *GroupError) Unwrap() error { return e.Err }

// parseGroupID parses a group id: a number, "all" or "any".
func parseGroupID(s string) (uint32, error) {
	switch strings.ToLower(s) {
	case "all":
		return openflow.GroupAll, nil
	case "any":
		return openflow.GroupAny, nil
	}
	v, err := parseUint(s, 32)
	return uint32(v), err
}

// ParseGroupMod parses a group string for a GROUP_MOD with command cmd.
// Add and modify need group_id, type and (except indirect groups, which
// may have none) buckets; delete takes only group_id, and "" means all
// groups. Errors are *GroupError.
func ParseGroupMod(s string, cmd openflow.GroupModCommand, opts *Options) (*openflow.GroupMod, error) {
	gm, err := parseGroupMod(s, cmd, opts)
	if err != nil {
		return nil, &GroupError{"group", s, err}
	}
	return gm, nil
}

func parseGroupMod(s string, cmd openflow.GroupModCommand, opts *Options) (*openflow.GroupMod, error) {
	gm := &openflow.GroupMod{Command: cmd}
	head, bucketStr, hasBuckets := strings.Cut(s, "bucket=")
	hasID, hasType := false, false
	for _, it := range items(head) {
		switch strings.ToLower(it.key) {
		case "group_id":
			id, err := parseGroupID(it.value)
			if err != nil {
				return nil, fieldErr("group_id", err)
			}
			gm.GroupID, hasID = id, true
		case "type":
			if cmd == openflow.GroupDelete {
				return nil, errors.New("type is not allowed when deleting groups")
			}
			found := false
			for _, n := range groupTypeNames {
				if strings.EqualFold(n.name, it.value) {
					gm.GroupType, found = n.t, true
				}
			}
			if !found {
				return nil, fmt.Errorf("type: unknown group type %q (want all, select, indirect or ff)", it.value)
			}
			hasType = true
		default:
			return nil, fmt.Errorf("unknown keyword %s", it.key)
		}
	}
	if cmd == openflow.GroupDelete {
		if hasBuckets {
			return nil, errors.New("buckets are not allowed when deleting groups")
		}
		if !hasID {
			gm.GroupID = openflow.GroupAll
		}
		return gm, nil
	}
	if !hasID {
		return nil, errors.New("must specify a group_id")
	}
	if gm.GroupID > openflow.GroupMax {
		return nil, fmt.Errorf("group_id %d is reserved (at most %d)", gm.GroupID, openflow.GroupMax)
	}
	if !hasType {
		return nil, errors.New("must specify a type")
	}
	for n := 1; hasBuckets; n++ {
		var this string
		this, bucketStr, hasBuckets = strings.Cut(bucketStr, "bucket=")
		b, err := parseBucket(this, gm.GroupType, opts)
		if err != nil {
			return nil, fmt.Errorf("bucket %d: %w", n, err)
		}
		gm.Buckets = append(gm.Buckets, b)
	}
	if gm.GroupType == openflow.GroupTypeIndirect && len(gm.Buckets) > 1 {
		return nil, errors.New("an indirect group has at most one bucket")
	}
	return gm, nil
}

func parseBucket(s string, t openflow.GroupType, opts *Options) (openflow.Bucket, error) {
	b := openflow.Bucket{WatchPort: openflow.PortAny, WatchGroup: openflow.GroupAny}
	if t == openflow.GroupTypeSelect {
		b.Weight = 1
	}
	rest := s
	actStr, hasActions := "", false
	for {
		it, r, ok := nextItem(rest)
		if !ok {
			break
		}
		var err error
		var v uint64
		switch strings.ToLower(it.key) {
		case "weight":
			v, err = parseUint(it.value, 16)
			b.Weight = uint16(v)
		case "watch_port":
			b.WatchPort, err = parsePort(it.value, opts.names())
			if err == nil && b.WatchPort > openflow.PortMax && b.WatchPort != openflow.PortAny && b.WatchPort != openflow.PortLocal {
				err = fmt.Errorf("%s cannot be watched", it.value)
			}
		case "watch_group":
			b.WatchGroup, err = parseGroupID(it.value)
			if err == nil && b.WatchGroup > openflow.GroupMax && b.WatchGroup != openflow.GroupAny {
				err = fmt.Errorf("group %s cannot be watched", it.value)
			}
		case "actions", "action":
			// Everything after "actions=" is the action list.
			i := strings.Index(rest, it.key)
			actStr, hasActions = strings.TrimLeft(rest[i+len(it.key):], "=:"), true
			r = ""
		default:
			// Any other key starts the action list (actions= is optional).
			actStr, hasActions = rest, true
			r = ""
		}
		if err != nil {
			return b, fieldErr(it.key, err)
		}
		rest = r
	}
	if !hasActions {
		return b, errors.New("a bucket must specify actions (actions=drop for none)")
	}
	if t == openflow.GroupTypeFF && b.WatchPort == openflow.PortAny && b.WatchGroup == openflow.GroupAny {
		return b, errors.New("a fast failover bucket needs watch_port or watch_group")
	}
	ap := &actionParser{names: opts.names()}
	acts, err := ap.parseActionList(actStr)
	if err != nil {
		return b, fieldErr("actions", err)
	}
	b.Actions = acts
	return b, nil
}

// FormatGroup prints a group as ovs-ofctl's dump-groups does (without the
// leading space), e.g. "group_id=1,type=select,bucket=weight:10,actions=output:1".
// ParseGroupMod parses it back.
func FormatGroup(g *openflow.GroupDesc) string {
	var b strings.Builder
	fmt.Fprintf(&b, "group_id=%d,type=%s", g.GroupID, GroupTypeName(g.GroupType))
	for _, bk := range g.Buckets {
		b.WriteString(",bucket=")
		def := uint16(0)
		if g.GroupType == openflow.GroupTypeSelect {
			def = 1
		}
		if bk.Weight != def {
			fmt.Fprintf(&b, "weight:%d,", bk.Weight)
		}
		if bk.WatchPort != openflow.PortAny {
			fmt.Fprintf(&b, "watch_port:%s,", FormatPort(bk.WatchPort))
		}
		if bk.WatchGroup != openflow.GroupAny {
			fmt.Fprintf(&b, "watch_group:%d,", bk.WatchGroup)
		}
		b.WriteString("actions=" + FormatActions(bk.Actions))
	}
	return b.String()
}

// FormatGroupStats prints one group's counters as dump-group-stats does
// (without the leading space).
func FormatGroupStats(s *openflow.GroupStats) string {
	var b strings.Builder
	fmt.Fprintf(&b, "group_id=%d,duration=%s,ref_count=%d,packet_count=%s,byte_count=%s",
		s.GroupID, FormatDuration(s.DurationSec, s.DurationNsec), s.RefCount, counter(s.PacketCount), counter(s.ByteCount))
	for i, c := range s.Buckets {
		fmt.Fprintf(&b, ",bucket%d:packet_count=%s,byte_count=%s", i, counter(c.PacketCount), counter(c.ByteCount))
	}
	return b.String()
}

// parseMeterID parses a meter id: a number, or all, controller, slowpath.
func parseMeterID(s string) (uint32, error) {
	switch strings.ToLower(s) {
	case "all":
		return openflow.MeterAll, nil
	case "controller":
		return openflow.MeterController, nil
	case "slowpath":
		return openflow.MeterSlowpath, nil
	}
	v, err := parseUint(s, 32)
	if err == nil && v == 0 {
		err = errors.New("meter 0 does not exist (meter ids start at 1)")
	}
	return uint32(v), err
}

// FormatMeterID prints a meter id as OVS does: a number, or all,
// controller, slowpath.
func FormatMeterID(id uint32) string {
	switch id {
	case openflow.MeterAll:
		return "all"
	case openflow.MeterController:
		return "controller"
	case openflow.MeterSlowpath:
		return "slowpath"
	}
	return fmt.Sprint(id)
}

// ParseMeterID parses the argument of dump-meters, meter-stats and
// del-meters: "meter=N", "N", or "all"; "" is all meters.
func ParseMeterID(s string) (uint32, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return openflow.MeterAll, nil
	}
	v := strings.TrimPrefix(strings.TrimPrefix(s, "meter="), "meter:")
	id, err := parseMeterID(v)
	if err != nil {
		return 0, &GroupError{"meter", s, err}
	}
	return id, nil
}

// ParseGroupID parses the argument of dump-groups, dump-group-stats and
// del-groups: "group_id=N", "N" or "all"; "" is all groups.
func ParseGroupID(s string) (uint32, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return openflow.GroupAll, nil
	}
	v := strings.TrimPrefix(s, "group_id=")
	id, err := parseGroupID(v)
	if err != nil {
		return 0, &GroupError{"group", s, err}
	}
	return id, nil
}

var meterFlagNames = []struct {
	name string
	flag openflow.MeterFlags
}{
	{"kbps", openflow.MeterFlagKbps},
	{"pktps", openflow.MeterFlagPktps},
	{"burst", openflow.MeterFlagBurst},
	{"stats", openflow.MeterFlagStats},
}

// MeterFlagNames lists the names of the flags in f.
func MeterFlagNames(f openflow.MeterFlags) []string {
	var out []string
	for _, n := range meterFlagNames {
		if f&n.flag != 0 {
			out = append(out, n.name)
			f &^= n.flag
		}
	}
	if f != 0 {
		out = append(out, fmt.Sprintf("flags:0x%x", uint16(f)))
	}
	return out
}

// ParseMeterMod parses a meter string for a METER_MOD with command cmd.
// Delete takes only meter=N ("" means all meters). Errors are
// *GroupError.
func ParseMeterMod(s string, cmd openflow.MeterModCommand) (*openflow.MeterMod, error) {
	mm, err := parseMeterMod(s, cmd)
	if err != nil {
		return nil, &GroupError{"meter", s, err}
	}
	return mm, nil
}

func parseMeterMod(s string, cmd openflow.MeterModCommand) (*openflow.MeterMod, error) {
	mm := &openflow.MeterMod{Command: cmd}
	head, bandStr, hasBands := strings.Cut(s, "band")
	if hasBands {
		if cmd == openflow.MeterDelete {
			return nil, errors.New("bands are not allowed when deleting meters")
		}
		i := strings.Index(bandStr, "type")
		if i < 0 {
			return nil, errors.New("band: no type specified")
		}
		bandStr = bandStr[i:]
	}
	hasID := false
	for _, it := range items(head) {
		key := strings.ToLower(it.key)
		if key == "meter" {
			id, err := parseMeterID(it.value)
			if err != nil {
				return nil, fieldErr("meter", err)
			}
			mm.MeterID, hasID = id, true
			continue
		}
		found := false
		for _, n := range meterFlagNames {
			if n.name == key && it.value == "" {
				mm.Flags |= n.flag
				found = true
			}
		}
		if !found {
			return nil, fmt.Errorf("unknown keyword %s", it.key)
		}
		if cmd == openflow.MeterDelete {
			return nil, fmt.Errorf("%s is not allowed when deleting meters", it.key)
		}
	}
	if cmd == openflow.MeterDelete {
		if !hasID {
			mm.MeterID = openflow.MeterAll
		}
		return mm, nil
	}
	if !hasID {
		return nil, errors.New("must specify meter=ID")
	}
	if mm.Flags&(openflow.MeterFlagKbps|openflow.MeterFlagPktps) == 0 {
		return nil, errors.New("a meter must specify either kbps or pktps")
	}
	if !hasBands {
		return nil, errors.New("a meter needs at least one band (band=type=drop,rate=N)")
	}
	var band *openflow.MeterBand
	for _, it := range items(bandStr) {
		var v uint64
		var err error
		switch strings.ToLower(it.key) {
		case "type":
			if band, err = newBand(mm, it.value); err != nil {
				return nil, err
			}
		case "band", "bands":
			// "band=type=drop,rate=1,band=type=dscp_remark,..." repeats
			// the keyword; OVS writes "bands=type=drop,rate=1,type=...".
			k, v, ok := strings.Cut(it.value, "=")
			if !ok || k != "type" {
				return nil, fmt.Errorf("band %d: want band=type=TYPE", len(mm.Bands)+1)
			}
			if band, err = newBand(mm, v); err != nil {
				return nil, err
			}
		case "rate":
			v, err = parseUint(it.value, 32)
			band.Rate = uint32(v)
		case "burst_size":
			v, err = parseUint(it.value, 32)
			band.BurstSize = uint32(v)
		case "prec_level":
			v, err = parseUint(it.value, 8)
			band.PrecLevel = uint8(v)
			if err == nil && band.Type != openflow.MeterBandDSCPRemark {
				err = errors.New("only dscp_remark bands have a prec_level")
			}
		default:
			return nil, fmt.Errorf("band %d: unknown keyword %s", len(mm.Bands), it.key)
		}
		if err != nil {
			return nil, fmt.Errorf("band %d: %s: %w", len(mm.Bands), it.key, err)
		}
	}
	for i, b := range mm.Bands {
		if b.Rate == 0 {
			return nil, fmt.Errorf("band %d: must specify a rate", i+1)
		}
	}
	return mm, nil
}

func newBand(mm *openflow.MeterMod, typ string) (*openflow.MeterBand, error) {
	b := openflow.MeterBand{}
	switch strings.ToLower(typ) {
	case "drop":
		b.Type = openflow.MeterBandDrop
	case "dscp_remark":
		b.Type = openflow.MeterBandDSCPRemark
	default:
		return nil, fmt.Errorf("band %d: unknown band type %q (want drop or dscp_remark)", len(mm.Bands)+1, typ)
	}
	mm.Bands = append(mm.Bands, b)
	return &mm.Bands[len(mm.Bands)-1], nil
}

// FormatMeterConfig prints a meter as ovs-ofctl's dump-meters does:
//
//	meter=1 kbps burst stats bands=
//	type=drop rate=1000 burst_size=100
//
// (lines joined by "\n", no final newline).
func FormatMeterConfig(c *openflow.MeterConfig) string {
	var b strings.Builder
	b.WriteString("meter=" + FormatMeterID(c.MeterID) + " ")
	for _, n := range MeterFlagNames(c.Flags) {
		b.WriteString(n + " ")
	}
	b.WriteString("bands=")
	for _, band := range c.Bands {
		b.WriteString("\ntype=")
		switch band.Type {
		case openflow.MeterBandDrop:
			b.WriteString("drop")
		case openflow.MeterBandDSCPRemark:
			b.WriteString("dscp_remark")
		default:
			fmt.Fprintf(&b, "%d", band.Type)
		}
		fmt.Fprintf(&b, " rate=%d", band.Rate)
		if c.Flags&openflow.MeterFlagBurst != 0 {
			fmt.Fprintf(&b, " burst_size=%d", band.BurstSize)
		}
		if band.Type == openflow.MeterBandDSCPRemark {
			fmt.Fprintf(&b, " prec_level=%d", band.PrecLevel)
		}
	}
	return b.String()
}

// FormatMeterStats prints one meter's counters as meter-stats does:
//
//	meter:1 flow_count:2 packet_in_count:3 byte_in_count:4 duration:5.006s bands:
//	0: packet_count:1 byte_count:2
//
// (lines joined by "\n", no final newline).
func FormatMeterStats(s *openflow.MeterStats) string {
	var b strings.Builder
	fmt.Fprintf(&b, "meter:%s flow_count:%d packet_in_count:%s byte_in_count:%s duration:%s bands:",
		FormatMeterID(s.MeterID), s.FlowCount, counter(s.PacketInCount), counter(s.ByteInCount),
		FormatDuration(s.DurationSec, s.DurationNsec))
	for i, band := range s.Bands {
		fmt.Fprintf(&b, "\n%d: packet_count:%s byte_count:%s", i, counter(band.PacketBandCount), counter(band.ByteBandCount))
	}
	return b.String()
}
