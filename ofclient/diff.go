package ofclient

// The "fewest changes" flow diff, shared by ofctl's replace-flows and
// netctl (its sync and its agent).
//
// A flow is identified as OpenFlow identifies it for a strict modify or
// delete: by table, priority and match. Two matches are the same when they
// hold the same fields with the same values under the same masks, in any
// order: Key canonicalises the match (fields sorted, a mask of all ones
// dropped, value bits outside the mask cleared) before encoding it, so a
// switch that returns the fields in another order, or a file that spells
// an exact match as a full mask, causes no churn. The rest of a flow
// (cookie, timeouts, flags, instructions) decides whether an existing flow
// must be replaced; instructions compare by their wire encoding.

import (
	"encoding/binary"
	"sort"

	"github.com/goko-net/goko/openflow"
)

// Flow is one flow as the diff sees it.
type Flow struct {
	Table        uint8
	Priority     uint16
	Match        openflow.Match
	Cookie       uint64
	IdleTimeout  uint16
	HardTimeout  uint16
	Flags        openflow.FlowModFlags
	Instructions []openflow.Instruction
}

// FlowFromStats is the flow a FLOW_STATS reply describes.
func FlowFromStats(fs *openflow.FlowStats) Flow {
	return Flow{Table: fs.TableID, Priority: fs.Priority, Match: fs.Match, Cookie: fs.Cookie,
		IdleTimeout: fs.IdleTimeout, HardTimeout: fs.HardTimeout, Flags: fs.Flags, Instructions: fs.Instructions}
}

// FlowFromMod is the flow an OFPFC_ADD flow mod installs.
func FlowFromMod(fm *openflow.FlowMod) Flow {
	return Flow{Table: fm.TableID, Priority: fm.Priority, Match: fm.Match, Cookie: fm.Cookie,
		IdleTimeout: fm.IdleTimeout, HardTimeout: fm.HardTimeout, Flags: fm.Flags, Instructions: fm.Instructions}
}

// Key identifies the flow on a switch: table, priority and canonical match.
func (f *Flow) Key() string {
	var b []byte
	b = append(b, f.Table)
	b = binary.BigEndian.AppendUint16(b, f.Priority)
	return string(b) + MatchKey(f.Match)
}

// MatchKey is a canonical encoding of m: equal for matches that match the
// same packets field by field, whatever the order of their fields.
func MatchKey(m openflow.Match) string {
	fields := make([]openflow.OXM, len(m.Fields))
	for i, o := range m.Fields {
		o.Value = append([]byte(nil), o.Value...)
		if o.Mask != nil {
			full := len(o.Mask) == len(o.Value)
			for j, mb := range o.Mask {
				if mb != 0xff {
					full = false
				}
				if j < len(o.Value) {
					o.Value[j] &= mb
				}
			}
			if full {
				o.Mask = nil
			}
		}
		fields[i] = o
	}
	sort.SliceStable(fields, func(i, j int) bool {
		a, b := fields[i], fields[j]
		if a.Field != b.Field {
			return a.Field < b.Field
		}
		return a.Experimenter < b.Experimenter
	})
	b, _ := openflow.Marshal(0, &openflow.FlowMod{Match: openflow.Match{Fields: fields}})
	return string(b)
}

// InstructionsKey is a comparable encoding of instructions: equal for
// instructions that do the same. An output's max_len counts only for
// output to the controller (OF1.3.5 section 7.2.6.1), so it is dropped for
// every other port: ovs-ofctl's "output:2" carries 0, a controller may
// send 0xffff.
func InstructionsKey(ins []openflow.Instruction) string {
	canon := make([]openflow.Instruction, len(ins))
	for i, in := range ins {
		switch in := in.(type) {
		case openflow.InstApplyActions:
			canon[i] = openflow.InstApplyActions{Actions: canonicalActions(in.Actions)}
		case openflow.InstWriteActions:
			canon[i] = openflow.InstWriteActions{Actions: canonicalActions(in.Actions)}
		default:
			canon[i] = in
		}
	}
	b, _ := openflow.Marshal(0, &openflow.FlowMod{Instructions: canon})
	return string(b)
}

func canonicalActions(acts []openflow.Action) []openflow.Action {
	out := make([]openflow.Action, len(acts))
	for i, a := range acts {
		if o, ok := a.(openflow.ActionOutput); ok && o.Port != openflow.PortController {
			o.MaxLen = 0
			a = o
		}
		out[i] = a
	}
	return out
}

// Same reports whether f and o, two versions of one flow (same Key), need
// no change to turn one into the other.
func (f *Flow) Same(o *Flow) bool {
	return f.Cookie == o.Cookie && f.IdleTimeout == o.IdleTimeout && f.HardTimeout == o.HardTimeout &&
		f.Flags == o.Flags && InstructionsKey(f.Instructions) == InstructionsKey(o.Instructions)
}

// Changes is what turns a switch's flows into the wanted ones: delete
// Have[i] for each i in Delete (strictly, by table, priority and match),
// then add Want[j] for each j in Add (an add replaces a flow of the same
// key).
type Changes struct {
	Delete []int // indexes into have, in have's order
	Add    []int // indexes into want, in want's order
	Same   int   // wanted flows already right
}

// Empty reports whether there is nothing to do.
func (c Changes) Empty() bool { return len(c.Delete) == 0 && len(c.Add) == 0 }

// Diff computes the fewest flow mods that turn have into want. A key that
// occurs more than once in want counts once, at its first position, with
// the value of its last occurrence (as adding them in order would leave
// it); Add holds the index of that last occurrence. With readd, every
// wanted flow is added even if the switch has it already.
func Diff(have, want []Flow, readd bool) Changes {
	var ch Changes
	wantAt := make(map[string]int, len(want)) // key -> index of its last version
	var order []string
	for j := range want {
		k := want[j].Key()
		if _, ok := wantAt[k]; !ok {
			order = append(order, k)
		}
		wantAt[k] = j
	}
	haveAt := make(map[string]int, len(have))
	for i := range have {
		k := have[i].Key()
		if _, dup := haveAt[k]; dup {
			continue // a switch holds one flow per key; keep the first
		}
		haveAt[k] = i
		if _, ok := wantAt[k]; !ok {
			ch.Delete = append(ch.Delete, i)
		}
	}
	for _, k := range order {
		j := wantAt[k]
		if i, ok := haveAt[k]; ok && !readd && have[i].Same(&want[j]) {
			ch.Same++
			continue
		}
		ch.Add = append(ch.Add, j)
	}
	return ch
}

// AddMod is the flow mod that installs f.
func (f *Flow) AddMod() *openflow.FlowMod {
	return &openflow.FlowMod{Cookie: f.Cookie, TableID: f.Table, Command: openflow.FlowAdd,
		IdleTimeout: f.IdleTimeout, HardTimeout: f.HardTimeout, Priority: f.Priority, BufferID: openflow.NoBuffer,
		OutPort: openflow.PortAny, OutGroup: openflow.GroupAny, Flags: f.Flags, Match: f.Match, Instructions: f.Instructions}
}

// DeleteMod is the strict delete of f (by table, priority and match; the
// timeouts are carried as ovs-ofctl carries them, and ignored).
func (f *Flow) DeleteMod() *openflow.FlowMod {
	return &openflow.FlowMod{TableID: f.Table, Command: openflow.FlowDeleteStrict, IdleTimeout: f.IdleTimeout,
		HardTimeout: f.HardTimeout, Priority: f.Priority, BufferID: openflow.NoBuffer, OutPort: openflow.PortAny,
		OutGroup: openflow.GroupAny, Match: f.Match}
}
