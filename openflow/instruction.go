package openflow

import "strconv"

// Instruction wire layout: type (uint16), len (uint16), then a body; every
// instruction is a multiple of 8 bytes. Unknown types fail with
// OFPBIC_UNKNOWN_INST and bad lengths with OFPBIC_BAD_LEN; errors in
// nested actions keep their OFPBAC_* codes.

// InstructionType is an instruction type (enum ofp_instruction_type).
type InstructionType uint16

// Instruction types.
const (
	InstTypeGotoTable     InstructionType = 1      // OFPIT_GOTO_TABLE
	InstTypeWriteMetadata InstructionType = 2      // OFPIT_WRITE_METADATA
	InstTypeWriteActions  InstructionType = 3      // OFPIT_WRITE_ACTIONS
	InstTypeApplyActions  InstructionType = 4      // OFPIT_APPLY_ACTIONS
	InstTypeClearActions  InstructionType = 5      // OFPIT_CLEAR_ACTIONS
	InstTypeMeter         InstructionType = 6      // OFPIT_METER
	InstTypeExperimenter  InstructionType = 0xffff // OFPIT_EXPERIMENTER
)

var instTypeNames = map[InstructionType]string{
	InstTypeGotoTable: "OFPIT_GOTO_TABLE", InstTypeWriteMetadata: "OFPIT_WRITE_METADATA",
	InstTypeWriteActions: "OFPIT_WRITE_ACTIONS", InstTypeApplyActions: "OFPIT_APPLY_ACTIONS",
	InstTypeClearActions: "OFPIT_CLEAR_ACTIONS", InstTypeMeter: "OFPIT_METER",
	InstTypeExperimenter: "OFPIT_EXPERIMENTER",
}

// String returns the spec name, e.g. "OFPIT_APPLY_ACTIONS".
func (t InstructionType) String() string {
	if s, ok := instTypeNames[t]; ok {
		return s
	}
	return "OFPIT_" + strconv.Itoa(int(t))
}

// InstructionTypes lists every OpenFlow 1.3 instruction type except experimenter.
var InstructionTypes = []InstructionType{
	InstTypeGotoTable, InstTypeWriteMetadata, InstTypeWriteActions,
	InstTypeApplyActions, InstTypeClearActions, InstTypeMeter,
}

// Instruction is one OpenFlow instruction. The concrete types are the value
// types InstGotoTable, InstWriteMetadata, InstWriteActions,
// InstApplyActions, InstClearActions, InstMeter and InstExperimenter.
type Instruction interface {
	// InstructionType returns the wire type of the instruction.
	InstructionType() InstructionType
	appendTo(b []byte) ([]byte, error)
}

// InstGotoTable is OFPIT_GOTO_TABLE.
type InstGotoTable struct{ TableID uint8 }

// InstWriteMetadata is OFPIT_WRITE_METADATA.
type InstWriteMetadata struct{ Metadata, Mask uint64 }

// InstWriteActions is OFPIT_WRITE_ACTIONS.
type InstWriteActions struct{ Actions []Action }

// InstApplyActions is OFPIT_APPLY_ACTIONS.
type InstApplyActions struct{ Actions []Action }

// InstClearActions is OFPIT_CLEAR_ACTIONS.
type InstClearActions struct{}

// InstMeter is OFPIT_METER.
type InstMeter struct{ MeterID uint32 }

// InstExperimenter is OFPIT_EXPERIMENTER. Data follows the experimenter id;
// the encoder pads it with zeros to a multiple of 8 bytes in total.
type InstExperimenter struct {
	Experimenter uint32
	Data         []byte
}

// InstructionType implements Instruction.
func (InstGotoTable) InstructionType() InstructionType { return InstTypeGotoTable }

// InstructionType implements Instruction.
func (InstWriteMetadata) InstructionType() InstructionType { return InstTypeWriteMetadata }

// InstructionType implements Instruction.
func (InstWriteActions) InstructionType() InstructionType { return InstTypeWriteActions }

// InstructionType implements Instruction.
func (InstApplyActions) InstructionType() InstructionType { return InstTypeApplyActions }

// InstructionType implements Instruction.
func (InstClearActions) InstructionType() InstructionType { return InstTypeClearActions }

// InstructionType implements Instruction.
func (InstMeter) InstructionType() InstructionType { return InstTypeMeter }

// InstructionType implements Instruction.
func (InstExperimenter) InstructionType() InstructionType { return InstTypeExperimenter }

func instHeader(b []byte, t InstructionType, n int) []byte {
	return put16(put16(b, uint16(t)), uint16(n))
}

func (i InstGotoTable) appendTo(b []byte) ([]byte, error) {
	return zeros(append(instHeader(b, InstTypeGotoTable, 8), i.TableID), 3), nil
}
func (i InstWriteMetadata) appendTo(b []byte) ([]byte, error) {
	b = zeros(instHeader(b, InstTypeWriteMetadata, 24), 4)
	return put64(put64(b, i.Metadata), i.Mask), nil
}
func appendActionsInst(b []byte, t InstructionType, acts []Action) ([]byte, error) {
	start := len(b)
	b = zeros(instHeader(b, t, 0), 4)
	b, err := appendActions(b, acts)
	if err != nil {
		return b[:start], err
	}
	if len(b)-start > MaxMessageLen {
		return b[:start], errf(BICBadLen, "%v too long", t)
	}
	patch16(b, start+2, uint16(len(b)-start))
	return b, nil
}
func (i InstWriteActions) appendTo(b []byte) ([]byte, error) {
	return appendActionsInst(b, InstTypeWriteActions, i.Actions)
}
func (i InstApplyActions) appendTo(b []byte) ([]byte, error) {
	return appendActionsInst(b, InstTypeApplyActions, i.Actions)
}
func (InstClearActions) appendTo(b []byte) ([]byte, error) {
	return zeros(instHeader(b, InstTypeClearActions, 8), 4), nil
}
func (i InstMeter) appendTo(b []byte) ([]byte, error) {
	return put32(instHeader(b, InstTypeMeter, 8), i.MeterID), nil
}
func (i InstExperimenter) appendTo(b []byte) ([]byte, error) {
	n := pad8(8 + len(i.Data))
	if n > MaxMessageLen {
		return b, errf(BICBadLen, "experimenter instruction too long")
	}
	start := len(b)
	b = put32(instHeader(b, InstTypeExperimenter, n), i.Experimenter)
	return padTo8(append(b, i.Data...), start), nil
}

// appendInstructions appends a list of instructions.
func appendInstructions(b []byte, insts []Instruction) ([]byte, error) {
	var err error
	for _, in := range insts {
		if in == nil {
			return b, errf(BICUnknownInst, "nil instruction")
		}
		if b, err = in.appendTo(b); err != nil {
			return b, err
		}
	}
	return b, nil
}

// parseInstructions decodes a list of instructions filling b exactly.
func parseInstructions(b []byte) ([]Instruction, error) {
	var insts []Instruction
	for len(b) > 0 {
		in, n, err := parseInstruction(b)
		if err != nil {
			return nil, err
		}
		insts = append(insts, in)
		b = b[n:]
	}
	return insts, nil
}

func parseInstruction(b []byte) (Instruction, int, error) {
	if len(b) < 8 {
		return nil, 0, errf(BICBadLen, "truncated instruction (%d bytes)", len(b))
	}
	t, n := InstructionType(u16(b, 0)), int(u16(b, 2))
	if n < 8 || n%8 != 0 || n > len(b) {
		return nil, 0, errf(BICBadLen, "%v: length %d (%d bytes available)", t, n, len(b))
	}
	p := b[:n]
	fixed := func(want int, in Instruction) (Instruction, int, error) {
		if n != want {
			return nil, 0, errf(BICBadLen, "%v: length %d, want %d", t, n, want)
		}
		return in, n, nil
	}
	switch t {
	case InstTypeGotoTable:
		return fixed(8, InstGotoTable{TableID: p[4]})
	case InstTypeWriteMetadata:
		if n != 24 {
			return fixed(24, nil)
		}
		return InstWriteMetadata{Metadata: u64(p, 8), Mask: u64(p, 16)}, n, nil
	case InstTypeWriteActions, InstTypeApplyActions:
		acts, err := parseActions(p[8:])
		if err != nil {
			return nil, 0, err
		}
		if t == InstTypeWriteActions {
			return InstWriteActions{Actions: acts}, n, nil
		}
		return InstApplyActions{Actions: acts}, n, nil
	case InstTypeClearActions:
		return fixed(8, InstClearActions{})
	case InstTypeMeter:
		return fixed(8, InstMeter{MeterID: u32(p, 4)})
	case InstTypeExperimenter:
		return InstExperimenter{Experimenter: u32(p, 4), Data: nilIfEmpty(p[8:])}, n, nil
	}
	return nil, 0, errf(BICUnknownInst, "instruction type %d", t)
}
