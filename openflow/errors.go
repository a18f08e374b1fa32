package openflow

import (
	"errors"
	"fmt"
	"strconv"
)

// ErrorType is the type field of an OpenFlow ERROR message (OFPET_*).
type ErrorType uint16

// Error types (enum ofp_error_type).
const (
	ETHelloFailed         ErrorType = 0      // OFPET_HELLO_FAILED
	ETBadRequest          ErrorType = 1      // OFPET_BAD_REQUEST
	ETBadAction           ErrorType = 2      // OFPET_BAD_ACTION
	ETBadInstruction      ErrorType = 3      // OFPET_BAD_INSTRUCTION
	ETBadMatch            ErrorType = 4      // OFPET_BAD_MATCH
	ETFlowModFailed       ErrorType = 5      // OFPET_FLOW_MOD_FAILED
	ETGroupModFailed      ErrorType = 6      // OFPET_GROUP_MOD_FAILED
	ETPortModFailed       ErrorType = 7      // OFPET_PORT_MOD_FAILED
	ETTableModFailed      ErrorType = 8      // OFPET_TABLE_MOD_FAILED
	ETQueueOpFailed       ErrorType = 9      // OFPET_QUEUE_OP_FAILED
	ETSwitchConfigFailed  ErrorType = 10     // OFPET_SWITCH_CONFIG_FAILED
	ETRoleRequestFailed   ErrorType = 11     // OFPET_ROLE_REQUEST_FAILED
	ETMeterModFailed      ErrorType = 12     // OFPET_METER_MOD_FAILED
	ETTableFeaturesFailed ErrorType = 13     // OFPET_TABLE_FEATURES_FAILED
	ETExperimenter        ErrorType = 0xffff // OFPET_EXPERIMENTER
)

var errorTypeNames = map[ErrorType]string{
	ETHelloFailed:         "OFPET_HELLO_FAILED",
	ETBadRequest:          "OFPET_BAD_REQUEST",
	ETBadAction:           "OFPET_BAD_ACTION",
	ETBadInstruction:      "OFPET_BAD_INSTRUCTION",
	ETBadMatch:            "OFPET_BAD_MATCH",
	ETFlowModFailed:       "OFPET_FLOW_MOD_FAILED",
	ETGroupModFailed:      "OFPET_GROUP_MOD_FAILED",
	ETPortModFailed:       "OFPET_PORT_MOD_FAILED",
	ETTableModFailed:      "OFPET_TABLE_MOD_FAILED",
	ETQueueOpFailed:       "OFPET_QUEUE_OP_FAILED",
	ETSwitchConfigFailed:  "OFPET_SWITCH_CONFIG_FAILED",
	ETRoleRequestFailed:   "OFPET_ROLE_REQUEST_FAILED",
	ETMeterModFailed:      "OFPET_METER_MOD_FAILED",
	ETTableFeaturesFailed: "OFPET_TABLE_FEATURES_FAILED",
	ETExperimenter:        "OFPET_EXPERIMENTER",
}

// String returns the spec name, e.g. "OFPET_BAD_MATCH".
func (t ErrorType) String() string {
	if s, ok := errorTypeNames[t]; ok {
		return s
	}
	return "OFPET_" + strconv.Itoa(int(t))
}

// ErrorCode identifies an OpenFlow error: the error type in the upper 16
// bits and the type-specific code in the lower 16 bits. The constants below
// cover every code of OpenFlow 1.3.5; any other pair can be built with
// [MakeErrorCode].
type ErrorCode uint32

// MakeErrorCode combines an error type and a type-specific code.
func MakeErrorCode(t ErrorType, code uint16) ErrorCode {
	return ErrorCode(uint32(t)<<16 | uint32(code))
}

// Type returns the error type (the ERROR message's type field).
func (c ErrorCode) Type() ErrorType { return ErrorType(c >> 16) }

// Code returns the type-specific code (the ERROR message's code field).
func (c ErrorCode) Code() uint16 { return uint16(c) }

// String returns the spec name, e.g. "OFPBMC_BAD_PREREQ".
func (c ErrorCode) String() string {
	if s, ok := errorCodeNames[c]; ok {
		return s
	}
	return c.Type().String() + "/" + strconv.Itoa(int(c.Code()))
}

func ec(t ErrorType, code uint16) ErrorCode { return ErrorCode(uint32(t)<<16 | uint32(code)) }

// OFPET_HELLO_FAILED codes.
const (
	HFCIncompatible ErrorCode = ErrorCode(ETHelloFailed)<<16 | iota // OFPHFC_INCOMPATIBLE
	HFCEperm                                                        // OFPHFC_EPERM
)

// OFPET_BAD_REQUEST codes.
const (
	BRCBadVersion              ErrorCode = ErrorCode(ETBadRequest)<<16 | iota // OFPBRC_BAD_VERSION
	BRCBadType                                                                // OFPBRC_BAD_TYPE
	BRCBadMultipart                                                           // OFPBRC_BAD_MULTIPART
	BRCBadExperimenter                                                        // OFPBRC_BAD_EXPERIMENTER
	BRCBadExpType                                                             // OFPBRC_BAD_EXP_TYPE
	BRCEperm                                                                  // OFPBRC_EPERM
	BRCBadLen                                                                 // OFPBRC_BAD_LEN
	BRCBufferEmpty                                                            // OFPBRC_BUFFER_EMPTY
	BRCBufferUnknown                                                          // OFPBRC_BUFFER_UNKNOWN
	BRCBadTableID                                                             // OFPBRC_BAD_TABLE_ID
	BRCIsSlave                                                                // OFPBRC_IS_SLAVE
	BRCBadPort                                                                // OFPBRC_BAD_PORT
	BRCBadPacket                                                              // OFPBRC_BAD_PACKET
	BRCMultipartBufferOverflow                                                // OFPBRC_MULTIPART_BUFFER_OVERFLOW
)

// OFPET_BAD_ACTION codes.
const (
	BACBadType           ErrorCode = ErrorCode(ETBadAction)<<16 | iota // OFPBAC_BAD_TYPE
	BACBadLen                                                          // OFPBAC_BAD_LEN
	BACBadExperimenter                                                 // OFPBAC_BAD_EXPERIMENTER
	BACBadExpType                                                      // OFPBAC_BAD_EXP_TYPE
	BACBadOutPort                                                      // OFPBAC_BAD_OUT_PORT
	BACBadArgument                                                     // OFPBAC_BAD_ARGUMENT
	BACEperm                                                           // OFPBAC_EPERM
	BACTooMany                                                         // OFPBAC_TOO_MANY
	BACBadQueue                                                        // OFPBAC_BAD_QUEUE
	BACBadOutGroup                                                     // OFPBAC_BAD_OUT_GROUP
	BACMatchInconsistent                                               // OFPBAC_MATCH_INCONSISTENT
	BACUnsupportedOrder                                                // OFPBAC_UNSUPPORTED_ORDER
	BACBadTag                                                          // OFPBAC_BAD_TAG
	BACBadSetType                                                      // OFPBAC_BAD_SET_TYPE
	BACBadSetLen                                                       // OFPBAC_BAD_SET_LEN
	BACBadSetArgument                                                  // OFPBAC_BAD_SET_ARGUMENT
)

// OFPET_BAD_INSTRUCTION codes.
const (
	BICUnknownInst       ErrorCode = ErrorCode(ETBadInstruction)<<16 | iota // OFPBIC_UNKNOWN_INST
	BICUnsupInst                                                            // OFPBIC_UNSUP_INST
	BICBadTableID                                                           // OFPBIC_BAD_TABLE_ID
	BICUnsupMetadata                                                        // OFPBIC_UNSUP_METADATA
	BICUnsupMetadataMask                                                    // OFPBIC_UNSUP_METADATA_MASK
	BICBadExperimenter                                                      // OFPBIC_BAD_EXPERIMENTER
	BICBadExpType                                                           // OFPBIC_BAD_EXP_TYPE
	BICBadLen                                                               // OFPBIC_BAD_LEN
	BICEperm                                                                // OFPBIC_EPERM
)

// OFPET_BAD_MATCH codes.
const (
	BMCBadType       ErrorCode = ErrorCode(ETBadMatch)<<16 | iota // OFPBMC_BAD_TYPE
	BMCBadLen                                                     // OFPBMC_BAD_LEN
	BMCBadTag                                                     // OFPBMC_BAD_TAG
	BMCBadDLAddrMask                                              // OFPBMC_BAD_DL_ADDR_MASK
	BMCBadNWAddrMask                                              // OFPBMC_BAD_NW_ADDR_MASK
	BMCBadWildcards                                               // OFPBMC_BAD_WILDCARDS
	BMCBadField                                                   // OFPBMC_BAD_FIELD
	BMCBadValue                                                   // OFPBMC_BAD_VALUE
	BMCBadMask                                                    // OFPBMC_BAD_MASK
	BMCBadPrereq                                                  // OFPBMC_BAD_PREREQ
	BMCDupField                                                   // OFPBMC_DUP_FIELD
	BMCEperm                                                      // OFPBMC_EPERM
)

// OFPET_FLOW_MOD_FAILED codes.
const (
	FMFCUnknown    ErrorCode = ErrorCode(ETFlowModFailed)<<16 | iota // OFPFMFC_UNKNOWN
	FMFCTableFull                                                    // OFPFMFC_TABLE_FULL
	FMFCBadTableID                                                   // OFPFMFC_BAD_TABLE_ID
	FMFCOverlap                                                      // OFPFMFC_OVERLAP
	FMFCEperm                                                        // OFPFMFC_EPERM
	FMFCBadTimeout                                                   // OFPFMFC_BAD_TIMEOUT
	FMFCBadCommand                                                   // OFPFMFC_BAD_COMMAND
	FMFCBadFlags                                                     // OFPFMFC_BAD_FLAGS
)

// OFPET_GROUP_MOD_FAILED codes.
const (
	GMFCGroupExists         ErrorCode = ErrorCode(ETGroupModFailed)<<16 | iota // OFPGMFC_GROUP_EXISTS
	GMFCInvalidGroup                                                           // OFPGMFC_INVALID_GROUP
	GMFCWeightUnsupported                                                      // OFPGMFC_WEIGHT_UNSUPPORTED
	GMFCOutOfGroups                                                            // OFPGMFC_OUT_OF_GROUPS
	GMFCOutOfBuckets                                                           // OFPGMFC_OUT_OF_BUCKETS
	GMFCChainingUnsupported                                                    // OFPGMFC_CHAINING_UNSUPPORTED
	GMFCWatchUnsupported                                                       // OFPGMFC_WATCH_UNSUPPORTED
	GMFCLoop                                                                   // OFPGMFC_LOOP
	GMFCUnknownGroup                                                           // OFPGMFC_UNKNOWN_GROUP
	GMFCChainedGroup                                                           // OFPGMFC_CHAINED_GROUP
	GMFCBadType                                                                // OFPGMFC_BAD_TYPE
	GMFCBadCommand                                                             // OFPGMFC_BAD_COMMAND
	GMFCBadBucket                                                              // OFPGMFC_BAD_BUCKET
	GMFCBadWatch                                                               // OFPGMFC_BAD_WATCH
	GMFCEperm                                                                  // OFPGMFC_EPERM
)

// OFPET_PORT_MOD_FAILED codes.
const (
	PMFCBadPort      ErrorCode = ErrorCode(ETPortModFailed)<<16 | iota // OFPPMFC_BAD_PORT
	PMFCBadHWAddr                                                      // OFPPMFC_BAD_HW_ADDR
	PMFCBadConfig                                                      // OFPPMFC_BAD_CONFIG
	PMFCBadAdvertise                                                   // OFPPMFC_BAD_ADVERTISE
	PMFCEperm                                                          // OFPPMFC_EPERM
)

// OFPET_TABLE_MOD_FAILED codes.
const (
	TMFCBadTable  ErrorCode = ErrorCode(ETTableModFailed)<<16 | iota // OFPTMFC_BAD_TABLE
	TMFCBadConfig                                                    // OFPTMFC_BAD_CONFIG
	TMFCEperm                                                        // OFPTMFC_EPERM
)

// OFPET_QUEUE_OP_FAILED codes.
const (
	QOFCBadPort  ErrorCode = ErrorCode(ETQueueOpFailed)<<16 | iota // OFPQOFC_BAD_PORT
	QOFCBadQueue                                                   // OFPQOFC_BAD_QUEUE
	QOFCEperm                                                      // OFPQOFC_EPERM
)

// OFPET_SWITCH_CONFIG_FAILED codes.
const (
	SCFCBadFlags ErrorCode = ErrorCode(ETSwitchConfigFailed)<<16 | iota // OFPSCFC_BAD_FLAGS
	SCFCBadLen                                                          // OFPSCFC_BAD_LEN
	SCFCEperm                                                           // OFPSCFC_EPERM
)

// OFPET_ROLE_REQUEST_FAILED codes.
const (
	RRFCStale   ErrorCode = ErrorCode(ETRoleRequestFailed)<<16 | iota // OFPRRFC_STALE
	RRFCUnsup                                                         // OFPRRFC_UNSUP
	RRFCBadRole                                                       // OFPRRFC_BAD_ROLE
)

// OFPET_METER_MOD_FAILED codes.
const (
	MMFCUnknown      ErrorCode = ErrorCode(ETMeterModFailed)<<16 | iota // OFPMMFC_UNKNOWN
	MMFCMeterExists                                                     // OFPMMFC_METER_EXISTS
	MMFCInvalidMeter                                                    // OFPMMFC_INVALID_METER
	MMFCUnknownMeter                                                    // OFPMMFC_UNKNOWN_METER
	MMFCBadCommand                                                      // OFPMMFC_BAD_COMMAND
	MMFCBadFlags                                                        // OFPMMFC_BAD_FLAGS
	MMFCBadRate                                                         // OFPMMFC_BAD_RATE
	MMFCBadBurst                                                        // OFPMMFC_BAD_BURST
	MMFCBadBand                                                         // OFPMMFC_BAD_BAND
	MMFCBadBandValue                                                    // OFPMMFC_BAD_BAND_VALUE
	MMFCOutOfMeters                                                     // OFPMMFC_OUT_OF_METERS
	MMFCOutOfBands                                                      // OFPMMFC_OUT_OF_BANDS
)

// OFPET_TABLE_FEATURES_FAILED codes.
const (
	TFFCBadTable    ErrorCode = ErrorCode(ETTableFeaturesFailed)<<16 | iota // OFPTFFC_BAD_TABLE
	TFFCBadMetadata                                                         // OFPTFFC_BAD_METADATA
	TFFCBadType                                                             // OFPTFFC_BAD_TYPE
	TFFCBadLen                                                              // OFPTFFC_BAD_LEN
	TFFCBadArgument                                                         // OFPTFFC_BAD_ARGUMENT
	TFFCEperm                                                               // OFPTFFC_EPERM
)

var errorCodeNames = func() map[ErrorCode]string {
	m := map[ErrorCode]string{}
	add := func(t ErrorType, prefix string, names ...string) {
		for i, n := range names {
			m[ec(t, uint16(i))] = prefix + n
		}
	}
	add(ETHelloFailed, "OFPHFC_", "INCOMPATIBLE", "EPERM")
	add(ETBadRequest, "OFPBRC_", "BAD_VERSION", "BAD_TYPE", "BAD_MULTIPART",
		"BAD_EXPERIMENTER", "BAD_EXP_TYPE", "EPERM", "BAD_LEN", "BUFFER_EMPTY",
		"BUFFER_UNKNOWN", "BAD_TABLE_ID", "IS_SLAVE", "BAD_PORT", "BAD_PACKET",
		"MULTIPART_BUFFER_OVERFLOW")
	add(ETBadAction, "OFPBAC_", "BAD_TYPE", "BAD_LEN", "BAD_EXPERIMENTER",
		"BAD_EXP_TYPE", "BAD_OUT_PORT", "BAD_ARGUMENT", "EPERM", "TOO_MANY",
		"BAD_QUEUE", "BAD_OUT_GROUP", "MATCH_INCONSISTENT", "UNSUPPORTED_ORDER",
		"BAD_TAG", "BAD_SET_TYPE", "BAD_SET_LEN", "BAD_SET_ARGUMENT")
	add(ETBadInstruction, "OFPBIC_", "UNKNOWN_INST", "UNSUP_INST", "BAD_TABLE_ID",
		"UNSUP_METADATA", "UNSUP_METADATA_MASK", "BAD_EXPERIMENTER", "BAD_EXP_TYPE",
		"BAD_LEN", "EPERM")
	add(ETBadMatch, "OFPBMC_", "BAD_TYPE", "BAD_LEN", "BAD_TAG", "BAD_DL_ADDR_MASK",
		"BAD_NW_ADDR_MASK", "BAD_WILDCARDS", "BAD_FIELD", "BAD_VALUE", "BAD_MASK",
		"BAD_PREREQ", "DUP_FIELD", "EPERM")
	add(ETFlowModFailed, "OFPFMFC_", "UNKNOWN", "TABLE_FULL", "BAD_TABLE_ID",
		"OVERLAP", "EPERM", "BAD_TIMEOUT", "BAD_COMMAND", "BAD_FLAGS")
	add(ETGroupModFailed, "OFPGMFC_", "GROUP_EXISTS", "INVALID_GROUP",
		"WEIGHT_UNSUPPORTED", "OUT_OF_GROUPS", "OUT_OF_BUCKETS",
		"CHAINING_UNSUPPORTED", "WATCH_UNSUPPORTED", "LOOP", "UNKNOWN_GROUP",
		"CHAINED_GROUP", "BAD_TYPE", "BAD_COMMAND", "BAD_BUCKET", "BAD_WATCH", "EPERM")
	add(ETPortModFailed, "OFPPMFC_", "BAD_PORT", "BAD_HW_ADDR", "BAD_CONFIG",
		"BAD_ADVERTISE", "EPERM")
	add(ETTableModFailed, "OFPTMFC_", "BAD_TABLE", "BAD_CONFIG", "EPERM")
	add(ETQueueOpFailed, "OFPQOFC_", "BAD_PORT", "BAD_QUEUE", "EPERM")
	add(ETSwitchConfigFailed, "OFPSCFC_", "BAD_FLAGS", "BAD_LEN", "EPERM")
	add(ETRoleRequestFailed, "OFPRRFC_", "STALE", "UNSUP", "BAD_ROLE")
	add(ETMeterModFailed, "OFPMMFC_", "UNKNOWN", "METER_EXISTS", "INVALID_METER",
		"UNKNOWN_METER", "BAD_COMMAND", "BAD_FLAGS", "BAD_RATE", "BAD_BURST",
		"BAD_BAND", "BAD_BAND_VALUE", "OUT_OF_METERS", "OUT_OF_BANDS")
	add(ETTableFeaturesFailed, "OFPTFFC_", "BAD_TABLE", "BAD_METADATA", "BAD_TYPE",
		"BAD_LEN", "BAD_ARGUMENT", "EPERM")
	return m
}()

// Error is a Go error that carries the OpenFlow error the switch should
// report for it. Every error returned by this package's decoders is, or
// wraps, an *Error.
type Error struct {
	Code ErrorCode // the OpenFlow error type and code
	Msg  string    // human-readable context; may be empty
}

// Error implements the error interface.
func (e *Error) Error() string {
	if e.Msg == "" {
		return "openflow: " + e.Code.String()
	}
	return "openflow: " + e.Code.String() + ": " + e.Msg
}

// OFError returns the OpenFlow error type and code.
func (e *Error) OFError() (typ, code uint16) { return uint16(e.Code.Type()), e.Code.Code() }

// Errorf returns an *Error with the given code and a formatted message.
func Errorf(code ErrorCode, format string, args ...any) *Error {
	return &Error{Code: code, Msg: fmt.Sprintf(format, args...)}
}

// errf is Errorf returning the error interface.
func errf(code ErrorCode, format string, args ...any) error {
	return &Error{Code: code, Msg: fmt.Sprintf(format, args...)}
}

// CodeOf returns the OpenFlow error code carried by err: from an *Error in
// its chain, or from any error in its chain that implements
// OFError() (typ, code uint16).
func CodeOf(err error) (ErrorCode, bool) {
	var e *Error
	if errors.As(err, &e) {
		return e.Code, true
	}
	var o interface{ OFError() (uint16, uint16) }
	if errors.As(err, &o) {
		t, c := o.OFError()
		return MakeErrorCode(ErrorType(t), c), true
	}
	return 0, false
}

// maxErrorData is how many bytes of the offending message an ERROR reply
// carries (the spec asks for at least 64).
const maxErrorData = 64

// ErrorMsg is the OFPT_ERROR message.
//
// For experimenter errors (Code.Type() == ETExperimenter), Code.Code() is
// the exp_type field and Experimenter holds the experimenter id.
type ErrorMsg struct {
	Code         ErrorCode
	Experimenter uint32 // only for ETExperimenter
	Data         []byte // usually the start of the offending message
}

// Type implements Message.
func (*ErrorMsg) Type() Type { return TypeError }

// Error lets an ERROR message received from a peer be used as a Go error.
func (m *ErrorMsg) Error() string { return "openflow: peer error " + m.Code.String() }

// OFError returns the OpenFlow error type and code.
func (m *ErrorMsg) OFError() (typ, code uint16) { return uint16(m.Code.Type()), m.Code.Code() }

func (m *ErrorMsg) appendBody(b []byte) ([]byte, error) {
	b = put16(b, uint16(m.Code.Type()))
	b = put16(b, m.Code.Code())
	if m.Code.Type() == ETExperimenter {
		b = put32(b, m.Experimenter)
	}
	return append(b, m.Data...), nil
}

func (m *ErrorMsg) decodeBody(b []byte) error {
	if len(b) < 4 {
		return errf(BRCBadLen, "error message body %d < 4", len(b))
	}
	m.Code = MakeErrorCode(ErrorType(u16(b, 0)), u16(b, 2))
	b = b[4:]
	if m.Code.Type() == ETExperimenter {
		if len(b) < 4 {
			return errf(BRCBadLen, "experimenter error message too short")
		}
		m.Experimenter = u32(b, 0)
		b = b[4:]
	}
	m.Data = nilIfEmpty(b)
	return nil
}

// NewErrorReply builds the ERROR message for code, carrying the first
// min(len(offending), 64) bytes of the offending message. The data is
// copied. Send it with the offending message's xid.
func NewErrorReply(code ErrorCode, offending []byte) *ErrorMsg {
	n := min(len(offending), maxErrorData)
	var data []byte
	if n > 0 {
		data = append([]byte(nil), offending[:n]...)
	}
	return &ErrorMsg{Code: code, Data: data}
}

// ErrorReplyFor builds the ERROR reply for err, a decoding or processing
// error, about the offending message. If err carries no OpenFlow code,
// fallback is used.
func ErrorReplyFor(err error, offending []byte, fallback ErrorCode) *ErrorMsg {
	code, ok := CodeOf(err)
	if !ok {
		code = fallback
	}
	return NewErrorReply(code, offending)
}
