package tests

// ofctl against the real switchd: bulk flow loading, groups and meters,
// replace-flows and diff-flows, packet-out and monitor.

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// ofctlLong runs ofctl with a long deadline and the given stdin.
func (s *switchd) ofctlLong(stdin string, d time.Duration, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	cmd := exec.CommandContext(ctx, filepath.Join(binDir, "ofctl"), append([]string{"--run-dir", s.runDir}, args...)...)
	cmd.Stdin = strings.NewReader(stdin)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

func TestOfctlAddDelFlows100k(t *testing.T) {
	h1 := newHost(t, "10.81.0.1")
	sw := startSwitchd(t, "--port", "1="+h1.swPort)
	const n = 100000
	var b strings.Builder
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, "priority=%d,ip,nw_dst=10.%d.%d.%d actions=output:1\n", 100+i%7, i>>16, (i>>8)&255, i&255)
	}
	start := time.Now()
	if out, err := sw.ofctlLong(b.String(), 5*time.Minute, "add-flows", "br0", "-"); err != nil {
		t.Fatalf("add-flows of %d flows: %v\n%s", n, err, out)
	}
	t.Logf("add-flows: %d flows in %v (%.0f flows/s)", n, time.Since(start), n/time.Since(start).Seconds())
	out, err := sw.ofctlLong("", time.Minute, "dump-aggregate", "br0")
	if err != nil || !strings.Contains(out, fmt.Sprintf("flow_count=%d", n)) {
		t.Errorf("dump-aggregate after add-flows: %v\n%s", err, out)
	}
	start = time.Now()
	out, err = sw.ofctlLong("", 5*time.Minute, "--no-stats", "dump-flows", "br0")
	if err != nil || strings.Count(out, "\n") != n {
		t.Errorf("dump-flows: %v, %d lines", err, strings.Count(out, "\n"))
	}
	t.Logf("dump-flows: %d flows in %v", n, time.Since(start))
	// Deleting them is linear: it used to rescan a subtable per rule and
	// outlast the connection's inactivity timeout.
	start = time.Now()
	if out, err := sw.ofctlLong("", 5*time.Minute, "del-flows", "br0"); err != nil {
		t.Fatalf("del-flows of %d flows: %v\n%s", n, err, out)
	}
	t.Logf("del-flows: %d flows in %v", n, time.Since(start))
	if out := sw.mustOfctl("dump-aggregate", "br0"); !strings.Contains(out, "flow_count=0") {
		t.Errorf("after del-flows: %s", out)
	}
}

func TestOfctlGroupsMeters(t *testing.T) {
	h1, h2 := newHost(t, "10.82.0.1"), newHost(t, "10.82.0.2")
	sw := startSwitchd(t, "--port", "1="+h1.swPort, "--port", "2="+h2.swPort)
	groups := []string{
		"group_id=1,type=select,bucket=weight:10,actions=output:1,bucket=weight:20,actions=output:2",
		"group_id=2,type=all,bucket=actions=output:1,bucket=actions=output:2",
		"group_id=3,type=indirect,bucket=actions=set_field:00:00:00:00:00:01->eth_dst,output:2",
		"group_id=4,type=ff,bucket=watch_port:1,actions=output:1,bucket=watch_port:2,actions=output:2",
	}
	for _, g := range groups {
		sw.mustOfctl("add-group", "br0", g)
	}
	dump := sw.mustOfctl("dump-groups", "br0")
	for _, g := range groups {
		if !strings.Contains(dump, " "+g+"\n") {
			t.Errorf("dump-groups lacks %s:\n%s", g, dump)
		}
	}
	if ovs, err := sw.ovsOfctl("dump-groups"); err == nil && ovs != dump {
		t.Errorf("dump-groups differs from ovs-ofctl's:\novs-ofctl:\n%s\nofctl:\n%s", ovs, dump)
	}
	sw.mustOfctl("mod-group", "br0", "group_id=2,type=all,bucket=actions=output:2")
	if d := sw.mustOfctl("dump-groups", "br0"); !strings.Contains(d, " group_id=2,type=all,bucket=actions=output:2\n") {
		t.Errorf("mod-group not applied:\n%s", d)
	}
	if out, err := sw.ofctl("add-group", "br0", groups[0]); err == nil || !strings.Contains(out, "OFPGMFC_GROUP_EXISTS") {
		t.Errorf("duplicate add-group: %v %s", err, out)
	}
	meters := []string{
		"meter=1 kbps burst stats bands=\ntype=drop rate=1000 burst_size=100\n",
		"meter=2 pktps bands=\ntype=drop rate=10\n",
	}
	sw.mustOfctl("add-meter", "br0", "meter=1,kbps,burst,stats,band=type=drop,rate=1000,burst_size=100")
	sw.mustOfctl("add-meter", "br0", "meter=2,pktps,band=type=drop,rate=10")
	md := sw.mustOfctl("dump-meters", "br0")
	for _, m := range meters {
		if !strings.Contains(md, m) {
			t.Errorf("dump-meters lacks %q:\n%s", m, md)
		}
	}
	if ovs, err := sw.ovsOfctl("dump-meters"); err == nil && ovs != md {
		t.Errorf("dump-meters differs from ovs-ofctl's:\novs-ofctl:\n%s\nofctl:\n%s", ovs, md)
	}
	sw.mustOfctl("add-flow", "br0", "priority=5,in_port=1 actions=meter:2,group:2")
	if d := sw.mustOfctl("--no-stats", "dump-flows", "br0"); !strings.Contains(d, "actions=meter:2,group:2") {
		t.Errorf("flow with meter and group:\n%s", d)
	}
	for _, cmd := range [][]string{{"dump-group-stats", "br0"}, {"meter-stats", "br0"}, {"dump-group-features", "br0"},
		{"meter-features", "br0"}, {"dump-table-features", "br0"}} {
		if out, err := sw.ofctl(cmd...); err != nil {
			t.Errorf("%v: %v\n%s", cmd, err, out)
		}
	}
	sw.mustOfctl("del-flows", "br0")
	sw.mustOfctl("del-groups", "br0")
	sw.mustOfctl("del-meters", "br0")
	if d := sw.mustOfctl("dump-groups", "br0"); strings.Contains(d, "group_id") {
		t.Errorf("groups left after del-groups:\n%s", d)
	}
	if d := sw.mustOfctl("dump-meters", "br0"); strings.Contains(d, "meter=") {
		t.Errorf("meters left after del-meters:\n%s", d)
	}
}

func TestOfctlReplaceDiffFlows(t *testing.T) {
	h1, h2 := newHost(t, "10.83.0.1"), newHost(t, "10.83.0.2")
	sw := startSwitchd(t, "--port", "1="+h1.swPort, "--port", "2="+h2.swPort)
	sw.mustOfctl("add-flow", "br0", "priority=10,in_port=1 actions=output:2")
	sw.mustOfctl("add-flow", "br0", "priority=10,in_port=2 actions=output:1")
	sw.mustOfctl("add-flow", "br0", "table=1,priority=1 actions=drop")
	file := filepath.Join(t.TempDir(), "flows")
	os.WriteFile(file, []byte("priority=10,in_port=1 actions=output:2\npriority=10,in_port=2 actions=CONTROLLER:128,output:1\n"+
		"cookie=0x9,priority=20,ip,nw_dst=10.83.0.2 actions=output:2\n"), 0o644)
	out, err := sw.ofctl("diff-flows", "br0", file)
	if code := exitCode(err); code != 2 {
		t.Errorf("diff-flows before replace-flows: exit %d\n%s", code, out)
	}
	for _, want := range []string{"-table=1 priority=1 actions=drop", "-priority=10,in_port=2 actions=output:1",
		"+priority=10,in_port=2 actions=CONTROLLER:128,output:1", "+priority=20,ip,nw_dst=10.83.0.2 cookie=0x9 actions=output:2"} {
		if !strings.Contains(out, want+"\n") {
			t.Errorf("diff-flows lacks %q:\n%s", want, out)
		}
	}
	sw.mustOfctl("replace-flows", "br0", file)
	if out, err := sw.ofctl("diff-flows", "br0", file); err != nil || out != "" {
		t.Errorf("diff-flows after replace-flows: %v\n%s", err, out)
	}
	if !h1.ping(h2.ip, 2) {
		t.Errorf("no ping through the replaced flows\n%s", sw.mustOfctl("dump-flows", "br0"))
	}
}

func exitCode(err error) int {
	if ee, ok := err.(*exec.ExitError); ok {
		return ee.ExitCode()
	}
	if err != nil {
		return -1
	}
	return 0
}

func rxPackets(t *testing.T, h *host) int {
	t.Helper()
	out := run(t, "ip", "netns", "exec", h.ns, "cat", "/sys/class/net/eth0/statistics/rx_packets")
	n, _ := strconv.Atoi(strings.TrimSpace(out))
	return n
}

func TestOfctlPacketOut(t *testing.T) {
	h1, h2 := newHost(t, "10.84.0.1"), newHost(t, "10.84.0.2")
	sw := startSwitchd(t, "--port", "1="+h1.swPort, "--port", "2="+h2.swPort)
	// A broadcast ARP request for 10.84.0.2 from 02:00:00:00:00:01.
	arp := "ffffffffffff020000000001080600010800060400010200000000010a540001000000000000" + "0a540002"
	before := rxPackets(t, h2)
	sw.mustOfctl("packet-out", "br0", "in_port=CONTROLLER packet="+arp+" actions=output:2")
	sw.mustOfctl("packet-out", "br0", "1", "output:2", arp, arp)
	deadline := time.Now().Add(3 * time.Second)
	for rxPackets(t, h2) < before+3 && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	if got := rxPackets(t, h2) - before; got < 3 {
		t.Errorf("%s received %d packets from 3 packet-outs", h2.ns, got)
	}
	if out, err := sw.ofctl("packet-out", "br0", "in_port=1 packet=0102 actions=output:2"); exitCode(err) != 2 {
		t.Errorf("packet-out of a 2-byte packet: %v %s", err, out)
	}
}

func TestOfctlMonitor(t *testing.T) {
	h1, h2 := newHost(t, "10.85.0.1"), newHost(t, "10.85.0.2")
	sw := startSwitchd(t, "--port", "1="+h1.swPort, "--port", "2="+h2.swPort)
	sw.mustOfctl("add-flow", "br0", "priority=10,in_port=1 actions=CONTROLLER:128,output:2")
	sw.mustOfctl("add-flow", "br0", "priority=10,in_port=2 actions=output:1")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	mon := exec.CommandContext(ctx, filepath.Join(binDir, "ofctl"), "--run-dir", sw.runDir, "-t", "4", "monitor", "br0", "128")
	var out strings.Builder
	mon.Stdout, mon.Stderr = &out, &out
	if err := mon.Start(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(time.Second)
	h1.ping(h2.ip, 2)
	if err := mon.Wait(); err != nil {
		t.Errorf("monitor: %v\n%s", err, out.String())
	}
	s := out.String()
	if !strings.Contains(s, "OFPT_PACKET_IN (OF1.3)") || !strings.Contains(s, "in_port=1 (via action)") ||
		!(strings.Contains(s, "\narp,") || strings.Contains(s, "\nicmp,")) || !strings.Contains(s, "dl_src=") {
		t.Errorf("monitor did not print the packet-ins of the ping:\n%s", s)
	}
}
