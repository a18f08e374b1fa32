package ofproto

// Meters.
//
// A meter keeps the meter-mod exactly as received (flags and bands, burst
// sizes included even when OFPMF_BURST is clear) for METER_CONFIG, and a
// datapath.Meter built from it that translation puts in front of a rule's
// actions (ActMeter). A modify builds a new datapath meter and invalidates,
// so no megaflow keeps the old token buckets; the meter's packet and byte
// counts carry over (base), its band counters restart with the new bands.
// Deleting a meter deletes the flows that use it. Changes hold Bridge.modMu,
// and Bridge.mu for writing while they edit (see Bridge).

import (
	"slices"
	"time"

	"github.com/goko-net/goko/datapath"
	"github.com/goko-net/goko/openflow"
)

const (
	maxMeters     = 65536
	maxMeterBands = 8
)

// meterCaps are the meter flags goko implements.
const meterCaps = openflow.MeterFlagKbps | openflow.MeterFlagPktps | openflow.MeterFlagBurst | openflow.MeterFlagStats

type meter struct {
	id         uint32
	flags      openflow.MeterFlags
	bands      []openflow.MeterBand // as configured
	dp         *datapath.Meter
	basePkts   uint64 // counts of datapath meters replaced by a modify
	baseBytes  uint64
	created    time.Time
	bandsStats []*datapath.FlowStats
}

// MeterMod applies a meter-mod.
func (b *Bridge) MeterMod(mm *openflow.MeterMod) error {
	var removed []*rule
	err := b.update(func(tx *txn) error {
		var err error
		switch mm.Command {
		case openflow.MeterAdd, openflow.MeterModify:
			err = b.addModifyMeter(tx, mm)
		case openflow.MeterDelete:
			removed, err = b.deleteMeter(tx, mm.MeterID)
		default:
			err = openflow.Errorf(openflow.MMFCBadCommand, "unknown meter-mod command %d", mm.Command)
		}
		return err
	})
	if err != nil {
		return err
	}
	now := time.Now()
	for _, r := range removed {
		// OpenFlow 1.3 has no METER_DELETE reason (1.4 added it).
		b.sendFlowRemoved(r, openflow.FlowRemovedDelete, now)
	}
	return nil
}

func (b *Bridge) addModifyMeter(tx *txn, mm *openflow.MeterMod) error {
	if mm.MeterID == 0 || mm.MeterID > openflow.MeterMax {
		return openflow.Errorf(openflow.MMFCInvalidMeter, "meter id %#x is not a configurable meter (1-%#x)", mm.MeterID, openflow.MeterMax)
	}
	if mm.Flags&^meterCaps != 0 {
		return openflow.Errorf(openflow.MMFCBadFlags, "unknown meter flags %#x", uint16(mm.Flags&^meterCaps))
	}
	if (mm.Flags&openflow.MeterFlagKbps != 0) == (mm.Flags&openflow.MeterFlagPktps != 0) {
		return openflow.Errorf(openflow.MMFCBadFlags, "meter flags need exactly one of KBPS and PKTPS (the unit of the rates), got %#x", uint16(mm.Flags))
	}
	if len(mm.Bands) > maxMeterBands {
		return openflow.Errorf(openflow.MMFCOutOfBands, "%d bands, at most %d", len(mm.Bands), maxMeterBands)
	}
	old := b.meters[mm.MeterID]
	if mm.Command == openflow.MeterAdd && old != nil {
		return openflow.Errorf(openflow.MMFCMeterExists, "meter %d exists", mm.MeterID)
	}
	if mm.Command == openflow.MeterModify && old == nil {
		return openflow.Errorf(openflow.MMFCUnknownMeter, "meter %d does not exist", mm.MeterID)
	}
	if old == nil && len(b.meters) >= maxMeters {
		return openflow.Errorf(openflow.MMFCOutOfMeters, "at most %d meters", maxMeters)
	}
	pktps := mm.Flags&openflow.MeterFlagPktps != 0
	var bands []datapath.MeterBand
	for i, mb := range mm.Bands {
		if mb.Rate == 0 {
			return openflow.Errorf(openflow.MMFCBadRate, "band %d has rate 0", i)
		}
		db := datapath.MeterBand{Rate: mb.Rate, Stats: new(datapath.FlowStats)}
		if mm.Flags&openflow.MeterFlagBurst != 0 {
			// Without OFPMF_BURST the burst size is ignored; with it, 0
			// still means the datapath's default.
			db.Burst = mb.BurstSize
		}
		switch mb.Type {
		case openflow.MeterBandDrop:
			db.Drop = true
		case openflow.MeterBandDSCPRemark:
			if mb.PrecLevel == 0 || mb.PrecLevel > 63 {
				return openflow.Errorf(openflow.MMFCBadBandValue, "band %d: prec_level %d (want 1-63)", i, mb.PrecLevel)
			}
			db.PrecLevel = mb.PrecLevel
		default:
			return openflow.Errorf(openflow.MMFCBadBand, "band %d: type %d is not supported (drop and dscp_remark are)", i, mb.Type)
		}
		bands = append(bands, db)
	}
	m := &meter{id: mm.MeterID, flags: mm.Flags, bands: mm.Bands, dp: datapath.NewMeter(pktps, bands), created: time.Now()}
	for _, db := range bands {
		m.bandsStats = append(m.bandsStats, db.Stats)
	}
	if old != nil {
		m.created = old.created
		m.basePkts = old.basePkts + old.dp.Packets.Load()
		m.baseBytes = old.baseBytes + old.dp.Bytes.Load()
	}
	tx.setMeter(m)
	return nil
}

// deleteMeter deletes meter id (or all) and the flows that use it, as part
// of change tx.
func (b *Bridge) deleteMeter(tx *txn, id uint32) ([]*rule, error) {
	victims := map[uint32]bool{}
	switch {
	case id == openflow.MeterAll:
		for mid := range b.meters {
			victims[mid] = true
		}
	case id == 0 || id > openflow.MeterMax:
		return nil, openflow.Errorf(openflow.MMFCInvalidMeter, "meter id %#x is not a configurable meter", id)
	case b.meters[id] == nil:
		return nil, nil // deleting a missing meter is not an error
	default:
		victims[id] = true
	}
	sel := b.selectRules(tableAll, func(r *rule) bool { return victims[r.meterID()] })
	return tx.removeRules(sel, func() {
		for mid := range victims {
			tx.deleteMeter(mid)
		}
	}), nil
}

func (b *Bridge) sortedMeters(id uint32) []*meter {
	var out []*meter
	if id != openflow.MeterAll {
		if m := b.meters[id]; m != nil {
			out = append(out, m)
		}
		return out
	}
	for _, m := range b.meters {
		out = append(out, m)
	}
	sortBy(out, func(m *meter) uint32 { return m.id })
	return out
}

func (b *Bridge) meterStats(id uint32) (*openflow.MeterStatsReply, error) {
	// Counting flows walks every table: a long reader (see Bridge).
	b.modMu.Lock()
	defer b.modMu.Unlock()
	if err := b.meterKnown(id); err != nil {
		return nil, err
	}
	flows := map[uint32]uint32{}
	for t := range b.tables {
		b.tables[t].each(func(r *rule) {
			if mid := r.meterID(); mid != 0 {
				flows[mid]++
			}
		})
	}
	reply := &openflow.MeterStatsReply{}
	now := time.Now()
	for _, m := range b.sortedMeters(id) {
		d := now.Sub(m.created)
		s := openflow.MeterStats{
			MeterID: m.id, FlowCount: flows[m.id],
			PacketInCount: m.basePkts + m.dp.Packets.Load(), ByteInCount: m.baseBytes + m.dp.Bytes.Load(),
			DurationSec: durSec(d), DurationNsec: durNsec(d),
		}
		for _, bs := range m.bandsStats {
			s.Bands = append(s.Bands, openflow.MeterBandStats{PacketBandCount: bs.Packets.Load(), ByteBandCount: bs.Bytes.Load()})
		}
		reply.Stats = append(reply.Stats, s)
	}
	return reply, nil
}

func (b *Bridge) meterConfig(id uint32) (*openflow.MeterConfigReply, error) {
	b.mu.RLock()
	defer b.mu.RUnlock()
	if err := b.meterKnown(id); err != nil {
		return nil, err
	}
	reply := &openflow.MeterConfigReply{}
	for _, m := range b.sortedMeters(id) {
		reply.Configs = append(reply.Configs, openflow.MeterConfig{Flags: m.flags, MeterID: m.id, Bands: m.bands})
	}
	return reply, nil
}

// meterKnown refuses a stats or config request for one meter that does not
// exist (OFPMMFC_UNKNOWN_METER, as Open vSwitch answers).
func (b *Bridge) meterKnown(id uint32) error {
	if id != openflow.MeterAll && b.meters[id] == nil {
		return openflow.Errorf(openflow.MMFCUnknownMeter, "meter %d does not exist", id)
	}
	return nil
}

func meterFeatures() *openflow.MeterFeaturesReply {
	return &openflow.MeterFeaturesReply{
		MaxMeter:     maxMeters,
		BandTypes:    1<<openflow.MeterBandDrop | 1<<openflow.MeterBandDSCPRemark,
		Capabilities: uint32(meterCaps),
		MaxBands:     maxMeterBands,
		MaxColor:     0,
	}
}

// sortBy sorts s by an unsigned key.
func sortBy[T any](s []T, key func(T) uint32) {
	slices.SortFunc(s, func(a, b T) int {
		ka, kb := key(a), key(b)
		switch {
		case ka < kb:
			return -1
		case ka > kb:
			return 1
		}
		return 0
	})
}
