package openflow

// This file holds the small fixed-layout messages: HELLO, ECHO, EXPERIMENTER,
// FEATURES, CONFIG, BARRIER, ROLE and ASYNC.

// emptyBody checks that a message without a body has none.
func emptyBody(t Type, b []byte) error {
	if len(b) != 0 {
		return errf(BRCBadLen, "%v with a %d-byte body", t, len(b))
	}
	return nil
}

// fixedBody checks that a fixed-size body has exactly n bytes.
func fixedBody(t Type, b []byte, n int) error {
	if len(b) != n {
		return errf(BRCBadLen, "%v body is %d bytes, want %d", t, len(b), n)
	}
	return nil
}

// Hello is OFPT_HELLO.
type Hello struct {
	// Version is the header version: set by the decoder to what the peer
	// sent; used by the encoder when non-zero (0 means 0x04).
	Version  uint8
	Elements []HelloElem
}

// HelloElem is one HELLO element; Data excludes the 4-byte element header
// and the padding.
type HelloElem struct {
	Type HelloElemType
	Data []byte
}

// NewHello returns a HELLO advertising the given versions in a version
// bitmap element, with the header version set to the highest of them.
func NewHello(versions ...uint8) *Hello {
	var bm []uint32
	var hi uint8
	for _, v := range versions {
		for len(bm) <= int(v)/32 {
			bm = append(bm, 0)
		}
		bm[v/32] |= 1 << (v % 32)
		hi = max(hi, v)
	}
	data := make([]byte, 0, 4*len(bm))
	for _, w := range bm {
		data = put32(data, w)
	}
	h := &Hello{Version: hi}
	if len(bm) > 0 {
		h.Elements = []HelloElem{{Type: HelloElemVersionBitmap, Data: data}}
	}
	return h
}

// VersionBitmap returns the version bitmap words of the first bitmap
// element, and whether there is one.
func (h *Hello) VersionBitmap() ([]uint32, bool) {
	for _, e := range h.Elements {
		if e.Type == HelloElemVersionBitmap {
			bm := make([]uint32, len(e.Data)/4)
			for i := range bm {
				bm[i] = u32(e.Data, 4*i)
			}
			return bm, true
		}
	}
	return nil, false
}

// Negotiate returns the version to use with a peer whose HELLO is h when
// we support only OpenFlow 1.3, and false if there is none (the caller
// then sends OFPET_HELLO_FAILED/OFPHFC_INCOMPATIBLE). With a bitmap, 1.3
// must be in it; without one, the peer's header version must be >= 0x04.
func (h *Hello) Negotiate() (uint8, bool) {
	if bm, ok := h.VersionBitmap(); ok {
		if len(bm) > int(Version)/32 && bm[Version/32]&(1<<(Version%32)) != 0 {
			return Version, true
		}
		return 0, false
	}
	return Version, h.Version >= Version
}

// Type implements Message.
func (*Hello) Type() Type { return TypeHello }

func (h *Hello) appendBody(b []byte) ([]byte, error) {
	for _, e := range h.Elements {
		start := len(b)
		n := 4 + len(e.Data)
		if n > MaxMessageLen {
			return b, errf(BRCBadLen, "hello element too long")
		}
		b = put16(put16(b, uint16(e.Type)), uint16(n))
		b = padTo8(append(b, e.Data...), start)
	}
	return b, nil
}

func (h *Hello) decodeBody(b []byte) error {
	h.Elements = nil
	for len(b) > 0 {
		if len(b) < 4 {
			return errf(BRCBadLen, "truncated hello element")
		}
		n := int(u16(b, 2))
		if n < 4 || n > len(b) {
			return errf(BRCBadLen, "hello element length %d (%d bytes left)", n, len(b))
		}
		h.Elements = append(h.Elements, HelloElem{Type: HelloElemType(u16(b, 0)), Data: nilIfEmpty(b[4:n])})
		b = b[min(pad8(n), len(b)):]
	}
	return nil
}

// EchoRequest is OFPT_ECHO_REQUEST with an arbitrary payload.
type EchoRequest struct{ Data []byte }

// EchoReply is OFPT_ECHO_REPLY; it echoes the request's payload.
type EchoReply struct{ Data []byte }

// Type implements Message.
func (*EchoRequest) Type() Type { return TypeEchoRequest }

// Type implements Message.
func (*EchoReply) Type() Type { return TypeEchoReply }

func (m *EchoRequest) appendBody(b []byte) ([]byte, error) { return append(b, m.Data...), nil }
func (m *EchoRequest) decodeBody(b []byte) error           { m.Data = nilIfEmpty(b); return nil }
func (m *EchoReply) appendBody(b []byte) ([]byte, error)   { return append(b, m.Data...), nil }
func (m *EchoReply) decodeBody(b []byte) error             { m.Data = nilIfEmpty(b); return nil }

// Experimenter is OFPT_EXPERIMENTER.
type Experimenter struct {
	Experimenter uint32
	ExpType      uint32
	Data         []byte
}

// Type implements Message.
func (*Experimenter) Type() Type { return TypeExperimenter }

func (m *Experimenter) appendBody(b []byte) ([]byte, error) {
	return append(put32(put32(b, m.Experimenter), m.ExpType), m.Data...), nil
}

func (m *Experimenter) decodeBody(b []byte) error {
	if len(b) < 8 {
		return errf(BRCBadLen, "experimenter message body %d < 8", len(b))
	}
	m.Experimenter, m.ExpType, m.Data = u32(b, 0), u32(b, 4), nilIfEmpty(b[8:])
	return nil
}

// FeaturesRequest is OFPT_FEATURES_REQUEST.
type FeaturesRequest struct{}

// Type implements Message.
func (*FeaturesRequest) Type() Type                          { return TypeFeaturesRequest }
func (*FeaturesRequest) appendBody(b []byte) ([]byte, error) { return b, nil }
func (*FeaturesRequest) decodeBody(b []byte) error           { return emptyBody(TypeFeaturesRequest, b) }

// FeaturesReply is OFPT_FEATURES_REPLY (ofp_switch_features).
type FeaturesReply struct {
	DatapathID   uint64
	NBuffers     uint32
	NTables      uint8
	AuxiliaryID  uint8
	Capabilities Capabilities
	Reserved     uint32
}

// Type implements Message.
func (*FeaturesReply) Type() Type { return TypeFeaturesReply }

func (m *FeaturesReply) appendBody(b []byte) ([]byte, error) {
	b = put32(put64(b, m.DatapathID), m.NBuffers)
	b = append(b, m.NTables, m.AuxiliaryID, 0, 0)
	return put32(put32(b, uint32(m.Capabilities)), m.Reserved), nil
}

func (m *FeaturesReply) decodeBody(b []byte) error {
	if err := fixedBody(TypeFeaturesReply, b, 24); err != nil {
		return err
	}
	*m = FeaturesReply{DatapathID: u64(b, 0), NBuffers: u32(b, 8), NTables: b[12],
		AuxiliaryID: b[13], Capabilities: Capabilities(u32(b, 16)), Reserved: u32(b, 20)}
	return nil
}

// GetConfigRequest is OFPT_GET_CONFIG_REQUEST.
type GetConfigRequest struct{}

// Type implements Message.
func (*GetConfigRequest) Type() Type                          { return TypeGetConfigRequest }
func (*GetConfigRequest) appendBody(b []byte) ([]byte, error) { return b, nil }
func (*GetConfigRequest) decodeBody(b []byte) error           { return emptyBody(TypeGetConfigRequest, b) }

// SwitchConfig is ofp_switch_config without its header.
type SwitchConfig struct {
	Flags       ConfigFlags
	MissSendLen uint16
}

func (c *SwitchConfig) appendTo(b []byte) []byte {
	return put16(put16(b, uint16(c.Flags)), c.MissSendLen)
}

func (c *SwitchConfig) decode(t Type, b []byte) error {
	if err := fixedBody(t, b, 4); err != nil {
		return err
	}
	c.Flags, c.MissSendLen = ConfigFlags(u16(b, 0)), u16(b, 2)
	return nil
}

// GetConfigReply is OFPT_GET_CONFIG_REPLY.
type GetConfigReply struct{ SwitchConfig }

// SetConfig is OFPT_SET_CONFIG.
type SetConfig struct{ SwitchConfig }

// Type implements Message.
func (*GetConfigReply) Type() Type                            { return TypeGetConfigReply }
func (m *GetConfigReply) appendBody(b []byte) ([]byte, error) { return m.appendTo(b), nil }
func (m *GetConfigReply) decodeBody(b []byte) error           { return m.decode(TypeGetConfigReply, b) }

// Type implements Message.
func (*SetConfig) Type() Type                            { return TypeSetConfig }
func (m *SetConfig) appendBody(b []byte) ([]byte, error) { return m.appendTo(b), nil }
func (m *SetConfig) decodeBody(b []byte) error           { return m.decode(TypeSetConfig, b) }

// BarrierRequest is OFPT_BARRIER_REQUEST.
type BarrierRequest struct{}

// BarrierReply is OFPT_BARRIER_REPLY.
type BarrierReply struct{}

// Type implements Message.
func (*BarrierRequest) Type() Type                          { return TypeBarrierRequest }
func (*BarrierRequest) appendBody(b []byte) ([]byte, error) { return b, nil }
func (*BarrierRequest) decodeBody(b []byte) error           { return emptyBody(TypeBarrierRequest, b) }

// Type implements Message.
func (*BarrierReply) Type() Type                          { return TypeBarrierReply }
func (*BarrierReply) appendBody(b []byte) ([]byte, error) { return b, nil }
func (*BarrierReply) decodeBody(b []byte) error           { return emptyBody(TypeBarrierReply, b) }

// RoleMsg is the body shared by ROLE_REQUEST and ROLE_REPLY.
type RoleMsg struct {
	Role         ControllerRole
	GenerationID uint64
}

func (r *RoleMsg) appendTo(b []byte) []byte {
	return put64(zeros(put32(b, uint32(r.Role)), 4), r.GenerationID)
}

func (r *RoleMsg) decode(t Type, b []byte) error {
	if err := fixedBody(t, b, 16); err != nil {
		return err
	}
	r.Role, r.GenerationID = ControllerRole(u32(b, 0)), u64(b, 8)
	return nil
}

// RoleRequest is OFPT_ROLE_REQUEST.
type RoleRequest struct{ RoleMsg }

// RoleReply is OFPT_ROLE_REPLY.
type RoleReply struct{ RoleMsg }

// Type implements Message.
func (*RoleRequest) Type() Type                            { return TypeRoleRequest }
func (m *RoleRequest) appendBody(b []byte) ([]byte, error) { return m.appendTo(b), nil }
func (m *RoleRequest) decodeBody(b []byte) error           { return m.decode(TypeRoleRequest, b) }

// Type implements Message.
func (*RoleReply) Type() Type                            { return TypeRoleReply }
func (m *RoleReply) appendBody(b []byte) ([]byte, error) { return m.appendTo(b), nil }
func (m *RoleReply) decodeBody(b []byte) error           { return m.decode(TypeRoleReply, b) }

// AsyncConfig is ofp_async_config without its header. Index AsyncMaster
// (0) of each mask applies to the master/equal roles, AsyncSlave (1) to
// the slave role. Bit i of a mask enables reason i.
type AsyncConfig struct {
	PacketInMask    [2]uint32
	PortStatusMask  [2]uint32
	FlowRemovedMask [2]uint32
}

func (c *AsyncConfig) appendTo(b []byte) []byte {
	for _, m := range [...]*[2]uint32{&c.PacketInMask, &c.PortStatusMask, &c.FlowRemovedMask} {
		b = put32(put32(b, m[0]), m[1])
	}
	return b
}

func (c *AsyncConfig) decode(t Type, b []byte) error {
	if err := fixedBody(t, b, 24); err != nil {
		return err
	}
	for i, m := range [...]*[2]uint32{&c.PacketInMask, &c.PortStatusMask, &c.FlowRemovedMask} {
		m[0], m[1] = u32(b, 8*i), u32(b, 8*i+4)
	}
	return nil
}

// GetAsyncRequest is OFPT_GET_ASYNC_REQUEST.
type GetAsyncRequest struct{}

// Type implements Message.
func (*GetAsyncRequest) Type() Type                          { return TypeGetAsyncRequest }
func (*GetAsyncRequest) appendBody(b []byte) ([]byte, error) { return b, nil }
func (*GetAsyncRequest) decodeBody(b []byte) error           { return emptyBody(TypeGetAsyncRequest, b) }

// GetAsyncReply is OFPT_GET_ASYNC_REPLY.
type GetAsyncReply struct{ AsyncConfig }

// SetAsync is OFPT_SET_ASYNC.
type SetAsync struct{ AsyncConfig }

// Type implements Message.
func (*GetAsyncReply) Type() Type                            { return TypeGetAsyncReply }
func (m *GetAsyncReply) appendBody(b []byte) ([]byte, error) { return m.appendTo(b), nil }
func (m *GetAsyncReply) decodeBody(b []byte) error           { return m.decode(TypeGetAsyncReply, b) }

// Type implements Message.
func (*SetAsync) Type() Type                            { return TypeSetAsync }
func (m *SetAsync) appendBody(b []byte) ([]byte, error) { return m.appendTo(b), nil }
func (m *SetAsync) decodeBody(b []byte) error           { return m.decode(TypeSetAsync, b) }
