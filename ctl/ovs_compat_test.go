package ctl

// These tests run the real ovs-ofctl and ofctl against the same fake
// switch and compare what they print and what they send. They are skipped
// when ovs-ofctl is not installed (Debian: openvswitch-common).

import (
	"bytes"
	"net"
	"os/exec"
	"strings"
	"testing"

	"github.com/goko-net/goko/ctl/internal/fakeswitch"
	"github.com/goko-net/goko/openflow"
)

func needOVS(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("ovs-ofctl")
	if err != nil {
		t.Skip("ovs-ofctl not installed; skipping comparison with Open vSwitch")
	}
	return p
}

// startTCP serves sw on a loopback TCP port and returns "tcp:ADDR".
func startTCP(t *testing.T, sw *fakeswitch.Switch) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go sw.Listen(ln)
	return "tcp:" + ln.Addr().String()
}

func runOVS(t *testing.T, bin string, args ...string) (string, int) {
	t.Helper()
	cmd := exec.Command(bin, append([]string{"-O", "OpenFlow13", "--timeout", "10"}, args...)...)
	var out bytes.Buffer
	cmd.Stdout = &out
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("running ovs-ofctl: %v", err)
	}
	return out.String(), code
}

func TestOVSOutputs(t *testing.T) {
	bin := needOVS(t)
	sw := fakeswitch.New()
	sampleFlows(sw)
	sw.Stats = append(sw.Stats, openflow.PortStats{PortNo: 12, TxDropped: 7, DurationSec: ^uint32(0)})
	target := startTCP(t, sw)
	for _, args := range [][]string{
		{"show", target},
		{"dump-flows", "--no-stats", target},
		{"dump-ports", target},
		{"dump-ports", target, "1"},
		{"dump-ports", target, "LOCAL"},
		{"dump-ports-desc", target},
		{"dump-desc", target},
		{"dump-tables", target},
		{"dump-aggregate", target},
		{"dump-aggregate", target, "in_port=1"},
		{"probe", target},
	} {
		want, wcode := runOVS(t, bin, args...)
		got, errs, code := ofctl(t, "", "", args...)
		if got != want || code != wcode {
			t.Errorf("%v: exit status %d (ovs-ofctl %d), stderr %q\novs-ofctl:\n%s\nofctl:\n%s", args, code, wcode, errs, want, got)
		}
	}
	// dump-flows: both print each reply's "OFPST_FLOW reply" header when
	// the output is not a terminal, also over replies split with MORE.
	split := fakeswitch.New()
	sampleFlows(split)
	split.MaxReplyLen = 150
	for maxLen, target := range map[int]string{0: target, 150: startTCP(t, split)} {
		want, _ := runOVS(t, bin, "dump-flows", target)
		if maxLen != 0 && !strings.Contains(want, "flags=[more]") {
			t.Errorf("the switch did not split the reply:\n%s", want)
		}
		if got, _, _ := ofctl(t, "", "", "dump-flows", target); got != want {
			t.Errorf("dump-flows (replies of at most %d bytes):\novs-ofctl:\n%s\nofctl:\n%s", maxLen, want, got)
		}
	}
}

// lastFlowMod returns the last FLOW_MOD the switch received, with its xid
// zeroed (ovs-ofctl sends more requests first, so its xids are higher).
func lastFlowMod(sw *fakeswitch.Switch) []byte {
	rs := sw.Received()
	for i := len(rs) - 1; i >= 0; i-- {
		if rs[i].Msg.Type() == openflow.TypeFlowMod {
			b := append([]byte(nil), rs[i].Raw...)
			copy(b[4:8], []byte{0, 0, 0, 0})
			return b
		}
	}
	return nil
}

// TestOVSFlowModBytes checks that ofctl sends byte for byte the FLOW_MOD
// ovs-ofctl sends for the same command and flow.
func TestOVSFlowModBytes(t *testing.T) {
	bin := needOVS(t)
	sw := fakeswitch.New()
	target := startTCP(t, sw)
	tests := []struct {
		cmd  []string
		flow string
	}{
		{[]string{"add-flow"}, "in_port=1,actions=output:2"},
		{[]string{"add-flow"}, "priority=10,ip,nw_src=10.0.0.0/8,nw_dst=192.168.1.1,actions=output:2,CONTROLLER"},
		{[]string{"add-flow"}, "cookie=0x1234,table=3,idle_timeout=5,hard_timeout=10,send_flow_rem,tcp6,ipv6_src=2001:db8::/32,tp_dst=443 actions=goto_table:4"},
		{[]string{"add-flow"}, "udp,dl_src=00:11:22:33:44:55/ff:ff:ff:00:00:00,dl_vlan=10,dl_vlan_pcp=3,tp_src=68,tp_dst=67 actions=pop_vlan,NORMAL"},
		{[]string{"add-flow"}, "arp,arp_op=1,arp_spa=10.0.0.1,arp_tpa=10.0.0.0/24,arp_sha=00:00:00:00:00:01 actions=FLOOD"},
		{[]string{"add-flow"}, "icmp6,icmp_type=135,nd_target=fe80::1,nd_sll=00:01:02:03:04:05 actions=LOCAL"},
		{[]string{"add-flow"}, "icmp,icmp_type=8,icmp_code=0,nw_tos=16,nw_ecn=1 actions=controller:128"},
		{[]string{"add-flow"}, "metadata=0x5/0xff,tun_id=0x10,in_port=LOCAL actions=write_actions(output:3),write_metadata:0x1/0x3,goto_table:2"},
		{[]string{"add-flow"}, "mpls,mpls_label=100,mpls_tc=1,mpls_bos=1 actions=pop_mpls:0x0800,output:1"},
		{[]string{"add-flow"}, "vlan_tci=0x1000/0x1000 actions=push_vlan:0x8100,set_field:4196->vlan_vid,output:1"},
		{[]string{"add-flow"}, "ip actions=mod_nw_src:1.2.3.4,set_field:10.0.0.1->ip_dst,mod_nw_tos:8,dec_ttl,group:1"},
		{[]string{"add-flow"}, "sctp,tp_dst=9 actions=meter:1,set_queue:2,output:1"},
		{[]string{"add-flow"}, "priority=0 actions="},
		{[]string{"del-flows"}, ""},
		{[]string{"del-flows"}, "in_port=1"},
		{[]string{"del-flows"}, "table=2,cookie=0x10/0xf0,out_port=3,tcp"},
		{[]string{"del-flows", "--strict"}, "priority=5,in_port=1"},
		{[]string{"mod-flows"}, "in_port=1,actions=output:3"},
		{[]string{"mod-flows"}, "cookie=0x5/0xff,table=1,in_port=1,actions=drop"},
		{[]string{"mod-flows", "--strict"}, "priority=7,ip actions=output:3"},
	}
	for _, tc := range tests {
		args := append(append([]string(nil), tc.cmd...), target)
		if tc.flow != "" {
			args = append(args, tc.flow)
		}
		if _, code := runOVS(t, bin, args...); code != 0 {
			t.Errorf("ovs-ofctl %v failed", args)
			continue
		}
		want := lastFlowMod(sw)
		if _, errs, code := ofctl(t, "", "", args...); code != 0 {
			t.Errorf("ofctl %v: %s", args, errs)
			continue
		}
		if got := lastFlowMod(sw); !bytes.Equal(got, want) {
			t.Errorf("%v:\novs-ofctl sends %x\n    ofctl sends %x", args, want, got)
		}
	}
}
