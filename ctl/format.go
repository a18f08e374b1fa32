package ctl

import (
	"fmt"
	"sort"
	"strings"

	"github.com/goko-net/goko/ctl/flowsyntax"
	"github.com/goko-net/goko/openflow"
)

// The functions in this file print switch replies the way
// `ovs-ofctl -O OpenFlow13` prints them (they reproduce OVS's ofp-print
// output for these messages, header line included). Each returns text
// ending in a newline.

// replyHeader is the first line of a printed reply.
func replyHeader(name string, xid uint32) string {
	return fmt.Sprintf("%s (OF1.3) (xid=0x%x):", name, xid)
}

var capabilityNames = []struct {
	bit  openflow.Capabilities
	name string
}{
	{openflow.CapFlowStats, "FLOW_STATS"},
	{openflow.CapTableStats, "TABLE_STATS"},
	{openflow.CapPortStats, "PORT_STATS"},
	{openflow.CapGroupStats, "GROUP_STATS"},
	{openflow.CapIPReasm, "IP_REASM"},
	{openflow.CapQueueStats, "QUEUE_STATS"},
	{openflow.CapPortBlocked, "PORT_BLOCKED"},
}

// FormatFeatures prints a FEATURES_REPLY (the first part of "show").
func FormatFeatures(xid uint32, f *openflow.FeaturesReply) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s dpid:%016x\n", replyHeader("OFPT_FEATURES_REPLY", xid), f.DatapathID)
	fmt.Fprintf(&b, "n_tables:%d, n_buffers:%d", f.NTables, f.NBuffers)
	if f.AuxiliaryID != 0 {
		fmt.Fprintf(&b, ", auxiliary_id:%d", f.AuxiliaryID)
	}
	b.WriteString("\ncapabilities:")
	n := 0
	for _, c := range capabilityNames {
		if f.Capabilities&c.bit != 0 {
			b.WriteString(" " + c.name)
			n++
		}
	}
	if n == 0 {
		b.WriteString(" 0")
	}
	b.WriteByte('\n')
	return b.String()
}

// FormatSwitchConfig prints a GET_CONFIG_REPLY (the last part of "show").
func FormatSwitchConfig(xid uint32, c *openflow.SwitchConfig) string {
	frags := [...]string{"normal", "drop", "reassemble", "nx-match"}[c.Flags&openflow.FragMask]
	return fmt.Sprintf("%s frags=%s miss_send_len=%d\n", replyHeader("OFPT_GET_CONFIG_REPLY", xid), frags, c.MissSendLen)
}

func bitNames(v uint32, names []string) string {
	var parts []string
	for i, n := range names {
		if n != "" && v&(1<<i) != 0 {
			parts = append(parts, n)
		}
	}
	if len(parts) == 0 {
		return "0"
	}
	return strings.Join(parts, " ")
}

var (
	portConfigNames  = []string{0: "PORT_DOWN", 2: "NO_RECV", 5: "NO_FWD", 6: "NO_PACKET_IN"}
	portStateNames   = []string{"LINK_DOWN", "BLOCKED", "LIVE"}
	portFeatureNames = []string{"10MB-HD", "10MB-FD", "100MB-HD", "100MB-FD", "1GB-HD", "1GB-FD",
		"10GB-FD", "40GB-FD", "100GB-FD", "1TB-FD", "OTHER", "COPPER", "FIBER", "AUTO_NEG",
		"AUTO_PAUSE", "AUTO_PAUSE_ASYM"}
)

// FormatPort prints one port description as in "show" and
// "dump-ports-desc":
//
//	1(veth0): addr:aa:bb:cc:dd:ee:ff
//	    config:     0
//	    state:      LIVE
//	    current:    10GB-FD COPPER
//	    speed: 10000 Mbps now, 0 Mbps max
func FormatPort(p *openflow.Port) string {
	var b strings.Builder
	name := p.Name
	if len(name) > 15 { // OVS keeps 15 bytes and a NUL
		name = name[:15]
	}
	fmt.Fprintf(&b, " %s(%s): addr:%s\n", flowsyntax.FormatPort(p.PortNo), name, formatMAC(p.HWAddr))
	fmt.Fprintf(&b, "     config:     %s\n", bitNames(uint32(p.Config), portConfigNames))
	fmt.Fprintf(&b, "     state:      %s\n", bitNames(uint32(p.State), portStateNames))
	for _, f := range []struct {
		label string
		v     openflow.PortFeatures
	}{{"current:    ", p.Curr}, {"advertised: ", p.Advertised}, {"supported:  ", p.Supported}, {"peer:       ", p.Peer}} {
		if f.v&0xffff != 0 {
			fmt.Fprintf(&b, "     %s%s\n", f.label, bitNames(uint32(f.v), portFeatureNames))
		}
	}
	fmt.Fprintf(&b, "     speed: %d Mbps now, %d Mbps max\n", p.CurrSpeed/1000, p.MaxSpeed/1000)
	return b.String()
}

func formatMAC(m [6]byte) string {
	return fmt.Sprintf("%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4], m[5])
}

// FormatPortDesc prints a PORT_DESC reply: the header and the ports
// sorted by number, as ovs-ofctl does.
func FormatPortDesc(xid uint32, ports []openflow.Port) string {
	ps := sortedPorts(ports)
	var b strings.Builder
	b.WriteString(replyHeader("OFPST_PORT_DESC reply", xid) + "\n")
	for i := range ps {
		b.WriteString(FormatPort(&ps[i]))
	}
	return b.String()
}

func counter(v uint64) string {
	if v == ^uint64(0) {
		return "?"
	}
	return fmt.Sprint(v)
}

// sortedPorts returns a copy of ports sorted by number.
func sortedPorts(ports []openflow.Port) []openflow.Port {
	ps := append([]openflow.Port(nil), ports...)
	sort.SliceStable(ps, func(i, j int) bool { return ps[i].PortNo < ps[j].PortNo })
	return ps
}

// FormatPortStats prints a PORT_STATS reply as "dump-ports" does.
func FormatPortStats(xid uint32, stats []openflow.PortStats) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %d ports\n", replyHeader("OFPST_PORT reply", xid), len(stats))
	for _, s := range stats {
		pad := ""
		if s.PortNo < 10 {
			pad = " "
		}
		fmt.Fprintf(&b, "  port %s%s: rx pkts=%s, bytes=%s, drop=%s, errs=%s, frame=%s, over=%s, crc=%s\n",
			pad, flowsyntax.FormatPort(s.PortNo), counter(s.RxPackets), counter(s.RxBytes), counter(s.RxDropped),
			counter(s.RxErrors), counter(s.RxFrameErr), counter(s.RxOverErr), counter(s.RxCRCErr))
		fmt.Fprintf(&b, "           tx pkts=%s, bytes=%s, drop=%s, errs=%s, coll=%s\n",
			counter(s.TxPackets), counter(s.TxBytes), counter(s.TxDropped), counter(s.TxErrors), counter(s.Collisions))
		if s.DurationSec != ^uint32(0) {
			fmt.Fprintf(&b, "           duration=%s\n", flowsyntax.FormatDuration(s.DurationSec, s.DurationNsec))
		}
	}
	return b.String()
}

// FormatTableStats prints a TABLE_STATS reply as "dump-tables" does: a
// table whose counters equal the previous table's is "ditto", and a run
// of such tables is "tables 3...253: ditto".
func FormatTableStats(xid uint32, stats []openflow.TableStats) string {
	var b strings.Builder
	b.WriteString(replyHeader("OFPST_TABLE reply", xid) + "\n")
	same := func(p, s openflow.TableStats) bool {
		return p.ActiveCount == s.ActiveCount && p.LookupCount == s.LookupCount && p.MatchedCount == s.MatchedCount
	}
	for i := 0; i < len(stats); i++ {
		if i > 0 {
			b.WriteByte('\n')
		}
		s := stats[i]
		if i == 0 || !same(stats[i-1], s) {
			fmt.Fprintf(&b, "  table %d:\n    active=%d, lookup=%d, matched=%d\n", s.TableID, s.ActiveCount, s.LookupCount, s.MatchedCount)
			continue
		}
		j := i
		for j+1 < len(stats) && same(stats[j], stats[j+1]) {
			j++
		}
		if j == i {
			fmt.Fprintf(&b, "  table %d: ditto\n", s.TableID)
		} else {
			fmt.Fprintf(&b, "  tables %d...%d: ditto\n", s.TableID, stats[j].TableID)
		}
		i = j
	}
	return b.String()
}

// FormatDesc prints a DESC reply as "dump-desc" does.
func FormatDesc(xid uint32, d *openflow.DescReply) string {
	return fmt.Sprintf("%s\nManufacturer: %s\nHardware: %s\nSoftware: %s\nSerial Num: %s\nDP Description: %s\n",
		replyHeader("OFPST_DESC reply", xid), d.MfrDesc, d.HWDesc, d.SWDesc, d.SerialNum, d.DPDesc)
}

// FormatAggregate prints an AGGREGATE reply as "dump-aggregate" does.
func FormatAggregate(xid uint32, a *openflow.AggregateStatsReply) string {
	return fmt.Sprintf("%s packet_count=%d byte_count=%d flow_count=%d\n",
		replyHeader("OFPST_AGGREGATE reply", xid), a.PacketCount, a.ByteCount, a.FlowCount)
}

// FormatFlowStatsLines prints flows as dump-flows does: one line per flow,
// each starting with a space.
func FormatFlowStatsLines(stats []openflow.FlowStats, showStats bool) string {
	var b strings.Builder
	for i := range stats {
		b.WriteByte(' ')
		b.WriteString(flowsyntax.FormatFlowStats(&stats[i], showStats))
		b.WriteByte('\n')
	}
	return b.String()
}
