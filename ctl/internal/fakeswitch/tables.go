package fakeswitch

import (
	"sort"

	"github.com/goko-net/goko/openflow"
)

// Groups returns a copy of the group table, sorted by id.
func (s *Switch) Groups() []openflow.GroupDesc {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]openflow.GroupDesc(nil), s.groups...)
}

// Meters returns a copy of the meter table, sorted by id.
func (s *Switch) Meters() []openflow.MeterConfig {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]openflow.MeterConfig(nil), s.meters...)
}

func (s *Switch) groupMod(m *openflow.GroupMod) (openflow.ErrorCode, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.AcceptAll {
		return 0, false
	}
	idx := -1
	for i, g := range s.groups {
		if g.GroupID == m.GroupID {
			idx = i
		}
	}
	switch m.Command {
	case openflow.GroupAdd:
		if m.GroupID > openflow.GroupMax {
			return openflow.GMFCInvalidGroup, true
		}
		if idx >= 0 {
			return openflow.GMFCGroupExists, true
		}
		s.groups = append(s.groups, openflow.GroupDesc{GroupType: m.GroupType, GroupID: m.GroupID, Buckets: m.Buckets})
		sort.Slice(s.groups, func(i, j int) bool { return s.groups[i].GroupID < s.groups[j].GroupID })
	case openflow.GroupModify:
		if idx < 0 {
			return openflow.GMFCUnknownGroup, true
		}
		s.groups[idx] = openflow.GroupDesc{GroupType: m.GroupType, GroupID: m.GroupID, Buckets: m.Buckets}
	case openflow.GroupDelete:
		kept := s.groups[:0]
		for _, g := range s.groups {
			if m.GroupID != openflow.GroupAll && g.GroupID != m.GroupID {
				kept = append(kept, g)
			}
		}
		s.groups = kept
	default:
		return openflow.GMFCBadCommand, true
	}
	return 0, false
}

func (s *Switch) meterMod(m *openflow.MeterMod) (openflow.ErrorCode, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.AcceptAll {
		return 0, false
	}
	idx := -1
	for i, c := range s.meters {
		if c.MeterID == m.MeterID {
			idx = i
		}
	}
	switch m.Command {
	case openflow.MeterAdd:
		if m.MeterID == 0 || m.MeterID > openflow.MeterMax {
			return openflow.MMFCInvalidMeter, true
		}
		if idx >= 0 {
			return openflow.MMFCMeterExists, true
		}
		s.meters = append(s.meters, openflow.MeterConfig{Flags: m.Flags, MeterID: m.MeterID, Bands: m.Bands})
		sort.Slice(s.meters, func(i, j int) bool { return s.meters[i].MeterID < s.meters[j].MeterID })
	case openflow.MeterModify:
		if idx < 0 {
			return openflow.MMFCUnknownMeter, true
		}
		s.meters[idx] = openflow.MeterConfig{Flags: m.Flags, MeterID: m.MeterID, Bands: m.Bands}
	case openflow.MeterDelete:
		kept := s.meters[:0]
		for _, c := range s.meters {
			if m.MeterID != openflow.MeterAll && c.MeterID != m.MeterID {
				kept = append(kept, c)
			}
		}
		s.meters = kept
	default:
		return openflow.MMFCBadCommand, true
	}
	return 0, false
}

func (s *Switch) portMod(m *openflow.PortMod) (openflow.ErrorCode, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := range s.Ports {
		p := &s.Ports[i]
		if p.PortNo != m.PortNo {
			continue
		}
		if p.HWAddr != m.HWAddr {
			return openflow.PMFCBadHWAddr, true
		}
		p.Config = p.Config&^m.Mask | m.Config&m.Mask
		return 0, false
	}
	return openflow.PMFCBadPort, true
}

// groupMeterMultipart answers the group and meter multipart requests;
// s.mu is held.
func (s *Switch) groupMeterMultipart(req openflow.MultipartBody) openflow.MultipartBody {
	switch r := req.(type) {
	case *openflow.GroupDescRequest:
		return &openflow.GroupDescReply{Groups: append([]openflow.GroupDesc(nil), s.groups...)}
	case *openflow.GroupStatsRequest:
		out := &openflow.GroupStatsReply{}
		for _, g := range s.groups {
			if r.GroupID == openflow.GroupAll || r.GroupID == g.GroupID {
				st := openflow.GroupStats{GroupID: g.GroupID, PacketCount: 10, ByteCount: 1000, DurationSec: 1}
				for range g.Buckets {
					st.Buckets = append(st.Buckets, openflow.BucketCounter{PacketCount: 5, ByteCount: 500})
				}
				out.Stats = append(out.Stats, st)
			}
		}
		return out
	case *openflow.GroupFeaturesRequest:
		return &openflow.GroupFeaturesReply{Types: 0xf, Capabilities: openflow.GroupCapSelectWeight | openflow.GroupCapChaining,
			MaxGroups: [4]uint32{1000, 1000, 1000, 1000}, Actions: [4]uint32{1, 1, 1, 1}}
	case *openflow.MeterConfigRequest:
		out := &openflow.MeterConfigReply{}
		for _, c := range s.meters {
			if r.MeterID == openflow.MeterAll || r.MeterID == c.MeterID {
				out.Configs = append(out.Configs, c)
			}
		}
		return out
	case *openflow.MeterStatsRequest:
		out := &openflow.MeterStatsReply{}
		for _, c := range s.meters {
			if r.MeterID == openflow.MeterAll || r.MeterID == c.MeterID {
				st := openflow.MeterStats{MeterID: c.MeterID, FlowCount: 1, PacketInCount: 7, ByteInCount: 700, DurationSec: 2}
				for range c.Bands {
					st.Bands = append(st.Bands, openflow.MeterBandStats{PacketBandCount: 1, ByteBandCount: 100})
				}
				out.Stats = append(out.Stats, st)
			}
		}
		return out
	case *openflow.MeterFeaturesRequest:
		return &openflow.MeterFeaturesReply{MaxMeter: 1000, BandTypes: 1<<openflow.MeterBandDrop | 1<<openflow.MeterBandDSCPRemark,
			Capabilities: uint32(openflow.MeterFlagKbps | openflow.MeterFlagPktps | openflow.MeterFlagBurst | openflow.MeterFlagStats), MaxBands: 8}
	}
	return nil
}
