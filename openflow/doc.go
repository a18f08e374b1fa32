// Package openflow is goko's OpenFlow 1.3 (wire version 0x04) codec.
//
// It turns bytes into typed messages and back, and nothing else: it does
// no I/O apart from [ReadMessage], which frames one message from a stream,
// and it knows nothing of the switch that uses it.
//
// # Decoding
//
// [Decode] parses one complete message, header included. Every malformed
// input yields an error that carries the OpenFlow error type and code the
// spec asks a switch to reply with; get it with [CodeOf] or errors.As on
// [*Error], and build the ERROR reply with [NewErrorReply] or [ErrorReplyFor].
// Decode never panics, never loops without consuming input, and never
// allocates more than a small multiple of the input size, whatever the
// length fields say. The decoded message does not alias the input buffer
// ([DecodeAliased] is the zero-copy variant whose byte slices point into it).
//
// # Encoding
//
// [Append] and [Marshal] encode a [Message] with version 0x04 and a given
// transaction id. Lengths and padding are computed; callers never set them.
//
// # Representation
//
// Messages are pointers to structs (*FlowMod, *PacketIn, ...). A [Match] is
// an ordered list of [OXM] TLVs. Actions and instructions are small value
// types behind the [Action] and [Instruction] interfaces; use a type switch.
// Multipart messages carry a [MultipartBody] whose concrete type names the
// multipart kind (e.g. *PortDescRequest, *TableFeaturesReply).
//
// Invariants kept by the decoder and relied upon by the fuzz tests: every
// message the decoder accepts re-encodes to bytes that decode to an equal
// message, empty variable-length lists decode as nil, and byte payloads of
// length zero decode as nil unless stated otherwise (OXM values and masks
// are always non-nil when present on the wire).
package openflow
