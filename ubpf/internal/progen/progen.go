// Package progen generates random eBPF programs for goko's VM that its
// verifier often accepts and that still exercise the corners where
// verifiers go wrong: 32-bit and 64-bit arithmetic on edge constants,
// JMP32 comparisons over constants, signed comparisons, spills and fills
// at odd offsets, packet bounds checks in both styles (the filter's length
// argument and XDP's data_end) with off-by-one variants, map lookups with
// and without null checks, pointer arithmetic with bounded and unbounded
// scalars, bounded loops, bpf-to-bpf calls that pass pointers, helpers,
// atomics and the legacy LDABS/LDIND loads.
//
// A Program is complete: bytecode, its kind (filter or XDP), the maps it
// refers to by index (LDDW src 5 and 6, as ubpf.LoadOptions.Maps wants),
// initial map contents and a few packets to run it on. The generator only
// produces input; deciding whether a program is safe is the verifier's job
// and checking that decision is the soundness test's (see ubpf's
// soundness_test.go).
//
// The package knows nothing of package ubpf (so that tests of ubpf itself
// and of a JIT can use it without an import cycle): instructions are raw
// 8-byte slots and the constants below repeat Linux's numbering.
//
// Generation is deterministic: the same seed (or the same fuzz input) and
// Config give the same Program.
package progen

import (
	"encoding/binary"
	"math/rand/v2"
)

// Kind is how a program is called; the values match ubpf.KindFilter and
// ubpf.KindXDP.
type Kind int

// Program kinds.
const (
	// Filter: uint64 f(void *pkt, uint64 len), r1 = packet, r2 = length.
	Filter Kind = 1
	// XDP: int f(struct xdp_md *ctx).
	XDP Kind = 2
)

func (k Kind) String() string {
	switch k {
	case Filter:
		return "filter"
	case XDP:
		return "xdp"
	}
	return "kind?"
}

// Insn is one 8-byte instruction slot, laid out as ubpf.RawInsn; an LDDW
// takes two slots, the second with Op 0 carrying the upper 32 bits in Imm.
type Insn struct {
	Op  uint8
	Dst uint8
	Src uint8
	Off int16
	Imm int32
}

// MapType is a map type, numbered as Linux's enum bpf_map_type (and so as
// ubpf.MapType).
type MapType uint32

// The map types the generator uses.
const (
	MapHash           MapType = 1
	MapArray          MapType = 2
	MapPerCPUHash     MapType = 5
	MapPerCPUArray    MapType = 6
	MapRingBuf        MapType = 27
	FlagRdonlyProg            = 1 << 7 // BPF_F_RDONLY_PROG
	ringBufBytes              = 4096
	maxGeneratedSlots         = 900
)

// MapSpec declares a map the program refers to by its index.
type MapSpec struct {
	Name       string
	Type       MapType
	KeySize    uint32
	ValueSize  uint32
	MaxEntries uint32
	Flags      uint32
}

// MapEntry is one key/value pair of a map's initial contents.
type MapEntry struct {
	Key, Value []byte
}

// Program is one generated program with everything needed to run it.
type Program struct {
	Kind  Kind
	Insns []Insn
	Maps  []MapSpec
	// MapContents[i] are the entries to store into Maps[i] before each
	// run (array elements not listed stay zero).
	MapContents [][]MapEntry
	// Packets to run the program on: lengths from 0 to 1500, random or
	// shaped like Ethernet/IPv4/UDP or TCP.
	Packets [][]byte
}

// Bytes returns the program's little-endian bytecode.
func (p *Program) Bytes() []byte { return Encode(p.Insns) }

// Asm returns the program in the ubpf/asm syntax, with labels.
func (p *Program) Asm() string { return Format(p.Insns) }

// Feature selects a family of constructs.
type Feature uint32

// Features. Config.Disable turns families off (a JIT's differential
// fuzzer may want no helpers, say).
const (
	FeatALU32 Feature = 1 << iota
	FeatJmp32
	FeatStack
	FeatPacket
	FeatMaps
	FeatCalls
	FeatLoops
	FeatHelpers
	FeatAtomics
	FeatLdAbs
	FeatRingBuf
	FeatPointerMix
	// FeatTraps plants code that is only safe if a preceding condition
	// really is never true at run time (reads of unwritten stack, packet
	// reads far out, pointers returned or stored in maps): a verifier
	// that wrongly proves the condition false accepts a program that
	// faults or leaks.
	FeatTraps
)

// Config tunes generation. The zero value is a sensible default.
type Config struct {
	// Kind of program; 0 picks Filter or XDP at random.
	Kind Kind
	// MaxInsns bounds the program's length in slots (default: between
	// 48 and 160, chosen per program; at most 900).
	MaxInsns int
	// Packets is the number of packets to generate (default 4).
	Packets int
	// Disable turns off families of constructs.
	Disable Feature
}

// New generates a program from r.
func New(r *rand.Rand, cfg Config) *Program {
	if cfg.MaxInsns <= 0 {
		cfg.MaxInsns = 48 + r.IntN(113)
	}
	cfg.MaxInsns = min(cfg.MaxInsns, maxGeneratedSlots)
	if cfg.Packets <= 0 {
		cfg.Packets = 4
	}
	g := newGen(r, cfg)
	return g.program()
}

// FromSeed generates a program from a seed.
func FromSeed(seed uint64, cfg Config) *Program {
	return New(rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)), cfg)
}

// FromBytes generates a program whose every random choice is read from
// data, so that a coverage-guided fuzzer (go test -fuzz) steers the
// generator; once data runs out the choices continue from a generator
// seeded with data's hash.
func FromBytes(data []byte, cfg Config) *Program {
	return New(rand.New(newByteSource(data)), cfg)
}

// byteSource is a rand.Source reading its numbers from a byte string.
type byteSource struct {
	data []byte
	rest *rand.PCG
}

func newByteSource(data []byte) *byteSource {
	var h uint64 = 14695981039346656037
	for _, b := range data {
		h = (h ^ uint64(b)) * 1099511628211
	}
	return &byteSource{data: data, rest: rand.NewPCG(h, uint64(len(data)))}
}

func (s *byteSource) Uint64() uint64 {
	if len(s.data) >= 8 {
		v := binary.LittleEndian.Uint64(s.data)
		s.data = s.data[8:]
		// spread small fuzz inputs over the whole range, since rand
		// takes the high bits for small ranges
		return v * 0x9e3779b97f4a7c15
	}
	if len(s.data) > 0 {
		var b [8]byte
		copy(b[:], s.data)
		s.data = nil
		return binary.LittleEndian.Uint64(b[:])*0x9e3779b97f4a7c15 ^ s.rest.Uint64()
	}
	return s.rest.Uint64()
}
