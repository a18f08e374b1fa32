package ofproto

import (
	"fmt"
	"net/netip"
	"os"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/goko-net/goko/datapath"
	"github.com/goko-net/goko/datapath/memport"
	"github.com/goko-net/goko/openflow"
)

// BenchmarkTranslate measures one upcall's translation through table 0
// holding n rules "ip,in_port=1,nw_dst=10.X.Y.0/24 actions=output:2" plus a
// table-miss rule. This is the cost of a megaflow miss; cache hits never
// translate.
func BenchmarkTranslate(b *testing.B) {
	for _, n := range []int{10, 1000, 100000} {
		b.Run(fmt.Sprintf("rules=%d", n), func(b *testing.B) {
			br := New(Config{Name: "bench"})
			br.SetDatapath(datapath.New(datapath.Config{Name: "bench", Translator: br}))
			for no := uint32(1); no <= 2; no++ {
				if _, err := br.AddPort(no, memport.New(fmt.Sprint("p", no))); err != nil {
					b.Fatal(err)
				}
			}
			t := &br.tables[0]
			for i := 0; i < n; i++ {
				dst := netip.PrefixFrom(netip.AddrFrom4([4]byte{10 + byte(i>>16), byte(i >> 8), byte(i), 0}), 24)
				m := openflow.NewMatch(openflow.OXMInPortVal(1), openflow.OXMEthTypeVal(0x0800), openflow.OXMAddrVal(openflow.OXMIPv4Dst, dst))
				fm, err := compileMatch(&m)
				if err != nil {
					b.Fatal(err)
				}
				t.insert(&rule{priority: 100, fm: fm, instructions: output(2), stats: new(datapath.FlowStats)})
			}
			miss, _ := compileMatch(&openflow.Match{})
			t.insert(&rule{priority: 0, fm: miss, instructions: output(openflow.PortController), stats: new(datapath.FlowStats)})
			pkt := frame(2, 17, 53)
			var key datapath.FlowKey
			// The last rule's destination: the worst case for a linear scan.
			off := datapath.Parse(pkt, 1, &key)
			key.NwDst = uint32(10+(n-1)>>16)<<24 | uint32(n-1)&0xffff<<8 | 7
			m := datapath.Miss{FilterInput: datapath.FilterInput{Data: pkt, Key: &key, Off: off}}
			var mf datapath.Translation
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				mf = datapath.Translation{}
				br.Translate(&m, &mf)
			}
			if len(mf.Actions) != 1 || mf.Actions[0].Port != 2 {
				b.Fatalf("translation: %+v", mf.Actions)
			}
		})
	}
}

// scaleFlowMods returns n flow-mods "priority=P,ip,nw_dst=A.B.C.D
// actions=output:1" with P cycling over 1..1000, decoded from their wire
// form as a connection would hand them over.
func scaleFlowMods(tb testing.TB, n int) []*openflow.FlowMod {
	out := make([]*openflow.FlowMod, n)
	for i := range out {
		dst := netip.PrefixFrom(netip.AddrFrom4([4]byte{10 + byte(i>>24), byte(i >> 16), byte(i >> 8), byte(i)}), 32)
		fm := addFlow(uint16(i%1000+1), openflow.NewMatch(openflow.OXMEthTypeVal(0x0800), openflow.OXMAddrVal(openflow.OXMIPv4Dst, dst)), output(1))
		raw, err := openflow.Marshal(uint32(i), fm)
		if err != nil {
			tb.Fatal(err)
		}
		_, m, err := openflow.Decode(raw)
		if err != nil {
			tb.Fatal(err)
		}
		out[i] = m.(*openflow.FlowMod)
	}
	return out
}

func heapInUse() uint64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}

// BenchmarkFlowScale adds n rules one flow-mod at a time, then deletes them
// all with one flow-mod, and reports the live heap each rule costs.
func BenchmarkFlowScale(b *testing.B) {
	for _, n := range []int{10000, 100000} {
		b.Run(fmt.Sprintf("rules=%d", n), func(b *testing.B) {
			var addNs, delNs, perRule float64
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				br := New(Config{Name: "bench"})
				br.SetDatapath(datapath.New(datapath.Config{Name: "bench", Translator: br}))
				base := heapInUse()
				fms := scaleFlowMods(b, n)
				b.StartTimer()
				t0 := time.Now()
				for _, fm := range fms {
					if err := br.FlowMod(fm); err != nil {
						b.Fatal(err)
					}
				}
				t1 := time.Now()
				b.StopTimer()
				fms = nil
				perRule += float64(heapInUse()-base) / float64(n)
				b.StartTimer()
				t2 := time.Now()
				if err := br.FlowMod(&openflow.FlowMod{Command: openflow.FlowDelete, TableID: tableAll,
					OutPort: openflow.PortAny, OutGroup: openflow.GroupAny}); err != nil {
					b.Fatal(err)
				}
				delNs += float64(time.Since(t2))
				addNs += float64(t1.Sub(t0))
			}
			b.ReportMetric(perRule/float64(b.N), "heapB/rule")
			b.ReportMetric(addNs/float64(b.N)/1e9, "add-s")
			b.ReportMetric(delNs/float64(b.N)/1e9, "del-s")
		})
	}
}

// startScenarioA sets up bench/ovs-compare.sh's scenario (a) in process
// (256 rules "ip,in_port=1,nw_dst=10.1.X.0/24 actions=output:2", 10k
// flows replayed from a memory port into a discarding one, a real pmd
// thread), each rule with filter_prog=1 running filter if it is not nil,
// starts the datapath and waits until the megaflows are in place.
func startScenarioA(b *testing.B, filter []byte) (*Bridge, *datapath.Datapath, *memport.Port) {
	br := New(Config{Name: "bench"})
	dp := datapath.New(datapath.Config{Name: "bench", Translator: br, Upcaller: br})
	br.SetDatapath(dp)
	frames := make([][]byte, 10000)
	for i := range frames {
		f := frame(2, 17, 53)
		copy(f[26:34], []byte{10, 0, byte(i >> 8), byte(i), 10, 1, byte(i % 256), byte(i / 256)})
		frames[i] = f
	}
	sink := memport.New("sink", memport.WithDiscard())
	br.AddPort(1, memport.New("src", memport.WithReplay(frames)))
	br.AddPort(2, sink)
	if filter != nil {
		if _, err := br.LoadFilterProg(1, filter, ""); err != nil {
			b.Fatal(err)
		}
	}
	for x := 0; x < 256; x++ {
		oxms := []openflow.OXM{openflow.OXMInPortVal(1), openflow.OXMEthTypeVal(0x0800),
			openflow.OXMUintMasked(openflow.OXMIPv4Dst, 0x0a010000|uint64(x)<<8, 0xffffff00)}
		if filter != nil {
			oxms = append(oxms, openflow.OXMFilterProg(1))
		}
		if err := br.FlowMod(addFlow(100, openflow.NewMatch(oxms...), output(2))); err != nil {
			b.Fatal(err)
		}
	}
	if err := dp.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(dp.Stop)
	for sink.Stats().TxPackets < 200000 { // warm up: megaflows in place
		time.Sleep(time.Millisecond)
	}
	return br, dp, sink
}

// measureForward times b.N packets reaching sink and reports cpu-ns/pkt
// (the whole process's CPU time per forwarded packet: the script's
// per-CPU-second figure) and Mpps; it returns the elapsed time.
func measureForward(b *testing.B, sink *memport.Port) time.Duration {
	var ru0, ru1 syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru0)
	start, t0 := sink.Stats().TxPackets, time.Now()
	b.ResetTimer()
	for sink.Stats().TxPackets-start < uint64(b.N) {
		time.Sleep(200 * time.Microsecond)
	}
	b.StopTimer()
	el, pkts := time.Since(t0), sink.Stats().TxPackets-start
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru1)
	cpu := time.Duration(ru1.Utime.Nano() + ru1.Stime.Nano() - ru0.Utime.Nano() - ru0.Stime.Nano())
	b.ReportMetric(float64(cpu.Nanoseconds())/float64(pkts), "cpu-ns/pkt")
	b.ReportMetric(float64(pkts)/el.Seconds()/1e6, "Mpps")
	return el
}

// BenchmarkForwardUnderChurn forwards scenario (a) (startScenarioA) while
// a controller adds and deletes flows unrelated to the traffic at rate
// flow-mods per second, each followed by a barrier, as bench/churn does.
// cpu-ns/pkt counts the flow-mod handling too.
func BenchmarkForwardUnderChurn(b *testing.B) {
	for _, rate := range []int{0, 100, 1000} {
		b.Run(fmt.Sprintf("flowmods=%d", rate), func(b *testing.B) {
			br, dp, sink := startScenarioA(b, nil)
			stop := make(chan struct{})
			churned := make(chan int)
			go func() {
				n := 0
				if rate > 0 {
					churnFlows(br, dp, rate, stop, &n)
				} else {
					<-stop
				}
				churned <- n
			}()
			m0 := dp.Stats().Misses
			el := measureForward(b, sink)
			close(stop)
			n := <-churned
			b.ReportMetric(float64(n)/el.Seconds(), "flowmods/s")
			b.ReportMetric(float64(dp.Stats().Misses-m0)/el.Seconds(), "misses/s")
		})
	}
}

// BenchmarkForwardFilter is scenario (g) of bench/ovs-compare.sh in
// process: scenario (a) with each rule without a filter, or with
// filter_prog=1 running examples/bpf/firewall (maps empty: nothing
// blocked).
func BenchmarkForwardFilter(b *testing.B) {
	obj := compileExample(b, "firewall")
	for _, filtered := range []bool{false, true} {
		b.Run(fmt.Sprintf("filter=%v", filtered), func(b *testing.B) {
			var prog []byte
			if filtered {
				prog = obj
			}
			_, _, sink := startScenarioA(b, prog)
			measureForward(b, sink)
		})
	}
}

// churnFlows adds and deletes flows that match none of the traffic
// ("priority=100,ip,in_port=1,nw_dst=192.168.X.Y actions=drop", 100 live)
// at rate flow-mods per second, each followed by a barrier, until stop.
func churnFlows(br *Bridge, dp *datapath.Datapath, rate int, stop <-chan struct{}, n *int) {
	interval := time.Second / time.Duration(rate)
	next := time.Now()
	match := func(i int) openflow.Match {
		return openflow.NewMatch(openflow.OXMInPortVal(1), openflow.OXMEthTypeVal(0x0800),
			openflow.OXMUint(openflow.OXMIPv4Dst, 0xc0a80000|uint64(i%65536)))
	}
	for i := 0; ; i++ {
		select {
		case <-stop:
			return
		default:
		}
		if i%2 == 0 {
			br.FlowMod(addFlow(100, match(i/2), nil))
		} else if i/2 >= 100 {
			br.FlowMod(delStrict(0, 100, match(i/2-100)))
		} else {
			continue
		}
		dp.Sync() // the barrier
		*n++
		next = next.Add(interval)
		time.Sleep(time.Until(next))
	}
}

// BenchmarkMegaflowMemory installs n megaflows through the real pipeline
// (one per source address: a rule on the exact nw_src puts it in every
// mask) on one pmd and reports the heap and resident memory they take.
// Run it once: go test -run X -bench MegaflowMemory -benchtime 1x ./ofproto/
func BenchmarkMegaflowMemory(b *testing.B) {
	for _, n := range []int{100000, 1000000} {
		b.Run(fmt.Sprintf("megaflows=%d", n), func(b *testing.B) {
			frames := make([][]byte, n)
			for i := range frames {
				f := frame(2, 17, 53)
				copy(f[26:30], []byte{10, byte(i >> 16), byte(i >> 8), byte(i)})
				frames[i] = f
			}
			br := New(Config{Name: "bench"})
			dp := datapath.New(datapath.Config{Name: "bench", Translator: br, Upcaller: br, FlowLimit: 2 * n})
			br.SetDatapath(dp)
			sink := memport.New("sink", memport.WithDiscard())
			br.AddPort(1, memport.New("src", memport.WithReplay(frames)))
			br.AddPort(2, sink)
			br.FlowMod(addFlow(10, openflow.NewMatch(ipv4, openflow.OXMUint(openflow.OXMIPv4Src, 0x01020304)), nil))
			br.FlowMod(addFlow(1, openflow.NewMatch(), output(2)))
			heap0, rss0 := memNow()
			start := time.Now()
			if err := dp.Start(); err != nil {
				b.Fatal(err)
			}
			defer dp.Stop()
			for dp.Stats().Megaflows < uint64(n) {
				if time.Since(start) > 5*time.Minute {
					b.Fatalf("%d of %d megaflows after 5 minutes", dp.Stats().Megaflows, n)
				}
				time.Sleep(10 * time.Millisecond)
			}
			heap1, rss1 := memNow()
			b.ReportMetric(float64(heap1-heap0)/float64(n), "heap-B/megaflow")
			b.ReportMetric(float64(rss1-rss0)/float64(n), "rss-B/megaflow")
			b.ReportMetric(float64(rss1)/(1<<20), "rss-MiB")
			b.ReportMetric(time.Since(start).Seconds(), "s-to-install")
		})
	}
}

// memNow returns the live heap after a collection and the resident set.
func memNow() (heap, rss int64) {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	st, _ := os.ReadFile("/proc/self/status")
	for _, line := range strings.Split(string(st), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "VmRSS:" {
			kb, _ := strconv.ParseInt(f[1], 10, 64)
			rss = kb << 10
		}
	}
	return int64(ms.HeapAlloc), rss
}
