package ubpf

// LPM trie
//
// Keys are Linux's struct bpf_lpm_trie_key: a 4-byte prefix length in host
// byte order followed by the address bytes (network order). Entries are
// preallocated as in hash maps: key words (the prefix, masked, zero-
// padded), prefix lengths and a value slab (the map's static region in its
// programs, see Map.direct), plus a free list. One open-addressing table
// (sized for twice the entries, never grown) indexes (prefix length,
// prefix) with the maps' keyed hash, seeded per length; a lookup probes
// the lengths present, longest first (a list republished when a length
// appears or disappears), masking the address into a buffer on the stack:
// no Go map, no allocation, usually a handful of probes.
//
// Reads take no lock: writers (updates, deletes; the control plane,
// rarely programs) hold the mutex and make the sequence counter odd while
// they change the trie, and a lookup that saw the counter change probes
// again (after a few tries under the mutex), as hash maps do. Everything
// a probe reads it reads atomically. A deleted entry's value slot may be
// reused by a later insert, and stays valid memory for a run that holds a
// pointer to it.

import (
	"encoding/binary"
	"slices"
	"sync/atomic"
	"unsafe"
)

type lpmTrie struct {
	dlen, vsize, stride, kwords, max int
	seed                             uint64

	seqMutex
	slots []uint64 // tag<<32 | entry+1; fixed size, a power of two
	mask  uint64

	keys []uint64 // kwords per entry
	plen []uint32 // per entry, atomic
	vals []byte   // stride per entry

	free     []int32
	n        int
	lenCount []int                    // entries per prefix length (under mu)
	lens     atomic.Pointer[[]uint32] // lengths present, longest first
}

func newLPMTrie(s *MapSpec) (*lpmTrie, error) {
	t := &lpmTrie{dlen: int(s.KeySize) - 4, vsize: int(s.ValueSize), stride: roundUp8(int(s.ValueSize)),
		max: int(s.MaxEntries), seed: newMapSeed()}
	t.kwords = (t.dlen + 7) / 8
	size := 8
	for size < 2*t.max {
		size <<= 1
	}
	t.slots = make([]uint64, size)
	t.mask = uint64(size - 1)
	t.keys = make([]uint64, t.max*t.kwords)
	t.plen = make([]uint32, t.max)
	t.vals = alignedBytes(t.max * t.stride)
	t.free = make([]int32, t.max)
	for i := range t.free {
		t.free[i] = int32(t.max - 1 - i)
	}
	t.lenCount = make([]int, 8*t.dlen+1)
	t.lens.Store(&[]uint32{})
	return t, nil
}

func (t *lpmTrie) split(key []byte) (uint32, []byte, bool) {
	if len(key) != 4+t.dlen {
		return 0, nil, false
	}
	plen := binary.LittleEndian.Uint32(key)
	if plen > uint32(8*t.dlen) {
		return 0, nil, false
	}
	return plen, key[4:], true
}

// prefix writes the first plen bits of data into buf and returns them
// (the bytes that hold them, the last one masked).
func prefix(buf *[256]byte, data []byte, plen uint32) []byte {
	n := int(plen+7) / 8
	p := buf[:n]
	copy(p, data)
	if r := plen % 8; r != 0 {
		p[n-1] &= byte(0xff << (8 - r))
	}
	return p
}

func (t *lpmTrie) hash(p []byte, plen uint32) uint64 {
	return keyHash(p, t.seed^uint64(plen+1)*0x9e3779b97f4a7c15)
}

func (t *lpmTrie) val(e int) []byte {
	o := e * t.stride
	return t.vals[o : o+t.vsize : o+t.vsize]
}

// find returns the table position and entry of the prefix p of length
// plen (hash hv), or -1; it reads atomically.
func (t *lpmTrie) find(p []byte, plen uint32, hv uint64) (int, int) {
	tag := hv &^ 0xffffffff
	pos := (hv >> 32) & t.mask
	for range t.mask + 1 {
		v := atomic.LoadUint64(&t.slots[pos])
		if v == 0 {
			return int(pos), -1
		}
		if e := int(uint32(v) - 1); v&^0xffffffff == tag && atomic.LoadUint32(&t.plen[e]) == plen && t.keyIs(e, p) {
			return int(pos), e
		}
		pos = (pos + 1) & t.mask
	}
	return -1, -1
}

func (t *lpmTrie) keyIs(e int, p []byte) bool {
	w := t.keys[e*t.kwords : (e+1)*t.kwords]
	for i := range w {
		var k uint64
		if 8*i < len(p) {
			k = keyWord(p, i)
		}
		if atomic.LoadUint64(&w[i]) != k {
			return false
		}
	}
	return true
}

// match returns the entry of the longest prefix of data (at most plen
// bits) in the trie, or -1, without locking.
func (t *lpmTrie) match(data []byte, plen uint32) int {
	var buf [256]byte
	for try := 0; ; try++ {
		q := t.seq.Load()
		if q&1 != 0 && try < 4 {
			continue
		}
		locked := try >= 4
		if locked {
			t.mu.Lock()
		}
		e := -1
		for _, l := range *t.lens.Load() {
			if l > plen {
				continue
			}
			p := prefix(&buf, data, l)
			if _, e = t.find(p, l, t.hash(p, l)); e >= 0 {
				break
			}
		}
		if locked {
			t.mu.Unlock()
			return e
		}
		if t.seq.Load() == q {
			return e
		}
	}
}

// progEntry is a program's lookup: the entry of key's longest prefix, or
// -1.
func (t *lpmTrie) progEntry(key []byte) int {
	plen, data, ok := t.split(key)
	if !ok {
		return -1
	}
	return t.match(data, plen)
}

func (t *lpmTrie) progLookup(_ int, key []byte) []byte {
	if e := t.progEntry(key); e >= 0 {
		return t.val(e)
	}
	return nil
}

// publishLens republishes the lengths present (under the lock).
func (t *lpmTrie) publishLens() {
	var ls []uint32
	for l := len(t.lenCount) - 1; l >= 0; l-- {
		if t.lenCount[l] > 0 {
			ls = append(ls, uint32(l))
		}
	}
	t.lens.Store(&ls)
}

// keyPrefix returns key's prefix length, masked prefix (in buf) and hash.
func (t *lpmTrie) keyPrefix(buf *[256]byte, key []byte) (uint32, []byte, uint64, error) {
	plen, data, ok := t.split(key)
	if !ok {
		return 0, nil, 0, ErrInvalidArg
	}
	p := prefix(buf, data, plen)
	return plen, p, t.hash(p, plen), nil
}

func (t *lpmTrie) update(_ int, key, val []byte, flags UpdateFlags, _ bool) error {
	var buf [256]byte
	plen, p, hv, err := t.keyPrefix(&buf, key)
	if err != nil {
		return err
	}
	t.lock()
	defer t.unlock()
	pos, e := t.find(p, plen, hv)
	if e >= 0 {
		if flags == UpdateNoExist {
			return ErrKeyExist
		}
		copyIn(t.val(e), val[:t.vsize])
		return nil
	}
	if flags == UpdateExist {
		return ErrKeyNotExist
	}
	if len(t.free) == 0 || pos < 0 {
		return ErrMapFull
	}
	e = int(t.free[len(t.free)-1])
	t.free = t.free[:len(t.free)-1]
	w := t.keys[e*t.kwords : (e+1)*t.kwords]
	for i := range w {
		var k uint64
		if 8*i < len(p) {
			k = keyWord(p, i)
		}
		atomic.StoreUint64(&w[i], k)
	}
	atomic.StoreUint32(&t.plen[e], plen)
	copyIn(t.val(e), val[:t.vsize])
	atomic.StoreUint64(&t.slots[pos], slotOf(hv, e))
	t.n++
	if t.lenCount[plen]++; t.lenCount[plen] == 1 {
		t.publishLens()
	}
	return nil
}

func (t *lpmTrie) delete(key []byte) error {
	var buf [256]byte
	plen, p, hv, err := t.keyPrefix(&buf, key)
	if err != nil {
		return err
	}
	t.lock()
	defer t.unlock()
	pos, e := t.find(p, plen, hv)
	if e < 0 {
		return ErrKeyNotExist
	}
	backshift(t.slots, pos)
	t.free = append(t.free, int32(e))
	t.n--
	if t.lenCount[plen]--; t.lenCount[plen] == 0 {
		t.publishLens()
	}
	return nil
}

// entryKey returns entry e's bpf_lpm_trie_key (under the lock).
func (t *lpmTrie) entryKey(e int) []byte {
	k := binary.LittleEndian.AppendUint32(make([]byte, 0, 4+t.dlen), t.plen[e])
	w := t.keys[e*t.kwords : (e+1)*t.kwords]
	b := unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(w))), 8*len(w))
	return append(k, b[:t.dlen]...)
}

func (t *lpmTrie) hostLookup(key []byte) ([]byte, bool) {
	plen, data, ok := t.split(key)
	if !ok {
		return nil, false
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	e := t.match(data, plen)
	if e < 0 {
		return nil, false
	}
	return copyOut(t.val(e)), true
}

func (t *lpmTrie) iterate(fn func(key, val []byte) bool) {
	t.mu.Lock()
	var ks, vs [][]byte
	for _, v := range t.slots {
		if v != 0 {
			e := int(uint32(v) - 1)
			ks = append(ks, t.entryKey(e))
			vs = append(vs, copyOut(t.val(e)))
		}
	}
	t.mu.Unlock()
	// longest prefixes first, then by address, as the old trie listed them
	idx := make([]int, len(ks))
	for i := range idx {
		idx[i] = i
	}
	slices.SortFunc(idx, func(a, b int) int {
		pa, pb := binary.LittleEndian.Uint32(ks[a]), binary.LittleEndian.Uint32(ks[b])
		if pa != pb {
			return int(pb) - int(pa)
		}
		return slices.Compare(ks[a][4:], ks[b][4:])
	})
	for _, i := range idx {
		if !fn(ks[i], vs[i]) {
			return
		}
	}
}

func (t *lpmTrie) count() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.n
}
