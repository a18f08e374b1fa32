package ofproto

// Filter programs.
//
// A bridge keeps a registry of eBPF filter programs by id. A flow that
// matches on filter_prog=N holds the registry entry (filterProg), not the
// program: loading a new program under the same id swaps the entry's
// atomic pointer, so every flow and every cached megaflow uses the new
// program from the next packet on, without invalidating anything and
// without a window where no program is installed. That is also why cache
// entries stay correct across a reload: a megaflow records which result
// each filter gave when it was translated, and the datapath re-runs the
// filter on every packet (see datapath/cache.go), so a packet for which
// the new program answers differently simply misses and is translated
// again.
//
// A run on a datapath thread uses that thread's VM scratch, elsewhere it
// borrows one from the bridge's pool (vmpool.go); the
// wire messages that load programs are in experimenter.go, and what
// controllers do with maps in filtermaps.go.

import (
	"errors"
	"sort"
	"sync/atomic"

	"github.com/goko-net/goko/datapath"
	"github.com/goko-net/goko/openflow"
	"github.com/goko-net/goko/ubpf"
)

// maxFilterProgs is how many programs a bridge holds at most.
const maxFilterProgs = 4096

// filterProg is a registry entry. It implements datapath.ProgramFilter:
// on a cache hit the datapath runs the current program itself.
type filterProg struct {
	id       uint32
	prog     atomic.Pointer[ubpf.Program]
	pool     *vmPool
	lastSend atomic.Int64 // unix ns of the last send_maps of this program
}

// Match runs the current program on the packet; a run-time fault counts
// as no match (ubpf counts and logs it).
func (f *filterProg) Match(in *datapath.FilterInput) bool {
	p := f.prog.Load()
	if in.VM != nil {
		return p.Match(in.VM, in.Data)
	}
	s := f.pool.acquire()
	ok := p.Match(s.t, in.Data)
	s.busy.Store(false)
	return ok
}

// Program is the entry's program pointer, for the datapath.
func (f *filterProg) Program() *atomic.Pointer[ubpf.Program] { return &f.prog }

// filterRegistry is a bridge's programs. Changed under Bridge.modMu and
// Bridge.mu held for writing; read under either.
type filterRegistry struct {
	progs map[uint32]*filterProg
	pool  *vmPool
}

// FilterLoadOptions are the per-program choices of a load.
type FilterLoadOptions struct {
	Name      string // function or section of the object; empty: the first program
	RunBudget int    // instructions per run; 0: Config.FilterRunBudget
}

// LoadFilterProg verifies an ELF object and installs its program as id,
// replacing (atomically) a program already there. Maps declared exactly as
// the old program's keep their contents.
func (b *Bridge) LoadFilterProg(id uint32, obj []byte, name string) (*ubpf.Program, error) {
	return b.LoadFilterProgOpts(id, obj, FilterLoadOptions{Name: name})
}

// LoadFilterProgOpts is LoadFilterProg with per-program options.
func (b *Bridge) LoadFilterProgOpts(id uint32, obj []byte, o FilterLoadOptions) (*ubpf.Program, error) {
	name := o.Name
	budget := o.RunBudget
	if budget == 0 {
		budget = b.cfg.FilterRunBudget
	}
	if id == 0 || id == openflow.GokoAllProgs {
		return nil, gokoErr(openflow.GokoErrBadRequest, "program id %d is reserved", id)
	}
	b.mu.RLock()
	var reuse map[string]*ubpf.Map
	if old := b.filters.progs[id]; old != nil {
		reuse = map[string]*ubpf.Map{}
		for _, m := range old.prog.Load().Maps() {
			reuse[m.Name()] = m
		}
	}
	b.mu.RUnlock()
	p, err := ubpf.LoadELFBytes(obj, ubpf.LoadOptions{Program: name, Logger: b.log.With("filter_prog", id),
		ReuseMaps: reuse, MeasureTime: true, RunBudget: budget, MapMemoryLimit: b.cfg.FilterMapMemory,
		Engine: b.cfg.Engine})
	if err != nil {
		var verr *ubpf.VerifierError
		if errors.As(err, &verr) {
			return nil, gokoErr(openflow.GokoErrVerifier, "load filter %d: %v", id, err)
		}
		return nil, gokoErr(openflow.GokoErrBadELF, "load filter %d: %v", id, err)
	}
	err = b.update(func(tx *txn) error {
		reg := &b.filters
		f := reg.progs[id]
		if f == nil {
			if len(reg.progs) >= maxFilterProgs {
				return gokoErr(openflow.GokoErrProgsExhausted, "%d programs loaded already", len(reg.progs))
			}
			f = &filterProg{id: id, pool: reg.pool}
			tx.addFilter(f)
		}
		tx.setProgram(f, p)
		return nil
	})
	if err != nil {
		return nil, err
	}
	b.log.Info("filter program loaded", "id", id, "name", p.Name(), "insns", p.InsnCount(), "maps", len(p.Maps()), "run_budget", p.RunBudget())
	return p, nil
}

// UnloadFilterProg removes program id; flows must not match on it.
func (b *Bridge) UnloadFilterProg(id uint32) error {
	return b.update(func(tx *txn) error {
		f := b.filters.progs[id]
		if f == nil {
			return gokoErr(openflow.GokoErrUnknownProg, "no filter program %d", id)
		}
		n := 0
		for t := range b.tables {
			b.tables[t].each(func(r *rule) {
				if r.fm.filter == f {
					n++
				}
			})
		}
		if n > 0 {
			return gokoErr(openflow.GokoErrProgInUse, "filter program %d is used by %d flows; delete them first", id, n)
		}
		tx.deleteFilter(id)
		return nil
	})
}

// lookupFilter returns program id; b.modMu or b.mu must be held.
func (b *Bridge) lookupFilter(id uint32) (*filterProg, error) {
	if f := b.filters.progs[id]; f != nil {
		return f, nil
	}
	return nil, gokoErr(openflow.GokoErrUnknownProg, "filter_prog=%d is not loaded (ofctl load-filter-prog first)", id)
}

func progInfo(id uint32, p *ubpf.Program) openflow.GokoFilterProgInfo {
	st := p.Stats()
	info := openflow.GokoFilterProgInfo{ProgID: id, Name: p.Name(), InsnCount: uint32(p.InsnCount()),
		Runs: st.Runs, Matches: st.Matches, Errors: st.Errors, RunNs: st.TotalNs}
	for _, m := range p.Maps() {
		mi := m.Info()
		info.Maps = append(info.Maps, openflow.GokoMapInfo{Name: mi.Name, Type: mi.Type.String(), KeySize: mi.KeySize,
			ValueSize: mi.ValueSize, MaxEntries: mi.MaxEntries, Entries: uint32(mi.Entries)})
	}
	return info
}

// filterProgList describes program id, or all programs.
func (b *Bridge) filterProgList(id uint32) (*openflow.GokoFilterProgList, error) {
	b.mu.RLock()
	defer b.mu.RUnlock()
	list := &openflow.GokoFilterProgList{}
	if id != openflow.GokoAllProgs {
		f := b.filters.progs[id]
		if f == nil {
			return nil, gokoErr(openflow.GokoErrUnknownProg, "no filter program %d", id)
		}
		list.Progs = append(list.Progs, progInfo(id, f.prog.Load()))
		return list, nil
	}
	for pid, f := range b.filters.progs {
		list.Progs = append(list.Progs, progInfo(pid, f.prog.Load()))
	}
	sort.Slice(list.Progs, func(i, j int) bool { return list.Progs[i].ProgID < list.Progs[j].ProgID })
	return list, nil
}
