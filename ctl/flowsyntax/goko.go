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
