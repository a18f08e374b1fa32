package ubpf

import (
	"encoding/binary"
	"sync"
	"sync/atomic"
	"testing"
	"unsafe"
)

// TestHashMapLockFreeLookups: lookups of keys that stay in the map always
// find them, with their own values, while writers insert and delete other
// keys (growing tables, shifting probe chains) and update the stable ones.
func TestHashMapLockFreeLookups(t *testing.T) {
	for _, typ := range []MapType{MapHash, MapLRUHash} {
		for _, ks := range []uint32{4, 13, 40} {
			m, err := NewMap(MapSpec{Name: "h", Type: typ, KeySize: ks, ValueSize: 8, MaxEntries: 4096})
			if err != nil {
				t.Fatal(err)
			}
			h := m.impl.(*hashMap)
			key := func(i int) []byte {
				k := make([]byte, ks)
				binary.LittleEndian.PutUint32(k, uint32(i))
				k[ks-1] ^= byte(i >> 3)
				return k
			}
			val := func(i int) []byte { return binary.LittleEndian.AppendUint64(nil, uint64(i)*0x10001) }
			const stable = 100
			for i := 0; i < stable; i++ {
				if err := m.Update(key(i), val(i), 0); err != nil {
					t.Fatal(err)
				}
			}
			var wg sync.WaitGroup
			done := make(chan struct{})
			for w := 0; w < 2; w++ {
				wg.Add(1)
				go func(w int) { // churn
					defer wg.Done()
					for r := 0; ; r++ {
						select {
						case <-done:
							return
						default:
						}
						for i := 0; i < 500; i++ {
							k := key(stable + w*100000 + (r*500+i)%3000)
							m.Update(k, val(0), 0)
							if i%2 == 0 {
								m.Delete(k)
							}
						}
						m.Update(key(r%stable), val(r%stable), UpdateExist)
					}
				}(w)
			}
			for r := 0; r < 20000; r++ {
				i := r % stable
				v := h.progLookup(0, key(i))
				if v == nil || atomic.LoadUint64((*uint64)(unsafe.Pointer(&v[0]))) != uint64(i)*0x10001 {
					if typ == MapLRUHash && v == nil {
						continue // may have been evicted by the churn
					}
					close(done)
					wg.Wait()
					t.Fatalf("%s key size %d: key %d: got %x", typ, ks, i, v)
				}
			}
			close(done)
			wg.Wait()
		}
	}
}

func TestKeyHashSpread(t *testing.T) {
	// every key length reads every byte: changing any byte changes the hash
	for n := 0; n <= 40; n++ {
		k := make([]byte, n)
		h0 := keyHash(k, 1)
		for i := 0; i < n; i++ {
			k[i] = 1
			if keyHash(k, 1) == h0 {
				t.Fatalf("length %d: byte %d ignored", n, i)
			}
			k[i] = 0
		}
		if n > 0 && keyHash(k, 2) == h0 {
			t.Fatalf("length %d: seed ignored", n)
		}
	}
}

func BenchmarkHashProgLookup(b *testing.B) {
	m, _ := NewMap(MapSpec{Name: "h", Type: MapHash, KeySize: 4, ValueSize: 8, MaxEntries: 4096})
	for i := 0; i < 64; i += 2 {
		m.Update(binary.LittleEndian.AppendUint32(nil, uint32(i)), make([]byte, 8), 0)
	}
	h := m.impl.(*hashMap)
	keys := make([][]byte, 64)
	for i := range keys {
		keys[i] = binary.LittleEndian.AppendUint32(nil, uint32(i))
	}
	b.ResetTimer()
	c0 := processCPU()
	for i := 0; i < b.N; i++ {
		h.progLookup(0, keys[i&63])
	}
	reportCPUPerOp(b, c0)
}

func BenchmarkHashPieces(b *testing.B) {
	m, _ := NewMap(MapSpec{Name: "h", Type: MapHash, KeySize: 4, ValueSize: 8, MaxEntries: 4096})
	for i := 0; i < 64; i += 2 {
		m.Update(binary.LittleEndian.AppendUint32(nil, uint32(i)), make([]byte, 8), 0)
	}
	h := m.impl.(*hashMap)
	keys := make([][]byte, 64)
	for i := range keys {
		keys[i] = binary.LittleEndian.AppendUint32(nil, uint32(i))
	}
	var sink uint64
	b.Run("keyHash", func(b *testing.B) {
		c0 := processCPU()
		for i := 0; i < b.N; i++ {
			sink += keyHash(keys[i&63], 12345)
		}
		reportCPUPerOp(b, c0)
	})
	b.Run("find", func(b *testing.B) {
		hv := make([]uint64, 64)
		for i := range hv {
			hv[i] = h.hashOf(keys[i])
		}
		c0 := processCPU()
		for i := 0; i < b.N; i++ {
			_, e := h.find(h.shardOf(hv[i&63]), hv[i&63], keys[i&63])
			sink += uint64(e)
		}
		reportCPUPerOp(b, c0)
	})
	b.Run("lookup", func(b *testing.B) {
		c0 := processCPU()
		for i := 0; i < b.N; i++ {
			sink += uint64(h.lookup(keys[i&63]))
		}
		reportCPUPerOp(b, c0)
	})
	b.Run("empty", func(b *testing.B) {
		c0 := processCPU()
		for i := 0; i < b.N; i++ {
			sink += uint64(len(keys[i&63]))
		}
		reportCPUPerOp(b, c0)
	})
	_ = sink
}

// TestLPMLockFreeLookups: addresses under stable prefixes always find
// their longest prefix while writers add and remove other prefixes of
// other lengths.
func TestLPMLockFreeLookups(t *testing.T) {
	m, err := NewMap(MapSpec{Name: "l", Type: MapLPMTrie, KeySize: 8, ValueSize: 8, MaxEntries: 1024})
	if err != nil {
		t.Fatal(err)
	}
	tr := m.impl.(*lpmTrie)
	key := func(plen uint32, a, b, c, d byte) []byte { return binary.LittleEndian.AppendUint32(nil, plen) }
	k := func(plen uint32, ip ...byte) []byte { return append(key(plen, 0, 0, 0, 0), ip...) }
	for i := 0; i < 50; i++ { // stable: 10.i.0.0/16 -> i
		m.Update(k(16, 10, byte(i), 0, 0), binary.LittleEndian.AppendUint64(nil, uint64(i)), 0)
	}
	var wg sync.WaitGroup
	done := make(chan struct{})
	wg.Add(1)
	go func() {
		defer wg.Done()
		for r := 0; ; r++ {
			select {
			case <-done:
				return
			default:
			}
			for i := 0; i < 200; i++ { // churn /24s elsewhere and /8s and /32s
				plen := []uint32{8, 24, 32}[i%3]
				kk := k(plen, 192, byte(i), byte(r), 1)
				m.Update(kk, make([]byte, 8), 0)
				if i%2 == 0 {
					m.Delete(kk)
				}
			}
		}
	}()
	for r := 0; r < 20000; r++ {
		i := r % 50
		e := tr.progEntry(k(32, 10, byte(i), byte(r), 7))
		if e < 0 || atomic.LoadUint64((*uint64)(unsafe.Pointer(&tr.val(e)[0]))) != uint64(i) {
			close(done)
			wg.Wait()
			t.Fatalf("10.%d.x.7: entry %d", i, e)
		}
	}
	close(done)
	wg.Wait()
}

// TestHashShardUsed: a shard's used count is the number of slots its
// table has published, through inserts, deletes, LRU evictions and
// growth, so that a lookup may trust used == 0 to mean a miss; and every
// key in the map is found, every deleted one is not.
func TestHashShardUsed(t *testing.T) {
	for _, typ := range []MapType{MapHash, MapLRUHash} {
		m, err := NewMap(MapSpec{Name: "u", Type: typ, KeySize: 4, ValueSize: 8, MaxEntries: 256})
		if err != nil {
			t.Fatal(err)
		}
		h := m.impl.(*hashMap)
		key := func(i int) []byte { return binary.LittleEndian.AppendUint32(nil, uint32(i)) }
		check := func(step string) {
			t.Helper()
			total := 0
			for i := range h.shards {
				s := &h.shards[i]
				n := 0
				for _, v := range s.slots {
					if v != 0 {
						n++
					}
				}
				if got := s.used.Load(); got != int64(n) {
					t.Fatalf("%v %s: shard %d: used %d, published slots %d", typ, step, i, got, n)
				}
				total += n
			}
			if total != h.count() {
				t.Fatalf("%v %s: %d published slots, count %d", typ, step, total, h.count())
			}
		}
		in := map[int]bool{}
		rng := uint32(1)
		for step := 0; step < 5000; step++ {
			rng = rng*1664525 + 1013904223
			k := int(rng>>20) % 600 // more keys than entries: LRU evicts, HASH fills up
			if rng&0x80000 != 0 {
				err := h.update(0, key(k), make([]byte, 8), 0, true)
				switch {
				case err == nil:
					in[k] = true
				case typ == MapHash && err == ErrMapFull:
				default:
					t.Fatalf("%v: update %d: %v", typ, k, err)
				}
			} else if err := h.delete(key(k)); err == nil {
				delete(in, k)
			}
			if step%500 == 0 {
				check("after step")
			}
		}
		check("at the end")
		for k := 0; k < 600; k++ {
			// LRU evictions drop keys: there, found only implies inserted
			if found := h.lookup(key(k)) >= 0; found && !in[k] || typ == MapHash && found != in[k] {
				t.Fatalf("%v: key %d: found %v, in map %v", typ, k, found, in[k])
			}
		}
		for k := range in {
			h.delete(key(k))
		}
		for k := 0; k < 600; k++ {
			h.delete(key(k))
		}
		check("emptied")
		for i := range h.shards {
			if h.shards[i].used.Load() != 0 {
				t.Fatalf("%v: shard %d not empty", typ, i)
			}
		}
	}
}
