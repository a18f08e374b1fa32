package tests

// Filter programs end to end: the examples of examples/bpf compiled with
// clang, loaded into a running switchd with ofctl load-filter-prog,
// attached to flows with filter_prog, fed real traffic between network
// namespaces (ping, TCP handshakes from the namespaces' own kernels, UDP
// streams), and their verdicts checked through what arrives and the flow
// counters, their maps through ofctl dump-map. TestFilterReloadUnderTraffic
// replaces a program 20 times while a UDP stream flows and counts every
// datagram.
//
// Traffic that ping and bash cannot make comes from this test binary
// itself, run inside a namespace with GOKO_FILTERS_HELPER set (see
// runHelper): a UDP sender and counting receiver, a TCP echo server, TCP
// connects and SYN bursts.

import (
	"bufio"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

const helperEnv = "GOKO_FILTERS_HELPER"

func init() {
	// A helper process: do the job and exit before the tests (and
	// TestMain) start.
	if mode := os.Getenv(helperEnv); mode != "" {
		os.Exit(runHelper(mode, os.Args[1:]))
	}
}

// compileFilter compiles a C filter with clang as examples/bpf/Makefile
// does, or skips the test when clang or libbpf's headers are missing. src
// is a path; extra are more clang arguments (-D...).
func compileFilter(t testing.TB, src string, extra ...string) string {
	t.Helper()
	clang, err := exec.LookPath("clang")
	if err != nil {
		t.Skip("clang not installed")
	}
	if _, err := os.Stat("/usr/include/bpf/bpf_helpers.h"); err != nil {
		t.Skip("libbpf headers (libbpf-dev) not installed")
	}
	arch := map[string]string{"amd64": "x86_64", "arm64": "aarch64"}[runtime.GOARCH]
	out := filepath.Join(t.TempDir(), strings.TrimSuffix(filepath.Base(src), ".c")+".o")
	args := append([]string{"-O2", "-g", "-Wall", "-Werror", "-target", "bpf",
		"-I/usr/include/" + arch + "-linux-gnu", "-I../ubpf/include"}, extra...)
	args = append(args, "-c", src, "-o", out)
	if b, err := exec.Command(clang, args...).CombinedOutput(); err != nil {
		t.Fatalf("clang %s: %v\n%s", src, err, b)
	}
	return out
}

func example(t testing.TB, name string) string {
	return compileFilter(t, filepath.Join("..", "examples", "bpf", name+".c"))
}

// setFlows replaces the bridge's flows: an ARP flood flow plus flows.
func (s *switchd) setFlows(flows ...string) {
	s.t.Helper()
	s.mustOfctl("del-flows", s.bridge)
	s.mustOfctl("add-flow", s.bridge, "priority=100,arp,actions=FLOOD")
	for _, f := range flows {
		s.mustOfctl("add-flow", s.bridge, f)
	}
}

// flowPackets returns n_packets of the one flow whose dump-flows line
// contains match.
func (s *switchd) flowPackets(match string) int {
	s.t.Helper()
	dump := s.mustOfctl("dump-flows", s.bridge)
	var found []int
	for _, line := range strings.Split(dump, "\n") {
		if strings.Contains(line, match) {
			if m := nPackets.FindStringSubmatch(line); m != nil {
				n, _ := strconv.Atoi(m[1])
				found = append(found, n)
			}
		}
	}
	if len(found) != 1 {
		s.t.Fatalf("%d flows contain %q:\n%s", len(found), match, dump)
	}
	return found[0]
}

// mapEntry is one entry of `ofctl dump-map --json`.
type mapEntry struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

func (e mapEntry) value(t testing.TB) []byte {
	b, err := hex.DecodeString(e.Value)
	if err != nil {
		t.Fatalf("value %q: %v", e.Value, err)
	}
	return b
}

// dumpMap returns a map's entries by hex key.
func (s *switchd) dumpMap(prog int, name string) map[string]mapEntry {
	s.t.Helper()
	out := s.mustOfctl("dump-map", s.bridge, strconv.Itoa(prog), name, "--json")
	var d struct {
		Entries []mapEntry `json:"entries"`
	}
	if err := json.Unmarshal([]byte(out), &d); err != nil {
		s.t.Fatalf("dump-map %d %s --json: %v\n%s", prog, name, err, out)
	}
	m := map[string]mapEntry{}
	for _, e := range d.Entries {
		m[e.Key] = e
	}
	return m
}

// mapValue returns the value under key (hex) or fails.
func (s *switchd) mapValue(prog int, name, key string) []byte {
	s.t.Helper()
	e, ok := s.dumpMap(prog, name)[key]
	if !ok {
		s.t.Fatalf("map %s of program %d has no key %s:\n%s", name, prog, key,
			s.mustOfctl("dump-map", s.bridge, strconv.Itoa(prog), name, "--hex"))
	}
	return e.value(s.t)
}

// ipHex is an IPv4 address as dump-map --json prints a 4-byte key.
func ipHex(ip string) string { return hex.EncodeToString(net.ParseIP(ip).To4()) }

func le64At(b []byte, off int) uint64 { return binary.LittleEndian.Uint64(b[off:]) }

// helper is a helper process running in a namespace.
type helper struct {
	t     testing.TB
	cmd   *exec.Cmd
	stdin io.WriteCloser
	lines chan string
	done  chan struct{}
	out   strings.Builder
	mu    sync.Mutex
}

// startHelper runs this test binary as helper MODE in namespace ns and
// waits for it to print "ready".
func startHelper(t testing.TB, ns, mode string, args ...string) *helper {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	h := &helper{t: t, lines: make(chan string, 100), done: make(chan struct{})}
	h.cmd = exec.Command("ip", append([]string{"netns", "exec", ns, exe}, args...)...)
	h.cmd.Env = append(os.Environ(), helperEnv+"="+mode)
	h.cmd.Stderr = os.Stderr
	if h.stdin, err = h.cmd.StdinPipe(); err != nil {
		t.Fatal(err)
	}
	stdout, err := h.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := h.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			h.mu.Lock()
			h.out.WriteString(sc.Text() + "\n")
			h.mu.Unlock()
			select {
			case h.lines <- sc.Text():
			default:
			}
		}
		h.cmd.Wait()
		close(h.done)
	}()
	t.Cleanup(func() {
		select {
		case <-h.done:
		default:
			h.cmd.Process.Kill()
			<-h.done
		}
	})
	select {
	case l := <-h.lines:
		if l != "ready" {
			t.Fatalf("helper %s: %q", mode, l)
		}
	case <-h.done:
		t.Fatalf("helper %s exited: %s", mode, h.output())
	case <-time.After(10 * time.Second):
		t.Fatalf("helper %s not ready", mode)
	}
	return h
}

func (h *helper) output() string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.out.String()
}

// stop closes the helper's stdin (its signal to finish) and returns its
// last output line.
func (h *helper) stop() string {
	h.t.Helper()
	h.stdin.Close()
	select {
	case <-h.done:
	case <-time.After(10 * time.Second):
		h.t.Fatalf("helper did not stop")
	}
	lines := strings.Split(strings.TrimSpace(h.output()), "\n")
	return lines[len(lines)-1]
}

// runHelperOnce runs helper MODE in namespace ns to completion and returns
// its output.
func runHelperOnce(t testing.TB, ns, mode string, args ...string) string {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("ip", append([]string{"netns", "exec", ns, exe}, args...)...)
	cmd.Env = append(os.Environ(), helperEnv+"="+mode)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("helper %s %v: %v\n%s", mode, args, err, out)
	}
	return strings.TrimSpace(string(out))
}

// udpStream sends count datagrams of size bytes at pps from src to
// dst:port and returns how many arrived (receiver in dstNS).
func udpStream(t testing.TB, src *host, dst *host, port, count, pps, size int) int {
	t.Helper()
	rx := startHelper(t, dst.ns, "udp-recv", strconv.Itoa(port))
	runHelperOnce(t, src.ns, "udp-send", fmt.Sprintf("%s:%d", dst.ip, port), strconv.Itoa(count), strconv.Itoa(pps), strconv.Itoa(size))
	var n, dup int
	if _, err := fmt.Sscanf(rx.stop(), "received %d duplicates %d", &n, &dup); err != nil {
		t.Fatalf("udp-recv output: %q", rx.output())
	}
	if dup != 0 {
		t.Errorf("%d duplicated datagrams", dup)
	}
	return n
}

// tcpConnect tries a TCP connection (and one echo) from h to ip:port:
// "ok", "refused" or "timeout".
func tcpConnect(t testing.TB, h *host, ip string, port int) string {
	return runHelperOnce(t, h.ns, "tcp-connect", fmt.Sprintf("%s:%d", ip, port), "1000")
}

// runHelper is the helper process: it returns the exit code.
func runHelper(mode string, args []string) int {
	fail := func(err error) int { fmt.Fprintln(os.Stderr, mode+":", err); return 1 }
	atoi := func(i int) int {
		if i >= len(args) {
			return 0
		}
		n, _ := strconv.Atoi(args[i])
		return n
	}
	switch mode {
	case "udp-send": // DST:PORT COUNT PPS SIZE
		c, err := net.Dial("udp", args[0])
		if err != nil {
			return fail(err)
		}
		count, pps, size := atoi(1), atoi(2), max(atoi(3), 8)
		buf := make([]byte, size)
		start := time.Now()
		for i := 0; i < count; i++ {
			if d := time.Until(start.Add(time.Duration(i) * time.Second / time.Duration(pps))); d > 0 {
				time.Sleep(d)
			}
			binary.BigEndian.PutUint64(buf, uint64(i))
			if _, err := c.Write(buf); err != nil {
				return fail(err)
			}
		}
		fmt.Println("sent", count)
	case "udp-recv": // PORT; counts until stdin closes, then 500 ms more
		c, err := net.ListenPacket("udp", ":"+args[0])
		if err != nil {
			return fail(err)
		}
		stop := make(chan struct{})
		go func() { io.Copy(io.Discard, os.Stdin); time.Sleep(500 * time.Millisecond); close(stop) }()
		fmt.Println("ready")
		seen := map[uint64]bool{}
		dup := 0
		buf := make([]byte, 65536)
		for {
			select {
			case <-stop:
				fmt.Printf("received %d duplicates %d\n", len(seen), dup)
				return 0
			default:
			}
			c.SetReadDeadline(time.Now().Add(50 * time.Millisecond))
			n, _, err := c.ReadFrom(buf)
			if err != nil || n < 8 {
				continue
			}
			seq := binary.BigEndian.Uint64(buf)
			if seen[seq] {
				dup++
			}
			seen[seq] = true
		}
	case "tcp-serve": // PORT; echoes lines until stdin closes
		ln, err := net.Listen("tcp", ":"+args[0])
		if err != nil {
			return fail(err)
		}
		go func() {
			for {
				c, err := ln.Accept()
				if err != nil {
					return
				}
				go func() { defer c.Close(); io.Copy(c, c) }()
			}
		}()
		fmt.Println("ready")
		io.Copy(io.Discard, os.Stdin)
		fmt.Println("done")
	case "tcp-connect": // DST:PORT TIMEOUT_MS
		fmt.Println(connect(args[0], time.Duration(atoi(1))*time.Millisecond))
	case "syn-burst": // DST:PORT N TIMEOUT_MS: N connection attempts
		res := map[string]int{}
		for i := 0; i < atoi(1); i++ {
			res[connect(args[0], time.Duration(atoi(2))*time.Millisecond)]++
		}
		fmt.Printf("ok %d refused %d timeout %d\n", res["ok"], res["refused"], res["timeout"])
	default:
		return fail(errors.New("unknown helper mode"))
	}
	return 0
}

// connect dials addr and echoes one line: "ok", "refused" or "timeout".
func connect(addr string, timeout time.Duration) string {
	c, err := net.DialTimeout("tcp", addr, timeout)
	if err != nil {
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			return "timeout"
		}
		return "refused"
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(timeout))
	if _, err := c.Write([]byte("ping\n")); err != nil {
		return "refused"
	}
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil || line != "ping\n" {
		return "timeout"
	}
	return "ok"
}

// TestFilterExamples runs every example of examples/bpf in a switch
// between an outside host (port 1) and an inside host (port 2).
func TestFilterExamples(t *testing.T) {
	if _, err := exec.LookPath("clang"); err != nil {
		t.Skip("clang not installed")
	}
	out, in := newHost(t, "10.86.0.1"), newHost(t, "10.86.0.2")
	sw := startSwitchd(t, "--port", "1="+out.swPort, "--port", "2="+in.swPort)
	br := sw.bridge
	load := func(t *testing.T, id int, name string) {
		t.Helper()
		got := sw.mustOfctl("load-filter-prog", br, strconv.Itoa(id), example(t, name))
		if !strings.Contains(got, fmt.Sprintf("filter program %d loaded: name=%s", id, name)) {
			t.Fatalf("load-filter-prog %s:\n%s", name, got)
		}
		t.Cleanup(func() {
			sw.mustOfctl("del-flows", br)
			sw.mustOfctl("unload-filter-prog", br, strconv.Itoa(id))
		})
	}
	back := "priority=10,in_port=2,actions=output:1" // the inside answers freely

	t.Run("ratelimit", func(t *testing.T) {
		load(t, 1, "ratelimit")
		sw.mustOfctl("update-map", br, "1", "config", "0", "u64:5,u64:5") // 5/s, burst 5
		sw.setFlows("priority=20,udp,in_port=1,filter_prog=1,actions=output:2",
			"priority=15,udp,in_port=1,actions=drop", back)
		got := udpStream(t, out, in, 7001, 300, 300, 64) // 1 s
		passed, limited := sw.flowPackets("filter_prog=1"), sw.flowPackets("priority=15")
		if got < 8 || got > 15 || passed != got || passed+limited != 300 {
			t.Fatalf("received %d of 300 (want about 5 + 5/s x 1 s); flows: %d passed, %d limited", got, passed, limited)
		}
		b := sw.mapValue(1, "buckets", ipHex(out.ip))
		if le64At(b, 16) != uint64(passed) || le64At(b, 24) != uint64(limited) {
			t.Errorf("bucket %x: passed %d limited %d, flows say %d and %d", b, le64At(b, 16), le64At(b, 24), passed, limited)
		}
	})

	t.Run("firewall", func(t *testing.T) {
		load(t, 2, "firewall")
		sw.setFlows("priority=20,ip,in_port=1,filter_prog=2,actions=output:2", back)
		if !out.ping(in.ip, 2) {
			t.Fatal("no ping with empty blocklists")
		}
		sw.mustOfctl("update-map", br, "2", "deny_src", out.ip, "0")
		if out.ping(in.ip, 3) {
			t.Fatal("ping passes with its source blocked")
		}
		if hits := le64At(sw.mapValue(2, "deny_src", ipHex(out.ip)), 0); hits < 3 {
			t.Errorf("deny_src hit counter %d, want >= 3", hits)
		}
		sw.mustOfctl("delete-map-entry", br, "2", "deny_src", out.ip)
		if !out.ping(in.ip, 2) {
			t.Fatal("no ping after the source was unblocked")
		}
		sw.mustOfctl("update-map", br, "2", "deny_port", "u8:17,u8:0,be16:7002", "0")
		if n := udpStream(t, out, in, 7002, 20, 200, 64); n != 0 {
			t.Errorf("%d datagrams to the blocked udp/7002 arrived", n)
		}
		if n := udpStream(t, out, in, 7003, 20, 200, 64); n != 20 {
			t.Errorf("%d of 20 datagrams to udp/7003 arrived", n)
		}
		if hits := le64At(sw.mapValue(2, "deny_port", "11001b5a"), 0); hits != 20 {
			t.Errorf("deny_port udp/7002 counted %d, want 20", hits)
		}
	})

	t.Run("conntrack", func(t *testing.T) {
		load(t, 3, "conntrack")
		sw.mustOfctl("update-map", br, "3", "inside", "lpm:"+in.ip+"/32", "1")
		sw.setFlows("priority=20,tcp,in_port=1,filter_prog=3,actions=output:2",
			"priority=20,tcp,in_port=2,filter_prog=3,actions=output:1",
			"priority=15,tcp,actions=drop",
			"priority=10,in_port=1,actions=output:2", back)
		srvOut := startHelper(t, out.ns, "tcp-serve", "7100")
		srvIn := startHelper(t, in.ns, "tcp-serve", "7101")
		if r := tcpConnect(t, in, out.ip, 7100); r != "ok" {
			t.Errorf("inside -> outside connection: %s, want ok", r)
		}
		if r := tcpConnect(t, out, in.ip, 7101); r != "timeout" {
			t.Errorf("outside -> inside connection: %s, want timeout (SYN dropped)", r)
		}
		srvOut.stop()
		srvIn.stop()
		conns := sw.dumpMap(3, "conns")
		var established int
		for k, e := range conns {
			v := e.value(t)
			if strings.HasPrefix(k, ipHex(in.ip)+ipHex(out.ip)) && strings.HasSuffix(k, "1bbc") { // outside port 7100
				if st := binary.LittleEndian.Uint32(v); st < 3 {
					t.Errorf("connection %s in state %d, want ESTABLISHED (3) or CLOSING (4)", k, st)
				}
				established++
			}
		}
		if established != 1 {
			t.Errorf("%d tracked connections to port 7100, want 1:\n%s", established, sw.mustOfctl("dump-map", br, "3", "conns", "--hex"))
		}
		if blocked := le64At(sw.mapValue(3, "stats", "03000000"), 0); blocked < 1 {
			t.Errorf("stats[IN_BLOCKED] = %d, want >= 1", blocked)
		}
	})

	t.Run("synflood", func(t *testing.T) {
		load(t, 4, "synflood")
		sw.mustOfctl("update-map", br, "4", "config", "0", "10") // 10 SYNs/s
		sw.setFlows("priority=30,tcp,in_port=1,filter_prog=4,actions=drop",
			"priority=10,in_port=1,actions=output:2", back)
		// 40 connection attempts to a closed port: the inside's kernel
		// answers RST at once until the detector drops the SYNs.
		res := runHelperOnce(t, out.ns, "syn-burst", in.ip+":7200", "40", "50")
		var ok, refused, timeouts int
		fmt.Sscanf(res, "ok %d refused %d timeout %d", &ok, &refused, &timeouts)
		if refused < 10 || timeouts < 1 {
			t.Fatalf("syn-burst: %s; want at least 10 refused (below the threshold) and some dropped", res)
		}
		o := sw.mapValue(4, "offenders", ipHex(out.ip))
		if dropped := sw.flowPackets("filter_prog=4"); le64At(o, 16) != uint64(dropped) || dropped < timeouts {
			t.Errorf("offender %x: dropped %d; the drop flow counted %d; %d attempts timed out", o, le64At(o, 16), dropped, timeouts)
		}
	})

	t.Run("heavyhitter", func(t *testing.T) {
		load(t, 5, "heavyhitter")
		sw.mustOfctl("update-map", br, "5", "config", "0", "5000")
		sw.setFlows("priority=20,ip,in_port=1,filter_prog=5,actions=output:2,send_maps(prog=5,map=hitters)", back)
		mon := exec.Command(filepath.Join(binDir, "ofctl"), "--run-dir", sw.runDir, "--hex", "--timeout", "3", "monitor", br)
		monOut := &strings.Builder{}
		mon.Stdout = monOut
		if err := mon.Start(); err != nil {
			t.Fatal(err)
		}
		time.Sleep(300 * time.Millisecond)
		if n := udpStream(t, out, in, 7005, 50, 50, 500); n != 50 {
			t.Errorf("%d of 50 datagrams arrived", n)
		}
		mon.Wait()
		if !strings.Contains(monOut.String(), "map=hitters") || !strings.Contains(monOut.String(), "key=0x"+ipHex(out.ip)) {
			t.Errorf("monitor saw no MAP_CONTENTS of hitters with %s:\n%s", out.ip, monOut)
		}
		hit := le64At(sw.mapValue(5, "hitters", ipHex(out.ip)), 0)
		if hit < 50*542 {
			t.Errorf("hitters[%s] = %d bytes, want >= %d", out.ip, hit, 50*542)
		}
		// The controller's estimate from the raw counters (see
		// heavyhitter.c) is what the program last wrote to hitters.
		cms := map[uint32]uint64{}
		for k, e := range sw.dumpMap(5, "cms") {
			kb, _ := hex.DecodeString(k)
			cms[binary.LittleEndian.Uint32(kb)] = le64At(e.value(t), 0)
		}
		src := binary.LittleEndian.Uint32(net.ParseIP(out.ip).To4())
		est := ^uint64(0)
		for r, seed := range []uint32{0x00000000, 0x5bd1e995, 0x1b873593, 0xcc9e2d51} {
			est = min(est, cms[uint32(r)*256+((src^seed)*0x9e3779b1)>>24])
		}
		if est != hit {
			t.Errorf("estimate from dump-map cms = %d, hitters says %d", est, hit)
		}
	})

	t.Run("ddos", func(t *testing.T) {
		load(t, 6, "ddos")
		sw.setFlows("priority=20,ip,in_port=1,filter_prog=6,actions=output:2", back)
		if !out.ping(in.ip, 2) {
			t.Fatal("no ping with an empty blocklist")
		}
		zero := "0x" + strings.Repeat("00", 24)
		sw.mustOfctl("update-map", br, "6", "blocklist", "lpm:10.86.0.0/30", zero)
		if out.ping(in.ip, 3) {
			t.Fatal("ping passes from a blocked prefix")
		}
		v := sw.mapValue(6, "blocklist", "1e0000000a560000")
		if pk, by := le64At(v, 8), le64At(v, 16); pk < 3 || by != pk*98 {
			t.Errorf("blocked /30: %d packets, %d bytes; want >= 3 pings of 98 bytes", pk, by)
		}
		sw.mustOfctl("update-map", br, "6", "blocklist", "lpm:"+out.ip+"/32", "u32:1,u32:0,u64:0,u64:0")
		if !out.ping(in.ip, 2) {
			t.Fatal("no ping from an allowed /32 inside a blocked /30")
		}
		if pk := le64At(sw.mapValue(6, "blocklist", "200000000a560001"), 8); pk < 2 {
			t.Errorf("exception counted %d packets, want >= 2", pk)
		}
	})

	t.Run("p0f", func(t *testing.T) {
		load(t, 7, "p0f")
		sw.setFlows("priority=30,tcp,in_port=1,filter_prog=7,actions=output:2",
			"priority=10,in_port=1,actions=output:2", back)
		if r := tcpConnect(t, out, in.ip, 7300); r != "refused" {
			t.Fatalf("connect to a closed port: %s, want refused", r)
		}
		fp := sw.mapValue(7, "fingerprints", ipHex(out.ip))
		// struct fingerprint: os, ttl, df, wscale, window, mss, n_opts, ..., layout
		if fp[0] != 1 || fp[1] != 64 || fp[2] != 1 || binary.LittleEndian.Uint64(fp[16:]) != 0x24813 {
			t.Errorf("fingerprint of the namespace's Linux SYN: %x; want os 1 (Linux), ttl 64, DF, layout 0x24813", fp)
		}
		if n := sw.flowPackets("filter_prog=7"); n != 1 {
			t.Errorf("the p0f flow matched %d packets, want 1 SYN", n)
		}
		sw.mustOfctl("update-map", br, "7", "match_os", "0", "u32:4") // Windows only
		if r := tcpConnect(t, out, in.ip, 7300); r != "refused" {
			t.Fatalf("connect: %s, want refused (forwarded by the lower flow)", r)
		}
		if n := sw.flowPackets("filter_prog=7"); n != 1 {
			t.Errorf("the p0f flow matched %d packets after match_os=Windows, want still 1", n)
		}
	})

	t.Run("portknock", func(t *testing.T) {
		load(t, 8, "portknock")
		sw.setFlows("priority=20,ip,in_port=1,filter_prog=8,actions=output:2",
			"priority=15,ip,in_port=1,actions=drop", back)
		// Knocks on 7100, 7200, 7300; all traffic guarded; 5 s between
		// knocks; open for 30 s.
		sw.mustOfctl("update-map", br, "8", "config", "0", "u16:7100,u16:7200,u16:7300,u16:0,u32:5,u32:30")
		if out.ping(in.ip, 2) {
			t.Fatal("ping passes the closed gate")
		}
		run(t, "ip", "netns", "exec", out.ns, "bash", "-c",
			"for p in 7100 7300 7200; do echo knock > /dev/udp/"+in.ip+"/$p; sleep 0.05; done")
		if out.ping(in.ip, 1) {
			t.Fatal("ping passes after knocks in the wrong order")
		}
		run(t, "ip", "netns", "exec", out.ns, "bash", "-c",
			"for p in 7100 7200 7300; do echo knock > /dev/udp/"+in.ip+"/$p; sleep 0.05; done")
		if !out.ping(in.ip, 2) {
			t.Fatalf("no ping after knocking:\n%s", sw.mustOfctl("dump-map", br, "8", "gate", "--hex"))
		}
		if st := sw.mapValue(8, "gate", ipHex(out.ip)); binary.LittleEndian.Uint32(st) != 3 {
			t.Errorf("gate state %x, want stage 3", st)
		}
	})

	t.Run("xdp_proto", func(t *testing.T) {
		load(t, 9, "xdp_proto")
		sw.setFlows("priority=20,in_port=1,filter_prog=9,actions=output:2", back)
		if !out.ping(in.ip, 2) {
			t.Fatal("no ping through the XDP program")
		}
		sw.mustOfctl("update-map", br, "9", "drop_proto", "1", "1") // ICMP
		if out.ping(in.ip, 2) {
			t.Fatal("ping passes with ICMP dropped")
		}
		sw.mustOfctl("update-map", br, "9", "drop_proto", "1", "0")
		if !out.ping(in.ip, 2) {
			t.Fatal("no ping after ICMP was allowed again")
		}
		// rxcnt is per thread: the value is every slot's counter.
		var icmp uint64
		v := sw.mapValue(9, "rxcnt", "01000000")
		for i := 0; i+8 <= len(v); i += 8 {
			icmp += le64At(v, i)
		}
		if icmp < 6 {
			t.Errorf("rxcnt[ICMP] sums to %d, want >= 6", icmp)
		}
		// The same object loads into the kernel as XDP.
		veth := uniq("gkx")
		run(t, "ip", "link", "add", veth, "type", "veth", "peer", "name", veth+"p")
		defer exec.Command("ip", "link", "del", veth).Run()
		obj := example(t, "xdp_proto")
		if b, err := exec.Command("ip", "link", "set", "dev", veth, "xdpgeneric", "obj", obj, "sec", "xdp").CombinedOutput(); err != nil {
			t.Skipf("the kernel refused XDP here (%v: %s); goko's part passed", err, b)
		}
		if show := run(t, "ip", "link", "show", veth); !strings.Contains(show, "prog/xdp") {
			t.Errorf("no XDP program attached in the kernel:\n%s", show)
		}
	})

	t.Run("counters", func(t *testing.T) {
		load(t, 1, "firewall")
		sw.setFlows("priority=20,ip,in_port=1,filter_prog=1,actions=output:2", back)
		out.ping(in.ip, 3)
		dump := sw.mustOfctl("dump-filter-progs", br, "1")
		m := regexp.MustCompile(`(?m)^1\s+firewall\s+\d+\s+2\s+(\d+)\s+(\d+)\s+(\d+)\s+([\d.]+)`).FindStringSubmatch(dump)
		if m == nil {
			t.Fatalf("dump-filter-progs:\n%s", dump)
		}
		runs, _ := strconv.Atoi(m[1])
		matches, _ := strconv.Atoi(m[2])
		ns, _ := strconv.ParseFloat(m[4], 64)
		if runs < 3 || matches != runs || m[3] != "0" || ns <= 0 {
			t.Errorf("counters runs=%s matches=%s errors=%s ns/run=%s, want >= 3 runs, all matching, no errors:\n%s", m[1], m[2], m[3], m[4], dump)
		}
	})
}

// versioned is the program TestFilterReloadUnderTraffic swaps: it matches
// everything and counts its runs under its own VERSION. NVERSIONS changes
// the map's declaration.
const versioned = `
#include <linux/types.h>
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <goko_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, NVERSIONS);
	__type(key, __u32);
	__type(value, __u64);
} runs SEC(".maps");

SEC("filter")
__u64 versioned(void *pkt, __u64 len)
{
	__u32 k = VERSION;
	__u64 *c = bpf_map_lookup_elem(&runs, &k);
	if (c)
		__sync_fetch_and_add(c, 1);
	return GOKO_MATCH;
}
`

// TestFilterReloadUnderTraffic reloads a filter program 20 times while a
// UDP stream goes through the flow that uses it: no datagram may be lost,
// every packet must be counted by exactly one version, and the map must
// keep its contents across reloads with an identical declaration and
// start empty when the declaration changes.
func TestFilterReloadUnderTraffic(t *testing.T) {
	if _, err := exec.LookPath("clang"); err != nil {
		t.Skip("clang not installed")
	}
	src := filepath.Join(t.TempDir(), "versioned.c")
	if err := os.WriteFile(src, []byte(versioned), 0o644); err != nil {
		t.Fatal(err)
	}
	v0 := compileFilter(t, src, "-DVERSION=0", "-DNVERSIONS=2")
	v1 := compileFilter(t, src, "-DVERSION=1", "-DNVERSIONS=2")
	v2 := compileFilter(t, src, "-DVERSION=2", "-DNVERSIONS=4")

	h1, h2 := newHost(t, "10.87.0.1"), newHost(t, "10.87.0.2")
	sw := startSwitchd(t, "--port", "1="+h1.swPort, "--port", "2="+h2.swPort)
	br := sw.bridge
	sw.mustOfctl("load-filter-prog", br, "1", v0)
	sw.setFlows("priority=20,udp,in_port=1,filter_prog=1,actions=output:2",
		"priority=10,in_port=1,actions=output:2", "priority=10,in_port=2,actions=output:1")
	if !h1.ping(h2.ip, 1) { // ARP resolved before the stream starts
		t.Fatal("no ping")
	}

	const count, pps = 6000, 2000 // 3 s of traffic
	rx := startHelper(t, h2.ns, "udp-recv", "7400")
	sent := make(chan string, 1)
	go func() {
		exe, _ := os.Executable()
		cmd := exec.Command("ip", "netns", "exec", h1.ns, exe, h2.ip+":7400", strconv.Itoa(count), strconv.Itoa(pps), "100")
		cmd.Env = append(os.Environ(), helperEnv+"=udp-send")
		out, err := cmd.CombinedOutput()
		if err != nil {
			out = append(out, []byte(err.Error())...)
		}
		sent <- strings.TrimSpace(string(out))
	}()
	time.Sleep(200 * time.Millisecond)
	for i := 0; i < 20; i++ {
		obj := v1
		if i%2 == 1 {
			obj = v0
		}
		if out, err := sw.ofctl("load-filter-prog", br, "1", obj); err != nil {
			t.Fatalf("reload %d: %v\n%s", i, err, out)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if s := <-sent; s != fmt.Sprint("sent ", count) {
		t.Fatalf("sender: %s", s)
	}
	var got, dup int
	fmt.Sscanf(rx.stop(), "received %d duplicates %d", &got, &dup)
	flow := sw.flowPackets("filter_prog=1")
	t.Logf("20 reloads under %d pps: %d of %d datagrams received, the filter flow counted %d", pps, got, count, flow)
	if got != count || dup != 0 {
		t.Errorf("received %d of %d datagrams (%d duplicates) across 20 reloads", got, count, dup)
	}
	if flow != count {
		t.Errorf("the filter flow counted %d packets, want %d (the lower-priority flow got the rest)", flow, count)
	}
	runs := sw.dumpMap(1, "runs")
	r0, r1 := le64At(runs["00000000"].value(t), 0), le64At(runs["01000000"].value(t), 0)
	if r0 == 0 || r1 == 0 || r0+r1 != count {
		t.Errorf("runs by version: v0 %d + v1 %d = %d, want %d with both versions used (the map kept across reloads)", r0, r1, r0+r1, count)
	}

	// A changed declaration (4 entries instead of 2) starts empty.
	sw.mustOfctl("load-filter-prog", br, "1", v2)
	for k, e := range sw.dumpMap(1, "runs") {
		if le64At(e.value(t), 0) != 0 {
			t.Errorf("after a reload with a changed map declaration runs[%s] = %x, want empty", k, e.Value)
		}
	}
	if n := udpStream(t, h1, h2, 7401, 10, 100, 100); n != 10 {
		t.Errorf("%d of 10 datagrams after the last reload", n)
	}
	if r2 := le64At(sw.mapValue(1, "runs", "02000000"), 0); r2 != 10 {
		t.Errorf("v2 counted %d runs, want 10", r2)
	}
}
