package openflow

import (
	"errors"
	"io"
	"strconv"
)

// Version is the OpenFlow wire version this package speaks (1.3).
const Version uint8 = 0x04

// HeaderLen is the size of ofp_header.
const HeaderLen = 8

// MaxMessageLen is the largest message the 16-bit length field allows.
const MaxMessageLen = 0xffff

// Type is an OpenFlow message type (OFPT_*).
type Type uint8

// Message types (enum ofp_type).
const (
	TypeHello                 Type = 0  // OFPT_HELLO
	TypeError                 Type = 1  // OFPT_ERROR
	TypeEchoRequest           Type = 2  // OFPT_ECHO_REQUEST
	TypeEchoReply             Type = 3  // OFPT_ECHO_REPLY
	TypeExperimenter          Type = 4  // OFPT_EXPERIMENTER
	TypeFeaturesRequest       Type = 5  // OFPT_FEATURES_REQUEST
	TypeFeaturesReply         Type = 6  // OFPT_FEATURES_REPLY
	TypeGetConfigRequest      Type = 7  // OFPT_GET_CONFIG_REQUEST
	TypeGetConfigReply        Type = 8  // OFPT_GET_CONFIG_REPLY
	TypeSetConfig             Type = 9  // OFPT_SET_CONFIG
	TypePacketIn              Type = 10 // OFPT_PACKET_IN
	TypeFlowRemoved           Type = 11 // OFPT_FLOW_REMOVED
	TypePortStatus            Type = 12 // OFPT_PORT_STATUS
	TypePacketOut             Type = 13 // OFPT_PACKET_OUT
	TypeFlowMod               Type = 14 // OFPT_FLOW_MOD
	TypeGroupMod              Type = 15 // OFPT_GROUP_MOD
	TypePortMod               Type = 16 // OFPT_PORT_MOD
	TypeTableMod              Type = 17 // OFPT_TABLE_MOD
	TypeMultipartRequest      Type = 18 // OFPT_MULTIPART_REQUEST
	TypeMultipartReply        Type = 19 // OFPT_MULTIPART_REPLY
	TypeBarrierRequest        Type = 20 // OFPT_BARRIER_REQUEST
	TypeBarrierReply          Type = 21 // OFPT_BARRIER_REPLY
	TypeQueueGetConfigRequest Type = 22 // OFPT_QUEUE_GET_CONFIG_REQUEST
	TypeQueueGetConfigReply   Type = 23 // OFPT_QUEUE_GET_CONFIG_REPLY
	TypeRoleRequest           Type = 24 // OFPT_ROLE_REQUEST
	TypeRoleReply             Type = 25 // OFPT_ROLE_REPLY
	TypeGetAsyncRequest       Type = 26 // OFPT_GET_ASYNC_REQUEST
	TypeGetAsyncReply         Type = 27 // OFPT_GET_ASYNC_REPLY
	TypeSetAsync              Type = 28 // OFPT_SET_ASYNC
	TypeMeterMod              Type = 29 // OFPT_METER_MOD
)

var typeNames = [...]string{
	"OFPT_HELLO", "OFPT_ERROR", "OFPT_ECHO_REQUEST", "OFPT_ECHO_REPLY",
	"OFPT_EXPERIMENTER", "OFPT_FEATURES_REQUEST", "OFPT_FEATURES_REPLY",
	"OFPT_GET_CONFIG_REQUEST", "OFPT_GET_CONFIG_REPLY", "OFPT_SET_CONFIG",
	"OFPT_PACKET_IN", "OFPT_FLOW_REMOVED", "OFPT_PORT_STATUS", "OFPT_PACKET_OUT",
	"OFPT_FLOW_MOD", "OFPT_GROUP_MOD", "OFPT_PORT_MOD", "OFPT_TABLE_MOD",
	"OFPT_MULTIPART_REQUEST", "OFPT_MULTIPART_REPLY", "OFPT_BARRIER_REQUEST",
	"OFPT_BARRIER_REPLY", "OFPT_QUEUE_GET_CONFIG_REQUEST",
	"OFPT_QUEUE_GET_CONFIG_REPLY", "OFPT_ROLE_REQUEST", "OFPT_ROLE_REPLY",
	"OFPT_GET_ASYNC_REQUEST", "OFPT_GET_ASYNC_REPLY", "OFPT_SET_ASYNC",
	"OFPT_METER_MOD",
}

// String returns the spec name, e.g. "OFPT_FLOW_MOD".
func (t Type) String() string {
	if int(t) < len(typeNames) {
		return typeNames[t]
	}
	return "OFPT_" + strconv.Itoa(int(t))
}

// Header is ofp_header.
type Header struct {
	Version uint8
	Type    Type
	Length  uint16
	Xid     uint32
}

// ParseHeader reads the 8-byte header at the start of b. It checks only
// that b holds 8 bytes and that Length >= 8.
func ParseHeader(b []byte) (Header, error) {
	if len(b) < HeaderLen {
		return Header{}, errf(BRCBadLen, "message shorter than header (%d bytes)", len(b))
	}
	h := Header{Version: b[0], Type: Type(b[1]), Length: u16(b, 2), Xid: u32(b, 4)}
	if h.Length < HeaderLen {
		return h, errf(BRCBadLen, "header length %d < 8", h.Length)
	}
	return h, nil
}

// Message is an OpenFlow message body. The concrete types are the
// pointer types of this package (*Hello, *FlowMod, ...).
type Message interface {
	// Type returns the message type of the header.
	Type() Type

	appendBody(b []byte) ([]byte, error)
	decodeBody(b []byte) error
}

// newMessage returns an empty message of type t, or nil if t is unknown.
func newMessage(t Type) Message {
	switch t {
	case TypeHello:
		return new(Hello)
	case TypeError:
		return new(ErrorMsg)
	case TypeEchoRequest:
		return new(EchoRequest)
	case TypeEchoReply:
		return new(EchoReply)
	case TypeExperimenter:
		return new(Experimenter)
	case TypeFeaturesRequest:
		return new(FeaturesRequest)
	case TypeFeaturesReply:
		return new(FeaturesReply)
	case TypeGetConfigRequest:
		return new(GetConfigRequest)
	case TypeGetConfigReply:
		return new(GetConfigReply)
	case TypeSetConfig:
		return new(SetConfig)
	case TypePacketIn:
		return new(PacketIn)
	case TypeFlowRemoved:
		return new(FlowRemoved)
	case TypePortStatus:
		return new(PortStatus)
	case TypePacketOut:
		return new(PacketOut)
	case TypeFlowMod:
		return new(FlowMod)
	case TypeGroupMod:
		return new(GroupMod)
	case TypePortMod:
		return new(PortMod)
	case TypeTableMod:
		return new(TableMod)
	case TypeMultipartRequest:
		return new(MultipartRequest)
	case TypeMultipartReply:
		return new(MultipartReply)
	case TypeBarrierRequest:
		return new(BarrierRequest)
	case TypeBarrierReply:
		return new(BarrierReply)
	case TypeQueueGetConfigRequest:
		return new(QueueGetConfigRequest)
	case TypeQueueGetConfigReply:
		return new(QueueGetConfigReply)
	case TypeRoleRequest:
		return new(RoleRequest)
	case TypeRoleReply:
		return new(RoleReply)
	case TypeGetAsyncRequest:
		return new(GetAsyncRequest)
	case TypeGetAsyncReply:
		return new(GetAsyncReply)
	case TypeSetAsync:
		return new(SetAsync)
	case TypeMeterMod:
		return new(MeterMod)
	}
	return nil
}

// Decode parses one complete message, header included. Bytes after the
// length given in the header are ignored. The returned message owns its
// memory (it does not alias b).
//
// A HELLO of any version is accepted (its version is in Hello.Version);
// any other message whose version is not 0x04 fails with OFPBRC_BAD_VERSION.
// On error, xid is the header's xid whenever the header could be read, so
// the caller can answer with an ERROR message.
func Decode(b []byte) (xid uint32, m Message, err error) {
	h, err := ParseHeader(b)
	if err != nil {
		return h.Xid, nil, err
	}
	if int(h.Length) > len(b) {
		return h.Xid, nil, errf(BRCBadLen, "header length %d > %d bytes available", h.Length, len(b))
	}
	c := make([]byte, h.Length)
	copy(c, b)
	return DecodeAliased(c)
}

// DecodeAliased is Decode without the copy: byte slices in the returned
// message (payloads, OXM values, data) point into b, which must therefore
// not be modified or reused while the message is in use.
func DecodeAliased(b []byte) (xid uint32, m Message, err error) {
	h, err := ParseHeader(b)
	if err != nil {
		return h.Xid, nil, err
	}
	if int(h.Length) > len(b) {
		return h.Xid, nil, errf(BRCBadLen, "header length %d > %d bytes available", h.Length, len(b))
	}
	if h.Version != Version && h.Type != TypeHello {
		return h.Xid, nil, errf(BRCBadVersion, "version 0x%02x", h.Version)
	}
	m = newMessage(h.Type)
	if m == nil {
		return h.Xid, nil, errf(BRCBadType, "message type %d", h.Type)
	}
	if err := m.decodeBody(b[HeaderLen:h.Length]); err != nil {
		return h.Xid, nil, err
	}
	if hello, ok := m.(*Hello); ok {
		if h.Version == 0 {
			return h.Xid, nil, errf(HFCIncompatible, "hello with version 0")
		}
		hello.Version = h.Version
	}
	return h.Xid, m, nil
}

// errTooLong is returned by Append when a message exceeds 65535 bytes.
var errTooLong = errors.New("openflow: message longer than 65535 bytes")

// Append appends the encoding of m, with version 0x04 (or Hello.Version
// for a HELLO that sets it) and transaction id xid, to dst.
func Append(dst []byte, xid uint32, m Message) ([]byte, error) {
	if m == nil {
		return dst, errors.New("openflow: nil message")
	}
	start := len(dst)
	v := Version
	if h, ok := m.(*Hello); ok && h.Version != 0 {
		v = h.Version
	}
	dst = append(dst, v, byte(m.Type()), 0, 0)
	dst = put32(dst, xid)
	dst, err := m.appendBody(dst)
	if err != nil {
		return dst[:start], err
	}
	n := len(dst) - start
	if n > MaxMessageLen {
		return dst[:start], errTooLong
	}
	patch16(dst, start+2, uint16(n))
	return dst, nil
}

// Marshal returns the encoding of m with transaction id xid.
func Marshal(xid uint32, m Message) ([]byte, error) {
	return Append(nil, xid, m)
}

// ReadMessage reads exactly one framed message from r into buf (grown if
// needed) and returns the slice holding it, header included. A header
// length below 8 yields an OFPBRC_BAD_LEN *Error; the stream is then out
// of sync and should be closed. io.EOF is returned only when r ends cleanly
// before the first byte; a message cut short yields io.ErrUnexpectedEOF.
func ReadMessage(r io.Reader, buf []byte) ([]byte, error) {
	if cap(buf) < HeaderLen {
		buf = make([]byte, 0, 1024)
	}
	buf = buf[:HeaderLen]
	if _, err := io.ReadFull(r, buf); err != nil {
		return nil, err
	}
	n := int(u16(buf, 2))
	if n < HeaderLen {
		return buf, errf(BRCBadLen, "header length %d < 8", n)
	}
	if cap(buf) < n {
		nb := make([]byte, n)
		copy(nb, buf)
		buf = nb
	}
	buf = buf[:n]
	if _, err := io.ReadFull(r, buf[HeaderLen:]); err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return nil, err
	}
	return buf, nil
}
