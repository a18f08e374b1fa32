package ubpf_test

import (
	"encoding/binary"
	"errors"
	"sync"
	"testing"

	"github.com/goko-net/goko/ubpf"
)

func u32(v uint32) []byte { return binary.LittleEndian.AppendUint32(nil, v) }
func u64(v uint64) []byte { return binary.LittleEndian.AppendUint64(nil, v) }

func newMap(t *testing.T, s ubpf.MapSpec) *ubpf.Map {
	t.Helper()
	m, err := ubpf.NewMap(s)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestHashMapFlagsAndFull(t *testing.T) {
	m := newMap(t, ubpf.MapSpec{Name: "h", Type: ubpf.MapHash, KeySize: 4, ValueSize: 8, MaxEntries: 100})
	if err := m.Update(u32(1), u64(10), ubpf.UpdateExist); !errors.Is(err, ubpf.ErrKeyNotExist) {
		t.Fatalf("EXIST on missing: %v", err)
	}
	if err := m.Update(u32(1), u64(10), ubpf.UpdateNoExist); err != nil {
		t.Fatal(err)
	}
	if err := m.Update(u32(1), u64(11), ubpf.UpdateNoExist); !errors.Is(err, ubpf.ErrKeyExist) {
		t.Fatalf("NOEXIST on present: %v", err)
	}
	if err := m.Update(u32(1), u64(12), ubpf.UpdateExist); err != nil {
		t.Fatal(err)
	}
	if v, ok := m.Lookup(u32(1)); !ok || binary.LittleEndian.Uint64(v) != 12 {
		t.Fatalf("lookup %v %v", v, ok)
	}
	for i := uint32(2); i <= 100; i++ {
		if err := m.Update(u32(i), u64(uint64(i)), 0); err != nil {
			t.Fatal(err)
		}
	}
	if err := m.Update(u32(1000), u64(0), 0); !errors.Is(err, ubpf.ErrMapFull) {
		t.Fatalf("full: %v", err)
	}
	for i := uint32(1); i <= 100; i += 2 {
		if err := m.Delete(u32(i)); err != nil {
			t.Fatal(err)
		}
	}
	if err := m.Delete(u32(1)); !errors.Is(err, ubpf.ErrKeyNotExist) {
		t.Fatalf("double delete: %v", err)
	}
	if n := len(m.Keys()); n != 50 || m.Info().Entries != 50 {
		t.Fatalf("%d keys, info %+v", n, m.Info())
	}
	for i := uint32(2); i <= 100; i += 2 {
		if v, ok := m.Lookup(u32(i)); !ok || binary.LittleEndian.Uint64(v) != uint64(i) {
			t.Fatalf("after deletes: key %d = %v %v", i, v, ok)
		}
	}
}

func TestHashMapConcurrent(t *testing.T) {
	m := newMap(t, ubpf.MapSpec{Name: "h", Type: ubpf.MapHash, KeySize: 4, ValueSize: 8, MaxEntries: 4096})
	var wg sync.WaitGroup
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for i := 0; i < 2000; i++ {
				k := u32(uint32(g*10000 + i%500))
				m.Update(k, u64(uint64(i)), 0)
				m.Lookup(k)
				if i%3 == 0 {
					m.Delete(k)
				}
			}
		}(g)
	}
	wg.Wait()
	m.Iterate(func(k, v []byte) bool { return true })
}

func TestLRUEvicts(t *testing.T) {
	m := newMap(t, ubpf.MapSpec{Name: "l", Type: ubpf.MapLRUHash, KeySize: 4, ValueSize: 4, MaxEntries: 64})
	for i := uint32(0); i < 1000; i++ {
		if err := m.Update(u32(i), u32(i), 0); err != nil {
			t.Fatalf("insert %d: %v", i, err)
		}
	}
	if n := m.Info().Entries; n > 64 || n < 32 {
		t.Fatalf("entries %d", n)
	}
	if _, ok := m.Lookup(u32(999)); !ok {
		t.Fatal("newest entry evicted")
	}
}

func TestLPMLongestPrefix(t *testing.T) {
	m := newMap(t, ubpf.MapSpec{Name: "lpm", Type: ubpf.MapLPMTrie, KeySize: 8, ValueSize: 4, MaxEntries: 16})
	key := func(plen uint32, a, b, c, d byte) []byte { return append(u32(plen), a, b, c, d) }
	m.Update(key(8, 10, 0, 0, 0), u32(8), 0)
	m.Update(key(24, 10, 1, 2, 99), u32(24), 0) // host bits are masked
	m.Update(key(0, 0, 0, 0, 0), u32(0), 0)
	for _, c := range []struct {
		k    []byte
		want uint32
	}{
		{key(32, 10, 1, 2, 3), 24}, {key(32, 10, 9, 9, 9), 8}, {key(32, 11, 0, 0, 1), 0}, {key(16, 10, 1, 2, 3), 8},
	} {
		v, ok := m.Lookup(c.k)
		if !ok || binary.LittleEndian.Uint32(v) != c.want {
			t.Fatalf("lookup %v = %v %v, want %d", c.k, v, ok, c.want)
		}
	}
	if err := m.Delete(key(24, 10, 1, 2, 0)); err != nil {
		t.Fatal(err)
	}
	if v, _ := m.Lookup(key(32, 10, 1, 2, 3)); binary.LittleEndian.Uint32(v) != 8 {
		t.Fatal("delete did not fall back to /8")
	}
}

func TestQueueStackBloomSketch(t *testing.T) {
	q := newMap(t, ubpf.MapSpec{Name: "q", Type: ubpf.MapQueue, ValueSize: 4, MaxEntries: 2})
	q.Update(nil, u32(1), 0)
	q.Update(nil, u32(2), 0)
	if err := q.Update(nil, u32(3), 0); !errors.Is(err, ubpf.ErrMapFull) {
		t.Fatalf("full queue: %v", err)
	}
	q.Update(nil, u32(3), ubpf.UpdateExist) // drops 1
	if v, _ := q.Lookup(nil); binary.LittleEndian.Uint32(v) != 2 {
		t.Fatalf("queue head %v", v)
	}
	s := newMap(t, ubpf.MapSpec{Name: "s", Type: ubpf.MapStack, ValueSize: 4, MaxEntries: 2})
	s.Update(nil, u32(1), 0)
	s.Update(nil, u32(2), 0)
	if v, _ := s.Lookup(nil); binary.LittleEndian.Uint32(v) != 2 {
		t.Fatalf("stack top %v", v)
	}
	b := newMap(t, ubpf.MapSpec{Name: "b", Type: ubpf.MapBloomFilter, ValueSize: 4, MaxEntries: 100})
	for i := uint32(0); i < 100; i++ {
		b.Update(nil, u32(i), 0)
	}
	fp := 0
	for i := uint32(0); i < 100; i++ {
		if _, ok := b.Lookup(u32(i)); !ok {
			t.Fatal("bloom false negative")
		}
		if _, ok := b.Lookup(u32(i + 1000)); ok {
			fp++
		}
	}
	if fp > 10 {
		t.Fatalf("bloom false positives %d/100", fp)
	}
	c := newMap(t, ubpf.MapSpec{Name: "c", Type: ubpf.MapCountMin, KeySize: 4, ValueSize: 8, MaxEntries: 256, Extra: 3})
	for i := 0; i < 10; i++ {
		c.Update(u32(7), u64(2), 0)
	}
	if v, _ := c.Lookup(u32(7)); binary.LittleEndian.Uint64(v) < 20 {
		t.Fatalf("sketch %v", v)
	}
}

func TestPerThreadArray(t *testing.T) {
	m := newMap(t, ubpf.MapSpec{Name: "pa", Type: ubpf.MapPerThreadArray, KeySize: 4, ValueSize: 8, MaxEntries: 2})
	if err := m.Update(u32(1), u64(5), 0); err != nil {
		t.Fatal(err)
	}
	v, _ := m.Lookup(u32(1))
	if len(v) != 8*ubpf.ThreadSlots || binary.LittleEndian.Uint64(v[8*(ubpf.ThreadSlots-1):]) != 5 {
		t.Fatal("host update of all slots")
	}
	if err := m.Delete(u32(1)); err == nil {
		t.Fatal("array delete succeeded")
	}
}

// TestConcurrentRuns runs one program on several threads against a shared
// hash map and array (with atomics) while the host updates and reads.
func TestConcurrentRuns(t *testing.T) {
	ms := testMaps(t)
	p, err := ubpf.Load(mustAsm(t, `
stw [%r10-4], 1
lddw %r1, map(0)
mov %r2, %r10
add %r2, -4
call 1
jeq %r0, 0, skip
mov %r1, 1
atomic_add [%r0], %r1
skip:
lddw %r1, map_value(1)+0
mov %r2, 1
atomic_add [%r1], %r2
mov %r0, 1
exit`), ubpf.LoadOptions{Maps: ms, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	ms[0].Update(u32(1), u64(0), 0)
	var wg sync.WaitGroup
	const threads, runs = 4, 5000
	for g := 0; g < threads; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			th := ubpf.NewThread()
			defer th.Close()
			for i := 0; i < runs; i++ {
				if !p.Match(th, nil) {
					t.Error("no match")
					return
				}
			}
		}()
	}
	for i := 0; i < 100; i++ {
		ms[0].Lookup(u32(1))
		ms[1].Lookup(u32(0))
	}
	wg.Wait()
	v, _ := ms[1].Lookup(u32(0))
	if binary.LittleEndian.Uint64(v) != threads*runs {
		t.Fatalf("array counter %d", binary.LittleEndian.Uint64(v))
	}
	v, _ = ms[0].Lookup(u32(1))
	if binary.LittleEndian.Uint64(v) != threads*runs {
		t.Fatalf("hash counter %d", binary.LittleEndian.Uint64(v))
	}
	if st := p.Stats(); st.Runs != threads*runs || st.Matches != threads*runs {
		t.Fatalf("stats %+v", st)
	}
}
