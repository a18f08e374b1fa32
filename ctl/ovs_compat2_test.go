package ctl

// More comparisons with the real ovs-ofctl: group, meter, port-mod,
// packet-out and replace-flows messages byte for byte, and the output of
// the group, meter and table-features dumps, diff-flows and monitor's
// packet decoding.

import (
	"bytes"
	"encoding/hex"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/goko-net/goko/ctl/internal/fakeswitch"
	"github.com/goko-net/goko/openflow"
)

// lastOfType returns the last message of type typ the switch received,
// with its xid zeroed.
func lastOfType(sw *fakeswitch.Switch, typ openflow.Type) []byte {
	rs := sw.Received()
	for i := len(rs) - 1; i >= 0; i-- {
		if rs[i].Msg.Type() == typ {
			b := append([]byte(nil), rs[i].Raw...)
			copy(b[4:8], []byte{0, 0, 0, 0})
			return b
		}
	}
	return nil
}

func TestOVSModBytes(t *testing.T) {
	bin := needOVS(t)
	sw := fakeswitch.New()
	sw.AcceptAll = true
	target := startTCP(t, sw)
	tests := []struct {
		typ  openflow.Type
		args []string
	}{
		{openflow.TypeGroupMod, []string{"add-group", target, "group_id=1,type=select,bucket=weight:10,actions=output:1,bucket=output:2"}},
		{openflow.TypeGroupMod, []string{"mod-group", target, "group_id=1,type=all,bucket=actions=output:1,set_field:5->vlan_vid,bucket=actions=drop"}},
		{openflow.TypeGroupMod, []string{"add-group", target, "group_id=2,type=ff,bucket=watch_port:1,actions=output:1,bucket=watch_group:1,actions=group:1"}},
		{openflow.TypeGroupMod, []string{"add-group", target, "group_id=3,type=indirect,bucket=actions=mod_dl_dst:00:00:00:00:00:01,output:2"}},
		{openflow.TypeGroupMod, []string{"add-group", target, "group_id=4,type=select,bucket=watch_port:2,weight:0,actions=output:2"}},
		{openflow.TypeGroupMod, []string{"del-groups", target, "group_id=2"}},
		{openflow.TypeGroupMod, []string{"del-groups", target}},
		{openflow.TypeMeterMod, []string{"add-meter", target, "meter=1,kbps,burst,stats,band=type=drop,rate=1000,burst_size=100"}},
		{openflow.TypeMeterMod, []string{"add-meter", target, "meter=2,pktps,bands=type=drop,rate=10"}},
		{openflow.TypeMeterMod, []string{"mod-meter", target, "meter=1,kbps,band=type=drop,rate=5"}},
		{openflow.TypeMeterMod, []string{"del-meters", target, "meter=2"}},
		{openflow.TypeMeterMod, []string{"del-meters", target}},
		{openflow.TypePortMod, []string{"mod-port", target, "1", "down"}},
		{openflow.TypePortMod, []string{"mod-port", target, "p1", "up"}},
		{openflow.TypePortMod, []string{"mod-port", target, "2", "no-receive"}},
		{openflow.TypePortMod, []string{"mod-port", target, "2", "forward"}},
		{openflow.TypePortMod, []string{"mod-port", target, "2", "no-packet-in"}},
		{openflow.TypePortMod, []string{"mod-port", target, "1", "no-flood"}},
		{openflow.TypePortMod, []string{"mod-port", target, "1", "stp"}},
		{openflow.TypePacketOut, []string{"packet-out", target, "in_port=1 packet=ffffffffffff020000000001080600010800060400010200000000010a000001000000000000 actions=output:2,set_field:3->vlan_pcp"}},
		{openflow.TypePacketOut, []string{"packet-out", target, "in_port=CONTROLLER,packet=ffffffffffff0200000000010800,actions=FLOOD"}},
		{openflow.TypePacketOut, []string{"packet-out", target, "LOCAL", "output:1,output:2", "ffffffffffff02000000000188cc00"}},
	}
	for _, tc := range tests {
		if out, code := runOVS(t, bin, tc.args...); code != 0 {
			t.Errorf("ovs-ofctl %v failed: %s", tc.args, out)
			continue
		}
		want := lastOfType(sw, tc.typ)
		if _, errs, code := ofctl(t, "", "", tc.args...); code != 0 {
			t.Errorf("ofctl %v: %s", tc.args, errs)
			continue
		}
		if got := lastOfType(sw, tc.typ); !bytes.Equal(got, want) {
			t.Errorf("%v:\novs-ofctl sends %x\n    ofctl sends %x", tc.args, want, got)
		}
	}
}

func TestOVSGroupMeterOutputs(t *testing.T) {
	bin := needOVS(t)
	sw := fakeswitch.New()
	sw.Features.NTables = 4
	target := startTCP(t, sw)
	for _, a := range [][]string{
		{"add-group", target, "group_id=1,type=select,bucket=weight:10,actions=output:1,bucket=output:2"},
		{"add-group", target, "group_id=2,type=ff,bucket=watch_port:1,actions=output:1,bucket=watch_group:1,actions=group:1"},
		{"add-group", target, "group_id=3,type=all,bucket=actions=drop,bucket=actions=push_vlan:0x8100,set_field:4101->vlan_vid,output:3"},
		{"add-group", target, "group_id=4,type=indirect"},
		{"add-meter", target, "meter=1,kbps,burst,stats,band=type=drop,rate=1000,burst_size=100"},
		{"add-meter", target, "meter=2,pktps,bands=type=drop,rate=10"},
	} {
		if _, errs, code := ofctl(t, "", "", a...); code != 0 {
			t.Fatalf("%v: %s", a, errs)
		}
	}
	for _, args := range [][]string{
		{"dump-groups", target},
		{"dump-group-stats", target},
		{"dump-group-stats", target, "group_id=2"},
		{"dump-group-features", target},
		{"dump-meters", target},
		{"dump-meters", target, "meter=2"},
		{"meter-stats", target},
		{"meter-features", target},
	} {
		want, wcode := runOVS(t, bin, args...)
		got, errs, code := ofctl(t, "", "", args...)
		if got != want || code != wcode {
			t.Errorf("%v: exit status %d (ovs-ofctl %d), stderr %q\novs-ofctl:\n%s\nofctl:\n%s", args, code, wcode, errs, want, got)
		}
	}
	// Table features: OVS leaves out the OXM fields it does not know.
	want, _ := runOVS(t, bin, "dump-table-features", target)
	got, _, _ := ofctl(t, "", "", "dump-table-features", target)
	got = strings.NewReplacer(" in_phy_port", "", " pbb_isid", "", " ipv6_exthdr", "",
		" copy_ttl_out copy_ttl_in push_pbb pop_pbb", "").Replace(got)
	if got != want {
		t.Errorf("dump-table-features:\novs-ofctl:\n%s\nofctl:\n%s", want, got)
	}
}

// TestOVSGroupParse checks that every group string that goko's ofctl
// dump-groups prints is what ovs-ofctl prints for the same group.
func TestOVSGroupRoundTrip(t *testing.T) {
	bin := needOVS(t)
	sw := fakeswitch.New()
	target := startTCP(t, sw)
	groups := []string{
		"group_id=1,type=select,bucket=actions=output:1,bucket=weight:5,actions=output:2",
		"group_id=2,type=all,bucket=actions=CONTROLLER:65535,bucket=actions=IN_PORT",
		"group_id=3,type=ff,bucket=watch_port:3,actions=LOCAL,bucket=watch_port:2,watch_group:7,actions=output:2",
		"group_id=4,type=indirect,bucket=actions=dec_ttl,set_queue:3,output:1",
		"group_id=4294967040,type=all,bucket=actions=pop_vlan,push_mpls:0x8847,output:1",
	}
	for i, g := range groups {
		if i%2 == 0 {
			if out, code := runOVS(t, bin, "add-group", target, g); code != 0 {
				t.Fatalf("ovs-ofctl add-group %s: %s", g, out)
			}
		} else if _, errs, code := ofctl(t, "", "", "add-group", target, g); code != 0 {
			t.Fatalf("ofctl add-group %s: %s", g, errs)
		}
	}
	want, _ := runOVS(t, bin, "dump-groups", target)
	got, _, _ := ofctl(t, "", "", "dump-groups", target)
	if got != want {
		t.Errorf("dump-groups:\novs-ofctl:\n%s\nofctl:\n%s", want, got)
	}
	for i, g := range groups {
		if !strings.Contains(got, " "+g+"\n") {
			t.Errorf("group %d does not print back as given: %s\n%s", i, g, got)
		}
	}
}

func TestOVSDiffFlows(t *testing.T) {
	bin := needOVS(t)
	dir := t.TempDir()
	a := filepath.Join(dir, "a.flows")
	b := filepath.Join(dir, "b.flows")
	os.WriteFile(a, []byte("in_port=1 actions=output:2\ntable=1,priority=5,ip actions=drop\nactions=drop\n"+
		"cookie=0x5,idle_timeout=10,hard_timeout=20 tcp,tp_dst=80 actions=CONTROLLER\npriority=7,udp actions=output:3\n"+
		"ip,nw_dst=10.0.0.0/8 actions=meter:1,group:2\n"), 0o644)
	os.WriteFile(b, []byte("in_port=1 actions=output:3\ntable=1,priority=5,ip actions=drop\nsend_flow_rem,priority=7,udp actions=output:3\n"+
		"table=2,arp actions=NORMAL\nip,nw_dst=10.0.0.0/8 actions=meter:1,group:2\n"), 0o644)
	sortLines := func(s string) string {
		l := strings.Split(strings.TrimSpace(s), "\n")
		sort.Strings(l)
		return strings.Join(l, "\n")
	}
	for _, args := range [][]string{{"diff-flows", a, b}, {"diff-flows", b, a}, {"diff-flows", a, a}} {
		cmd := exec.Command(bin, append([]string{"-O", "OpenFlow13"}, args...)...)
		wantB, _ := cmd.Output()
		wcode := cmd.ProcessState.ExitCode()
		got, errs, code := ofctl(t, "", "", args...)
		if sortLines(got) != sortLines(string(wantB)) || code != wcode {
			t.Errorf("%v: exit %d (ovs-ofctl %d) %s\novs-ofctl:\n%s\nofctl:\n%s", args, code, wcode, errs, wantB, got)
		}
	}
}

// TestOVSReplaceFlows checks that replace-flows sends what ovs-ofctl
// sends: the same set of flow mods, byte for byte (order aside).
func TestOVSReplaceFlows(t *testing.T) {
	bin := needOVS(t)
	file := filepath.Join(t.TempDir(), "flows")
	os.WriteFile(file, []byte("in_port=1 actions=output:3\ntable=1,priority=5,ip actions=drop\n"+
		"cookie=0x7,priority=9,udp actions=output:4\ntable=2,arp actions=NORMAL\nsend_flow_rem,priority=3,icmp actions=drop\n"), 0o644)
	start := func() (*fakeswitch.Switch, string) {
		sw := fakeswitch.New()
		for _, f := range []string{"in_port=1 actions=output:2", "table=1,priority=5,ip actions=drop",
			"idle_timeout=5,priority=9,udp actions=output:4", "idle_timeout=7,table=3,tcp actions=drop", "send_flow_rem,table=3,udp actions=drop", "send_flow_rem,priority=3,icmp actions=drop"} {
			fm := mustParse(t, f)
			sw.AddFlow(openflow.FlowStats{TableID: fm.TableID, Priority: fm.Priority, IdleTimeout: fm.IdleTimeout,
				HardTimeout: fm.HardTimeout, Flags: fm.Flags, Cookie: fm.Cookie, Match: fm.Match, Instructions: fm.Instructions})
		}
		return sw, startTCP(t, sw)
	}
	mods := func(sw *fakeswitch.Switch) []string {
		var out []string
		for _, r := range sw.Received() {
			if r.Msg.Type() == openflow.TypeFlowMod {
				b := append([]byte(nil), r.Raw...)
				copy(b[4:8], []byte{0, 0, 0, 0})
				out = append(out, hex.EncodeToString(b))
			}
		}
		sort.Strings(out)
		return out
	}
	sw1, t1 := start()
	if out, code := runOVS(t, bin, "replace-flows", t1, file); code != 0 {
		t.Fatalf("ovs-ofctl replace-flows: %s", out)
	}
	sw2, t2 := start()
	if _, errs, code := ofctl(t, "", "", "replace-flows", t2, file); code != 0 {
		t.Fatalf("ofctl replace-flows: %s", errs)
	}
	w, g := mods(sw1), mods(sw2)
	if strings.Join(w, "\n") != strings.Join(g, "\n") {
		t.Errorf("replace-flows flow mods differ:\novs-ofctl:\n%s\nofctl:\n%s", strings.Join(w, "\n"), strings.Join(g, "\n"))
	}
	if len(g) != 4 { // 2 deletes (table 3), 2 adds (changed udp flow, new arp flow), output:3 flow changed
		t.Logf("replace-flows sent %d flow mods", len(g))
	}
	// Afterwards the switch and the file agree.
	if out, errs, code := ofctl(t, "", "", "diff-flows", t2, file); code != 0 {
		t.Errorf("diff-flows after replace-flows: exit %d %s\n%s", code, errs, out)
	}
	if out, _, code := ofctl(t, "", "", "diff-flows", t1, file); code != 0 {
		t.Errorf("diff-flows (ovs-ofctl's switch) after replace-flows: exit %d\n%s", code, out)
	}
}

func mustParse(t *testing.T, s string) *openflow.FlowMod {
	t.Helper()
	reqs, err := (&cli{stdin: strings.NewReader(s)}).readFlowFile("", "-", false)
	if err != nil {
		t.Fatalf("%q: %v", s, err)
	}
	return reqs[0].fm
}

// TestOVSPacketIn checks monitor's printing of packet-ins, flow-removed
// and port-status messages against ovs-ofctl ofp-print.
func TestOVSAsyncFormat(t *testing.T) {
	bin := needOVS(t)
	h := func(s string) []byte {
		b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	eth := "020000000002 020000000001 "
	frames := [][]byte{
		h(eth + "0800 4500 0028 0001 0000 4006 0000 0a000001 0a000002 04d2 0050 00000001 00000000 5012 2000 abcd 0000"),
		h(eth + "8100 6064 0800 4510 001c 0001 4000 3f11 0000 0a000001 0a000002 0044 0043 0008 1234"),
		h("ffffffffffff 020000000001 0806 0001 0800 0604 0001 020000000001 0a000001 000000000000 0a000002"),
		h(eth + "86dd 6000 0000 0008 3a40 fe800000000000000000000000000001 ff020000000000000000000000000001 8000 1234 0001 0001"),
		h(eth + "0800 4500 001c 0001 0000 4001 0000 0a000001 0a000002 0800 f7fe 0001 0000"),
		h(eth + "0800 4500 0020 0001 2000 4011 0000 0a000001 0a000002 0044 0043 000c 0000 0000 0000"),
		h(eth + "0800 4500 0020 0001 0010 4011 0000 0a000001 0a000002 0044 0043 000c 0000 0000 0000"),
		h(eth + "0800 4500 0018 0001 0000 402f 0000 0a000001 0a000002 0000 0800"),
		h(eth + "86dd 6000 0000 0020 3aff fe800000000000000000000000000001 ff020000000000000000000000000001 8700 1111 0000 0000 fe800000000000000000000000000002 0101 020000000001"),
		h(eth + "86dd 6000 0000 0014 0640 fe800000000000000000000000000001 fe800000000000000000000000000002 0050 1f90 00000000 00000000 5018 0000 beef 0000"),
		h(eth + "88cc 0102"),
		h(eth + "8847 00064140 4500"),
		h(eth + "88a8 0005 8100 0006 0800 4500 0014 0001 0000 40ff 0000 0a000001 0a000002"),
		h(eth + "0800 4500 0020 0001 0000 4084 0000 0a000001 0a000002 0001 0002 00000000 12345678"),
		h("0102"),
	}
	var msgs []openflow.Message
	for i, f := range frames {
		msgs = append(msgs, &openflow.PacketIn{BufferID: openflow.NoBuffer, TotalLen: uint16(len(f)), Reason: openflow.PacketInReason(i % 3),
			TableID: uint8(i), Cookie: uint64(i), Match: openflow.NewMatch(openflow.OXMInPortVal(uint32(i + 1))), Data: f})
	}
	msgs = append(msgs,
		&openflow.PacketIn{BufferID: 7, TotalLen: 100, Cookie: ^uint64(0), Match: openflow.NewMatch(openflow.OXMInPortVal(openflow.PortLocal), openflow.OXMMetadataVal(5, ^uint64(0))), Data: frames[0]},
		&openflow.FlowRemoved{Cookie: 5, Priority: 10, Reason: openflow.FlowRemovedIdleTimeout, TableID: 1, DurationSec: 3, DurationNsec: 5000000,
			IdleTimeout: 10, HardTimeout: 20, PacketCount: 1, ByteCount: 2, Match: openflow.NewMatch(openflow.OXMInPortVal(1))},
		&openflow.FlowRemoved{Priority: openflow.DefaultPriority, Reason: openflow.FlowRemovedDelete},
		&openflow.FlowRemoved{Priority: 1, Reason: openflow.FlowRemovedGroupDelete, TableID: 255, HardTimeout: 3},
		&openflow.PortStatus{Reason: openflow.PortReasonModify, Desc: openflow.Port{PortNo: 1, Name: "p1", Config: openflow.PortConfigDown, State: openflow.PortStateLinkDown}},
		&openflow.PortStatus{Reason: openflow.PortReasonAdd, Desc: openflow.Port{PortNo: 9, Name: "veth9", State: openflow.PortStateLive, Curr: openflow.PortFeature1GbFD}},
		&openflow.PortStatus{Reason: openflow.PortReasonDelete, Desc: openflow.Port{PortNo: 9, Name: "veth9"}},
	)
	for _, m := range msgs {
		b, err := openflow.Marshal(0, m)
		if err != nil {
			t.Fatal(err)
		}
		out, err := exec.Command(bin, "ofp-print", hex.EncodeToString(b)).Output()
		if err != nil {
			t.Fatalf("ofp-print: %v", err)
		}
		var got string
		switch m := m.(type) {
		case *openflow.PacketIn:
			got = FormatPacketIn(0, m)
		case *openflow.FlowRemoved:
			got = FormatFlowRemoved(0, m)
		case *openflow.PortStatus:
			got = FormatPortStatus(0, m)
		}
		if got != string(out) {
			t.Errorf("%T:\novs-ofctl: %s\n    ofctl: %s", m, out, got)
		}
	}
}
