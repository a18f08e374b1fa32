package flowsyntax

import (
	"reflect"
	"testing"

	"github.com/goko-net/goko/openflow"
)

// FuzzParseFlow checks the package invariants on arbitrary input: parsing
// never panics; a flow that parses encodes, decodes to the same FlowMod,
// and prints to a string that parses back to it. It runs the delete and
// dump-flows parsers on the same input too. Seeds: the round-trip table
// and testdata/fuzz/FuzzParseFlow.
func FuzzParseFlow(f *testing.F) {
	for _, tc := range roundTrips {
		f.Add(tc.in)
	}
	for _, tc := range parseErrors {
		f.Add(tc.in)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for _, cmd := range []openflow.FlowModCommand{openflow.FlowAdd, openflow.FlowDeleteStrict} {
			fm, err := ParseFlowMod(s, cmd, nil)
			if err != nil {
				continue
			}
			b, err := openflow.Marshal(1, fm)
			if err != nil {
				t.Fatalf("%q parses but does not encode: %v\n%+v", s, err, fm)
			}
			_, m, err := openflow.Decode(b)
			if err != nil {
				t.Fatalf("%q parses but its encoding does not decode: %v\n%+v", s, err, fm)
			}
			if !reflect.DeepEqual(m, fm) {
				t.Fatalf("%q: decoded FlowMod differs:\n got %+v\nwant %+v", s, m, fm)
			}
			printed := FormatFlowMod(fm)
			fm2, err := ParseFlowMod(printed, cmd, nil)
			if err != nil {
				t.Fatalf("%q prints as %q, which does not parse: %v", s, printed, err)
			}
			if !reflect.DeepEqual(fm, fm2) {
				t.Fatalf("%q prints as %q, which parses differently:\n got %+v\nwant %+v", s, printed, fm2, fm)
			}
		}
		if r, err := ParseFlowStatsRequest(s, nil); err == nil {
			if _, err := openflow.Marshal(1, &openflow.MultipartRequest{Body: r}); err != nil {
				t.Fatalf("%q: flow stats request does not encode: %v", s, err)
			}
		}
	})
}
