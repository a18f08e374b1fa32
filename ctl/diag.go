package ctl

// goko's diagnostic commands: trace, dump-megaflows, pmd-stats-show and
// set-log-level (openflow/goko_diag.go has the requests and replies).

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/goko-net/goko/ctl/filtercmd"
	"github.com/goko-net/goko/ctl/flowsyntax"
	"github.com/goko-net/goko/ofclient"
	"github.com/goko-net/goko/openflow"
)

// gokoDiag sends a goko diagnostic request and decodes its JSON reply
// into v.
func (c *cli) gokoDiag(conn *ofclient.Conn, what string, expType uint32, body []byte, v any) error {
	bodies, _, err := conn.Multipart(c.ctx, ofclient.GokoMultipart(expType, body))
	if err != nil {
		return c.requestErr(what, "", err)
	}
	var doc []byte
	for _, b := range bodies {
		doc = append(doc, b.(*openflow.MultipartExperimenterBody).Data...)
	}
	if err := json.Unmarshal(doc, v); err != nil {
		return fmt.Errorf("%s: the switch's reply does not decode: %v", what, err)
	}
	return nil
}

// trace runs "ofctl trace TARGET FLOW [--packet HEX | --pcap FILE]".
func (c *cli) trace(args []string) error {
	s := &session{c: c, target: args[0]}
	defer s.close()
	var m openflow.Match
	if err := s.parse(func(o *flowsyntax.Options) (err error) {
		m, err = flowsyntax.ParseMatch(args[1], o)
		return err
	}); err != nil {
		return err
	}
	var pkts [][]byte
	var inPort uint32
	switch {
	case c.tracePacket != "" || c.tracePcap != "":
		if len(m.Fields) != 1 || m.Field(openflow.OXMInPort) == nil {
			return usageErr("with --packet or --pcap, FLOW gives only the input port (in_port=N)")
		}
		inPort = m.Fields[0].Uint32()
		if c.tracePacket != "" {
			b, err := hex.DecodeString(strings.NewReplacer(" ", "", ":", "", "-", "").Replace(strings.TrimPrefix(c.tracePacket, "0x")))
			if err != nil || len(b) < 14 {
				return usageErr("--packet: want an Ethernet frame in hex (at least 14 bytes)")
			}
			pkts = append(pkts, b)
		}
		if c.tracePcap != "" {
			f, err := os.Open(c.tracePcap)
			if err != nil {
				return usageErr("%v", err)
			}
			defer f.Close()
			r, err := filtercmd.NewPcapReader(f)
			if err != nil {
				return usageErr("%s: %v", c.tracePcap, err)
			}
			if r.LinkType != 1 {
				return usageErr("%s: link type %d; trace needs Ethernet frames (capture on a real interface, not -i any)", c.tracePcap, r.LinkType)
			}
			for {
				p, err := r.Next()
				if errors.Is(err, io.EOF) {
					break
				}
				if err != nil {
					return usageErr("%s: %v", c.tracePcap, err)
				}
				pkts = append(pkts, p.Data)
			}
		}
	default:
		pkt, in, err := PacketFromMatch(m)
		if err != nil {
			return usageErr("%v", err)
		}
		pkts, inPort = [][]byte{pkt}, in
	}
	conn, err := s.get()
	if err != nil {
		return err
	}
	var traces []openflow.GokoTrace
	for _, pkt := range pkts {
		req := openflow.GokoTraceRequest{InPort: inPort, Packet: pkt}
		var tr openflow.GokoTrace
		if err := c.gokoDiag(conn, "trace request", openflow.GokoMPTrace, req.Marshal(), &tr); err != nil {
			return err
		}
		traces = append(traces, tr)
	}
	if c.json {
		out := make([]jsonTrace, len(traces))
		for i := range traces {
			out[i] = toJSONTrace(&traces[i])
		}
		if len(out) == 1 {
			return c.printJSON(out[0])
		}
		return c.printJSON(out)
	}
	for i := range traces {
		if len(traces) > 1 {
			if i > 0 {
				fmt.Fprintln(c.out)
			}
			fmt.Fprintf(c.out, "Packet %d of %d (%d bytes)\n", i+1, len(traces), len(pkts[i]))
		}
		fmt.Fprint(c.out, FormatTrace(&traces[i]))
	}
	return nil
}

// FormatTrace prints a trace the way ovs-appctl ofproto/trace does: the
// packet's flow, each table with the flow that matched and the actions it
// ran (group buckets indented), every filter program run with its map
// calls, then the megaflow the datapath would cache.
func FormatTrace(t *openflow.GokoTrace) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Flow: %s\n\nbridge(%q)\n%s\n", t.Flow, t.Bridge, strings.Repeat("-", len(t.Bridge)+10))
	// A lookup is a table event, the filter programs (and conntrack
	// checks) consulted on the way, then the flow found or a miss: the
	// filters print under the table's line.
	// The flow's instructions other than its actions (write_actions,
	// write_metadata, goto_table, ...) print after the actions it ran.
	var pending []string
	table := -1
	tail := ""
	endRule := func() {
		if tail != "" {
			b.WriteString("    " + tail + "\n")
			tail = ""
		}
	}
	flush := func(head string) {
		fmt.Fprintf(&b, "%2d. %s\n", table, head)
		for _, l := range pending {
			b.WriteString("    " + l + "\n")
		}
		pending, table = nil, -1
	}
	inBucket := map[int]bool{} // depths at which a bucket's actions are being listed
	for _, ev := range t.Events {
		for d := range inBucket {
			if d > ev.Depth {
				delete(inBucket, d)
			}
		}
		depth := ev.Depth
		if inBucket[ev.Depth] && ev.Kind != openflow.TraceBucket {
			depth++ // under its bucket
		}
		ind := "    " + strings.Repeat("    ", depth)
		switch {
		case ev.Kind == openflow.TraceTable:
			endRule()
			table, pending = int(ev.Table), nil
		case ev.Kind == openflow.TraceFilter && table >= 0:
			pending = append(pending, formatTraceFilter(ev.Filter)...)
		case ev.Kind == openflow.TraceFilter:
			for _, l := range formatTraceFilter(ev.Filter) {
				b.WriteString(ind + l + "\n")
			}
		case ev.Kind == openflow.TraceRule:
			var head string
			head, tail = formatTraceRule(ev.Rule)
			flush(head)
		case ev.Kind == openflow.TraceAction:
			acts, err := openflow.UnmarshalActions(ev.Actions)
			text := flowsyntax.FormatActions(acts)
			if err != nil {
				text = "(action does not decode: " + err.Error() + ")"
			}
			b.WriteString(ind + text + "\n")
		case ev.Kind == openflow.TraceDatapath:
			b.WriteString(ind + " -> datapath: " + ev.Text + "\n")
		case ev.Kind == openflow.TraceBucket:
			b.WriteString(ind + ev.Text + ":\n")
			inBucket[ev.Depth] = true
		default:
			if table >= 0 {
				flush("No match.")
			}
			if ev.Depth == 0 {
				endRule()
			}
			b.WriteString(ind + " -> " + ev.Text + "\n")
		}
	}
	endRule()
	mf := &t.Megaflow
	fmt.Fprintf(&b, "\nMegaflow: %s\n", mf.Key)
	if mf.Filters != "" {
		fmt.Fprintf(&b, "Filters: %s\n", mf.Filters)
	}
	fmt.Fprintf(&b, "Datapath actions: %s\n", mf.Actions)
	if mf.NoCache {
		b.WriteString("(not cached: later tables matched headers inside a popped MPLS or PBB header, which the cache key cannot hold)\n")
	}
	return b.String()
}

// formatTraceRule prints a flow found by a lookup: its match, priority
// and cookie, as ofproto/trace does; and its instructions other than
// meters and apply-actions, which the trace shows as they run.
func formatTraceRule(rule []byte) (head, tail string) {
	fs, err := openflow.UnmarshalFlowStats(rule)
	if err != nil || len(fs) != 1 {
		return "(flow does not decode)", ""
	}
	f := &fs[0]
	s := flowsyntax.FormatMatch(f.Match, openflow.DefaultPriority)
	if s != "" {
		s += ", "
	}
	s += fmt.Sprintf("priority %d", f.Priority)
	if f.Cookie != 0 {
		s += fmt.Sprintf(", cookie %#x", f.Cookie)
	}
	var rest []openflow.Instruction
	for _, in := range f.Instructions {
		switch in.(type) {
		case openflow.InstApplyActions, openflow.InstMeter:
		default:
			rest = append(rest, in)
		}
	}
	if len(rest) > 0 {
		tail = flowsyntax.FormatInstructions(rest)
	}
	return s, tail
}

// formatTraceFilter prints a filter program's run and its map calls.
func formatTraceFilter(f *openflow.GokoTraceFilter) []string {
	verdict := "no match"
	if f.Match {
		verdict = "match"
	}
	if f.Reused {
		return []string{fmt.Sprintf("%s: %s (the result of its earlier run for this packet)", f.Name, verdict)}
	}
	if f.Program == "" { // a conntrack check
		what := "not a reply of a committed connection"
		if f.Match {
			what = "a reply of a committed connection"
		}
		return []string{fmt.Sprintf("%s: %s (%s)", f.Name, verdict, what)}
	}
	head := fmt.Sprintf("%s (%s): %s, r0=%#x, %d instructions", f.Name, f.Program, verdict, f.Result, f.Insns)
	if f.Error != "" {
		head += ", stopped: " + f.Error
	}
	lines := []string{head}
	for _, op := range f.MapOps {
		l := fmt.Sprintf("    map %s: %s key %s", op.Map, op.Op, hexOr(op.Key))
		switch op.Op {
		case "lookup":
			if op.Value == nil {
				l += ": no entry"
			} else {
				l += " -> " + hexOr(op.Value)
			}
		case "update":
			l += " value " + hexOr(op.Value)
			if fl := map[uint64]string{1: "noexist", 2: "exist"}[op.Flags]; fl != "" {
				l += " (" + fl + ")"
			}
			l += errnoText(op.Result)
		default:
			l += errnoText(op.Result)
		}
		lines = append(lines, l)
	}
	if f.Truncated {
		lines = append(lines, "    (more map calls, not listed)")
	}
	return lines
}

func hexOr(b []byte) string {
	if len(b) == 0 {
		return "(empty)"
	}
	return hex.EncodeToString(b)
}

func errnoText(r int64) string {
	switch r {
	case 0:
		return ""
	case -2:
		return ": no such entry (ENOENT)"
	case -17:
		return ": exists (EEXIST)"
	case -7:
		return ": map full (E2BIG)"
	}
	return fmt.Sprintf(": error %d", r)
}

// jsonTrace is a trace for --json, with rules and actions printed.
type jsonTrace struct {
	Bridge   string                     `json:"bridge"`
	InPort   uint32                     `json:"in_port"`
	Flow     string                     `json:"flow"`
	Events   []jsonTraceEvent           `json:"events"`
	Megaflow openflow.GokoTraceMegaflow `json:"megaflow"`
}

type jsonTraceEvent struct {
	Depth  int                       `json:"depth"`
	Kind   string                    `json:"kind"`
	Table  *uint8                    `json:"table,omitempty"`
	Flow   string                    `json:"flow,omitempty"`
	Action string                    `json:"action,omitempty"`
	Text   string                    `json:"text,omitempty"`
	Filter *openflow.GokoTraceFilter `json:"filter,omitempty"`
}

func toJSONTrace(t *openflow.GokoTrace) jsonTrace {
	out := jsonTrace{Bridge: t.Bridge, InPort: t.InPort, Flow: t.Flow, Megaflow: t.Megaflow}
	for _, ev := range t.Events {
		je := jsonTraceEvent{Depth: ev.Depth, Kind: ev.Kind, Text: ev.Text, Filter: ev.Filter}
		switch ev.Kind {
		case openflow.TraceTable:
			tb := ev.Table
			je.Table = &tb
		case openflow.TraceRule:
			tb := ev.Table
			je.Table = &tb
			if fs, err := openflow.UnmarshalFlowStats(ev.Rule); err == nil && len(fs) == 1 {
				je.Flow = flowsyntax.FormatFlowStats(&fs[0], false)
			}
		case openflow.TraceAction:
			if acts, err := openflow.UnmarshalActions(ev.Actions); err == nil {
				je.Action = flowsyntax.FormatActions(acts)
			}
		}
		out.Events = append(out.Events, je)
	}
	return out
}

// dumpMegaflows runs "ofctl dump-megaflows TARGET".
func (c *cli) dumpMegaflows(args []string) error {
	conn, err := c.dial(args[0])
	if err != nil {
		return err
	}
	defer conn.Close()
	var flows []openflow.GokoMegaflow
	if err := c.gokoDiag(conn, "megaflow dump request", openflow.GokoMPMegaflows, nil, &flows); err != nil {
		return err
	}
	if c.json {
		if flows == nil {
			flows = []openflow.GokoMegaflow{}
		}
		return c.printJSON(flows)
	}
	fmt.Fprint(c.out, FormatMegaflows(flows))
	return nil
}

// FormatMegaflows prints megaflows as ovs-appctl dpctl/dump-flows does:
// key and mask, then packets, bytes, the time since the last hit and the
// actions; goko adds the pmd and the filter chain.
func FormatMegaflows(flows []openflow.GokoMegaflow) string {
	var b bytes.Buffer
	for _, f := range flows {
		used := "never"
		if f.UsedMs >= 0 {
			used = fmt.Sprintf("%d.%03ds", f.UsedMs/1000, f.UsedMs%1000)
		}
		fmt.Fprintf(&b, "pmd(%d),%s", f.PMD, f.Key)
		if f.Filters != "" {
			fmt.Fprintf(&b, ",filters(%s)", f.Filters)
		}
		fmt.Fprintf(&b, ", packets:%d, bytes:%d, used:%s, actions:%s\n", f.Packets, f.Bytes, used, f.Actions)
	}
	return b.String()
}

// pmdStatsShow runs "ofctl pmd-stats-show TARGET".
func (c *cli) pmdStatsShow(args []string) error {
	conn, err := c.dial(args[0])
	if err != nil {
		return err
	}
	defer conn.Close()
	var stats []openflow.GokoPMDStats
	if err := c.gokoDiag(conn, "pmd stats request", openflow.GokoMPPMDStats, nil, &stats); err != nil {
		return err
	}
	if c.json {
		return c.printJSON(stats)
	}
	fmt.Fprint(c.out, FormatPMDStats(stats))
	return nil
}

// FormatPMDStats prints pmd counters as ovs-appctl dpif-netdev/pmd-stats-show
// does: per thread, the packets received and how each level of the cache
// answered, with the share of all received packets.
func FormatPMDStats(stats []openflow.GokoPMDStats) string {
	var b strings.Builder
	pct := func(n, of uint64) string {
		if of == 0 {
			return ""
		}
		return fmt.Sprintf(" (%.1f %%)", 100*float64(n)/float64(of))
	}
	for _, s := range stats {
		fmt.Fprintf(&b, "pmd thread %d:\n", s.PMD)
		fmt.Fprintf(&b, "  packets received: %d\n", s.Packets)
		fmt.Fprintf(&b, "  exact match cache hits: %d%s\n", s.EMCHits, pct(s.EMCHits, s.Packets))
		fmt.Fprintf(&b, "  megaflow hits: %d%s\n", s.MegaflowHits, pct(s.MegaflowHits, s.Packets))
		fmt.Fprintf(&b, "  misses: %d%s\n", s.Misses, pct(s.Misses, s.Packets))
		fmt.Fprintf(&b, "  upcalls: %d\n", s.Upcalls)
		fmt.Fprintf(&b, "  lost upcalls: %d\n", s.LostUpcalls)
		fmt.Fprintf(&b, "  megaflows cached: %d\n", s.Megaflows)
	}
	return b.String()
}

// setLogLevel runs "ofctl set-log-level TARGET [LEVEL]".
func (c *cli) setLogLevel(args []string) error {
	level := ""
	if len(args) > 1 {
		level = strings.ToLower(args[1])
		switch level {
		case "debug", "info", "warn", "error":
		default:
			return usageErr("log level %q: want debug, info, warn or error", args[1])
		}
	}
	conn, err := c.dial(args[0])
	if err != nil {
		return err
	}
	defer conn.Close()
	var ll openflow.GokoLogLevel
	if err := c.gokoDiag(conn, "log level request", openflow.GokoMPLogLevel, []byte(level), &ll); err != nil {
		return err
	}
	if c.json {
		return c.printJSON(ll)
	}
	fmt.Fprintln(c.out, ll.Level)
	return nil
}
