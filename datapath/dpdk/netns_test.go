package dpdk

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/goko-net/goko/datapath"
)

// Tests that attach DPDK ports to kernel interfaces. Everything lives in a
// network namespace the test creates and deletes; nothing touches the
// host's own interfaces.

var nsCounter int

// testNetns creates a network namespace with a veth pair (a, b), both up,
// IPv6 off to keep the wire quiet, and deletes it when the test ends.
func testNetns(t testing.TB) (ns, a, b string) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root for network namespaces")
	}
	if _, err := exec.LookPath("ip"); err != nil {
		t.Skip("needs iproute2's ip")
	}
	ns, a, b, err := makeNetns()
	if ns != "" {
		t.Cleanup(func() { exec.Command("ip", "netns", "del", ns).Run() })
	}
	if err != nil {
		t.Fatal(err)
	}
	return ns, a, b
}

// makeNetns creates the namespace of testNetns; the caller deletes it (ns
// is set as soon as it exists).
func makeNetns() (ns, a, b string, err error) {
	nsCounter++
	pid := os.Getpid()
	name := fmt.Sprintf("gokodpdk-%d-%d", pid, nsCounter)
	a = fmt.Sprintf("gk%da%d", pid%100000, nsCounter)
	b = fmt.Sprintf("gk%db%d", pid%100000, nsCounter)
	for i, args := range [][]string{
		{"netns", "add", name},
		{"netns", "exec", name, "sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=1", "net.ipv6.conf.default.disable_ipv6=1"},
		{"-n", name, "link", "add", a, "type", "veth", "peer", "name", b},
		{"-n", name, "link", "set", a, "up"},
		{"-n", name, "link", "set", b, "up"},
	} {
		if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
			return ns, a, b, fmt.Errorf("ip %s: %v: %s", strings.Join(args, " "), err, out)
		}
		if i == 0 {
			ns = name
		}
	}
	return ns, a, b, nil
}

func run(t testing.TB, name string, args ...string) string {
	t.Helper()
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v: %s", name, strings.Join(args, " "), err, out)
	}
	return string(out)
}

// rawSocket is an AF_PACKET socket bound to ifname inside ns.
type rawSocket struct {
	fd int
}

func htons(v uint16) uint16 { return v<<8 | v>>8 }

func openRawSocket(t testing.TB, ns, ifname string) *rawSocket {
	t.Helper()
	var s rawSocket
	err := inNetns(ns, func() error {
		ifi, err := net.InterfaceByName(ifname)
		if err != nil {
			return err
		}
		fd, err := syscall.Socket(syscall.AF_PACKET, syscall.SOCK_RAW, int(htons(syscall.ETH_P_ALL)))
		if err != nil {
			return err
		}
		if err := syscall.Bind(fd, &syscall.SockaddrLinklayer{Protocol: htons(syscall.ETH_P_ALL), Ifindex: ifi.Index}); err != nil {
			syscall.Close(fd)
			return err
		}
		tv := syscall.NsecToTimeval(int64(50 * time.Millisecond))
		syscall.SetsockoptTimeval(fd, syscall.SOL_SOCKET, syscall.SO_RCVTIMEO, &tv)
		s.fd = fd
		return nil
	})
	if err != nil {
		t.Fatalf("raw socket on %s in %s: %v", ifname, ns, err)
	}
	t.Cleanup(func() { syscall.Close(s.fd) })
	return &s
}

func (s *rawSocket) send(t testing.TB, frame []byte) {
	t.Helper()
	if _, err := syscall.Write(s.fd, frame); err != nil {
		t.Fatalf("raw send: %v", err)
	}
}

// waitFor reads frames until one is a test frame with tag and seq.
func (s *rawSocket) waitFor(tag uint32, seq int, timeout time.Duration) ([]byte, error) {
	buf := make([]byte, 4096)
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		n, _, err := syscall.Recvfrom(s.fd, buf, 0)
		if err != nil {
			if errors.Is(err, syscall.EAGAIN) || errors.Is(err, syscall.EINTR) {
				continue
			}
			return nil, err
		}
		if got, ok := isTestFrame(buf[:n], tag); ok && got == seq {
			return append([]byte(nil), buf[:n]...), nil
		}
	}
	return nil, fmt.Errorf("no test frame %d within %v", seq, timeout)
}

// waitRecv polls p until it receives the test frame (tag, seq).
func waitRecv(t testing.TB, p *Port, tag uint32, seq int, timeout time.Duration) []byte {
	t.Helper()
	buf := make([]datapath.Packet, datapath.BurstSize)
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		n := p.Recv(buf)
		for _, pk := range buf[:n] {
			if got, ok := isTestFrame(pk.Data, tag); ok && got == seq {
				f := append([]byte(nil), pk.Data...)
				p.Release(buf[:n])
				return f
			}
		}
		p.Release(buf[:n])
		if n == 0 {
			time.Sleep(200 * time.Microsecond)
		}
	}
	return nil
}

// waitLink waits until every port reports its link up.
func waitLink(t testing.TB, timeout time.Duration, ports ...*Port) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for _, p := range ports {
		for !p.Info().LinkUp {
			if time.Now().After(deadline) {
				t.Fatalf("%s: link still down after %v", p.Info().Name, timeout)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
}

// exchange checks both directions between a DPDK port and a raw socket.
func exchange(t *testing.T, p *Port, s *rawSocket, tag uint32) {
	t.Helper()
	// kernel -> DPDK; retry a few times in case the port's socket came up
	// a moment after the first frame.
	var got []byte
	want := testFrame(1, 100, tag)
	t0 := time.Now()
	tries := 0
	for ; tries < 20 && got == nil; tries++ {
		s.send(t, want)
		got = waitRecv(t, p, tag, 1, 100*time.Millisecond)
	}
	t.Logf("kernel -> DPDK: %d tries, %v", tries, time.Since(t0))
	if !bytes.Equal(got, want) {
		t.Errorf("DPDK Recv: got %d bytes, want the %d-byte frame the kernel side sent", len(got), len(want))
	}
	// DPDK -> kernel, zero-copy path is not applicable (Go memory): copy.
	// Retried like the other direction: on veth, an af_xdp port now and
	// then loses the first frame it transmits (seen about once in fifteen
	// CI runs) though every later one goes through.
	want = testFrame(2, 200, tag)
	got = nil
	var err error
	t0 = time.Now()
	for tries = 0; tries < 10 && got == nil; tries++ {
		if n := p.Send([]*datapath.Packet{{Data: want}}); n != 1 {
			t.Fatalf("Send: %d accepted", n)
		}
		got, err = s.waitFor(tag, 2, 200*time.Millisecond)
	}
	t.Logf("DPDK -> kernel: %d tries, %v", tries, time.Since(t0))
	if err != nil || !bytes.Equal(got, want) {
		t.Errorf("kernel side: %v (got %d bytes)", err, len(got))
	}
}

func TestAfPacketVeth(t *testing.T) {
	ns, a, b := testNetns(t)
	p := openPort(t, KernelPortDevargs(a, 0), PortOptions{Netns: ns})
	s := openRawSocket(t, ns, b)
	waitLink(t, 2*time.Second, p)
	info := p.Info()
	var kmac net.HardwareAddr
	inNetns(ns, func() error {
		ifi, err := net.InterfaceByName(a)
		if err == nil {
			kmac = ifi.HardwareAddr
		}
		return err
	})
	if info.Name != "net_af_packet0" || info.HWAddr.String() != kmac.String() || info.MTU != 1500 {
		t.Errorf("Info() = %+v; kernel MAC of %s is %s", info, a, kmac)
	}
	t.Logf("Info() = %+v", info)
	exchange(t, p, s, 0x2001)
	st := p.Stats()
	if st.RxPackets == 0 || st.TxPackets == 0 {
		t.Errorf("Stats() = %+v", st)
	}
	// The interface is in ns only: opening it from the host namespace
	// names it clearly.
	if _, err := testEAL.OpenPort(KernelPortDevargs(a, 1), PortOptions{}); err == nil || !strings.Contains(err.Error(), a) {
		t.Errorf("opening %s outside its namespace: %v", a, err)
	}
}

func TestAfXdpVeth(t *testing.T) {
	// On this kernel, with libxdp unable to use its dispatcher, an af_xdp
	// port now and then comes up passing no traffic at all in one
	// direction or both (seen about once in twenty runs; transmit only,
	// twice in CI right after bench/ovs-compare.sh). Such an attempt is
	// retried on a fresh veth pair; a port that passes a first frame each
	// way must then pass the full exchange.
	var (
		p       *Port
		s       *rawSocket
		ns, a   string
		lastErr string
	)
	const attempts = 5
	for attempt := 0; attempt < attempts && p == nil; attempt++ {
		if attempt > 0 {
			// the failures come in spells (seen right after a benchmark
			// released its hugepages): give the system a moment
			time.Sleep(500 * time.Millisecond)
		}
		var b string
		ns, a, b = testNetns(t)
		q, err := testEAL.OpenPort(fmt.Sprintf("net_af_xdp%d,iface=%s,start_queue=0,queue_count=1", 10+attempt, a), PortOptions{Netns: ns})
		if err != nil {
			t.Skipf("af_xdp does not open here: %v", err)
		}
		t.Cleanup(func() { q.Close() })
		rs := openRawSocket(t, ns, b)
		waitLink(t, 2*time.Second, q)
		probe := testFrame(0, 100, 0x2012)
		rxOK, txOK := false, false
		for i := 0; i < 20 && !rxOK; i++ {
			rs.send(t, probe)
			rxOK = waitRecv(t, q, 0x2012, 0, 100*time.Millisecond) != nil
		}
		for i := 0; i < 10 && rxOK && !txOK; i++ {
			if n := q.Send([]*datapath.Packet{{Data: testFrame(0, 100, 0x2013)}}); n != 1 {
				t.Fatalf("Send: %d accepted", n)
			}
			_, err := rs.waitFor(0x2013, 0, 200*time.Millisecond)
			txOK = err == nil
		}
		switch {
		case rxOK && txOK:
			p, s = q, rs
		case rxOK:
			lastErr = fmt.Sprintf("attempt %d: no frame left the af_xdp port on %s", attempt+1, a)
		default:
			lastErr = fmt.Sprintf("attempt %d: no frame reached the af_xdp port on %s", attempt+1, a)
		}
		if p == nil {
			t.Log(lastErr)
			q.Close()
		}
	}
	if p == nil {
		t.Fatalf("af_xdp passed no traffic in %d attempts; %s", attempts, lastErr)
	}
	t.Logf("Info() = %+v", p.Info())
	exchange(t, p, s, 0x2002)
	if err := p.Close(); err != nil {
		t.Error(err)
	}
	if out := run(t, "ip", "-n", ns, "-d", "link", "show", a); strings.Contains(out, "prog/xdp") {
		t.Errorf("an XDP program is still attached to %s after Close:\n%s", a, out)
	}
	// DPDK 22.11's af_xdp PMD (with libxdp and no usable XDP dispatcher)
	// leaks its AF_XDP socket on close, so the queue stays bound.
	if p2, err := testEAL.OpenPort("net_af_xdp1,iface="+a, PortOptions{Netns: ns}); err == nil {
		t.Log("af_xdp reopened the interface")
		p2.Close()
	} else {
		t.Logf("af_xdp cannot reopen %s in this process: %v", a, err)
	}
}

func TestTap(t *testing.T) {
	ns, _, _ := testNetns(t)
	tap := fmt.Sprintf("gk%dt%d", os.Getpid()%100000, nsCounter)
	p := openPort(t, "net_tap0,iface="+tap, PortOptions{Netns: ns})
	run(t, "ip", "-n", ns, "link", "set", tap, "up")
	s := openRawSocket(t, ns, tap)
	waitLink(t, 2*time.Second, p)
	t.Logf("Info() = %+v", p.Info())
	exchange(t, p, s, 0x2003)
}

// pairExchange sends frames both ways between two DPDK ports.
func pairExchange(t *testing.T, x, y *Port, tag uint32) {
	t.Helper()
	for i, d := range []struct{ from, to *Port }{{x, y}, {y, x}} {
		want := testFrame(i, 300, tag)
		var got []byte
		// A memif server can only transmit after the client has polled
		// (its rx ring is what the server fills), so keep polling the
		// receiver even when a Send is refused.
		for try := 0; try < 20 && got == nil; try++ {
			d.from.Send([]*datapath.Packet{{Data: want}})
			got = waitRecv(t, d.to, tag, i, 100*time.Millisecond)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s -> %s: got %d bytes, want %d", d.from.Info().Name, d.to.Info().Name, len(got), len(want))
		}
	}
}

func TestMemifPair(t *testing.T) {
	sock := fmt.Sprintf("/tmp/goko-memif-%d.sock", os.Getpid())
	t.Cleanup(func() { os.Remove(sock) })
	srv, err := testEAL.OpenPort("net_memif0,role=server,id=0,socket-abstract=no,socket="+sock, PortOptions{})
	if err != nil {
		t.Skipf("memif server does not open here: %v", err)
	}
	t.Cleanup(func() { srv.Close() })
	cli, err := testEAL.OpenPort("net_memif1,role=client,id=0,socket-abstract=no,socket="+sock, PortOptions{})
	if err != nil {
		t.Fatalf("memif client: %v", err)
	}
	t.Cleanup(func() { cli.Close() })
	waitLink(t, 5*time.Second, srv, cli)
	pairExchange(t, srv, cli, 0x2004)
}

func TestVhostVirtioUser(t *testing.T) {
	sock := fmt.Sprintf("/tmp/goko-vhost-%d.sock", os.Getpid())
	t.Cleanup(func() { os.Remove(sock) })
	vh, err := testEAL.OpenPort("net_vhost0,iface="+sock+",queues=1", PortOptions{})
	if err != nil {
		t.Skipf("vhost does not open here: %v", err)
	}
	t.Cleanup(func() { vh.Close() })
	vu, err := testEAL.OpenPort("virtio_user0,path="+sock+",queues=1", PortOptions{})
	if err != nil {
		t.Fatalf("virtio_user: %v", err)
	}
	t.Cleanup(func() { vu.Close() })
	t0 := time.Now()
	waitLink(t, 5*time.Second, vh, vu)
	t.Logf("link up after %v", time.Since(t0))
	pairExchange(t, vh, vu, 0x2005)
	t.Logf("exchange done after %v", time.Since(t0))
}

// TestPcap replays a capture file and records what the port sends.
func TestPcap(t *testing.T) {
	dir := t.TempDir()
	in, out := dir+"/in.pcap", dir+"/out.pcap"
	const tag = 0x2006
	var frames [][]byte
	for i := 0; i < 3; i++ {
		frames = append(frames, testFrame(i, 64+10*i, tag))
	}
	if err := os.WriteFile(in, pcapFile(frames), 0o644); err != nil {
		t.Fatal(err)
	}
	p, err := testEAL.OpenPort("net_pcap0,rx_pcap="+in+",tx_pcap="+out, PortOptions{})
	if err != nil {
		t.Skipf("pcap does not open here: %v", err)
	}
	got := recvN(t, p, 3, time.Second)
	if len(got) != 3 {
		t.Fatalf("received %d of 3", len(got))
	}
	for i := range got {
		if !bytes.Equal(got[i].Data, frames[i]) {
			t.Errorf("frame %d differs", i)
		}
	}
	if n := p.Send(ptrs(got)); n != 3 {
		t.Errorf("Send: %d of 3", n)
	}
	p.Release(got)
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	recs := pcapRecords(data)
	if len(recs) != 3 {
		t.Fatalf("tx_pcap holds %d frames, want 3", len(recs))
	}
	for i := range recs {
		if !bytes.Equal(recs[i], frames[i]) {
			t.Errorf("tx_pcap frame %d differs", i)
		}
	}
}

// pcapRecords returns the frames of a little-endian pcap file.
func pcapRecords(b []byte) [][]byte {
	var out [][]byte
	for b = b[min(24, len(b)):]; len(b) >= 16; {
		n := int(binary.LittleEndian.Uint32(b[8:]))
		if len(b) < 16+n {
			break
		}
		out = append(out, b[16:16+n])
		b = b[16+n:]
	}
	return out
}

// pcapFile encodes frames as a classic little-endian pcap file.
func pcapFile(frames [][]byte) []byte {
	le := func(b []byte, v uint32) []byte { return append(b, byte(v), byte(v>>8), byte(v>>16), byte(v>>24)) }
	b := le(nil, 0xa1b2c3d4)
	b = append(b, 2, 0, 4, 0)      // version 2.4
	b = le(le(le(b, 0), 0), 65535) // thiszone, sigfigs, snaplen
	b = le(b, 1)                   // LINKTYPE_ETHERNET
	for i, f := range frames {
		b = le(le(b, uint32(i)), 0) // ts
		b = le(le(b, uint32(len(f))), uint32(len(f)))
		b = append(b, f...)
	}
	return b
}
