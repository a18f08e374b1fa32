package datapath_test

import (
	"fmt"
	"sort"
	"testing"
	"time"

	"github.com/goko-net/goko/datapath"
	"github.com/goko-net/goko/datapath/memport"
)

// TestPMDStatsAndDump: each pmd counts its own packets, cache hits and
// upcalls, and a dump returns what each has cached with its counters.
func TestPMDStatsAndDump(t *testing.T) {
	tr := &inPortTranslator{}
	dp := datapath.New(datapath.Config{Name: "t", Translator: tr, PMDs: 2})
	ports := []*memport.Port{nil}
	for i := uint32(1); i <= 2; i++ {
		p := memport.New(fmt.Sprint("p", i), memport.WithQueueLen(4096))
		ports = append(ports, p)
		if err := dp.AddPort(i, p); err != nil {
			t.Fatal(err)
		}
	}
	if flows, err := dp.DumpMegaflows(); err != nil || len(flows) != 0 {
		t.Fatalf("dump before start: %v, %v", flows, err)
	}
	if err := dp.Start(); err != nil {
		t.Fatal(err)
	}
	defer dp.Stop()
	const n = 300
	for i := 0; i < n; i++ {
		ports[1].Inject(udpFrame(uint16(i)))
		ports[2].Inject(udpFrame(uint16(i)))
	}
	for _, out := range []int{1, 2} {
		for i := 0; i < n; i++ {
			if _, ok := ports[out].Receive(2 * time.Second); !ok {
				t.Fatalf("port %d received %d of %d", out, i, n)
			}
		}
	}
	stats := dp.PMDStats()
	if len(stats) != 2 {
		t.Fatalf("%d pmds", len(stats))
	}
	for _, s := range stats {
		// One port per pmd, one translation covering all its packets.
		if s.Packets != n || s.Misses != 1 || s.Upcalls != 1 || s.LostUpcalls != 0 || s.Megaflows != 1 ||
			s.EMCHits+s.MegaflowHits != n-1 || s.MegaflowHits == 0 {
			t.Errorf("pmd %d: %+v", s.PMD, s)
		}
	}
	flows, err := dp.DumpMegaflows()
	if err != nil {
		t.Fatal(err)
	}
	sort.Slice(flows, func(i, j int) bool { return flows[i].Key.InPort < flows[j].Key.InPort })
	if len(flows) != 2 {
		t.Fatalf("%d megaflows: %+v", len(flows), flows)
	}
	for i, f := range flows {
		in := uint32(i + 1)
		if f.Key.InPort != in || f.Packets != n || f.Bytes != n*60 || f.Used == 0 {
			t.Errorf("megaflow %d: %+v", i, f)
		}
		if got, want := datapath.FormatKey(&f.Key, &f.Mask), fmt.Sprintf("in_port(%d)", in); got != want {
			t.Errorf("key %q, want %q", got, want)
		}
		if got, want := datapath.FormatActions(f.Actions), fmt.Sprintf("output:%d", 3-in); got != want {
			t.Errorf("actions %q, want %q", got, want)
		}
	}
	if flows[0].PMD == flows[1].PMD {
		t.Errorf("both megaflows on pmd %d", flows[0].PMD)
	}
}

func TestFormatKey(t *testing.T) {
	var k datapath.FlowKey
	datapath.Parse(udpFrame(1234), 3, &k)
	full := datapath.FlowKey{}
	for i := range full.Words() {
		full.Words()[i] = ^uint64(0)
	}
	for _, tc := range []struct {
		mask datapath.FlowKey
		want string
	}{
		{datapath.FlowKey{}, "any"},
		{datapath.FlowKey{InPort: ^uint32(0), EthType: 0xffff, NwDst: 0xffffff00, NwProto: 0xff, TpDst: 0xffff},
			"in_port(3),eth_type(0x800),ipv4(dst=10.0.0.0/255.255.255.0,proto=17),udp(dst=53)"},
		{datapath.FlowKey{EthSrc: [6]byte{0xff, 0xff, 0xff, 0, 0, 0}, EthDst: [6]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, NwFrag: 0xff, TpSrc: 0xff00},
			"eth(src=02:00:00:00:00:00/ff:ff:ff:00:00:00,dst=02:00:00:00:00:02),ipv4(frag=no),tp(src=0x400/0xff00)"},
	} {
		var m datapath.FlowKey
		m.And(&k, &tc.mask)
		if got := datapath.FormatKey(&m, &tc.mask); got != tc.want {
			t.Errorf("got  %s\nwant %s", got, tc.want)
		}
	}
	acts := []datapath.Action{{Kind: datapath.ActSetField, Field: datapath.FieldIPv4Dst, Value: [16]byte{10, 0, 0, 9}},
		{Kind: datapath.ActClone, Nested: []datapath.Action{{Kind: datapath.ActPushVLAN, Arg: 0x8100}, {Kind: datapath.ActOutput, Port: 4}}},
		{Kind: datapath.ActCTCommit, Zone: 7}}
	if got, want := datapath.FormatActions(acts), "set(ipv4_dst=10.0.0.9),clone(push_vlan(0x8100),output:4),ct_commit(7)"; got != want {
		t.Errorf("actions: got %s, want %s", got, want)
	}
}
