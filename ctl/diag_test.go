package ctl

import (
	"encoding/hex"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/goko-net/goko/ctl/filtercmd"
	"github.com/goko-net/goko/ctl/flowsyntax"
	"github.com/goko-net/goko/datapath"
	"github.com/goko-net/goko/datapath/memport"
	"github.com/goko-net/goko/header"
	"github.com/goko-net/goko/ofproto"
	"github.com/goko-net/goko/openflow"
)

// realBridge runs goko's OpenFlow agent and datapath in process (memory
// ports 1-3) on the management socket of bridge "br0" in a temporary run
// directory, which it returns with port 1 (to inject packets into).
func realBridge(t *testing.T) (string, *memport.Port, *slog.LevelVar) {
	t.Helper()
	dir := t.TempDir()
	mgmt := filepath.Join(dir, "br0.mgmt")
	level := new(slog.LevelVar)
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError}))
	b := ofproto.New(ofproto.Config{Name: "br0", DatapathID: 1, Logger: log, LogLevel: level, ManagementSocket: mgmt})
	dp := datapath.New(datapath.Config{Name: "br0", Translator: b, Upcaller: b})
	b.SetDatapath(dp)
	var p1 *memport.Port
	for i := uint32(1); i <= 3; i++ {
		p := memport.New("p" + string(rune('0'+i)))
		if i == 1 {
			p1 = p
		}
		if _, err := b.AddPort(i, p); err != nil {
			t.Fatal(err)
		}
	}
	if err := dp.Start(); err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("unix", mgmt)
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go b.Serve(c)
		}
	}()
	t.Cleanup(func() { ln.Close(); b.Close(); dp.Stop() })
	return dir, p1, level
}

func mustOfctl(t *testing.T, dir string, args ...string) string {
	t.Helper()
	out, errs, code := ofctl(t, dir, "", args...)
	if code != 0 {
		t.Fatalf("ofctl %v: exit %d\n%s%s", args, code, out, errs)
	}
	return out
}

// compilePort53 builds ofproto's test filter (UDP to port 53, counting
// packets in an array map), or skips.
func compilePort53(t *testing.T) string {
	t.Helper()
	clang, err := exec.LookPath("clang")
	if err != nil {
		t.Skip("clang not installed")
	}
	if _, err := os.Stat("/usr/include/bpf/bpf_helpers.h"); err != nil {
		t.Skip("libbpf-dev not installed")
	}
	obj := filepath.Join(t.TempDir(), "port53.o")
	if out, err := exec.Command(clang, "-O2", "-g", "-target", "bpf", "-I/usr/include/x86_64-linux-gnu",
		"-c", "../ofproto/testdata/port53.c", "-o", obj).CombinedOutput(); err != nil {
		t.Fatalf("clang: %v\n%s", err, out)
	}
	return obj
}

func TestTraceCommand(t *testing.T) {
	dir, _, _ := realBridge(t)
	obj := compilePort53(t)
	mustOfctl(t, dir, "load-filter-prog", "br0", "1", obj)
	mustOfctl(t, dir, "add-group", "br0", "group_id=7,type=all,bucket=actions=output:2,bucket=actions=output:3")
	mustOfctl(t, dir, "add-flows", "br0", writeTemp(t, `
priority=10,in_port=1 actions=goto_table:1
table=1,priority=20,udp,filter_prog=1 actions=output:3
table=1,priority=10,udp actions=group:7
`))
	out := mustOfctl(t, dir, "trace", "br0", "in_port=1,udp,nw_src=10.0.0.1,nw_dst=10.0.0.2,tp_dst=80")
	for _, want := range []string{
		"Flow: in_port(1),eth(src=00:00:00:00:00:00,dst=00:00:00:00:00:00),eth_type(0x800),ipv4(src=10.0.0.1,dst=10.0.0.2,proto=17,ttl=64,frag=no),udp(src=0,dst=80)\n",
		"bridge(\"br0\")\n-------------\n",
		" 0. in_port=1, priority 10\n    goto_table:1\n",
		" 1. udp, priority 10\n    filter_prog=1 (port_filter): no match, r0=0x0, ",
		"        map seen: lookup key 00000000 -> ",
		"    group:7\n     -> group 7 is of type all with 2 buckets\n        bucket 0:\n            output:2\n             -> datapath: output:2\n        bucket 1:\n            output:3\n             -> datapath: output:3\n     -> datapath: output:2,output:3\n",
		"Megaflow: in_port(1),eth_type(0x800),ipv4(proto=17)\nFilters: filter_prog=1:no_match\nDatapath actions: output:2,output:3\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("trace lacks %q:\n%s", want, out)
		}
	}
	// The same packet given whole, and from a pcap with a DNS packet too.
	pkt, _, err := PacketFromMatch(mustMatch(t, "in_port=1,udp,nw_src=10.0.0.1,nw_dst=10.0.0.2,tp_dst=80"))
	if err != nil {
		t.Fatal(err)
	}
	// (The filter's counter moved on: tracing runs programs for real.)
	noMaps := func(s string) string {
		var keep []string
		for _, l := range strings.Split(s, "\n") {
			if !strings.Contains(l, "map seen: lookup") {
				keep = append(keep, l)
			}
		}
		return strings.Join(keep, "\n")
	}
	if got := mustOfctl(t, dir, "trace", "br0", "in_port=1", "--packet", hex.EncodeToString(pkt)); noMaps(got) != noMaps(out) {
		t.Errorf("--packet trace differs:\n%s\nfrom the flow's:\n%s", got, out)
	}
	dns, _, _ := PacketFromMatch(mustMatch(t, "in_port=1,udp,tp_dst=53"))
	pcap := filepath.Join(t.TempDir(), "t.pcap")
	f, _ := os.Create(pcap)
	filtercmd.WritePcap(f, []filtercmd.Packet{{Data: pkt, OrigLen: len(pkt)}, {Data: dns, OrigLen: len(dns)}})
	f.Close()
	out = mustOfctl(t, dir, "trace", "br0", "in_port=1", "--pcap", pcap)
	if !strings.Contains(out, "Packet 1 of 2") || !strings.Contains(out, "Packet 2 of 2") ||
		!strings.Contains(out, "filter_prog=1 (port_filter): match, r0=0x1") || !strings.Contains(out, "Datapath actions: output:3\n") {
		t.Errorf("pcap trace:\n%s", out)
	}
	if js := mustOfctl(t, dir, "--json", "trace", "br0", "in_port=1,udp,tp_dst=53"); !strings.Contains(js, `"flow": "table=1, priority=20,udp,filter_prog=1 actions=output:3"`) {
		t.Errorf("json trace:\n%s", js)
	}
	for _, tc := range []struct{ args []string }{
		{[]string{"trace", "br0", "udp"}},
		{[]string{"trace", "br0", "in_port=1,metadata=5"}},
		{[]string{"trace", "br0", "in_port=1,udp", "--packet", "0102"}},
	} {
		if _, _, code := ofctl(t, dir, "", tc.args...); code != ExitUsage {
			t.Errorf("%v: exit %d, want %d", tc.args, code, ExitUsage)
		}
	}
	if _, errs, code := ofctl(t, dir, "", "trace", "br0", "in_port=9,udp"); code != ExitFailed || !strings.Contains(errs, "OFPBRC_BAD_PORT") {
		t.Errorf("unknown port: exit %d %s", code, errs)
	}
}

func TestMegaflowsAndPMDStats(t *testing.T) {
	dir, p1, _ := realBridge(t)
	mustOfctl(t, dir, "add-flow", "br0", "priority=10,in_port=1,udp actions=output:2")
	pkt, _, _ := PacketFromMatch(mustMatch(t, "in_port=1,udp,tp_dst=53"))
	for range 3 {
		p1.Inject(pkt)
	}
	deadline := time.Now().Add(5 * time.Second)
	var out string
	for time.Now().Before(deadline) {
		out = mustOfctl(t, dir, "dump-megaflows", "br0")
		if strings.Contains(out, "packets:3") {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if !strings.HasPrefix(out, "pmd(0),in_port(1),eth_type(0x800),ipv4(proto=17), packets:3, bytes:126, used:0.") ||
		!strings.HasSuffix(out, ", actions:output:2\n") {
		t.Errorf("dump-megaflows:\n%s", out)
	}
	stats := mustOfctl(t, dir, "pmd-stats-show", "br0")
	for _, want := range []string{"pmd thread 0:\n", "  packets received: 3\n", "  misses: 1 (33.3 %)\n", "  upcalls: 1\n", "  lost upcalls: 0\n", "  megaflows cached: 1\n"} {
		if !strings.Contains(stats, want) {
			t.Errorf("pmd-stats-show lacks %q:\n%s", want, stats)
		}
	}
	if js := mustOfctl(t, dir, "--json", "dump-megaflows", "br0"); !strings.Contains(js, `"actions": "output:2"`) {
		t.Errorf("json megaflows:\n%s", js)
	}
}

func TestSetLogLevel(t *testing.T) {
	dir, _, level := realBridge(t)
	if out := mustOfctl(t, dir, "set-log-level", "br0"); out != "info\n" {
		t.Errorf("level: %q", out)
	}
	if out := mustOfctl(t, dir, "set-log-level", "br0", "DEBUG"); out != "debug\n" || level.Level() != slog.LevelDebug {
		t.Errorf("set debug: %q, level %v", out, level.Level())
	}
	if _, _, code := ofctl(t, dir, "", "set-log-level", "br0", "verbose"); code != ExitUsage {
		t.Errorf("bad level: exit %d", code)
	}
}

// TestPacketFromMatch: the frames trace builds parse into the flow they
// were built from, with correct checksums.
func TestPacketFromMatch(t *testing.T) {
	for _, tc := range []struct{ flow, want string }{
		{"in_port=2,dl_src=02:00:00:00:00:01,dl_dst=02:00:00:00:00:02,tcp,nw_src=10.1.2.3,nw_dst=10.0.0.9,nw_tos=32,tp_src=1234,tp_dst=80",
			"in_port(2),eth(src=02:00:00:00:00:01,dst=02:00:00:00:00:02),eth_type(0x800),ipv4(src=10.1.2.3,dst=10.0.0.9,proto=6,tos=0x20,ttl=64,frag=no),tcp(src=1234,dst=80),tcp_flags(0x2)"},
		{"in_port=1,dl_vlan=10,dl_vlan_pcp=3,udp,nw_dst=192.0.2.1,tp_dst=53",
			"vlan(tci=0x700a),eth_type(0x800),ipv4(src=0.0.0.0,dst=192.0.2.1,proto=17,ttl=64,frag=no),udp(src=0,dst=53)"},
		{"in_port=1,icmp,icmp_type=8,icmp_code=0,nw_src=10.0.0.1", "ipv4(src=10.0.0.1,dst=0.0.0.0,proto=1,ttl=64,frag=no),icmp(type=8,code=0)"},
		{"in_port=1,arp,arp_op=1,arp_spa=10.0.0.1,arp_tpa=10.0.0.2,arp_sha=02:00:00:00:00:01",
			"eth_type(0x806),arp(sip=10.0.0.1,tip=10.0.0.2,op=1,sha=02:00:00:00:00:01,tha=00:00:00:00:00:00)"},
		{"in_port=3,tcp6,ipv6_src=2001:db8::1,ipv6_dst=2001:db8::2,tp_dst=22",
			"ipv6(src=2001:db8::1,dst=2001:db8::2,proto=6,ttl=64,frag=no),tcp(src=0,dst=22)"},
		{"in_port=1,icmp6,icmp_type=135,nd_target=fe80::1,nd_sll=02:00:00:00:00:07", "icmpv6(type=135,code=0),nd(target=fe80::1)"},
		{"in_port=1,mpls,mpls_label=100,mpls_tc=2", "eth_type(0x8847),mpls(lse=0x64540)"},
		{"in_port=1,sctp,tp_src=9,tp_dst=10", "sctp(src=9,dst=10)"},
	} {
		pkt, in, err := PacketFromMatch(mustMatch(t, tc.flow))
		if err != nil {
			t.Fatalf("%s: %v", tc.flow, err)
		}
		var k datapath.FlowKey
		off := datapath.Parse(pkt, in, &k)
		if got := datapath.FormatFlow(&k); !strings.Contains(got, tc.want) {
			t.Errorf("%s:\n got %s\nwant %s", tc.flow, got, tc.want)
		}
		if k.EthType == header.EtherTypeIPv4 {
			l3, l4 := int(off.L3), int(off.L4)
			if header.Checksum(pkt[l3:l4], 0) != 0 {
				t.Errorf("%s: bad IPv4 header checksum", tc.flow)
			}
			sum := uint16(0)
			if k.NwProto != header.IPProtoICMP {
				sum = header.PseudoHeaderSum(k.NwProto, pkt[l3+header.IPv4Src:l3+header.IPv4Src+4], pkt[l3+header.IPv4Dst:l3+header.IPv4Dst+4], len(pkt)-l4)
			}
			if k.NwProto != header.IPProtoSCTP && header.Checksum(pkt[l4:], sum) != 0 {
				t.Errorf("%s: bad L4 checksum", tc.flow)
			}
		}
	}
	if _, _, err := PacketFromMatch(mustMatch(t, "in_port=1,tun_id=5")); err == nil {
		t.Error("tun_id accepted")
	}
	if _, _, err := PacketFromMatch(mustMatch(t, "udp")); err == nil {
		t.Error("a flow without in_port accepted")
	}
}

func mustMatch(t *testing.T, s string) openflow.Match {
	t.Helper()
	m, err := flowsyntax.ParseMatch(s, nil)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func writeTemp(t *testing.T, text string) string {
	t.Helper()
	f := filepath.Join(t.TempDir(), "f")
	if err := os.WriteFile(f, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return f
}
