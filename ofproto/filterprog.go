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
// The VM needs per-thread scratch (a ubpf.Thread). Filters run on the pmd
// threads (cache hits and upcalls) and on OpenFlow connection goroutines
// (packet-out through the pipeline), so instead of binding Threads to
// callers the bridge keeps a pool, sized from the datapath's pmd count, and
// a run claims a free Thread with one compare-and-swap: no lock, and no
// allocation.

import (
	"bytes"
	"errors"
	"fmt"
	"runtime"
	"sort"
	"sync/atomic"
	"time"

	"github.com/goko-net/goko/datapath"
	"github.com/goko-net/goko/openflow"
	"github.com/goko-net/goko/ubpf"
)

const (
	maxFilterProgs  = 4096
	maxProgramBytes = 16 << 20 // largest ELF object accepted over OpenFlow
	// sendMapsInterval is the least time between two map sends of one
	// program triggered by send_maps.
	sendMapsInterval = 100 * time.Millisecond
)

// filterProg is a registry entry. It implements datapath.Filter.
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
	s := f.pool.acquire()
	r, err := p.Run(s.t, in.Data)
	s.busy.Store(false)
	return err == nil && p.IsMatch(r)
}

// vmPool holds the ubpf.Threads that filter runs borrow.
type vmPool struct {
	slots []vmSlot
	next  atomic.Uint32
}

type vmSlot struct {
	busy atomic.Bool
	t    *ubpf.Thread
	_    [48]byte // keep busy flags of different slots on different cache lines
}

// newVMPool sizes the pool for pmds datapath threads plus the goroutines
// that can run at once on the remaining processors (connections running a
// packet-out through the pipeline), so a free slot is normally found at
// the first or second try.
func newVMPool(pmds int) *vmPool {
	p := &vmPool{slots: make([]vmSlot, max(pmds, 1)+runtime.GOMAXPROCS(0))}
	for i := range p.slots {
		p.slots[i].t = ubpf.NewThread()
	}
	return p
}

// acquire claims a free slot. If every slot is taken (holders preempted
// in the middle of a run), it yields after each lap.
func (p *vmPool) acquire() *vmSlot {
	i := p.next.Add(1)
	n := uint32(len(p.slots))
	for tries := uint32(1); ; tries++ {
		s := &p.slots[i%n]
		if !s.busy.Load() && s.busy.CompareAndSwap(false, true) {
			return s
		}
		i++
		if tries%n == 0 {
			runtime.Gosched()
		}
	}
}

// filterRegistry is a bridge's programs. Changed under Bridge.modMu and
// Bridge.mu held for writing; read under either.
type filterRegistry struct {
	progs map[uint32]*filterProg
	pool  *vmPool
}

// pendingLoad collects the chunks of one LOAD_FILTER_PROG on a connection.
type pendingLoad struct {
	progID uint32
	name   string
	total  uint32
	budget uint64
	data   []byte
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

// filterMap finds a map of a program.
func (b *Bridge) filterMap(id uint32, name string) (*ubpf.Map, error) {
	b.mu.RLock()
	f := b.filters.progs[id]
	b.mu.RUnlock()
	if f == nil {
		return nil, gokoErr(openflow.GokoErrUnknownProg, "no filter program %d", id)
	}
	m := f.prog.Load().Map(name)
	if m == nil {
		var names []string
		for _, m := range f.prog.Load().Maps() {
			names = append(names, m.Name())
		}
		return nil, gokoErr(openflow.GokoErrUnknownMap, "program %d has no map %q (it has %v)", id, name, names)
	}
	return m, nil
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

// mapDumps returns a map's contents split into parts that each fit in one
// OpenFlow message.
func mapDumps(id uint32, m *ubpf.Map) []*openflow.GokoMapDump {
	const budget = 60000 // bytes of entries per message, below the 64 KiB limit
	cur := &openflow.GokoMapDump{ProgID: id, Map: m.Name()}
	parts := []*openflow.GokoMapDump{cur}
	size := 0
	m.Iterate(func(k, v []byte) bool {
		n := 8 + pad8(len(k)) + pad8(len(v))
		if size+n > budget && len(cur.Entries) > 0 {
			cur = &openflow.GokoMapDump{ProgID: id, Map: m.Name()}
			parts = append(parts, cur)
			size = 0
		}
		cur.Entries = append(cur.Entries, openflow.GokoMapEntry{Key: bytes.Clone(k), Value: bytes.Clone(v)})
		size += n
		return true
	})
	return parts
}

func pad8(n int) int { return (n + 7) &^ 7 }

// updateMap applies UPDATE_MAP or DELETE_MAP_ENTRY.
func (b *Bridge) updateMap(u *openflow.GokoMapUpdate, del bool) error {
	m, err := b.filterMap(u.ProgID, u.Map)
	if err != nil {
		return err
	}
	if ks := m.KeySize(); ks != 0 && len(u.Key) != ks {
		return gokoErr(openflow.GokoErrBadKey, "map %q takes %d-byte keys, got %d", u.Map, ks, len(u.Key))
	}
	if del {
		err = m.Delete(u.Key)
	} else {
		want := m.ValueSize()
		if m.PerThread() && len(u.Value) == m.ValueSize() {
			// One value for every thread slot: replicate it.
			u.Value = bytes.Repeat(u.Value, ubpf.ThreadSlots)
			want *= ubpf.ThreadSlots
		}
		if len(u.Value) != want {
			return gokoErr(openflow.GokoErrBadValue, "map %q takes %d-byte values, got %d", u.Map, m.ValueSize(), len(u.Value))
		}
		if u.Flags > openflow.GokoMapExist {
			return gokoErr(openflow.GokoErrBadRequest, "unknown update flags %d", u.Flags)
		}
		err = m.Update(u.Key, u.Value, ubpf.UpdateFlags(u.Flags))
	}
	switch {
	case err == nil:
		return nil
	case errors.Is(err, ubpf.ErrKeyNotExist):
		return gokoErr(openflow.GokoErrNoEntry, "map %q: %v", u.Map, err)
	case errors.Is(err, ubpf.ErrKeyExist):
		return gokoErr(openflow.GokoErrExists, "map %q: %v", u.Map, err)
	case errors.Is(err, ubpf.ErrMapFull):
		return gokoErr(openflow.GokoErrMapFull, "map %q: %v", u.Map, err)
	case errors.Is(err, ubpf.ErrNotSupported):
		return gokoErr(openflow.GokoErrUnsupported, "map %q: %v", u.Map, err)
	}
	return gokoErr(openflow.GokoErrBadRequest, "map %q: %v", u.Map, err)
}

// gokoError is an error answered with an OFPET_EXPERIMENTER error.
type gokoError struct {
	code uint16
	msg  string
}

func (e *gokoError) Error() string {
	return openflow.GokoErrorName(e.code) + ": " + e.msg
}

func gokoErr(code uint16, format string, args ...any) error {
	return &gokoError{code: code, msg: fmt.Sprintf(format, args...)}
}

// sendMapsArg rides on the datapath's Userspace action for send_maps.
type sendMapsArg struct {
	prog *filterProg
	maps []string
}

// sendMaps sends a program's maps to the controllers, at most once per
// sendMapsInterval per program, off the datapath thread.
func (b *Bridge) sendMaps(a *sendMapsArg) {
	now := time.Now().UnixNano()
	last := a.prog.lastSend.Load()
	if now-last < int64(sendMapsInterval) || !a.prog.lastSend.CompareAndSwap(last, now) {
		return
	}
	go func() {
		p := a.prog.prog.Load()
		var maps []*ubpf.Map
		if len(a.maps) == 0 {
			maps = p.Maps()
		}
		for _, n := range a.maps {
			if m := p.Map(n); m != nil {
				maps = append(maps, m)
			}
		}
		for _, m := range maps {
			for _, part := range mapDumps(a.prog.id, m) {
				b.broadcastExperimenter(openflow.GokoMapContents, part.Marshal())
			}
		}
	}()
}

// broadcastExperimenter sends a goko experimenter message to every
// connection that is up, as an asynchronous message.
func (b *Bridge) broadcastExperimenter(expType uint32, body []byte) {
	msg := &openflow.Experimenter{Experimenter: openflow.GokoExperimenter, ExpType: expType, Data: body}
	enc, err := openflow.Marshal(0, msg)
	if err != nil {
		b.log.Error("encode goko message", "err", err)
		return
	}
	b.connMu.Lock()
	defer b.connMu.Unlock()
	for c := range b.conns {
		if c.ready.Load() && openflow.ControllerRole(c.role.Load()) != openflow.RoleSlave {
			c.queueAsync(enc)
		}
	}
}

// gokoMessage handles one goko experimenter message.
func (c *Conn) gokoMessage(xid uint32, m *openflow.Experimenter) error {
	b := c.b
	switch m.ExpType {
	case openflow.GokoLoadFilterProg:
		var ld openflow.GokoLoadFilterProgMsg
		if err := ld.Unmarshal(m.Data); err != nil {
			return gokoErr(openflow.GokoErrBadRequest, "%v", err)
		}
		budget := ld.RunBudget
		if ld.Offset != 0 && c.load != nil {
			budget = c.load.budget
		}
		obj, done, err := c.collectChunk(&ld)
		if err != nil || !done {
			return err
		}
		if budget > ubpf.MaxRunBudget {
			return gokoErr(openflow.GokoErrBadRequest, "load filter %d: run budget %d exceeds %d", ld.ProgID, budget, ubpf.MaxRunBudget)
		}
		p, err := b.LoadFilterProgOpts(ld.ProgID, obj, FilterLoadOptions{Name: ld.Name, RunBudget: int(budget)})
		if err != nil {
			return err
		}
		list := &openflow.GokoFilterProgList{Progs: []openflow.GokoFilterProgInfo{progInfo(ld.ProgID, p)}}
		c.sendXID(xid, &openflow.Experimenter{Experimenter: openflow.GokoExperimenter,
			ExpType: openflow.GokoFilterProgLoaded, Data: list.Marshal()})
	case openflow.GokoUnloadFilterProg:
		var ref openflow.GokoProgRef
		if err := ref.Unmarshal(m.Data); err != nil {
			return gokoErr(openflow.GokoErrBadRequest, "%v", err)
		}
		return b.UnloadFilterProg(ref.ProgID)
	case openflow.GokoUpdateMap, openflow.GokoDeleteMapEntry:
		var u openflow.GokoMapUpdate
		if err := u.Unmarshal(m.Data); err != nil {
			return gokoErr(openflow.GokoErrBadRequest, "%v", err)
		}
		return b.updateMap(&u, m.ExpType == openflow.GokoDeleteMapEntry)
	default:
		return openflow.Errorf(openflow.BRCBadExpType, "unknown goko message type %d", m.ExpType)
	}
	return nil
}

// collectChunk adds one chunk of a program load and returns the whole
// object once the last chunk arrived.
func (c *Conn) collectChunk(ld *openflow.GokoLoadFilterProgMsg) ([]byte, bool, error) {
	if ld.TotalLen > maxProgramBytes {
		return nil, false, gokoErr(openflow.GokoErrBadChunk, "object of %d bytes exceeds %d", ld.TotalLen, maxProgramBytes)
	}
	p := c.load
	if ld.Offset == 0 {
		p = &pendingLoad{progID: ld.ProgID, name: ld.Name, total: ld.TotalLen, budget: ld.RunBudget, data: make([]byte, 0, ld.TotalLen)}
		c.load = p
	}
	if p == nil || p.progID != ld.ProgID || p.total != ld.TotalLen || uint32(len(p.data)) != ld.Offset ||
		uint64(len(p.data))+uint64(len(ld.Data)) > uint64(p.total) {
		c.load = nil
		return nil, false, gokoErr(openflow.GokoErrBadChunk, "chunk at offset %d of program %d is out of sequence", ld.Offset, ld.ProgID)
	}
	p.data = append(p.data, ld.Data...)
	if ld.Flags&openflow.GokoLoadMore != 0 {
		return nil, false, nil
	}
	c.load = nil
	if uint32(len(p.data)) != p.total {
		return nil, false, gokoErr(openflow.GokoErrBadChunk, "program %d: got %d of %d bytes", ld.ProgID, len(p.data), p.total)
	}
	return p.data, true, nil
}

// gokoMultipart answers goko's experimenter multipart requests.
func (c *Conn) gokoMultipart(xid uint32, body *openflow.MultipartExperimenterBody) error {
	b := c.b
	var parts [][]byte
	switch body.ExpType {
	case openflow.GokoMPFilterProgs:
		var ref openflow.GokoProgRef
		if err := ref.Unmarshal(body.Data); err != nil {
			return gokoErr(openflow.GokoErrBadRequest, "%v", err)
		}
		list, err := b.filterProgList(ref.ProgID)
		if err != nil {
			return err
		}
		parts = append(parts, list.Marshal())
	case openflow.GokoMPMap:
		var ref openflow.GokoMapRef
		if err := ref.Unmarshal(body.Data); err != nil {
			return gokoErr(openflow.GokoErrBadRequest, "%v", err)
		}
		m, err := b.filterMap(ref.ProgID, ref.Map)
		if err != nil {
			return err
		}
		for _, d := range mapDumps(ref.ProgID, m) {
			parts = append(parts, d.Marshal())
		}
	default:
		var err error
		if parts, err = c.gokoDiag(body); err != nil {
			return err
		}
	}
	c.sendGokoParts(xid, body.ExpType, parts)
	return nil
}

// sendGokoParts sends the parts of a goko multipart reply.
func (c *Conn) sendGokoParts(xid, expType uint32, parts [][]byte) {
	for i, p := range parts {
		reply := &openflow.MultipartReply{Body: &openflow.MultipartExperimenterBody{
			Experimenter: openflow.GokoExperimenter, ExpType: expType, Data: p}}
		if i < len(parts)-1 {
			reply.Flags = openflow.MultipartMore
		}
		c.sendXID(xid, reply)
	}
}
