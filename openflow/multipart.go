package openflow

import "strconv"

// Multipart layout: after the OpenFlow header, type (uint16), flags
// (uint16), 4 bytes of padding, then the body. The body's concrete Go type
// names the multipart type; request and reply bodies are distinct types
// (e.g. *PortStatsRequest and *PortStatsReply). An unknown multipart type
// fails with OFPBRC_BAD_MULTIPART.

// MultipartType is a multipart message type (enum ofp_multipart_type).
type MultipartType uint16

// Multipart types.
const (
	MultipartDesc          MultipartType = 0      // OFPMP_DESC
	MultipartFlow          MultipartType = 1      // OFPMP_FLOW
	MultipartAggregate     MultipartType = 2      // OFPMP_AGGREGATE
	MultipartTable         MultipartType = 3      // OFPMP_TABLE
	MultipartPortStats     MultipartType = 4      // OFPMP_PORT_STATS
	MultipartQueue         MultipartType = 5      // OFPMP_QUEUE
	MultipartGroup         MultipartType = 6      // OFPMP_GROUP
	MultipartGroupDesc     MultipartType = 7      // OFPMP_GROUP_DESC
	MultipartGroupFeatures MultipartType = 8      // OFPMP_GROUP_FEATURES
	MultipartMeter         MultipartType = 9      // OFPMP_METER
	MultipartMeterConfig   MultipartType = 10     // OFPMP_METER_CONFIG
	MultipartMeterFeatures MultipartType = 11     // OFPMP_METER_FEATURES
	MultipartTableFeatures MultipartType = 12     // OFPMP_TABLE_FEATURES
	MultipartPortDesc      MultipartType = 13     // OFPMP_PORT_DESC
	MultipartExperimenter  MultipartType = 0xffff // OFPMP_EXPERIMENTER
)

var multipartNames = [...]string{
	"OFPMP_DESC", "OFPMP_FLOW", "OFPMP_AGGREGATE", "OFPMP_TABLE", "OFPMP_PORT_STATS",
	"OFPMP_QUEUE", "OFPMP_GROUP", "OFPMP_GROUP_DESC", "OFPMP_GROUP_FEATURES",
	"OFPMP_METER", "OFPMP_METER_CONFIG", "OFPMP_METER_FEATURES",
	"OFPMP_TABLE_FEATURES", "OFPMP_PORT_DESC",
}

// String returns the spec name, e.g. "OFPMP_PORT_DESC".
func (t MultipartType) String() string {
	if int(t) < len(multipartNames) {
		return multipartNames[t]
	}
	if t == MultipartExperimenter {
		return "OFPMP_EXPERIMENTER"
	}
	return "OFPMP_" + strconv.Itoa(int(t))
}

// MultipartBody is the body of a multipart request or reply.
type MultipartBody interface {
	// MultipartType returns the multipart type the body is sent with.
	MultipartType() MultipartType
	appendTo(b []byte) ([]byte, error)
	decode(b []byte) error
}

// mpFixed checks the size of a fixed-size multipart body.
func mpFixed(t MultipartType, b []byte, n int) error {
	if len(b) != n {
		return errf(BRCBadLen, "%v body is %d bytes, want %d", t, len(b), n)
	}
	return nil
}

func newRequestBody(t MultipartType) MultipartBody {
	switch t {
	case MultipartDesc:
		return new(DescRequest)
	case MultipartFlow:
		return new(FlowStatsRequest)
	case MultipartAggregate:
		return new(AggregateStatsRequest)
	case MultipartTable:
		return new(TableStatsRequest)
	case MultipartPortStats:
		return new(PortStatsRequest)
	case MultipartQueue:
		return new(QueueStatsRequest)
	case MultipartGroup:
		return new(GroupStatsRequest)
	case MultipartGroupDesc:
		return new(GroupDescRequest)
	case MultipartGroupFeatures:
		return new(GroupFeaturesRequest)
	case MultipartMeter:
		return new(MeterStatsRequest)
	case MultipartMeterConfig:
		return new(MeterConfigRequest)
	case MultipartMeterFeatures:
		return new(MeterFeaturesRequest)
	case MultipartTableFeatures:
		return new(TableFeaturesRequest)
	case MultipartPortDesc:
		return new(PortDescRequest)
	case MultipartExperimenter:
		return new(MultipartExperimenterBody)
	}
	return nil
}

func newReplyBody(t MultipartType) MultipartBody {
	switch t {
	case MultipartDesc:
		return new(DescReply)
	case MultipartFlow:
		return new(FlowStatsReply)
	case MultipartAggregate:
		return new(AggregateStatsReply)
	case MultipartTable:
		return new(TableStatsReply)
	case MultipartPortStats:
		return new(PortStatsReply)
	case MultipartQueue:
		return new(QueueStatsReply)
	case MultipartGroup:
		return new(GroupStatsReply)
	case MultipartGroupDesc:
		return new(GroupDescReply)
	case MultipartGroupFeatures:
		return new(GroupFeaturesReply)
	case MultipartMeter:
		return new(MeterStatsReply)
	case MultipartMeterConfig:
		return new(MeterConfigReply)
	case MultipartMeterFeatures:
		return new(MeterFeaturesReply)
	case MultipartTableFeatures:
		return new(TableFeaturesReply)
	case MultipartPortDesc:
		return new(PortDescReply)
	case MultipartExperimenter:
		return new(MultipartExperimenterBody)
	}
	return nil
}

// MultipartRequest is OFPT_MULTIPART_REQUEST.
type MultipartRequest struct {
	Flags MultipartFlags // MultipartMore if more requests follow
	Body  MultipartBody
}

// MultipartReply is OFPT_MULTIPART_REPLY.
type MultipartReply struct {
	Flags MultipartFlags // MultipartMore if more replies follow
	Body  MultipartBody
}

// Type implements Message.
func (*MultipartRequest) Type() Type { return TypeMultipartRequest }

// Type implements Message.
func (*MultipartReply) Type() Type { return TypeMultipartReply }

func appendMultipart(b []byte, flags MultipartFlags, body MultipartBody) ([]byte, error) {
	if body == nil {
		return b, errf(BRCBadMultipart, "nil multipart body")
	}
	b = zeros(put16(put16(b, uint16(body.MultipartType())), uint16(flags)), 4)
	return body.appendTo(b)
}

func decodeMultipart(b []byte, newBody func(MultipartType) MultipartBody) (MultipartFlags, MultipartBody, error) {
	if len(b) < 8 {
		return 0, nil, errf(BRCBadLen, "multipart body %d bytes", len(b))
	}
	t := MultipartType(u16(b, 0))
	body := newBody(t)
	if body == nil {
		return 0, nil, errf(BRCBadMultipart, "multipart type %d", t)
	}
	if err := body.decode(b[8:]); err != nil {
		return 0, nil, err
	}
	return MultipartFlags(u16(b, 2)), body, nil
}

func (m *MultipartRequest) appendBody(b []byte) ([]byte, error) {
	return appendMultipart(b, m.Flags, m.Body)
}

func (m *MultipartRequest) decodeBody(b []byte) (err error) {
	m.Flags, m.Body, err = decodeMultipart(b, newRequestBody)
	return err
}

func (m *MultipartReply) appendBody(b []byte) ([]byte, error) {
	return appendMultipart(b, m.Flags, m.Body)
}

func (m *MultipartReply) decodeBody(b []byte) (err error) {
	m.Flags, m.Body, err = decodeMultipart(b, newReplyBody)
	return err
}

// listBody is a reply body made of independent elements, which can be
// split over several messages.
type listBody interface {
	MultipartBody
	count() int
	appendElem(b []byte, i int) ([]byte, error)
}

func appendList(b []byte, l listBody) ([]byte, error) {
	var err error
	for i := range l.count() {
		if b, err = l.appendElem(b, i); err != nil {
			return b, err
		}
	}
	return b, nil
}

// AppendMultipartReplies appends body as one or more MULTIPART_REPLY
// messages with transaction id xid, none longer than maxLen bytes
// (maxLen <= 0 or > 65535 means 65535), with MultipartMore set on all but
// the last. Bodies that are lists (flow stats, port stats, port desc,
// table features, ...) are split between elements; other bodies must fit
// in one message. An element too large for maxLen is an error.
func AppendMultipartReplies(dst []byte, xid uint32, body MultipartBody, maxLen int) ([]byte, error) {
	if maxLen <= 0 || maxLen > MaxMessageLen {
		maxLen = MaxMessageLen
	}
	l, ok := body.(listBody)
	if !ok {
		start := len(dst)
		out, err := Append(dst, xid, &MultipartReply{Body: body})
		if err == nil && len(out)-start > maxLen {
			return dst, errTooLong
		}
		return out, err
	}
	const hdr = HeaderLen + 8
	msgStart := -1
	begin := func() {
		msgStart = len(dst)
		dst = append(dst, Version, byte(TypeMultipartReply), 0, 0)
		dst = put32(dst, xid)
		dst = zeros(put16(put16(dst, uint16(body.MultipartType())), 0), 4)
	}
	finish := func(more bool) {
		patch16(dst, msgStart+2, uint16(len(dst)-msgStart))
		if more {
			patch16(dst, msgStart+HeaderLen+2, uint16(MultipartMore))
		}
	}
	orig := len(dst)
	begin()
	for i := range l.count() {
		elemStart := len(dst)
		var err error
		dst, err = l.appendElem(dst, i)
		if err != nil {
			return dst[:orig], err
		}
		if len(dst)-msgStart <= maxLen {
			continue
		}
		// The element does not fit: move it to a new message.
		elem := append([]byte(nil), dst[elemStart:]...)
		if elemStart-msgStart == hdr || hdr+len(elem) > maxLen {
			return dst[:orig], errf(BRCMultipartBufferOverflow, "%v element of %d bytes exceeds the message size", body.MultipartType(), len(elem))
		}
		dst = dst[:elemStart]
		finish(true)
		begin()
		dst = append(dst, elem...)
	}
	finish(false)
	return dst, nil
}

// MultipartExperimenterBody is the OFPMP_EXPERIMENTER body, in requests
// and replies.
type MultipartExperimenterBody struct {
	Experimenter uint32
	ExpType      uint32
	Data         []byte
}

// MultipartType implements MultipartBody.
func (*MultipartExperimenterBody) MultipartType() MultipartType { return MultipartExperimenter }

func (e *MultipartExperimenterBody) appendTo(b []byte) ([]byte, error) {
	return append(put32(put32(b, e.Experimenter), e.ExpType), e.Data...), nil
}

func (e *MultipartExperimenterBody) decode(b []byte) error {
	if len(b) < 8 {
		return errf(BRCBadLen, "experimenter multipart body %d bytes", len(b))
	}
	e.Experimenter, e.ExpType, e.Data = u32(b, 0), u32(b, 4), nilIfEmpty(b[8:])
	return nil
}

// MultipartRaw is an opaque body for encoding a multipart type this
// package has no struct for. The decoder never returns it: unknown types
// fail with OFPBRC_BAD_MULTIPART.
type MultipartRaw struct {
	MPType MultipartType
	Data   []byte
}

// MultipartType implements MultipartBody.
func (r *MultipartRaw) MultipartType() MultipartType { return r.MPType }

func (r *MultipartRaw) appendTo(b []byte) ([]byte, error) { return append(b, r.Data...), nil }
func (r *MultipartRaw) decode(b []byte) error             { r.Data = nilIfEmpty(b); return nil }

// DescRequest is the (empty) OFPMP_DESC request body.
type DescRequest struct{}

// DescReply is the OFPMP_DESC reply body (ofp_desc).
type DescReply struct {
	MfrDesc   string // up to 256 bytes
	HWDesc    string // up to 256 bytes
	SWDesc    string // up to 256 bytes
	SerialNum string // up to 32 bytes
	DPDesc    string // up to 256 bytes
}

// MultipartType implements MultipartBody.
func (*DescRequest) MultipartType() MultipartType { return MultipartDesc }

// MultipartType implements MultipartBody.
func (*DescReply) MultipartType() MultipartType { return MultipartDesc }

func (*DescRequest) appendTo(b []byte) ([]byte, error) { return b, nil }
func (*DescRequest) decode(b []byte) error             { return mpFixed(MultipartDesc, b, 0) }

func (d *DescReply) appendTo(b []byte) ([]byte, error) {
	b = appendString(b, d.MfrDesc, 256)
	b = appendString(b, d.HWDesc, 256)
	b = appendString(b, d.SWDesc, 256)
	b = appendString(b, d.SerialNum, 32)
	return appendString(b, d.DPDesc, 256), nil
}

func (d *DescReply) decode(b []byte) error {
	if err := mpFixed(MultipartDesc, b, 1056); err != nil {
		return err
	}
	*d = DescReply{MfrDesc: cstring(b[0:256]), HWDesc: cstring(b[256:512]),
		SWDesc: cstring(b[512:768]), SerialNum: cstring(b[768:800]), DPDesc: cstring(b[800:1056])}
	return nil
}

// FlowStatsRequest is the OFPMP_FLOW request body.
type FlowStatsRequest struct {
	TableID    uint8  // TableAll for all tables
	OutPort    uint32 // PortAny: no restriction
	OutGroup   uint32 // GroupAny: no restriction
	Cookie     uint64
	CookieMask uint64
	Match      Match
}

// AggregateStatsRequest is the OFPMP_AGGREGATE request body; it has the
// same fields as FlowStatsRequest.
type AggregateStatsRequest FlowStatsRequest

// MultipartType implements MultipartBody.
func (*FlowStatsRequest) MultipartType() MultipartType { return MultipartFlow }

// MultipartType implements MultipartBody.
func (*AggregateStatsRequest) MultipartType() MultipartType { return MultipartAggregate }

func (r *FlowStatsRequest) appendTo(b []byte) ([]byte, error) {
	b = zeros(append(b, r.TableID), 3)
	b = zeros(put32(put32(b, r.OutPort), r.OutGroup), 4)
	b = put64(put64(b, r.Cookie), r.CookieMask)
	return r.Match.appendTo(b)
}

func (r *FlowStatsRequest) decode(b []byte) error {
	if len(b) < 32+8 {
		return errf(BRCBadLen, "flow stats request body %d bytes", len(b))
	}
	*r = FlowStatsRequest{TableID: b[0], OutPort: u32(b, 4), OutGroup: u32(b, 8), Cookie: u64(b, 16), CookieMask: u64(b, 24)}
	m, n, err := parseMatch(b[32:])
	if err != nil {
		return err
	}
	if 32+n != len(b) {
		return errf(BRCBadLen, "flow stats request: %d bytes after the match", len(b)-32-n)
	}
	r.Match = m
	return nil
}

func (r *AggregateStatsRequest) appendTo(b []byte) ([]byte, error) {
	return (*FlowStatsRequest)(r).appendTo(b)
}
func (r *AggregateStatsRequest) decode(b []byte) error { return (*FlowStatsRequest)(r).decode(b) }

// FlowStats is ofp_flow_stats.
type FlowStats struct {
	TableID      uint8
	DurationSec  uint32
	DurationNsec uint32
	Priority     uint16
	IdleTimeout  uint16
	HardTimeout  uint16
	Flags        FlowModFlags
	Cookie       uint64
	PacketCount  uint64
	ByteCount    uint64
	Match        Match
	Instructions []Instruction
}

// FlowStatsReply is the OFPMP_FLOW reply body.
type FlowStatsReply struct{ Stats []FlowStats }

// MultipartType implements MultipartBody.
func (*FlowStatsReply) MultipartType() MultipartType { return MultipartFlow }

func (r *FlowStatsReply) count() int                        { return len(r.Stats) }
func (r *FlowStatsReply) appendTo(b []byte) ([]byte, error) { return appendList(b, r) }
func (r *FlowStatsReply) appendElem(b []byte, i int) ([]byte, error) {
	s := &r.Stats[i]
	start := len(b)
	b = zeros(append(put16(b, 0), s.TableID), 1)
	b = put32(put32(b, s.DurationSec), s.DurationNsec)
	b = put16(put16(put16(put16(b, s.Priority), s.IdleTimeout), s.HardTimeout), uint16(s.Flags))
	b = put64(put64(put64(zeros(b, 4), s.Cookie), s.PacketCount), s.ByteCount)
	b, err := s.Match.appendTo(b)
	if err != nil {
		return b[:start], err
	}
	if b, err = appendInstructions(b, s.Instructions); err != nil {
		return b[:start], err
	}
	if len(b)-start > MaxMessageLen {
		return b[:start], errTooLong
	}
	patch16(b, start, uint16(len(b)-start))
	return b, nil
}

func (r *FlowStatsReply) decode(b []byte) error {
	for len(b) > 0 {
		if len(b) < 48+8 {
			return errf(BRCBadLen, "truncated flow stats (%d bytes)", len(b))
		}
		n := int(u16(b, 0))
		if n < 48+8 || n > len(b) {
			return errf(BRCBadLen, "flow stats length %d (%d bytes left)", n, len(b))
		}
		p := b[:n]
		s := FlowStats{TableID: p[2], DurationSec: u32(p, 4), DurationNsec: u32(p, 8),
			Priority: u16(p, 12), IdleTimeout: u16(p, 14), HardTimeout: u16(p, 16),
			Flags: FlowModFlags(u16(p, 18)), Cookie: u64(p, 24), PacketCount: u64(p, 32), ByteCount: u64(p, 40)}
		m, k, err := parseMatch(p[48:])
		if err != nil {
			return err
		}
		if s.Instructions, err = parseInstructions(p[48+k:]); err != nil {
			return err
		}
		s.Match = m
		r.Stats = append(r.Stats, s)
		b = b[n:]
	}
	return nil
}

// AggregateStatsReply is the OFPMP_AGGREGATE reply body.
type AggregateStatsReply struct {
	PacketCount uint64
	ByteCount   uint64
	FlowCount   uint32
}

// MultipartType implements MultipartBody.
func (*AggregateStatsReply) MultipartType() MultipartType { return MultipartAggregate }

func (r *AggregateStatsReply) appendTo(b []byte) ([]byte, error) {
	return zeros(put32(put64(put64(b, r.PacketCount), r.ByteCount), r.FlowCount), 4), nil
}

func (r *AggregateStatsReply) decode(b []byte) error {
	if err := mpFixed(MultipartAggregate, b, 24); err != nil {
		return err
	}
	*r = AggregateStatsReply{PacketCount: u64(b, 0), ByteCount: u64(b, 8), FlowCount: u32(b, 16)}
	return nil
}

// TableStatsRequest is the (empty) OFPMP_TABLE request body.
type TableStatsRequest struct{}

// TableStats is ofp_table_stats.
type TableStats struct {
	TableID      uint8
	ActiveCount  uint32
	LookupCount  uint64
	MatchedCount uint64
}

// TableStatsReply is the OFPMP_TABLE reply body.
type TableStatsReply struct{ Stats []TableStats }

// MultipartType implements MultipartBody.
func (*TableStatsRequest) MultipartType() MultipartType { return MultipartTable }

// MultipartType implements MultipartBody.
func (*TableStatsReply) MultipartType() MultipartType { return MultipartTable }

func (*TableStatsRequest) appendTo(b []byte) ([]byte, error) { return b, nil }
func (*TableStatsRequest) decode(b []byte) error             { return mpFixed(MultipartTable, b, 0) }

func (r *TableStatsReply) count() int                        { return len(r.Stats) }
func (r *TableStatsReply) appendTo(b []byte) ([]byte, error) { return appendList(b, r) }
func (r *TableStatsReply) appendElem(b []byte, i int) ([]byte, error) {
	s := &r.Stats[i]
	b = put32(zeros(append(b, s.TableID), 3), s.ActiveCount)
	return put64(put64(b, s.LookupCount), s.MatchedCount), nil
}

func (r *TableStatsReply) decode(b []byte) error {
	if len(b)%24 != 0 {
		return errf(BRCBadLen, "table stats of %d bytes", len(b))
	}
	for ; len(b) > 0; b = b[24:] {
		r.Stats = append(r.Stats, TableStats{TableID: b[0], ActiveCount: u32(b, 4), LookupCount: u64(b, 8), MatchedCount: u64(b, 16)})
	}
	return nil
}

// PortStatsRequest is the OFPMP_PORT_STATS request body.
type PortStatsRequest struct{ PortNo uint32 } // PortAny for all ports

// PortStats is ofp_port_stats.
type PortStats struct {
	PortNo       uint32
	RxPackets    uint64
	TxPackets    uint64
	RxBytes      uint64
	TxBytes      uint64
	RxDropped    uint64
	TxDropped    uint64
	RxErrors     uint64
	TxErrors     uint64
	RxFrameErr   uint64
	RxOverErr    uint64
	RxCRCErr     uint64
	Collisions   uint64
	DurationSec  uint32
	DurationNsec uint32
}

// PortStatsReply is the OFPMP_PORT_STATS reply body.
type PortStatsReply struct{ Stats []PortStats }

// MultipartType implements MultipartBody.
func (*PortStatsRequest) MultipartType() MultipartType { return MultipartPortStats }

// MultipartType implements MultipartBody.
func (*PortStatsReply) MultipartType() MultipartType { return MultipartPortStats }

func (r *PortStatsRequest) appendTo(b []byte) ([]byte, error) {
	return zeros(put32(b, r.PortNo), 4), nil
}

func (r *PortStatsRequest) decode(b []byte) error {
	if err := mpFixed(MultipartPortStats, b, 8); err != nil {
		return err
	}
	r.PortNo = u32(b, 0)
	return nil
}

func (r *PortStatsReply) count() int                        { return len(r.Stats) }
func (r *PortStatsReply) appendTo(b []byte) ([]byte, error) { return appendList(b, r) }
func (r *PortStatsReply) appendElem(b []byte, i int) ([]byte, error) {
	s := &r.Stats[i]
	b = zeros(put32(b, s.PortNo), 4)
	for _, v := range [...]uint64{s.RxPackets, s.TxPackets, s.RxBytes, s.TxBytes,
		s.RxDropped, s.TxDropped, s.RxErrors, s.TxErrors, s.RxFrameErr, s.RxOverErr,
		s.RxCRCErr, s.Collisions} {
		b = put64(b, v)
	}
	return put32(put32(b, s.DurationSec), s.DurationNsec), nil
}

func (r *PortStatsReply) decode(b []byte) error {
	if len(b)%112 != 0 {
		return errf(BRCBadLen, "port stats of %d bytes", len(b))
	}
	for ; len(b) > 0; b = b[112:] {
		r.Stats = append(r.Stats, PortStats{PortNo: u32(b, 0),
			RxPackets: u64(b, 8), TxPackets: u64(b, 16), RxBytes: u64(b, 24), TxBytes: u64(b, 32),
			RxDropped: u64(b, 40), TxDropped: u64(b, 48), RxErrors: u64(b, 56), TxErrors: u64(b, 64),
			RxFrameErr: u64(b, 72), RxOverErr: u64(b, 80), RxCRCErr: u64(b, 88), Collisions: u64(b, 96),
			DurationSec: u32(b, 104), DurationNsec: u32(b, 108)})
	}
	return nil
}

// PortDescRequest is the (empty) OFPMP_PORT_DESC request body.
type PortDescRequest struct{}

// PortDescReply is the OFPMP_PORT_DESC reply body.
type PortDescReply struct{ Ports []Port }

// MultipartType implements MultipartBody.
func (*PortDescRequest) MultipartType() MultipartType { return MultipartPortDesc }

// MultipartType implements MultipartBody.
func (*PortDescReply) MultipartType() MultipartType { return MultipartPortDesc }

func (*PortDescRequest) appendTo(b []byte) ([]byte, error) { return b, nil }
func (*PortDescRequest) decode(b []byte) error             { return mpFixed(MultipartPortDesc, b, 0) }

func (r *PortDescReply) count() int                        { return len(r.Ports) }
func (r *PortDescReply) appendTo(b []byte) ([]byte, error) { return appendList(b, r) }
func (r *PortDescReply) appendElem(b []byte, i int) ([]byte, error) {
	return r.Ports[i].appendTo(b), nil
}

func (r *PortDescReply) decode(b []byte) (err error) {
	r.Ports, err = parsePorts(b)
	return err
}
