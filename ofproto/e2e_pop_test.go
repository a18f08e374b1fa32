package ofproto

import (
	"net/netip"
	"testing"
	"time"

	"github.com/goko-net/goko/openflow"
)

// mplsFrame wraps an IPv4/UDP frame to 10.0.0.<dst> in one MPLS label.
func mplsFrame(dst byte) []byte {
	inner := frame(dst, 17, 53)
	f := append([]byte(nil), inner[:12]...)
	f = append(f, 0x88, 0x47, 0x00, 0x01, 0x41, 0x40) // label 20, bos, ttl 64
	return append(f, inner[14:]...)
}

// TestMatchAfterPopMPLS: a later table matches the inner IPv4 header of a
// packet whose label an earlier table popped. Such decisions cannot be
// cached (the cache key is the labelled packet), so each packet is
// translated; both must still go where their inner destination says.
func TestMatchAfterPopMPLS(t *testing.T) {
	ts := newTestSwitch(t, 3)
	pop := addFlow(10, openflow.NewMatch(openflow.OXMInPortVal(1), openflow.OXMEthTypeVal(0x8847)),
		[]openflow.Instruction{openflow.InstApplyActions{Actions: []openflow.Action{openflow.ActionPopMPLS{EtherType: 0x0800}}},
			openflow.InstGotoTable{TableID: 1}})
	if e := ts.flowMod(pop); e != nil {
		t.Fatal(e.Code)
	}
	for port, dst := range map[uint32]byte{2: 2, 3: 3} {
		m := openflow.NewMatch(openflow.OXMEthTypeVal(0x0800),
			openflow.OXMAddrVal(openflow.OXMIPv4Dst, netip.PrefixFrom(netip.AddrFrom4([4]byte{10, 0, 0, dst}), 32)))
		f := addFlow(10, m, output(port))
		f.TableID = 1
		if e := ts.flowMod(f); e != nil {
			t.Fatal(e.Code)
		}
	}
	for i := 0; i < 3; i++ {
		ts.ports[1].Inject(mplsFrame(2))
		ts.ports[1].Inject(mplsFrame(3))
	}
	for i := 0; i < 3; i++ {
		for _, port := range []uint32{2, 3} {
			f, ok := ts.ports[port].Receive(2 * time.Second)
			if !ok {
				t.Fatalf("packet %d for port %d missing", i, port)
			}
			if f[12] != 0x08 || f[13] != 0x00 || f[33] != byte(port) {
				t.Fatalf("port %d got % x", port, f[:34])
			}
		}
	}
}
