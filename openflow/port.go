package openflow

// PortLen is the size of ofp_port.
const PortLen = 64

// Port is ofp_port, the description of a switch port.
type Port struct {
	PortNo     uint32
	HWAddr     [6]byte
	Name       string // at most 16 bytes; keep it to 15 so it stays NUL-terminated
	Config     PortConfig
	State      PortState
	Curr       PortFeatures
	Advertised PortFeatures
	Supported  PortFeatures
	Peer       PortFeatures
	CurrSpeed  uint32 // kbps
	MaxSpeed   uint32 // kbps
}

func (p *Port) appendTo(b []byte) []byte {
	b = zeros(put32(b, p.PortNo), 4)
	b = zeros(append(b, p.HWAddr[:]...), 2)
	b = appendString(b, p.Name, 16)
	for _, v := range [...]uint32{uint32(p.Config), uint32(p.State), uint32(p.Curr),
		uint32(p.Advertised), uint32(p.Supported), uint32(p.Peer), p.CurrSpeed, p.MaxSpeed} {
		b = put32(b, v)
	}
	return b
}

// parsePort decodes a 64-byte ofp_port; the caller checks the length.
func parsePort(b []byte) Port {
	p := Port{PortNo: u32(b, 0), Name: cstring(b[16:32]),
		Config: PortConfig(u32(b, 32)), State: PortState(u32(b, 36)),
		Curr: PortFeatures(u32(b, 40)), Advertised: PortFeatures(u32(b, 44)),
		Supported: PortFeatures(u32(b, 48)), Peer: PortFeatures(u32(b, 52)),
		CurrSpeed: u32(b, 56), MaxSpeed: u32(b, 60)}
	copy(p.HWAddr[:], b[8:14])
	return p
}

// parsePorts decodes an array of ofp_port filling b.
func parsePorts(b []byte) ([]Port, error) {
	if len(b)%PortLen != 0 {
		return nil, errf(BRCBadLen, "port list of %d bytes is not a multiple of %d", len(b), PortLen)
	}
	if len(b) == 0 {
		return nil, nil
	}
	ps := make([]Port, 0, len(b)/PortLen)
	for ; len(b) > 0; b = b[PortLen:] {
		ps = append(ps, parsePort(b))
	}
	return ps, nil
}

// PortStatus is OFPT_PORT_STATUS.
type PortStatus struct {
	Reason PortReason
	Desc   Port
}

// Type implements Message.
func (*PortStatus) Type() Type { return TypePortStatus }

func (m *PortStatus) appendBody(b []byte) ([]byte, error) {
	return m.Desc.appendTo(zeros(append(b, byte(m.Reason)), 7)), nil
}

func (m *PortStatus) decodeBody(b []byte) error {
	if err := fixedBody(TypePortStatus, b, 8+PortLen); err != nil {
		return err
	}
	m.Reason, m.Desc = PortReason(b[0]), parsePort(b[8:])
	return nil
}

// PortMod is OFPT_PORT_MOD.
type PortMod struct {
	PortNo    uint32
	HWAddr    [6]byte
	Config    PortConfig
	Mask      PortConfig
	Advertise PortFeatures // 0: do not change
}

// Type implements Message.
func (*PortMod) Type() Type { return TypePortMod }

func (m *PortMod) appendBody(b []byte) ([]byte, error) {
	b = zeros(put32(b, m.PortNo), 4)
	b = zeros(append(b, m.HWAddr[:]...), 2)
	b = put32(put32(put32(b, uint32(m.Config)), uint32(m.Mask)), uint32(m.Advertise))
	return zeros(b, 4), nil
}

func (m *PortMod) decodeBody(b []byte) error {
	if err := fixedBody(TypePortMod, b, 32); err != nil {
		return err
	}
	*m = PortMod{PortNo: u32(b, 0), Config: PortConfig(u32(b, 16)),
		Mask: PortConfig(u32(b, 20)), Advertise: PortFeatures(u32(b, 24))}
	copy(m.HWAddr[:], b[8:14])
	return nil
}
