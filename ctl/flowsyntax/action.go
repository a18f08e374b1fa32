package flowsyntax

import (
	"errors"
	"fmt"
	"strings"

	"github.com/goko-net/goko/openflow"
)

// Instructions, in the order OpenFlow 1.1+ executes them and ovs-ofctl
// requires them to be written (OVS's enum ovs_instruction_type).
const (
	instMeter = iota
	instApply
	instClear
	instWrite
	instWriteMetadata
	instGoto
)

var instNames = [...]string{"meter", "apply_actions", "clear_actions", "write_actions", "write_metadata", "goto_table"}

// actionParser parses the part of a flow string after "actions=".
type actionParser struct {
	c     ctx // the flow's dl_type and nw_proto, for mod_tp_src and friends
	names map[string]uint32
	// hasVLAN tracks whether the packet surely has a VLAN header at this
	// point of the action list: the match says so, or an earlier action
	// pushed or set one. mod_vlan_vid and mod_vlan_pcp push a header when
	// it does not, like ovs-ofctl (OVS's check_SET_VLAN_VID).
	hasVLAN bool
}

// parseInstructions parses an action string into OpenFlow 1.3
// instructions: plain actions form the apply-actions instruction, and
// meter, clear_actions, write_actions, write_metadata and goto_table are
// instructions of their own. "drop" or an empty string means no
// instructions at all.
func (ap *actionParser) parseInstructions(s string) ([]openflow.Instruction, error) {
	var (
		apply  []openflow.Action
		insts  [len(instNames)]openflow.Instruction
		seen   [len(instNames)]bool
		last   = -1
		drop   bool
		nItems int
	)
	mark := func(k int) error {
		if k < last {
			return &orderError{fmt.Sprintf("invalid instruction ordering: %s must appear before %s, for OpenFlow 1.1+ compatibility", instNames[k], instNames[last])}
		}
		if seen[k] && k != instApply {
			return &orderError{fmt.Sprintf("instruction %s may be specified only once", instNames[k])}
		}
		seen[k], last = true, k
		return nil
	}
	for rest := s; ; {
		it, r, ok := nextItem(rest)
		if !ok {
			break
		}
		rest = r
		nItems++
		var err error
		switch strings.ToLower(it.key) {
		case "drop":
			drop = true
		case "apply_actions":
			return nil, errors.New("apply_actions is the default instruction")
		case "meter":
			if err = mark(instMeter); err == nil {
				var v uint64
				if v, err = parseUint(it.value, 32); err == nil {
					insts[instMeter] = openflow.InstMeter{MeterID: uint32(v)}
				}
			}
		case "clear_actions":
			if err = mark(instClear); err == nil {
				insts[instClear] = openflow.InstClearActions{}
			}
		case "write_actions":
			if err = mark(instWrite); err == nil {
				var acts []openflow.Action
				// Like ovs-ofctl, an empty write_actions is no instruction.
				if acts, err = ap.parseActionList(it.value); err == nil && len(acts) > 0 {
					insts[instWrite] = openflow.InstWriteActions{Actions: acts}
				}
			}
		case "write_metadata":
			if err = mark(instWriteMetadata); err == nil {
				var v, m uint64
				if v, m, _, err = parseUintMasked(it.value, 64); err == nil {
					insts[instWriteMetadata] = openflow.InstWriteMetadata{Metadata: v, Mask: m}
				}
			}
		case "goto_table":
			if err = mark(instGoto); err == nil {
				var v uint64
				if v, err = parseUint(it.value, 8); err == nil && v > uint64(openflow.TableMax) {
					err = fmt.Errorf("table %d out of range (0 to %d)", v, openflow.TableMax)
				}
				insts[instGoto] = openflow.InstGotoTable{TableID: uint8(v)}
			}
		default:
			if err = mark(instApply); err == nil {
				var acts []openflow.Action
				if acts, err = ap.actions(it); err == nil {
					apply = append(apply, acts...)
				}
			}
		}
		if err != nil {
			var oe *orderError
			var ue *unknownActionError
			if errors.As(err, &oe) || errors.As(err, &ue) {
				return nil, err
			}
			return nil, fieldErr(it.key, err)
		}
	}
	if drop && nItems > 1 {
		return nil, errors.New(`"drop" must not be accompanied by any other action or instruction`)
	}
	if len(apply) > 0 {
		insts[instApply] = openflow.InstApplyActions{Actions: apply}
	}
	var out []openflow.Instruction
	for _, in := range insts {
		if in != nil {
			out = append(out, in)
		}
	}
	return out, nil
}

// orderError is a misplaced or repeated instruction; it is reported
// without the keyword prefix other action errors get.
type orderError struct{ msg string }

func (e *orderError) Error() string { return e.msg }

// parseActionList parses the actions of write_actions(...): actions only,
// no instructions; "drop" or nothing is the empty list.
func (ap *actionParser) parseActionList(s string) ([]openflow.Action, error) {
	var acts []openflow.Action
	n, drop := 0, false
	for rest := s; ; {
		it, r, ok := nextItem(rest)
		if !ok {
			break
		}
		rest, n = r, n+1
		switch strings.ToLower(it.key) {
		case "drop":
			drop = true
			continue
		case "meter", "clear_actions", "write_actions", "write_metadata", "goto_table", "apply_actions":
			return nil, fmt.Errorf("%s is an instruction, not an action", it.key)
		}
		a, err := ap.actions(it)
		if err != nil {
			var ue *unknownActionError
			if errors.As(err, &ue) {
				return nil, err
			}
			return nil, fieldErr(it.key, err)
		}
		acts = append(acts, a...)
	}
	if drop && n > 1 {
		return nil, errors.New(`"drop" must not be accompanied by any other action`)
	}
	return acts, nil
}

// unknownActionError is an action keyword that is neither an action nor a
// known port. It unwraps to an *UnknownPortError so that a client can
// retry once it knows the switch's port names.
type unknownActionError struct{ port *UnknownPortError }

func (e *unknownActionError) Error() string {
	return fmt.Sprintf("unknown action or port %q", e.port.Name)
}

func (e *unknownActionError) Unwrap() error { return e.port }

// actions parses one action item into its action, preceded by
// push_vlan:0x8100 for a mod_vlan_vid or mod_vlan_pcp on a packet that
// may have no VLAN header.
func (ap *actionParser) actions(it item) ([]openflow.Action, error) {
	a, err := ap.parseAction(it)
	if err != nil {
		return nil, err
	}
	out := make([]openflow.Action, 0, 2)
	switch strings.ToLower(it.key) {
	case "mod_vlan_vid", "mod_vlan_pcp":
		if !ap.hasVLAN {
			out = append(out, openflow.ActionPushVLAN{EtherType: 0x8100})
		}
		ap.hasVLAN = true
	}
	switch a.(type) {
	case openflow.ActionPushVLAN:
		ap.hasVLAN = true
	case openflow.ActionPopVLAN:
		ap.hasVLAN = false
	}
	return append(out, a), nil
}

// parseAction parses one action item.
func (ap *actionParser) parseAction(it item) (openflow.Action, error) {
	v := it.value
	u := func(bits int) (uint64, error) { return parseUint(v, bits) }
	switch strings.ToLower(it.key) {
	case "output":
		if it.delim == '(' {
			return nil, errors.New("output(...) (truncation) needs Nicira extensions; use output:PORT")
		}
		return ap.output(v)
	case "controller":
		return parseController(it)
	case "group":
		g, err := u(32)
		return openflow.ActionGroup{GroupID: uint32(g)}, err
	case "set_queue":
		q, err := u(32)
		return openflow.ActionSetQueue{QueueID: uint32(q)}, err
	case "push_vlan":
		t, err := u(16)
		if err == nil && t != 0x8100 && t != 0x88a8 {
			err = fmt.Errorf("ethertype %#x is not a VLAN ethertype (0x8100 or 0x88a8)", t)
		}
		return openflow.ActionPushVLAN{EtherType: uint16(t)}, err
	case "pop_vlan", "strip_vlan":
		return openflow.ActionPopVLAN{}, noValue(it)
	case "push_mpls":
		t, err := u(16)
		if err == nil && t != ethMPLS && t != ethMPLSM {
			err = fmt.Errorf("ethertype %#x is not an MPLS ethertype (0x8847 or 0x8848)", t)
		}
		return openflow.ActionPushMPLS{EtherType: uint16(t)}, err
	case "pop_mpls":
		t, err := u(16)
		return openflow.ActionPopMPLS{EtherType: uint16(t)}, err
	case "push_pbb":
		t, err := u(16)
		return openflow.ActionPushPBB{EtherType: uint16(t)}, err
	case "pop_pbb":
		return openflow.ActionPopPBB{}, noValue(it)
	case "set_mpls_ttl":
		t, err := u(8)
		return openflow.ActionSetMPLSTTL{TTL: uint8(t)}, err
	case "dec_mpls_ttl":
		return openflow.ActionDecMPLSTTL{}, noValue(it)
	case "mod_nw_ttl", "set_nw_ttl":
		t, err := u(8)
		return openflow.ActionSetNWTTL{TTL: uint8(t)}, err
	case "dec_ttl":
		if v != "" {
			return nil, errors.New("dec_ttl(controller ids) needs Nicira extensions; use plain dec_ttl")
		}
		return openflow.ActionDecNWTTL{}, nil
	case "copy_ttl_out":
		return openflow.ActionCopyTTLOut{}, noValue(it)
	case "copy_ttl_in":
		return openflow.ActionCopyTTLIn{}, noValue(it)
	case "set_field":
		return ap.setField(v)
	case "mod_dl_src":
		return ap.setFieldAs("eth_src", v)
	case "mod_dl_dst":
		return ap.setFieldAs("eth_dst", v)
	case "mod_nw_src":
		return ap.setFieldAs("ip_src", v)
	case "mod_nw_dst":
		return ap.setFieldAs("ip_dst", v)
	case "mod_nw_tos":
		return ap.setFieldAs("nw_tos", v)
	case "mod_nw_ecn":
		return ap.setFieldAs("ip_ecn", v)
	case "mod_vlan_vid":
		return ap.setFieldAs("dl_vlan", v)
	case "mod_vlan_pcp":
		return ap.setFieldAs("vlan_pcp", v)
	case "mod_tp_src", "mod_tp_dst":
		return ap.modTp(it)
	case "send_maps":
		return parseSendMaps(it)
	case "ct_commit":
		return parseCTCommit(it)
	case "experimenter":
		return parseExperimenterAction(it)
	}
	if hint, ok := foreignActions[strings.ToLower(it.key)]; ok {
		return nil, errors.New(hint)
	}
	if it.delim != 0 {
		return nil, fmt.Errorf("unknown action %s", it.key)
	}
	// A bare port: "2", "LOCAL", "in_port", "normal", or a port name.
	p, err := parsePort(it.key, ap.names)
	if err != nil {
		var upe *UnknownPortError
		if errors.As(err, &upe) {
			return nil, &unknownActionError{upe}
		}
		return nil, err
	}
	return outputTo(p)
}

func noValue(it item) error {
	if it.value != "" {
		return fmt.Errorf("%s takes no argument", it.key)
	}
	return nil
}

func (ap *actionParser) output(v string) (openflow.Action, error) {
	p, err := parsePort(v, ap.names)
	if err != nil {
		return nil, err
	}
	return outputTo(p)
}

// outputTo is the output action to port p. Output to the controller sends
// whole packets (max_len OFPCML_NO_BUFFER), as ovs-ofctl does.
func outputTo(p uint32) (openflow.Action, error) {
	switch p {
	case openflow.PortAny:
		return nil, errors.New("ANY is not a valid output port")
	case openflow.PortController:
		return openflow.ActionOutput{Port: p, MaxLen: openflow.ControllerMaxLenNoBuffer}, nil
	}
	return openflow.ActionOutput{Port: p}, nil
}

// parseController parses "controller", "controller:MAX_LEN" and
// "controller(max_len=N)". The other arguments of OVS's controller action
// (reason, id, userdata, pause, meter_id) are Nicira extensions.
func parseController(it item) (openflow.Action, error) {
	a := openflow.ActionOutput{Port: openflow.PortController, MaxLen: openflow.ControllerMaxLenNoBuffer}
	if it.value == "" {
		return a, nil
	}
	if it.delim != '(' {
		n, err := parseUint(it.value, 16)
		a.MaxLen = uint16(n)
		return a, err
	}
	for _, kv := range items(it.value) {
		if kv.key != "max_len" {
			return nil, fmt.Errorf("only max_len is supported (%s needs Nicira extensions)", kv.key)
		}
		n, err := parseUint(kv.value, 16)
		if err != nil {
			return nil, fieldErr("max_len", err)
		}
		a.MaxLen = uint16(n)
	}
	return a, nil
}

// setFieldNames maps the field names OVS accepts in set_field to OXM
// fields. Names that depend on the flow in a match (nw_src, tp_src,
// icmp_type, ...) are fixed here, as in OVS's meta-flow: nw_src is
// ip_src, tp_src is tcp_src, icmp_type is icmpv4_type.
var setFieldAlias = map[string]openflow.Field{
	"nw_src":    openflow.OXMIPv4Src,
	"nw_dst":    openflow.OXMIPv4Dst,
	"nw_proto":  openflow.OXMIPProto,
	"tp_src":    openflow.OXMTCPSrc,
	"tp_dst":    openflow.OXMTCPDst,
	"icmp_type": openflow.OXMICMPv4Type,
	"icmp_code": openflow.OXMICMPv4Code,
}

// setField parses "VALUE->FIELD".
func (ap *actionParser) setField(v string) (openflow.Action, error) {
	val, name, ok := strings.Cut(v, "->")
	if !ok {
		return nil, fmt.Errorf("%q: want VALUE->FIELD", v)
	}
	return ap.setFieldAs(name, val)
}

// setFieldAs builds a set-field action writing value to the field name.
func (ap *actionParser) setFieldAs(name, value string) (openflow.Action, error) {
	if name == "vlan_tci" {
		return nil, errors.New("vlan_tci cannot be set in OpenFlow 1.3; set vlan_vid and vlan_pcp")
	}
	if strings.HasPrefix(name, "oxm(") {
		o, err := genericOXM(name, value, false)
		if err != nil {
			return nil, err
		}
		if n, v, ok := namedForm(&o); ok {
			return ap.setFieldAs(n, v)
		}
		return openflow.ActionSetField{Field: o}, nil
	}
	var tmp matchBuilder
	tmp.names = ap.names
	known, err := tmp.add(name, value)
	if !known {
		return nil, fmt.Errorf("unknown field %q", name)
	}
	if err != nil {
		return nil, err
	}
	var s *setting
	for _, x := range tmp.slots {
		if x != nil {
			s = x
		}
	}
	if s.def.slot == slotFilterProg || s.def.slot == slotCTReply {
		return nil, fmt.Errorf("%s is a match field only; it cannot be set", s.def.name)
	}
	f := s.def.oxm
	if a, ok := setFieldAlias[s.def.name]; ok {
		f = a
	}
	if s.bmask != nil || (s.b == nil && f.Maskable() && s.umask&ones(oxmBits(f)) != ones(oxmBits(f))) {
		return nil, fmt.Errorf("%s: OpenFlow 1.3 cannot set part of a field (no masks in set_field)", name)
	}
	o, _ := s.oxm(f)
	return openflow.ActionSetField{Field: o}, nil
}

// modTp is OVS's mod_tp_src/mod_tp_dst, which sets the TCP, UDP or SCTP
// port depending on the flow's nw_proto.
func (ap *actionParser) modTp(it item) (openflow.Action, error) {
	src := strings.HasSuffix(strings.ToLower(it.key), "src")
	var name string
	if ap.c.isIP() && ap.c.hasProto {
		name = map[uint8]string{protoTCP: "tcp", protoUDP: "udp", protoSCTP: "sctp"}[ap.c.proto]
	}
	if name == "" {
		return nil, errors.New(`needs a flow that matches ip_proto=6, 17 or 132 (e.g. "tcp,...")`)
	}
	if src {
		name += "_src"
	} else {
		name += "_dst"
	}
	return ap.setFieldAs(name, it.value)
}
