package datapath

// Threading model.
//
// A Datapath has one poll-mode thread (pmd) that owns every port's receive
// and transmit queue: only it calls Port.Recv, Send and Release. Everything
// the pmd reads that other goroutines change (the port set) is published
// through an atomic pointer to an immutable value, so the fast path takes no
// lock. Work that other goroutines want done on the fast path (packet-out)
// is queued on a channel that the pmd drains between bursts.
//
// Cache coherence. Every change that can alter a translation (a flow table
// edit, a port added or removed) calls Invalidate, which bumps a version.
// The pmd flushes its cache when it sees a new version at the top of its
// loop, and installs a translated megaflow only if the version did not move
// while it was translated. Sync waits until the pmd has finished any burst
// that began before the call, so after Invalidate+Sync no packet is handled
// by a stale entry: that is what an OpenFlow barrier needs.

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
	// PMDs is the number of poll-mode threads (default 1). Ports are
	// spread over them round-robin; every thread can transmit on every
	// port, each on its own transmit queue (see MultiQueuePort).
	PMDs int
	// EMCInsertInv inserts one in this many megaflow hits into the
	// exact-match cache (as OVS's emc-insert-inv-prob); 0 means the
	// default of 100, and a negative value turns the EMC off.
	EMCInsertInv int
	// ConntrackMax bounds the connection table (0: 262144 entries).
	ConntrackMax int
}

// Datapath forwards packets between its ports.
type Datapath struct {
	cfg     Config
	log     *slog.Logger
	version atomic.Uint64
	ports   atomic.Pointer[portSet]
	mu      sync.Mutex // serialises port changes
	inject  chan injected
	iters   []atomic.Uint64 // completed loop iterations, per pmd
	running atomic.Bool
	stop    chan struct{}
	done    sync.WaitGroup

	ct           *Conntrack
	upcallErrors atomic.Uint64
	foldGen      atomic.Uint64 // bumped to ask every pmd to fold its counters now
	stats        struct{ packets, misses, upcallDrops atomic.Uint64 }
	diag         diag // pmd counters and megaflow dumps (dump.go)
}

// Stats are a datapath's cumulative counters.
type Stats struct {
	Packets     uint64 // received from ports
	Misses      uint64 // missed both cache levels
	UpcallDrops uint64 // dropped by the upcall rate limit
	Lost        uint64 // dropped because translation failed
}

// Stats returns the datapath's counters.
func (dp *Datapath) Stats() Stats {
	return Stats{
		Packets:     dp.stats.packets.Load(),
		Misses:      dp.stats.misses.Load(),
		UpcallDrops: dp.stats.upcallDrops.Load(),
		Lost:        dp.upcallErrors.Load(),
	}
}

type vport struct {
	no   uint32
	port Port
	// txLocks, one per transmit queue, exist only when the port has fewer
	// transmit queues than the datapath has pmds: pmds then share queues
	// (pmd i uses queue i mod n) under these locks, as OVS does with
	// dynamic tx queues. With enough queues no lock is taken.
	txLocks []sync.Mutex
}

// portSet is immutable once published.
type portSet struct {
	list      []*vport
	byNo      map[uint32]int       // port number to index in list
	underlays map[uint32]*underlay // tunnel underlays by port number (tunnel.go)
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
	dp := &Datapath{
		cfg:    cfg,
		log:    cfg.Logger.With("datapath", cfg.Name),
		inject: make(chan injected, 1024),
		stop:   make(chan struct{}),
		iters:  make([]atomic.Uint64, max(cfg.PMDs, 1)),
		ct:     newConntrack(cfg.ConntrackMax),
		diag:   newDiag(cfg.PMDs),
	}
	dp.ports.Store(&portSet{byNo: map[uint32]int{}})
	return dp
}

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
	dp.ports.Store(&portSet{byNo: map[uint32]int{}})
}

// Invalidate marks every cached translation stale.
func (dp *Datapath) Invalidate() { dp.version.Add(1) }

// Sync waits until every pmd has completed every burst that started
// before the call (a no-op if the pmds are not running).
func (dp *Datapath) Sync() {
	if !dp.running.Load() {
		return
	}
	start := make([]uint64, len(dp.iters))
	for i := range dp.iters {
		start[i] = dp.iters[i].Load()
	}
	deadline := time.Now().Add(2 * time.Second)
	for i := range dp.iters {
		for dp.iters[i].Load() < start[i]+2 && dp.running.Load() {
			if time.Now().After(deadline) {
				dp.log.Warn("sync: pmd did not make progress in 2s", "pmd", i)
				return
			}
			time.Sleep(20 * time.Microsecond)
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

// AddPort attaches p as port number no.
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
	list := append(append([]*vport(nil), old.list...), vp)
	sort.Slice(list, func(i, j int) bool { return list[i].no < list[j].no })
	dp.publish(list)
	return nil
}

// RemovePort detaches port no, waits until the pmd no longer uses it, and
// closes it.
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
	dp.publish(list)
	dp.Sync()
	return victim.port.Close()
}

func (dp *Datapath) publish(list []*vport) {
	ps := &portSet{list: list, byNo: make(map[uint32]int, len(list))}
	for i, vp := range list {
		ps.byNo[vp.no] = i
	}
	ps.underlays = buildUnderlays(list, dp.ports.Load().underlays)
	dp.ports.Store(ps)
	dp.Invalidate()
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

// PortNumbers lists the attached port numbers in ascending order.
func (dp *Datapath) PortNumbers() []uint32 {
	ps := dp.ports.Load()
	out := make([]uint32, len(ps.list))
	for i, vp := range ps.list {
		out[i] = vp.no
	}
	return out
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

// UpcallErrors counts packets dropped because translation failed.
func (dp *Datapath) UpcallErrors() uint64 { return dp.upcallErrors.Load() }

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
	started <- nil
	p := newPMD(dp)
	p.idx = idx
	idle := 0
	for {
		select {
		case <-dp.stop:
			p.foldCounters()
			return
		default:
		}
		got := p.poll()
		dp.iters[idx].Add(1)
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
