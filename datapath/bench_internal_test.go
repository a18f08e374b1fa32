package datapath

import (
	"encoding/binary"
	"fmt"
	"sync/atomic"
	"testing"
	"unsafe"

	"github.com/goko-net/goko/ubpf"
	"github.com/goko-net/goko/ubpf/asm"
)

// These benchmarks drive one pmd iteration at a time on the benchmark's own
// goroutine (no pmd thread, no sleeping), from a replaying source port to
// a discarding sink, so ns/op is the cost of one packet.

type benchSource struct {
	frames [][]byte
	next   int
}

func (s *benchSource) Info() PortInfo { return PortInfo{Name: "src", LinkUp: true} }
func (s *benchSource) Recv(pkts []Packet) int {
	for i := range pkts {
		pkts[i] = Packet{Data: s.frames[s.next]}
		s.next++
		if s.next == len(s.frames) {
			s.next = 0
		}
	}
	return len(pkts)
}
func (s *benchSource) Send(pkts []*Packet) int { return len(pkts) }
func (s *benchSource) Release([]Packet)        {}
func (s *benchSource) Stats() PortStats        { return PortStats{} }
func (s *benchSource) Close() error            { return nil }

type benchSink struct{ n uint64 }

func (s *benchSink) Info() PortInfo          { return PortInfo{Name: "sink", LinkUp: true} }
func (s *benchSink) Recv([]Packet) int       { return 0 }
func (s *benchSink) Send(pkts []*Packet) int { s.n += uint64(len(pkts)); return len(pkts) }
func (s *benchSink) Release([]Packet)        {}
func (s *benchSink) Stats() PortStats        { return PortStats{TxPackets: s.n} }
func (s *benchSink) Close() error            { return nil }

// dstTranslator routes on in_port and the destination /24, like the
// OVS-DPDK comparison's rules, and optionally attaches filters.
type dstTranslator struct {
	filters []FilterCheck
	stats   FlowStats
}

func (t *dstTranslator) Translate(m *Miss, mf *Translation) {
	mf.Mask.EthType = 0xffff
	mf.Mask.NwDst = 0xffffff00
	mf.Actions = []Action{{Kind: ActOutput, Port: 2}}
	mf.Stats = []*FlowStats{&t.stats}
	mf.Filters = t.filters
}

// inPortTranslator sends everything to port 2, looking at nothing but in_port.
type inPortTranslator struct{}

func (inPortTranslator) Translate(m *Miss, mf *Translation) {
	mf.Actions = []Action{{Kind: ActOutput, Port: 2}}
}

type constFilter struct{ runs int }

func (f *constFilter) Match(in *FilterInput) bool { f.runs++; return len(in.Data) > 0 }

// progFilter is a ProgramFilter, as ofproto's registry entries are; its
// Match counts the runs the datapath left to it.
type progFilter struct {
	prog  atomic.Pointer[ubpf.Program]
	calls int
}

func (f *progFilter) Match(in *FilterInput) bool {
	f.calls++
	return f.prog.Load().Match(in.VM, in.Data)
}

func (f *progFilter) Program() *atomic.Pointer[ubpf.Program] { return &f.prog }

// newProgFilter loads a filter returning r0 (compiled where the JIT runs).
func newProgFilter(t testing.TB, r0 int) *progFilter {
	code, err := asm.Assemble(fmt.Sprintf("mov %%r0, %d\nexit", r0))
	if err != nil {
		t.Fatal(err)
	}
	p, err := ubpf.Load(code, ubpf.LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	f := &progFilter{}
	f.prog.Store(p)
	return f
}

// udpFrames returns n 64-byte UDP frames of n distinct 5-tuples spread over
// 256 destination /24s.
func udpFrames(n int) [][]byte {
	out := make([][]byte, n)
	for i := range out {
		f := make([]byte, 60)
		copy(f, []byte{2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 0x08, 0x00, 0x45, 0, 0, 46, 0, 0, 0, 0, 64, 17})
		copy(f[26:30], []byte{10, 0, byte(i >> 8), byte(i)})
		copy(f[30:34], []byte{10, 1, byte(i % 256), byte(i / 256)})
		binary.BigEndian.PutUint16(f[34:], uint16(1024+i))
		binary.BigEndian.PutUint16(f[36:], 53)
		out[i] = f
	}
	return out
}

func benchPMD(b testing.TB, flows int, tr Translator, emcInsert bool) (*pmd, *benchSink) {
	src, sink := &benchSource{frames: udpFrames(flows)}, &benchSink{}
	dp := New(Config{Name: "bench", Translator: tr})
	dp.AddPort(1, src)
	dp.AddPort(2, sink)
	p := newPMD(dp)
	if !emcInsert {
		p.cache.emcInv = 0
	}
	return p, sink
}

func runPMD(b *testing.B, p *pmd, sink *benchSink) {
	// Warm up: install the megaflows.
	// No once-a-second maintenance: it would make instruction counts
	// depend on how fast the run goes. Warm up (install the megaflows, fill
	// the EMC: at 10k flows that takes a million packets), then judge the
	// EMC once, as maintenance would.
	p.lastMaint = 1 << 62
	for i := 0; i < 40000; i++ {
		p.poll()
	}
	p.cache.judgeEMC(p.now)
	b.ReportAllocs()
	b.ResetTimer()
	start := sink.n
	for sent := uint64(0); sent < uint64(b.N); sent = sink.n - start {
		p.poll()
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds()/1e6, "Mpps")
}

func BenchmarkPMD(b *testing.B) {
	for _, flows := range []int{1, 1000, 10000, 100000} {
		b.Run(fmt.Sprintf("emc+megaflow/flows=%d", flows), func(b *testing.B) {
			p, sink := benchPMD(b, flows, &dstTranslator{}, true)
			runPMD(b, p, sink)
		})
	}
	for _, flows := range []int{1000, 10000, 100000} {
		b.Run(fmt.Sprintf("megaflow-only/flows=%d", flows), func(b *testing.B) {
			p, sink := benchPMD(b, flows, &dstTranslator{}, false)
			runPMD(b, p, sink)
		})
	}
	// Scenario (c) of bench/ovs-compare.sh: one rule on in_port only.
	b.Run("inport-only/flows=10000", func(b *testing.B) {
		p, sink := benchPMD(b, 10000, inPortTranslator{}, true)
		runPMD(b, p, sink)
	})
	b.Run("miss+upcall", func(b *testing.B) {
		p, _ := benchPMD(b, 1000, &dstTranslator{}, true)
		for i := 0; i < 10; i++ {
			p.poll()
		}
		b.ReportAllocs()
		b.ResetTimer()
		for i := 0; i < b.N; i += BurstSize {
			p.dp.Invalidate() // every burst misses and upcalls
			p.upcallTokens = upcallBurst
			p.poll()
		}
		b.StopTimer()
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds()/1e6, "Mpps")
	})
	for _, nf := range []int{0, 1, 3} {
		b.Run(fmt.Sprintf("filters=%d", nf), func(b *testing.B) {
			tr := &dstTranslator{}
			for i := 0; i < nf; i++ {
				tr.filters = append(tr.filters, FilterCheck{Filter: &constFilter{}, Want: true})
			}
			p, sink := benchPMD(b, 1000, tr, true)
			runPMD(b, p, sink)
		})
	}
	// One eBPF program (r0 = 1), which the cache runs itself: the glue
	// of a filter run over filters=0.
	b.Run("filters=1/ebpf", func(b *testing.B) {
		tr := &dstTranslator{filters: []FilterCheck{{Filter: newProgFilter(b, 1), Want: true}}}
		p, sink := benchPMD(b, 1000, tr, true)
		runPMD(b, p, sink)
	})
}

func TestCacheEntrySizes(t *testing.T) {
	if n := unsafe.Sizeof(cachedFlow{}); n%64 != 0 {
		t.Errorf("a cached flow is %d bytes, not a whole number of cache lines: make cachedFlowPad %d",
			n, (cachedFlowPad+64-n%64)%64)
	}
	if off := unsafe.Offsetof(cachedFlow{}.mf) + unsafe.Offsetof(Megaflow{}.Key); off != 56 {
		t.Errorf("a cached flow's key starts at byte %d, not 56 (words 1-8 in the second cache line)", off)
	}
	t.Logf("EMC entry: %d bytes (%d per pmd); megaflow cache entry: %d bytes (Megaflow %d of it), "+
		"+ %d per datapath action, %d per resolved action, 8 per counter, 16 per hash slot (pointer and hash; 75%% full at most)",
		unsafe.Sizeof(emcEntry{}), unsafe.Sizeof(emcEntry{})*emcEntries,
		unsafe.Sizeof(cachedFlow{}), unsafe.Sizeof(Megaflow{}), unsafe.Sizeof(Action{}), unsafe.Sizeof(execAction{}))
}

// actionsTranslator sends every flow through a fixed action list.
type actionsTranslator []Action

func (t actionsTranslator) Translate(m *Miss, mf *Translation) {
	mf.Mask.EthType = 0xffff
	mf.Mask.NwDst = 0xffffff00
	mf.Actions = t
}

// BenchmarkActions measures header-rewriting action lists on cache hits:
// the cost over "output" is the actions'. The received frames have no
// headroom, so a push copies the packet into the arena.
func BenchmarkActions(b *testing.B) {
	set := func(f Field, v ...byte) Action {
		a := Action{Kind: ActSetField, Field: f}
		copy(a.Value[:], v)
		return a
	}
	out := Action{Kind: ActOutput, Port: 2}
	for _, c := range []struct {
		name    string
		actions []Action
	}{
		{"output", []Action{out}},
		// The source replays its frames and the actions edit them in place:
		// set_nw_ttl, as a dec_nw_ttl would run the TTL out.
		{"set-ip-port-ttl", []Action{set(FieldIPv4Src, 192, 168, 1, 1), set(FieldTpDst, 0, 80), {Kind: ActSetNwTTL, Arg: 63}, out}},
		{"push-vlan-set-vid", []Action{{Kind: ActPushVLAN, Arg: EthTypeVLAN}, set(FieldVlanVID, 0x10, 0x05), out}},
		{"push-mpls-pop-vlan", []Action{{Kind: ActPushVLAN, Arg: EthTypeVLAN}, {Kind: ActPopVLAN}, {Kind: ActPushMPLS, Arg: EthTypeMPLS}, out}},
	} {
		b.Run(c.name, func(b *testing.B) {
			p, sink := benchPMD(b, 64, actionsTranslator(c.actions), true)
			runPMD(b, p, sink)
		})
	}
}
