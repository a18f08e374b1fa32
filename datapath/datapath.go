package datapath

// Threading model.
//
// A Datapath has one or more poll-mode threads (pmds). Only pmds call
// Port.Recv, Send and Release. Everything a pmd reads that other goroutines
// change (the port set and its receive-queue assignment) is published
// through an atomic pointer to an immutable portSet, so the fast path takes
// no lock. Work that other goroutines want done on the fast path
// (packet-out) is queued on a channel that pmd 0 drains between bursts.
//
// Receive queues. Every receive queue of every port (rxq) has exactly one
// owner pmd, recorded in rxq.pmd and nowhere else (OVS keeps the same
// field in its rxq). Assignment is written only under Datapath.mu, and the
// per-pmd poll lists of a published portSet are derived from it. A new
// queue goes to the least loaded pmd; a queue already owned changes owner
// only while quiesced: it is first published with no owner, and given to
// its new pmd only after every pmd has acknowledged that set (pmdState.gen,
// stored at the top of an iteration, when the previous one is finished).
// So no two pmds ever receive from one queue, and a removed port is closed
// only after every pmd has stopped using it.
//
// Cache coherence. Every change that can alter a translation calls
// Revalidate with a predicate that says which megaflows it can make stale
// (or Invalidate, for all of them); each call bumps a version and is kept
// in a log until every running pmd has applied it (at most maxRevals). At the top of its loop a pmd that sees a new version
// applies every predicate logged since the version it had to its own
// cache, dropping the megaflows they name (everything, if the log no
// longer reaches back that far); a new port set flushes everything. A pmd
// installs a translated megaflow only if the version did not move while
// it was translated, so a translation made from older state is used for
// its packet but never cached. Every cached megaflow is therefore right
// for the current state, for every packet it matches.
//
// Barrier. Sync waits until every pmd has completed every iteration that
// began before the call, so after Invalidate+Sync no packet is handled by a
// stale entry: that is what an OpenFlow barrier needs. Sync has no
// deadline: answering a barrier while a pmd may still use older decisions
// would break the barrier's promise. What bounds the wait is what a pmd
// does inside one iteration: a burst of cache lookups and actions, filter
// runs (each bounded by the VM's per-run instruction budget), and upcalls
// (bounded by how long the translator's lock is held). A pmd that makes no
// progress for a second is a bug, or a thread the machine starves of CPU:
// Sync logs it at error level, once a second, naming the pmd, and keeps
// waiting.
//
// Lock order. Datapath.mu is taken after the OpenFlow layer's locks
// (ofproto's Bridge.mu) and before a port's own locks; pmds take no
// Datapath lock. Methods that wait for the pmds (Sync, SyncCounters,
// RemovePort) must not be called with a lock a pmd may need during an
// iteration: pmds call the Translator, which takes Bridge.mu for reading,
// so those methods are called without Bridge.mu. AddPort never waits. No
// method may be called from a pmd thread (a Translator or Upcaller).

import (
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"sort"
	"sync"
	"sync/atomic"
	"time"
)

// Config configures a Datapath.
type Config struct {
	Name       string
	Translator Translator
	Upcaller   Upcaller
	Logger     *slog.Logger
	// ThreadInit, if set, runs on the pmd's OS thread before polling starts
	// (DPDK needs rte_thread_register there).
	ThreadInit func() error
	// ThreadExit, if set, runs on the pmd's OS thread when it stops, after
	// a successful ThreadInit (DPDK: rte_thread_unregister), before the
	// thread goes back to the Go runtime.
	ThreadExit func()
	// PMDs is the number of poll-mode threads (default 1). Receive
	// queues are spread over them (see the threading model above);
	// every thread can transmit on every port, each on its own transmit
	// queue (see MultiQueuePort).
	PMDs int
	// EMCInsertInv inserts one in this many megaflow hits into the
	// exact-match cache (as OVS's emc-insert-inv-prob); 0 means the
	// default of 100, and a negative value turns the EMC off.
	EMCInsertInv int
	// ConntrackMax bounds the connection table (0: 262144 entries).
	ConntrackMax int
	// FlowLimit bounds the cached megaflows, all pmds together (0:
	// DefaultFlowLimit), as OVS's other_config:flow-limit. Past it a
	// translation forwards its packet but is not cached.
	FlowLimit int
}

// Datapath forwards packets between its ports.
type Datapath struct {
	cfg     Config
	log     *slog.Logger
	version atomic.Uint64
	revalMu sync.Mutex // guards revals
	revals  []revalReq // the last maxRevals requests, by ascending version
	ports   atomic.Pointer[portSet]
	mu      sync.Mutex // serialises port changes and the rxq assignment
	portGen uint64     // generation of the last published portSet; under mu
	inject  chan injected
	pmds    []pmdState
	running atomic.Bool
	stop    chan struct{}
	done    sync.WaitGroup

	ct          *Conntrack
	foldGen     atomic.Uint64 // bumped to ask every pmd to fold its counters now
	stats       struct{ packets, misses, upcallDrops, limitHits atomic.Uint64 }
	megaflows   atomic.Int64 // cached megaflows, all pmds together
	limitLogged atomic.Int64 // unix ns of the last flow-limit log line
	diag        diag         // pmd counters and megaflow dumps (dump.go)
}

// Stats are a datapath's counters.
type Stats struct {
	Packets     uint64 // received from ports
	Misses      uint64 // missed both cache levels
	UpcallDrops uint64 // dropped by the upcall rate limit
	Megaflows   uint64 // megaflows cached now, all pmds together
	FlowLimit   uint64 // the bound on Megaflows (Config.FlowLimit)
	// FlowLimitHits counts translations not cached because Megaflows had
	// reached FlowLimit.
	FlowLimitHits uint64
}

// Stats returns the datapath's counters.
func (dp *Datapath) Stats() Stats {
	return Stats{
		Packets:       dp.stats.packets.Load(),
		Misses:        dp.stats.misses.Load(),
		UpcallDrops:   dp.stats.upcallDrops.Load(),
		Megaflows:     uint64(max(dp.megaflows.Load(), 0)),
		FlowLimit:     uint64(dp.cfg.FlowLimit),
		FlowLimitHits: dp.stats.limitHits.Load(),
	}
}

// flowLimitLogNs is the least time between two flow-limit log lines.
const flowLimitLogNs = 10e9

// flowLimitHit counts a translation the flow limit kept out of the cache
// and says so in the log, at most once per flowLimitLogNs.
func (dp *Datapath) flowLimitHit(now int64) {
	n := dp.stats.limitHits.Add(1)
	last := dp.limitLogged.Load()
	if now-last >= flowLimitLogNs && dp.limitLogged.CompareAndSwap(last, now) {
		dp.log.Warn("megaflow limit reached: new flows are forwarded but not cached until cached ones expire",
			"limit", dp.cfg.FlowLimit, "not_cached_total", n)
	}
}

// pmdState is what other goroutines see of one pmd.
type pmdState struct {
	iters   atomic.Uint64 // completed loop iterations
	gen     atomic.Uint64 // generation of the portSet it polls with
	applied atomic.Uint64 // the cache version it has revalidated to
	_       [40]byte      // one cache line per pmd
}

type vport struct {
	no   uint32
	port Port
	rxqs []*rxq // one per receive queue
	// txLocks, one per transmit queue, exist only when the port has fewer
	// transmit queues than the datapath has pmds: pmds then share queues
	// (pmd i uses queue i mod n) under these locks, as OVS does with
	// dynamic tx queues. With enough queues no lock is taken.
	txLocks []sync.Mutex
}

// rxq is one receive queue of a port.
type rxq struct {
	vp    *vport
	queue int
	multi MultiRxPort // vp.port, if it has several receive queues
	// pmd is the index of the pmd that owns the queue, -1 while it is
	// being moved. The one record of ownership: written only under
	// Datapath.mu, and never read by pmds (they read portSet.poll).
	pmd int
}

func (q *rxq) recv(pkts []Packet) int {
	if q.multi != nil {
		return q.multi.RecvQueue(q.queue, pkts)
	}
	return q.vp.port.Recv(pkts)
}

func (q *rxq) release(pkts []Packet) {
	if q.multi != nil {
		q.multi.ReleaseQueue(q.queue, pkts)
		return
	}
	q.vp.port.Release(pkts)
}

// portSet is immutable once published.
type portSet struct {
	gen       uint64
	list      []*vport
	byNo      map[uint32]int       // port number to index in list
	underlays map[uint32]*underlay // tunnel underlays by port number (tunnel.go)
	poll      [][]*rxq             // per pmd: the receive queues it owns
}

type injected struct {
	inPort  uint32
	pkt     []byte
	actions []Action
}

// New creates a datapath with no ports. Call Start to begin forwarding.
func New(cfg Config) *Datapath {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.EMCInsertInv == 0 {
		cfg.EMCInsertInv = emcInsertInv
	}
	if cfg.PMDs <= 0 {
		cfg.PMDs = 1
	}
	if cfg.FlowLimit <= 0 {
		cfg.FlowLimit = DefaultFlowLimit
	}
	dp := &Datapath{
		cfg:    cfg,
		log:    cfg.Logger.With("datapath", cfg.Name),
		inject: make(chan injected, 1024),
		stop:   make(chan struct{}),
		pmds:   make([]pmdState, cfg.PMDs),
		ct:     newConntrack(cfg.ConntrackMax),
		diag:   newDiag(cfg.PMDs),
	}
	dp.ports.Store(&portSet{byNo: map[uint32]int{}, poll: make([][]*rxq, cfg.PMDs)})
	return dp
}

// PMDs returns the number of poll-mode threads.
func (dp *Datapath) PMDs() int { return dp.cfg.PMDs }

// Start launches the pmd threads.
func (dp *Datapath) Start() error {
	if !dp.running.CompareAndSwap(false, true) {
		return errors.New("datapath already started")
	}
	errc := make(chan error, dp.cfg.PMDs)
	dp.done.Add(dp.cfg.PMDs)
	for i := 0; i < dp.cfg.PMDs; i++ {
		go dp.runPMD(i, errc)
	}
	var err error
	for i := 0; i < dp.cfg.PMDs; i++ {
		err = errors.Join(err, <-errc)
	}
	if err != nil {
		dp.Stop()
		return err
	}
	go dp.sweepConntrack()
	return nil
}

// Conntrack returns the datapath's connection table.
func (dp *Datapath) Conntrack() *Conntrack { return dp.ct }

// sweepConntrack expires connections once a second until Stop.
func (dp *Datapath) sweepConntrack() {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case <-dp.stop:
			return
		case now := <-t.C:
			dp.ct.sweep(now.UnixNano())
		}
	}
}

// Stop ends the pmd thread and closes every port.
func (dp *Datapath) Stop() {
	if dp.running.CompareAndSwap(true, false) {
		close(dp.stop)
		dp.done.Wait()
	}
	dp.mu.Lock()
	defer dp.mu.Unlock()
	ps := dp.ports.Load()
	for _, vp := range ps.list {
		if err := vp.port.Close(); err != nil {
			dp.log.Warn("close port", "port", vp.no, "err", err)
		}
	}
	dp.portGen++
	dp.ports.Store(&portSet{gen: dp.portGen, byNo: map[uint32]int{}, poll: make([][]*rxq, dp.cfg.PMDs)})
}

// revalReq is one Revalidate call.
type revalReq struct {
	ver   uint64
	stale func(*Megaflow) bool // nil: everything
}

// maxRevals bounds the revalidation log; a pmd that fell further behind
// flushes its whole cache.
const maxRevals = 1024

// Invalidate marks every cached translation stale.
func (dp *Datapath) Invalidate() { dp.Revalidate(nil) }

// Revalidate marks stale the cached megaflows for which stale returns
// true; every pmd drops them before its next iteration. stale runs on the
// pmd threads, possibly concurrently and after the caller returned, so it
// must read only what does not change any more (the megaflow, and a
// snapshot of the change). Megaflow.Deps carries what the translator
// recorded for it to decide. A nil stale means everything.
func (dp *Datapath) Revalidate(stale func(*Megaflow) bool) {
	dp.revalMu.Lock()
	defer dp.revalMu.Unlock()
	// The version moves under the lock, so a pmd that read version v finds
	// every request up to v in the log.
	v := dp.version.Add(1)
	// Requests every running pmd has applied are done with: dropping them
	// lets go of what their predicates hold (removed rules, say).
	if dp.running.Load() {
		done := v
		for i := range dp.pmds {
			done = min(done, dp.pmds[i].applied.Load())
		}
		n := 0
		for n < len(dp.revals) && dp.revals[n].ver <= done {
			n++
		}
		if n > 0 {
			m := copy(dp.revals, dp.revals[n:])
			clear(dp.revals[m:])
			dp.revals = dp.revals[:m]
		}
	}
	if len(dp.revals) == maxRevals {
		n := copy(dp.revals, dp.revals[maxRevals/2:])
		clear(dp.revals[n:])
		dp.revals = dp.revals[:n]
	}
	dp.revals = append(dp.revals, revalReq{ver: v, stale: stale})
}

// revalsSince appends to out the predicates of the requests after version
// from up to to. all is true if one of them was a full invalidation or the
// log no longer reaches back to from (an empty log reaches back only as
// far as the version before the last request).
func (dp *Datapath) revalsSince(from, to uint64, out []func(*Megaflow) bool) (_ []func(*Megaflow) bool, all bool) {
	dp.revalMu.Lock()
	defer dp.revalMu.Unlock()
	if len(dp.revals) == 0 || dp.revals[0].ver > from+1 {
		return out, true
	}
	for _, r := range dp.revals {
		if r.ver <= from || r.ver > to {
			continue
		}
		if r.stale == nil {
			return out, true
		}
		out = append(out, r.stale)
	}
	return out, false
}

// Sync waits until every pmd has completed every iteration that started
// before the call (a no-op if the pmds are not running). It has no
// deadline; see the barrier rule at the top of this file.
func (dp *Datapath) Sync() {
	start := make([]uint64, len(dp.pmds))
	for i := range dp.pmds {
		start[i] = dp.pmds[i].iters.Load()
	}
	// An iteration running now ends with iters = start+1; every later one
	// starts after this call and sees everything published before it.
	dp.waitPMDs("sync", func(i int) bool { return dp.pmds[i].iters.Load() > start[i] })
}

// quiesce waits until every pmd polls with port set gen or a later one.
func (dp *Datapath) quiesce(gen uint64) {
	dp.waitPMDs("port change", func(i int) bool { return dp.pmds[i].gen.Load() >= gen })
}

// waitPMDs waits until done holds for every pmd, or the datapath stops.
// A pmd that keeps it waiting for more than a second is logged as stuck,
// once a second.
func (dp *Datapath) waitPMDs(what string, done func(pmd int) bool) {
	begin := time.Now()
	lastLog := begin
	for i := range dp.pmds {
		// Sleep rather than spin: the pmds may share a core with us.
		for !done(i) && dp.running.Load() {
			time.Sleep(20 * time.Microsecond)
			if now := time.Now(); now.Sub(lastLog) >= time.Second {
				lastLog = now
				dp.log.Error("pmd makes no progress: a barrier or port change is waiting for it (stuck inside an iteration, which is a bug, or starved of CPU)",
					"pmd", i, "waiting", what, "for", now.Sub(begin).Round(time.Millisecond))
			}
		}
	}
}

// SyncCounters makes every packet the datapath has forwarded so far count
// in the shared FlowStats (which otherwise lag by up to 20 ms); call it
// before reporting statistics.
func (dp *Datapath) SyncCounters() {
	dp.foldGen.Add(1)
	dp.Sync()
}

// AddPort attaches p as port number no. Its receive queues go to the
// least loaded pmds; no queue already polled changes owner, so AddPort
// never waits for the pmds.
func (dp *Datapath) AddPort(no uint32, p Port) error {
	dp.mu.Lock()
	defer dp.mu.Unlock()
	old := dp.ports.Load()
	if _, ok := old.byNo[no]; ok {
		return fmt.Errorf("add port %d: number in use", no)
	}
	vp := &vport{no: no, port: p}
	if mq, ok := p.(MultiQueuePort); ok && dp.cfg.PMDs > 1 {
		if mq.TxQueues() < 1 {
			return fmt.Errorf("add port %d: no transmit queue", no)
		}
		if mq.TxQueues() < dp.cfg.PMDs {
			vp.txLocks = make([]sync.Mutex, mq.TxQueues())
		}
	}
	nrx := 1
	mr, multi := p.(MultiRxPort)
	if multi {
		if nrx = mr.RxQueues(); nrx < 1 {
			return fmt.Errorf("add port %d: no receive queue", no)
		}
		if nrx == 1 {
			mr = nil
		}
	}
	load := dp.rxqLoad(old.list)
	for q := 0; q < nrx; q++ {
		least := 0
		for i := range load {
			if load[i] < load[least] {
				least = i
			}
		}
		load[least]++
		vp.rxqs = append(vp.rxqs, &rxq{vp: vp, queue: q, multi: mr, pmd: least})
	}
	list := append(append([]*vport(nil), old.list...), vp)
	sort.Slice(list, func(i, j int) bool { return list[i].no < list[j].no })
	dp.publish(list)
	return nil
}

// rxqLoad counts the receive queues each pmd owns; dp.mu must be held.
func (dp *Datapath) rxqLoad(list []*vport) []int {
	load := make([]int, dp.cfg.PMDs)
	for _, vp := range list {
		for _, q := range vp.rxqs {
			if q.pmd >= 0 {
				load[q.pmd]++
			}
		}
	}
	return load
}

// RemovePort detaches port no, waits until no pmd uses it, and closes it.
// The pmds' loads are then evened out by moving queues, quiesced.
func (dp *Datapath) RemovePort(no uint32) error {
	dp.mu.Lock()
	defer dp.mu.Unlock()
	old := dp.ports.Load()
	i, ok := old.byNo[no]
	if !ok {
		return fmt.Errorf("remove port %d: no such port", no)
	}
	victim := old.list[i]
	list := make([]*vport, 0, len(old.list)-1)
	list = append(list, old.list[:i]...)
	list = append(list, old.list[i+1:]...)
	moves := dp.rebalance(list)
	for q := range moves {
		q.pmd = -1 // polled by nobody until every pmd saw that
	}
	dp.quiesce(dp.publish(list))
	err := victim.port.Close()
	if len(moves) > 0 {
		for q, to := range moves {
			q.pmd = to
		}
		dp.publish(list)
	}
	return err
}

// rebalance plans moves that leave no pmd with two queues more than
// another; dp.mu must be held.
func (dp *Datapath) rebalance(list []*vport) map[*rxq]int {
	load := dp.rxqLoad(list)
	moves := map[*rxq]int{}
	for {
		lo, hi := 0, 0
		for i := range load {
			if load[i] < load[lo] {
				lo = i
			}
			if load[i] > load[hi] {
				hi = i
			}
		}
		if load[hi]-load[lo] < 2 {
			return moves
		}
		// Move the last queue (by port number) that hi owns.
		var pick *rxq
		for _, vp := range list {
			for _, q := range vp.rxqs {
				if to, moving := moves[q]; (moving && to == hi) || (!moving && q.pmd == hi) {
					pick = q
				}
			}
		}
		moves[pick] = lo
		load[hi]--
		load[lo]++
	}
}

// publish makes list the port set and returns its generation; dp.mu must
// be held.
func (dp *Datapath) publish(list []*vport) uint64 {
	dp.portGen++
	ps := &portSet{gen: dp.portGen, list: list, byNo: make(map[uint32]int, len(list)), poll: make([][]*rxq, dp.cfg.PMDs)}
	for i, vp := range list {
		ps.byNo[vp.no] = i
		for _, q := range vp.rxqs {
			if q.pmd >= 0 {
				ps.poll[q.pmd] = append(ps.poll[q.pmd], q)
			}
		}
	}
	ps.underlays = buildUnderlays(list, dp.ports.Load().underlays)
	dp.ports.Store(ps)
	dp.Invalidate()
	return ps.gen
}

// RxqOwner describes which pmd polls a receive queue.
type RxqOwner struct {
	Port  uint32
	Queue int
	PMD   int
}

// RxqOwners lists every receive queue and its pmd (-1: being moved), by
// port and queue.
func (dp *Datapath) RxqOwners() []RxqOwner {
	dp.mu.Lock()
	defer dp.mu.Unlock()
	var out []RxqOwner
	for _, vp := range dp.ports.Load().list {
		for _, q := range vp.rxqs {
			out = append(out, RxqOwner{Port: vp.no, Queue: q.queue, PMD: q.pmd})
		}
	}
	return out
}

// Port returns the port attached as number no.
func (dp *Datapath) Port(no uint32) (Port, bool) {
	ps := dp.ports.Load()
	i, ok := ps.byNo[no]
	if !ok {
		return nil, false
	}
	return ps.list[i].port, true
}

// Inject queues pkt to be processed as if it had arrived on inPort, with
// actions instead of a lookup (OpenFlow packet-out). pkt is owned by the
// datapath from now on.
func (dp *Datapath) Inject(inPort uint32, pkt []byte, actions []Action) error {
	select {
	case dp.inject <- injected{inPort: inPort, pkt: pkt, actions: actions}:
		return nil
	default:
		return errors.New("datapath injection queue full")
	}
}

func (dp *Datapath) runPMD(idx int, started chan<- error) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	defer dp.done.Done()
	if dp.cfg.ThreadInit != nil {
		if err := dp.cfg.ThreadInit(); err != nil {
			started <- fmt.Errorf("pmd %d thread init: %w", idx, err)
			return
		}
	}
	if dp.cfg.ThreadExit != nil {
		defer dp.cfg.ThreadExit()
	}
	started <- nil
	p := newPMD(dp)
	p.idx = idx
	st := &dp.pmds[idx]
	idle := 0
	for {
		select {
		case <-dp.stop:
			p.foldCounters()
			p.cache.flush()       // so that Stats counts no megaflows of a stopped pmd
			p.cache.in.VM.Close() // its counter slot is free for another VM
			return
		default:
		}
		got := p.poll()
		st.iters.Add(1)
		if got > 0 {
			idle = 0
			continue
		}
		// Back off when idle so that a switch with no traffic does not
		// burn a core; the sleep is short enough to keep ping latency low.
		idle++
		if idle > 100 {
			d := time.Duration(idle-100) * time.Microsecond
			if d > 200*time.Microsecond {
				d = 200 * time.Microsecond
			}
			time.Sleep(d)
		}
	}
}
