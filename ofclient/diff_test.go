package ofclient

import (
	"net/netip"
	"reflect"
	"testing"

	"github.com/goko-net/goko/openflow"
)

func out(p uint32) []openflow.Instruction {
	return []openflow.Instruction{openflow.InstApplyActions{Actions: []openflow.Action{openflow.ActionOutput{Port: p}}}}
}

func TestMatchKeyCanonical(t *testing.T) {
	ip := openflow.OXMEthTypeVal(0x0800)
	src := openflow.OXMAddrVal(openflow.OXMIPv4Src, netip.MustParsePrefix("10.0.0.0/8"))
	full := openflow.OXM{Field: openflow.OXMIPv4Dst, Value: []byte{10, 1, 2, 3}, Mask: []byte{255, 255, 255, 255}}
	exact := openflow.OXM{Field: openflow.OXMIPv4Dst, Value: []byte{10, 1, 2, 3}}
	dirty := openflow.OXM{Field: openflow.OXMIPv4Dst, Value: []byte{10, 1, 2, 3}, Mask: []byte{255, 255, 0, 0}}
	clean := openflow.OXM{Field: openflow.OXMIPv4Dst, Value: []byte{10, 1, 0, 0}, Mask: []byte{255, 255, 0, 0}}
	tests := []struct {
		name string
		a, b openflow.Match
		same bool
	}{
		{"order", openflow.NewMatch(ip, src), openflow.NewMatch(src, ip), true},
		{"full mask", openflow.NewMatch(ip, full), openflow.NewMatch(ip, exact), true},
		{"bits outside the mask", openflow.NewMatch(ip, dirty), openflow.NewMatch(ip, clean), true},
		{"different value", openflow.NewMatch(ip, exact), openflow.NewMatch(ip, clean), false},
		{"missing field", openflow.NewMatch(ip, src), openflow.NewMatch(ip), false},
	}
	for _, tc := range tests {
		if got := MatchKey(tc.a) == MatchKey(tc.b); got != tc.same {
			t.Errorf("%s: same=%v, want %v", tc.name, got, tc.same)
		}
	}
	// Canonicalising must not touch the caller's match.
	m := openflow.NewMatch(src, dirty)
	MatchKey(m)
	if m.Fields[0].Field != openflow.OXMIPv4Src || m.Fields[1].Value[2] != 2 {
		t.Errorf("MatchKey changed its argument: %+v", m)
	}
}

func TestDiff(t *testing.T) {
	f := func(prio uint16, port uint32, cookie uint64) Flow {
		return Flow{Priority: prio, Match: openflow.NewMatch(openflow.OXMInPortVal(uint32(prio))), Cookie: cookie, Instructions: out(port)}
	}
	tests := []struct {
		name       string
		have, want []Flow
		readd      bool
		del, add   []int
		same       int
	}{
		{"empty", nil, nil, false, nil, nil, 0},
		{"same", []Flow{f(1, 1, 0), f(2, 2, 0)}, []Flow{f(2, 2, 0), f(1, 1, 0)}, false, nil, nil, 2},
		{"readd", []Flow{f(1, 1, 0)}, []Flow{f(1, 1, 0)}, true, nil, []int{0}, 0},
		{"add and delete", []Flow{f(1, 1, 0), f(2, 2, 0)}, []Flow{f(2, 2, 0), f(3, 3, 0)}, false, []int{0}, []int{1}, 1},
		{"changed actions", []Flow{f(1, 1, 0)}, []Flow{f(1, 9, 0)}, false, nil, []int{0}, 0},
		{"changed cookie", []Flow{f(1, 1, 0)}, []Flow{f(1, 1, 7)}, false, nil, []int{0}, 0},
		{"last version wins", []Flow{f(1, 1, 0)}, []Flow{f(1, 5, 0), f(2, 2, 0), f(1, 1, 0)}, false, nil, []int{1}, 1},
		{"duplicate on the switch", []Flow{f(1, 1, 0), f(1, 1, 0)}, []Flow{f(1, 1, 0)}, false, nil, nil, 1},
	}
	for _, tc := range tests {
		ch := Diff(tc.have, tc.want, tc.readd)
		if !reflect.DeepEqual(ch.Delete, tc.del) || !reflect.DeepEqual(ch.Add, tc.add) || ch.Same != tc.same {
			t.Errorf("%s: got delete %v add %v same %d, want %v %v %d", tc.name, ch.Delete, ch.Add, ch.Same, tc.del, tc.add, tc.same)
		}
		if ch.Empty() != (len(tc.del) == 0 && len(tc.add) == 0) {
			t.Errorf("%s: Empty() = %v", tc.name, ch.Empty())
		}
	}
}

func TestInstructionsKeyMaxLen(t *testing.T) {
	apply := func(a openflow.ActionOutput) []openflow.Instruction {
		return []openflow.Instruction{openflow.InstApplyActions{Actions: []openflow.Action{a}}}
	}
	if InstructionsKey(apply(openflow.ActionOutput{Port: 2})) != InstructionsKey(apply(openflow.ActionOutput{Port: 2, MaxLen: 0xffff})) {
		t.Error("max_len of an output to a port makes a difference")
	}
	if InstructionsKey(apply(openflow.ActionOutput{Port: openflow.PortController})) ==
		InstructionsKey(apply(openflow.ActionOutput{Port: openflow.PortController, MaxLen: 0xffff})) {
		t.Error("max_len of an output to the controller makes no difference")
	}
}
