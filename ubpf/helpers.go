package ubpf

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
)

// Helper functions
//
// Helpers keep Linux's numbers so that programs built against libbpf's
// bpf_helpers.h call them unchanged; goko's own helpers live at
// GokoHelperBase and above (declared in include/goko_helpers.h). Each
// helper has a prototype the verifier checks call sites against (argument
// and return types, map types) and a Go implementation that reaches VM
// memory only through Thread.Mem/WritableMem.

// HelperFunc implements a helper: it receives r1..r5 and returns r0. To
// stop the run with an error it calls t.fail. Memory arguments are
// virtual addresses; translate them with t.Mem or t.WritableMem.
type HelperFunc func(t *Thread, r1, r2, r3, r4, r5 uint64) uint64

type argType uint8

const (
	argNone       argType = iota
	argAnything           // any initialised value
	argMap                // a map (LDDW map reference)
	argMapKey             // readable memory of the map's key size
	argMapValue           // readable memory of the map's value size
	argMapValueIO         // value-size memory: written (queue/stack pop/peek) or read (bloom)
	argMem                // readable memory, size in the next argument
	argMemOut             // writable memory (may be uninitialised stack), size in the next argument
	argSize               // bounded size of the previous memory argument, > 0
	argSizeOrZero         // as argSize, may be 0
	argRingbufMem         // a record returned by ringbuf_reserve
	argAllocSize          // constant size of a ring buffer reservation
)

type retType uint8

const (
	retInt retType = iota
	retMapValueOrNull
	retRingbufMemOrNull
)

type helperProto struct {
	id       int32
	name     string
	args     [5]argType
	ret      retType
	mapTypes []MapType // map types argMap accepts; nil: any
	// release is set for ringbuf_submit/discard: arg 1 is released.
	release bool
	fn      HelperFunc
}

// GokoHelperBase is the first helper number of goko's own helpers.
const GokoHelperBase = 0x10000

// goko helper numbers (see include/goko_helpers.h)
const (
	helperGokoHash32    = GokoHelperBase + 1
	helperGokoHash64    = GokoHelperBase + 2
	helperGokoCMSAdd    = GokoHelperBase + 3
	helperGokoCMSQuery  = GokoHelperBase + 4
	helperGokoBloomAdd  = GokoHelperBase + 5
	helperGokoBloomTest = GokoHelperBase + 6
)

// helperLoop is bpf_loop(nr_loops, callback, ctx, flags).
const helperLoop = 181

// maxLoops is the most iterations bpf_loop runs, as in Linux; more fail
// with -E2BIG before any.
const maxLoops = 1 << 23

const mapHandleBase = 0xfeed_0000_0000_0000

var lookupMaps = []MapType{MapHash, MapArray, MapPerThreadHash, MapPerThreadArray, MapLRUHash, MapLRUPerThreadHash, MapLPMTrie}
var updateMaps = []MapType{MapHash, MapArray, MapPerThreadHash, MapPerThreadArray, MapLRUHash, MapLRUPerThreadHash, MapLPMTrie}

var linuxHelpers = []*helperProto{
	{id: 1, name: "map_lookup_elem", args: [5]argType{argMap, argMapKey}, ret: retMapValueOrNull, mapTypes: lookupMaps, fn: hMapLookup},
	{id: 2, name: "map_update_elem", args: [5]argType{argMap, argMapKey, argMapValue, argAnything}, mapTypes: updateMaps, fn: hMapUpdate},
	{id: 3, name: "map_delete_elem", args: [5]argType{argMap, argMapKey}, mapTypes: []MapType{MapHash, MapPerThreadHash, MapLRUHash, MapLRUPerThreadHash, MapLPMTrie}, fn: hMapDelete},
	{id: 5, name: "ktime_get_ns", fn: hKtime},
	{id: 6, name: "trace_printk", args: [5]argType{argMem, argSize, argAnything, argAnything, argAnything}, fn: hTracePrintk},
	{id: 7, name: "get_prandom_u32", fn: func(t *Thread, _, _, _, _, _ uint64) uint64 { return uint64(t.prandom()) }},
	{id: 8, name: "get_smp_processor_id", fn: func(t *Thread, _, _, _, _, _ uint64) uint64 { return uint64(t.slot) }},
	{id: 28, name: "csum_diff", args: [5]argType{argMem, argSizeOrZero, argMem, argSizeOrZero, argAnything}, fn: hCsumDiff},
	{id: 42, name: "get_numa_node_id", fn: func(*Thread, uint64, uint64, uint64, uint64, uint64) uint64 { return 0 }},
	{id: 87, name: "map_push_elem", args: [5]argType{argMap, argMapValue, argAnything}, mapTypes: []MapType{MapQueue, MapStack, MapBloomFilter}, fn: hMapPush},
	{id: 88, name: "map_pop_elem", args: [5]argType{argMap, argMapValueIO}, mapTypes: []MapType{MapQueue, MapStack}, fn: hMapPop},
	{id: 89, name: "map_peek_elem", args: [5]argType{argMap, argMapValueIO}, mapTypes: []MapType{MapQueue, MapStack, MapBloomFilter}, fn: hMapPeek},
	{id: 118, name: "jiffies64", fn: func(*Thread, uint64, uint64, uint64, uint64, uint64) uint64 {
		return clockNs() / uint64(time.Millisecond)
	}},
	{id: 125, name: "ktime_get_boot_ns", fn: hKtime},
	{id: 130, name: "ringbuf_output", args: [5]argType{argMap, argMem, argSize, argAnything}, mapTypes: []MapType{MapRingBuf}, fn: hRingbufOutput},
	{id: 131, name: "ringbuf_reserve", args: [5]argType{argMap, argAllocSize, argAnything}, ret: retRingbufMemOrNull, mapTypes: []MapType{MapRingBuf}, fn: hRingbufReserve},
	{id: 132, name: "ringbuf_submit", args: [5]argType{argRingbufMem, argAnything}, release: true, fn: hRingbufSubmit},
	{id: 133, name: "ringbuf_discard", args: [5]argType{argRingbufMem, argAnything}, release: true, fn: hRingbufDiscard},
	{id: 160, name: "ktime_get_coarse_ns", fn: hKtime},
	// bpf_loop is a control construct, not a call into Go: the verifier
	// follows the callback (callLoop) and the VM runs it (opBpfLoop); fn
	// is never reached.
	{id: helperLoop, name: "loop", args: [5]argType{argAnything, argAnything, argAnything, argAnything}, fn: func(t *Thread, _, _, _, _, _ uint64) uint64 {
		return t.fail(errors.New("bpf_loop reached as a plain helper"))
	}},
	{id: helperGokoHash32, name: "goko_hash32", args: [5]argType{argMem, argSize, argAnything}, fn: hHash32},
	{id: helperGokoHash64, name: "goko_hash64", args: [5]argType{argMem, argSize, argAnything}, fn: hHash64},
	{id: helperGokoCMSAdd, name: "goko_cms_add", args: [5]argType{argMap, argMapKey, argAnything}, mapTypes: []MapType{MapCountMin}, fn: hCMSAdd},
	{id: helperGokoCMSQuery, name: "goko_cms_query", args: [5]argType{argMap, argMapKey}, mapTypes: []MapType{MapCountMin}, fn: hCMSQuery},
	{id: helperGokoBloomAdd, name: "goko_bloom_add", args: [5]argType{argMap, argMapValue}, mapTypes: []MapType{MapBloomFilter}, fn: hBloomAdd},
	{id: helperGokoBloomTest, name: "goko_bloom_test", args: [5]argType{argMap, argMapValue}, mapTypes: []MapType{MapBloomFilter}, fn: hBloomTest},
}

// The helpers of uBPF's conformance test plugin, for running the
// bpf_conformance suite (HelpersConformance).
var conformanceHelpers = []*helperProto{
	{id: 0, name: "gather_bytes", args: [5]argType{argAnything, argAnything, argAnything, argAnything, argAnything}, fn: func(_ *Thread, a, b, c, d, e uint64) uint64 {
		return (a&0xff)<<32 | (b&0xff)<<24 | (c&0xff)<<16 | (d&0xff)<<8 | e&0xff
	}},
	{id: 1, name: "memfrob", args: [5]argType{argAnything, argAnything}, fn: func(t *Thread, a, b, _, _, _ uint64) uint64 {
		m := t.WritableMem(a, b)
		if m == nil && b != 0 {
			return t.fail(fmt.Errorf("memfrob: invalid memory %#x+%d", a, b))
		}
		for i := range m {
			m[i] ^= 42
		}
		return 0
	}},
	{id: 2, name: "no_op", fn: func(*Thread, uint64, uint64, uint64, uint64, uint64) uint64 { return 0 }},
	{id: 3, name: "sqrti", args: [5]argType{argAnything}, fn: func(_ *Thread, a, _, _, _, _ uint64) uint64 {
		return uint64(math.Sqrt(float64(a)))
	}},
	{id: 4, name: "strcmp_ext", args: [5]argType{argAnything, argAnything}, fn: func(t *Thread, a, b, _, _, _ uint64) uint64 {
		x, ok1 := t.cstring(a, 1<<16)
		y, ok2 := t.cstring(b, 1<<16)
		if !ok1 || !ok2 {
			return t.fail(fmt.Errorf("strcmp_ext: invalid string"))
		}
		return uint64(int64(strings.Compare(x, y)))
	}},
	{id: 5, name: "unwind", args: [5]argType{argAnything}, fn: func(t *Thread, a, _, _, _, _ uint64) uint64 {
		if a == 0 { // uBPF's unwind helper: returning 0 ends the program
			t.stop, t.retVal = true, 0
		}
		return a
	}},
}

// HelperSet selects the helper functions programs may call.
type HelperSet int

// Helper sets.
const (
	// HelpersLinux: Linux-numbered helpers plus goko's (the default).
	HelpersLinux HelperSet = iota
	// HelpersConformance: the helpers of uBPF's bpf_conformance plugin
	// (0 gather_bytes, 1 memfrob, 2 no_op, 3 sqrti, 4 strcmp_ext, 5 unwind).
	HelpersConformance
)

type helperTable map[uint64]*helperProto

var helperTables = func() [2]helperTable {
	var t [2]helperTable
	for i, list := range [][]*helperProto{linuxHelpers, conformanceHelpers} {
		t[i] = helperTable{}
		for _, h := range list {
			t[i][uint64(uint32(h.id))] = h
		}
	}
	return t
}()

func (hs HelperSet) table() helperTable {
	if hs == HelpersConformance {
		return helperTables[1]
	}
	return helperTables[0]
}

func (h helperTable) lookup(id uint64) *helperProto { return h[id] }

func helperName(id int32) string {
	if h := helperTables[0][uint64(uint32(id))]; h != nil {
		return h.name
	}
	return ""
}

var epoch = time.Now()

func (t *Thread) mapArg(v uint64) *Map {
	i := v - mapHandleBase
	if t.prog == nil || i >= uint64(len(t.prog.maps)) {
		return nil
	}
	return t.prog.maps[i]
}

func badArg(t *Thread, what string, v uint64) uint64 {
	return t.fail(fmt.Errorf("helper argument %s invalid (%#x)", what, v))
}

func hMapLookup(t *Thread, r1, r2, _, _, _ uint64) uint64 {
	m := t.mapArg(r1)
	if m == nil {
		return badArg(t, "map", r1)
	}
	return t.mapLookup(m, int(r1-mapHandleBase), r2)
}

// entryMap is a map whose values sit in one slab, stride bytes apart per
// entry (per thread slot): hash maps and LPM tries.
type entryMap interface {
	progEntry(key []byte) int
	valueStride() int
}

func (h *hashMap) valueStride() int { return h.stride }
func (t *lpmTrie) valueStride() int { return t.stride }

// mapLookup is map_lookup_elem of the program's map number mi, m, with
// the key at virtual address key.
func (t *Thread) mapLookup(m *Map, mi int, key uint64) uint64 {
	k := t.Mem(key, uint64(m.spec.KeySize))
	if k == nil {
		return badArg(t, "key", key)
	}
	var v []byte
	switch impl := m.impl.(type) {
	case *arrayMap:
		i, ok := impl.index(k)
		if !ok {
			return 0
		}
		si := t.prog.staticIdx[mi]
		return uint64(regionStatic+si)<<32 | uint64(i*impl.stride)
	case entryMap:
		if si := t.prog.staticIdx[mi]; si >= 0 { // the value slab is a region
			e := impl.progEntry(k)
			if e < 0 {
				return 0
			}
			return uint64(regionStatic+si)<<32 | uint64(e*impl.valueStride())
		}
		v = m.impl.progLookup(t.slot, k)
	default:
		v = m.impl.progLookup(t.slot, k)
	}
	if v == nil {
		return 0
	}
	addr := t.addRegion(v, m.spec.Flags&FlagRdonlyProg == 0)
	if addr == 0 {
		return t.fail(fmt.Errorf("map_lookup_elem: more than %d distinct map values in one run", numRegions-regionDynamic))
	}
	return addr
}

func hMapUpdate(t *Thread, r1, r2, r3, r4, _ uint64) uint64 {
	m := t.mapArg(r1)
	if m == nil {
		return badArg(t, "map", r1)
	}
	key := t.Mem(r2, uint64(m.spec.KeySize))
	val := t.Mem(r3, uint64(m.spec.ValueSize))
	if key == nil || val == nil {
		return badArg(t, "key/value", r2)
	}
	if r4 > maxBPFFlags {
		return negErrno(eINVAL)
	}
	return errnoOf(m.impl.update(t.slot, key, val, UpdateFlags(r4), false))
}

func hMapDelete(t *Thread, r1, r2, _, _, _ uint64) uint64 {
	m := t.mapArg(r1)
	if m == nil {
		return badArg(t, "map", r1)
	}
	key := t.Mem(r2, uint64(m.spec.KeySize))
	if key == nil {
		return badArg(t, "key", r2)
	}
	return errnoOf(m.impl.delete(key))
}

func hMapPush(t *Thread, r1, r2, r3, _, _ uint64) uint64 {
	m := t.mapArg(r1)
	if m == nil {
		return badArg(t, "map", r1)
	}
	val := t.Mem(r2, uint64(m.spec.ValueSize))
	if val == nil {
		return badArg(t, "value", r2)
	}
	switch q := m.impl.(type) {
	case *queueMap:
		if r3 > maxBPFFlags {
			return negErrno(eINVAL)
		}
		return errnoOf(q.push(val, UpdateFlags(r3)))
	case *bloomFilter:
		q.add(val)
		return 0
	}
	return negErrno(eOPNOTSUPP)
}

func hMapPopPeek(t *Thread, r1, r2 uint64, pop bool) uint64 {
	m := t.mapArg(r1)
	if m == nil {
		return badArg(t, "map", r1)
	}
	switch q := m.impl.(type) {
	case *queueMap:
		out := t.WritableMem(r2, uint64(m.spec.ValueSize))
		if out == nil {
			return badArg(t, "value", r2)
		}
		if !q.take(out, pop) {
			return negErrno(eNOENT)
		}
		return 0
	case *bloomFilter:
		val := t.Mem(r2, uint64(m.spec.ValueSize))
		if val == nil {
			return badArg(t, "value", r2)
		}
		if q.test(val) {
			return 0
		}
		return negErrno(eNOENT)
	}
	return negErrno(eOPNOTSUPP)
}

func hMapPop(t *Thread, r1, r2, _, _, _ uint64) uint64  { return hMapPopPeek(t, r1, r2, true) }
func hMapPeek(t *Thread, r1, r2, _, _, _ uint64) uint64 { return hMapPopPeek(t, r1, r2, false) }

// clockNs is the time the clock helpers report: nanoseconds since the
// package started (tests make it deterministic).
var clockNs = func() uint64 { return uint64(time.Since(epoch)) }

func hKtime(*Thread, uint64, uint64, uint64, uint64, uint64) uint64 {
	return clockNs() + 1
}

func hCsumDiff(t *Thread, r1, r2, r3, r4, r5 uint64) uint64 {
	from, to := t.Mem(r1, r2), t.Mem(r3, r4)
	if (from == nil && r2 != 0) || (to == nil && r4 != 0) || r2%4 != 0 || r4%4 != 0 || r2 > 512 || r4 > 512 {
		return negErrno(eINVAL)
	}
	sum := uint64(uint32(r5))
	for i := 0; i+4 <= len(from); i += 4 {
		sum += uint64(^binary.LittleEndian.Uint32(from[i:]))
	}
	for i := 0; i+4 <= len(to); i += 4 {
		sum += uint64(binary.LittleEndian.Uint32(to[i:]))
	}
	for sum>>32 != 0 {
		sum = sum&0xffffffff + sum>>32
	}
	return sum
}

func hRingbufOutput(t *Thread, r1, r2, r3, _, _ uint64) uint64 {
	m := t.mapArg(r1)
	rb, _ := m.implRing()
	data := t.Mem(r2, r3)
	if rb == nil || data == nil {
		return badArg(t, "ringbuf/data", r2)
	}
	if !rb.output(data) {
		return negErrno(11) // EAGAIN
	}
	return 0
}

func (m *Map) implRing() (*ringBuf, bool) {
	if m == nil {
		return nil, false
	}
	rb, ok := m.impl.(*ringBuf)
	return rb, ok
}

func hRingbufReserve(t *Thread, r1, r2, _, _, _ uint64) uint64 {
	rb, _ := t.mapArg(r1).implRing()
	if rb == nil {
		return badArg(t, "ringbuf", r1)
	}
	if t.nres >= len(t.res) {
		return 0
	}
	rec, hdr := rb.reserve(r2)
	if rec == nil {
		return 0
	}
	addr := t.addRegion(rec, true)
	if addr == 0 {
		rb.commit(hdr, true)
		return 0
	}
	t.res[t.nres] = reservation{rb: rb, hdr: hdr, rg: int(addr >> 32)}
	t.nres++
	return addr
}

func ringbufRelease(t *Thread, ptr uint64, discard bool) uint64 {
	for i := 0; i < t.nres; i++ {
		if r := t.res[i]; r.rb != nil && uint64(r.rg)<<32 == ptr {
			r.rb.commit(r.hdr, discard)
			t.res[i] = t.res[t.nres-1]
			t.res[t.nres-1] = reservation{}
			t.nres--
			t.rd[r.rg], t.wr[r.rg] = nil, nil
			return 0
		}
	}
	return badArg(t, "ringbuf record", ptr)
}

func hRingbufSubmit(t *Thread, r1, _, _, _, _ uint64) uint64  { return ringbufRelease(t, r1, false) }
func hRingbufDiscard(t *Thread, r1, _, _, _, _ uint64) uint64 { return ringbufRelease(t, r1, true) }

func hHash64(t *Thread, r1, r2, r3, _, _ uint64) uint64 {
	b := t.Mem(r1, r2)
	if b == nil {
		return badArg(t, "data", r1)
	}
	return Hash64(b, r3)
}

func hHash32(t *Thread, r1, r2, r3, _, _ uint64) uint64 {
	return uint64(uint32(hHash64(t, r1, r2, r3, 0, 0)))
}

func (t *Thread) sketchArgs(r1, r2 uint64) (*countMin, []byte) {
	m := t.mapArg(r1)
	if m == nil {
		return nil, nil
	}
	c, _ := m.impl.(*countMin)
	if c == nil {
		return nil, nil
	}
	return c, t.Mem(r2, uint64(c.ksize))
}

func hCMSAdd(t *Thread, r1, r2, r3, _, _ uint64) uint64 {
	c, key := t.sketchArgs(r1, r2)
	if key == nil {
		return badArg(t, "sketch/key", r2)
	}
	return c.add(key, r3)
}

func hCMSQuery(t *Thread, r1, r2, _, _, _ uint64) uint64 {
	c, key := t.sketchArgs(r1, r2)
	if key == nil {
		return badArg(t, "sketch/key", r2)
	}
	return c.query(key)
}

func (t *Thread) bloomArgs(r1, r2 uint64) (*bloomFilter, []byte) {
	m := t.mapArg(r1)
	if m == nil {
		return nil, nil
	}
	b, _ := m.impl.(*bloomFilter)
	if b == nil {
		return nil, nil
	}
	return b, t.Mem(r2, uint64(b.vsize))
}

func hBloomAdd(t *Thread, r1, r2, _, _, _ uint64) uint64 {
	b, v := t.bloomArgs(r1, r2)
	if v == nil {
		return badArg(t, "bloom/value", r2)
	}
	b.add(v)
	return 0
}

func hBloomTest(t *Thread, r1, r2, _, _, _ uint64) uint64 {
	b, v := t.bloomArgs(r1, r2)
	if v == nil {
		return badArg(t, "bloom/value", r2)
	}
	if b.test(v) {
		return 1
	}
	return 0
}

// trace_printk: the format string lives in program memory (usually
// .rodata). Supported conversions: %d %i %u %x %X %ld %lu %lx %lld %llu
// %llx %p %c %s %%, with flags/width as in C. Output goes to the
// program's logger at Info level, at most printkBurst lines per second per
// program.

const printkBurst = 20

type rateLimit struct {
	sec   atomic.Int64
	count atomic.Int64
	lost  atomic.Int64
}

func (r *rateLimit) allow(burst int64) bool {
	now := time.Now().Unix()
	if s := r.sec.Load(); s != now && r.sec.CompareAndSwap(s, now) {
		r.count.Store(0)
	}
	if r.count.Add(1) > burst {
		r.lost.Add(1)
		return false
	}
	return true
}

func hTracePrintk(t *Thread, r1, r2, r3, r4, r5 uint64) uint64 {
	f := t.Mem(r1, r2)
	if f == nil || r2 == 0 {
		return negErrno(eINVAL)
	}
	if i := indexByte(f, 0); i >= 0 {
		f = f[:i]
	}
	p := t.prog
	if p.logger == nil || !p.printkLimit.allow(printkBurst) {
		return 0
	}
	s := formatPrintk(t, string(f), [3]uint64{r3, r4, r5})
	p.logger.Info("bpf_trace_printk", "prog", p.name, "msg", strings.TrimRight(s, "\n"))
	return uint64(len(s))
}

func indexByte(b []byte, c byte) int {
	for i, x := range b {
		if x == c {
			return i
		}
	}
	return -1
}

func formatPrintk(t *Thread, f string, args [3]uint64) string {
	var b strings.Builder
	ai := 0
	next := func() uint64 {
		if ai < 3 {
			ai++
			return args[ai-1]
		}
		return 0
	}
	for i := 0; i < len(f); i++ {
		c := f[i]
		if c != '%' {
			b.WriteByte(c)
			continue
		}
		j := i + 1
		for j < len(f) && strings.IndexByte("-+ #0123456789", f[j]) >= 0 {
			j++
		}
		flags := f[i+1 : j]
		long := 0
		for j < len(f) && f[j] == 'l' {
			long++
			j++
		}
		if j >= len(f) {
			b.WriteString(f[i:])
			break
		}
		v := next
		switch f[j] {
		case '%':
			b.WriteByte('%')
		case 'd', 'i':
			x := v()
			if long == 0 {
				x = uint64(int64(int32(x)))
			}
			b.WriteString(fmt.Sprintf("%"+flags+"d", int64(x)))
		case 'u':
			x := v()
			if long == 0 {
				x = uint64(uint32(x))
			}
			b.WriteString(fmt.Sprintf("%"+flags+"d", x))
		case 'x', 'X':
			x := v()
			if long == 0 {
				x = uint64(uint32(x))
			}
			b.WriteString(fmt.Sprintf("%"+flags+string(f[j]), x))
		case 'p':
			b.WriteString("0x" + strconv.FormatUint(v(), 16))
		case 'c':
			b.WriteByte(byte(v()))
		case 's':
			s, ok := t.cstring(v(), 256)
			if !ok {
				s = "(invalid)"
			}
			b.WriteString(s)
		default:
			b.WriteString(f[i : j+1])
		}
		i = j
	}
	return b.String()
}

func negErrno(e int64) uint64 { return uint64(-e) }
