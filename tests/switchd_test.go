package tests

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestPingWithOfctl(t *testing.T) {
	h1, h2 := newHost(t, "10.77.0.1"), newHost(t, "10.77.0.2")
	sw := startSwitchd(t, "--port", "1="+h1.swPort, "--port", "2="+h2.swPort)

	if h1.ping(h2.ip, 2) {
		t.Fatal("ping succeeded with an empty flow table; OpenFlow 1.3 drops on table miss")
	}
	sw.mustOfctl("add-flow", "br0", "priority=10,in_port=1,actions=output:2")
	sw.mustOfctl("add-flow", "br0", "priority=10,in_port=2,actions=output:1")
	if !h1.ping(h2.ip, 3) {
		t.Fatalf("no ping through the switch\n%s", sw.mustOfctl("dump-flows", "br0"))
	}
	dump := sw.mustOfctl("dump-flows", "br0")
	counts := packetCounts(t, dump)
	if len(counts) != 2 {
		t.Fatalf("dump-flows shows %d flows, want 2:\n%s", len(counts), dump)
	}
	for _, n := range counts {
		if n < 3 {
			t.Errorf("n_packets = %d, want >= 3 (3 echo requests and replies):\n%s", n, dump)
		}
	}
	// Counters keep growing with traffic.
	h1.ping(h2.ip, 2)
	after := packetCounts(t, sw.mustOfctl("dump-flows", "br0"))
	if len(after) != 2 || after[0] <= counts[0] {
		t.Errorf("n_packets did not grow: before %v after %v", counts, after)
	}

	sw.mustOfctl("del-flows", "br0")
	if out := sw.mustOfctl("dump-flows", "br0"); strings.Contains(out, "n_packets") {
		t.Fatalf("flows left after del-flows:\n%s", out)
	}
	if h1.ping(h2.ip, 2) {
		t.Fatal("ping still works after del-flows")
	}
}

func TestPingWithOvsOfctl(t *testing.T) {
	if _, err := exec.LookPath("ovs-ofctl"); err != nil {
		t.Skip("ovs-ofctl not installed (Debian package openvswitch-common)")
	}
	h1, h2 := newHost(t, "10.78.0.1"), newHost(t, "10.78.0.2")
	sw := startSwitchd(t, "--port", "1="+h1.swPort, "--port", "2="+h2.swPort)

	show, err := sw.ovsOfctl("show")
	if err != nil {
		t.Fatalf("ovs-ofctl show: %v\n%s", err, show)
	}
	for _, want := range []string{"dpid:0000000000000001", "n_tables:254", "1(" + h1.swPort + ")", "2(" + h2.swPort + ")"} {
		if !strings.Contains(show, want) {
			t.Errorf("ovs-ofctl show lacks %q:\n%s", want, show)
		}
	}
	for _, f := range []string{"priority=10,in_port=1,actions=output:2", "priority=10,in_port=2,actions=output:1",
		"priority=20,tcp,nw_dst=10.78.0.0/24,tp_dst=9,actions=drop"} {
		if out, err := sw.ovsOfctl("add-flow", f); err != nil {
			t.Fatalf("ovs-ofctl add-flow %s: %v\n%s", f, err, out)
		}
	}
	if !h1.ping(h2.ip, 3) {
		t.Fatal("no ping through the switch with flows from ovs-ofctl")
	}
	dump, err := sw.ovsOfctl("dump-flows")
	if err != nil {
		t.Fatalf("ovs-ofctl dump-flows: %v\n%s", err, dump)
	}
	counts := packetCounts(t, dump)
	if len(counts) != 3 {
		t.Fatalf("ovs-ofctl dump-flows shows %d flows, want 3:\n%s", len(counts), dump)
	}
	if !strings.Contains(dump, "tcp,nw_dst=10.78.0.0/24,tp_dst=9 actions=drop") {
		t.Errorf("dump-flows does not show the tcp rule as added:\n%s", dump)
	}
	// goko's ofctl sees the same flows.
	if ours := sw.mustOfctl("dump-flows", "br0"); len(packetCounts(t, ours)) != 3 {
		t.Errorf("ofctl dump-flows disagrees with ovs-ofctl:\n%s\n%s", ours, dump)
	}
	ports, err := sw.ovsOfctl("dump-ports")
	if err != nil {
		t.Fatalf("ovs-ofctl dump-ports: %v\n%s", err, ports)
	}
	if !regexp.MustCompile(`port +1: rx pkts=[1-9]`).MatchString(ports) {
		t.Errorf("dump-ports shows no received packets on port 1:\n%s", ports)
	}
	if out, err := sw.ovsOfctl("del-flows"); err != nil {
		t.Fatalf("ovs-ofctl del-flows: %v\n%s", err, out)
	}
	if h1.ping(h2.ip, 2) {
		t.Fatal("ping still works after ovs-ofctl del-flows")
	}
}

func TestBadFlowStringAndMissingInterface(t *testing.T) {
	h1, h2 := newHost(t, "10.79.0.1"), newHost(t, "10.79.0.2")
	missing := uniq("gkmiss")
	sw := startSwitchd(t, "--port", "1="+h1.swPort, "--port", "2="+missing, "--port", "3="+h2.swPort)

	// The missing interface is reported clearly, and the switch carries on.
	deadline := time.Now().Add(5 * time.Second)
	for !strings.Contains(sw.logText(), missing) && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	// slog's text handler quotes the error, escaping its inner quotes.
	if log := sw.logText(); !strings.Contains(log, `kernel interface \"`+missing+`\" does not exist`) {
		t.Errorf("no clear error for the missing interface in the log:\n%s", log)
	}

	for _, bad := range []string{
		"in_port=1,nw_dst=10.0.0.0/33,actions=output:2",
		"in_port=1,actions=output:",
		"in_prot=1,actions=drop",
		"tcp_dst=80,actions=drop",
	} {
		out, err := sw.ofctl("add-flow", "br0", bad)
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.ExitCode() != 2 {
			t.Errorf("ofctl add-flow %q: err %v, want exit status 2\n%s", bad, err, out)
		}
		if !strings.Contains(out, "ofctl:") || len(strings.TrimSpace(out)) < 20 {
			t.Errorf("ofctl add-flow %q: unclear error %q", bad, out)
		}
	}

	sw.mustOfctl("add-flow", "br0", "in_port=1,actions=output:3")
	sw.mustOfctl("add-flow", "br0", "in_port=3,actions=output:1")
	if !h1.ping(h2.ip, 3) {
		t.Fatalf("ports 1 and 3 do not forward while port 2 is missing\n%s", sw.logText())
	}
	// The port comes back once its interface exists.
	run(t, "ip", "link", "add", missing, "type", "veth", "peer", "name", missing+"p")
	t.Cleanup(func() { exec.Command("ip", "link", "del", missing).Run() })
	run(t, "ip", "link", "set", missing, "up")
	deadline = time.Now().Add(15 * time.Second)
	for {
		if out := sw.mustOfctl("show", "br0"); strings.Contains(out, "2("+missing+")") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("port 2 was not added after its interface appeared:\n%s", sw.mustOfctl("show", "br0"))
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func TestSigtermCleansUp(t *testing.T) {
	h1, h2 := newHost(t, "10.80.0.1"), newHost(t, "10.80.0.2")
	sw := startSwitchd(t, "--port", "1="+h1.swPort, "--port", "2="+h2.swPort)
	sw.mustOfctl("add-flow", "br0", "actions=flood")
	if !h1.ping(h2.ip, 2) {
		t.Fatal("no ping with a flood rule")
	}
	runtimeDir := "/var/run/dpdk/" + sw.prefix
	if _, err := os.Stat(runtimeDir); err != nil {
		t.Fatalf("DPDK runtime dir %s missing while running: %v", runtimeDir, err)
	}
	pid := sw.cmd.Process.Pid
	sw.cmd.Process.Signal(os.Interrupt) // SIGINT here; the cleanup sends SIGTERM
	select {
	case <-sw.exited:
	case <-time.After(15 * time.Second):
		t.Fatal("switchd did not exit on SIGINT")
	}
	sw.stopped = true
	if code := sw.cmd.ProcessState.ExitCode(); code != 0 {
		t.Errorf("exit code %d, want 0:\n%s", code, sw.logText())
	}
	if err := exec.Command("kill", "-0", strconv.Itoa(pid)).Run(); err == nil {
		t.Errorf("process %d still exists", pid)
	}
	if _, err := os.Stat(runtimeDir); !os.IsNotExist(err) {
		t.Errorf("DPDK runtime dir %s left behind", runtimeDir)
	}
	if _, err := os.Stat(filepath.Join(sw.runDir, "br0.mgmt")); !os.IsNotExist(err) {
		t.Errorf("management socket left behind")
	}
}

func TestSigtermExitsCleanly(t *testing.T) {
	h1 := newHost(t, "10.81.0.1")
	sw := startSwitchd(t, "--port", "1="+h1.swPort)
	sw.stop()
	if code := sw.cmd.ProcessState.ExitCode(); code != 0 {
		t.Errorf("exit code after SIGTERM = %d, want 0:\n%s", code, sw.logText())
	}
	if _, err := os.Stat("/var/run/dpdk/" + sw.prefix); !os.IsNotExist(err) {
		t.Errorf("DPDK runtime dir left behind after SIGTERM")
	}
}

// TestPingTwoPMDs runs the bridge with two poll-mode threads: each polls
// one of the ports and transmits on the other through its own queue.
func TestPingTwoPMDs(t *testing.T) {
	h1, h2 := newHost(t, "10.82.0.1"), newHost(t, "10.82.0.2")
	metrics := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	sw := startSwitchd(t, "--pmds", "2", "--metrics", metrics, "--port", "1="+h1.swPort, "--port", "2="+h2.swPort)
	sw.mustOfctl("add-flow", "br0", "in_port=1,actions=output:2")
	sw.mustOfctl("add-flow", "br0", "in_port=2,actions=output:1")
	if !h1.ping(h2.ip, 3) || !h2.ping(h1.ip, 3) {
		t.Fatalf("no ping with two pmds:\n%s", sw.logText())
	}
	if counts := packetCounts(t, sw.mustOfctl("dump-flows", "br0")); len(counts) != 2 || counts[0] < 6 || counts[1] < 6 {
		t.Errorf("counters with two pmds: %v", counts)
	}
	resp, err := http.Get("http://" + metrics + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !regexp.MustCompile(`goko_port_rx_packets_total\{bridge="br0",port="1",name="`+h1.swPort+`"\} [1-9]`).Match(body) ||
		!regexp.MustCompile(`goko_table_matches_total\{bridge="br0",table="0"\} [1-9]`).Match(body) {
		t.Errorf("metrics do not show the traffic:\n%s", body)
	}
}

// TestKernelPortFanoutCollision: DPDK 22.11's af_packet joins a
// PACKET_FANOUT group whose id is the process id XOR the interface index.
// When another process's socket in the namespace holds that id on another
// interface (one switchd per Mininet switch made this happen at random),
// the kernel refuses the port; switchd then attaches it through af_xdp.
// The collision is made on purpose: a socket takes the id switchd will
// use for an interface created between two of its retries.
func TestKernelPortFanoutCollision(t *testing.T) {
	h1, h3 := newHost(t, "10.81.0.1"), newHost(t, "10.81.0.3")
	late, ns := uniq("gkfo"), uniq("gkfons")
	sw := startSwitchd(t, "--port", "1="+h1.swPort, "--port", "2="+late)
	sw.mustOfctl("add-flow", "br0", "actions=flood")
	// wait for a retry to fail, so that the next one is 5 s away
	deadline := time.Now().Add(10 * time.Second)
	for strings.Count(sw.logText(), "port still unavailable") == 0 {
		if time.Now().After(deadline) {
			t.Fatalf("switchd never retried port 2:\n%s", sw.logText())
		}
		time.Sleep(20 * time.Millisecond)
	}
	run(t, "ip", "netns", "add", ns)
	t.Cleanup(func() { exec.Command("ip", "netns", "del", ns).Run() })
	run(t, "ip", "link", "add", late, "type", "veth", "peer", "name", late+"p", "netns", ns)
	t.Cleanup(func() { exec.Command("ip", "link", "del", late).Run() })
	run(t, "ip", "-n", ns, "addr", "add", "10.81.0.2/24", "dev", late+"p")
	run(t, "ip", "-n", ns, "link", "set", late+"p", "up")
	run(t, "ip", "link", "set", late, "up")
	idx, err := os.ReadFile("/sys/class/net/" + late + "/ifindex")
	if err != nil {
		t.Fatal(err)
	}
	ifindex, _ := strconv.Atoi(strings.TrimSpace(string(idx)))
	id := (sw.cmd.Process.Pid ^ ifindex) & 0xffff
	// AF_PACKET, SOCK_RAW, ETH_P_ALL; SOL_PACKET, PACKET_FANOUT (hash mode)
	holder := exec.Command("python3", "-c", fmt.Sprintf(`import socket, sys, time
s = socket.socket(17, 3, socket.htons(3))
s.bind((%q, 0))
s.setsockopt(263, 18, %d)
print("held", flush=True)
sys.stdin.read()`, h3.swPort, id))
	stdin, _ := holder.StdinPipe()
	out, _ := holder.StdoutPipe()
	if err := holder.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { stdin.Close(); holder.Wait() })
	if line, err := bufio.NewReader(out).ReadString('\n'); err != nil || line != "held\n" {
		t.Fatalf("could not take fanout group %d: %q %v", id, line, err)
	}
	deadline = time.Now().Add(15 * time.Second)
	for !strings.Contains(sw.mustOfctl("show", "br0"), "2("+late+")") {
		if time.Now().After(deadline) {
			t.Fatalf("port 2 was not added:\n%s", sw.logText())
		}
		time.Sleep(200 * time.Millisecond)
	}
	log := sw.logText()
	if !strings.Contains(log, "PACKET_FANOUT") || !strings.Contains(log, "attached through af_xdp instead") {
		t.Errorf("expected af_packet to be refused and af_xdp to be used:\n%s", log)
	}
	reached := false
	for i := 0; i < 5 && !reached; i++ {
		reached = h1.ping("10.81.0.2", 1)
	}
	if !reached {
		t.Errorf("no ping through the af_xdp port:\n%s", sw.logText())
	}
}
