package ubpf

import (
	"encoding/binary"
	"fmt"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"
)

// Address space of a run
//
// A program never sees a Go pointer. Every pointer value in a register is
// a virtual address: region<<32 | offset. The regions of a run are the
// stack, the context, the packet (or the raw memory of KindRaw), the value
// memory of the program's array and hash maps and LPM tries (static
// regions: a lookup returns an offset in its map's region; a thread's
// region of a per-thread map is its own slot), and value slices handed out
// by helpers during the run (dynamic regions: ring buffer reservations,
// maps beyond the static regions). Every load and store translates its
// address through the Thread's region tables and checks the access against
// the region's length; readable and writable regions are separate tables,
// so read-only memory (the packet of a filter, .rodata) has no writable
// entry. Region 0 is never mapped, so NULL and small integers fault.
const (
	numRegions    = 1024
	regionStack   = 1
	regionCtx     = 2
	regionPacket  = 3
	regionStatic  = 4 // first static (array map) region
	maxStaticMaps = 60
	regionDynamic = regionStatic + maxStaticMaps

	// StackFrameSize is the stack of one BPF function frame, as in Linux.
	StackFrameSize = 512
	// MaxCallDepth is the deepest chain of bpf-to-bpf calls (Linux: 8).
	MaxCallDepth = 8
	stackSize    = StackFrameSize * MaxCallDepth

	ctxSize = 24 // struct xdp_md

	// ThreadSlots is the number of value slots of per-thread maps. The
	// first ThreadSlots live Threads get a slot of their own; beyond that
	// Threads share slots (their per-thread values then race, harmlessly
	// for memory safety).
	ThreadSlots = 64
)

type frame struct {
	ret   int
	saved [4]uint64 // r6..r9
	fp    uint64    // r10
}

type reservation struct {
	rb  *ringBuf
	hdr uint64
	rg  int
}

// Thread is the per-goroutine execution state of the VM: registers'
// backing stack, call frames, the region tables and the slot of
// per-thread maps. A datapath thread creates one Thread and passes it to
// every Run; a Thread must not be used by two goroutines at once, but one
// Thread may run any number of different programs one after the other.
// Nothing is allocated per run.
type Thread struct {
	// First, the fields every compiled run reads (with the hot head of
	// jit): a Thread is a large allocation, so page-aligned, and they
	// share its first cache lines instead of one line each among the
	// region tables.

	// fast is prog when its runs may take run's fast path (a compiled
	// filter, not traced), else nil: Run's one test for the common case
	fast *Program
	// ownSlot: no other live Thread has this slot, so this Thread is the
	// only writer of the slot's counters (see countRun)
	ownSlot bool
	pktLen  uint64
	jit     jitState

	rd [numRegions][]byte
	wr [numRegions][]byte

	ndyn   int
	slot   int
	stack  []byte
	ctx    []byte
	frames [MaxCallDepth]frame

	prog *Program // program whose static regions and stack span are mapped

	depth  int
	budget int

	stop   bool
	err    error
	retVal uint64

	res  [16]reservation
	nres int

	loops [MaxCallDepth]loopState // the bpf_loop running at each call depth

	rng uint64

	trace *Trace // non-nil during a traced run (trace.go)

	// IngressIfindex and RxQueueIndex are what an XDP program reads from
	// ctx->ingress_ifindex and ctx->rx_queue_index. Set them before Run.
	IngressIfindex uint32
	RxQueueIndex   uint32
}

var slotMu sync.Mutex
var slotUsed [ThreadSlots]bool
var slotNext int
var threadSeed atomic.Uint64

// NewThread returns a Thread with its own per-thread map slot when one is
// free. Call Close when the thread ends to give its slot back.
func NewThread() *Thread {
	t := &Thread{stack: alignedBytes(stackSize), ctx: alignedBytes(ctxSize)}
	t.jit.init(t.stack)
	slotMu.Lock()
	t.slot = -1
	for i := 0; i < ThreadSlots; i++ {
		if !slotUsed[i] {
			slotUsed[i] = true
			t.slot, t.ownSlot = i, true
			break
		}
	}
	if t.slot < 0 {
		t.slot = slotNext % ThreadSlots
		slotNext++
	}
	slotMu.Unlock()
	t.rd[regionStack], t.wr[regionStack] = t.stack, t.stack
	t.rd[regionCtx] = t.ctx
	t.rng = uint64(time.Now().UnixNano()) ^ threadSeed.Add(0x9e3779b97f4a7c15)
	return t
}

// Slot returns the thread's slot in per-thread maps (what
// bpf_get_smp_processor_id returns).
func (t *Thread) Slot() int { return t.slot }

// Close releases the thread's per-thread map slot.
func (t *Thread) Close() {
	slotMu.Lock()
	if t.slot >= 0 && slotUsed[t.slot] {
		slotUsed[t.slot] = false
	}
	slotMu.Unlock()
	t.slot, t.ownSlot = 0, false
}

// bind maps the static regions of p for this thread.
func (t *Thread) bind(p *Program) {
	for i := range t.rd[regionStatic:regionDynamic] {
		t.rd[regionStatic+i], t.wr[regionStatic+i] = nil, nil
	}
	for i, m := range p.static {
		var b []byte
		if m.directStride != 0 && m.PerThread() {
			b = m.direct[t.slot*m.directStride : (t.slot+1)*m.directStride]
		} else {
			b = m.direct
		}
		t.rd[regionStatic+i] = b
		if m.spec.Flags&FlagRdonlyProg == 0 {
			t.wr[regionStatic+i] = b
		}
	}
	t.mapStack(p.stackSpan)
	t.jit.bind(p.stackSpan)
	t.prog, t.fast = p, nil
}

// addRegion maps b as a dynamic region for the rest of the run and returns
// its base address, or 0 when the run has used up its dynamic regions.
func (t *Thread) addRegion(b []byte, writable bool) uint64 {
	// reuse a recent identical mapping (repeated lookups of one key)
	lo := t.ndyn - 8
	if lo < t.prog.dynBase {
		lo = t.prog.dynBase
	}
	for i := t.ndyn - 1; i >= lo; i-- {
		if len(t.rd[i]) == len(b) && unsafe.SliceData(t.rd[i]) == unsafe.SliceData(b) && (t.wr[i] != nil) == writable {
			return uint64(i) << 32
		}
	}
	if t.ndyn >= numRegions {
		return 0
	}
	i := t.ndyn
	t.ndyn++
	t.rd[i] = b
	if writable {
		t.wr[i] = b
	} else {
		t.wr[i] = nil
	}
	return uint64(i) << 32
}

// xlate returns the n bytes at virtual address a, or nil.
func xlate(tab *[numRegions][]byte, a, n uint64) []byte {
	h := a >> 32
	if h >= numRegions {
		return nil
	}
	m := tab[h]
	o := a & 0xffffffff
	if o+n > uint64(len(m)) {
		return nil
	}
	return m[o : o+n : o+n]
}

// Mem returns the n readable bytes at virtual address addr of the current
// run, or nil if they are not all inside one region. For helpers.
func (t *Thread) Mem(addr, n uint64) []byte {
	if n > 1<<31 {
		return nil
	}
	return xlate(&t.rd, addr, n)
}

// WritableMem is Mem for memory the program may write.
func (t *Thread) WritableMem(addr, n uint64) []byte {
	if n > 1<<31 {
		return nil
	}
	return xlate(&t.wr, addr, n)
}

// cstring reads a NUL-terminated string of at most max bytes at addr.
func (t *Thread) cstring(addr uint64, max int) (string, bool) {
	h := addr >> 32
	if h >= numRegions {
		return "", false
	}
	m := t.rd[h]
	o := addr & 0xffffffff
	if o >= uint64(len(m)) {
		return "", false
	}
	s := m[o:]
	for i := 0; i < len(s) && i < max; i++ {
		if s[i] == 0 {
			return string(s[:i]), true
		}
	}
	return "", false
}

// loopState is one bpf_loop in progress: iterations run, the bound, the
// callback's first insn and its ctx argument.
type loopState struct {
	i, nr, cx uint64
	cb        int
}

// loopStart begins bpf_loop(nr, cb, cx): enter reports whether the
// callback runs (r0 otherwise holds the result); fault explains a callback
// address that is not a callback (only a verifier bug could make one).
func (t *Thread) loopStart(p *Program, nr, cb, cx uint64) (enter bool, r0 uint64, fault string) {
	switch {
	case nr > maxLoops:
		e := int64(eE2BIG)
		return false, uint64(-e), ""
	case nr == 0:
		return false, 0, ""
	case cb >= uint64(len(p.funcWeight)) || p.funcWeight[cb] == 0:
		return false, 0, fmt.Sprintf("bpf_loop callback %#x is not a function the program took the address of", cb)
	case t.depth >= MaxCallDepth-1:
		return false, 0, "call stack too deep"
	}
	t.loops[t.depth] = loopState{nr: nr, cx: cx, cb: int(cb)}
	return true, 0, ""
}

// loopCall calls the callback of the loop at the current depth for
// iteration i, returning to resume; it returns the budget charge.
func (p *Program) loopCall(t *Thread, r *[16]uint64, resume int, i uint64) int {
	l := &t.loops[t.depth]
	f := &t.frames[t.depth&(MaxCallDepth-1)]
	f.ret = resume
	f.saved = [4]uint64{r[6], r[7], r[8], r[9]}
	f.fp = r[10]
	t.depth++
	r[10] -= StackFrameSize
	r[1], r[2] = i, l.cx
	return int(p.funcWeight[l.cb])
}

// loopNext is the decision after an iteration returned ret (the callback
// has returned, so the depth is the loop's): go on, or leave with r0.
func (t *Thread) loopNext(ret uint64) (again bool, r0 uint64) {
	l := &t.loops[t.depth]
	l.i++
	if ret != 0 || l.i >= l.nr {
		return false, l.i
	}
	return true, 0
}

// fail stops the run with err.
func (t *Thread) fail(err error) uint64 {
	if t.err == nil {
		t.err = err
	}
	t.stop = true
	return 0
}

func (t *Thread) fillXDPContext() {
	binary.LittleEndian.PutUint32(t.ctx[12:], t.IngressIfindex)
	binary.LittleEndian.PutUint32(t.ctx[16:], t.RxQueueIndex)
}

func (t *Thread) prandom() uint32 {
	// xorshift64*
	x := t.rng
	x ^= x >> 12
	x ^= x << 25
	x ^= x >> 27
	t.rng = x
	return uint32((x * 0x2545f4914f6cdd1d) >> 32)
}

// beginRun maps the stack of a run: only the top span bytes the verifier
// found the program (with its callees) can address, zeroed, so that no
// run observes what an earlier run, of this or another program, left on
// the Thread's stack, and an access below the span faults whatever the
// verifier concluded.
func (t *Thread) beginRun(span int) {
	t.mapStack(span)
	if span > 0 {
		clear(t.rd[regionStack])
	}
}

// mapStack maps the top span bytes of the stack (bind does it for the
// program's runs; the JIT's fast runs zero the span themselves).
func (t *Thread) mapStack(span int) {
	if len(t.rd[regionStack]) != span { // else it is mapped already
		s := t.stack[stackSize-span:]
		t.rd[regionStack], t.wr[regionStack] = s, s
	}
}

// endRun discards ring buffer records the program reserved and never
// submitted, unmaps the dynamic regions the run mapped (so an address kept
// from this run means nothing in the next one) and drops references to the
// packet.
func (t *Thread) endRun() {
	if t.nres != 0 {
		t.discardReservations()
	}
	for i := t.prog.dynBase; i < t.ndyn; i++ {
		t.rd[i], t.wr[i] = nil, nil
	}
	t.ndyn = t.prog.dynBase
	t.rd[regionPacket], t.wr[regionPacket] = nil, nil
	if t.stop {
		t.stop, t.err = false, nil
	}
}

func (t *Thread) discardReservations() {
	for i := 0; i < t.nres; i++ {
		if r := t.res[i]; r.rb != nil {
			r.rb.commit(r.hdr, true)
		}
		t.res[i] = reservation{}
	}
	t.nres = 0
}
