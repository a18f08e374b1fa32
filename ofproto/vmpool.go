package ofproto

// The VM pool.
//
// The VM needs per-thread scratch (a ubpf.Thread). Filters run on the pmd
// threads (cache hits and upcalls) and on OpenFlow connection goroutines
// (packet-out through the pipeline), so instead of binding Threads to
// callers the bridge keeps a pool, sized from the datapath's pmd count, and
// a run claims a free Thread with one compare-and-swap: no lock, and no
// allocation.

import (
	"runtime"
	"sync/atomic"

	"github.com/goko-net/goko/ubpf"
)

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
