package ubpf

// Bloom filter
//
// Linux's BPF_MAP_TYPE_BLOOM_FILTER: push (87) adds a value, peek (89)
// returns 0 when the value may be present and -ENOENT when it is surely
// absent. The bit array has a power-of-two size of about
// max_entries*hashes/ln2 bits; bits are set with atomic OR, so the filter
// needs no lock. Entries cannot be deleted.

import (
	"math"
	"sync/atomic"
)

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
