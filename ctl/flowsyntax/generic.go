package flowsyntax

// The generic syntax for fields and actions that have no name.
//
// A match field or set_field destination that ofctl cannot name is written
// by its OXM class and field number, with the value (and mask) in hex, the
// way the printer shows fields it does not know:
//
//	oxm(0x1,40)=0x0a000001/0xffffff00         class 0x0001 (NXM_1), field 40
//	oxm(0xffff,exp=0x00474b4f,17)=0x00000001  an experimenter field
//	set_field:0x0a000001->oxm(0x1,40)
//
// and an experimenter action by its experimenter id and body:
//
//	experimenter(0x00474b4f,0x0100000000000001)
//
// A generic field that does have a name (oxm(0x1,31) is tun_src) is read as
// that name, so both spellings give the same flow; a basic OpenFlow 1.3
// field (class 0x8000) must be written by name, and that class has no other
// fields. Bits a mask wildcards are cleared in the value. Everything the printer
// writes parses back to the same flow.

import (
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/goko-net/goko/openflow"
)

// parseOXMName parses "oxm(CLASS,FIELD)" or "oxm(0xffff,exp=EXPERIMENTER,FIELD)".
func parseOXMName(name string) (openflow.Field, uint32, error) {
	args, ok1 := strings.CutPrefix(name, "oxm(")
	args, ok2 := strings.CutSuffix(args, ")")
	if !ok1 || !ok2 {
		return 0, 0, fmt.Errorf("%s: want oxm(CLASS,FIELD) or oxm(0xffff,exp=ID,FIELD)", name)
	}
	parts := strings.Split(args, ",")
	class, err := parseUint(strings.TrimSpace(parts[0]), 16)
	if err != nil {
		return 0, 0, fmt.Errorf("%s: class: %w", name, err)
	}
	var exp uint64
	if openflow.OXMClass(class) == openflow.OXMClassExperimenter {
		if len(parts) != 3 || !strings.HasPrefix(strings.TrimSpace(parts[1]), "exp=") {
			return 0, 0, fmt.Errorf("%s: an experimenter field is oxm(0xffff,exp=ID,FIELD)", name)
		}
		if exp, err = parseUint(strings.TrimPrefix(strings.TrimSpace(parts[1]), "exp="), 32); err != nil {
			return 0, 0, fmt.Errorf("%s: experimenter: %w", name, err)
		}
		parts = parts[1:]
	} else if len(parts) != 2 {
		return 0, 0, fmt.Errorf("%s: want oxm(CLASS,FIELD)", name)
	}
	num, err := parseUint(strings.TrimSpace(parts[1]), 7)
	if err != nil {
		return 0, 0, fmt.Errorf("%s: field: %w", name, err)
	}
	return openflow.MakeField(openflow.OXMClass(class), uint8(num)), uint32(exp), nil
}

// parseHex parses "0xHEX" (an even number of digits, possibly none).
func parseHex(s string) ([]byte, error) {
	h, ok := strings.CutPrefix(s, "0x")
	if !ok {
		return nil, fmt.Errorf("%q: want 0x and hex bytes", s)
	}
	b, err := hex.DecodeString(h)
	if err != nil {
		return nil, fmt.Errorf("%q: want 0x and an even number of hex digits", s)
	}
	if len(b) == 0 {
		return nil, nil // as the decoder leaves an empty body
	}
	return b, nil
}

// genericOXM parses a generic field: its name and "0xVALUE[/0xMASK]".
func genericOXM(name, value string, masked bool) (openflow.OXM, error) {
	f, exp, err := parseOXMName(name)
	if err != nil {
		return openflow.OXM{}, err
	}
	if f.Class() == openflow.OXMClassOpenFlowBasic {
		if f.Known() {
			return openflow.OXM{}, fmt.Errorf("%s is the OpenFlow 1.3 field %s: write it by name", name, f)
		}
		return openflow.OXM{}, fmt.Errorf("%s: OpenFlow 1.3 defines no such field", name)
	}
	vs, ms, hasMask := strings.Cut(value, "/")
	if hasMask && !masked {
		return openflow.OXM{}, fmt.Errorf("%s: set_field takes no mask", name)
	}
	o := openflow.OXM{Field: f, Experimenter: exp}
	if o.Value, err = parseHex(vs); err != nil {
		return o, fmt.Errorf("%s: %w", name, err)
	}
	if hasMask {
		if o.Mask, err = parseHex(ms); err != nil {
			return o, fmt.Errorf("%s: mask: %w", name, err)
		}
		if len(o.Mask) != len(o.Value) {
			return o, fmt.Errorf("%s: the mask must be as long as the value", name)
		}
		for i := range o.Value {
			o.Value[i] &= o.Mask[i] // as for named fields: wildcarded bits are zero
		}
	}
	// oxm_length is one byte: value, mask and an experimenter id must fit.
	n := len(o.Value) + len(o.Mask)
	if f.Class() == openflow.OXMClassExperimenter {
		n += 4
	}
	if len(o.Value) == 0 || n > 255 {
		return o, fmt.Errorf("%s: the value must be 1 to 255 bytes with its mask", name)
	}
	return o, nil
}

// namedForm returns the name and value text of a generic field that has a
// name in this syntax, so that it is parsed exactly as if written by name.
func namedForm(o *openflow.OXM) (name, value string, ok bool) {
	switch {
	case (o.Field == openflow.OXMTunIPv4Src || o.Field == openflow.OXMTunIPv4Dst) && len(o.Value) == 4:
		name = "tun_src"
		if o.Field == openflow.OXMTunIPv4Dst {
			name = "tun_dst"
		}
		return name, formatIPv4Masked(o.Value, o.Mask), true
	}
	if id, isProg := o.FilterProgID(); isProg {
		return "filter_prog", strconv.FormatUint(uint64(id), 10), true
	}
	if zone, isCT := openflow.CTReplyZone(o); isCT {
		return "ct_reply", strconv.FormatUint(uint64(zone), 10), true
	}
	return "", "", false
}

// addGeneric adds a field written as oxm(...)=VALUE.
func (mb *matchBuilder) addGeneric(name, value string) error {
	o, err := genericOXM(name, value, true)
	if err != nil {
		return err
	}
	if n, v, ok := namedForm(&o); ok {
		_, err := mb.add(n, v)
		return err
	}
	for _, r := range mb.raw {
		if r.Field == o.Field && r.Experimenter == o.Experimenter {
			return fmt.Errorf("%s given twice", name)
		}
	}
	mb.raw = append(mb.raw, o)
	return nil
}

// oxmName is the generic name of a field, as parseOXMName reads it.
func oxmName(o *openflow.OXM) string {
	if o.Field.Class() == openflow.OXMClassExperimenter {
		return fmt.Sprintf("oxm(0xffff,exp=0x%08x,%d)", o.Experimenter, o.Field.Num())
	}
	return fmt.Sprintf("oxm(0x%x,%d)", uint16(o.Field.Class()), o.Field.Num())
}

// parseExperimenterAction parses "experimenter(0xID,0xBODY)". The body
// follows the 8-byte action header, so it is a multiple of 8 bytes.
func parseExperimenterAction(it item) (openflow.Action, error) {
	id, body, ok := strings.Cut(it.value, ",")
	if it.delim != '(' || !ok {
		return nil, errors.New("want experimenter(0xID,0xBODY)")
	}
	exp, err := parseUint(strings.TrimSpace(id), 32)
	if err != nil {
		return nil, fmt.Errorf("experimenter id: %w", err)
	}
	data, err := parseHex(strings.TrimSpace(body))
	if err != nil {
		return nil, err
	}
	if len(data)%8 != 0 || len(data) > 0xffff-16 {
		return nil, fmt.Errorf("the body is %d bytes; an action is a multiple of 8 bytes, so the body must be too", len(data))
	}
	return openflow.ActionExperimenter{Experimenter: uint32(exp), Data: data}, nil
}

// parseCTCommit parses goko's "ct_commit(ZONE)" (or "ct_commit:ZONE").
func parseCTCommit(it item) (openflow.Action, error) {
	zone, err := parseUint(it.value, 32)
	if err != nil {
		return nil, fmt.Errorf("want ct_commit(ZONE): %w", err)
	}
	return openflow.GokoCTCommit(uint32(zone)), nil
}
