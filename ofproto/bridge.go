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

// Bridge is one OpenFlow switch instance.
type Bridge struct {
	cfg Config
	log *slog.Logger
	dp  *datapath.Datapath

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
	b.mu.Lock()
	for _, p := range b.portList {
		if up := p.dp.Info().LinkUp; up != p.linkUp {
			p.linkUp = up
			changed = append(changed, b.portDesc(p))
		}
	}
	b.mu.Unlock()
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

// expireFlows removes flows whose timeouts passed.
func (b *Bridge) expireFlows(now time.Time) {
	type expired struct {
		r      *rule
		reason openflow.FlowRemovedReason
	}
	var gone []expired
	b.mu.Lock()
	for t := range b.tables {
		tbl := &b.tables[t]
		tbl.removeIf(func(r *rule) bool {
			if r.hardTimeout != 0 && now.Sub(r.created) >= time.Duration(r.hardTimeout)*time.Second {
				gone = append(gone, expired{r, openflow.FlowRemovedHardTimeout})
				return true
			}
			if r.idleTimeout != 0 {
				last := r.created
				if u := r.stats.Used.Load(); u != 0 && u > last.UnixNano() {
					last = time.Unix(0, u)
				}
				if now.Sub(last) >= time.Duration(r.idleTimeout)*time.Second {
					gone = append(gone, expired{r, openflow.FlowRemovedIdleTimeout})
					return true
				}
			}
			return false
		})
	}
	b.mu.Unlock()
	if len(gone) == 0 {
		return
	}
	b.dp.Invalidate()
	for _, e := range gone {
		b.sendFlowRemoved(e.r, e.reason, now)
	}
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
