package ctl

import (
	"fmt"
	"strings"

	"github.com/goko-net/goko/ctl/flowsyntax"
	"github.com/goko-net/goko/openflow"
)

// JSON forms of the replies, for --json. Flows keep their match and
// actions as ovs-ofctl strings, which scripts can parse with package
// flowsyntax; everything else is split into fields.

type jsonFlow struct {
	Cookie      string   `json:"cookie"`
	Duration    *float64 `json:"duration,omitempty"`
	Table       uint8    `json:"table"`
	Packets     *uint64  `json:"n_packets,omitempty"`
	Bytes       *uint64  `json:"n_bytes,omitempty"`
	Priority    uint16   `json:"priority"`
	IdleTimeout uint16   `json:"idle_timeout,omitempty"`
	HardTimeout uint16   `json:"hard_timeout,omitempty"`
	Flags       []string `json:"flags,omitempty"`
	Match       string   `json:"match"`
	Actions     string   `json:"actions"`
}

func jsonFlows(stats []openflow.FlowStats, withStats bool) []jsonFlow {
	out := make([]jsonFlow, 0, len(stats))
	for i := range stats {
		s := &stats[i]
		f := jsonFlow{Cookie: fmt.Sprintf("0x%x", s.Cookie), Table: s.TableID, Priority: s.Priority,
			IdleTimeout: s.IdleTimeout, HardTimeout: s.HardTimeout,
			Match:   flowsyntax.FormatMatch(s.Match, openflow.DefaultPriority),
			Actions: flowsyntax.FormatInstructions(s.Instructions)}
		if withStats {
			d := float64(s.DurationSec) + float64(s.DurationNsec)/1e9
			p, b := s.PacketCount, s.ByteCount
			f.Duration, f.Packets, f.Bytes = &d, &p, &b
		}
		f.Flags = flowsyntax.FlagNames(s.Flags)
		out = append(out, f)
	}
	return out
}

type jsonPort struct {
	PortNo     uint32   `json:"port_no"`
	Port       string   `json:"port"` // ovs-ofctl's spelling: "1", "LOCAL"
	Name       string   `json:"name"`
	HWAddr     string   `json:"hw_addr"`
	Config     []string `json:"config"`
	State      []string `json:"state"`
	Current    []string `json:"current,omitempty"`
	Advertised []string `json:"advertised,omitempty"`
	Supported  []string `json:"supported,omitempty"`
	Peer       []string `json:"peer,omitempty"`
	CurrSpeed  uint32   `json:"curr_speed_kbps"`
	MaxSpeed   uint32   `json:"max_speed_kbps"`
}

func names(v uint32, table []string) []string {
	s := bitNames(v, table)
	if s == "0" {
		return []string{}
	}
	return strings.Fields(s)
}

func jsonPorts(ports []openflow.Port) []jsonPort {
	out := []jsonPort{}
	for _, p := range sortedPorts(ports) {
		jp := jsonPort{PortNo: p.PortNo, Port: flowsyntax.FormatPort(p.PortNo), Name: p.Name, HWAddr: formatMAC(p.HWAddr),
			Config: names(uint32(p.Config), portConfigNames), State: names(uint32(p.State), portStateNames),
			CurrSpeed: p.CurrSpeed, MaxSpeed: p.MaxSpeed}
		feat := func(f openflow.PortFeatures) []string {
			if f&0xffff == 0 {
				return nil
			}
			return names(uint32(f), portFeatureNames)
		}
		jp.Current, jp.Advertised, jp.Supported, jp.Peer = feat(p.Curr), feat(p.Advertised), feat(p.Supported), feat(p.Peer)
		out = append(out, jp)
	}
	return out
}

type jsonPortStat struct {
	PortNo     uint32   `json:"port_no"`
	Port       string   `json:"port"`
	RxPackets  uint64   `json:"rx_packets"`
	RxBytes    uint64   `json:"rx_bytes"`
	RxDropped  uint64   `json:"rx_dropped"`
	RxErrors   uint64   `json:"rx_errors"`
	RxFrameErr uint64   `json:"rx_frame_err"`
	RxOverErr  uint64   `json:"rx_over_err"`
	RxCRCErr   uint64   `json:"rx_crc_err"`
	TxPackets  uint64   `json:"tx_packets"`
	TxBytes    uint64   `json:"tx_bytes"`
	TxDropped  uint64   `json:"tx_dropped"`
	TxErrors   uint64   `json:"tx_errors"`
	Collisions uint64   `json:"collisions"`
	Duration   *float64 `json:"duration,omitempty"`
}

func jsonPortStats(stats []openflow.PortStats) []jsonPortStat {
	out := []jsonPortStat{}
	for _, s := range stats {
		j := jsonPortStat{PortNo: s.PortNo, Port: flowsyntax.FormatPort(s.PortNo),
			RxPackets: s.RxPackets, RxBytes: s.RxBytes, RxDropped: s.RxDropped, RxErrors: s.RxErrors,
			RxFrameErr: s.RxFrameErr, RxOverErr: s.RxOverErr, RxCRCErr: s.RxCRCErr,
			TxPackets: s.TxPackets, TxBytes: s.TxBytes, TxDropped: s.TxDropped, TxErrors: s.TxErrors,
			Collisions: s.Collisions}
		if s.DurationSec != ^uint32(0) {
			d := float64(s.DurationSec) + float64(s.DurationNsec)/1e9
			j.Duration = &d
		}
		out = append(out, j)
	}
	return out
}

type jsonDesc struct {
	Manufacturer string `json:"manufacturer"`
	Hardware     string `json:"hardware"`
	Software     string `json:"software"`
	SerialNum    string `json:"serial_num"`
	DPDesc       string `json:"dp_desc"`
}

type jsonAggregate struct {
	PacketCount uint64 `json:"packet_count"`
	ByteCount   uint64 `json:"byte_count"`
	FlowCount   uint32 `json:"flow_count"`
}

type jsonTable struct {
	Table   uint8  `json:"table"`
	Active  uint32 `json:"active"`
	Lookup  uint64 `json:"lookup"`
	Matched uint64 `json:"matched"`
}

func jsonTables(stats []openflow.TableStats) []jsonTable {
	out := []jsonTable{}
	for _, s := range stats {
		out = append(out, jsonTable{s.TableID, s.ActiveCount, s.LookupCount, s.MatchedCount})
	}
	return out
}

type jsonShowReply struct {
	DatapathID   string     `json:"datapath_id"`
	NTables      uint8      `json:"n_tables"`
	NBuffers     uint32     `json:"n_buffers"`
	AuxiliaryID  uint8      `json:"auxiliary_id"`
	Capabilities []string   `json:"capabilities"`
	Ports        []jsonPort `json:"ports"`
	Frags        string     `json:"frags"`
	MissSendLen  uint16     `json:"miss_send_len"`
}

func jsonShow(f *openflow.FeaturesReply, ports []openflow.Port, cfg *openflow.SwitchConfig) jsonShowReply {
	caps := []string{}
	for _, c := range capabilityNames {
		if f.Capabilities&c.bit != 0 {
			caps = append(caps, c.name)
		}
	}
	frags := [...]string{"normal", "drop", "reassemble", "nx-match"}[cfg.Flags&openflow.FragMask]
	return jsonShowReply{DatapathID: fmt.Sprintf("%016x", f.DatapathID), NTables: f.NTables, NBuffers: f.NBuffers,
		AuxiliaryID: f.AuxiliaryID, Capabilities: caps, Ports: jsonPorts(ports), Frags: frags, MissSendLen: cfg.MissSendLen}
}
