package datapath

// The upcall: what flows between the datapath and the OpenFlow layer.
//
// Datapath to translator, when a packet misses both caches (Miss, read
// only): the packet as received, its flow key and header offsets, and the
// filter results the cache lookup already computed for it (Known), so a
// program runs at most once per packet.
//
// Translator to datapath (Translation): the bits of the key the decision
// depended on (Mask; in_port is always added by the datapath, whose
// caches are per input port), the filter chain the decision assumed, the
// actions, the counters every packet of the megaflow counts towards, an
// opaque record for revalidation (Deps), and whether the decision may be
// cached at all. Translation cannot fail: a packet the pipeline drops gets
// an empty action list, which is a decision like any other.
//
// Datapath to filters, on every cache hit that has a filter chain and in
// translation (FilterInput): the packet as received with what the parser
// found, so a filter that needs header fields (conntrack) does not parse
// again.
//
// The datapath keeps the result as a Megaflow: the masked key and the
// translation. Revalidate's predicates and read-only dumps see that.
//
// Datapath to the OpenFlow layer, for ActUserspace (Upcaller): the packet,
// its key, and the context the translator attached to the action.

import (
	"sync/atomic"

	"github.com/goko-net/goko/ubpf"
)

// FilterInput is one packet as a filter sees it: the frame as received
// (after tunnel decapsulation) and what the parser found. Filters only
// read it.
type FilterInput struct {
	Data []byte
	Key  *FlowKey
	Off  Offsets
	// VM is the eBPF scratch (a ubpf.Thread) of the datapath thread
	// running the filter, nil on any other goroutine. Only that thread
	// uses it, so a run on it claims nothing.
	VM *ubpf.Thread
}

// Filter is a packet filter run by the datapath: an eBPF program, or
// connection tracking's reply check. Match must be safe for concurrent use
// by several datapath threads and must not allocate.
type Filter interface {
	Match(in *FilterInput) bool
}

// ProgramFilter is a Filter that runs the eBPF program its Program
// pointer holds (which may be replaced at any time): Match(in) must be
// Program().Load().Match(in.VM, in.Data) when in.VM is set. The datapath
// runs such a filter itself, on its own VM, without building a
// FilterInput or calling Match: on a cache hit, that glue cost as much as
// a short program.
type ProgramFilter interface {
	Filter
	Program() *atomic.Pointer[ubpf.Program]
}

// FilterCheck is one step of an Oko filter chain (Oko: the Open vSwitch
// fork that made eBPF filter programs a match field): the filter must
// return Want for the megaflow to apply.
type FilterCheck struct {
	Filter Filter
	Want   bool
}

// Miss is a packet that missed the caches, as the translator gets it.
type Miss struct {
	FilterInput
	// Known holds the filter results the cache lookup already computed
	// for this packet; a translator uses them instead of running those
	// filters again.
	Known []FilterCheck
}

// Translation is a translator's decision for a Miss and for every packet
// that agrees with it on Mask's bits and gives the same filter results.
type Translation struct {
	// Mask has the bits of the key the decision depended on; in_port is
	// added by the datapath.
	Mask    FlowKey
	Filters []FilterCheck // in order; each must give Want
	Actions []Action
	Stats   []*FlowStats // counted once per packet
	// Deps is the translator's record of what the decision depended on,
	// for the predicates it passes to Datapath.Revalidate; the datapath
	// never looks inside.
	Deps any
	// NoCache asks the datapath to execute the translation for this
	// packet without caching it: the decision depended on something the
	// flow key cannot express (fields of a packet inside an MPLS or PBB
	// header that the pipeline popped and then matched on).
	NoCache bool
}

// Megaflow is a cache entry: every packet whose key equals Key in the bits
// set in Mask, and whose Filters all give their expected result, gets
// Actions, and counts towards Stats.
type Megaflow struct {
	Key FlowKey // masked by Mask
	Translation
}

// Translator turns a packet that missed the caches into a Translation.
// It is implemented by the OpenFlow layer and called from datapath
// threads, so it must be safe for concurrent use. t is zero on entry.
type Translator interface {
	Translate(m *Miss, t *Translation)
}

// Upcaller receives packets sent to user space by ActUserspace. pkt is only
// valid during the call: implementations copy what they keep, and must not
// block.
type Upcaller interface {
	Upcall(pkt []byte, key *FlowKey, u *Userspace)
}

// upcall translates a packet that missed the cache and installs the result
// if no invalidation raced with the translation. Upcalls are rate-limited
// per pmd (a token bucket of upcallRate per second), so a storm of new
// flows costs a bounded share of the thread; packets over the limit are
// dropped and counted.
func (p *pmd) upcall(pkt *Packet, key *FlowKey, off *Offsets) *cachedFlow {
	if !p.takeUpcallToken() {
		p.dp.stats.upcallDrops.Add(1)
		p.cnt.lost++
		return nil
	}
	p.cnt.upcalls++
	ver := p.dp.version.Load()
	m := &p.miss
	*m = Miss{FilterInput: FilterInput{Data: pkt.Data, Key: key, Off: *off, VM: p.cache.in.VM}, Known: p.cache.memo[:p.cache.memoN]}
	f := &cachedFlow{}
	t := &f.mf.Translation
	p.dp.cfg.Translator.Translate(m, t)
	*m = Miss{}
	t.Mask.InPort = ^uint32(0) // subtables are per input port
	f.mf.Key.And(key, &t.Mask)
	f.actions = p.resolve(t.Actions, false)
	f.setFilters()
	f.simple = f.nFilters == 0 && inPortOnly(&t.Mask) && plainOutputs(f.actions)
	f.out = singleOutput(f.actions)
	if !t.NoCache && ver == p.cacheVer && p.dp.version.Load() == ver && !p.cache.insert(f) {
		p.dp.flowLimitHit(p.now)
	}
	return f
}

const (
	upcallRate  = 200000 // upcalls per second per pmd
	upcallBurst = 20000
)

func (p *pmd) takeUpcallToken() bool {
	if p.upcallLast == 0 {
		p.upcallLast, p.upcallTokens = p.now, upcallBurst
	}
	if d := p.now - p.upcallLast; d > 0 {
		p.upcallTokens = min(upcallBurst, p.upcallTokens+float64(d)*upcallRate/1e9)
		p.upcallLast = p.now
	}
	if p.upcallTokens < 1 {
		return false
	}
	p.upcallTokens--
	return true
}

// inPortOnly reports whether m covers in_port and nothing else.
func inPortOnly(m *FlowKey) bool {
	only := FlowKey{InPort: m.InPort}
	return *m == only
}

// plainOutputs reports whether actions are outputs to ports (not tunnels)
// and nothing else, so they need neither the packet's key nor its
// headers.
func plainOutputs(actions []execAction) bool {
	for i := range actions {
		if actions[i].a.Kind != ActOutput || actions[i].tun != nil {
			return false
		}
	}
	return true
}

// singleOutput returns the tx queue index of actions that are one output
// to a port (not a tunnel) whose packet nothing later rewrites, or -1.
func singleOutput(actions []execAction) int32 {
	if len(actions) != 1 {
		return -1
	}
	e := &actions[0]
	if e.a.Kind != ActOutput || e.tun != nil || e.copyOut || e.out < 0 {
		return -1
	}
	return int32(e.out)
}
