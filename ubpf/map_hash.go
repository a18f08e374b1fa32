package ubpf

// Hash maps (hash, LRU hash, per-thread hash, LRU per-thread hash)
//
// Entries are preallocated: a slab of max_entries keys and values (8-byte
// aligned, one value per Thread slot for per-thread kinds) plus a free
// list, so inserting from a program allocates nothing. The index is split
// into 16 shards by key hash; each shard is an open-addressing table
// (linear probing, backward-shift deletion) of entry numbers.
//
// Lookups take no lock. Writers (update, delete, eviction) hold the
// shard's mutex and make its sequence counter odd while they change the
// shard (a seqlock); a lookup reads the counter, probes, and reads it
// again: if a writer ran meanwhile it probes again (after a few tries it
// takes the mutex, so a stream of writers cannot starve it). Everything a
// probe reads is read atomically: the shard's table (its mask and first
// slot, published in that order reversed when it grows, so a reader that
// sees the larger mask also sees the larger table), its slots (the upper
// half of the key's hash beside the entry number, so a probe touches an
// entry only when the tag matches) and keys, stored as zero-padded 8-byte
// words. So a lookup never blocks a PMD and never writes a cache line
// other PMDs read, and a probe that raced with a writer only ever sees
// values that were stored; the loads it depends on are few (mask and
// table, slot, key).
//
// The value memory a lookup returns is the entry's slab slot, which stays
// valid for the program's run (the slab is never freed; a deleted slot
// may be reused by a later insert, as with Linux's preallocated maps).
// The slab is slot-major (all entries of thread slot 0, then slot 1, ...)
// and is the map's static region in its programs (Map.direct): a lookup
// returns the entry's offset in it, with nothing to map per run. Bounds
// checks on map value accesses are then the map's, not the value's: a
// program that escaped the verifier could reach other entries of the same
// map (as a lookup of their keys would), never another map or another
// thread's slot.
// Updates of an existing key copy the new value in place (8-byte atomic
// stores), so concurrent readers never see a torn aligned word.
//
// Keys are hashed with a keyed 64-bit hash (keyHash, a random seed per
// map) that reads short keys in one or two words: no copy of the key.
//
// LRU kinds stamp every entry with a map-wide clock on lookup and update
// (a lookup stores only when the stamp changes, so that hot entries are
// read-only); when the map is full an insert evicts the least recently
// used of up to 16 entries sampled from the inserting shard (approximate
// LRU, like Redis), falling back to any shard when its own is empty.

import (
	"encoding/binary"
	"math/bits"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"unsafe"
)

const hashShards = 16

// newMapSeed gives each hash map its hash seed (tests make it fixed).
var newMapSeed = rand.Uint64

// seqMutex is the writers' mutex of a structure read without locks, and
// its sequence counter: odd while a writer changes the structure.
type seqMutex struct {
	mu  sync.Mutex
	seq atomic.Uint64
}

func (m *seqMutex) lock() {
	m.mu.Lock()
	m.seq.Add(1)
}

func (m *seqMutex) unlock() {
	m.seq.Add(1)
	m.mu.Unlock()
}

// backshift empties position pos of an open-addressing table of slots
// (tag<<32 | entry+1) with backward-shift deletion: entries after it move
// back when pos lies cyclically in [their home, their position). Stores
// are atomic for lock-free readers; the caller holds the writers' lock.
func backshift(tab []uint64, pos int) {
	mask := len(tab) - 1
	atomic.StoreUint64(&tab[pos], 0)
	for q := (pos + 1) & mask; tab[q] != 0; q = (q + 1) & mask {
		if home := int(tab[q]>>32) & mask; (q-home)&mask >= (q-pos)&mask {
			atomic.StoreUint64(&tab[pos], tab[q])
			atomic.StoreUint64(&tab[q], 0)
			pos = q
		}
	}
}

type hashShard struct {
	seqMutex
	// used counts the table's published slots: raised before a slot is
	// published, lowered after one is emptied, so that a reader that
	// loads 0 may report a miss without probing (the shard had no entry
	// at that instant). Lookups in empty or sparse maps (a deny list, the
	// usual case) then touch the shard's header and not a random line of
	// its table.
	used atomic.Int64
	mask atomic.Uint64 // len(table)-1
	tab  atomic.Pointer[uint64]
	// slots is the table (tag<<32 | entry+1, 0: empty) as the writers
	// see it; guarded by mu, written atomically
	slots []uint64
	n     int // guarded by mu
}

// setTable publishes a new table: the pointer before the mask.
func (s *hashShard) setTable(t []uint64) {
	s.slots = t
	s.tab.Store(&t[0])
	s.mask.Store(uint64(len(t) - 1))
}

type hashMap struct {
	ksize, vsize, stride int
	kwords               int // key words of 8 bytes
	slotBytes            int // the values of one thread slot
	slots                int
	max                  int
	lru                  bool
	seed                 uint64

	keys  []uint64 // kwords per entry, zero-padded
	vals  []byte
	stamp []atomic.Uint64
	live  []bool // guarded by the entry's shard lock

	freeMu sync.Mutex
	free   []int32
	clock  atomic.Uint64
	// cnt counts the entries, as hashShard.used counts a shard's: raised
	// before an entry's slot is published, lowered after it is emptied,
	// so that a lookup that loads 0 may report a miss at once (an empty
	// deny list costs a lookup one load, not a hash and a probe)
	cnt atomic.Int64

	shards [hashShards]hashShard
}

func newHashMap(s *MapSpec) *hashMap {
	h := &hashMap{ksize: int(s.KeySize), vsize: int(s.ValueSize), stride: roundUp8(int(s.ValueSize)),
		max: int(s.MaxEntries), slots: 1, seed: newMapSeed(),
		lru: s.Type == MapLRUHash || s.Type == MapLRUPerThreadHash}
	h.kwords = (h.ksize + 7) / 8
	if s.Type == MapPerThreadHash || s.Type == MapLRUPerThreadHash {
		h.slots = ThreadSlots
	}
	h.keys = make([]uint64, h.max*h.kwords)
	h.slotBytes = h.max * h.stride
	h.vals = alignedBytes(h.slotBytes * h.slots)
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
		h.shards[i].setTable(make([]uint64, size))
	}
	return h
}

// keyHash is the maps' keyed hash: keys of 4 to 16 bytes are read in
// two words (as wyhash does) and mixed with 128-bit multiplies; inlined.
func keyHash(key []byte, seed uint64) uint64 {
	n := len(key)
	if n < 4 || n > 16 {
		return keyHashOther(key, seed)
	}
	var a, b uint64
	if n >= 8 {
		a, b = binary.LittleEndian.Uint64(key), binary.LittleEndian.Uint64(key[n-8:])
	} else {
		a, b = uint64(binary.LittleEndian.Uint32(key)), uint64(binary.LittleEndian.Uint32(key[n-4:]))
	}
	return mixHash(a, b, uint64(n), seed)
}

const (
	hk0 = 0xa0761d6478bd642f
	hk1 = 0xe7037ed1a0b428db
	hk2 = 0x8ebc6af09c88c6e3
)

func mixHash(a, b, n, seed uint64) uint64 {
	hi, lo := bits.Mul64(a^hk1, b^seed^hk2)
	hi, lo = bits.Mul64(hi^lo^n, seed^hk0)
	return hi ^ lo
}

func keyHashOther(key []byte, seed uint64) uint64 {
	n := len(key)
	if n > 16 {
		return Hash64(key, seed)
	}
	var a uint64
	if n > 0 {
		a = uint64(key[0])<<16 | uint64(key[n/2])<<8 | uint64(key[n-1])
	}
	return mixHash(a, 0, uint64(n), seed)
}

func (h *hashMap) hashOf(key []byte) uint64 { return keyHash(key, h.seed) }

// key returns entry e's stored key (under its shard's lock).
func (h *hashMap) key(e int) []byte {
	w := h.keys[e*h.kwords : (e+1)*h.kwords]
	return unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(w))), h.kwords*8)[:h.ksize]
}

// keyWord returns word i of key, zero-padded.
func keyWord(key []byte, i int) uint64 {
	o := 8 * i
	if len(key)-o >= 8 {
		return binary.LittleEndian.Uint64(key[o:])
	}
	return keyTail(key[o:])
}

// keyTail is a key's last word (fewer than 8 bytes), zero-padded.
func keyTail(t []byte) uint64 {
	if r := len(t); r >= 4 { // bytes 0..3, then 4..r-1 from the last four
		hi := uint64(binary.LittleEndian.Uint32(t[r-4:])) >> (8 * (8 - r))
		return uint64(binary.LittleEndian.Uint32(t)) | hi<<32
	}
	var w uint64
	for j := len(t) - 1; j >= 0; j-- {
		w = w<<8 | uint64(t[j])
	}
	return w
}

func (h *hashMap) setKey(e int, key []byte) {
	w := h.keys[e*h.kwords : (e+1)*h.kwords]
	for i := range w {
		atomic.StoreUint64(&w[i], keyWord(key, i))
	}
}

func (h *hashMap) keyIs(e int, key []byte) bool {
	w := h.keys[e*h.kwords : (e+1)*h.kwords]
	for i := range w {
		if atomic.LoadUint64(&w[i]) != keyWord(key, i) {
			return false
		}
	}
	return true
}

// val is entry e's value in thread slot slot. Values are slot-major:
// slot s holds all entries' values, slotBytes apart, so that a thread's
// slot is one contiguous region (see Map.direct).
func (h *hashMap) val(e, slot int) []byte {
	o := slot*h.slotBytes + e*h.stride
	return h.vals[o : o+h.vsize : o+h.vsize]
}

// slotOf is a table slot: the upper half of the key's hash (the lower
// bits chose the shard) and the entry number plus one.
func slotOf(hv uint64, e int) uint64 { return hv&^0xffffffff | uint64(e+1) }

// find returns the table position and entry of key in shard s, or -1.
// It reads atomically, so it may run beside a writer (the caller then
// checks the shard's sequence); it ends after at most len(table) probes.
func (h *hashMap) find(s *hashShard, hv uint64, key []byte) (int, int) {
	if h.kwords == 1 {
		return h.find1(s, hv, keyWord(key, 0))
	}
	mask := s.mask.Load() // before the table: see setTable
	tab := unsafe.Pointer(s.tab.Load())
	tag := hv &^ 0xffffffff
	p := (hv >> 32) & mask
	for range mask + 1 {
		v := atomic.LoadUint64((*uint64)(unsafe.Add(tab, 8*p)))
		if v == 0 {
			return int(p), -1
		}
		if v&^0xffffffff == tag && h.keyIs(int(uint32(v)-1), key) {
			return int(p), int(uint32(v) - 1)
		}
		p = (p + 1) & mask
	}
	return -1, -1
}

// find1 is find for keys of one word, k.
func (h *hashMap) find1(s *hashShard, hv, k uint64) (int, int) {
	mask := s.mask.Load() // before the table: see setTable
	tab := unsafe.Pointer(s.tab.Load())
	keys := unsafe.Pointer(unsafe.SliceData(h.keys))
	tag := hv &^ 0xffffffff
	p := (hv >> 32) & mask
	for range mask + 1 {
		v := atomic.LoadUint64((*uint64)(unsafe.Add(tab, 8*p)))
		if v == 0 {
			return int(p), -1
		}
		// entry numbers in the table are below max: keys[e] exists
		if e := uint32(v) - 1; v&^0xffffffff == tag && atomic.LoadUint64((*uint64)(unsafe.Add(keys, 8*uintptr(e)))) == k {
			return int(p), int(e)
		}
		p = (p + 1) & mask
	}
	return -1, -1
}

func (h *hashMap) shardOf(hv uint64) *hashShard { return &h.shards[hv&(hashShards-1)] }

// lookup returns key's entry or -1, without locking (see the file
// comment).
func (h *hashMap) lookup(key []byte) int {
	if h.cnt.Load() == 0 {
		return -1
	}
	hv := h.hashOf(key)
	s := h.shardOf(hv)
	if s.used.Load() == 0 {
		return -1
	}
	for try := 0; try < 4; try++ {
		q := s.seq.Load()
		if q&1 != 0 {
			continue
		}
		_, e := h.find(s, hv, key)
		if s.seq.Load() == q {
			return e
		}
	}
	s.mu.Lock()
	_, e := h.find(s, hv, key)
	s.mu.Unlock()
	return e
}

// progEntry is a program's lookup: key's entry (stamped as used for LRU
// kinds), or -1.
func (h *hashMap) progEntry(key []byte) int {
	e := h.lookup(key)
	if e >= 0 && h.lru {
		if c := h.clock.Load(); h.stamp[e].Load() != c {
			h.stamp[e].Store(c)
		}
	}
	return e
}

func (h *hashMap) progLookup(slot int, key []byte) []byte {
	e := h.progEntry(key)
	if e < 0 {
		return nil
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

// removeAt deletes the entry at table position p. The caller holds the
// shard's lock.
func (h *hashMap) removeAt(s *hashShard, p int) {
	e := int(uint32(s.slots[p]) - 1)
	h.live[e] = false
	backshift(s.slots, p)
	s.used.Add(-1)
	s.n--
	h.cnt.Add(-1)
	h.freeEntry(e)
}

// grow doubles the shard's table (the caller holds its lock); readers of
// the old table see the sequence change and probe the new one.
func (h *hashMap) grow(s *hashShard) {
	old := s.slots
	tab := make([]uint64, 2*len(old))
	mask := len(tab) - 1
	for _, v := range old {
		if v == 0 {
			continue
		}
		p := int(v>>32) & mask
		for tab[p] != 0 {
			p = (p + 1) & mask
		}
		tab[p] = v
	}
	s.setTable(tab)
}

// evict frees one least-recently-used entry of shard s (locked by caller).
func (h *hashMap) evict(s *hashShard) bool {
	tab := s.slots
	best, bestPos := uint64(1<<64-1), -1
	seen := 0
	start := int(h.clock.Load()*0x9e3779b9) & (len(tab) - 1)
	for i := 0; i < len(tab) && seen < 16; i++ {
		p := (start + i) & (len(tab) - 1)
		if v := tab[p]; v != 0 {
			seen++
			if st := h.stamp[uint32(v)-1].Load(); st < best {
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
	hv := h.hashOf(key)
	s := h.shardOf(hv)
	s.lock()
	defer s.unlock()
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
				o.seq.Add(1)
				ok := h.evict(o)
				o.unlock()
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
	h.setKey(e, key)
	h.store(e, slot, val, host, true)
	if h.lru {
		h.stamp[e].Store(h.clock.Add(1))
	}
	h.live[e] = true
	h.cnt.Add(1) // both before the slot: see hashMap.cnt, hashShard.used
	s.used.Add(1)
	atomic.StoreUint64(&s.slots[p], slotOf(hv, e))
	s.n++
	if s.n*4 >= len(s.slots)*3 {
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
			for s := 0; s < h.slots; s++ {
				zeroAtomic(h.val(e, s))
			}
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
	hv := h.hashOf(key)
	s := h.shardOf(hv)
	s.lock()
	defer s.unlock()
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
	hv := h.hashOf(key)
	s := h.shardOf(hv)
	s.mu.Lock()
	defer s.mu.Unlock()
	_, e := h.find(s, hv, key)
	if e < 0 {
		return nil, false
	}
	return h.value(e), true
}

func (h *hashMap) iterate(fn func(key, val []byte) bool) {
	for i := range h.shards {
		s := &h.shards[i]
		s.mu.Lock()
		var ks, vs [][]byte
		for _, v := range s.slots {
			if v != 0 {
				e := int(uint32(v) - 1)
				ks = append(ks, append([]byte(nil), h.key(e)...))
				vs = append(vs, h.value(e))
			}
		}
		s.mu.Unlock()
		for j := range ks {
			if !fn(ks[j], vs[j]) {
				return
			}
		}
	}
}

func (h *hashMap) count() int { return int(h.cnt.Load()) }
