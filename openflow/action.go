package openflow

import "strconv"

// Action wire layout: every action starts with type (uint16) and len
// (uint16); len includes the header and is a multiple of 8. The decoder
// rejects an unknown type with OFPBAC_BAD_TYPE and any length problem with
// OFPBAC_BAD_LEN; set-field OXM problems use OFPBAC_BAD_SET_*.

// ActionType is an action type (enum ofp_action_type).
type ActionType uint16

// Action types.
const (
	ActionTypeOutput       ActionType = 0      // OFPAT_OUTPUT
	ActionTypeCopyTTLOut   ActionType = 11     // OFPAT_COPY_TTL_OUT
	ActionTypeCopyTTLIn    ActionType = 12     // OFPAT_COPY_TTL_IN
	ActionTypeSetMPLSTTL   ActionType = 15     // OFPAT_SET_MPLS_TTL
	ActionTypeDecMPLSTTL   ActionType = 16     // OFPAT_DEC_MPLS_TTL
	ActionTypePushVLAN     ActionType = 17     // OFPAT_PUSH_VLAN
	ActionTypePopVLAN      ActionType = 18     // OFPAT_POP_VLAN
	ActionTypePushMPLS     ActionType = 19     // OFPAT_PUSH_MPLS
	ActionTypePopMPLS      ActionType = 20     // OFPAT_POP_MPLS
	ActionTypeSetQueue     ActionType = 21     // OFPAT_SET_QUEUE
	ActionTypeGroup        ActionType = 22     // OFPAT_GROUP
	ActionTypeSetNWTTL     ActionType = 23     // OFPAT_SET_NW_TTL
	ActionTypeDecNWTTL     ActionType = 24     // OFPAT_DEC_NW_TTL
	ActionTypeSetField     ActionType = 25     // OFPAT_SET_FIELD
	ActionTypePushPBB      ActionType = 26     // OFPAT_PUSH_PBB
	ActionTypePopPBB       ActionType = 27     // OFPAT_POP_PBB
	ActionTypeExperimenter ActionType = 0xffff // OFPAT_EXPERIMENTER
)

var actionTypeNames = map[ActionType]string{
	ActionTypeOutput: "OFPAT_OUTPUT", ActionTypeCopyTTLOut: "OFPAT_COPY_TTL_OUT",
	ActionTypeCopyTTLIn: "OFPAT_COPY_TTL_IN", ActionTypeSetMPLSTTL: "OFPAT_SET_MPLS_TTL",
	ActionTypeDecMPLSTTL: "OFPAT_DEC_MPLS_TTL", ActionTypePushVLAN: "OFPAT_PUSH_VLAN",
	ActionTypePopVLAN: "OFPAT_POP_VLAN", ActionTypePushMPLS: "OFPAT_PUSH_MPLS",
	ActionTypePopMPLS: "OFPAT_POP_MPLS", ActionTypeSetQueue: "OFPAT_SET_QUEUE",
	ActionTypeGroup: "OFPAT_GROUP", ActionTypeSetNWTTL: "OFPAT_SET_NW_TTL",
	ActionTypeDecNWTTL: "OFPAT_DEC_NW_TTL", ActionTypeSetField: "OFPAT_SET_FIELD",
	ActionTypePushPBB: "OFPAT_PUSH_PBB", ActionTypePopPBB: "OFPAT_POP_PBB",
	ActionTypeExperimenter: "OFPAT_EXPERIMENTER",
}

// String returns the spec name, e.g. "OFPAT_OUTPUT".
func (t ActionType) String() string {
	if s, ok := actionTypeNames[t]; ok {
		return s
	}
	return "OFPAT_" + strconv.Itoa(int(t))
}

// ActionTypes lists every OpenFlow 1.3 action type except experimenter.
var ActionTypes = []ActionType{
	ActionTypeOutput, ActionTypeCopyTTLOut, ActionTypeCopyTTLIn,
	ActionTypeSetMPLSTTL, ActionTypeDecMPLSTTL, ActionTypePushVLAN,
	ActionTypePopVLAN, ActionTypePushMPLS, ActionTypePopMPLS,
	ActionTypeSetQueue, ActionTypeGroup, ActionTypeSetNWTTL,
	ActionTypeDecNWTTL, ActionTypeSetField, ActionTypePushPBB, ActionTypePopPBB,
}

// Action is one OpenFlow action. The concrete types are the value types
// ActionOutput, ActionCopyTTLOut, ..., ActionExperimenter.
type Action interface {
	// ActionType returns the wire type of the action.
	ActionType() ActionType
	appendTo(b []byte) ([]byte, error)
}

// ActionOutput is OFPAT_OUTPUT.
type ActionOutput struct {
	Port   uint32
	MaxLen uint16 // bytes to send to the controller; ControllerMaxLenNoBuffer: all
}

// ActionCopyTTLOut is OFPAT_COPY_TTL_OUT.
type ActionCopyTTLOut struct{}

// ActionCopyTTLIn is OFPAT_COPY_TTL_IN.
type ActionCopyTTLIn struct{}

// ActionSetMPLSTTL is OFPAT_SET_MPLS_TTL.
type ActionSetMPLSTTL struct{ TTL uint8 }

// ActionDecMPLSTTL is OFPAT_DEC_MPLS_TTL.
type ActionDecMPLSTTL struct{}

// ActionPushVLAN is OFPAT_PUSH_VLAN.
type ActionPushVLAN struct{ EtherType uint16 }

// ActionPopVLAN is OFPAT_POP_VLAN.
type ActionPopVLAN struct{}

// ActionPushMPLS is OFPAT_PUSH_MPLS.
type ActionPushMPLS struct{ EtherType uint16 }

// ActionPopMPLS is OFPAT_POP_MPLS; EtherType is the payload's ethertype.
type ActionPopMPLS struct{ EtherType uint16 }

// ActionSetQueue is OFPAT_SET_QUEUE.
type ActionSetQueue struct{ QueueID uint32 }

// ActionGroup is OFPAT_GROUP.
type ActionGroup struct{ GroupID uint32 }

// ActionSetNWTTL is OFPAT_SET_NW_TTL.
type ActionSetNWTTL struct{ TTL uint8 }

// ActionDecNWTTL is OFPAT_DEC_NW_TTL.
type ActionDecNWTTL struct{}

// ActionSetField is OFPAT_SET_FIELD. The OXM has no mask.
type ActionSetField struct{ Field OXM }

// ActionPushPBB is OFPAT_PUSH_PBB.
type ActionPushPBB struct{ EtherType uint16 }

// ActionPopPBB is OFPAT_POP_PBB.
type ActionPopPBB struct{}

// ActionExperimenter is OFPAT_EXPERIMENTER. Data follows the experimenter
// id; the encoder pads it with zeros to a multiple of 8 bytes in total.
type ActionExperimenter struct {
	Experimenter uint32
	Data         []byte
}

// ActionType implements Action.
func (ActionOutput) ActionType() ActionType { return ActionTypeOutput }

// ActionType implements Action.
func (ActionCopyTTLOut) ActionType() ActionType { return ActionTypeCopyTTLOut }

// ActionType implements Action.
func (ActionCopyTTLIn) ActionType() ActionType { return ActionTypeCopyTTLIn }

// ActionType implements Action.
func (ActionSetMPLSTTL) ActionType() ActionType { return ActionTypeSetMPLSTTL }

// ActionType implements Action.
func (ActionDecMPLSTTL) ActionType() ActionType { return ActionTypeDecMPLSTTL }

// ActionType implements Action.
func (ActionPushVLAN) ActionType() ActionType { return ActionTypePushVLAN }

// ActionType implements Action.
func (ActionPopVLAN) ActionType() ActionType { return ActionTypePopVLAN }

// ActionType implements Action.
func (ActionPushMPLS) ActionType() ActionType { return ActionTypePushMPLS }

// ActionType implements Action.
func (ActionPopMPLS) ActionType() ActionType { return ActionTypePopMPLS }

// ActionType implements Action.
func (ActionSetQueue) ActionType() ActionType { return ActionTypeSetQueue }

// ActionType implements Action.
func (ActionGroup) ActionType() ActionType { return ActionTypeGroup }

// ActionType implements Action.
func (ActionSetNWTTL) ActionType() ActionType { return ActionTypeSetNWTTL }

// ActionType implements Action.
func (ActionDecNWTTL) ActionType() ActionType { return ActionTypeDecNWTTL }

// ActionType implements Action.
func (ActionSetField) ActionType() ActionType { return ActionTypeSetField }

// ActionType implements Action.
func (ActionPushPBB) ActionType() ActionType { return ActionTypePushPBB }

// ActionType implements Action.
func (ActionPopPBB) ActionType() ActionType { return ActionTypePopPBB }

// ActionType implements Action.
func (ActionExperimenter) ActionType() ActionType { return ActionTypeExperimenter }

// actHeader appends type and len.
func actHeader(b []byte, t ActionType, n int) []byte {
	return put16(put16(b, uint16(t)), uint16(n))
}

// actEmpty appends an 8-byte action with no argument.
func actEmpty(b []byte, t ActionType) []byte { return zeros(actHeader(b, t, 8), 4) }

// act16 appends an 8-byte action with a 16-bit argument.
func act16(b []byte, t ActionType, v uint16) []byte { return zeros(put16(actHeader(b, t, 8), v), 2) }

// act8 appends an 8-byte action with an 8-bit argument.
func act8(b []byte, t ActionType, v uint8) []byte { return zeros(append(actHeader(b, t, 8), v), 3) }

func (a ActionOutput) appendTo(b []byte) ([]byte, error) {
	b = put32(actHeader(b, ActionTypeOutput, 16), a.Port)
	return zeros(put16(b, a.MaxLen), 6), nil
}
func (ActionCopyTTLOut) appendTo(b []byte) ([]byte, error) {
	return actEmpty(b, ActionTypeCopyTTLOut), nil
}
func (ActionCopyTTLIn) appendTo(b []byte) ([]byte, error) {
	return actEmpty(b, ActionTypeCopyTTLIn), nil
}
func (a ActionSetMPLSTTL) appendTo(b []byte) ([]byte, error) {
	return act8(b, ActionTypeSetMPLSTTL, a.TTL), nil
}
func (ActionDecMPLSTTL) appendTo(b []byte) ([]byte, error) {
	return actEmpty(b, ActionTypeDecMPLSTTL), nil
}
func (a ActionPushVLAN) appendTo(b []byte) ([]byte, error) {
	return act16(b, ActionTypePushVLAN, a.EtherType), nil
}
func (ActionPopVLAN) appendTo(b []byte) ([]byte, error) { return actEmpty(b, ActionTypePopVLAN), nil }
func (a ActionPushMPLS) appendTo(b []byte) ([]byte, error) {
	return act16(b, ActionTypePushMPLS, a.EtherType), nil
}
func (a ActionPopMPLS) appendTo(b []byte) ([]byte, error) {
	return act16(b, ActionTypePopMPLS, a.EtherType), nil
}
func (a ActionSetQueue) appendTo(b []byte) ([]byte, error) {
	return put32(actHeader(b, ActionTypeSetQueue, 8), a.QueueID), nil
}
func (a ActionGroup) appendTo(b []byte) ([]byte, error) {
	return put32(actHeader(b, ActionTypeGroup, 8), a.GroupID), nil
}
func (a ActionSetNWTTL) appendTo(b []byte) ([]byte, error) {
	return act8(b, ActionTypeSetNWTTL, a.TTL), nil
}
func (ActionDecNWTTL) appendTo(b []byte) ([]byte, error) {
	return actEmpty(b, ActionTypeDecNWTTL), nil
}
func (a ActionSetField) appendTo(b []byte) ([]byte, error) {
	start := len(b)
	b = actHeader(b, ActionTypeSetField, pad8(4+a.Field.wireLen()))
	b, err := a.Field.appendTo(b)
	if err != nil {
		return b[:start], err
	}
	return padTo8(b, start), nil
}
func (a ActionPushPBB) appendTo(b []byte) ([]byte, error) {
	return act16(b, ActionTypePushPBB, a.EtherType), nil
}
func (ActionPopPBB) appendTo(b []byte) ([]byte, error) { return actEmpty(b, ActionTypePopPBB), nil }
func (a ActionExperimenter) appendTo(b []byte) ([]byte, error) {
	n := pad8(8 + len(a.Data))
	if n > MaxMessageLen {
		return b, errf(BACBadLen, "experimenter action too long")
	}
	start := len(b)
	b = put32(actHeader(b, ActionTypeExperimenter, n), a.Experimenter)
	return padTo8(append(b, a.Data...), start), nil
}

// appendActions appends a list of actions.
func appendActions(b []byte, acts []Action) ([]byte, error) {
	var err error
	for _, a := range acts {
		if a == nil {
			return b, errf(BACBadType, "nil action")
		}
		if b, err = a.appendTo(b); err != nil {
			return b, err
		}
	}
	return b, nil
}

// parseActions decodes a list of actions filling b exactly.
func parseActions(b []byte) ([]Action, error) {
	var acts []Action
	for len(b) > 0 {
		a, n, err := parseAction(b)
		if err != nil {
			return nil, err
		}
		acts = append(acts, a)
		b = b[n:]
	}
	return acts, nil
}

// parseAction decodes one action at the start of b.
func parseAction(b []byte) (Action, int, error) {
	if len(b) < 8 {
		return nil, 0, errf(BACBadLen, "truncated action (%d bytes)", len(b))
	}
	t, n := ActionType(u16(b, 0)), int(u16(b, 2))
	if n < 8 || n%8 != 0 || n > len(b) {
		return nil, 0, errf(BACBadLen, "%v: length %d (%d bytes available)", t, n, len(b))
	}
	p := b[:n]
	want := 8
	var a Action
	switch t {
	case ActionTypeOutput:
		want = 16
		if n == want {
			a = ActionOutput{Port: u32(p, 4), MaxLen: u16(p, 8)}
		}
	case ActionTypeCopyTTLOut:
		a = ActionCopyTTLOut{}
	case ActionTypeCopyTTLIn:
		a = ActionCopyTTLIn{}
	case ActionTypeSetMPLSTTL:
		a = ActionSetMPLSTTL{TTL: p[4]}
	case ActionTypeDecMPLSTTL:
		a = ActionDecMPLSTTL{}
	case ActionTypePushVLAN:
		a = ActionPushVLAN{EtherType: u16(p, 4)}
	case ActionTypePopVLAN:
		a = ActionPopVLAN{}
	case ActionTypePushMPLS:
		a = ActionPushMPLS{EtherType: u16(p, 4)}
	case ActionTypePopMPLS:
		a = ActionPopMPLS{EtherType: u16(p, 4)}
	case ActionTypeSetQueue:
		a = ActionSetQueue{QueueID: u32(p, 4)}
	case ActionTypeGroup:
		a = ActionGroup{GroupID: u32(p, 4)}
	case ActionTypeSetNWTTL:
		a = ActionSetNWTTL{TTL: p[4]}
	case ActionTypeDecNWTTL:
		a = ActionDecNWTTL{}
	case ActionTypePushPBB:
		a = ActionPushPBB{EtherType: u16(p, 4)}
	case ActionTypePopPBB:
		a = ActionPopPBB{}
	case ActionTypeSetField:
		o, k, err := parseOXM(p[4:], &setFieldOXMErrors)
		if err != nil {
			return nil, 0, err
		}
		if o.Mask != nil {
			return nil, 0, errf(BACBadSetArgument, "set_field %v with a mask", o.Field)
		}
		if pad8(4+k) != n {
			return nil, 0, errf(BACBadSetLen, "set_field length %d for a %d-byte OXM", n, k)
		}
		return ActionSetField{Field: o}, n, nil
	case ActionTypeExperimenter:
		return ActionExperimenter{Experimenter: u32(p, 4), Data: nilIfEmpty(p[8:])}, n, nil
	default:
		return nil, 0, errf(BACBadType, "action type %d", t)
	}
	if n != want {
		return nil, 0, errf(BACBadLen, "%v: length %d, want %d", t, n, want)
	}
	return a, n, nil
}
