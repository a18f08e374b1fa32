package flowsyntax

import (
	"errors"
	"fmt"
	"strings"

	"github.com/goko-net/goko/openflow"
)

// Options changes how flow strings are parsed. The zero value (or a nil
// *Options) is fine.
type Options struct {
	// PortNames maps port names to port numbers, so that flows can say
	// "in_port=veth0" or "actions=output:veth0". Reserved names (LOCAL,
	// CONTROLLER, ...) are always known.
	PortNames map[string]uint32
}

func (o *Options) names() map[string]uint32 {
	if o == nil {
		return nil
	}
	return o.PortNames
}

// Error is a flow string that does not parse. Its message names the flow
// and the offending field, e.g.
//
//	bad flow "in_port=1,nw_dst=10.0.0/33": nw_dst: prefix length 33 out of range
type Error struct {
	Flow string // the whole flow string
	Err  error  // what is wrong, starting with the offending keyword
}

func (e *Error) Error() string { return fmt.Sprintf("bad flow %q: %v", e.Flow, e.Err) }

// Unwrap returns the underlying error (e.g. an *UnknownPortError).
func (e *Error) Unwrap() error { return e.Err }

// What each command accepts besides match fields, as in ovs-ofctl's
// parse_ofp_str__.
type keywords uint8

const (
	kwActions keywords = 1 << iota
	kwTimeout
	kwPriority
	kwFlags
	kwOutPort
)

// cmdStats stands for a flow-stats request (dump-flows): a match with
// table, cookie/mask, out_port and out_group.
const cmdStats = -1

func keywordsFor(cmd int) keywords {
	switch cmd {
	case int(openflow.FlowAdd), int(openflow.FlowModify), int(openflow.FlowModifyStrict):
		return kwActions | kwTimeout | kwPriority | kwFlags
	case int(openflow.FlowDeleteStrict):
		return kwOutPort | kwPriority
	}
	return kwOutPort // delete, stats
}

var flagNames = []struct {
	name string
	flag openflow.FlowModFlags
}{
	{"send_flow_rem", openflow.FlowFlagSendFlowRem},
	{"check_overlap", openflow.FlowFlagCheckOverlap},
	{"reset_counts", openflow.FlowFlagResetCounts},
	{"no_packet_counts", openflow.FlowFlagNoPktCounts},
	{"no_byte_counts", openflow.FlowFlagNoBytCounts},
}

// ParseFlow parses an add-flow string such as
// "priority=10,ip,nw_dst=10.0.0.0/24 actions=output:2" into an OFPFC_ADD
// FlowMod. It is ParseFlowMod(s, openflow.FlowAdd, nil).
func ParseFlow(s string) (*openflow.FlowMod, error) {
	return ParseFlowMod(s, openflow.FlowAdd, nil)
}

// ParseFlowMod parses a flow string for a FLOW_MOD with command cmd, with
// ovs-ofctl's rules for what each command accepts:
//
//   - add, modify, modify-strict: match, table, priority, cookie,
//     idle_timeout, hard_timeout, flags (send_flow_rem, check_overlap,
//     reset_counts, no_packet_counts, no_byte_counts), and actions=...
//     (required, last).
//   - delete: match, table, cookie=V/MASK, out_port, out_group.
//   - delete-strict: as delete, plus priority.
//
// Defaults are ovs-ofctl's: priority 32768, table 0 for add and modify,
// all tables (255) for delete, no buffer, out_port and out_group ANY.
// dump-flows output keywords (duration, n_packets, n_bytes, idle_age,
// hard_age) are ignored, so a line of dump-flows output can be fed back.
// Errors are *Error.
func ParseFlowMod(s string, cmd openflow.FlowModCommand, opts *Options) (*openflow.FlowMod, error) {
	fm, err := parse(s, int(cmd), opts)
	if err != nil {
		return nil, &Error{Flow: s, Err: err}
	}
	return fm, nil
}

// ParseFlowStatsRequest parses a dump-flows filter: match fields, table,
// cookie=V/MASK, out_port and out_group. An empty string matches every
// flow in every table. Errors are *Error.
func ParseFlowStatsRequest(s string, opts *Options) (*openflow.FlowStatsRequest, error) {
	fm, err := parse(s, cmdStats, opts)
	if err != nil {
		return nil, &Error{Flow: s, Err: err}
	}
	return &openflow.FlowStatsRequest{TableID: fm.TableID, OutPort: fm.OutPort, OutGroup: fm.OutGroup,
		Cookie: fm.Cookie, CookieMask: fm.CookieMask, Match: fm.Match}, nil
}

// ParseMatch parses a string of match fields only ("tcp,tp_dst=80").
func ParseMatch(s string, opts *Options) (openflow.Match, error) {
	mb := matchBuilder{names: opts.names()}
	for _, it := range items(s) {
		known, err := mb.add(it.key, it.value)
		if err != nil {
			return openflow.Match{}, &Error{Flow: s, Err: err}
		}
		if !known {
			return openflow.Match{}, &Error{Flow: s, Err: fmt.Errorf("unknown field %s", it.key)}
		}
	}
	m, err := mb.build()
	if err != nil {
		return openflow.Match{}, &Error{Flow: s, Err: err}
	}
	return m, nil
}

func parse(s string, cmd int, opts *Options) (*openflow.FlowMod, error) {
	kw := keywordsFor(cmd)
	fm := &openflow.FlowMod{Priority: openflow.DefaultPriority, BufferID: openflow.NoBuffer,
		OutPort: openflow.PortAny, OutGroup: openflow.GroupAny, TableID: openflow.TableAll}
	if cmd >= 0 {
		fm.Command = openflow.FlowModCommand(cmd)
	}
	matchStr, actStr := s, ""
	if kw&kwActions != 0 {
		// Like ovs-ofctl: everything after the first "action...=" is
		// the action list.
		i := strings.Index(s, "action")
		if i < 0 {
			return nil, errors.New("must specify an action")
		}
		eq := strings.IndexByte(s[i:], '=')
		if eq < 0 {
			return nil, errors.New("must specify an action")
		}
		matchStr, actStr = s[:i], s[i+eq+1:]
	}
	mb := &matchBuilder{names: opts.names()}
	var cookie, cookieMask, newCookie uint64
	for _, it := range items(matchStr) {
		name, value := it.key, it.value
		known, err := mb.add(name, value)
		if err != nil {
			return nil, err
		}
		if known {
			continue
		}
		if f, ok := flagByName(name); ok {
			if kw&kwFlags == 0 {
				return nil, fmt.Errorf("%s is only valid when adding or modifying flows", name)
			}
			fm.Flags |= f
			continue
		}
		switch name {
		case "no_readonly_table", "allow_hidden_fields":
			continue // accepted and ignored by ovs-ofctl too
		}
		if value == "" {
			return nil, fmt.Errorf("field %s missing value", name)
		}
		var v uint64
		switch {
		case name == "table":
			if v, err = parseUint(value, 8); err == nil {
				fm.TableID = uint8(v)
			}
		case name == "priority" && kw&kwPriority != 0:
			if v, err = parseUint(value, 16); err == nil {
				fm.Priority = uint16(v)
			}
		case name == "priority":
			err = errors.New("priority is only meaningful with --strict (or when adding flows)")
		case (name == "idle_timeout" || name == "hard_timeout") && kw&kwTimeout != 0:
			if v, err = parseUint(value, 16); err == nil {
				if name == "idle_timeout" {
					fm.IdleTimeout = uint16(v)
				} else {
					fm.HardTimeout = uint16(v)
				}
			}
		case name == "out_port" && kw&kwOutPort != 0:
			fm.OutPort, err = parsePort(value, opts.names())
		case name == "out_group" && kw&kwOutPort != 0:
			switch strings.ToLower(value) {
			case "any":
				fm.OutGroup = openflow.GroupAny
			case "all":
				fm.OutGroup = openflow.GroupAll
			default:
				if v, err = parseUint(value, 32); err == nil {
					fm.OutGroup = uint32(v)
				}
			}
		case name == "cookie":
			vs, ms, masked := strings.Cut(value, "/")
			if masked {
				if cmd == int(openflow.FlowAdd) {
					return nil, errors.New("flow additions cannot use a cookie mask")
				}
				if cookie, err = parseUint(vs, 64); err == nil {
					cookieMask, err = parseUint(ms, 64)
				}
			} else {
				if cmd != int(openflow.FlowAdd) && cmd != int(openflow.FlowModify) && cmd != int(openflow.FlowModifyStrict) {
					return nil, errors.New("cannot set cookie (to select flows by cookie, use cookie=VALUE/MASK)")
				}
				newCookie, err = parseUint(value, 64)
			}
		case name == "duration", name == "n_packets", name == "n_bytes", name == "idle_age", name == "hard_age":
			// dump-flows output: ignored so that it can be fed back.
		case name == "importance":
			err = errors.New("importance needs OpenFlow 1.4")
		default:
			return nil, fmt.Errorf("unknown keyword %s", name)
		}
		if err != nil {
			return nil, fieldErr(name, err)
		}
	}
	m, err := mb.build()
	if err != nil {
		return nil, err
	}
	fm.Match = m

	// Cookies as ovs-ofctl encodes them for OpenFlow 1.3: an add sets the
	// new cookie; everything else selects flows by cookie/mask.
	if cmd == int(openflow.FlowAdd) {
		fm.Cookie = newCookie
	} else {
		fm.Cookie, fm.CookieMask = cookie&cookieMask, cookieMask
	}
	// Table 255 means "all tables" only for delete and dump; ovs-ofctl
	// sends table 0 for an add or modify that names no table.
	if fm.TableID == openflow.TableAll && (cmd == int(openflow.FlowAdd) || cmd == int(openflow.FlowModify) || cmd == int(openflow.FlowModifyStrict)) {
		fm.TableID = 0
	}
	if kw&kwActions != 0 {
		ap := &actionParser{names: opts.names()}
		if v := m.Field(openflow.OXMVlanVID); v != nil && v.Uint16()&openflow.VIDPresent != 0 {
			ap.hasVLAN = true
		}
		if s := mb.slots[slotEthType]; s != nil {
			ap.c.ethType, ap.c.hasEth = uint16(s.u), true
		}
		if s := mb.slots[slotProto]; s != nil && ap.c.isIP() {
			ap.c.proto, ap.c.hasProto = uint8(s.u), true
		}
		insts, err := ap.parseInstructions(actStr)
		if err != nil {
			return nil, fieldErr("actions", err)
		}
		fm.Instructions = insts
	}
	return fm, nil
}

func flagByName(name string) (openflow.FlowModFlags, bool) {
	for _, f := range flagNames {
		if f.name == name {
			return f.flag, true
		}
	}
	return 0, false
}

// ParseActions parses an action list such as "output:1,set_field:5->vlan_vid"
// (actions only, no instructions; "drop" or "" is the empty list), as
// packet-out takes it.
func ParseActions(s string, opts *Options) ([]openflow.Action, error) {
	ap := &actionParser{names: opts.names()}
	acts, err := ap.parseActionList(s)
	if err != nil {
		return nil, &Error{Flow: s, Err: fieldErr("actions", err)}
	}
	return acts, nil
}
