package ubpf

import (
	"encoding/binary"
	"math"
	"math/bits"
	"sync"
	"sync/atomic"
	"unsafe"
)

// Queue and stack
//
// A ring of max_entries values under a sync.Mutex. push (helper 87 or
// Update) appends; with BPF_EXIST a full queue drops its oldest element.
// pop (88) and peek (89) copy the value out, so no map memory escapes.

type queueMap struct {
	vsize, max int
	stack      bool
	mu         sync.Mutex
	buf        []byte
	head, n    int
}

func newQueueMap(s *MapSpec) *queueMap {
	return &queueMap{vsize: int(s.ValueSize), max: int(s.MaxEntries), stack: s.Type == MapStack,
		buf: make([]byte, int(s.ValueSize)*int(s.MaxEntries))}
}

func (q *queueMap) slot(i int) []byte {
	i %= q.max
	return q.buf[i*q.vsize : (i+1)*q.vsize]
}

func (q *queueMap) push(val []byte, flags UpdateFlags) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.n == q.max {
		if flags != UpdateExist {
			return ErrMapFull
		}
		// drop the oldest
		q.head = (q.head + 1) % q.max
		q.n--
	}
	copy(q.slot(q.head+q.n), val)
	q.n++
	return nil
}

// take copies the next element into out; pop removes it.
func (q *queueMap) take(out []byte, pop bool) bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.n == 0 {
		return false
	}
	i := q.head
	if q.stack {
		i = q.head + q.n - 1
	}
	copy(out, q.slot(i))
	if pop {
		if !q.stack {
			q.head = (q.head + 1) % q.max
		}
		q.n--
	}
	return true
}

func (q *queueMap) progLookup(int, []byte) []byte { return nil }
func (q *queueMap) update(_ int, _, val []byte, flags UpdateFlags, _ bool) error {
	return q.push(val, flags)
}
func (q *queueMap) delete([]byte) error { return ErrNotSupported }
func (q *queueMap) hostLookup([]byte) ([]byte, bool) {
	out := make([]byte, q.vsize)
	return out, q.take(out, false)
}
func (q *queueMap) iterate(fn func(key, val []byte) bool) {
	q.mu.Lock()
	var vs [][]byte
	for i := 0; i < q.n; i++ {
		vs = append(vs, append([]byte(nil), q.slot(q.head+i)...))
	}
	q.mu.Unlock()
	for _, v := range vs {
		if !fn(nil, v) {
			return
		}
	}
}
func (q *queueMap) count() int { q.mu.Lock(); defer q.mu.Unlock(); return q.n }

// Bloom filter
//
// Linux's BPF_MAP_TYPE_BLOOM_FILTER: push (87) adds a value, peek (89)
// returns 0 when the value may be present and -ENOENT when it is surely
// absent. The bit array has a power-of-two size of about
// max_entries*hashes/ln2 bits; bits are set with atomic OR, so the filter
// needs no lock. Entries cannot be deleted.

type bloomFilter struct {
	vsize  int
	nhash  int
	mask   uint64
	bits   []uint64
	seed   uint64
	filled atomic.Int64
}

func newBloom(s *MapSpec) *bloomFilter {
	nh := int(s.Extra & 0xf)
	if nh == 0 {
		nh = 5
	}
	want := uint64(math.Ceil(float64(s.MaxEntries) * float64(nh) / math.Ln2))
	n := uint64(64)
	for n < want {
		n <<= 1
	}
	return &bloomFilter{vsize: int(s.ValueSize), nhash: nh, mask: n - 1, bits: make([]uint64, n/64), seed: 0x9e3779b97f4a7c15}
}

func (b *bloomFilter) add(val []byte) {
	h1 := Hash64(val, b.seed)
	h2 := Hash64(val, h1) | 1
	for i := 0; i < b.nhash; i++ {
		bit := (h1 + uint64(i)*h2) & b.mask
		w := &b.bits[bit/64]
		m := uint64(1) << (bit % 64)
		if atomic.LoadUint64(w)&m == 0 {
			atomic.OrUint64(w, m)
		}
	}
	b.filled.Add(1)
}

func (b *bloomFilter) test(val []byte) bool {
	h1 := Hash64(val, b.seed)
	h2 := Hash64(val, h1) | 1
	for i := 0; i < b.nhash; i++ {
		bit := (h1 + uint64(i)*h2) & b.mask
		if atomic.LoadUint64(&b.bits[bit/64])&(1<<(bit%64)) == 0 {
			return false
		}
	}
	return true
}

func (b *bloomFilter) progLookup(int, []byte) []byte { return nil }
func (b *bloomFilter) update(_ int, _, val []byte, _ UpdateFlags, _ bool) error {
	b.add(val)
	return nil
}
func (b *bloomFilter) delete([]byte) error { return ErrNotSupported }
func (b *bloomFilter) hostLookup(val []byte) ([]byte, bool) {
	if len(val) != b.vsize {
		return nil, false
	}
	return nil, b.test(val)
}
func (b *bloomFilter) iterate(func(key, val []byte) bool) {}
func (b *bloomFilter) count() int                         { return int(b.filled.Load()) }

// Count-min sketch (goko map type GOKO_MAP_TYPE_COUNT_MIN)
//
// max_entries is the width (counters per row), map_extra the depth (rows,
// default 4), key_size the size of the counted element, value_size 8 (the
// counters are u64). Adding increments one counter per row with an atomic
// add, querying returns the minimum over the rows: no lock. Programs use
// goko_cms_add and goko_cms_query; the host uses Update (an 8-byte amount)
// and Lookup (the 8-byte estimate).

type countMin struct {
	ksize, width, depth int
	ctr                 []uint64
	total               atomic.Int64
}

func newCountMin(s *MapSpec) (*countMin, error) {
	d := int(s.Extra)
	if d == 0 {
		d = 4
	}
	return &countMin{ksize: int(s.KeySize), width: int(s.MaxEntries), depth: d,
		ctr: make([]uint64, d*int(s.MaxEntries))}, nil
}

func (c *countMin) add(key []byte, n uint64) uint64 {
	est := uint64(math.MaxUint64)
	for r := 0; r < c.depth; r++ {
		i := r*c.width + int(Hash64(key, uint64(r)*0x9e3779b97f4a7c15+1)%uint64(c.width))
		if v := atomic.AddUint64(&c.ctr[i], n); v < est {
			est = v
		}
	}
	if n != 0 {
		c.total.Add(1)
	}
	return est
}

func (c *countMin) query(key []byte) uint64 {
	est := uint64(math.MaxUint64)
	for r := 0; r < c.depth; r++ {
		i := r*c.width + int(Hash64(key, uint64(r)*0x9e3779b97f4a7c15+1)%uint64(c.width))
		if v := atomic.LoadUint64(&c.ctr[i]); v < est {
			est = v
		}
	}
	return est
}

func (c *countMin) progLookup(int, []byte) []byte { return nil }
func (c *countMin) update(_ int, key, val []byte, _ UpdateFlags, _ bool) error {
	c.add(key, binary.LittleEndian.Uint64(val))
	return nil
}
func (c *countMin) delete([]byte) error { return ErrNotSupported }
func (c *countMin) hostLookup(key []byte) ([]byte, bool) {
	return binary.LittleEndian.AppendUint64(nil, c.query(key)), true
}
func (c *countMin) iterate(func(key, val []byte) bool) {}
func (c *countMin) count() int                         { return int(c.total.Load()) }

// Ring buffer
//
// Linux's BPF_MAP_TYPE_RINGBUF: max_entries bytes of records, each with an
// 8-byte header {u32 length | busy bit 31 | discard bit 30, u32 pad}.
// Producers (ringbuf_output, ringbuf_reserve) take a mutex only to carve
// out space; a reserved record is filled without the lock and committed by
// clearing its busy bit atomically (ringbuf_submit) or marked discarded.
// A record never wraps: when it would not fit before the end, a discarded
// padding record fills the tail. The host consumer (Map.ReadRecords) stops
// at the first busy record, so records are delivered in reservation order.

const (
	rbBusy    = 1 << 31
	rbDiscard = 1 << 30
	rbHdr     = 8
)

type ringBuf struct {
	mu         sync.Mutex
	data       []byte
	size       uint64
	prod, cons uint64
	dropped    atomic.Uint64
}

func newRingBuf(s *MapSpec) (*ringBuf, error) {
	return &ringBuf{data: alignedBytes(int(s.MaxEntries)), size: uint64(s.MaxEntries)}, nil
}

func (r *ringBuf) hdr(pos uint64) *uint32 {
	return (*uint32)(unsafe.Pointer(&r.data[pos%r.size]))
}

// reserve returns the record's data and header position, or nil.
func (r *ringBuf) reserve(n uint64) ([]byte, uint64) {
	total := rbHdr + uint64(roundUp8(int(n)))
	if n == 0 || n > 1<<28 || total > r.size/2 {
		r.dropped.Add(1)
		return nil, 0
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	pos := r.prod % r.size
	pad := uint64(0)
	if pos+total > r.size {
		pad = r.size - pos
	}
	if r.prod+pad+total-r.cons > r.size {
		r.dropped.Add(1)
		return nil, 0
	}
	if pad > 0 {
		atomic.StoreUint32(r.hdr(r.prod), uint32(pad-rbHdr)|rbDiscard)
		r.prod += pad
		pos = 0
	}
	h := r.prod
	atomic.StoreUint32(r.hdr(h), uint32(n)|rbBusy)
	r.prod += total
	rec := r.data[pos+rbHdr : pos+rbHdr+n : pos+rbHdr+n]
	clear(rec) // a record starts zeroed: no run sees what an older record held
	return rec, h
}

func (r *ringBuf) commit(h uint64, discard bool) {
	p := r.hdr(h)
	v := atomic.LoadUint32(p) &^ rbBusy
	if discard {
		v |= rbDiscard
	}
	atomic.StoreUint32(p, v)
}

func (r *ringBuf) output(data []byte) bool {
	rec, h := r.reserve(uint64(len(data)))
	if rec == nil {
		return false
	}
	copy(rec, data)
	r.commit(h, false)
	return true
}

func (r *ringBuf) consume(fn func([]byte)) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for r.cons < r.prod {
		v := atomic.LoadUint32(r.hdr(r.cons))
		if v&rbBusy != 0 {
			break
		}
		ln := uint64(v &^ (rbBusy | rbDiscard))
		if v&rbDiscard == 0 {
			pos := r.cons%r.size + rbHdr
			fn(append([]byte(nil), r.data[pos:pos+ln]...))
			n++
		}
		r.cons += rbHdr + uint64(roundUp8(int(ln)))
	}
	return n
}

func (r *ringBuf) progLookup(int, []byte) []byte { return nil }
func (r *ringBuf) update(_ int, _, _ []byte, _ UpdateFlags, _ bool) error {
	return ErrNotSupported
}
func (r *ringBuf) delete([]byte) error                { return ErrNotSupported }
func (r *ringBuf) hostLookup([]byte) ([]byte, bool)   { return nil, false }
func (r *ringBuf) iterate(func(key, val []byte) bool) {}
func (r *ringBuf) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return int(r.prod - r.cons)
}

// Hash64 is goko's stable 64-bit hash of a byte string (the goko_hash64
// helper and the bloom filter and count-min sketch use it). It reads eight
// bytes at a time and mixes with 128-bit multiplies; its output never
// changes between releases or processes.
func Hash64(b []byte, seed uint64) uint64 {
	const (
		k0 = 0xa0761d6478bd642f
		k1 = 0xe7037ed1a0b428db
		k2 = 0x8ebc6af09c88c6e3
	)
	h := seed ^ k0 ^ uint64(len(b))*k2
	for len(b) >= 8 {
		hi, lo := bits.Mul64(binary.LittleEndian.Uint64(b)^k1, h^k2)
		h = hi ^ lo
		b = b[8:]
	}
	var t uint64
	for i := len(b) - 1; i >= 0; i-- {
		t = t<<8 | uint64(b[i])
	}
	hi, lo := bits.Mul64(t^k1^uint64(len(b))<<56, h^k0)
	h = hi ^ lo
	hi, lo = bits.Mul64(h^k2, h^k1)
	return hi ^ lo
}
