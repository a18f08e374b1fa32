package tests

// The environment every integration test shares: the binaries built once,
// unique names, hosts in network namespaces, switchd processes and the
// clients that talk to them, and helpers that read their output.

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// binDir holds switchd and ofctl built once for the whole run.
var binDir string

func TestMain(m *testing.M) {
	if os.Geteuid() != 0 {
		fmt.Println("integration tests need root (network namespaces, DPDK); skipping")
		os.Exit(0)
	}
	dir, err := os.MkdirTemp("", "goko-it-bin-")
	if err != nil {
		fmt.Println(err)
		os.Exit(1)
	}
	cmd := exec.Command("go", "build", "-o", dir+"/", "../cmd/switchd", "../cmd/ofctl")
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	if err := cmd.Run(); err != nil {
		fmt.Println("build:", err)
		os.Exit(1)
	}
	binDir = dir
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// uniq makes names unique per test process so parallel runs never clash;
// interface names must stay within 15 bytes.
var (
	uniqMu sync.Mutex
	uniqN  int
)

func uniq(prefix string) string {
	uniqMu.Lock()
	defer uniqMu.Unlock()
	uniqN++
	return fmt.Sprintf("%s%d%d", prefix, os.Getpid()%10000, uniqN)
}

func run(t testing.TB, name string, args ...string) string {
	t.Helper()
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return string(out)
}

// host is a network namespace with one veth whose peer stays in the root
// namespace for switchd to open.
type host struct {
	ns     string // namespace name
	ip     string
	swPort string // the root-namespace end of the veth
}

// newHost creates a namespace with eth0 at ip/24, linked to a veth in the
// root namespace, and registers its removal.
func newHost(t testing.TB, ip string) *host {
	t.Helper()
	h := &host{ns: uniq("gkns"), ip: ip, swPort: uniq("gkv")}
	run(t, "ip", "netns", "add", h.ns)
	t.Cleanup(func() { exec.Command("ip", "netns", "del", h.ns).Run() })
	run(t, "ip", "link", "add", h.swPort, "type", "veth", "peer", "name", "eth0", "netns", h.ns)
	t.Cleanup(func() { exec.Command("ip", "link", "del", h.swPort).Run() })
	run(t, "ip", "-n", h.ns, "addr", "add", ip+"/24", "dev", "eth0")
	run(t, "ip", "-n", h.ns, "link", "set", "eth0", "up")
	run(t, "ip", "-n", h.ns, "link", "set", "lo", "up")
	run(t, "ip", "link", "set", h.swPort, "up")
	// af_packet ports do not emulate checksum offload.
	exec.Command("ip", "netns", "exec", h.ns, "ethtool", "-K", "eth0", "tx", "off").Run()
	return h
}

// ping sends count pings from h to ip and reports whether any reply came.
func (h *host) ping(ip string, count int) bool {
	err := exec.Command("ip", "netns", "exec", h.ns, "ping", "-c", fmt.Sprint(count), "-i", "0.2", "-W", "1", ip).Run()
	return err == nil
}

// switchd is a running switchd process.
type switchd struct {
	t       testing.TB
	cmd     *exec.Cmd
	runDir  string
	prefix  string
	ofPort  int
	bridge  string
	logMu   sync.Mutex
	log     bytes.Buffer
	exited  chan struct{}
	stopped bool
}

func freePort(t testing.TB) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// startSwitchd runs switchd with bridge br0, the given extra arguments, a
// passive listener on a free loopback port, and a private run dir and DPDK
// file prefix. It waits until the management socket accepts connections.
func startSwitchd(t testing.TB, args ...string) *switchd {
	t.Helper()
	s := &switchd{t: t, runDir: t.TempDir(), prefix: uniq("goko-it-"), ofPort: freePort(t), bridge: "br0", exited: make(chan struct{})}
	return s.launch(args...)
}

// restartSwitchd starts a switchd on the run dir, DPDK file prefix, bridge
// and listener of old, which has exited.
func restartSwitchd(t testing.TB, old *switchd, args ...string) *switchd {
	t.Helper()
	s := &switchd{t: t, runDir: old.runDir, prefix: old.prefix, ofPort: old.ofPort, bridge: old.bridge, exited: make(chan struct{})}
	return s.launch(args...)
}

func (s *switchd) launch(args ...string) *switchd {
	t := s.t
	t.Helper()
	full := append([]string{"--bridge", s.bridge, "--datapath-id", "0x1",
		"--listen", fmt.Sprintf("ptcp:%d:127.0.0.1", s.ofPort),
		"--run-dir", s.runDir, "--dpdk-file-prefix", s.prefix, "--log-level", "debug"}, args...)
	s.cmd = exec.Command(filepath.Join(binDir, "switchd"), full...)
	stderr, err := s.cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	s.cmd.Stdout = s.cmd.Stderr
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			s.logMu.Lock()
			s.log.WriteString(sc.Text() + "\n")
			s.logMu.Unlock()
		}
		s.cmd.Wait()
		close(s.exited)
	}()
	t.Cleanup(func() {
		s.stop()
		// A switchd that was killed cannot clean up after itself; tests
		// that check the cleanup look before this runs.
		os.RemoveAll("/var/run/dpdk/" + s.prefix)
		if t.Failed() {
			t.Logf("switchd log:\n%s", s.logText())
		}
	})
	sock := filepath.Join(s.runDir, s.bridge+".mgmt")
	deadline := time.Now().Add(20 * time.Second)
	for {
		// Connect rather than stat: a switchd killed before may have left
		// its socket file behind.
		if c, err := net.DialTimeout("unix", sock, time.Second); err == nil {
			c.Close()
			return s
		}
		select {
		case <-s.exited:
			t.Fatalf("switchd exited during startup:\n%s", s.logText())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("switchd did not create %s:\n%s", sock, s.logText())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (s *switchd) logText() string {
	s.logMu.Lock()
	defer s.logMu.Unlock()
	return s.log.String()
}

// stop sends SIGTERM and waits; it kills the process if it hangs.
func (s *switchd) stop() {
	if s.stopped {
		return
	}
	s.stopped = true
	s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.exited:
	case <-time.After(15 * time.Second):
		s.t.Errorf("switchd did not exit within 15s of SIGTERM")
		s.cmd.Process.Kill()
		<-s.exited
	}
}

// ofctl runs goko's ofctl against this switchd's management socket.
func (s *switchd) ofctl(args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	full := append([]string{"--run-dir", s.runDir}, args...)
	out, err := exec.CommandContext(ctx, filepath.Join(binDir, "ofctl"), full...).CombinedOutput()
	return string(out), err
}

func (s *switchd) mustOfctl(args ...string) string {
	s.t.Helper()
	out, err := s.ofctl(args...)
	if err != nil {
		s.t.Fatalf("ofctl %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return out
}

// ovsOfctl runs Open vSwitch's ovs-ofctl against the TCP listener.
func (s *switchd) ovsOfctl(args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	full := append([]string{"-O", "OpenFlow13", args[0], fmt.Sprintf("tcp:127.0.0.1:%d", s.ofPort)}, args[1:]...)
	out, err := exec.CommandContext(ctx, "ovs-ofctl", full...).CombinedOutput()
	return string(out), err
}

var nPackets = regexp.MustCompile(`n_packets=(\d+)`)

// packetCounts returns the n_packets of every line of a dump-flows output.
func packetCounts(t *testing.T, dump string) []int {
	t.Helper()
	var out []int
	for _, m := range nPackets.FindAllStringSubmatch(dump, -1) {
		n, _ := strconv.Atoi(m[1])
		out = append(out, n)
	}
	return out
}
