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
// Bridge.modMu from the change's checks to its end and hands it a *txn;
// the state is written only by methods of *txn, each of which takes
// Bridge.mu for writing around its edit alone (edits made inside
// txn.edit share one critical section) and records what it changed. When
// the change is done, update tells the datapath what became stale, still
// under modMu. So a new kind of change cannot forget to invalidate: a
// test (change_test.go) checks that nothing else in the package writes
// that state, and that only update makes a txn; internal/layering checks
// that nothing else in the module calls Datapath.Revalidate or Invalidate.
// What a recorded change makes stale is worked out in revalidate.go.
//
// Why invalidating after the edit is enough: a translation that read the
// old state finished before the edit took mu; if its megaflow was
// installed, it was installed before the Revalidate call, and the pmds
// apply every request to every megaflow they hold before their next
// packet. A translation that reads the new state is right. Nothing is
// acknowledged before update returns.
//
// The barrier then needs only datapath.Sync, which waits until every pmd
// has finished the iteration it was in (see datapath/datapath.go).

import (
	"github.com/goko-net/goko/datapath"
	"github.com/goko-net/goko/openflow"
	"github.com/goko-net/goko/ubpf"
)

// txn is one change to the bridge's state, made under Bridge.modMu. It
// records what the change can make stale.
type txn struct {
	b    *Bridge
	all  bool // every cached decision may depend on what changed
	ch   staleSet
	held bool // Bridge.mu is held for writing (inside edit)
}

// update applies a change: fn runs with Bridge.modMu held and changes
// state only through tx; whatever it changed is invalidated in the
// datapath before modMu is released, also when fn fails half-way.
func (b *Bridge) update(fn func(tx *txn) error) error {
	b.modMu.Lock()
	defer b.modMu.Unlock()
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

// edit runs fn with Bridge.mu held for writing: translation sees all of
// fn's edits or none. Edits inside fn share the critical section.
func (tx *txn) edit(fn func()) {
	if tx.held {
		fn()
		return
	}
	tx.b.mu.Lock()
	tx.held = true
	defer func() {
		tx.held = false
		tx.b.mu.Unlock()
	}()
	fn()
}

// insert adds r to table t.
func (tx *txn) insert(t *flowTable, r *rule) {
	tx.edit(func() { t.insert(r) })
	tx.ch.added = append(tx.ch.added, r)
}

// replace puts r in the place of old in table t.
func (tx *txn) replace(t *flowTable, old, r *rule) {
	tx.edit(func() { t.replace(old, r) })
	tx.gone(old)
	tx.ch.added = append(tx.ch.added, r)
}

// removeRules removes the victims (per table), runs also (if not nil) in
// the same critical section, and returns the removed rules. The
// replacement subtables are built before mu is taken, while translation
// goes on (see Bridge).
func (tx *txn) removeRules(victims *[numTables][]*rule, also func()) []*rule {
	var plans [numTables]*removal
	var gone []*rule
	for i, vs := range victims {
		if len(vs) > 0 {
			plans[i] = tx.b.tables[i].planRemove(vs)
			gone = append(gone, vs...)
		}
	}
	if len(gone) == 0 && also == nil {
		return nil
	}
	tx.edit(func() {
		for i, p := range plans {
			if p != nil {
				tx.b.tables[i].applyRemove(p)
			}
		}
		if also != nil {
			also()
		}
	})
	for _, r := range gone {
		tx.gone(r)
	}
	return gone
}

// modify gives r new instructions and, if reset, new counters.
func (tx *txn) modify(r *rule, ins []openflow.Instruction, reset bool) {
	tx.edit(func() {
		r.instructions = ins
		if reset {
			// Megaflows point at the old counters until they are
			// revalidated; the new ones start at zero.
			r.stats = new(datapath.FlowStats)
		}
	})
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
	tx.edit(func() { tx.b.groups[g.id] = g })
	tx.groupChanged(g.id)
}

// deleteGroup removes group id.
func (tx *txn) deleteGroup(id uint32) {
	tx.edit(func() { delete(tx.b.groups, id) })
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
	tx.edit(func() { tx.b.meters[m.id] = m })
	tx.meterChanged(m.id)
}

// deleteMeter removes meter id.
func (tx *txn) deleteMeter(id uint32) {
	tx.edit(func() { delete(tx.b.meters, id) })
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
	tx.edit(func() {
		tx.b.ports[pt.no] = pt
		tx.rebuildPortList()
	})
}

// removePort detaches port no (the datapath port goes after the edit).
func (tx *txn) removePort(no uint32) {
	tx.edit(func() {
		delete(tx.b.ports, no)
		tx.rebuildPortList()
	})
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
		tx.edit(func() { p.config = cfg })
		tx.all = true
	}
}

// setLink records p's link state (fast-failover and select groups watch it).
func (tx *txn) setLink(p *port, up bool) {
	if p.linkUp != up {
		tx.edit(func() { p.linkUp = up })
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
	tx.edit(func() { tx.b.filters.progs[f.id] = f })
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
	tx.edit(func() { delete(tx.b.filters.progs, id) })
	tx.all = true
}
