package ofproto

// Packet traces (ofctl trace), as Open vSwitch's ofproto/trace: a packet
// is translated exactly as a cache miss would be, with a tracer attached
// to the translation that records each table lookup and the flow it
// found, each OpenFlow action and the datapath actions it produced, group
// buckets, and every filter program run - verdict, instructions executed,
// map entries read and written - and finally the megaflow the datapath
// would cache. Nothing is installed and no packet is sent; but filter
// programs run for real (a traced run is a normal run, see
// ubpf.RunTraced), so their maps change as they would for this packet.
//
// The hooks in the translation (xlate.go, group.go, conntrack.go) are single
// "if x.tr != nil" checks, on the slow path only.

import (
	"fmt"
	"strings"

	"github.com/goko-net/goko/datapath"
	"github.com/goko-net/goko/openflow"
	"github.com/goko-net/goko/ubpf"
)

// tracer collects the events of one traced translation.
type tracer struct {
	events []openflow.GokoTraceEvent
	depth  int
	// entered is set by traceAction while it runs the action it
	// describes, so that xlate.action does not trace it twice.
	entered bool
}

func (tr *tracer) add(ev openflow.GokoTraceEvent) {
	ev.Depth = tr.depth
	tr.events = append(tr.events, ev)
}

func (tr *tracer) note(format string, args ...any) {
	tr.add(openflow.GokoTraceEvent{Kind: openflow.TraceNote, Text: fmt.Sprintf(format, args...)})
}

// lookup records the flow a table lookup found (nil: a miss).
func (tr *tracer) lookup(b *Bridge, table uint8, r *rule) {
	ev := openflow.GokoTraceEvent{Kind: openflow.TraceRule, Table: table}
	if r == nil {
		tr.note("no flow matched in table %d: the packet is dropped (OpenFlow 1.3 table miss)", table)
		return
	}
	ev.Rule, _ = openflow.MarshalFlowStats([]openflow.FlowStats{{TableID: r.tableID, Priority: r.priority,
		Cookie: r.cookie, IdleTimeout: r.idleTimeout, HardTimeout: r.hardTimeout, Flags: r.flags,
		Match: r.Match(), Instructions: r.instructions}})
	tr.add(ev)
	for _, in := range r.instructions {
		if m, ok := in.(openflow.InstMeter); ok {
			if mt := b.meters[m.MeterID]; mt != nil {
				var bands []string
				for _, band := range mt.bands {
					kind := "drop"
					if band.Type == openflow.MeterBandDSCPRemark {
						kind = fmt.Sprintf("dscp_remark by %d", band.PrecLevel)
					}
					bands = append(bands, fmt.Sprintf("%s above rate %d burst %d", kind, band.Rate, band.BurstSize))
				}
				tr.note("meter %d: the datapath applies it per packet (%s)", m.MeterID, strings.Join(bands, "; "))
			} else {
				tr.note("meter %d does not exist", m.MeterID)
			}
		}
	}
}

// traceAction records action a, runs it, and records the datapath actions
// it produced (output resolution, group expansion, ...).
func (x *xlate) traceAction(a openflow.Action) {
	tr := x.tr
	enc, _ := openflow.MarshalActions([]openflow.Action{a})
	tr.add(openflow.GokoTraceEvent{Kind: openflow.TraceAction, Actions: enc, Table: x.tableID})
	if g, ok := a.(openflow.ActionGroup); ok {
		if grp := x.b.groups[g.GroupID]; grp != nil {
			tr.note("group %d is of type %s with %d buckets", g.GroupID, groupTypeName(grp.typ), len(grp.buckets))
		} else {
			tr.note("group %d does not exist: nothing happens", g.GroupID)
		}
	}
	tr.depth++
	acts, n := x.acts, len(*x.acts)
	tr.entered = true
	x.action(a)
	tr.depth--
	if acts != x.acts || len(*x.acts) < n {
		return // the list was replaced meanwhile; nothing sensible to show
	}
	if out := (*x.acts)[n:]; len(out) > 0 {
		tr.add(openflow.GokoTraceEvent{Kind: openflow.TraceDatapath, Text: datapath.FormatActions(out)})
	} else if producesOutput(a) {
		tr.add(openflow.GokoTraceEvent{Kind: openflow.TraceDatapath, Text: "nothing: " + x.whyNoOutput(a)})
	}
}

// producesOutput reports whether a is an action that normally gives the
// datapath something to do, so that giving nothing needs explaining.
func producesOutput(a openflow.Action) bool {
	switch a.(type) {
	case openflow.ActionOutput, openflow.ActionGroup:
		return true
	}
	return false
}

// whyNoOutput explains an output or group action that produced nothing.
func (x *xlate) whyNoOutput(a openflow.Action) string {
	o, ok := a.(openflow.ActionOutput)
	if !ok {
		return "no live bucket produced an action"
	}
	in := x.key.InPort
	switch o.Port {
	case openflow.PortLocal:
		return "goko bridges have no LOCAL port; the packet is dropped"
	case openflow.PortNormal:
		return "NORMAL is not supported"
	case openflow.PortController:
		return "the input port has no-packet-in set"
	case openflow.PortFlood, openflow.PortAll:
		return "no other port can forward"
	case in:
		return fmt.Sprintf("port %d is the input port (write IN_PORT to send a packet back)", o.Port)
	}
	p := x.b.ports[o.Port]
	switch {
	case p == nil:
		return fmt.Sprintf("port %d does not exist", o.Port)
	case p.config&openflow.PortConfigDown != 0:
		return fmt.Sprintf("port %d is administratively down", o.Port)
	case p.config&openflow.PortConfigNoFwd != 0:
		return fmt.Sprintf("port %d has no-forward set", o.Port)
	}
	return "dropped"
}

func groupTypeName(t openflow.GroupType) string {
	switch t {
	case openflow.GroupTypeAll:
		return "all"
	case openflow.GroupTypeSelect:
		return "select (the datapath picks a live bucket per packet by a hash of the flow)"
	case openflow.GroupTypeIndirect:
		return "indirect"
	case openflow.GroupTypeFF:
		return "fast_failover (the first live bucket)"
	}
	return fmt.Sprint(t)
}

// bucket records that bucket i of g is being translated.
func (tr *tracer) bucket(g *group, i int) {
	bk := &g.buckets[i]
	var what []string
	if g.typ == openflow.GroupTypeSelect {
		what = append(what, fmt.Sprintf("weight %d", bk.Weight))
	}
	if bk.WatchPort != openflow.PortAny {
		what = append(what, fmt.Sprintf("watches port %d", bk.WatchPort))
	}
	if bk.WatchGroup != openflow.GroupAny {
		what = append(what, fmt.Sprintf("watches group %d", bk.WatchGroup))
	}
	text := fmt.Sprintf("bucket %d", i)
	if len(what) > 0 {
		text += " (" + strings.Join(what, ", ") + ")"
	}
	tr.add(openflow.GokoTraceEvent{Kind: openflow.TraceBucket, Text: text})
}

// runFilter runs filter program f on pkt with a traced run and records it.
func (tr *tracer) runFilter(f *filterProg, pkt []byte) bool {
	p := f.prog.Load()
	th := ubpf.NewThread()
	defer th.Close()
	r, t, err := p.RunTraced(th, pkt)
	res := err == nil && p.IsMatch(r)
	ev := &openflow.GokoTraceFilter{Name: f.String(), Program: p.Name(), Match: res, Result: r,
		Insns: t.Insns, Truncated: t.Truncated}
	if err != nil {
		ev.Error = err.Error()
	}
	for _, op := range t.MapOps {
		ev.MapOps = append(ev.MapOps, openflow.GokoTraceMapOp{Map: op.Map, Op: op.Op, Key: op.Key, Value: op.Value,
			Flags: op.Flags, Result: op.Result})
	}
	tr.add(openflow.GokoTraceEvent{Kind: openflow.TraceFilter, Filter: ev})
	return res
}

// reused records a filter (or conntrack) result an earlier lookup of the
// same packet computed.
func (tr *tracer) reused(f datapath.Filter, res bool) {
	tr.add(openflow.GokoTraceEvent{Kind: openflow.TraceFilter,
		Filter: &openflow.GokoTraceFilter{Name: fmt.Sprint(f), Match: res, Reused: true}})
}

// ctCheck records a ct_reply check.
func (tr *tracer) ctCheck(f datapath.Filter, res bool) {
	tr.add(openflow.GokoTraceEvent{Kind: openflow.TraceFilter, Filter: &openflow.GokoTraceFilter{Name: fmt.Sprint(f), Match: res}})
}

// String names the filter in traces and megaflow dumps.
func (f *filterProg) String() string { return fmt.Sprintf("filter_prog=%d", f.id) }

func (a *packetInArg) String() string {
	reasons := map[openflow.PacketInReason]string{openflow.PacketInReasonNoMatch: "no_match",
		openflow.PacketInReasonAction: "action", openflow.PacketInReasonInvalidTTL: "invalid_ttl"}
	s := fmt.Sprintf("controller(reason=%s,table=%d,cookie=%#x", reasons[a.reason], a.tableID, a.cookie)
	if !a.missSendLen && a.maxLen != openflow.ControllerMaxLenNoBuffer {
		s += fmt.Sprintf(",max_len=%d", a.maxLen)
	}
	return s + ")"
}

func (a *sendMapsArg) String() string {
	if len(a.maps) == 0 {
		return fmt.Sprintf("send_maps(prog=%d)", a.prog.id)
	}
	return fmt.Sprintf("send_maps(prog=%d,map=%s)", a.prog.id, strings.Join(a.maps, ",map="))
}

// Trace translates pkt as if it had arrived on inPort and reports every
// step (see the top of this file).
func (b *Bridge) Trace(inPort uint32, pkt []byte) (*openflow.GokoTrace, error) {
	b.mu.RLock()
	known := b.ports[inPort] != nil
	b.mu.RUnlock()
	if !known {
		return nil, openflow.Errorf(openflow.BRCBadPort, "in_port %d is not a port of bridge %s", inPort, b.cfg.Name)
	}
	var key datapath.FlowKey
	m := datapath.Miss{FilterInput: datapath.FilterInput{Data: pkt, Key: &key, Off: datapath.Parse(pkt, inPort, &key)}}
	tr := &tracer{}
	var mf datapath.Translation
	b.translate(&m, &mf, tr)
	mf.Mask.InPort = ^uint32(0) // as the datapath adds it
	var masked datapath.FlowKey
	masked.And(&key, &mf.Mask)
	out := &openflow.GokoTrace{Bridge: b.cfg.Name, InPort: inPort, Flow: datapath.FormatFlow(&key), Events: tr.events,
		Megaflow: openflow.GokoTraceMegaflow{Key: datapath.FormatKey(&masked, &mf.Mask),
			Filters: datapath.FormatFilters(mf.Filters), Actions: datapath.FormatActions(mf.Actions), NoCache: mf.NoCache}}
	return out, nil
}
