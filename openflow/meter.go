package openflow

// METER_MOD and the meter multipart bodies.

// MeterBand is one meter band (ofp_meter_band_*). Which fields are used
// depends on Type: PrecLevel for DSCP remark, Experimenter for
// experimenter bands; Data holds the bytes after the known layout (for
// experimenter and unknown band types).
type MeterBand struct {
	Type         MeterBandType
	Rate         uint32
	BurstSize    uint32
	PrecLevel    uint8
	Experimenter uint32
	Data         []byte
}

func appendBands(b []byte, bands []MeterBand) ([]byte, error) {
	for i := range bands {
		mb := &bands[i]
		start := len(b)
		b = put32(put32(put16(put16(b, uint16(mb.Type)), 0), mb.Rate), mb.BurstSize)
		switch mb.Type {
		case MeterBandDrop:
			b = zeros(b, 4)
		case MeterBandDSCPRemark:
			b = zeros(append(b, mb.PrecLevel), 3)
		case MeterBandExperimenter:
			b = append(put32(b, mb.Experimenter), mb.Data...)
		default:
			b = append(b, mb.Data...)
		}
		if len(b)-start > MaxMessageLen {
			return b[:start], errTooLong
		}
		patch16(b, start+2, uint16(len(b)-start))
	}
	return b, nil
}

func parseBands(b []byte) ([]MeterBand, error) {
	var bands []MeterBand
	for len(b) > 0 {
		if len(b) < 12 {
			return nil, errf(MMFCBadBand, "truncated meter band (%d bytes)", len(b))
		}
		t, n := MeterBandType(u16(b, 0)), int(u16(b, 2))
		if n < 12 || n > len(b) {
			return nil, errf(MMFCBadBand, "meter band length %d (%d bytes left)", n, len(b))
		}
		mb := MeterBand{Type: t, Rate: u32(b, 4), BurstSize: u32(b, 8)}
		switch t {
		case MeterBandDrop, MeterBandDSCPRemark:
			if n != 16 {
				return nil, errf(MMFCBadBand, "meter band type %d length %d, want 16", t, n)
			}
			if t == MeterBandDSCPRemark {
				mb.PrecLevel = b[12]
			}
		case MeterBandExperimenter:
			if n < 16 {
				return nil, errf(MMFCBadBand, "experimenter meter band length %d", n)
			}
			mb.Experimenter, mb.Data = u32(b, 12), nilIfEmpty(b[16:n])
		default:
			mb.Data = nilIfEmpty(b[12:n])
		}
		bands = append(bands, mb)
		b = b[n:]
	}
	return bands, nil
}

// MeterMod is OFPT_METER_MOD.
type MeterMod struct {
	Command MeterModCommand
	Flags   MeterFlags
	MeterID uint32
	Bands   []MeterBand
}

// Type implements Message.
func (*MeterMod) Type() Type { return TypeMeterMod }

func (m *MeterMod) appendBody(b []byte) ([]byte, error) {
	b = put32(put16(put16(b, uint16(m.Command)), uint16(m.Flags)), m.MeterID)
	return appendBands(b, m.Bands)
}

func (m *MeterMod) decodeBody(b []byte) error {
	if len(b) < 8 {
		return errf(BRCBadLen, "meter-mod body %d bytes", len(b))
	}
	bands, err := parseBands(b[8:])
	if err != nil {
		return err
	}
	*m = MeterMod{Command: MeterModCommand(u16(b, 0)), Flags: MeterFlags(u16(b, 2)), MeterID: u32(b, 4), Bands: bands}
	return nil
}

// MeterStatsRequest is the OFPMP_METER request body.
type MeterStatsRequest struct{ MeterID uint32 } // MeterAll for all meters

// MeterConfigRequest is the OFPMP_METER_CONFIG request body.
type MeterConfigRequest struct{ MeterID uint32 } // MeterAll for all meters

// MeterBandStats is ofp_meter_band_stats.
type MeterBandStats struct{ PacketBandCount, ByteBandCount uint64 }

// MeterStats is ofp_meter_stats.
type MeterStats struct {
	MeterID       uint32
	FlowCount     uint32
	PacketInCount uint64
	ByteInCount   uint64
	DurationSec   uint32
	DurationNsec  uint32
	Bands         []MeterBandStats
}

// MeterStatsReply is the OFPMP_METER reply body.
type MeterStatsReply struct{ Stats []MeterStats }

// MeterConfig is ofp_meter_config.
type MeterConfig struct {
	Flags   MeterFlags
	MeterID uint32
	Bands   []MeterBand
}

// MeterConfigReply is the OFPMP_METER_CONFIG reply body.
type MeterConfigReply struct{ Configs []MeterConfig }

// MeterFeaturesRequest is the (empty) OFPMP_METER_FEATURES request body.
type MeterFeaturesRequest struct{}

// MeterFeaturesReply is the OFPMP_METER_FEATURES reply body (ofp_meter_features).
type MeterFeaturesReply struct {
	MaxMeter     uint32
	BandTypes    uint32 // bitmap of 1<<MeterBandType
	Capabilities uint32 // bitmap of MeterFlags
	MaxBands     uint8
	MaxColor     uint8
}

// MultipartType implements MultipartBody.
func (*MeterStatsRequest) MultipartType() MultipartType { return MultipartMeter }

// MultipartType implements MultipartBody.
func (*MeterStatsReply) MultipartType() MultipartType { return MultipartMeter }

// MultipartType implements MultipartBody.
func (*MeterConfigRequest) MultipartType() MultipartType { return MultipartMeterConfig }

// MultipartType implements MultipartBody.
func (*MeterConfigReply) MultipartType() MultipartType { return MultipartMeterConfig }

// MultipartType implements MultipartBody.
func (*MeterFeaturesRequest) MultipartType() MultipartType { return MultipartMeterFeatures }

// MultipartType implements MultipartBody.
func (*MeterFeaturesReply) MultipartType() MultipartType { return MultipartMeterFeatures }

func (r *MeterStatsRequest) appendTo(b []byte) ([]byte, error) {
	return zeros(put32(b, r.MeterID), 4), nil
}
func (r *MeterStatsRequest) decode(b []byte) error {
	if err := mpFixed(MultipartMeter, b, 8); err != nil {
		return err
	}
	r.MeterID = u32(b, 0)
	return nil
}

func (r *MeterConfigRequest) appendTo(b []byte) ([]byte, error) {
	return zeros(put32(b, r.MeterID), 4), nil
}
func (r *MeterConfigRequest) decode(b []byte) error {
	if err := mpFixed(MultipartMeterConfig, b, 8); err != nil {
		return err
	}
	r.MeterID = u32(b, 0)
	return nil
}

func (r *MeterStatsReply) count() int                        { return len(r.Stats) }
func (r *MeterStatsReply) appendTo(b []byte) ([]byte, error) { return appendList(b, r) }
func (r *MeterStatsReply) appendElem(b []byte, i int) ([]byte, error) {
	s := &r.Stats[i]
	b = zeros(put16(put32(b, s.MeterID), uint16(40+16*len(s.Bands))), 6)
	b = put64(put64(put32(b, s.FlowCount), s.PacketInCount), s.ByteInCount)
	b = put32(put32(b, s.DurationSec), s.DurationNsec)
	for _, bs := range s.Bands {
		b = put64(put64(b, bs.PacketBandCount), bs.ByteBandCount)
	}
	return b, nil
}

func (r *MeterStatsReply) decode(b []byte) error {
	for len(b) > 0 {
		if len(b) < 40 {
			return errf(BRCBadLen, "truncated meter stats")
		}
		n := int(u16(b, 4))
		if n < 40 || n > len(b) || (n-40)%16 != 0 {
			return errf(BRCBadLen, "meter stats length %d", n)
		}
		s := MeterStats{MeterID: u32(b, 0), FlowCount: u32(b, 12), PacketInCount: u64(b, 16),
			ByteInCount: u64(b, 24), DurationSec: u32(b, 32), DurationNsec: u32(b, 36)}
		for p := b[40:n]; len(p) > 0; p = p[16:] {
			s.Bands = append(s.Bands, MeterBandStats{u64(p, 0), u64(p, 8)})
		}
		r.Stats = append(r.Stats, s)
		b = b[n:]
	}
	return nil
}

func (r *MeterConfigReply) count() int                        { return len(r.Configs) }
func (r *MeterConfigReply) appendTo(b []byte) ([]byte, error) { return appendList(b, r) }
func (r *MeterConfigReply) appendElem(b []byte, i int) ([]byte, error) {
	c := &r.Configs[i]
	start := len(b)
	b = put32(put16(put16(b, 0), uint16(c.Flags)), c.MeterID)
	b, err := appendBands(b, c.Bands)
	if err != nil {
		return b[:start], err
	}
	if len(b)-start > MaxMessageLen {
		return b[:start], errTooLong
	}
	patch16(b, start, uint16(len(b)-start))
	return b, nil
}

func (r *MeterConfigReply) decode(b []byte) error {
	for len(b) > 0 {
		if len(b) < 8 {
			return errf(BRCBadLen, "truncated meter config")
		}
		n := int(u16(b, 0))
		if n < 8 || n > len(b) {
			return errf(BRCBadLen, "meter config length %d", n)
		}
		bands, err := parseBands(b[8:n])
		if err != nil {
			return err
		}
		r.Configs = append(r.Configs, MeterConfig{Flags: MeterFlags(u16(b, 2)), MeterID: u32(b, 4), Bands: bands})
		b = b[n:]
	}
	return nil
}

func (*MeterFeaturesRequest) appendTo(b []byte) ([]byte, error) { return b, nil }
func (*MeterFeaturesRequest) decode(b []byte) error {
	return mpFixed(MultipartMeterFeatures, b, 0)
}

func (r *MeterFeaturesReply) appendTo(b []byte) ([]byte, error) {
	b = put32(put32(put32(b, r.MaxMeter), r.BandTypes), r.Capabilities)
	return zeros(append(b, r.MaxBands, r.MaxColor), 2), nil
}

func (r *MeterFeaturesReply) decode(b []byte) error {
	if err := mpFixed(MultipartMeterFeatures, b, 16); err != nil {
		return err
	}
	*r = MeterFeaturesReply{MaxMeter: u32(b, 0), BandTypes: u32(b, 4), Capabilities: u32(b, 8), MaxBands: b[12], MaxColor: b[13]}
	return nil
}
