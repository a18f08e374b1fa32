package ofproto

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/goko-net/goko/openflow"
)

// traceReq sends a trace request over the connection and decodes the
// JSON reply.
func (ts *testSwitch) trace(inPort uint32, pkt []byte) (*openflow.GokoTrace, *openflow.ErrorMsg) {
	ts.t.Helper()
	req := openflow.GokoTraceRequest{InPort: inPort, Packet: pkt}
	var doc []byte
	for _, r := range ts.request(&openflow.MultipartRequest{Body: &openflow.MultipartExperimenterBody{
		Experimenter: openflow.GokoExperimenter, ExpType: openflow.GokoMPTrace, Data: req.Marshal()}}) {
		switch r := r.(type) {
		case *openflow.ErrorMsg:
			return nil, r
		case *openflow.MultipartReply:
			doc = append(doc, r.Body.(*openflow.MultipartExperimenterBody).Data...)
		}
	}
	var tr openflow.GokoTrace
	if err := json.Unmarshal(doc, &tr); err != nil {
		ts.t.Fatalf("trace reply: %v\n%s", err, doc)
	}
	return &tr, nil
}

func kindsOf(tr *openflow.GokoTrace) string {
	var k []string
	for _, e := range tr.Events {
		k = append(k, e.Kind)
	}
	return strings.Join(k, " ")
}

// TestTrace: a packet through two tables, a filter that says no (so a
// lower-priority flow matches), a group with two buckets; the trace shows
// each step and the megaflow, and installs nothing.
func TestTrace(t *testing.T) {
	ts := newTestSwitch(t, 3)
	if r := ts.loadProg(1, compileFilter(t, "port53"), 1<<20); r.(*openflow.Experimenter).ExpType != openflow.GokoFilterProgLoaded {
		t.Fatalf("load: %+v", r)
	}
	ts.mustGroup(groupAdd(7, openflow.GroupTypeAll, bucket(out(2)), bucket(out(3))))
	ts.mustFlow(addFlow(10, openflow.NewMatch(openflow.OXMInPortVal(1)), ins(apply(), openflow.InstGotoTable{TableID: 1})))
	udp := openflow.NewMatch(openflow.OXMEthTypeVal(0x0800), openflow.OXMIPProtoVal(17))
	ts.mustFlow(&openflow.FlowMod{Command: openflow.FlowAdd, TableID: 1, Priority: 20, BufferID: openflow.NoBuffer,
		OutPort: openflow.PortAny, OutGroup: openflow.GroupAny,
		Match:        openflow.NewMatch(append(udp.Fields, openflow.OXMFilterProg(1))...),
		Instructions: output(3)})
	ts.mustFlow(&openflow.FlowMod{Command: openflow.FlowAdd, TableID: 1, Priority: 10, BufferID: openflow.NoBuffer,
		OutPort: openflow.PortAny, OutGroup: openflow.GroupAny, Match: udp, Instructions: toGroup(7)})

	tr, e := ts.trace(1, udpTo(80)) // not port 53: the filter says no
	if e != nil {
		t.Fatalf("trace: %v", e.Code)
	}
	if got, want := kindsOf(tr), "table rule table filter rule action group? bucket action datapath bucket action datapath datapath"; !matchKinds(got, want) {
		t.Errorf("events: %s\nwant   %s", got, want)
	}
	var f *openflow.GokoTraceFilter
	for _, ev := range tr.Events {
		if ev.Filter != nil {
			f = ev.Filter
		}
	}
	if f == nil || f.Name != "filter_prog=1" || f.Program != "port_filter" || f.Match || f.Insns < 5 ||
		len(f.MapOps) != 1 || f.MapOps[0].Op != "lookup" || f.MapOps[0].Map != "seen" {
		t.Errorf("filter run: %+v", f)
	}
	rules, err := openflow.UnmarshalFlowStats(tr.Events[4].Rule)
	if err != nil || len(rules) != 1 || rules[0].TableID != 1 || rules[0].Priority != 10 {
		t.Errorf("table 1 rule: %+v %v", rules, err)
	}
	if tr.Megaflow.Actions != "output:2,output:3" || tr.Megaflow.Filters != "filter_prog=1:no_match" ||
		!strings.Contains(tr.Megaflow.Key, "in_port(1)") || !strings.Contains(tr.Megaflow.Key, "proto=17") {
		t.Errorf("megaflow: %+v", tr.Megaflow)
	}
	if !strings.Contains(tr.Flow, "udp(src=") {
		t.Errorf("flow: %s", tr.Flow)
	}
	// A DNS packet: the filter matches and the higher flow wins.
	tr, _ = ts.trace(1, udpTo(53))
	if tr.Megaflow.Actions != "output:3" || tr.Megaflow.Filters != "filter_prog=1:match" {
		t.Errorf("dns megaflow: %+v", tr.Megaflow)
	}
	// A table miss in table 0, and an output that goes nowhere.
	tr, _ = ts.trace(2, udpTo(53))
	if tr.Megaflow.Actions != "drop" || !strings.Contains(tr.Events[len(tr.Events)-1].Text, "no flow matched in table 0") {
		t.Errorf("miss: %+v", tr)
	}
	ts.mustFlow(addFlow(10, openflow.NewMatch(openflow.OXMInPortVal(3)), output(3)))
	tr, _ = ts.trace(3, udpTo(53))
	last := tr.Events[len(tr.Events)-1]
	if last.Kind != openflow.TraceDatapath || !strings.Contains(last.Text, "port 3 is the input port") {
		t.Errorf("output to in_port: %+v", tr.Events)
	}
	if _, e := ts.trace(9, udpTo(53)); e == nil || e.Code != openflow.BRCBadPort {
		t.Errorf("unknown port: %+v", e)
	}
	// Nothing was installed: the datapath cached no megaflow.
	if flows, _ := ts.dp.DumpMegaflows(); len(flows) != 0 {
		t.Errorf("tracing installed megaflows: %+v", flows)
	}
}

// matchKinds compares event kinds, "group?" standing for an optional note.
func matchKinds(got, want string) bool {
	g := strings.Fields(strings.ReplaceAll(got, "note ", ""))
	w := strings.Fields(strings.ReplaceAll(want, "group? ", ""))
	return strings.Join(g, " ") == strings.Join(w, " ")
}
