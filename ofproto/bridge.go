// Package ofproto is goko's OpenFlow agent: it holds a bridge's flow
// tables and ports, serves OpenFlow 1.3 connections, translates packets
// that miss the datapath caches through the OpenFlow pipeline, and turns
// datapath upcalls into packet-ins.
//
// It knows OpenFlow (package openflow) and the datapath's seam (package
// datapath), and nothing of how ports are opened or connections made:
// the daemon hands it datapath ports and net.Conns.
package ofproto

import (
	"context"
	"fmt"
	"log/slog"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/goko-net/goko/datapath"
	"github.com/goko-net/goko/openflow"
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

type port struct {
	no     uint32
	dp     datapath.Port
	config openflow.PortConfig
	linkUp bool // last link state reported to controllers
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
		started: time.Now(),
	}
	b.missSendLen.Store(128)
	return b
}

// Name returns the bridge name.
func (b *Bridge) Name() string { return b.cfg.Name }

// SetDatapath attaches the datapath this bridge programs.
func (b *Bridge) SetDatapath(dp *datapath.Datapath) { b.dp = dp }

// AddPort attaches a datapath port as OpenFlow port no (0: the lowest free
// number) and announces it to controllers. It returns the number used.
func (b *Bridge) AddPort(no uint32, p datapath.Port) (uint32, error) {
	b.modMu.Lock()
	defer b.modMu.Unlock()
	b.mu.Lock()
	if no == 0 {
		for no = 1; b.ports[no] != nil; no++ {
		}
	}
	if no > openflow.PortMax {
		b.mu.Unlock()
		return 0, fmt.Errorf("add port %q: number %d above OFPP_MAX", p.Info().Name, no)
	}
	if b.ports[no] != nil {
		b.mu.Unlock()
		return 0, fmt.Errorf("add port %q: number %d already used by %q", p.Info().Name, no, b.ports[no].dp.Info().Name)
	}
	if err := b.dp.AddPort(no, p); err != nil {
		b.mu.Unlock()
		return 0, err
	}
	pt := &port{no: no, dp: p, linkUp: p.Info().LinkUp}
	b.ports[no] = pt
	b.rebuildPortList()
	desc := b.portDesc(pt)
	b.mu.Unlock()
	b.broadcastPortStatus(openflow.PortReasonAdd, desc)
	return no, nil
}

// RemovePort detaches and closes port no.
func (b *Bridge) RemovePort(no uint32) error {
	b.modMu.Lock()
	defer b.modMu.Unlock()
	b.mu.Lock()
	pt := b.ports[no]
	if pt == nil {
		b.mu.Unlock()
		return fmt.Errorf("remove port %d: no such port", no)
	}
	desc := b.portDesc(pt)
	delete(b.ports, no)
	b.rebuildPortList()
	b.mu.Unlock()
	err := b.dp.RemovePort(no)
	b.broadcastPortStatus(openflow.PortReasonDelete, desc)
	return err
}

func (b *Bridge) rebuildPortList() {
	b.portList = b.portList[:0]
	for _, p := range b.ports {
		b.portList = append(b.portList, p)
	}
	sort.Slice(b.portList, func(i, j int) bool { return b.portList[i].no < b.portList[j].no })
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

func (b *Bridge) checkLinks() {
	var changed []openflow.Port
	b.modMu.Lock()
	b.mu.Lock()
	for _, p := range b.portList {
		if up := p.dp.Info().LinkUp; up != p.linkUp {
			p.linkUp = up
			changed = append(changed, b.portDesc(p))
		}
	}
	b.mu.Unlock()
	b.modMu.Unlock()
	if len(changed) > 0 {
		// Fast-failover and select groups watch link state: translations
		// made under the old state are stale.
		b.dp.Invalidate()
	}
	for _, d := range changed {
		b.log.Info("port link changed", "port", d.PortNo, "name", d.Name, "state", d.State)
		b.broadcastPortStatus(openflow.PortReasonModify, d)
	}
}

// expireFlows removes flows whose timeouts passed. Only rules with a
// timeout are looked at, so a million permanent rules cost nothing here.
func (b *Bridge) expireFlows(now time.Time) {
	reasons := map[*rule]openflow.FlowRemovedReason{}
	b.modMu.Lock()
	var victims [numTables][]*rule
	for i := range b.tables {
		for r := range b.tables[i].timed {
			if reason, ok := expired(r, now); ok {
				reasons[r] = reason
				victims[i] = append(victims[i], r)
			}
		}
	}
	var gone []*rule
	if len(reasons) > 0 {
		gone = b.removeRules(&victims, nil)
	}
	b.modMu.Unlock()
	if len(gone) == 0 {
		return
	}
	b.dp.Invalidate()
	for _, r := range gone {
		b.sendFlowRemoved(r, reasons[r], now)
	}
}

// expired reports whether r's idle or hard timeout passed at now, and
// which.
func expired(r *rule, now time.Time) (openflow.FlowRemovedReason, bool) {
	if r.hardTimeout != 0 && now.Sub(r.createdAt()) >= time.Duration(r.hardTimeout)*time.Second {
		return openflow.FlowRemovedHardTimeout, true
	}
	if r.idleTimeout != 0 {
		last := r.created
		if u := r.stats.Used.Load(); u > last {
			last = u
		}
		if now.Sub(time.Unix(0, last)) >= time.Duration(r.idleTimeout)*time.Second {
			return openflow.FlowRemovedIdleTimeout, true
		}
	}
	return 0, false
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

// removeRules removes the victims (per table), runs also (if not nil) in
// the same critical section, and returns the removed rules. b.modMu must be
// held, b.mu not: replacement subtables are built while translation goes
// on, and only the edit holds b.mu for writing (see Bridge).
func (b *Bridge) removeRules(victims *[numTables][]*rule, also func()) []*rule {
	var plans [numTables]*removal
	var gone []*rule
	for i, vs := range victims {
		if len(vs) > 0 {
			plans[i] = b.tables[i].planRemove(vs)
			gone = append(gone, vs...)
		}
	}
	if len(gone) == 0 && also == nil {
		return nil
	}
	b.mu.Lock()
	for i, p := range plans {
		if p != nil {
			b.tables[i].applyRemove(p)
		}
	}
	if also != nil {
		also()
	}
	b.mu.Unlock()
	return gone
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
