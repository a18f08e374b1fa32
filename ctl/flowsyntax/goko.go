package flowsyntax

// goko's extensions to the ovs-ofctl syntax (docs/openflow-extensions.md):
//
//   - the match field filter_prog=ID (an experimenter OXM): the flow
//     matches only when filter program ID returns "match" for the packet;
//   - the action send_maps(prog=ID[,map=NAME]...): send the named maps of
//     program ID (all of its maps without map=) to the controllers as
//     MAP_CONTENTS messages. "send_maps:ID" is short for
//     send_maps(prog=ID).

import (
	"errors"
	"fmt"
	"strings"

	"github.com/goko-net/goko/openflow"
)

// parseSendMaps parses "send_maps(prog=ID,map=NAME,...)" or "send_maps:ID".
func parseSendMaps(it item) (openflow.Action, error) {
	sm := &openflow.GokoSendMaps{}
	if it.delim != '(' {
		id, err := parseUint(it.value, 32)
		if err != nil {
			return nil, fmt.Errorf("want send_maps(prog=ID[,map=NAME]...) or send_maps:ID: %w", err)
		}
		sm.ProgID = uint32(id)
		return sm.Action(), nil
	}
	hasProg := false
	for _, kv := range items(it.value) {
		switch kv.key {
		case "prog":
			id, err := parseUint(kv.value, 32)
			if err != nil {
				return nil, fieldErr("prog", err)
			}
			sm.ProgID, hasProg = uint32(id), true
		case "map":
			if !validMapNames([]string{kv.value}) {
				return nil, fmt.Errorf("map: %q is not a map name (letters, digits, '_' and '.', at most 255 bytes)", kv.value)
			}
			sm.Maps = append(sm.Maps, kv.value)
		default:
			return nil, fmt.Errorf("unknown argument %q (want prog=ID and map=NAME)", kv.key)
		}
	}
	if !hasProg {
		return nil, errors.New("missing prog=ID")
	}
	if len(sm.Maps) > 0xffff {
		return nil, errors.New("too many maps")
	}
	return sm.Action(), nil
}

// validMapNames reports whether every name can be written in the
// send_maps syntax (and so parses back).
func validMapNames(names []string) bool {
	for _, n := range names {
		if n == "" || len(n) > 255 {
			return false
		}
		for _, r := range n {
			if !(r == '_' || r == '.' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z') {
				return false
			}
		}
	}
	return true
}

func formatSendMaps(sm *openflow.GokoSendMaps) string {
	var b strings.Builder
	fmt.Fprintf(&b, "send_maps(prog=%d", sm.ProgID)
	for _, m := range sm.Maps {
		b.WriteString(",map=" + m)
	}
	b.WriteByte(')')
	return b.String()
}

// foreignActions are actions of Open vSwitch's extensions and of OpenFlow
// 1.0 that goko does not have, each with what to write instead. The
// message replaces "unknown action", so that a flow copied from an OVS
// tutorial says what to do.
var foreignActions = map[string]string{
	"resubmit": "resubmit is an Open vSwitch extension (NXAST_RESUBMIT), not OpenFlow 1.3: " +
		"use goto_table:N to continue in a later table (OpenFlow tables only go forward)",
	"learn": "learn is an Open vSwitch extension (NXAST_LEARN), not OpenFlow 1.3: in OpenFlow a controller " +
		"learns, from packet-ins (actions=CONTROLLER), and adds the flows; os-ken's simple_switch_13 is such a learning switch",
	"ct": "ct is an Open vSwitch extension (NXAST_CT), not OpenFlow 1.3: goko tracks connections with its own " +
		"ct_commit(ZONE) action and ct_reply=ZONE match (docs/openflow-extensions.md)",
	"ct_clear": "ct_clear is an Open vSwitch extension, not OpenFlow 1.3: goko's connection tracking has no per-packet state to clear",
	"note": "note is an Open vSwitch extension (NXAST_NOTE), not OpenFlow 1.3: " +
		"mark flows with a cookie instead (cookie=0x..., and cookie=0x.../-1 to select them)",
	"enqueue":      "enqueue is OpenFlow 1.0: in OpenFlow 1.3 write set_queue:QUEUE,output:PORT",
	"load":         "load is an Open vSwitch extension (NXAST_REG_LOAD), not OpenFlow 1.3: use set_field:VALUE->FIELD",
	"move":         "move is an Open vSwitch extension (NXAST_REG_MOVE), not OpenFlow 1.3; OpenFlow 1.3 can only set fields to constants (set_field:VALUE->FIELD)",
	"set_tunnel":   "set_tunnel is an Open vSwitch extension, not OpenFlow 1.3: use set_field:ID->tun_id",
	"set_tunnel64": "set_tunnel64 is an Open vSwitch extension, not OpenFlow 1.3: use set_field:ID->tun_id",
	"multipath":    "multipath is an Open vSwitch extension, not OpenFlow 1.3: use a select group (add-group ... type=select) and group:N",
	"bundle":       "bundle is an Open vSwitch extension, not OpenFlow 1.3: use a select or fast-failover group and group:N",
	"bundle_load":  "bundle_load is an Open vSwitch extension, not OpenFlow 1.3: use a select or fast-failover group and group:N",
	"clone":        "clone is an Open vSwitch extension, not OpenFlow 1.3: use a group of type all (each bucket acts on a copy)",
	"conjunction":  "conjunction is an Open vSwitch extension, not OpenFlow 1.3: write one flow per combination, or use a filter program (filter_prog)",
}
