package ubpf

// Maps
//
// Every map kind implements mapImpl. A Map is shared by all programs that
// were loaded with it and by the host (the control plane), and each of them
// may use it from any goroutine at any time. The invariants every kind keeps:
//
//   - Value memory handed to a program (lookup results, direct value loads)
//     is a slice of a slab that lives as long as the Map: a pointer a
//     program holds stays valid (memory-safe) for the whole run, even if
//     the entry is deleted meanwhile. A deleted entry's slot may be reused
//     by a later insert, as with Linux's preallocated maps.
//   - Value storage is 8-byte aligned, so BPF atomics on aligned fields are
//     real atomic operations (sync/atomic) and host reads of values use
//     8-byte atomic loads where the value size allows it.
//   - Plain BPF loads and stores of shared values are not synchronised, as
//     in Linux; programs that share counters across threads use atomics.
//   - Per-thread maps keep one value per Thread slot; a program only ever
//     sees its own slot, the host sees all of them.
//
// The per-kind files (map_hash.go, map_array.go, ...) state the locking of
// each kind.

import (
	"errors"
	"fmt"
	"math"
	"math/bits"
	"sync/atomic"
	"unsafe"
)

// MapType is the type of a map, numbered as in Linux's enum bpf_map_type
// where Linux has the type, and in a private range for goko's own types.
type MapType uint32

// Map types. The numbers match Linux's so that BTF map definitions written
// against libbpf's headers load unchanged.
const (
	MapHash              MapType = 1
	MapArray             MapType = 2
	MapPerThreadHash     MapType = 5  // BPF_MAP_TYPE_PERCPU_HASH: one value per Thread slot
	MapPerThreadArray    MapType = 6  // BPF_MAP_TYPE_PERCPU_ARRAY: one value per Thread slot
	MapLRUHash           MapType = 9  // BPF_MAP_TYPE_LRU_HASH
	MapLRUPerThreadHash  MapType = 10 // BPF_MAP_TYPE_LRU_PERCPU_HASH
	MapLPMTrie           MapType = 11 // BPF_MAP_TYPE_LPM_TRIE
	MapQueue             MapType = 22
	MapStack             MapType = 23
	MapRingBuf           MapType = 27
	MapBloomFilter       MapType = 30
	MapCountMin          MapType = 0x10001 // goko: count-min sketch (GOKO_MAP_TYPE_COUNT_MIN)
	mapTypeMaxPlusOneStd MapType = 33
)

var mapTypeNames = map[MapType]string{
	MapHash: "hash", MapArray: "array", MapPerThreadHash: "percpu_hash",
	MapPerThreadArray: "percpu_array", MapLRUHash: "lru_hash",
	MapLRUPerThreadHash: "lru_percpu_hash", MapLPMTrie: "lpm_trie",
	MapQueue: "queue", MapStack: "stack", MapRingBuf: "ringbuf",
	MapBloomFilter: "bloom_filter", MapCountMin: "count_min",
}

// String returns the map type's name as bpftool prints it.
func (t MapType) String() string {
	if n, ok := mapTypeNames[t]; ok {
		return n
	}
	return fmt.Sprintf("maptype(%d)", uint32(t))
}

// Map flags understood by goko (Linux values).
const (
	FlagNoPrealloc  = 1 << 0 // BPF_F_NO_PREALLOC, accepted and ignored
	FlagRdonlyProg  = 1 << 7 // BPF_F_RDONLY_PROG: programs may not write the map
	FlagWronlyProg  = 1 << 8 // BPF_F_WRONLY_PROG, accepted and ignored
	FlagMmapable    = 1 << 10
	knownMapFlags   = FlagNoPrealloc | FlagRdonlyProg | FlagWronlyProg | FlagMmapable | 1<<2 /*NUMA*/ | 1<<3 /*RDONLY*/ | 1<<4 /*WRONLY*/ | 1<<11 /*PRESERVE_ELEMS*/ | 1<<12 /*INNER_MAP*/
	maxKeySize      = 512
	maxValueSize    = 1 << 20
	maxArrayEntries = 1 << 24
)

// MaxMapMemory is the most memory one map may take, whatever its kind: a
// declaration whose sizes multiply to more is refused before anything is
// allocated. Each size is also checked alone, but only their product says
// what the map costs (2^24 entries of 1 MiB each pass every single check).
const MaxMapMemory = 1 << 31

// DefaultMapMemoryLimit is the memory the new maps of one program load may
// take together unless LoadOptions.MapMemoryLimit says otherwise.
const DefaultMapMemoryLimit = 1 << 30

// UpdateFlags selects the behaviour of Map.Update, as BPF_ANY, BPF_NOEXIST
// and BPF_EXIST do in Linux.
type UpdateFlags uint64

// Update flags.
const (
	UpdateAny     UpdateFlags = 0 // BPF_ANY: create or replace
	UpdateNoExist UpdateFlags = 1 // BPF_NOEXIST: create only
	UpdateExist   UpdateFlags = 2 // BPF_EXIST: replace only
)

// Errors returned by the map API. Helpers return the matching negative
// errno to programs.
var (
	ErrKeyNotExist  = errors.New("key does not exist")         // ENOENT
	ErrKeyExist     = errors.New("key already exists")         // EEXIST
	ErrMapFull      = errors.New("map is full")                // E2BIG
	ErrInvalidArg   = errors.New("invalid argument")           // EINVAL
	ErrNotSupported = errors.New("operation not supported")    // EOPNOTSUPP
	ErrBusy         = errors.New("resource busy or exhausted") // EBUSY / ENOSPC
	// ErrMapTooLarge is a map declaration whose memory exceeds
	// MaxMapMemory or the load's LoadOptions.MapMemoryLimit.
	ErrMapTooLarge = errors.New("map memory limit exceeded") // E2BIG at load
)

const (
	eNOENT      = 2
	eE2BIG      = 7
	eNOMEM      = 12
	eBUSY       = 16
	eEXIST      = 17
	eINVAL      = 22
	eNOSPC      = 28
	eOPNOTSUPP  = 95
	maxBPFFlags = 2
)

func errnoOf(err error) uint64 {
	var e int64
	switch {
	case err == nil:
		return 0
	case errors.Is(err, ErrKeyNotExist):
		e = eNOENT
	case errors.Is(err, ErrKeyExist):
		e = eEXIST
	case errors.Is(err, ErrMapFull):
		e = eE2BIG
	case errors.Is(err, ErrNotSupported):
		e = eOPNOTSUPP
	case errors.Is(err, ErrBusy):
		e = eBUSY
	default:
		e = eINVAL
	}
	return uint64(-e)
}

// MapSpec declares a map: what a BTF map definition in an ELF object says,
// or what a caller of Load passes for raw bytecode.
type MapSpec struct {
	Name       string
	Type       MapType
	KeySize    uint32
	ValueSize  uint32
	MaxEntries uint32
	Flags      uint32
	// Extra is Linux's map_extra: the number of hash functions of a bloom
	// filter (default 5) and the depth (rows) of a count-min sketch
	// (default 4).
	Extra uint64
	// Data is the initial contents of element 0 of an array map: how the
	// .data and .rodata sections of an ELF object are loaded.
	Data []byte
}

// Compatible reports whether a map built from s can stand for one built
// from o: same name, type, sizes, entries, flags and extra.
func (s *MapSpec) Compatible(o *MapSpec) bool {
	return s.Name == o.Name && s.Type == o.Type && s.KeySize == o.KeySize &&
		s.ValueSize == o.ValueSize && s.MaxEntries == o.MaxEntries &&
		s.Flags == o.Flags && s.Extra == o.Extra
}

// MapInfo describes a map for listings (ofctl dump-maps).
type MapInfo struct {
	Name       string
	Type       MapType
	KeySize    uint32
	ValueSize  uint32
	MaxEntries uint32
	Flags      uint32
	Extra      uint64
	// Entries is the current number of entries (for arrays: MaxEntries).
	Entries int
}

// mapImpl is what every map kind implements. Lookups for programs return
// the value memory itself (for the calling thread's slot); the host API
// copies.
type mapImpl interface {
	progLookup(slot int, key []byte) []byte
	update(slot int, key, val []byte, flags UpdateFlags, host bool) error
	delete(key []byte) error
	hostLookup(key []byte) ([]byte, bool)
	iterate(fn func(key, val []byte) bool)
	count() int
}

var mapIDs atomic.Uint32

// Map is a BPF map: a key/value store shared by programs and the host. All
// methods are safe for concurrent use with each other and with programs
// running on any number of Threads.
type Map struct {
	spec MapSpec
	id   uint32
	impl mapImpl

	// direct is the map's whole value memory when programs address it as
	// one static region (arrays: LDDW map-value loads and lookups; hash
	// maps and LPM tries: lookups). Per-thread kinds have one copy per
	// thread slot, directStride bytes apart, and a thread's region is its
	// copy.
	direct       []byte
	directStride int
}

// NewMap creates a map from its declaration.
func NewMap(spec MapSpec) (*Map, error) {
	if err := checkSpec(&spec); err != nil {
		return nil, fmt.Errorf("ubpf: map %q: %w", spec.Name, err)
	}
	m := &Map{spec: spec, id: mapIDs.Add(1)}
	var err error
	switch spec.Type {
	case MapArray, MapPerThreadArray:
		a := newArrayMap(&spec)
		m.impl = a
		m.direct, m.directStride = a.data, a.slotBytes
		if len(spec.Data) > 0 {
			copy(a.data, spec.Data)
		}
	case MapHash, MapLRUHash, MapPerThreadHash, MapLRUPerThreadHash:
		h := newHashMap(&spec)
		m.impl = h
		if h.slotBytes < 1<<32 { // offsets in a region are 32 bits
			m.direct, m.directStride = h.vals, h.slotBytes
		}
	case MapLPMTrie:
		var t *lpmTrie
		if t, err = newLPMTrie(&spec); err == nil {
			m.impl = t
			if len(t.vals) < 1<<32 {
				m.direct = t.vals
			}
		}
	case MapQueue, MapStack:
		m.impl = newQueueMap(&spec)
	case MapRingBuf:
		m.impl, err = newRingBuf(&spec)
	case MapBloomFilter:
		m.impl = newBloom(&spec)
	case MapCountMin:
		m.impl, err = newCountMin(&spec)
	default:
		err = fmt.Errorf("map type %s: %w", spec.Type, ErrNotSupported)
	}
	if err != nil {
		return nil, fmt.Errorf("ubpf: map %q: %w", spec.Name, err)
	}
	return m, nil
}

// MemoryBytes returns what a map built from s allocates, in bytes, at
// creation or at most as it fills (LPM tries): values and keys with their
// per-thread copies and per-entry bookkeeping. It saturates instead of
// wrapping, so a hostile declaration cannot overflow into a small number.
func (s *MapSpec) MemoryBytes() uint64 {
	mul := func(a ...uint64) uint64 {
		r := uint64(1)
		for _, x := range a {
			hi, lo := bits.Mul64(r, x)
			if hi != 0 {
				return math.MaxUint64
			}
			r = lo
		}
		return r
	}
	add := func(a, b uint64) uint64 {
		if r, c := bits.Add64(a, b, 0); c == 0 {
			return r
		}
		return math.MaxUint64
	}
	n, k, v := uint64(s.MaxEntries), uint64(s.KeySize), uint64(roundUp8(int(s.ValueSize)))
	slots := uint64(1)
	switch s.Type {
	case MapPerThreadArray, MapPerThreadHash, MapLRUPerThreadHash:
		slots = ThreadSlots
	}
	switch s.Type {
	case MapArray, MapPerThreadArray:
		return mul(n, v, slots)
	case MapHash, MapLRUHash, MapPerThreadHash, MapLRUPerThreadHash:
		// key, values, hash, live flag, LRU stamp, free list, index slots
		return add(mul(n, v, slots), mul(n, add(k, 8+1+8+4+2*4)))
	case MapLPMTrie:
		// key words, prefix length, value, free list, two index slots
		return mul(n, add(add(k+7, v), 4+4+16))
	case MapQueue, MapStack:
		return mul(n, uint64(s.ValueSize))
	case MapBloomFilter:
		return mul(n, 16) // at most 15 hashes per entry, rounded to a power of two, in bits
	case MapCountMin:
		d := s.Extra
		if d == 0 {
			d = 4
		}
		return mul(n, d, 8)
	case MapRingBuf:
		return n
	}
	return 0
}

func checkSpec(s *MapSpec) error {
	if s.Flags&^knownMapFlags != 0 {
		return fmt.Errorf("unknown flags %#x: %w", s.Flags, ErrInvalidArg)
	}
	if s.KeySize > maxKeySize || s.ValueSize > maxValueSize {
		return fmt.Errorf("key size %d or value size %d too large: %w", s.KeySize, s.ValueSize, ErrInvalidArg)
	}
	switch s.Type {
	case MapArray, MapPerThreadArray:
		if s.KeySize != 4 || s.ValueSize == 0 || s.MaxEntries == 0 || s.MaxEntries > maxArrayEntries {
			return fmt.Errorf("array needs key size 4, a value size and 1..%d entries: %w", maxArrayEntries, ErrInvalidArg)
		}
		if uint64(s.MaxEntries)*uint64(roundUp8(int(s.ValueSize))) > 1<<31 {
			return fmt.Errorf("array too large: %w", ErrInvalidArg)
		}
	case MapHash, MapLRUHash, MapPerThreadHash, MapLRUPerThreadHash:
		if s.KeySize == 0 || s.ValueSize == 0 || s.MaxEntries == 0 || s.MaxEntries > 1<<24 {
			return fmt.Errorf("hash needs key and value sizes and 1..%d entries: %w", 1<<24, ErrInvalidArg)
		}
	case MapLPMTrie:
		if s.KeySize < 5 || s.KeySize > 4+256 || s.ValueSize == 0 || s.MaxEntries == 0 {
			return fmt.Errorf("lpm trie needs key size 5..260 (4-byte prefix length + data), a value size and entries: %w", ErrInvalidArg)
		}
	case MapQueue, MapStack:
		if s.KeySize != 0 || s.ValueSize == 0 || s.MaxEntries == 0 || s.MaxEntries > 1<<24 {
			return fmt.Errorf("queue/stack needs key size 0, a value size and entries: %w", ErrInvalidArg)
		}
	case MapBloomFilter:
		if s.KeySize != 0 || s.ValueSize == 0 || s.MaxEntries == 0 || s.MaxEntries > 1<<28 || s.Extra > 15 {
			return fmt.Errorf("bloom filter needs key size 0, a value size, entries and at most 15 hashes: %w", ErrInvalidArg)
		}
	case MapRingBuf:
		if s.KeySize != 0 || s.ValueSize != 0 || s.MaxEntries < 16 || s.MaxEntries&(s.MaxEntries-1) != 0 || s.MaxEntries > 1<<30 {
			return fmt.Errorf("ring buffer needs key and value size 0 and a power-of-two size in bytes: %w", ErrInvalidArg)
		}
	case MapCountMin:
		if s.KeySize == 0 || s.ValueSize != 8 || s.MaxEntries == 0 || s.MaxEntries > 1<<26 || s.Extra > 16 {
			return fmt.Errorf("count-min sketch needs a key size, value size 8, width as max_entries and at most 16 rows: %w", ErrInvalidArg)
		}
	}
	if b := s.MemoryBytes(); b > MaxMapMemory {
		return fmt.Errorf("%s of %d entries of key %d and value %d bytes needs %s, more than the %s one map may take: %w",
			s.Type, s.MaxEntries, s.KeySize, s.ValueSize, formatBytes(b), formatBytes(MaxMapMemory), ErrMapTooLarge)
	}
	return nil
}

// formatBytes prints n in binary units for error messages.
func formatBytes(n uint64) string {
	if n == math.MaxUint64 {
		return "more than 16 EiB"
	}
	units := []string{"bytes", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"}
	f, u := float64(n), 0
	for f >= 1024 && u < len(units)-1 {
		f /= 1024
		u++
	}
	if u == 0 {
		return fmt.Sprintf("%d bytes", n)
	}
	return fmt.Sprintf("%.1f %s", f, units[u])
}

// Name returns the map's name.
func (m *Map) Name() string { return m.spec.Name }

// Type returns the map's type.
func (m *Map) Type() MapType { return m.spec.Type }

// KeySize returns the size of a key in bytes.
func (m *Map) KeySize() int { return int(m.spec.KeySize) }

// ValueSize returns the size of one value in bytes (of one slot's value
// for per-thread maps).
func (m *Map) ValueSize() int { return int(m.spec.ValueSize) }

// MaxEntries returns the map's capacity.
func (m *Map) MaxEntries() int { return int(m.spec.MaxEntries) }

// Spec returns the declaration the map was created from.
func (m *Map) Spec() MapSpec { s := m.spec; s.Data = nil; return s }

// Info returns the map's declaration and current entry count.
func (m *Map) Info() MapInfo {
	return MapInfo{Name: m.spec.Name, Type: m.spec.Type, KeySize: m.spec.KeySize,
		ValueSize: m.spec.ValueSize, MaxEntries: m.spec.MaxEntries, Flags: m.spec.Flags,
		Extra: m.spec.Extra, Entries: m.impl.count()}
}

func (m *Map) isArray() bool { return m.spec.Type == MapArray || m.spec.Type == MapPerThreadArray }

// PerThread reports whether the map keeps one value per Thread slot. For
// such maps the host API reads and writes all slots at once: values are
// ThreadSlots values of ValueSize bytes, concatenated.
func (m *Map) PerThread() bool {
	switch m.spec.Type {
	case MapPerThreadArray, MapPerThreadHash, MapLRUPerThreadHash:
		return true
	}
	return false
}

func (m *Map) checkKey(key []byte) error {
	if len(key) != int(m.spec.KeySize) {
		return fmt.Errorf("ubpf: map %s: key of %d bytes, want %d: %w", m.spec.Name, len(key), m.spec.KeySize, ErrInvalidArg)
	}
	return nil
}

// Lookup returns a copy of the value stored under key. For a bloom filter
// key is the value to test and the result is nil with ok reporting "maybe
// present"; for a count-min sketch it is the 8-byte estimate; for queues
// and stacks it peeks (key must be empty).
func (m *Map) Lookup(key []byte) ([]byte, bool) {
	if m.spec.Type != MapBloomFilter && len(key) != int(m.spec.KeySize) {
		return nil, false
	}
	return m.impl.hostLookup(key)
}

// Update stores val under key. For a bloom filter it adds val (key must be
// empty); for a count-min sketch val is an 8-byte little-endian amount to
// add; for queues and stacks it pushes (UpdateExist overwrites the oldest
// element when full).
func (m *Map) Update(key, val []byte, flags UpdateFlags) error {
	if err := m.checkKey(key); err != nil {
		return err
	}
	if flags > UpdateExist {
		return fmt.Errorf("ubpf: map %s: flags %d: %w", m.spec.Name, flags, ErrInvalidArg)
	}
	want := int(m.spec.ValueSize)
	if m.PerThread() && len(val) == want*ThreadSlots {
		want = len(val)
	}
	if len(val) != want {
		return fmt.Errorf("ubpf: map %s: value of %d bytes, want %d: %w", m.spec.Name, len(val), m.spec.ValueSize, ErrInvalidArg)
	}
	if err := m.impl.update(-1, key, val, flags, true); err != nil {
		return fmt.Errorf("ubpf: map %s: update: %w", m.spec.Name, err)
	}
	return nil
}

// Delete removes key. Arrays return ErrInvalidArg, as in Linux.
func (m *Map) Delete(key []byte) error {
	if err := m.checkKey(key); err != nil {
		return err
	}
	if err := m.impl.delete(key); err != nil {
		return fmt.Errorf("ubpf: map %s: delete: %w", m.spec.Name, err)
	}
	return nil
}

// Iterate calls fn for every entry with copies of its key and value until
// fn returns false. Entries inserted or deleted meanwhile may or may not be
// seen. Ring buffers, bloom filters and sketches have no entries to list.
func (m *Map) Iterate(fn func(key, val []byte) bool) {
	m.impl.iterate(fn)
}

// Keys returns copies of all keys.
func (m *Map) Keys() [][]byte {
	var out [][]byte
	m.impl.iterate(func(k, _ []byte) bool { out = append(out, k); return true })
	return out
}

// ReadRecords delivers the committed records of a ring buffer map, oldest
// first, and frees their space. It returns the number of records read.
func (m *Map) ReadRecords(fn func(rec []byte)) (int, error) {
	rb, ok := m.impl.(*ringBuf)
	if !ok {
		return 0, fmt.Errorf("ubpf: map %s is a %s, not a ring buffer: %w", m.spec.Name, m.spec.Type, ErrNotSupported)
	}
	return rb.consume(fn), nil
}

// String describes the map.
func (m *Map) String() string {
	return fmt.Sprintf("%s(%s, key %d, value %d, max %d)", m.spec.Name, m.spec.Type, m.spec.KeySize, m.spec.ValueSize, m.spec.MaxEntries)
}

// helpers shared by the map kinds

func roundUp8(n int) int { return (n + 7) &^ 7 }

// alignedBytes returns n zeroed bytes whose first byte is 8-byte aligned.
func alignedBytes(n int) []byte {
	if n == 0 {
		return []byte{}
	}
	w := make([]uint64, (n+7)/8)
	return unsafe.Slice((*byte)(unsafe.Pointer(&w[0])), n)
}

// copyIn copies src to dst with 8-byte atomic stores where both are
// aligned (dst always is, being map memory at an 8-aligned offset).
func copyIn(dst, src []byte) {
	n := len(src)
	i := 0
	if uintptr(unsafe.Pointer(unsafe.SliceData(dst)))&7 == 0 {
		for ; i+8 <= n; i += 8 {
			v := uint64(src[i]) | uint64(src[i+1])<<8 | uint64(src[i+2])<<16 | uint64(src[i+3])<<24 |
				uint64(src[i+4])<<32 | uint64(src[i+5])<<40 | uint64(src[i+6])<<48 | uint64(src[i+7])<<56
			atomic.StoreUint64((*uint64)(unsafe.Pointer(&dst[i])), v)
		}
	}
	copy(dst[i:n], src[i:])
}

// copyOut copies map memory src with 8-byte atomic loads where aligned.
func copyOut(src []byte) []byte {
	out := make([]byte, len(src))
	n := len(src)
	i := 0
	if uintptr(unsafe.Pointer(unsafe.SliceData(src)))&7 == 0 {
		for ; i+8 <= n; i += 8 {
			v := atomic.LoadUint64((*uint64)(unsafe.Pointer(&src[i])))
			for j := 0; j < 8; j++ {
				out[i+j] = byte(v >> (8 * j))
			}
		}
	}
	copy(out[i:], src[i:n])
	return out
}

func zeroAtomic(dst []byte) {
	i := 0
	if uintptr(unsafe.Pointer(unsafe.SliceData(dst)))&7 == 0 {
		for ; i+8 <= len(dst); i += 8 {
			atomic.StoreUint64((*uint64)(unsafe.Pointer(&dst[i])), 0)
		}
	}
	clear(dst[i:])
}
