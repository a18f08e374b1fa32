package openflow

// PACKET_IN, PACKET_OUT, FLOW_MOD, FLOW_REMOVED and TABLE_MOD.

// PacketIn is OFPT_PACKET_IN.
type PacketIn struct {
	BufferID uint32 // NoBuffer if not buffered
	TotalLen uint16 // full length of the frame
	Reason   PacketInReason
	TableID  uint8
	Cookie   uint64
	Match    Match // pipeline fields, in_port at least
	Data     []byte
}

// Type implements Message.
func (*PacketIn) Type() Type { return TypePacketIn }

func (m *PacketIn) appendBody(b []byte) ([]byte, error) {
	b = put16(put32(b, m.BufferID), m.TotalLen)
	b = put64(append(b, byte(m.Reason), m.TableID), m.Cookie)
	b, err := m.Match.appendTo(b)
	if err != nil {
		return b, err
	}
	return append(zeros(b, 2), m.Data...), nil
}

func (m *PacketIn) decodeBody(b []byte) error {
	if len(b) < 16+8+2 {
		return errf(BRCBadLen, "packet-in body %d bytes", len(b))
	}
	m.BufferID, m.TotalLen, m.Reason, m.TableID, m.Cookie = u32(b, 0), u16(b, 4), PacketInReason(b[6]), b[7], u64(b, 8)
	match, n, err := parseMatch(b[16:])
	if err != nil {
		return err
	}
	rest := b[16+n:]
	if len(rest) < 2 {
		return errf(BRCBadLen, "packet-in: no room for padding after the match")
	}
	m.Match, m.Data = match, nilIfEmpty(rest[2:])
	return nil
}

// PacketOut is OFPT_PACKET_OUT.
type PacketOut struct {
	BufferID uint32 // NoBuffer: the packet is in Data
	InPort   uint32
	Actions  []Action
	Data     []byte
}

// Type implements Message.
func (*PacketOut) Type() Type { return TypePacketOut }

func (m *PacketOut) appendBody(b []byte) ([]byte, error) {
	start := len(b)
	b = zeros(put16(put32(put32(b, m.BufferID), m.InPort), 0), 6)
	b, err := appendActions(b, m.Actions)
	if err != nil {
		return b[:start], err
	}
	n := len(b) - start - 16
	if n > MaxMessageLen {
		return b[:start], errTooLong
	}
	patch16(b, start+8, uint16(n))
	return append(b, m.Data...), nil
}

func (m *PacketOut) decodeBody(b []byte) error {
	if len(b) < 16 {
		return errf(BRCBadLen, "packet-out body %d bytes", len(b))
	}
	n := int(u16(b, 8))
	if 16+n > len(b) {
		return errf(BRCBadLen, "packet-out actions_len %d exceeds the message", n)
	}
	acts, err := parseActions(b[16 : 16+n])
	if err != nil {
		return err
	}
	m.BufferID, m.InPort, m.Actions, m.Data = u32(b, 0), u32(b, 4), acts, nilIfEmpty(b[16+n:])
	return nil
}

// FlowMod is OFPT_FLOW_MOD.
type FlowMod struct {
	Cookie       uint64
	CookieMask   uint64
	TableID      uint8
	Command      FlowModCommand
	IdleTimeout  uint16
	HardTimeout  uint16
	Priority     uint16
	BufferID     uint32 // NoBuffer if none
	OutPort      uint32 // for delete: PortAny to ignore
	OutGroup     uint32 // for delete: GroupAny to ignore
	Flags        FlowModFlags
	Match        Match
	Instructions []Instruction
}

// Type implements Message.
func (*FlowMod) Type() Type { return TypeFlowMod }

func (m *FlowMod) appendBody(b []byte) ([]byte, error) {
	b = put64(put64(b, m.Cookie), m.CookieMask)
	b = append(b, m.TableID, byte(m.Command))
	b = put16(put16(put16(b, m.IdleTimeout), m.HardTimeout), m.Priority)
	b = put32(put32(put32(b, m.BufferID), m.OutPort), m.OutGroup)
	b = zeros(put16(b, uint16(m.Flags)), 2)
	b, err := m.Match.appendTo(b)
	if err != nil {
		return b, err
	}
	return appendInstructions(b, m.Instructions)
}

func (m *FlowMod) decodeBody(b []byte) error {
	if len(b) < 40+8 {
		return errf(BRCBadLen, "flow-mod body %d bytes", len(b))
	}
	*m = FlowMod{Cookie: u64(b, 0), CookieMask: u64(b, 8), TableID: b[16],
		Command: FlowModCommand(b[17]), IdleTimeout: u16(b, 18), HardTimeout: u16(b, 20),
		Priority: u16(b, 22), BufferID: u32(b, 24), OutPort: u32(b, 28), OutGroup: u32(b, 32),
		Flags: FlowModFlags(u16(b, 36))}
	match, n, err := parseMatch(b[40:])
	if err != nil {
		return err
	}
	insts, err := parseInstructions(b[40+n:])
	if err != nil {
		return err
	}
	m.Match, m.Instructions = match, insts
	return nil
}

// FlowRemoved is OFPT_FLOW_REMOVED.
type FlowRemoved struct {
	Cookie       uint64
	Priority     uint16
	Reason       FlowRemovedReason
	TableID      uint8
	DurationSec  uint32
	DurationNsec uint32
	IdleTimeout  uint16
	HardTimeout  uint16
	PacketCount  uint64
	ByteCount    uint64
	Match        Match
}

// Type implements Message.
func (*FlowRemoved) Type() Type { return TypeFlowRemoved }

func (m *FlowRemoved) appendBody(b []byte) ([]byte, error) {
	b = put16(put64(b, m.Cookie), m.Priority)
	b = append(b, byte(m.Reason), m.TableID)
	b = put32(put32(b, m.DurationSec), m.DurationNsec)
	b = put16(put16(b, m.IdleTimeout), m.HardTimeout)
	b = put64(put64(b, m.PacketCount), m.ByteCount)
	return m.Match.appendTo(b)
}

func (m *FlowRemoved) decodeBody(b []byte) error {
	if len(b) < 40+8 {
		return errf(BRCBadLen, "flow-removed body %d bytes", len(b))
	}
	*m = FlowRemoved{Cookie: u64(b, 0), Priority: u16(b, 8), Reason: FlowRemovedReason(b[10]),
		TableID: b[11], DurationSec: u32(b, 12), DurationNsec: u32(b, 16),
		IdleTimeout: u16(b, 20), HardTimeout: u16(b, 22), PacketCount: u64(b, 24), ByteCount: u64(b, 32)}
	match, n, err := parseMatch(b[40:])
	if err != nil {
		return err
	}
	if 40+n != len(b) {
		return errf(BRCBadLen, "flow-removed: %d bytes after the match", len(b)-40-n)
	}
	m.Match = match
	return nil
}

// TableMod is OFPT_TABLE_MOD.
type TableMod struct {
	TableID uint8 // TableAll for all tables
	Config  TableConfig
}

// Type implements Message.
func (*TableMod) Type() Type { return TypeTableMod }

func (m *TableMod) appendBody(b []byte) ([]byte, error) {
	return put32(zeros(append(b, m.TableID), 3), uint32(m.Config)), nil
}

func (m *TableMod) decodeBody(b []byte) error {
	if err := fixedBody(TypeTableMod, b, 8); err != nil {
		return err
	}
	m.TableID, m.Config = b[0], TableConfig(u32(b, 4))
	return nil
}
