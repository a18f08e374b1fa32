package openflow

// goko's diagnostic requests: packet traces, the datapath's megaflows,
// poll-mode thread counters and the daemon's log level, for ofctl trace,
// dump-megaflows, pmd-stats-show and set-log-level.
//
// They are OFPMP_EXPERIMENTER multipart requests with goko's experimenter
// id. A request body is binary (below); a reply body is a UTF-8 JSON
// document of the Go type named here, split over several replies with
// OFPMPF_REPLY_MORE when it is large: a client concatenates the bodies and
// decodes the whole. The replies are JSON because they are read by people
// (through ofctl) and grow with the switch's features; rules and actions
// inside them travel in their OpenFlow wire form, so that a client prints
// them in its own syntax.

import "encoding/json"

// goko diagnostic multipart types (OFPMP_EXPERIMENTER exp_type).
const (
	GokoMPTrace     uint32 = 3 // request GokoTraceRequest; reply GokoTrace
	GokoMPMegaflows uint32 = 4 // request empty; reply []GokoMegaflow
	GokoMPPMDStats  uint32 = 5 // request empty; reply []GokoPMDStats
	GokoMPLogLevel  uint32 = 6 // request: a level name, or empty to ask; reply GokoLogLevel
)

// GokoTraceRequest asks the switch to run a packet through the bridge's
// pipeline as if it had arrived on InPort, and to report every step.
//
//	in_port u32 | pad 4 | packet (the rest: an Ethernet frame)
type GokoTraceRequest struct {
	InPort uint32
	Packet []byte
}

// Marshal encodes the body.
func (m *GokoTraceRequest) Marshal() []byte {
	return append(put32(put32(nil, m.InPort), 0), m.Packet...)
}

// Unmarshal decodes the body.
func (m *GokoTraceRequest) Unmarshal(b []byte) error {
	r := gokoReader{b: b}
	m.InPort = r.u32()
	r.skip(4)
	m.Packet = append([]byte(nil), r.rest()...)
	return r.err("trace request")
}

// GokoTrace is the reply to a trace: what the pipeline did with the
// packet, step by step, and the megaflow the datapath would cache.
type GokoTrace struct {
	Bridge   string            `json:"bridge"`
	InPort   uint32            `json:"in_port"`
	Flow     string            `json:"flow"` // the packet's flow key (datapath syntax, fields that are set)
	Events   []GokoTraceEvent  `json:"events"`
	Megaflow GokoTraceMegaflow `json:"megaflow"`
}

// Kinds of trace events.
const (
	TraceTable    = "table"    // a table lookup starts
	TraceRule     = "rule"     // the flow the lookup found: Rule
	TraceAction   = "action"   // an OpenFlow action about to run: Actions holds it
	TraceDatapath = "datapath" // the datapath actions the step above produced (Text)
	TraceFilter   = "filter"   // a filter program (or conntrack check) consulted: Filter
	TraceBucket   = "bucket"   // a group bucket being translated (Text)
	TraceNote     = "note"     // an explanation (Text)
)

// GokoTraceEvent is one step of a trace. Depth nests group buckets.
type GokoTraceEvent struct {
	Depth   int              `json:"depth"`
	Kind    string           `json:"kind"`
	Table   uint8            `json:"table"`
	Rule    []byte           `json:"rule,omitempty"`    // MarshalFlowStats of the flow found
	Actions []byte           `json:"actions,omitempty"` // MarshalActions of one action
	Text    string           `json:"text,omitempty"`
	Filter  *GokoTraceFilter `json:"filter,omitempty"`
}

// GokoTraceFilter is a filter program's run (or a ct_reply check) during
// a trace.
type GokoTraceFilter struct {
	Name      string           `json:"name"`             // "filter_prog=1" or "ct_reply(zone=3)"
	Program   string           `json:"program"`          // the eBPF program's name
	Match     bool             `json:"match"`            // the verdict
	Result    uint64           `json:"result"`           // r0
	Reused    bool             `json:"reused,omitempty"` // an earlier lookup of this packet ran it already
	Error     string           `json:"error,omitempty"`  // a run-time fault (the verdict is then no match)
	Insns     uint64           `json:"insns"`            // instructions executed
	MapOps    []GokoTraceMapOp `json:"map_ops,omitempty"`
	Truncated bool             `json:"truncated,omitempty"` // more map calls than listed
}

// GokoTraceMapOp is one map helper call of a traced filter run.
type GokoTraceMapOp struct {
	Map    string `json:"map"`
	Op     string `json:"op"` // lookup, update, delete
	Key    []byte `json:"key"`
	Value  []byte `json:"value,omitempty"` // lookup: the value found (none: no entry); update: the value written
	Flags  uint64 `json:"flags,omitempty"`
	Result int64  `json:"result,omitempty"` // update, delete: 0 or -errno
}

// GokoTraceMegaflow is the cache entry a trace's translation gives.
type GokoTraceMegaflow struct {
	Key     string `json:"key"`               // key and mask (datapath syntax)
	Filters string `json:"filters,omitempty"` // the filter chain the entry re-checks
	Actions string `json:"actions"`           // datapath actions
	NoCache bool   `json:"no_cache,omitempty"`
}

// GokoMegaflow is one megaflow cached by a poll-mode thread.
type GokoMegaflow struct {
	PMD     int    `json:"pmd"`
	Key     string `json:"key"`
	Filters string `json:"filters,omitempty"`
	Actions string `json:"actions"`
	Packets uint64 `json:"packets"`
	Bytes   uint64 `json:"bytes"`
	UsedMs  int64  `json:"used_ms"` // milliseconds since the last hit; -1 never hit since installed
}

// GokoPMDStats are a poll-mode thread's cache counters.
type GokoPMDStats struct {
	PMD          int    `json:"pmd"`
	Packets      uint64 `json:"packets"`
	EMCHits      uint64 `json:"emc_hits"`
	MegaflowHits uint64 `json:"megaflow_hits"`
	Misses       uint64 `json:"misses"`
	Upcalls      uint64 `json:"upcalls"`
	LostUpcalls  uint64 `json:"lost_upcalls"`
	Megaflows    uint64 `json:"megaflows"`
}

// GokoLogLevel is the daemon's log level after a GokoMPLogLevel request.
type GokoLogLevel struct {
	Level string `json:"level"` // debug, info, warn or error
}

// GokoJSONParts encodes v as JSON in parts that each fit in one multipart
// reply.
func GokoJSONParts(v any) ([][]byte, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	const part = 60000
	var parts [][]byte
	for len(b) > part {
		parts = append(parts, b[:part])
		b = b[part:]
	}
	return append(parts, b), nil
}

// MarshalFlowStats encodes flow statistics entries as the body of an
// OFPMP_FLOW reply; UnmarshalFlowStats decodes one.
func MarshalFlowStats(fs []FlowStats) ([]byte, error) {
	return (&FlowStatsReply{Stats: fs}).appendTo(nil)
}

// UnmarshalFlowStats decodes the body of an OFPMP_FLOW reply.
func UnmarshalFlowStats(b []byte) ([]FlowStats, error) {
	var r FlowStatsReply
	if err := r.decode(b); err != nil {
		return nil, err
	}
	return r.Stats, nil
}

// MarshalActions encodes an action list in its wire form.
func MarshalActions(acts []Action) ([]byte, error) { return appendActions(nil, acts) }

// UnmarshalActions decodes an action list in its wire form.
func UnmarshalActions(b []byte) ([]Action, error) { return parseActions(b) }
