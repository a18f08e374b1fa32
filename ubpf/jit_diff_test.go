package ubpf

// Differential testing of the JIT against the interpreter: the same
// program, loaded once per engine with its own maps built from the same
// declarations and contents, runs on the same inputs on one Thread (same
// per-thread slot, same random numbers, a deterministic clock); r0, error
// or not, the packet and every map must come out the same. The JIT's
// first run on a packet sequence binds its Thread (Run's full path), the
// later ones take the fast path.

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
)

// diffProg describes a program to compare.
type diffProg struct {
	kind     Kind
	helpers  HelperSet
	code     []byte // raw bytecode, or
	elf      []byte // an ELF object
	prog     string
	specs    []MapSpec
	fill     func(ms []*Map) // initial map contents
	writable bool
	maxInsns int
}

// load loads the program for engine e; nil and the error when it does not
// load.
func (d *diffProg) load(e Engine) (*Program, error) {
	opts := LoadOptions{Kind: d.kind, Helpers: d.helpers, Engine: e, Logger: quietLog,
		PacketWritable: d.writable, MaxVerifierInsns: d.maxInsns, Program: d.prog}
	if d.elf != nil {
		return LoadELFBytes(d.elf, opts)
	}
	for _, s := range d.specs {
		m, err := NewMap(s)
		if err != nil {
			return nil, err
		}
		opts.Maps = append(opts.Maps, m)
	}
	return Load(d.code, opts)
}

// loadPair loads the program for both engines. ok is false when it does
// not verify (then neither loads); a program that verifies but does not
// compile is an error.
func (d *diffProg) loadPair() (interp, jit *Program, ok bool, err error) {
	// the same hash seeds in both (LRU eviction samples depend on table
	// positions; the JIT compiles a map's seed into its lookups)
	seed := rand.Uint64()
	saved := newMapSeed
	newMapSeed = func() uint64 { return seed }
	defer func() { newMapSeed = saved }()
	interp, e1 := d.load(EngineInterp)
	jit, e2 := d.load(EngineJIT)
	switch {
	case e1 != nil && e2 != nil:
		return nil, nil, false, nil
	case e1 != nil:
		return nil, nil, false, fmt.Errorf("loads for the jit only: %v", e1)
	case e2 != nil:
		return nil, nil, false, fmt.Errorf("verifies but does not compile: %v", e2)
	}
	if jit.Engine() != EngineJIT {
		return nil, nil, false, fmt.Errorf("jit load runs on %s", jit.Engine())
	}
	if d.fill != nil {
		d.fill(interp.maps)
		d.fill(jit.maps)
	}
	return interp, jit, true, nil
}

// diffRuns runs both programs on each packet in turn and returns the
// first difference.
func diffRuns(interp, jit *Program, pkts [][]byte) error {
	// one Thread per engine, so that each stays bound to its program and
	// the JIT's runs after the first take Run's fast path (jitrun); the
	// second borrows the first's per-thread slot
	th, thJIT := NewThread(), NewThread()
	defer th.Close()
	ownSlot := thJIT.slot
	thJIT.slot = th.slot
	defer func() { thJIT.slot = ownSlot; thJIT.Close() }()
	var clock uint64
	saved := clockNs
	clockNs = func() uint64 { clock += 1000; return clock }
	defer func() { clockNs = saved }()
	for i, pkt := range pkts {
		var res [2]struct {
			r0  uint64
			err error
			pkt []byte
		}
		for k, p := range []*Program{interp, jit} {
			t := []*Thread{th, thJIT}[k]
			t.rng, clock = 0x9e3779b97f4a7c15+uint64(i), 0
			b := append([]byte(nil), pkt...)
			res[k].r0, res[k].err = p.Run(t, b)
			res[k].pkt = b
		}
		a, b := res[0], res[1]
		if a.r0 != b.r0 || (a.err == nil) != (b.err == nil) || !bytes.Equal(a.pkt, b.pkt) {
			return fmt.Errorf("packet %d (%d bytes): interp r0=%#x err=%v, jit r0=%#x err=%v, packets equal: %v",
				i, len(pkt), a.r0, a.err, b.r0, b.err, bytes.Equal(a.pkt, b.pkt))
		}
		for m := range interp.maps {
			s1, s2 := mapSnapshot(interp.maps[m]), mapSnapshot(jit.maps[m])
			if s1 != s2 {
				return fmt.Errorf("packet %d: map %s differs:\ninterp %s\njit    %s", i, interp.maps[m].spec.Name, s1, s2)
			}
		}
	}
	return nil
}

// mapSnapshot renders a map's whole contents canonically.
func mapSnapshot(m *Map) string {
	switch impl := m.impl.(type) {
	case *ringBuf:
		var recs []string
		impl.consume(func(r []byte) { recs = append(recs, fmt.Sprintf("%x", r)) })
		return fmt.Sprint(recs, impl.dropped.Load())
	case *bloomFilter:
		return fmt.Sprint(impl.bits)
	case *countMin:
		return fmt.Sprint(impl.ctr)
	case *queueMap:
		var vs []string
		impl.iterate(func(_, v []byte) bool { vs = append(vs, fmt.Sprintf("%x", v)); return true })
		return fmt.Sprint(vs)
	}
	var es []string
	m.Iterate(func(k, v []byte) bool { es = append(es, fmt.Sprintf("%x=%x", k, v)); return true })
	slices.Sort(es)
	return fmt.Sprint(es)
}

// diffCheck loads d for both engines and compares runs on pkts.
func diffCheck(t testing.TB, d *diffProg, pkts [][]byte) bool {
	t.Helper()
	interp, jit, ok, err := d.loadPair()
	if err != nil {
		t.Fatal(err)
	}
	if !ok {
		return false
	}
	if err := diffRuns(interp, jit, pkts); err != nil {
		t.Fatalf("%v\n%s", err, interp.Disasm())
	}
	return true
}
