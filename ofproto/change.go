package ofproto

// Changing state, then invalidating.
//
// The datapath caches decisions made from the bridge's state: flow tables,
// groups, meters, ports (their set, configuration and link state), the
// switch configuration and the filter-program registry. A change to any of
// them must reach the datapath caches before it is acknowledged: once a
// BARRIER_REPLY is sent, no packet may be forwarded by a decision made from
// older state.
//
// One path does that. Every change runs inside Bridge.update, which holds
// Bridge.mu for writing, hands the change a *txn, and after the change
// tells the datapath what became stale, still under the lock (so a
// translation that read the old state cannot be installed under the new
// version). The state is written only by methods of *txn, each of which
// records what it changed, so a new kind of change cannot forget to
// invalidate: a test (change_test.go) checks that nothing else in the
// package writes that state, and that only update makes a txn. What a
// recorded change makes stale is worked out in revalidate.go.
//
// The barrier then needs only datapath.Sync, which waits until every pmd
// has finished the iteration it was in (see datapath/datapath.go).

import (
	"github.com/goko-net/goko/datapath"
	"github.com/goko-net/goko/openflow"
	"github.com/goko-net/goko/ubpf"
)

// txn is one change to the bridge's state, made under Bridge.mu held for
// writing. It records what the change can make stale.
type txn struct {
	b   *Bridge
	all bool // every cached decision may depend on what changed
	ch  staleSet
}

// update applies a change: fn runs with Bridge.mu held for writing and
// changes state only through tx; whatever it changed is invalidated in
// the datapath before the lock is released, also when fn fails half-way.
func (b *Bridge) update(fn func(tx *txn) error) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	tx := &txn{b: b}
	err := fn(tx)
	switch {
	case b.dp == nil:
	case tx.all || len(tx.ch.added)+len(tx.ch.gone) > maxPreciseRules:
		b.dp.Invalidate()
	case !tx.ch.empty():
		ch := tx.ch
		b.dp.Revalidate(ch.stale)
	}
	return err
}

// insert adds r to table t.
func (tx *txn) insert(t *flowTable, r *rule) {
	t.insert(r)
	tx.ch.added = append(tx.ch.added, r)
}

// replace puts r in the place of old in table t.
func (tx *txn) replace(t *flowTable, old, r *rule) {
	t.replace(old, r)
	tx.gone(old)
	tx.ch.added = append(tx.ch.added, r)
}

// removeIf deletes the rules of t for which pred holds and returns them.
func (tx *txn) removeIf(t *flowTable, pred func(*rule) bool) []*rule {
	removed := t.removeIf(pred)
	for _, r := range removed {
		tx.gone(r)
	}
	return removed
}

// modify gives r new instructions and, if reset, new counters.
func (tx *txn) modify(r *rule, ins []openflow.Instruction, reset bool) {
	r.instructions = ins
	if reset {
		// Megaflows point at the old counters until they are
		// revalidated; the new ones start at zero.
		r.stats = new(datapath.FlowStats)
	}
	tx.gone(r)
}

// gone records that megaflows won by r are stale.
func (tx *txn) gone(r *rule) {
	if tx.ch.gone == nil {
		tx.ch.gone = map[*rule]struct{}{}
	}
	tx.ch.gone[r] = struct{}{}
}

// setGroup adds or replaces group g.
func (tx *txn) setGroup(g *group) {
	tx.b.groups[g.id] = g
	tx.groupChanged(g.id)
}

// deleteGroup removes group id.
func (tx *txn) deleteGroup(id uint32) {
	delete(tx.b.groups, id)
	tx.groupChanged(id)
}

func (tx *txn) groupChanged(id uint32) {
	if tx.ch.groups == nil {
		tx.ch.groups = map[uint32]struct{}{}
	}
	tx.ch.groups[id] = struct{}{}
}

// setMeter adds or replaces meter m.
func (tx *txn) setMeter(m *meter) {
	tx.b.meters[m.id] = m
	tx.meterChanged(m.id)
}

// deleteMeter removes meter id.
func (tx *txn) deleteMeter(id uint32) {
	delete(tx.b.meters, id)
	tx.meterChanged(id)
}

func (tx *txn) meterChanged(id uint32) {
	if tx.ch.meters == nil {
		tx.ch.meters = map[uint32]struct{}{}
	}
	tx.ch.meters[id] = struct{}{}
}

// addPort attaches pt (already in the datapath).
func (tx *txn) addPort(pt *port) {
	tx.b.ports[pt.no] = pt
	tx.rebuildPortList()
}

// removePort detaches port no (the datapath port goes after the update).
func (tx *txn) removePort(no uint32) {
	delete(tx.b.ports, no)
	tx.rebuildPortList()
}

func (tx *txn) rebuildPortList() {
	b := tx.b
	b.portList = b.portList[:0]
	for _, p := range b.ports {
		b.portList = append(b.portList, p)
	}
	sortPorts(b.portList)
	tx.all = true // flood and liveness depend on the port set
}

// setPortConfig sets p's administrative configuration.
func (tx *txn) setPortConfig(p *port, cfg openflow.PortConfig) {
	if p.config != cfg {
		p.config = cfg
		tx.all = true
	}
}

// setLink records p's link state (fast-failover and select groups watch it).
func (tx *txn) setLink(p *port, up bool) {
	if p.linkUp != up {
		p.linkUp = up
		tx.all = true
	}
}

// setSwitchFlags sets the OFPC_* flags (fragment handling is decided at
// translation time).
func (tx *txn) setSwitchFlags(f openflow.ConfigFlags) {
	if openflow.ConfigFlags(tx.b.switchFlags.Swap(uint32(f))) != f {
		tx.all = true
	}
}

// addFilter registers a program entry under its id: send_maps actions
// naming the id translate differently from now on.
func (tx *txn) addFilter(f *filterProg) {
	tx.b.filters.progs[f.id] = f
	tx.all = true
}

// setProgram makes p the program of entry f. Nothing becomes stale: a
// megaflow re-runs its filters on every packet and misses when the new
// program answers differently (see filterprog.go).
func (tx *txn) setProgram(f *filterProg, p *ubpf.Program) {
	f.prog.Store(p)
}

// deleteFilter removes program id from the registry.
func (tx *txn) deleteFilter(id uint32) {
	delete(tx.b.filters.progs, id)
	tx.all = true
}
