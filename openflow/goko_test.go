package openflow

import (
	"reflect"
	"testing"
)

type gokoBody interface {
	Marshal() []byte
	Unmarshal([]byte) error
}

func TestGokoBodiesRoundTrip(t *testing.T) {
	tests := []struct {
		name     string
		in, into gokoBody
	}{
		{"load", &GokoLoadFilterProgMsg{ProgID: 7, Flags: GokoLoadMore, Name: "xdp_prog", TotalLen: 9000, Offset: 4096, Data: []byte{0x7f, 'E', 'L', 'F'}}, &GokoLoadFilterProgMsg{}},
		{"load with a run budget", &GokoLoadFilterProgMsg{ProgID: 7, Name: "f", TotalLen: 4, RunBudget: 5000, Data: []byte{0x7f, 'E', 'L', 'F'}}, &GokoLoadFilterProgMsg{}},
		{"prog ref", &GokoProgRef{ProgID: 3}, &GokoProgRef{}},
		{"map ref", &GokoMapRef{ProgID: 3, Map: "counters"}, &GokoMapRef{}},
		{"update", &GokoMapUpdate{ProgID: 1, Flags: GokoMapNoExist, Map: "blocklist", Key: []byte{10, 0, 0, 1}, Value: []byte{1, 0, 0, 0, 0, 0, 0, 0, 9}}, &GokoMapUpdate{}},
		{"dump", &GokoMapDump{ProgID: 2, Map: "m", Entries: []GokoMapEntry{{Key: []byte{1}, Value: []byte{2, 3, 4, 5, 6, 7, 8, 9, 10}}, {Key: []byte{9, 9, 9, 9, 9, 9, 9, 9}, Value: []byte{}}}}, &GokoMapDump{}},
		{"progs", &GokoFilterProgList{Progs: []GokoFilterProgInfo{{ProgID: 1, Name: "f", InsnCount: 40, Runs: 10, Matches: 4, Errors: 1, RunNs: 999,
			Maps: []GokoMapInfo{{Name: "counts", Type: "hash", KeySize: 4, ValueSize: 8, MaxEntries: 1024, Entries: 3}}}}}, &GokoFilterProgList{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := tt.in.Marshal()
			if err := tt.into.Unmarshal(b); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(normalizeGoko(tt.in), normalizeGoko(tt.into)) {
				t.Fatalf("round trip\n got %+v\nwant %+v", tt.into, tt.in)
			}
			for n := 0; n < len(b); n++ {
				if err := tt.into.Unmarshal(b[:n]); err == nil && n < 8 {
					t.Fatalf("%d-byte prefix accepted", n)
				}
			}
		})
	}
}

// normalizeGoko makes empty and nil byte slices compare equal.
func normalizeGoko(b gokoBody) gokoBody {
	if d, ok := b.(*GokoMapDump); ok {
		for i := range d.Entries {
			if len(d.Entries[i].Value) == 0 {
				d.Entries[i].Value = nil
			}
		}
	}
	return b
}

func TestFilterProgOXMAndSendMaps(t *testing.T) {
	m := NewMatch(OXMInPortVal(1), OXMFilterProg(5))
	raw, err := Marshal(1, &FlowMod{Command: FlowAdd, BufferID: NoBuffer, OutPort: PortAny, OutGroup: GroupAny, Match: m,
		Instructions: []Instruction{InstApplyActions{Actions: []Action{(&GokoSendMaps{ProgID: 5, Maps: []string{"a", "counters"}}).Action()}}}})
	if err != nil {
		t.Fatal(err)
	}
	_, msg, err := Decode(raw)
	if err != nil {
		t.Fatal(err)
	}
	fm := msg.(*FlowMod)
	if id, ok := fm.Match.Fields[1].FilterProgID(); !ok || id != 5 {
		t.Fatalf("filter_prog lost: %+v", fm.Match.Fields[1])
	}
	act := fm.Instructions[0].(InstApplyActions).Actions[0].(ActionExperimenter)
	sm, err := ParseGokoSendMaps(act)
	if err != nil || sm.ProgID != 5 || !reflect.DeepEqual(sm.Maps, []string{"a", "counters"}) {
		t.Fatalf("send_maps: %+v %v", sm, err)
	}
}

func FuzzGokoBodies(f *testing.F) {
	f.Add((&GokoMapDump{ProgID: 2, Map: "m", Entries: []GokoMapEntry{{Key: []byte{1}, Value: []byte{2}}}}).Marshal())
	f.Add((&GokoFilterProgList{Progs: []GokoFilterProgInfo{{ProgID: 1, Name: "f", Maps: []GokoMapInfo{{Name: "x", Type: "array"}}}}}).Marshal())
	f.Add((&GokoMapUpdate{ProgID: 1, Map: "b", Key: []byte{1, 2}, Value: []byte{3}}).Marshal())
	f.Fuzz(func(t *testing.T, b []byte) {
		for _, body := range []gokoBody{&GokoLoadFilterProgMsg{}, &GokoProgRef{}, &GokoMapRef{}, &GokoMapUpdate{}, &GokoMapDump{}, &GokoFilterProgList{}} {
			if body.Unmarshal(b) == nil {
				again := body.Marshal()
				if err := body.Unmarshal(again); err != nil {
					t.Fatalf("%T: re-encoded body does not decode: %v", body, err)
				}
			}
		}
		ParseGokoSendMaps(ActionExperimenter{Experimenter: GokoExperimenter, Data: b})
	})
}
