package ofproto

import (
	"fmt"
	"net/netip"
	"runtime"
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
			datapath.Parse(pkt, 1, &key)
			key.NwDst = uint32(10+(n-1)>>16)<<24 | uint32(n-1)&0xffff<<8 | 7
			var mf datapath.Megaflow
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				mf = datapath.Megaflow{}
				if err := br.Translate(pkt, &key, &mf); err != nil {
					b.Fatal(err)
				}
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
