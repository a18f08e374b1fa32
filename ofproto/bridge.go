// Package ofproto is goko's OpenFlow agent: it holds a bridge's flow
// tables and ports, serves OpenFlow 1.3 connections, translates packets
// that miss the datapath caches through the OpenFlow pipeline, and turns
// datapath upcalls into packet-ins.
//
// It knows OpenFlow (package openflow) and the datapath's seam (package
// datapath), and nothing of how ports are opened or connections made:
// the daemon hands it datapath ports and net.Conns.
//
// Comments say "as in Oko" where goko follows Oko (Chaignon et al.,
// "Oko: Extending Open vSwitch with Stateful Filters", SOSR 2018): the
// fork of Open vSwitch-DPDK that made uBPF filter programs a match field
// and gave them maps; goko's filter_prog extension keeps its semantics
// but not its wire encoding (docs/openflow-extensions.md).
package ofproto

// Locks, in the order they are taken: a goroutine holding one of them
// takes only locks further down the list (as dpif-netdev.c writes it).
//
//  1. Bridge.modMu: serialises changes to the pipeline state (see Bridge
//     and change.go: every change runs in Bridge.update, under it).
//  2. Bridge.mu (RWMutex): flow tables, groups, meters, ports, the switch
//     config and the filter-program registry. Written only by txn's edits,
//     briefly; translation (a pmd's upcall) holds it for reading.
//  3. datapath.Datapath.mu: the datapath's port set and receive-queue
//     owners. Bridge.AddPort takes it under mu.
//  4. A port's own lock (dpdk.Port.mu).
//
// Leaves, under which nothing else is taken: Bridge.connMu (connections
// and the role election), pktBuffer.mu (packet-in buffers), a connection's
// queues, and the locks inside ubpf maps.
//
// Waiting on the pmds. datapath.Sync (the barrier), SyncCounters and
// RemovePort wait until every pmd finishes its current iteration, and an
// iteration may take Bridge.mu for reading (a translation) and
// Bridge.connMu (a packet-in). So they are called with neither held (with
// modMu they may be: pmds never take it); a wait under either would
// deadlock with a pmd waiting for it.

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/goko-net/goko/datapath"
	"github.com/goko-net/goko/ubpf"
)

// Config describes a bridge.
type Config struct {
	Name       string
	DatapathID uint64
	Logger     *slog.Logger
	// LogLevel, when set, is the level of Logger's handler, which ofctl
	// set-log-level changes through the management socket (diag.go).
	LogLevel *slog.LevelVar
	// ManagementSocket is the path of the bridge's management socket:
	// connections accepted on it may change the log level.
	ManagementSocket string
	// MaxFlows is the number of flows each table holds at most (0:
	// DefaultMaxFlows); a flow-mod that would add one more fails with
	// OFPFMFC_TABLE_FULL. TABLE_FEATURES reports it as max_entries.
	MaxFlows int
	// FilterRunBudget is the instruction budget per run of filter
	// programs loaded without one of their own (0: ubpf's default).
	FilterRunBudget int
	// FilterMapMemory bounds the memory of the maps one program load
	// creates, in bytes (0: ubpf's default).
	FilterMapMemory uint64
	// Engine runs the bridge's filter programs (ubpf.EngineAuto: the JIT
	// where there is one).
	Engine ubpf.Engine
}

// DefaultMaxFlows is the default rule limit of a table. A rule costs a few
// hundred bytes, so a full table takes a couple of GB.
const DefaultMaxFlows = 1 << 22

func (b *Bridge) maxFlows() int {
	if b.cfg.MaxFlows > 0 {
		return b.cfg.MaxFlows
	}
	return DefaultMaxFlows
}

// Bridge is one OpenFlow switch instance.
//
// Locking. The pipeline state (tables, ports, groups, meters, filter
// programs) has two locks, taken in this order:
//   - modMu serialises changes: every change holds it from its checks to
//     its end. Requests that walk whole tables (flow stats) hold it instead
//     of mu, so they never sit between a waiting writer and translation.
//   - mu guards the state against translation, which holds it for reading
//     on every datapath miss. A change holds it for writing only while it
//     edits the structures; the slow part of a bulk change (selecting a
//     million rules, building replacement subtables) runs under modMu
//     alone, while the datapath keeps translating the old state.
//
// So translation waits at most for the edit of one change, never for its
// selection or for a long reader. The barrier rule is unchanged: a change
// is visible to translation once it leaves mu, and it invalidates the
// datapath after that (see datapath.Invalidate).
type Bridge struct {
	cfg Config
	log *slog.Logger
	dp  *datapath.Datapath

	modMu    sync.Mutex   // serialises changes to the state mu guards
	mu       sync.RWMutex // guards tables, ports, portList, groups, meters
	tables   [numTables]flowTable
	ports    map[uint32]*port
	portList []*port // sorted by number
	groups   map[uint32]*group
	meters   map[uint32]*meter

	buffers pktBuffer // packets held for packet-in buffer ids

	switchFlags atomic.Uint32 // openflow.ConfigFlags
	missSendLen atomic.Uint32

	filters filterRegistry // filter programs by id; guarded by mu

	connMu   sync.Mutex // guards conns and the role election state
	conns    map[*Conn]struct{}
	genID    uint64 // last generation id of a master/slave role request
	genIDSet bool

	started time.Time
}

// New creates a bridge with empty tables. Attach a datapath with
// SetDatapath before adding ports.
func New(cfg Config) *Bridge {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	b := &Bridge{
		cfg:     cfg,
		log:     cfg.Logger.With("bridge", cfg.Name),
		ports:   map[uint32]*port{},
		groups:  map[uint32]*group{},
		meters:  map[uint32]*meter{},
		conns:   map[*Conn]struct{}{},
		filters: filterRegistry{progs: map[uint32]*filterProg{}, pool: newVMPool()},
		started: time.Now(),
	}
	b.missSendLen.Store(128)
	return b
}

// Name returns the bridge name.
func (b *Bridge) Name() string { return b.cfg.Name }

// SetDatapath attaches the datapath this bridge programs.
func (b *Bridge) SetDatapath(dp *datapath.Datapath) {
	b.dp = dp
}

// Run does the bridge's periodic work until ctx ends: it expires flows
// whose idle or hard timeout passed and reports link changes.
func (b *Bridge) Run(ctx context.Context) {
	t := time.NewTicker(250 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			b.expireFlows(now)
			b.checkLinks()
		}
	}
}

// selectRules returns, per table, the rules pred selects in table (or in
// every table for tableAll). It only reads the tables: b.modMu or b.mu
// must be held.
func (b *Bridge) selectRules(table uint8, pred func(*rule) bool) *[numTables][]*rule {
	var sel [numTables][]*rule
	for i := range b.tables {
		if (table == tableAll || int(table) == i) && b.tables[i].len() > 0 {
			sel[i] = b.tables[i].selectRules(pred)
		}
	}
	return &sel
}

// Close disconnects every OpenFlow connection.
func (b *Bridge) Close() {
	b.connMu.Lock()
	conns := make([]*Conn, 0, len(b.conns))
	for c := range b.conns {
		conns = append(conns, c)
	}
	b.connMu.Unlock()
	for _, c := range conns {
		c.Close()
	}
}
