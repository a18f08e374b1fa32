package openflow

// GROUP_MOD and the group multipart bodies.

// Bucket is ofp_bucket.
type Bucket struct {
	Weight     uint16 // select groups only
	WatchPort  uint32 // fast-failover groups; PortAny otherwise
	WatchGroup uint32 // fast-failover groups; GroupAny otherwise
	Actions    []Action
}

func appendBuckets(b []byte, bs []Bucket) ([]byte, error) {
	for i := range bs {
		start := len(b)
		b = put16(put16(b, 0), bs[i].Weight)
		b = zeros(put32(put32(b, bs[i].WatchPort), bs[i].WatchGroup), 4)
		var err error
		if b, err = appendActions(b, bs[i].Actions); err != nil {
			return b[:start], err
		}
		if len(b)-start > MaxMessageLen {
			return b[:start], errTooLong
		}
		patch16(b, start, uint16(len(b)-start))
	}
	return b, nil
}

func parseBuckets(b []byte) ([]Bucket, error) {
	var bs []Bucket
	for len(b) > 0 {
		if len(b) < 16 {
			return nil, errf(GMFCBadBucket, "truncated bucket (%d bytes)", len(b))
		}
		n := int(u16(b, 0))
		if n < 16 || n > len(b) {
			return nil, errf(GMFCBadBucket, "bucket length %d (%d bytes left)", n, len(b))
		}
		acts, err := parseActions(b[16:n])
		if err != nil {
			return nil, err
		}
		bs = append(bs, Bucket{Weight: u16(b, 2), WatchPort: u32(b, 4), WatchGroup: u32(b, 8), Actions: acts})
		b = b[n:]
	}
	return bs, nil
}

// GroupMod is OFPT_GROUP_MOD.
type GroupMod struct {
	Command   GroupModCommand
	GroupType GroupType
	GroupID   uint32
	Buckets   []Bucket
}

// Type implements Message.
func (*GroupMod) Type() Type { return TypeGroupMod }

func (m *GroupMod) appendBody(b []byte) ([]byte, error) {
	b = put32(append(put16(b, uint16(m.Command)), byte(m.GroupType), 0), m.GroupID)
	return appendBuckets(b, m.Buckets)
}

func (m *GroupMod) decodeBody(b []byte) error {
	if len(b) < 8 {
		return errf(BRCBadLen, "group-mod body %d bytes", len(b))
	}
	bs, err := parseBuckets(b[8:])
	if err != nil {
		return err
	}
	*m = GroupMod{Command: GroupModCommand(u16(b, 0)), GroupType: GroupType(b[2]), GroupID: u32(b, 4), Buckets: bs}
	return nil
}

// GroupStatsRequest is the OFPMP_GROUP request body.
type GroupStatsRequest struct{ GroupID uint32 } // GroupAll for all groups

// BucketCounter is ofp_bucket_counter.
type BucketCounter struct{ PacketCount, ByteCount uint64 }

// GroupStats is ofp_group_stats.
type GroupStats struct {
	GroupID      uint32
	RefCount     uint32
	PacketCount  uint64
	ByteCount    uint64
	DurationSec  uint32
	DurationNsec uint32
	Buckets      []BucketCounter
}

// GroupStatsReply is the OFPMP_GROUP reply body.
type GroupStatsReply struct{ Stats []GroupStats }

// GroupDescRequest is the (empty) OFPMP_GROUP_DESC request body.
type GroupDescRequest struct{}

// GroupDesc is ofp_group_desc.
type GroupDesc struct {
	GroupType GroupType
	GroupID   uint32
	Buckets   []Bucket
}

// GroupDescReply is the OFPMP_GROUP_DESC reply body.
type GroupDescReply struct{ Groups []GroupDesc }

// GroupFeaturesRequest is the (empty) OFPMP_GROUP_FEATURES request body.
type GroupFeaturesRequest struct{}

// GroupFeaturesReply is the OFPMP_GROUP_FEATURES reply body (ofp_group_features).
type GroupFeaturesReply struct {
	Types        uint32 // bitmap of GroupType
	Capabilities GroupCapabilities
	MaxGroups    [4]uint32 // per group type
	Actions      [4]uint32 // bitmaps of ActionType, per group type
}

// MultipartType implements MultipartBody.
func (*GroupStatsRequest) MultipartType() MultipartType { return MultipartGroup }

// MultipartType implements MultipartBody.
func (*GroupStatsReply) MultipartType() MultipartType { return MultipartGroup }

// MultipartType implements MultipartBody.
func (*GroupDescRequest) MultipartType() MultipartType { return MultipartGroupDesc }

// MultipartType implements MultipartBody.
func (*GroupDescReply) MultipartType() MultipartType { return MultipartGroupDesc }

// MultipartType implements MultipartBody.
func (*GroupFeaturesRequest) MultipartType() MultipartType { return MultipartGroupFeatures }

// MultipartType implements MultipartBody.
func (*GroupFeaturesReply) MultipartType() MultipartType { return MultipartGroupFeatures }

func (r *GroupStatsRequest) appendTo(b []byte) ([]byte, error) {
	return zeros(put32(b, r.GroupID), 4), nil
}
func (r *GroupStatsRequest) decode(b []byte) error {
	if err := mpFixed(MultipartGroup, b, 8); err != nil {
		return err
	}
	r.GroupID = u32(b, 0)
	return nil
}

func (r *GroupStatsReply) count() int                        { return len(r.Stats) }
func (r *GroupStatsReply) appendTo(b []byte) ([]byte, error) { return appendList(b, r) }
func (r *GroupStatsReply) appendElem(b []byte, i int) ([]byte, error) {
	return r.Stats[i].appendTo(b), nil
}

func (s *GroupStats) appendTo(b []byte) []byte {
	b = put16(b, uint16(40+16*len(s.Buckets)))
	b = zeros(put32(put32(zeros(b, 2), s.GroupID), s.RefCount), 4)
	b = put32(put32(put64(put64(b, s.PacketCount), s.ByteCount), s.DurationSec), s.DurationNsec)
	for _, c := range s.Buckets {
		b = put64(put64(b, c.PacketCount), c.ByteCount)
	}
	return b
}

func (r *GroupStatsReply) decode(b []byte) error {
	for len(b) > 0 {
		if len(b) < 40 {
			return errf(BRCBadLen, "truncated group stats")
		}
		n := int(u16(b, 0))
		if n < 40 || n > len(b) || (n-40)%16 != 0 {
			return errf(BRCBadLen, "group stats length %d", n)
		}
		s := GroupStats{GroupID: u32(b, 4), RefCount: u32(b, 8), PacketCount: u64(b, 16),
			ByteCount: u64(b, 24), DurationSec: u32(b, 32), DurationNsec: u32(b, 36)}
		for p := b[40:n]; len(p) > 0; p = p[16:] {
			s.Buckets = append(s.Buckets, BucketCounter{u64(p, 0), u64(p, 8)})
		}
		r.Stats = append(r.Stats, s)
		b = b[n:]
	}
	return nil
}

func (*GroupDescRequest) appendTo(b []byte) ([]byte, error) { return b, nil }
func (*GroupDescRequest) decode(b []byte) error             { return mpFixed(MultipartGroupDesc, b, 0) }

func (r *GroupDescReply) count() int                        { return len(r.Groups) }
func (r *GroupDescReply) appendTo(b []byte) ([]byte, error) { return appendList(b, r) }
func (r *GroupDescReply) appendElem(b []byte, i int) ([]byte, error) {
	return r.Groups[i].appendTo(b)
}

func (g *GroupDesc) appendTo(b []byte) ([]byte, error) {
	start := len(b)
	b = put32(append(put16(b, 0), byte(g.GroupType), 0), g.GroupID)
	b, err := appendBuckets(b, g.Buckets)
	if err != nil {
		return b[:start], err
	}
	if len(b)-start > MaxMessageLen {
		return b[:start], errTooLong
	}
	patch16(b, start, uint16(len(b)-start))
	return b, nil
}

func (r *GroupDescReply) decode(b []byte) error {
	for len(b) > 0 {
		if len(b) < 8 {
			return errf(BRCBadLen, "truncated group desc")
		}
		n := int(u16(b, 0))
		if n < 8 || n > len(b) {
			return errf(BRCBadLen, "group desc length %d", n)
		}
		bs, err := parseBuckets(b[8:n])
		if err != nil {
			return err
		}
		r.Groups = append(r.Groups, GroupDesc{GroupType: GroupType(b[2]), GroupID: u32(b, 4), Buckets: bs})
		b = b[n:]
	}
	return nil
}

func (*GroupFeaturesRequest) appendTo(b []byte) ([]byte, error) { return b, nil }
func (*GroupFeaturesRequest) decode(b []byte) error {
	return mpFixed(MultipartGroupFeatures, b, 0)
}

func (r *GroupFeaturesReply) appendTo(b []byte) ([]byte, error) {
	b = put32(put32(b, r.Types), uint32(r.Capabilities))
	for _, v := range r.MaxGroups {
		b = put32(b, v)
	}
	for _, v := range r.Actions {
		b = put32(b, v)
	}
	return b, nil
}

func (r *GroupFeaturesReply) decode(b []byte) error {
	if err := mpFixed(MultipartGroupFeatures, b, 40); err != nil {
		return err
	}
	r.Types, r.Capabilities = u32(b, 0), GroupCapabilities(u32(b, 4))
	for i := range 4 {
		r.MaxGroups[i], r.Actions[i] = u32(b, 8+4*i), u32(b, 24+4*i)
	}
	return nil
}
