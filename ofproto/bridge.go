// Package ofproto is goko's OpenFlow agent: it holds a bridge's flow
// tables and ports, serves OpenFlow 1.3 connections, translates packets
// that miss the datapath caches through the OpenFlow pipeline, and turns
// datapath upcalls into packet-ins.
//
// It knows OpenFlow (package openflow) and the datapath's seam (package
// datapath), and nothing of how ports are opened or connections made:
// the daemon hands it datapath ports and net.Conns.
package ofproto

// Locks, in the order they are taken: a goroutine holding one of them
// takes only locks further down the list (as dpif-netdev.c writes it).
//
//  1. Bridge.mu (RWMutex): flow tables, groups, meters, ports, the switch
//     config and the filter-program registry. Written only through
//     Bridge.update (change.go); translation (a pmd's upcall) and the
//     request handlers hold it for reading.
//  2. datapath.Datapath.mu: the datapath's port set and receive-queue
//     owners. Bridge.AddPort takes it under Bridge.mu.
//  3. A port's own lock (dpdk.Port.mu).
//
// Leaves, under which nothing else is taken: Bridge.connMu (connections
// and the role election), pktBuffer.mu (packet-in buffers), a connection's
// queues, and the locks inside ubpf maps.
//
// Waiting on the pmds. datapath.Sync (the barrier), SyncCounters and
// RemovePort wait until every pmd finishes its current iteration, and an
// iteration may take Bridge.mu for reading (a translation) and
// Bridge.connMu (a packet-in). So they are called with neither held; a
// wait under either would deadlock with a pmd waiting for it.

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
}

// Bridge is one OpenFlow switch instance.
type Bridge struct {
	cfg Config
	log *slog.Logger
	dp  *datapath.Datapath

	mu       sync.RWMutex // guards tables, ports, portList, groups, meters, filters; see change.go
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
		filters: filterRegistry{progs: map[uint32]*filterProg{}, pool: newVMPool(1)},
		started: time.Now(),
	}
	b.missSendLen.Store(128)
	return b
}

// Name returns the bridge name.
func (b *Bridge) Name() string { return b.cfg.Name }

// SetDatapath attaches the datapath this bridge programs; call it before
// anything else.
func (b *Bridge) SetDatapath(dp *datapath.Datapath) {
	b.dp = dp
	b.filters.pool = newVMPool(dp.PMDs())
}

// AddPort attaches a datapath port as OpenFlow port no (0: the lowest free
// number) and announces it to controllers. It returns the number used.
func (b *Bridge) AddPort(no uint32, p datapath.Port) (uint32, error) {
	var desc openflow.Port
	err := b.update(func(tx *txn) error {
		if no == 0 {
			for no = 1; b.ports[no] != nil; no++ {
			}
		}
		if no > openflow.PortMax {
			return fmt.Errorf("add port %q: number %d above OFPP_MAX", p.Info().Name, no)
		}
		if b.ports[no] != nil {
			return fmt.Errorf("add port %q: number %d already used by %q", p.Info().Name, no, b.ports[no].dp.Info().Name)
		}
		// Datapath.AddPort never waits for the pmds, so it may run under
		// Bridge.mu (see the lock order above).
		if err := b.dp.AddPort(no, p); err != nil {
			return err
		}
		pt := &port{no: no, dp: p, linkUp: p.Info().LinkUp}
		tx.addPort(pt)
		desc = b.portDesc(pt)
		return nil
	})
	if err != nil {
		return 0, err
	}
	b.broadcastPortStatus(openflow.PortReasonAdd, desc)
	return no, nil
}

// RemovePort detaches and closes port no.
func (b *Bridge) RemovePort(no uint32) error {
	var desc openflow.Port
	err := b.update(func(tx *txn) error {
		pt := b.ports[no]
		if pt == nil {
			return fmt.Errorf("remove port %d: no such port", no)
		}
		desc = b.portDesc(pt)
		tx.removePort(no)
		return nil
	})
	if err != nil {
		return err
	}
	// Outside Bridge.mu: the datapath waits until no pmd uses the port,
	// and a pmd may be waiting for Bridge.mu in a translation.
	err = b.dp.RemovePort(no)
	b.broadcastPortStatus(openflow.PortReasonDelete, desc)
	return err
}

func sortPorts(list []*port) {
	sort.Slice(list, func(i, j int) bool { return list[i].no < list[j].no })
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
	b.update(func(tx *txn) error {
		for _, p := range b.portList {
			if up := p.dp.Info().LinkUp; up != p.linkUp {
				tx.setLink(p, up)
				changed = append(changed, b.portDesc(p))
			}
		}
		return nil
	})
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
	b.update(func(tx *txn) error {
		for t := range b.tables {
			tx.removeIf(&b.tables[t], func(r *rule) bool {
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
		return nil
	})
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
