package openflow

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

func TestGokoDiagCodecs(t *testing.T) {
	req := &GokoTraceRequest{InPort: 7, Packet: []byte{1, 2, 3}}
	var back GokoTraceRequest
	if err := back.Unmarshal(req.Marshal()); err != nil || !reflect.DeepEqual(&back, req) {
		t.Fatalf("trace request: %+v, %v", back, err)
	}
	if err := back.Unmarshal([]byte{0, 0}); err == nil {
		t.Error("truncated trace request decoded")
	}
	fs := []FlowStats{{TableID: 3, Priority: 10, Cookie: 5, Match: NewMatch(OXMInPortVal(1)),
		Instructions: []Instruction{InstApplyActions{Actions: []Action{ActionOutput{Port: 2}}}, InstGotoTable{TableID: 4}}}}
	b, err := MarshalFlowStats(fs)
	if err != nil {
		t.Fatal(err)
	}
	got, err := UnmarshalFlowStats(b)
	if err != nil || !reflect.DeepEqual(got, fs) {
		t.Fatalf("flow stats: %+v, %v", got, err)
	}
	acts := []Action{ActionOutput{Port: 3, MaxLen: 0xffff}, ActionPopVLAN{}, GokoCTCommit(9)}
	ab, err := MarshalActions(acts)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := UnmarshalActions(ab); err != nil || !reflect.DeepEqual(got, acts) {
		t.Fatalf("actions: %+v, %v", got, err)
	}
	// A large document is split, and the parts join back into it.
	big := make([]GokoMegaflow, 3000)
	for i := range big {
		big[i].Key = strings.Repeat("k", 30)
	}
	parts, err := GokoJSONParts(big)
	if err != nil || len(parts) < 2 {
		t.Fatalf("%d parts, %v", len(parts), err)
	}
	var joined []byte
	for _, p := range parts {
		if len(p) > 60000 {
			t.Fatalf("part of %d bytes", len(p))
		}
		joined = append(joined, p...)
	}
	var round []GokoMegaflow
	if err := json.Unmarshal(joined, &round); err != nil || len(round) != len(big) {
		t.Fatalf("joined: %d, %v", len(round), err)
	}
}
