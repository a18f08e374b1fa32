package ubpf

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

import (
	"sync"
	"sync/atomic"
	"unsafe"
)

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
