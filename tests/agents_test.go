package tests

// Tenant networks run by agents: the model in an embedded etcd (netctl
// etcd), two hosts (network namespaces) each with its own switchd, and
// netctl agents that keep the switches in line with etcd: two on host A
// (a master and a standby, elected through an etcd lease), one on host B.
// Host A runs its security groups as filter programs (one per NIC, rules
// in maps), host B as flows. Four VMs in two VNIs, IPv4 and IPv6.
//
//	          hostA (switchd, vtep 192.0.2.1, sg-mode program)   hostB (switchd, vtep 192.0.2.2, flows)
//	vm1 10.7.0.1 fd07::1  vni 100, port 1                       port 1, vni 100  vm2 10.7.0.2 fd07::2
//	vm3 10.8.0.1          vni 200, port 2                       port 2, vni 200  vm4 10.8.0.2
//	                      port 10 vxlan ---- ulA ===== ulB ---- port 10 vxlan
//
// The agents run in the root namespace: they reach etcd on loopback and
// their switch through its management socket, a file path.

import (
	"fmt"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

type agentNet struct {
	t            *testing.T
	etcd         string
	hostA, hostB string
	swA, swB     *switchd
	swBArgs      []string
	vm1, vm2     *vm
	vm3, vm4     *vm
}

func (n *agentNet) netctl(args ...string) (string, error) {
	out, err := exec.Command(filepath.Join(binDir, "netctl"), append([]string{"--etcd", n.etcd}, args...)...).CombinedOutput()
	return string(out), err
}

func (n *agentNet) mustNetctl(args ...string) {
	n.t.Helper()
	if out, err := n.netctl(args...); err != nil {
		n.t.Fatalf("netctl %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

// startAgent runs netctl agent for a switch in the root namespace.
func (n *agentNet) startAgent(sw, id string) *bg {
	return startBg(n.t, exec.Command(filepath.Join(binDir, "netctl"), "--etcd", n.etcd, "agent", "--switch", sw, "--id", id, "--ttl", "1"),
		"agent started")
}

// setupVM6 is setupVM with IPv6 on: an address, and static neighbours
// (the switches answer ARP but not neighbour discovery).
func setupVM6(t *testing.T, ns, mac, ip, ip6 string, neigh map[string]string) *vm {
	v := setupVM(t, ns, mac, ip)
	nsRun(t, ns, "sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=0")
	nsRun(t, ns, "sysctl", "-qw", "net.ipv6.conf.eth0.disable_ipv6=0")
	nsRun(t, ns, "ip", "-6", "addr", "add", ip6+"/64", "dev", "eth0", "nodad")
	for a, m := range neigh {
		nsRun(t, ns, "ip", "-6", "neigh", "replace", a, "lladdr", m, "dev", "eth0", "nud", "permanent")
	}
	return v
}

func (v *vm) ping6(ip string, count int) bool {
	return nsExec(v.ns, "ping", "-6", "-c", fmt.Sprint(count), "-i", "0.2", "-W", "1", ip).Run() == nil
}

// eventually retries cond for up to d.
func eventually(d time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(d)
	for {
		if cond() {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func newAgentNet(t *testing.T) *agentNet {
	tenantBins(t)
	n := &agentNet{t: t}
	port := freePort(t)
	n.etcd = fmt.Sprintf("http://127.0.0.1:%d", port)
	startBg(t, exec.Command(filepath.Join(binDir, "netctl"), "etcd", "--data-dir", t.TempDir(),
		"--listen-client", n.etcd, "--listen-peer", fmt.Sprintf("http://127.0.0.1:%d", freePort(t))), "etcd serving")

	n.hostA, n.hostB = addNetns(t, "gkaA"), addNetns(t, "gkaB")
	vms := []string{addNetns(t, "gkav"), addNetns(t, "gkav"), addNetns(t, "gkav"), addNetns(t, "gkav")}
	vethInto(t, n.hostA, "ulA", n.hostB, "ulB")
	for _, h := range []struct{ ns, ifname string }{{n.hostA, "ulA"}, {n.hostB, "ulB"}} {
		nsRun(t, h.ns, "ip", "link", "set", h.ifname, "up")
		nsExec(h.ns, "sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=1").Run()
	}
	ulAMAC, ulBMAC := ifMAC(t, n.hostA, "ulA"), ifMAC(t, n.hostB, "ulB")
	vethInto(t, n.hostA, "vport1", vms[0], "eth0")
	vethInto(t, n.hostB, "vport1", vms[1], "eth0")
	vethInto(t, n.hostA, "vport2", vms[2], "eth0")
	vethInto(t, n.hostB, "vport2", vms[3], "eth0")
	for _, p := range []struct{ ns, ifname string }{{n.hostA, "vport1"}, {n.hostA, "vport2"}, {n.hostB, "vport1"}, {n.hostB, "vport2"}} {
		nsRun(t, p.ns, "ip", "link", "set", p.ifname, "up")
	}
	n.swA = startNsSwitchd(t, n.hostA, "--datapath-id", "0xa", "--port", "1=vport1", "--port", "2=vport2",
		"--port", "10=vxlan:local_ip=192.0.2.1/24,remote_ip=flow,underlay=ulA", "--neighbor", "192.0.2.2="+ulBMAC.String())
	n.swBArgs = []string{"--datapath-id", "0xb", "--port", "1=vport1", "--port", "2=vport2",
		"--port", "10=vxlan:local_ip=192.0.2.2/24,remote_ip=flow,underlay=ulB", "--neighbor", "192.0.2.1=" + ulAMAC.String()}
	n.swB = startNsSwitchd(t, n.hostB, n.swBArgs...)

	const m1, m2, m3, m4 = "52:54:00:07:00:01", "52:54:00:07:00:02", "52:54:00:08:00:01", "52:54:00:08:00:02"
	n.vm1 = setupVM6(t, vms[0], m1, "10.7.0.1", "fd07::1", map[string]string{"fd07::2": m2})
	n.vm2 = setupVM6(t, vms[1], m2, "10.7.0.2", "fd07::2", map[string]string{"fd07::1": m1})
	n.vm3 = setupVM(t, vms[2], m3, "10.8.0.1")
	n.vm4 = setupVM(t, vms[3], m4, "10.8.0.2")
	// The VMs' servers (setupVM's listen on 2222 among others): TCP 1500 and 2500 too.
	for _, v := range []*vm{n.vm1, n.vm2, n.vm3, n.vm4} {
		startBg(t, nsExec(v.ns, "python3", "-c", pyAgent, "1500,2500", "9998"), "agent ready")
	}

	n.mustNetctl("switch", "add", "hostA", "--target", "unix:"+filepath.Join(n.swA.runDir, "br0.mgmt"), "--vtep", "192.0.2.1", "--sg-mode", "program")
	n.mustNetctl("switch", "add", "hostB", "--target", "unix:"+filepath.Join(n.swB.runDir, "br0.mgmt"), "--vtep", "192.0.2.2")
	// sg-net: its members may ping each other (echo requests; the replies
	// come back through the connection table), over IPv4 and IPv6 (echo
	// request and reply: the connection table is IPv4 only).
	n.mustNetctl("sg", "add", "sg-net")
	n.mustNetctl("sg", "rule", "add", "sg-net", "--ip-proto", "icmp", "--icmp", "8", "--sg-members", "sg-net")
	n.mustNetctl("sg", "rule", "add", "sg-net", "--ip-proto", "icmpv6", "--icmp", "128", "--sg-members", "sg-net")
	n.mustNetctl("sg", "rule", "add", "sg-net", "--ip-proto", "icmpv6", "--icmp", "129", "--sg-members", "sg-net")
	n.mustNetctl("nic", "add", "--id", "vm1", "--mac", m1, "--ip", "10.7.0.1", "--ip", "fd07::1", "--vni", "100", "--switch", "hostA", "--port", "1", "--sg", "sg-net")
	n.mustNetctl("nic", "add", "--id", "vm2", "--mac", m2, "--ip", "10.7.0.2", "--ip", "fd07::2", "--vni", "100", "--switch", "hostB", "--port", "1", "--sg", "sg-net")
	n.mustNetctl("nic", "add", "--id", "vm3", "--mac", m3, "--ip", "10.8.0.1", "--vni", "200", "--switch", "hostA", "--port", "2", "--sg", "sg-net")
	n.mustNetctl("nic", "add", "--id", "vm4", "--mac", m4, "--ip", "10.8.0.2", "--vni", "200", "--switch", "hostB", "--port", "2", "--sg", "sg-net")
	return n
}

var receivedRe = regexp.MustCompile(`(\d+) packets transmitted, (\d+) received`)

// flowCount counts the flows of a switch.
func flowCount(t *testing.T, s *switchd) int {
	out := s.mustOfctl("dump-flows", "--no-stats", "br0")
	return strings.Count(out, "\n")
}

func TestTenantAgents(t *testing.T) {
	n := newAgentNet(t)
	a1 := n.startAgent("hostA", "a1")
	if !eventually(10*time.Second, func() bool { return strings.Contains(a1.output(), "leading") }) {
		t.Fatalf("agent a1 does not lead:\n%s", a1.output())
	}
	a2 := n.startAgent("hostA", "a2")
	b1 := n.startAgent("hostB", "b1")

	t.Run("agents program both hosts", func(t *testing.T) {
		if !eventually(15*time.Second, func() bool { return n.vm1.ping("10.7.0.2", 1) }) {
			t.Fatalf("vm1 cannot ping vm2 across the hosts\nA:\n%s\nB:\n%s", n.swA.mustOfctl("dump-flows", "br0"), n.swB.mustOfctl("dump-flows", "br0"))
		}
		if !n.vm2.ping("10.7.0.1", 2) || !eventually(5*time.Second, func() bool { return n.vm4.ping("10.8.0.1", 1) }) {
			t.Error("pings within the VNIs fail")
		}
		if n.vm1.ping("10.8.0.2", 1) {
			t.Error("vm1 reaches vm4 in another VNI")
		}
		if leads(a1) && leads(a2) {
			t.Error("two agents lead host A")
		}
	})

	t.Run("IPv6 and ICMP types", func(t *testing.T) {
		if !eventually(10*time.Second, func() bool { return n.vm1.ping6("fd07::2", 1) }) || !n.vm2.ping6("fd07::1", 1) {
			t.Fatal("no IPv6 ping between vm1 and vm2")
		}
		// Only echo requests are allowed in: with type 13 instead, pings stop.
		n.mustNetctl("sg", "rule", "del", "sg-net", "--ip-proto", "icmp", "--icmp", "8", "--sg-members", "sg-net")
		n.mustNetctl("sg", "rule", "add", "sg-net", "--ip-proto", "icmp", "--icmp", "13", "--sg-members", "sg-net")
		if !eventually(5*time.Second, func() bool { return !n.vm1.ping("10.7.0.2", 1) && !n.vm2.ping("10.7.0.1", 1) }) {
			t.Error("pings pass without an echo-request rule")
		}
		n.mustNetctl("sg", "rule", "del", "sg-net", "--ip-proto", "icmp", "--icmp", "13", "--sg-members", "sg-net")
		n.mustNetctl("sg", "rule", "add", "sg-net", "--ip-proto", "icmp", "--icmp", "8", "--sg-members", "sg-net")
		if !eventually(5*time.Second, func() bool { return n.vm1.ping("10.7.0.2", 1) && n.vm2.ping("10.7.0.1", 1) }) {
			t.Error("pings do not come back with the echo-request rule")
		}
	})

	t.Run("a port range costs no flow on the program host", func(t *testing.T) {
		before := flowCount(t, n.swA)
		n.mustNetctl("sg", "add", "sg-range")
		n.mustNetctl("sg", "rule", "add", "sg-range", "--ip-proto", "tcp", "--port", "1000-2000", "--sg-members", "sg-net")
		n.mustNetctl("nic", "sg", "add", "vm1", "sg-range")
		if !eventually(10*time.Second, func() bool { return n.vm2.connect("10.7.0.1", 1500) }) {
			t.Fatal("tcp 1500 (in 1000-2000) does not reach vm1")
		}
		if n.vm2.connect("10.7.0.1", 2500) {
			t.Error("tcp 2500 (outside 1000-2000) reaches vm1")
		}
		if after := flowCount(t, n.swA); after != before {
			t.Errorf("host A had %d flows, %d after a 1001-port range", before, after)
		}
		t.Logf("host A: %d flows for 2 NICs; filter programs:\n%s", before, n.swA.mustOfctl("dump-filter-progs", "br0"))
	})

	t.Run("remote group membership", func(t *testing.T) {
		n.mustNetctl("sg", "add", "sg-client")
		n.mustNetctl("sg", "add", "sg-admin")
		n.mustNetctl("sg", "rule", "add", "sg-admin", "--ip-proto", "tcp", "--port", "2222", "--sg-members", "sg-client")
		n.mustNetctl("nic", "sg", "add", "vm1", "sg-admin") // on the program host
		n.mustNetctl("nic", "sg", "add", "vm2", "sg-admin") // on the flows host
		if n.vm2.connect("10.7.0.1", 2222) || n.vm1.connect("10.7.0.2", 2222) {
			t.Fatal("tcp 2222 open before anyone is in sg-client")
		}
		n.mustNetctl("nic", "sg", "add", "vm2", "sg-client")
		if !eventually(10*time.Second, func() bool { return n.vm2.connect("10.7.0.1", 2222) }) {
			t.Error("vm2 joined sg-client but cannot reach vm1:2222")
		}
		if n.vm1.connect("10.7.0.2", 2222) {
			t.Error("vm1 (not in sg-client) reaches vm2:2222")
		}
		n.mustNetctl("nic", "sg", "add", "vm1", "sg-client")
		if !eventually(10*time.Second, func() bool { return n.vm1.connect("10.7.0.2", 2222) }) {
			t.Error("vm1 joined sg-client but cannot reach vm2:2222")
		}
		n.mustNetctl("nic", "sg", "del", "vm2", "sg-client")
		if !eventually(10*time.Second, func() bool { return !n.vm2.connect("10.7.0.1", 2222) }) {
			t.Error("vm2 left sg-client but still reaches vm1:2222")
		}
	})

	t.Run("the standby takes over from a killed master", func(t *testing.T) {
		// 60 pings, one every 50 ms, while the master dies.
		ping := exec.Command("ip", "netns", "exec", n.vm2.ns, "ping", "-c", "60", "-i", "0.05", "-W", "1", "10.7.0.1")
		var out strings.Builder
		ping.Stdout = &out
		if err := ping.Start(); err != nil {
			t.Fatal(err)
		}
		time.Sleep(500 * time.Millisecond)
		// a1 leads unless its lease (1 s) ran out under load on the way
		// here and a2 took over: kill whichever leads now, and wait for
		// the other's take-over, not for an earlier one.
		master, standby, mName, sName := a1, a2, "a1", "a2"
		if leads(a2) {
			master, standby, mName, sName = a2, a1, "a2", "a1"
			t.Logf("a2 took over from a1 before this test (terms: a1 %d, a2 %d)", strings.Count(a1.output(), "msg=leading"), strings.Count(a2.output(), "msg=leading"))
		}
		mark := len(standby.output())
		syscall.Kill(-master.cmd.Process.Pid, syscall.SIGKILL)
		start := time.Now()
		if !eventually(10*time.Second, func() bool { return strings.Contains(standby.output()[mark:], "resynced") }) {
			t.Fatalf("%s did not take over:\n%s", sName, standby.output())
		}
		t.Logf("%s took over %v after %s was killed", sName, time.Since(start).Round(10*time.Millisecond), mName)
		ping.Wait()
		m := receivedRe.FindStringSubmatch(out.String())
		if m == nil {
			t.Fatalf("ping output:\n%s", out.String())
		}
		sent, got := atoi(m[1]), atoi(m[2])
		if sent-got > 20 { // 20 pings are 1 s
			t.Errorf("%d of %d pings lost during the take-over", sent-got, sent)
		}
		t.Logf("pings during the take-over: %d sent, %d received", sent, got)
		// The take-over changed nothing on the switch.
		line := ""
		for _, l := range strings.Split(standby.output()[mark:], "\n") {
			if strings.Contains(l, "resynced") {
				line = l
			}
		}
		for _, want := range []string{"added=0", "deleted=0", "loaded=0", "map_writes=0"} {
			if !strings.Contains(line, want) {
				t.Errorf("take-over was not an empty diff: %s", line)
			}
		}
		// And the new master applies changes.
		n.mustNetctl("nic", "sg", "del", "vm1", "sg-range")
		if !eventually(10*time.Second, func() bool { return !n.vm2.connect("10.7.0.1", 1500) }) {
			t.Error("the new master did not apply a change")
		}
	})

	t.Run("a restarted switchd is restored by its agent", func(t *testing.T) {
		n.swB.stop()
		if n.vm1.ping("10.7.0.2", 1) {
			t.Fatal("ping works with host B's switchd down")
		}
		n.swB = startNsSwitchdIn(t, n.hostB, n.swB.runDir, n.swBArgs...)
		if !eventually(20*time.Second, func() bool { return n.vm1.ping("10.7.0.2", 1) }) {
			t.Fatalf("host B was not restored:\n%s", b1.output())
		}
		if !n.vm4.ping("10.8.0.1", 2) || !n.vm2.ping6("fd07::1", 1) {
			t.Error("host B restored only in part")
		}
	})
}

func atoi(s string) int { v, _ := strconv.Atoi(s); return v }

// leads reports whether an agent's log says it holds its switch: its last
// "leading" comes after its last "term ended".
func leads(a *bg) bool {
	out := a.output()
	return strings.LastIndex(out, "msg=leading") > strings.LastIndex(out, "msg=\"term ended\"")
}
