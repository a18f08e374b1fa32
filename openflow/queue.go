package openflow

// QUEUE_GET_CONFIG and the queue stats multipart bodies.

// QueueProp is one queue property (ofp_queue_prop_*). Rate is used by the
// min/max rate properties (in 1/10 of a percent; >1000: disabled),
// Experimenter and Data by experimenter properties; Data also holds the
// body of unknown property types.
type QueueProp struct {
	Type         QueuePropType
	Rate         uint16
	Experimenter uint32
	Data         []byte
}

// PacketQueue is ofp_packet_queue.
type PacketQueue struct {
	QueueID    uint32
	Port       uint32
	Properties []QueueProp
}

func appendQueueProps(b []byte, props []QueueProp) ([]byte, error) {
	for i := range props {
		p := &props[i]
		start := len(b)
		b = zeros(put16(put16(b, uint16(p.Type)), 0), 4)
		switch p.Type {
		case QueuePropMinRate, QueuePropMaxRate:
			b = zeros(put16(b, p.Rate), 6)
		case QueuePropExperimenter:
			b = append(zeros(put32(b, p.Experimenter), 4), p.Data...)
		default:
			b = append(b, p.Data...)
		}
		if len(b)-start > MaxMessageLen {
			return b[:start], errTooLong
		}
		patch16(b, start+2, uint16(len(b)-start))
	}
	return b, nil
}

func parseQueueProps(b []byte) ([]QueueProp, error) {
	var props []QueueProp
	for len(b) > 0 {
		if len(b) < 8 {
			return nil, errf(BRCBadLen, "truncated queue property")
		}
		t, n := QueuePropType(u16(b, 0)), int(u16(b, 2))
		if n < 8 || n > len(b) {
			return nil, errf(BRCBadLen, "queue property length %d (%d bytes left)", n, len(b))
		}
		p := QueueProp{Type: t}
		switch t {
		case QueuePropMinRate, QueuePropMaxRate:
			if n != 16 {
				return nil, errf(BRCBadLen, "rate queue property length %d, want 16", n)
			}
			p.Rate = u16(b, 8)
		case QueuePropExperimenter:
			if n < 16 {
				return nil, errf(BRCBadLen, "experimenter queue property length %d", n)
			}
			p.Experimenter, p.Data = u32(b, 8), nilIfEmpty(b[16:n])
		default:
			p.Data = nilIfEmpty(b[8:n])
		}
		props = append(props, p)
		b = b[n:]
	}
	return props, nil
}

// QueueGetConfigRequest is OFPT_QUEUE_GET_CONFIG_REQUEST.
type QueueGetConfigRequest struct{ Port uint32 } // PortAny for all ports

// Type implements Message.
func (*QueueGetConfigRequest) Type() Type { return TypeQueueGetConfigRequest }

func (m *QueueGetConfigRequest) appendBody(b []byte) ([]byte, error) {
	return zeros(put32(b, m.Port), 4), nil
}

func (m *QueueGetConfigRequest) decodeBody(b []byte) error {
	if err := fixedBody(TypeQueueGetConfigRequest, b, 8); err != nil {
		return err
	}
	m.Port = u32(b, 0)
	return nil
}

// QueueGetConfigReply is OFPT_QUEUE_GET_CONFIG_REPLY.
type QueueGetConfigReply struct {
	Port   uint32
	Queues []PacketQueue
}

// Type implements Message.
func (*QueueGetConfigReply) Type() Type { return TypeQueueGetConfigReply }

func (m *QueueGetConfigReply) appendBody(b []byte) ([]byte, error) {
	b = zeros(put32(b, m.Port), 4)
	for i := range m.Queues {
		q := &m.Queues[i]
		start := len(b)
		b = zeros(put16(put32(put32(b, q.QueueID), q.Port), 0), 6)
		var err error
		if b, err = appendQueueProps(b, q.Properties); err != nil {
			return b[:start], err
		}
		if len(b)-start > MaxMessageLen {
			return b[:start], errTooLong
		}
		patch16(b, start+8, uint16(len(b)-start))
	}
	return b, nil
}

func (m *QueueGetConfigReply) decodeBody(b []byte) error {
	if len(b) < 8 {
		return errf(BRCBadLen, "queue-get-config reply body %d bytes", len(b))
	}
	m.Port, m.Queues = u32(b, 0), nil
	for b = b[8:]; len(b) > 0; {
		if len(b) < 16 {
			return errf(BRCBadLen, "truncated packet queue")
		}
		n := int(u16(b, 8))
		if n < 16 || n > len(b) {
			return errf(BRCBadLen, "packet queue length %d (%d bytes left)", n, len(b))
		}
		props, err := parseQueueProps(b[16:n])
		if err != nil {
			return err
		}
		m.Queues = append(m.Queues, PacketQueue{QueueID: u32(b, 0), Port: u32(b, 4), Properties: props})
		b = b[n:]
	}
	return nil
}

// QueueStatsRequest is the OFPMP_QUEUE request body.
type QueueStatsRequest struct {
	PortNo  uint32 // PortAny for all ports
	QueueID uint32 // QueueAll for all queues
}

// QueueStats is ofp_queue_stats.
type QueueStats struct {
	PortNo       uint32
	QueueID      uint32
	TxBytes      uint64
	TxPackets    uint64
	TxErrors     uint64
	DurationSec  uint32
	DurationNsec uint32
}

// QueueStatsReply is the OFPMP_QUEUE reply body.
type QueueStatsReply struct{ Stats []QueueStats }

// MultipartType implements MultipartBody.
func (*QueueStatsRequest) MultipartType() MultipartType { return MultipartQueue }

// MultipartType implements MultipartBody.
func (*QueueStatsReply) MultipartType() MultipartType { return MultipartQueue }

func (r *QueueStatsRequest) appendTo(b []byte) ([]byte, error) {
	return put32(put32(b, r.PortNo), r.QueueID), nil
}

func (r *QueueStatsRequest) decode(b []byte) error {
	if err := mpFixed(MultipartQueue, b, 8); err != nil {
		return err
	}
	r.PortNo, r.QueueID = u32(b, 0), u32(b, 4)
	return nil
}

func (r *QueueStatsReply) count() int                        { return len(r.Stats) }
func (r *QueueStatsReply) appendTo(b []byte) ([]byte, error) { return appendList(b, r) }
func (r *QueueStatsReply) appendElem(b []byte, i int) ([]byte, error) {
	s := &r.Stats[i]
	b = put64(put64(put64(put32(put32(b, s.PortNo), s.QueueID), s.TxBytes), s.TxPackets), s.TxErrors)
	return put32(put32(b, s.DurationSec), s.DurationNsec), nil
}

func (r *QueueStatsReply) decode(b []byte) error {
	if len(b)%40 != 0 {
		return errf(BRCBadLen, "queue stats of %d bytes", len(b))
	}
	for ; len(b) > 0; b = b[40:] {
		r.Stats = append(r.Stats, QueueStats{PortNo: u32(b, 0), QueueID: u32(b, 4), TxBytes: u64(b, 8),
			TxPackets: u64(b, 16), TxErrors: u64(b, 24), DurationSec: u32(b, 32), DurationNsec: u32(b, 36)})
	}
	return nil
}
