package datapath_test

import (
	"bytes"
	"fmt"
	"log/slog"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
	"unsafe"

	"github.com/goko-net/goko/datapath"
	"github.com/goko-net/goko/datapath/memport"
)

// fixedTranslator forwards in_port 1 to port 2 and drops everything else,
// looking only at in_port.
type fixedTranslator struct {
	calls atomic.Int64
	stats datapath.FlowStats
	out   atomic.Uint32
}

func (t *fixedTranslator) Translate(m *datapath.Miss, mf *datapath.Translation) {
	t.calls.Add(1)
	if m.Key.InPort == 1 {
		mf.Actions = []datapath.Action{{Kind: datapath.ActOutput, Port: t.out.Load()}}
		mf.Stats = []*datapath.FlowStats{&t.stats}
	}
}

func udpFrame(srcPort uint16) []byte {
	f := make([]byte, 60)
	copy(f[0:6], []byte{2, 0, 0, 0, 0, 2})
	copy(f[6:12], []byte{2, 0, 0, 0, 0, 1})
	f[12], f[13] = 0x08, 0x00
	ip := f[14:]
	ip[0] = 0x45
	ip[3] = 46
	ip[8] = 64
	ip[9] = 17
	copy(ip[12:16], []byte{10, 0, 0, 1})
	copy(ip[16:20], []byte{10, 0, 0, 2})
	ip[20], ip[21] = byte(srcPort>>8), byte(srcPort)
	ip[22], ip[23] = 0, 53
	return f
}

func TestForwardAndInvalidate(t *testing.T) {
	tr := &fixedTranslator{}
	tr.out.Store(2)
	p1, p2, p3 := memport.New("p1"), memport.New("p2"), memport.New("p3")
	dp := datapath.New(datapath.Config{Name: "t", Translator: tr})
	for no, p := range map[uint32]*memport.Port{1: p1, 2: p2, 3: p3} {
		if err := dp.AddPort(no, p); err != nil {
			t.Fatal(err)
		}
	}
	if err := dp.Start(); err != nil {
		t.Fatal(err)
	}
	defer dp.Stop()

	for i := 0; i < 100; i++ {
		if !p1.Inject(udpFrame(uint16(1000 + i))) {
			t.Fatal("inject queue full")
		}
	}
	for i := 0; i < 100; i++ {
		f, ok := p2.Receive(2 * time.Second)
		if !ok {
			t.Fatalf("received %d of 100 frames", i)
		}
		if !bytes.Equal(f, udpFrame(uint16(1000+i))) {
			t.Fatalf("frame %d altered or reordered", i)
		}
	}
	// The mask covers only in_port, so one translation serves all 100 flows.
	if got := tr.calls.Load(); got != 1 {
		t.Errorf("translations = %d, want 1 (megaflow should cover all)", got)
	}
	dp.SyncCounters()
	if got := tr.stats.Packets.Load(); got != 100 {
		t.Errorf("rule packets = %d, want 100", got)
	}
	if got, want := tr.stats.Bytes.Load(), uint64(100*60); got != want {
		t.Errorf("rule bytes = %d, want %d", got, want)
	}

	// Change the translation: after Invalidate+Sync no packet may use the
	// stale entry.
	tr.out.Store(3)
	dp.Invalidate()
	dp.Sync()
	p1.Inject(udpFrame(7))
	if _, ok := p3.Receive(2 * time.Second); !ok {
		t.Fatal("packet not sent to new output after invalidation")
	}
	if _, ok := p2.Receive(50 * time.Millisecond); ok {
		t.Fatal("stale megaflow used after Invalidate+Sync")
	}

	// Packets from port 2 are dropped.
	p2.Inject(udpFrame(9))
	dp.Sync()
	dp.Sync()
	for _, p := range []*memport.Port{p1, p3} {
		if _, ok := p.Receive(50 * time.Millisecond); ok {
			t.Fatal("packet from port 2 should be dropped")
		}
	}
}

func TestInjectAndRemovePort(t *testing.T) {
	tr := &fixedTranslator{}
	tr.out.Store(2)
	p1, p2 := memport.New("p1"), memport.New("p2")
	dp := datapath.New(datapath.Config{Name: "t", Translator: tr})
	dp.AddPort(1, p1)
	dp.AddPort(2, p2)
	if err := dp.Start(); err != nil {
		t.Fatal(err)
	}
	defer dp.Stop()
	err := dp.Inject(0xfffffffd, udpFrame(1), []datapath.Action{{Kind: datapath.ActOutput, Port: 1}, {Kind: datapath.ActOutput, Port: 2}})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []*memport.Port{p1, p2} {
		if _, ok := p.Receive(2 * time.Second); !ok {
			t.Fatal("injected packet not output")
		}
	}
	if err := dp.RemovePort(2); err != nil {
		t.Fatal(err)
	}
	if err := dp.RemovePort(2); err == nil {
		t.Fatal("removing a missing port should fail")
	}
	// Traffic to the removed port is dropped, and the switch keeps working.
	p1.Inject(udpFrame(2))
	dp.Sync()
	dp.Sync()
	if st := p1.Stats(); st.RxPackets != 1 {
		t.Fatalf("rx packets = %d, want 1", st.RxPackets)
	}
}

func BenchmarkForwardMemport(b *testing.B) {
	frames := make([][]byte, 1024)
	for i := range frames {
		frames[i] = udpFrame(uint16(i))
	}
	tr := &fixedTranslator{}
	tr.out.Store(2)
	src := memport.New("src", memport.WithReplay(frames))
	sink := memport.New("sink", memport.WithDiscard())
	dp := datapath.New(datapath.Config{Name: "bench", Translator: tr})
	dp.AddPort(1, src)
	dp.AddPort(2, sink)
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	if err := dp.Start(); err != nil {
		b.Fatal(err)
	}
	for sink.Stats().TxPackets < uint64(b.N) {
		time.Sleep(100 * time.Microsecond)
	}
	dp.Stop()
	el := time.Since(start)
	b.ReportMetric(float64(sink.Stats().TxPackets)/el.Seconds()/1e6, "Mpps")
}

type recorder struct{ n atomic.Int64 }

func (r *recorder) Upcall(pkt []byte, key *datapath.FlowKey, u *datapath.Userspace) { r.n.Add(1) }

// inPortTranslator sends port 1 to 2, 2 to 1, 3 to 4 and 4 to 3.
type inPortTranslator struct{ stats datapath.FlowStats }

func (t *inPortTranslator) Translate(m *datapath.Miss, mf *datapath.Translation) {
	out := map[uint32]uint32{1: 2, 2: 1, 3: 4, 4: 3}[m.Key.InPort]
	mf.Actions = []datapath.Action{{Kind: datapath.ActOutput, Port: out}}
	mf.Stats = []*datapath.FlowStats{&t.stats}
}

func TestSeveralPMDs(t *testing.T) {
	tr := &inPortTranslator{}
	dp := datapath.New(datapath.Config{Name: "t", Translator: tr, PMDs: 2})
	ports := []*memport.Port{nil}
	for i := uint32(1); i <= 4; i++ {
		p := memport.New(fmt.Sprint("p", i))
		ports = append(ports, p)
		if err := dp.AddPort(i, p); err != nil {
			t.Fatal(err)
		}
	}
	if err := dp.Start(); err != nil {
		t.Fatal(err)
	}
	defer dp.Stop()
	const n = 500
	for i := 0; i < n; i++ {
		for _, in := range []int{1, 2, 3, 4} {
			ports[in].Inject(udpFrame(uint16(i)))
		}
	}
	for _, out := range []int{1, 2, 3, 4} {
		for i := 0; i < n; i++ {
			if _, ok := ports[out].Receive(2 * time.Second); !ok {
				t.Fatalf("port %d received %d of %d frames", out, i, n)
			}
		}
	}
	dp.SyncCounters()
	if got := tr.stats.Packets.Load(); got != 4*n {
		t.Fatalf("counters: %d packets, want %d", got, 4*n)
	}
	// A barrier-style invalidation reaches every pmd.
	dp.Invalidate()
	dp.Sync()
}

// oneQueuePort is a memory port that claims one transmit queue and fails
// the test if two threads ever send on it at once.
type oneQueuePort struct {
	*memport.Port
	t      *testing.T
	inside atomic.Int32
}

func (p *oneQueuePort) TxQueues() int { return 1 }
func (p *oneQueuePort) SendQueue(q int, pkts []*datapath.Packet) int {
	if q != 0 || p.inside.Add(1) != 1 {
		p.t.Errorf("queue %d used concurrently", q)
	}
	defer p.inside.Add(-1)
	time.Sleep(10 * time.Microsecond) // widen the window a race would need
	return p.Port.Send(pkts)
}

func TestSeveralPMDsShareAQueue(t *testing.T) {
	dp := datapath.New(datapath.Config{Name: "t", Translator: &fanIn{}, PMDs: 2})
	in1, in2 := memport.New("in1"), memport.New("in2")
	out := &oneQueuePort{Port: memport.New("out", memport.WithQueueLen(8192)), t: t}
	dp.AddPort(1, in1)
	dp.AddPort(2, in2)
	dp.AddPort(3, out)
	if err := dp.Start(); err != nil {
		t.Fatal(err)
	}
	defer dp.Stop()
	for i := 0; i < 2000; i++ {
		in1.Inject(udpFrame(uint16(i)))
		in2.Inject(udpFrame(uint16(i)))
	}
	for i := 0; i < 4000; i++ {
		if _, ok := out.Receive(2 * time.Second); !ok {
			t.Fatalf("received %d of 4000", i)
		}
	}
}

// fanIn sends ports 1 and 2 to port 3.
type fanIn struct{}

func (fanIn) Translate(m *datapath.Miss, mf *datapath.Translation) {
	mf.Actions = []datapath.Action{{Kind: datapath.ActOutput, Port: 3}}
}

// exclusivePort is a replaying memory port that fails the test if two
// threads ever receive from it at once, or if it is polled after Close.
type exclusivePort struct {
	*memport.Port
	t      *testing.T
	inside atomic.Int32
	closed atomic.Bool
	recvs  atomic.Int64
}

func (p *exclusivePort) Recv(pkts []datapath.Packet) int {
	if p.inside.Add(1) != 1 {
		p.t.Errorf("%s: received by two pmds at once", p.Info().Name)
	}
	defer p.inside.Add(-1)
	if p.closed.Load() {
		p.t.Errorf("%s: polled after Close", p.Info().Name)
	}
	p.recvs.Add(1)
	time.Sleep(20 * time.Microsecond) // widen the window a race would need
	return p.Port.Recv(pkts[:4])
}

func (p *exclusivePort) Close() error {
	p.closed.Store(true)
	return p.Port.Close()
}

// multiRxPort has three receive queues, each an exclusivePort.
type multiRxPort struct {
	*exclusivePort
	queues [3]*exclusivePort
}

func (p *multiRxPort) RxQueues() int { return len(p.queues) }
func (p *multiRxPort) RecvQueue(q int, pkts []datapath.Packet) int {
	return p.queues[q].Recv(pkts)
}
func (p *multiRxPort) ReleaseQueue(q int, pkts []datapath.Packet) {}
func (p *multiRxPort) Recv([]datapath.Packet) int {
	p.t.Error("Recv called on a port with several receive queues")
	return 0
}
func (p *multiRxPort) Close() error {
	for _, q := range p.queues {
		q.Close()
	}
	return p.exclusivePort.Close()
}

// TestAddRemovePortsUnderTraffic adds and removes receiving ports while
// two pmds forward: every receive queue must have one owner at any time,
// also while removals move queues between pmds (run it with -race:
// memport's replay cursor is not safe for two readers).
func TestAddRemovePortsUnderTraffic(t *testing.T) {
	dp := datapath.New(datapath.Config{Name: "t", Translator: &fanIn{}, PMDs: 2})
	sink := memport.New("sink", memport.WithDiscard())
	if err := dp.AddPort(3, sink); err != nil {
		t.Fatal(err)
	}
	newSrc := func(name string) *exclusivePort {
		return &exclusivePort{Port: memport.New(name, memport.WithReplay([][]byte{udpFrame(1), udpFrame(2)})), t: t}
	}
	fixed := &multiRxPort{exclusivePort: newSrc("fixed")}
	for i := range fixed.queues {
		fixed.queues[i] = newSrc(fmt.Sprint("fixed.q", i))
	}
	if err := dp.AddPort(10, fixed); err != nil {
		t.Fatal(err)
	}
	if err := dp.Start(); err != nil {
		t.Fatal(err)
	}
	defer dp.Stop()
	owners := func() map[[2]int]int {
		m := map[[2]int]int{}
		for _, o := range dp.RxqOwners() {
			m[[2]int{int(o.Port), o.Queue}] = o.PMD
		}
		return m
	}
	var all []*exclusivePort
	moved := 0
	deadline := time.Now().Add(time.Second)
	for round := 0; time.Now().Before(deadline) || round < 20; round++ {
		for _, no := range []uint32{1, 2, 11, 12} {
			p := newSrc(fmt.Sprintf("p%d.%d", no, round))
			if err := dp.AddPort(no, p); err != nil {
				t.Fatal(err)
			}
			all = append(all, p)
		}
		time.Sleep(time.Millisecond)
		// Remove the added ports that pmd 1 polls first: that leaves
		// pmd 0 with more queues, and a removal must move one over.
		before := owners()
		var order []uint32
		for _, pmd := range []int{1, 0} {
			for _, no := range []uint32{1, 2, 11, 12} {
				if before[[2]int{int(no), 0}] == pmd {
					order = append(order, no)
				}
			}
		}
		for _, no := range order {
			if err := dp.RemovePort(no); err != nil {
				t.Fatal(err)
			}
			after := owners()
			load := [2]int{}
			for k, pmd := range after {
				if pmd < 0 {
					t.Fatalf("queue %v has no owner after a removal", k)
				}
				load[pmd]++
				if before[k] != pmd {
					moved++
				}
			}
			if load[0]-load[1] > 1 || load[1]-load[0] > 1 {
				t.Fatalf("unbalanced after a removal: %v", after)
			}
			before = after
		}
	}
	dp.Sync()
	if moved == 0 {
		t.Error("no receive queue ever moved between pmds")
	}
	for _, q := range fixed.queues {
		if q.recvs.Load() == 0 {
			t.Errorf("%s never polled", q.Info().Name)
		}
	}
	if sink.Stats().TxPackets == 0 {
		t.Fatal("no traffic forwarded")
	}
	polled := 0
	for _, p := range all {
		if p.recvs.Load() > 0 {
			polled++
		}
	}
	if polled == 0 {
		t.Fatal("no added port was ever polled")
	}
}

// blockingTranslator holds the pmd inside a translation until release is
// closed, as a filter program that runs for a long time would.
type blockingTranslator struct {
	entered chan struct{}
	release chan struct{}
}

func (t *blockingTranslator) Translate(m *datapath.Miss, mf *datapath.Translation) {
	close(t.entered)
	<-t.release
}

// syncBuffer is a log destination safe for the pmd and the test to share.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestSyncWaitsForAStuckPMD checks the barrier rule: Sync does not return
// while a pmd is still inside an iteration that began before it, however
// long that takes (it used to give up after 2 s), and says loudly that it
// is waiting.
func TestSyncWaitsForAStuckPMD(t *testing.T) {
	tr := &blockingTranslator{entered: make(chan struct{}), release: make(chan struct{})}
	var logs syncBuffer
	dp := datapath.New(datapath.Config{Name: "t", Translator: tr, Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	p1 := memport.New("p1")
	dp.AddPort(1, p1)
	if err := dp.Start(); err != nil {
		t.Fatal(err)
	}
	defer dp.Stop()
	p1.Inject(udpFrame(1))
	<-tr.entered
	synced := make(chan time.Time)
	go func() {
		dp.Invalidate()
		dp.Sync()
		synced <- time.Now()
	}()
	const stuck = 2300 * time.Millisecond
	select {
	case <-synced:
		t.Fatal("Sync returned while a pmd was inside an older iteration")
	case <-time.After(stuck):
	}
	released := time.Now()
	close(tr.release)
	if at := <-synced; at.Before(released) {
		t.Fatal("Sync returned before the pmd finished")
	}
	if !strings.Contains(logs.String(), "pmd makes no progress") {
		t.Errorf("no log line about the stuck pmd:\n%s", logs.String())
	}
}

// dstTranslator forwards in_port 1 to port 2 by nw_dst, one megaflow per
// destination, and counts translations per destination.
type perDstTranslator struct {
	mu    sync.Mutex
	calls map[uint32]int
}

func (t *perDstTranslator) Translate(m *datapath.Miss, mf *datapath.Translation) {
	t.mu.Lock()
	t.calls[m.Key.NwDst]++
	t.mu.Unlock()
	mf.Mask.InPort, mf.Mask.NwDst, mf.Mask.EthType = ^uint32(0), ^uint32(0), 0xffff
	mf.Actions = []datapath.Action{{Kind: datapath.ActOutput, Port: 2}}
	mf.Deps = m.Key.NwDst
}

func dstFrame(dst byte) []byte {
	f := udpFrame(1)
	f[33] = dst
	return f
}

// TestRevalidateDropsOnlyStale checks that Revalidate re-translates the
// megaflows its predicate names and keeps the others.
func TestRevalidateDropsOnlyStale(t *testing.T) {
	tr := &perDstTranslator{calls: map[uint32]int{}}
	p1, p2 := memport.New("p1"), memport.New("p2")
	dp := datapath.New(datapath.Config{Name: "t", Translator: tr, PMDs: 2})
	dp.AddPort(1, p1)
	dp.AddPort(2, p2)
	if err := dp.Start(); err != nil {
		t.Fatal(err)
	}
	defer dp.Stop()
	send := func() {
		for d := byte(1); d <= 8; d++ {
			p1.Inject(dstFrame(d))
		}
		for i := 0; i < 8; i++ {
			if _, ok := p2.Receive(2 * time.Second); !ok {
				t.Fatalf("received %d of 8", i)
			}
		}
	}
	send()
	send()
	dp.Revalidate(func(mf *datapath.Megaflow) bool { return mf.Deps.(uint32)%2 == 0 })
	dp.Sync()
	send()
	tr.mu.Lock()
	defer tr.mu.Unlock()
	for d := uint32(1); d <= 8; d++ {
		want := 1
		if d%2 == 0 {
			want = 2
		}
		if got := tr.calls[0x0a000000|d]; got != want {
			t.Errorf("dst %d: %d translations, want %d", d, got, want)
		}
	}
}

// TestFlowLimit checks that past the megaflow limit new flows are still
// forwarded but not cached, counted, and logged once.
func TestFlowLimit(t *testing.T) {
	tr := &perDstTranslator{calls: map[uint32]int{}}
	var logs syncBuffer
	p1, p2 := memport.New("p1"), memport.New("p2")
	dp := datapath.New(datapath.Config{Name: "t", Translator: tr, FlowLimit: 4,
		Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	dp.AddPort(1, p1)
	dp.AddPort(2, p2)
	if err := dp.Start(); err != nil {
		t.Fatal(err)
	}
	defer dp.Stop()
	for round := 0; round < 3; round++ {
		for d := byte(1); d <= 8; d++ {
			p1.Inject(dstFrame(d))
		}
		for i := 0; i < 8; i++ {
			if _, ok := p2.Receive(2 * time.Second); !ok {
				t.Fatalf("round %d: received %d of 8", round, i)
			}
		}
	}
	dp.Sync()
	st := dp.Stats()
	if st.Megaflows != 4 || st.FlowLimit != 4 || st.FlowLimitHits != 3*4 {
		t.Fatalf("stats %+v: want 4 megaflows cached, 12 translations over the limit", st)
	}
	if n := strings.Count(logs.String(), "megaflow limit reached"); n != 1 {
		t.Fatalf("%d log lines about the limit, want 1:\n%s", n, logs.String())
	}
	// A pmd flushes at the top of its next iteration.
	dp.Invalidate()
	for deadline := time.Now().Add(time.Second); dp.Stats().Megaflows != 0; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%d megaflows counted after an invalidation", dp.Stats().Megaflows)
		}
	}
}

// TestRevalidateLogLetsGo checks that once every pmd has applied a
// revalidation, the datapath no longer holds its predicate (and whatever
// the predicate holds).
func TestRevalidateLogLetsGo(t *testing.T) {
	dp := datapath.New(datapath.Config{Name: "t", Translator: fanIn{}, PMDs: 2})
	if err := dp.Start(); err != nil {
		t.Fatal(err)
	}
	defer dp.Stop()
	freed := make(chan struct{})
	func() {
		big := new([1 << 20]byte)
		runtime.SetFinalizer(big, func(*[1 << 20]byte) { close(freed) })
		dp.Revalidate(func(*datapath.Megaflow) bool { return big[0] != 0 })
	}()
	dp.Sync()
	dp.Sync()
	dp.Revalidate(func(*datapath.Megaflow) bool { return false }) // trims the log
	for i := 0; i < 50; i++ {
		runtime.GC()
		select {
		case <-freed:
			return
		case <-time.After(10 * time.Millisecond):
		}
	}
	t.Fatal("the predicate of an applied revalidation is still held")
}

// bufPort is a memory port whose received packets carry a distinct Buf
// each, and which records the Bufs released to it.
type bufPort struct {
	*memport.Port
	mu       sync.Mutex
	bufs     []*int
	released map[*int]int
}

func (p *bufPort) Recv(pkts []datapath.Packet) int {
	n := p.Port.Recv(pkts)
	p.mu.Lock()
	defer p.mu.Unlock()
	for i := range pkts[:n] {
		b := new(int)
		p.bufs = append(p.bufs, b)
		pkts[i].Buf = unsafe.Pointer(b)
	}
	return n
}

func (p *bufPort) Release(pkts []datapath.Packet) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, pk := range pkts {
		p.released[(*int)(pk.Buf)]++
	}
}

// handoffPort takes over every packet it is offered and records which.
type handoffPort struct {
	*memport.Port
	mu    sync.Mutex
	taken map[*int]int
}

func (p *handoffPort) SendHandoff(q int, pkts []*datapath.Packet, own []bool) int {
	p.mu.Lock()
	for i, pk := range pkts {
		if own[i] {
			p.taken[(*int)(pk.Buf)]++
		}
	}
	p.mu.Unlock()
	return p.Port.Send(pkts)
}

// byTpSrc sends UDP source port 0 mod 3 to port 2, 1 mod 3 to ports 2
// and 3, and drops the rest.
type byTpSrc struct{}

func (byTpSrc) Translate(m *datapath.Miss, mf *datapath.Translation) {
	mf.Mask.TpSrc = 0xffff
	out := func(p uint32) datapath.Action { return datapath.Action{Kind: datapath.ActOutput, Port: p} }
	switch m.Key.TpSrc % 3 {
	case 0:
		mf.Actions = []datapath.Action{out(2)}
	case 1:
		mf.Actions = []datapath.Action{out(2), out(3)}
	}
}

// TestHandoff checks the transmit handoff (transmit.go): a packet output
// once is taken over by the port and not released, one output twice or
// dropped is released, and none is both.
func TestHandoff(t *testing.T) {
	in := &bufPort{Port: memport.New("in"), released: map[*int]int{}}
	o2 := &handoffPort{Port: memport.New("o2", memport.WithQueueLen(4096)), taken: map[*int]int{}}
	o3 := &handoffPort{Port: memport.New("o3", memport.WithQueueLen(4096)), taken: map[*int]int{}}
	dp := datapath.New(datapath.Config{Name: "t", Translator: byTpSrc{}})
	dp.AddPort(1, in)
	dp.AddPort(2, o2)
	dp.AddPort(3, o3)
	if err := dp.Start(); err != nil {
		t.Fatal(err)
	}
	const n = 300
	for i := 0; i < n; i++ {
		in.Inject(udpFrame(uint16(i)))
	}
	want2 := n/3 + n/3
	for i := 0; i < want2; i++ {
		if _, ok := o2.Receive(2 * time.Second); !ok {
			t.Fatalf("port 2 received %d of %d", i, want2)
		}
	}
	dp.Stop()
	in.mu.Lock()
	defer in.mu.Unlock()
	if len(in.bufs) != n {
		t.Fatalf("%d packets received, want %d", len(in.bufs), n)
	}
	for i, b := range in.bufs {
		rel, took := in.released[b], o2.taken[b]+o3.taken[b]
		if rel+took != 1 {
			t.Fatalf("packet %d: released %d times, taken over %d times; want once in all", i, rel, took)
		}
		if wantTaken := i%3 == 0; (took == 1) != wantTaken {
			t.Errorf("packet %d (udp src %d): taken over %v, want %v", i, i, took == 1, wantTaken)
		}
	}
}
