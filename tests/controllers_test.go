package tests

// Real controllers driving goko: Open vSwitch's ovs-testcontroller and an
// os-ken application of goko's own (osken_l2.py). Each makes three hosts in
// network namespaces reach each other through a switchd that connects out
// to the controller. They skip when the controller is not installed
// (Debian packages openvswitch-testcontroller and python3-os-ken).

import (
	"bytes"
	"fmt"
	"net"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// controller is a running controller process with its output captured.
type controller struct {
	cmd  *exec.Cmd
	mu   sync.Mutex
	out  bytes.Buffer
	done chan struct{}
}

func (c *controller) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.out.Write(p)
}

func (c *controller) output() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.out.String()
}

// startController runs name with args and waits until it listens on port.
func startController(t *testing.T, port int, name string, args ...string) *controller {
	t.Helper()
	c := &controller{cmd: exec.Command(name, args...), done: make(chan struct{})}
	c.cmd.Stdout, c.cmd.Stderr = c, c
	c.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := c.cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", name, err)
	}
	go func() { c.cmd.Wait(); close(c.done) }()
	t.Cleanup(func() {
		syscall.Kill(-c.cmd.Process.Pid, syscall.SIGTERM)
		select {
		case <-c.done:
		case <-time.After(5 * time.Second):
			syscall.Kill(-c.cmd.Process.Pid, syscall.SIGKILL)
			<-c.done
		}
		if t.Failed() {
			t.Logf("%s output:\n%s", name, c.output())
		}
	})
	deadline := time.Now().Add(20 * time.Second)
	for {
		conn, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", port), 200*time.Millisecond)
		if err == nil {
			conn.Close()
			return c
		}
		select {
		case <-c.done:
			t.Fatalf("%s exited:\n%s", name, c.output())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s does not listen on %d:\n%s", name, port, c.output())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// pingMesh checks that every host reaches every other one, allowing the
// controller a few attempts to learn the topology.
func pingMesh(t *testing.T, sw *switchd, hosts ...*host) {
	t.Helper()
	for i, a := range hosts {
		for j, b := range hosts {
			if i == j {
				continue
			}
			ok := false
			for try := 0; try < 5 && !ok; try++ {
				ok = a.ping(b.ip, 3)
			}
			if !ok {
				dump, _ := sw.ofctl("dump-flows", sw.bridge)
				t.Fatalf("%s cannot ping %s\nflows:\n%s", a.ip, b.ip, dump)
			}
		}
	}
}

// waitConnected waits until switchd logs its controller connection.
func waitConnected(t *testing.T, sw *switchd) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !strings.Contains(sw.logText(), "connected to controller") {
		if time.Now().After(deadline) {
			t.Fatalf("switchd did not connect to the controller:\n%s", sw.logText())
		}
		time.Sleep(100 * time.Millisecond)
	}
	time.Sleep(500 * time.Millisecond) // let the controller finish its handshake
}

func threeHosts(t *testing.T, subnet string) []*host {
	return []*host{newHost(t, subnet+".1"), newHost(t, subnet+".2"), newHost(t, subnet+".3")}
}

func switchdWithController(t *testing.T, port int, hosts []*host) *switchd {
	args := []string{"--controller", fmt.Sprintf("tcp:127.0.0.1:%d", port)}
	for i, h := range hosts {
		args = append(args, "--port", fmt.Sprintf("%d=%s", i+1, h.swPort))
	}
	sw := startSwitchd(t, args...)
	waitConnected(t, sw)
	return sw
}

func TestOvsTestController(t *testing.T) {
	if _, err := exec.LookPath("ovs-testcontroller"); err != nil {
		t.Skip("ovs-testcontroller not installed (Debian package openvswitch-testcontroller)")
	}
	port := freePort(t)
	// --unixctl: its default control socket lives under /var/run/openvswitch,
	// which exists only where the OVS daemons are installed.
	startController(t, port, "ovs-testcontroller", "-O", "OpenFlow13", "--unixctl="+t.TempDir()+"/ctl",
		fmt.Sprintf("ptcp:%d:127.0.0.1", port))
	hosts := threeHosts(t, "10.81.0")
	sw := switchdWithController(t, port, hosts)
	pingMesh(t, sw, hosts...)
}

func TestOsKenL2(t *testing.T) {
	if _, err := exec.LookPath("osken-manager"); err != nil {
		t.Skip("osken-manager not installed (Debian package python3-os-ken)")
	}
	port := freePort(t)
	ctl := startController(t, port, "osken-manager", "--ofp-tcp-listen-port", fmt.Sprint(port),
		"--ofp-listen-host", "127.0.0.1", "osken_l2.py")
	hosts := threeHosts(t, "10.82.0")
	sw := switchdWithController(t, port, hosts)
	pingMesh(t, sw, hosts...)
	out := ctl.output()
	if !strings.Contains(out, "configured") {
		t.Errorf("the app never configured the switch:\n%s", out)
	}
	if strings.Contains(out, "switch error") {
		t.Errorf("the switch answered the app with errors:\n%s", out)
	}
	if !strings.Contains(out, "with buffer") {
		t.Errorf("no packet-in carried a buffer id (table-miss max_len is 64):\n%s", out)
	}
}
