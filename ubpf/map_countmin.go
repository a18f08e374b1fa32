package ubpf

// Count-min sketch (goko map type GOKO_MAP_TYPE_COUNT_MIN)
//
// max_entries is the width (counters per row), map_extra the depth (rows,
// default 4), key_size the size of the counted element, value_size 8 (the
// counters are u64). Adding increments one counter per row with an atomic
// add, querying returns the minimum over the rows: no lock. Programs use
// goko_cms_add and goko_cms_query; the host uses Update (an 8-byte amount)
// and Lookup (the 8-byte estimate).

import (
	"encoding/binary"
	"math"
	"sync/atomic"
)

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
