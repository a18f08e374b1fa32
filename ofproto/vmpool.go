package ofproto

// The VM pool.
//
// The VM needs per-thread scratch (a ubpf.Thread). Filters run on the pmd
// threads (cache hits and upcalls) and on OpenFlow connection goroutines
// (packet-out through the pipeline). Each pmd has a Thread of its own,
// which the datapath owns and passes in (FilterInput.VM): a run there
// claims nothing, and the Thread's counters take plain stores. The other
// goroutines share this pool, sized from the processor count, and a run
// claims a free Thread with one compare-and-swap: no lock, and no
// allocation.

import (
	"runtime"
	"sync/atomic"

	"github.com/goko-net/goko/ubpf"
)

// vmPool holds the Threads that filter runs off the pmds borrow.
type vmPool struct {
	slots []vmSlot
	next  atomic.Uint32
}

type vmSlot struct {
	busy atomic.Bool
	t    *ubpf.Thread
	_    [48]byte // keep busy flags of different slots on different cache lines
}

// newVMPool sizes the pool for the goroutines that can run at once
// (connections running a packet-out through the pipeline) plus one, so a
// free slot is normally found at the first or second try.
func newVMPool() *vmPool {
	p := &vmPool{slots: make([]vmSlot, runtime.GOMAXPROCS(0)+1)}
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
