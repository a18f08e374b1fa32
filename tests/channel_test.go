package tests

// The controller channel: TLS with ovs-ofctl and os-ken (certificates made
// by Open vSwitch's ovs-pki), fail-secure behaviour when the controller
// dies and comes back, and a restart after kill -9.

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// pki is a set of certificates made by ovs-pki: a switch CA and a
// controller CA, a switch and a controller certificate, and a certificate
// from another PKI that neither side trusts.
type pki struct {
	dir                          string
	swKey, swCert, ctlCA         string // what the switch uses
	ctlKey, ctlCert, swCA        string // what a controller uses
	rogueKey, rogueCert, rogueCA string
}

func newPKI(t *testing.T) *pki {
	t.Helper()
	if _, err := exec.LookPath("ovs-pki"); err != nil {
		t.Skip("ovs-pki not installed (Debian package openvswitch-pki)")
	}
	dir := t.TempDir()
	pkiRun := func(args ...string) {
		cmd := exec.Command("ovs-pki", args...)
		cmd.Dir = dir
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("ovs-pki %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	pkiRun("--dir="+dir+"/pki", "init")
	pkiRun("--dir="+dir+"/pki", "req+sign", "sw", "switch")
	pkiRun("--dir="+dir+"/pki", "req+sign", "ctl", "controller")
	pkiRun("--dir="+dir+"/rogue", "init")
	pkiRun("--dir="+dir+"/rogue", "req+sign", "rogue", "controller")
	p := func(name string) string { return filepath.Join(dir, name) }
	return &pki{dir: dir,
		swKey: p("sw-privkey.pem"), swCert: p("sw-cert.pem"), ctlCA: p("pki/controllerca/cacert.pem"),
		ctlKey: p("ctl-privkey.pem"), ctlCert: p("ctl-cert.pem"), swCA: p("pki/switchca/cacert.pem"),
		rogueKey: p("rogue-privkey.pem"), rogueCert: p("rogue-cert.pem"), rogueCA: p("rogue/switchca/cacert.pem"),
	}
}

func (p *pki) switchArgs() []string {
	return []string{"--private-key", p.swKey, "--certificate", p.swCert, "--ca-cert", p.ctlCA}
}

// TestTLSWithOvsOfctl: ovs-ofctl with a controller certificate programs the
// switch over pssl:; one with a certificate from another PKI is refused;
// plain TCP keeps working beside TLS.
func TestTLSWithOvsOfctl(t *testing.T) {
	if _, err := exec.LookPath("ovs-ofctl"); err != nil {
		t.Skip("ovs-ofctl not installed")
	}
	p := newPKI(t)
	h1, h2 := newHost(t, "10.83.0.1"), newHost(t, "10.83.0.2")
	sslPort := freePort(t)
	sw := startSwitchd(t, append(p.switchArgs(), "--listen", fmt.Sprintf("pssl:%d", sslPort),
		"--port", "1="+h1.swPort, "--port", "2="+h2.swPort)...)
	target := fmt.Sprintf("ssl:127.0.0.1:%d", sslPort)
	ovsSSL := func(key, cert, ca string, args ...string) (string, error) {
		full := append([]string{"-O", "OpenFlow13", "--private-key", key, "--certificate", cert, "--ca-cert", ca,
			args[0], target}, args[1:]...)
		cmd := exec.Command("ovs-ofctl", full...)
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	for _, f := range []string{"in_port=1,actions=output:2", "in_port=2,actions=output:1"} {
		if out, err := ovsSSL(p.ctlKey, p.ctlCert, p.swCA, "add-flow", f); err != nil {
			t.Fatalf("ovs-ofctl add-flow over TLS: %v\n%s", err, out)
		}
	}
	out, err := ovsSSL(p.ctlKey, p.ctlCert, p.swCA, "dump-flows")
	if err != nil || strings.Count(out, "actions=output") != 2 {
		t.Fatalf("ovs-ofctl dump-flows over TLS: %v\n%s", err, out)
	}
	if !h1.ping(h2.ip, 3) {
		t.Fatal("no ping through the flows added over TLS")
	}
	// A certificate the switch's CA did not sign.
	if out, err := ovsSSL(p.rogueKey, p.rogueCert, p.swCA, "add-flow", "priority=99,actions=drop"); err == nil {
		t.Fatalf("ovs-ofctl with a rogue certificate was accepted:\n%s", out)
	}
	// A controller that does not trust the switch's CA refuses the switch.
	if out, err := ovsSSL(p.ctlKey, p.ctlCert, p.rogueCA, "add-flow", "priority=99,actions=drop"); err == nil {
		t.Fatalf("ovs-ofctl accepted a switch its CA did not sign:\n%s", out)
	}
	if !strings.Contains(sw.logText(), "TLS handshake failed") {
		t.Errorf("the refused handshakes were not logged:\n%s", sw.logText())
	}
	// Plain TCP beside TLS; the drop flow never went in.
	out, err = sw.ovsOfctl("dump-flows")
	if err != nil || strings.Contains(out, "priority=99") || strings.Count(out, "actions=output") != 2 {
		t.Fatalf("dump-flows over TCP: %v\n%s", err, out)
	}
}

// TestTLSWithOsKen: switchd connects out over ssl: to os-ken, which
// requires the switch's certificate; the L2 app then makes the hosts reach
// each other.
func TestTLSWithOsKen(t *testing.T) {
	if _, err := exec.LookPath("osken-manager"); err != nil {
		t.Skip("osken-manager not installed (Debian package python3-os-ken)")
	}
	p := newPKI(t)
	sslPort, tcpPort := freePort(t), freePort(t)
	ctl := startController(t, sslPort, "osken-manager", "--ofp-ssl-listen-port", fmt.Sprint(sslPort),
		"--ofp-tcp-listen-port", fmt.Sprint(tcpPort), "--ofp-listen-host", "127.0.0.1",
		"--ctl-privkey", p.ctlKey, "--ctl-cert", p.ctlCert, "--ca-certs", p.swCA, "osken_l2.py")
	hosts := threeHosts(t, "10.84.0")
	args := append(p.switchArgs(), "--controller", fmt.Sprintf("ssl:127.0.0.1:%d", sslPort))
	for i, h := range hosts {
		args = append(args, "--port", fmt.Sprintf("%d=%s", i+1, h.swPort))
	}
	sw := startSwitchd(t, args...)
	waitConnected(t, sw)
	pingMesh(t, sw, hosts...)
	if out := ctl.output(); !strings.Contains(out, "configured") {
		t.Errorf("the app never configured the switch:\n%s", out)
	}
}

// stop ends a controller started by startController, as a crash would.
func (c *controller) stop(t *testing.T) {
	syscall.Kill(-c.cmd.Process.Pid, syscall.SIGKILL)
	select {
	case <-c.done:
	case <-time.After(10 * time.Second):
		t.Fatal("controller did not die")
	}
}

// TestFailSecure: when the controller dies, the flows it installed stay and
// keep forwarding (fail-secure, OpenFlow 1.3.5 section 6.3.3); when it comes
// back, the switch reconnects and the flows are still there.
func TestFailSecure(t *testing.T) {
	if _, err := exec.LookPath("osken-manager"); err != nil {
		t.Skip("osken-manager not installed (Debian package python3-os-ken)")
	}
	port := freePort(t)
	startOsKen := func() *controller {
		return startController(t, port, "osken-manager", "--ofp-tcp-listen-port", fmt.Sprint(port),
			"--ofp-listen-host", "127.0.0.1", "osken_l2.py")
	}
	ctl := startOsKen()
	hosts := []*host{newHost(t, "10.85.0.1"), newHost(t, "10.85.0.2")}
	sw := switchdWithController(t, port, hosts)
	pingMesh(t, sw, hosts...)
	learned := sw.mustOfctl("dump-flows", "br0", "table=1")
	if strings.Count(learned, "dl_dst=") < 2 {
		t.Fatalf("the controller installed no learned flows:\n%s", learned)
	}

	ctl.stop(t)
	deadline := time.Now().Add(20 * time.Second)
	for !strings.Contains(sw.logText(), "controller connection lost") {
		if time.Now().After(deadline) {
			t.Fatalf("switchd did not notice the controller's death:\n%s", sw.logText())
		}
		time.Sleep(100 * time.Millisecond)
	}
	// No controller: the learned flows keep forwarding.
	for i := 0; i < 3; i++ {
		if !hosts[0].ping(hosts[1].ip, 3) || !hosts[1].ping(hosts[0].ip, 3) {
			t.Fatalf("no forwarding without the controller (round %d)\n%s", i, sw.mustOfctl("dump-flows", "br0"))
		}
		time.Sleep(500 * time.Millisecond)
	}

	startOsKen()
	deadline = time.Now().Add(30 * time.Second)
	for strings.Count(sw.logText(), "connected to controller") < 2 {
		if time.Now().After(deadline) {
			t.Fatalf("switchd did not reconnect:\n%s", sw.logText())
		}
		time.Sleep(100 * time.Millisecond)
	}
	// The flows survived the reconnection.
	after := sw.mustOfctl("dump-flows", "br0", "table=1")
	for _, line := range strings.Split(strings.TrimSpace(learned), "\n") {
		i := strings.Index(line, "dl_dst=")
		if i < 0 {
			continue
		}
		if mac := strings.Fields(line[i:])[0]; !strings.Contains(after, mac) {
			t.Errorf("learned flow %s gone after the reconnection:\n%s", mac, after)
		}
	}
	pingMesh(t, sw, hosts...)
}

// TestFailModeStandaloneRefused: standalone needs NORMAL, which goko lacks;
// switchd says so and exits instead of running in a mode it cannot honour.
func TestFailModeStandaloneRefused(t *testing.T) {
	out, err := exec.Command(filepath.Join(binDir, "switchd"), "--bridge", "br0", "--run-dir", t.TempDir(),
		"--fail-mode", "standalone").CombinedOutput()
	if err == nil || !strings.Contains(string(out), "NORMAL") || !strings.Contains(string(out), "fail-mode secure") {
		t.Fatalf("switchd --fail-mode standalone: %v\n%s", err, out)
	}
}

// TestRestartAfterKill9: a switchd killed with SIGKILL leaves its
// management socket and DPDK runtime directory behind; a new switchd on the
// same run directory, DPDK file prefix and bridge starts and forwards.
func TestRestartAfterKill9(t *testing.T) {
	h1, h2 := newHost(t, "10.86.0.1"), newHost(t, "10.86.0.2")
	ports := []string{"--port", "1=" + h1.swPort, "--port", "2=" + h2.swPort}
	sw := startSwitchd(t, ports...)
	sw.mustOfctl("add-flow", "br0", "actions=flood")
	if !h1.ping(h2.ip, 2) {
		t.Fatal("no ping before the kill")
	}
	sw.cmd.Process.Signal(syscall.SIGKILL)
	<-sw.exited
	sw.stopped = true
	sock := filepath.Join(sw.runDir, "br0.mgmt")
	for _, left := range []string{sock, "/var/run/dpdk/" + sw.prefix} {
		if _, err := os.Stat(left); err != nil {
			t.Logf("%s did not stay behind after kill -9 (%v); the restart is checked anyway", left, err)
		}
	}
	again := restartSwitchd(t, sw, ports...)
	out := again.mustOfctl("show", "br0")
	if !strings.Contains(out, h1.swPort) || !strings.Contains(out, h2.swPort) {
		t.Fatalf("ports missing after the restart:\n%s", out)
	}
	again.mustOfctl("add-flow", "br0", "actions=flood")
	if !h1.ping(h2.ip, 3) {
		t.Fatalf("no ping after the restart:\n%s", again.logText())
	}
}
