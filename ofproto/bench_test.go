package ofproto

import (
	"fmt"
	"net/netip"
	"testing"

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
				t.insert(&rule{priority: 100, match: m, fm: fm, instructions: output(2), stats: new(datapath.FlowStats)})
			}
			t.insert(&rule{priority: 0, instructions: output(openflow.PortController), stats: new(datapath.FlowStats)})
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
