package ubpf

// Hash maps (hash, LRU hash, per-thread hash, LRU per-thread hash)
//
// Entries are preallocated: a slab of max_entries keys and values (8-byte
// aligned, one value per Thread slot for per-thread kinds) plus a free
// list, so inserting from a program allocates nothing. The index is split
// into 16 shards by key hash; each shard is an open-addressing table
// (linear probing, backward-shift deletion) of entry numbers under its own
// sync.RWMutex. Lookups take the shard's read lock only for the probe; the
// value memory they return is the entry's slab slot, which stays valid for
// the program's run (the slab is never freed; a deleted slot may be reused
// by a later insert, as with Linux's preallocated maps).
//
// Updates of an existing key copy the new value in place (8-byte atomic
// stores), so concurrent readers never see a torn aligned word.
//
// LRU kinds stamp every entry with a map-wide clock on lookup and update;
// when the map is full an insert evicts the least recently used of up to
// 16 entries sampled from the inserting shard (approximate LRU, like
// Redis), falling back to any shard when its own is empty.

import (
	"bytes"
	"hash/maphash"
	"sync"
	"sync/atomic"
)

const hashShards = 16

type hashShard struct {
	mu    sync.RWMutex
	table []int32 // entry index + 1; 0 = empty
	n     int
	_     [40]byte
}

type hashMap struct {
	ksize, vsize, stride int
	slots                int
	max                  int
	lru                  bool
	seed                 maphash.Seed

	keys  []byte
	vals  []byte
	hash  []uint64
	stamp []atomic.Uint64
	live  []bool // guarded by the entry's shard lock

	freeMu sync.Mutex
	free   []int32
	clock  atomic.Uint64
	cnt    atomic.Int64

	shards [hashShards]hashShard
}

func newHashMap(s *MapSpec) *hashMap {
	h := &hashMap{ksize: int(s.KeySize), vsize: int(s.ValueSize), stride: roundUp8(int(s.ValueSize)),
		max: int(s.MaxEntries), slots: 1, seed: maphash.MakeSeed(),
		lru: s.Type == MapLRUHash || s.Type == MapLRUPerThreadHash}
	if s.Type == MapPerThreadHash || s.Type == MapLRUPerThreadHash {
		h.slots = ThreadSlots
	}
	h.keys = make([]byte, h.max*h.ksize)
	h.vals = alignedBytes(h.max * h.stride * h.slots)
	h.hash = make([]uint64, h.max)
	h.live = make([]bool, h.max)
	if h.lru {
		h.stamp = make([]atomic.Uint64, h.max)
	}
	h.free = make([]int32, h.max)
	for i := range h.free {
		h.free[i] = int32(h.max - 1 - i)
	}
	per := 2 * h.max / hashShards
	size := 8
	for size < per {
		size <<= 1
	}
	for i := range h.shards {
		h.shards[i].table = make([]int32, size)
	}
	return h
}

func (h *hashMap) key(e int) []byte { return h.keys[e*h.ksize : (e+1)*h.ksize] }

func (h *hashMap) val(e, slot int) []byte {
	o := (e*h.slots + slot) * h.stride
	return h.vals[o : o+h.vsize : o+h.vsize]
}

func (h *hashMap) allVals(e int) []byte {
	o := e * h.slots * h.stride
	return h.vals[o : o+h.slots*h.stride]
}

// find returns the table position and entry of key in shard s, or -1.
// The caller holds the shard lock.
func (h *hashMap) find(s *hashShard, hv uint64, key []byte) (int, int) {
	mask := len(s.table) - 1
	for p := int(hv>>32) & mask; ; p = (p + 1) & mask {
		v := s.table[p]
		if v == 0 {
			return p, -1
		}
		e := int(v - 1)
		if h.hash[e] == hv && bytes.Equal(h.key(e), key) {
			return p, e
		}
	}
}

func (h *hashMap) shardOf(hv uint64) *hashShard { return &h.shards[hv&(hashShards-1)] }

func (h *hashMap) progLookup(slot int, key []byte) []byte {
	hv := maphash.Bytes(h.seed, key)
	s := h.shardOf(hv)
	s.mu.RLock()
	_, e := h.find(s, hv, key)
	s.mu.RUnlock()
	if e < 0 {
		return nil
	}
	if h.lru {
		h.stamp[e].Store(h.clock.Load())
	}
	if h.slots == 1 {
		slot = 0
	}
	return h.val(e, slot)
}

func (h *hashMap) allocEntry() int {
	h.freeMu.Lock()
	defer h.freeMu.Unlock()
	if len(h.free) == 0 {
		return -1
	}
	e := h.free[len(h.free)-1]
	h.free = h.free[:len(h.free)-1]
	return int(e)
}

func (h *hashMap) freeEntry(e int) {
	h.freeMu.Lock()
	h.free = append(h.free, int32(e))
	h.freeMu.Unlock()
}

// removeAt deletes the entry at table position p with backward-shift
// deletion. The caller holds the shard's write lock.
func (h *hashMap) removeAt(s *hashShard, p int) {
	mask := len(s.table) - 1
	e := int(s.table[p] - 1)
	h.live[e] = false
	s.table[p] = 0
	s.n--
	h.cnt.Add(-1)
	for q := (p + 1) & mask; s.table[q] != 0; q = (q + 1) & mask {
		f := int(s.table[q] - 1)
		home := int(h.hash[f]>>32) & mask
		// move f into the hole at p if p lies cyclically in [home, q)
		if (q-home)&mask >= (q-p)&mask {
			s.table[p] = s.table[q]
			s.table[q] = 0
			p = q
		}
	}
	h.freeEntry(e)
}

func (h *hashMap) grow(s *hashShard) {
	old := s.table
	s.table = make([]int32, 2*len(old))
	mask := len(s.table) - 1
	for _, v := range old {
		if v == 0 {
			continue
		}
		p := int(h.hash[v-1]>>32) & mask
		for s.table[p] != 0 {
			p = (p + 1) & mask
		}
		s.table[p] = v
	}
}

// evict frees one least-recently-used entry of shard s (locked by caller).
func (h *hashMap) evict(s *hashShard) bool {
	best, bestPos := uint64(1<<64-1), -1
	seen := 0
	start := int(h.clock.Load()*0x9e3779b9) & (len(s.table) - 1)
	for i := 0; i < len(s.table) && seen < 16; i++ {
		p := (start + i) & (len(s.table) - 1)
		if v := s.table[p]; v != 0 {
			seen++
			if st := h.stamp[v-1].Load(); st < best {
				best, bestPos = st, p
			}
		}
	}
	if bestPos < 0 {
		return false
	}
	h.removeAt(s, bestPos)
	return true
}

func (h *hashMap) update(slot int, key, val []byte, flags UpdateFlags, host bool) error {
	hv := maphash.Bytes(h.seed, key)
	s := h.shardOf(hv)
	s.mu.Lock()
	defer s.mu.Unlock()
	p, e := h.find(s, hv, key)
	if e >= 0 {
		if flags == UpdateNoExist {
			return ErrKeyExist
		}
		h.store(e, slot, val, host, false)
		if h.lru {
			h.stamp[e].Store(h.clock.Add(1))
		}
		return nil
	}
	if flags == UpdateExist {
		return ErrKeyNotExist
	}
	e = h.allocEntry()
	if e < 0 && h.lru {
		if !h.evict(s) {
			// nothing to evict here: evict from another shard
			for i := range h.shards {
				o := &h.shards[i]
				if o == s || !o.mu.TryLock() {
					continue
				}
				ok := h.evict(o)
				o.mu.Unlock()
				if ok {
					break
				}
			}
		}
		e = h.allocEntry()
		p, _ = h.find(s, hv, key) // positions may have shifted
	}
	if e < 0 {
		return ErrMapFull
	}
	copy(h.key(e), key)
	h.hash[e] = hv
	h.store(e, slot, val, host, true)
	if h.lru {
		h.stamp[e].Store(h.clock.Add(1))
	}
	h.live[e] = true
	s.table[p] = int32(e + 1)
	s.n++
	h.cnt.Add(1)
	if s.n*4 >= len(s.table)*3 {
		h.grow(s)
	}
	return nil
}

// store writes a value: one slot from a program, all slots from the host.
// A new per-thread entry written by a program has its other slots zeroed.
func (h *hashMap) store(e, slot int, val []byte, host, fresh bool) {
	switch {
	case h.slots == 1:
		copyIn(h.val(e, 0), val[:h.vsize])
	case !host:
		if fresh {
			zeroAtomic(h.allVals(e))
		}
		copyIn(h.val(e, slot), val[:h.vsize])
	case len(val) == h.vsize:
		for s := 0; s < h.slots; s++ {
			copyIn(h.val(e, s), val)
		}
	default:
		for s := 0; s < h.slots; s++ {
			copyIn(h.val(e, s), val[s*h.vsize:(s+1)*h.vsize])
		}
	}
}

func (h *hashMap) delete(key []byte) error {
	hv := maphash.Bytes(h.seed, key)
	s := h.shardOf(hv)
	s.mu.Lock()
	defer s.mu.Unlock()
	p, e := h.find(s, hv, key)
	if e < 0 {
		return ErrKeyNotExist
	}
	h.removeAt(s, p)
	return nil
}

func (h *hashMap) value(e int) []byte {
	if h.slots == 1 {
		return copyOut(h.val(e, 0))
	}
	out := make([]byte, 0, h.vsize*h.slots)
	for s := 0; s < h.slots; s++ {
		out = append(out, copyOut(h.val(e, s))...)
	}
	return out
}

func (h *hashMap) hostLookup(key []byte) ([]byte, bool) {
	hv := maphash.Bytes(h.seed, key)
	s := h.shardOf(hv)
	s.mu.RLock()
	defer s.mu.RUnlock()
	_, e := h.find(s, hv, key)
	if e < 0 {
		return nil, false
	}
	return h.value(e), true
}

func (h *hashMap) iterate(fn func(key, val []byte) bool) {
	for i := range h.shards {
		s := &h.shards[i]
		s.mu.RLock()
		var ks, vs [][]byte
		for _, v := range s.table {
			if v != 0 {
				ks = append(ks, append([]byte(nil), h.key(int(v-1))...))
				vs = append(vs, h.value(int(v-1)))
			}
		}
		s.mu.RUnlock()
		for j := range ks {
			if !fn(ks[j], vs[j]) {
				return
			}
		}
	}
}

func (h *hashMap) count() int { return int(h.cnt.Load()) }
