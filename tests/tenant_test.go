package tests

// Tenant networks end to end: two "hosts", each a network namespace with
// its own switchd (run inside it with ip netns exec), joined by an underlay
// veth that carries VXLAN; four "VMs", each a namespace, in two VNIs, two
// per host. vm1 is attached the way QEMU VMs are: switchd's port is a
// vhost-user server (net_vhost) and the VM side is a virtio_user device
// (tests/vmnic) bridged to the VM's kernel interface. The others use veth
// ports. Everything is configured by netctl, goko's controller.
//
//	              hostA (switchd A, vtep 192.0.2.1)        hostB (switchd B, vtep 192.0.2.2)
//	vm1 42.0.0.1  vni 1337, port 1 (vhost-user)            port 1, vni 1337  vm3 42.0.0.2 (+42.0.0.12)
//	vm2 42.0.0.3  vni 1338, port 2 (veth)                  port 2, vni 1338  vm4 42.0.0.4
//	              port 10 vxlan ---- ulA ===== ulB ---- port 10 vxlan

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
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

	"github.com/goko-net/goko/header"
)

var buildTenantOnce sync.Once

// tenantBins builds netctl and vmnic next to switchd.
func tenantBins(t *testing.T) {
	buildTenantOnce.Do(func() {
		out, err := exec.Command("go", "build", "-o", binDir+"/", "../cmd/netctl", "./vmnic").CombinedOutput()
		if err != nil {
			t.Fatalf("build netctl, vmnic: %v\n%s", err, out)
		}
	})
}

func nsExec(ns string, args ...string) *exec.Cmd {
	return exec.Command("ip", append([]string{"netns", "exec", ns}, args...)...)
}

func nsRun(t testing.TB, ns string, args ...string) string {
	t.Helper()
	out, err := nsExec(ns, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("in %s: %s: %v\n%s", ns, strings.Join(args, " "), err, out)
	}
	return string(out)
}

func addNetns(t *testing.T, prefix string) string {
	ns := uniq(prefix)
	run(t, "ip", "netns", "add", ns)
	t.Cleanup(func() { exec.Command("ip", "netns", "del", ns).Run() })
	nsRun(t, ns, "ip", "link", "set", "lo", "up")
	return ns
}

// bg is a background process whose output is kept.
type bg struct {
	cmd  *exec.Cmd
	mu   sync.Mutex
	out  bytes.Buffer
	done chan struct{}
}

func (b *bg) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.out.Write(p)
}

func (b *bg) output() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.out.String()
}

func startBg(t *testing.T, cmd *exec.Cmd, ready string) *bg {
	t.Helper()
	b := &bg{cmd: cmd, done: make(chan struct{})}
	cmd.Stdout, cmd.Stderr = b, b
	// Pdeathsig: if the test binary dies without its cleanups (a go test
	// timeout), the process does not outlive it.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGTERM}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { cmd.Wait(); close(b.done) }()
	t.Cleanup(func() {
		syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
		select {
		case <-b.done:
		case <-time.After(10 * time.Second):
			syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			<-b.done
		}
		if t.Failed() {
			t.Logf("%s output:\n%s", strings.Join(cmd.Args, " "), b.output())
		}
	})
	deadline := time.Now().Add(30 * time.Second)
	for !strings.Contains(b.output(), ready) {
		select {
		case <-b.done:
			t.Fatalf("%s exited:\n%s", strings.Join(cmd.Args, " "), b.output())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s not ready:\n%s", strings.Join(cmd.Args, " "), b.output())
		}
		time.Sleep(50 * time.Millisecond)
	}
	return b
}

// startNsSwitchd runs switchd inside network namespace ns.
func startNsSwitchd(t *testing.T, ns string, args ...string) *switchd {
	t.Helper()
	return startNsSwitchdIn(t, ns, t.TempDir(), args...)
}

// startNsSwitchdIn is startNsSwitchd with the run directory given (a
// restarted switchd keeps its management socket's path).
func startNsSwitchdIn(t *testing.T, ns, runDir string, args ...string) *switchd {
	t.Helper()
	s := &switchd{t: t, runDir: runDir, prefix: uniq("goko-tn-"), bridge: "br0", exited: make(chan struct{})}
	full := append([]string{"netns", "exec", ns, filepath.Join(binDir, "switchd"), "--bridge", s.bridge,
		"--run-dir", s.runDir, "--dpdk-file-prefix", s.prefix, "--log-level", "debug"}, args...)
	s.cmd = exec.Command("ip", full...)
	s.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM}
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	s.cmd.Stdout, s.cmd.Stderr = pw, pw
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	pw.Close()
	go func() {
		buf := make([]byte, 4096)
		for {
			n, err := pr.Read(buf)
			s.logMu.Lock()
			s.log.Write(buf[:n])
			s.logMu.Unlock()
			if err != nil {
				break
			}
		}
		s.cmd.Wait()
		close(s.exited)
	}()
	t.Cleanup(func() {
		s.stop()
		os.RemoveAll("/var/run/dpdk/" + s.prefix)
		if t.Failed() {
			t.Logf("switchd in %s log:\n%s", ns, s.logText())
		}
	})
	sock := filepath.Join(s.runDir, s.bridge+".mgmt")
	deadline := time.Now().Add(30 * time.Second)
	for {
		if _, err := os.Stat(sock); err == nil {
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

// vm is a namespace with eth0.
type vm struct {
	ns    string
	mac   string
	ip    string
	agent *bg
}

const pyAgent = `
import socket, sys, select
socks = []
for p in sys.argv[1].split(','):
    s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(('0.0.0.0', int(p))); s.listen(16); socks.append(s)
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); u.bind(('0.0.0.0', int(sys.argv[2]))); socks.append(u)
print('agent ready', flush=True)
while True:
    for s in select.select(socks, [], [])[0]:
        if s is u:
            d, a = u.recvfrom(4096); print('udp %s %s' % (a[0], d.decode(errors='replace')), flush=True)
        else:
            c, a = s.accept()
            try: c.sendall(b'ok\n')
            except Exception: pass
            c.close()
`

const pyConnect = `
import socket, sys
s = socket.socket(); s.settimeout(3)
if len(sys.argv) > 3: s.bind((sys.argv[3], 0))
try:
    s.connect((sys.argv[1], int(sys.argv[2]))); d = s.recv(16)
    sys.exit(0 if d.startswith(b'ok') else 1)
except Exception as e:
    print(e); sys.exit(1)
`

const pyUDP = `
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
if sys.argv[4] != '-': s.bind((sys.argv[4], int(sys.argv[5])))
s.sendto(sys.argv[3].encode(), (sys.argv[1], int(sys.argv[2])))
`

const pyRaw = `
import socket, sys
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW); s.bind((sys.argv[1], 0)); s.send(bytes.fromhex(sys.argv[2]))
`

// setupVM configures eth0 of ns (already there) and starts its agent:
// TCP servers on 22, 23, 2222 and 8080 that answer "ok", and a UDP sink on
// 9999 that prints what it gets.
func setupVM(t *testing.T, ns, mac string, ips ...string) *vm {
	nsRun(t, ns, "ip", "link", "set", "eth0", "address", mac, "mtu", "1450")
	for _, ip := range ips {
		nsRun(t, ns, "ip", "addr", "add", ip+"/24", "dev", "eth0")
	}
	nsRun(t, ns, "ip", "link", "set", "eth0", "up")
	nsExec(ns, "ethtool", "-K", "eth0", "tx", "off").Run()
	nsExec(ns, "sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=1").Run()
	v := &vm{ns: ns, mac: mac, ip: ips[0]}
	v.agent = startBg(t, nsExec(ns, "python3", "-c", pyAgent, "22,23,2222,8080", "9999"), "agent ready")
	return v
}

func (v *vm) ping(ip string, count int) bool {
	return nsExec(v.ns, "ping", "-c", fmt.Sprint(count), "-i", "0.2", "-W", "1", ip).Run() == nil
}

// pingEventually retries while the next hops and ARP caches settle.
func (v *vm) pingEventually(ip string) bool {
	for i := 0; i < 8; i++ {
		if v.ping(ip, 1) {
			return true
		}
	}
	return false
}

// pingSize pings with size bytes of payload and DF set.
func (v *vm) pingSize(ip string, size int) bool {
	return nsExec(v.ns, "ping", "-c", "2", "-i", "0.2", "-W", "1", "-M", "do", "-s", fmt.Sprint(size), ip).Run() == nil
}

var txDropRe = regexp.MustCompile(`tx pkts=\d+, bytes=\d+, drop=(\d+)`)

// tunnelTxDropped reads tx drop of port 10 from dump-ports.
func (n *tenantNet) tunnelTxDropped(sw *switchd) int {
	out := sw.mustOfctl("dump-ports", "br0", "10")
	m := txDropRe.FindStringSubmatch(out)
	if m == nil {
		n.t.Fatalf("no tx drop count in:\n%s", out)
	}
	v, _ := strconv.Atoi(m[1])
	return v
}

func (v *vm) connect(ip string, port int, src ...string) bool {
	args := append([]string{"python3", "-c", pyConnect, ip, fmt.Sprint(port)}, src...)
	return nsExec(v.ns, args...).Run() == nil
}

func (v *vm) sendUDP(t *testing.T, ip string, port int, payload, src string, sport int) {
	t.Helper()
	args := []string{"python3", "-c", pyUDP, ip, fmt.Sprint(port), payload, "-", "0"}
	if src != "" {
		args[6], args[7] = src, fmt.Sprint(sport)
	}
	nsRun(t, v.ns, args...)
}

// gotUDP reports whether v's agent received payload within d.
func (v *vm) gotUDP(payload string, d time.Duration) bool {
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		if strings.Contains(v.agent.output(), " "+payload+"\n") {
			return true
		}
		time.Sleep(50 * time.Millisecond)
	}
	return false
}

func ifMAC(t *testing.T, ns, ifname string) net.HardwareAddr {
	out := nsRun(t, ns, "cat", "/sys/class/net/"+ifname+"/address")
	mac, err := net.ParseMAC(strings.TrimSpace(out))
	if err != nil {
		t.Fatal(err)
	}
	return mac
}

type tenantNet struct {
	t              *testing.T
	hostA, hostB   string
	swA, swB       *switchd
	vm1, vm2       *vm
	vm3, vm4       *vm
	state          string
	ulAMAC, ulBMAC net.HardwareAddr
}

func (n *tenantNet) netctl(args ...string) (string, error) {
	full := append([]string{"--state", n.state}, args...)
	out, err := exec.Command(filepath.Join(binDir, "netctl"), full...).CombinedOutput()
	return string(out), err
}

func (n *tenantNet) mustNetctl(args ...string) string {
	n.t.Helper()
	out, err := n.netctl(args...)
	if err != nil {
		n.t.Fatalf("netctl %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return out
}

// vethInto creates a veth pair: a end in ns a as name an, b end in ns b as bn.
func vethInto(t *testing.T, a, an, b, bn string) {
	tmp1, tmp2 := uniq("gkt"), uniq("gkt")
	run(t, "ip", "link", "add", tmp1, "type", "veth", "peer", "name", tmp2)
	run(t, "ip", "link", "set", tmp1, "netns", a, "name", an)
	run(t, "ip", "link", "set", tmp2, "netns", b, "name", bn)
}

func newTenantNet(t *testing.T) *tenantNet {
	tenantBins(t)
	n := &tenantNet{t: t, state: filepath.Join(t.TempDir(), "netctl.json")}
	n.hostA, n.hostB = addNetns(t, "gkhA"), addNetns(t, "gkhB")
	vms := []string{addNetns(t, "gkvm"), addNetns(t, "gkvm"), addNetns(t, "gkvm"), addNetns(t, "gkvm")}

	// Underlay: no kernel address on it; the VTEP addresses live in switchd.
	vethInto(t, n.hostA, "ulA", n.hostB, "ulB")
	for _, h := range []struct{ ns, ifname string }{{n.hostA, "ulA"}, {n.hostB, "ulB"}} {
		nsRun(t, h.ns, "ip", "link", "set", h.ifname, "up")
		nsExec(h.ns, "sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=1").Run()
	}
	n.ulAMAC, n.ulBMAC = ifMAC(t, n.hostA, "ulA"), ifMAC(t, n.hostB, "ulB")
	// VM ports: vm1 through vhost-user (its eth0's peer is bridged by
	// vmnic), the others through veths into the host namespaces.
	vmnicIf := uniq("gkvn")
	run(t, "ip", "link", "add", vmnicIf, "type", "veth", "peer", "name", "eth0", "netns", vms[0])
	t.Cleanup(func() { exec.Command("ip", "link", "del", vmnicIf).Run() })
	run(t, "ip", "link", "set", vmnicIf, "up")
	vethInto(t, n.hostA, "vport2", vms[1], "eth0")
	vethInto(t, n.hostB, "vport1", vms[2], "eth0")
	vethInto(t, n.hostB, "vport2", vms[3], "eth0")
	for _, p := range []struct{ ns, ifname string }{{n.hostA, "vport2"}, {n.hostB, "vport1"}, {n.hostB, "vport2"}} {
		nsRun(t, p.ns, "ip", "link", "set", p.ifname, "up")
	}

	sock := filepath.Join(t.TempDir(), "vm1.sock")
	// Host A learns host B's MAC with ARP; host B has it statically.
	n.swA = startNsSwitchd(t, n.hostA, "--datapath-id", "0xa",
		"--port", "1=dpdk:net_vhost0,iface="+sock+",queues=1",
		"--port", "2=vport2",
		"--port", "10=vxlan:local_ip=192.0.2.1/24,remote_ip=flow,underlay=ulA")
	n.swB = startNsSwitchd(t, n.hostB, "--datapath-id", "0xb",
		"--port", "1=vport1", "--port", "2=vport2",
		"--port", "10=vxlan:local_ip=192.0.2.2/24,remote_ip=flow,underlay=ulB",
		"--neighbor", "192.0.2.1="+n.ulAMAC.String())
	vmnicPrefix := uniq("goko-vmnic-")
	t.Cleanup(func() { os.RemoveAll("/var/run/dpdk/" + vmnicPrefix) }) // runs after vmnic stopped
	startBg(t, exec.Command(filepath.Join(binDir, "vmnic"), "--vhost", sock, "--iface", vmnicIf, "--prefix", vmnicPrefix), "vmnic ready")

	n.vm1 = setupVM(t, vms[0], "52:54:00:12:34:01", "42.0.0.1")
	n.vm2 = setupVM(t, vms[1], "52:54:00:12:34:02", "42.0.0.3")
	n.vm3 = setupVM(t, vms[2], "52:54:00:12:34:03", "42.0.0.2", "42.0.0.12")
	n.vm4 = setupVM(t, vms[3], "52:54:00:12:34:04", "42.0.0.4")

	n.mustNetctl("switch", "add", "hostA", "--target", "unix:"+filepath.Join(n.swA.runDir, "br0.mgmt"), "--vtep", "192.0.2.1", "--tunnel-port", "10")
	n.mustNetctl("switch", "add", "hostB", "--target", "unix:"+filepath.Join(n.swB.runDir, "br0.mgmt"), "--vtep", "192.0.2.2", "--tunnel-port", "10")
	n.mustNetctl("sg", "add", "sg-icmp")
	n.mustNetctl("sg", "rule", "add", "sg-icmp", "--ip-proto", "icmp", "--cidr", "42.0.0.0/24")
	for _, nic := range [][]string{
		{"--id", "vnic_1", "--mac", "52:54:00:12:34:01", "--ip", "42.0.0.1", "--vni", "1337", "--switch", "hostA", "--port", "1"},
		{"--id", "vnic_2", "--mac", "52:54:00:12:34:02", "--ip", "42.0.0.3", "--vni", "1338", "--switch", "hostA", "--port", "2"},
		{"--id", "vnic_3", "--mac", "52:54:00:12:34:03", "--ip", "42.0.0.2", "--ip", "42.0.0.12", "--vni", "1337", "--switch", "hostB", "--port", "1"},
		{"--id", "vnic_4", "--mac", "52:54:00:12:34:04", "--ip", "42.0.0.4", "--vni", "1338", "--switch", "hostB", "--port", "2"},
	} {
		n.mustNetctl(append([]string{"nic", "add"}, nic...)...)
	}
	for _, id := range []string{"vnic_1", "vnic_2", "vnic_3", "vnic_4"} {
		n.mustNetctl("nic", "sg", "add", id, "sg-icmp")
	}
	return n
}

// vxlanInject builds what host B would send to host A: a VXLAN packet for
// vni whose inner frame is UDP from vm3 (42.0.0.2:5555) to vm1:9999.
func (n *tenantNet) vxlanInject(vni uint32, payload string) string {
	return n.vxlanForge(vni, payload, "192.0.2.2", n.vm3.mac, "42.0.0.2")
}

// vxlanForge is vxlanInject with another outer source address and inner
// source MAC and address.
func (n *tenantNet) vxlanForge(vni uint32, payload, outerSrc, innerMAC, innerIP string) string {
	udpLen := 8 + len(payload)
	inner := make([]byte, 14+20+udpLen)
	m1, _ := net.ParseMAC(n.vm1.mac)
	m3, _ := net.ParseMAC(innerMAC)
	copy(inner[0:6], m1)
	copy(inner[6:12], m3)
	inner[12], inner[13] = 8, 0
	ip := inner[14:34]
	ip[0], ip[8], ip[9] = 0x45, 64, 17
	binary.BigEndian.PutUint16(ip[2:], uint16(20+udpLen))
	copy(ip[12:16], net.ParseIP(innerIP).To4())
	copy(ip[16:20], net.ParseIP("42.0.0.1").To4())
	binary.BigEndian.PutUint16(ip[10:], header.Checksum(ip, 0))
	binary.BigEndian.PutUint16(inner[34:], 5555)
	binary.BigEndian.PutUint16(inner[36:], 9999)
	binary.BigEndian.PutUint16(inner[38:], uint16(udpLen))
	copy(inner[42:], payload)

	f := make([]byte, 50+len(inner))
	copy(f[0:6], n.ulAMAC)
	copy(f[6:12], n.ulBMAC)
	f[12], f[13] = 8, 0
	oip := f[14:34]
	oip[0], oip[6], oip[8], oip[9] = 0x45, 0x40, 64, 17
	binary.BigEndian.PutUint16(oip[2:], uint16(36+len(inner)))
	copy(oip[12:16], net.ParseIP(outerSrc).To4())
	copy(oip[16:20], net.ParseIP("192.0.2.1").To4())
	binary.BigEndian.PutUint16(oip[10:], header.Checksum(oip, 0))
	binary.BigEndian.PutUint16(f[34:], 50001)
	binary.BigEndian.PutUint16(f[36:], 4789)
	binary.BigEndian.PutUint16(f[38:], uint16(16+len(inner)))
	f[42] = 0x08
	binary.BigEndian.PutUint32(f[46:], vni<<8)
	copy(f[50:], inner)
	return hex.EncodeToString(f)
}

func TestTenantNetworks(t *testing.T) {
	n := newTenantNet(t)

	t.Run("same VNI crosses hosts", func(t *testing.T) {
		if !n.vm1.pingEventually("42.0.0.2") {
			t.Fatalf("vm1 (vhost-user, host A) cannot ping vm3 (host B) in vni 1337\n%s\n%s",
				n.swA.mustOfctl("dump-flows", "br0"), n.swA.mustOfctl("dump-ports", "br0"))
		}
		if !n.vm3.ping("42.0.0.1", 2) {
			t.Error("vm3 cannot ping vm1")
		}
		if !n.vm2.pingEventually("42.0.0.4") || !n.vm4.ping("42.0.0.3", 2) {
			t.Error("vm2 and vm4 (vni 1338) cannot ping each other")
		}
	})

	t.Run("MTU: full-size inner frames pass, larger ones are dropped", func(t *testing.T) {
		// 1450-byte IP packets (the VMs' MTU) make 1500-byte outer ones.
		if !n.vm1.pingSize("42.0.0.2", 1422) {
			t.Fatal("1450-byte packets do not cross the tunnel")
		}
		before := n.tunnelTxDropped(n.swA)
		nsRun(t, n.vm1.ns, "ip", "link", "set", "eth0", "mtu", "1500")
		defer nsRun(t, n.vm1.ns, "ip", "link", "set", "eth0", "mtu", "1450")
		if n.vm1.pingSize("42.0.0.2", 1472) {
			t.Error("a 1500-byte inner packet crossed a 1500-byte underlay")
		}
		if after := n.tunnelTxDropped(n.swA); after <= before {
			t.Errorf("tunnel tx drops %d -> %d: too-big packets not counted", before, after)
		}
	})

	t.Run("VNIs stay isolated", func(t *testing.T) {
		for _, c := range []struct {
			from *vm
			to   string
		}{{n.vm1, "42.0.0.4"}, {n.vm1, "42.0.0.3"}, {n.vm3, "42.0.0.3"}, {n.vm2, "42.0.0.2"}, {n.vm4, "42.0.0.1"}} {
			if c.from.ping(c.to, 2) {
				t.Errorf("%s reached %s in another VNI", c.from.ip, c.to)
			}
		}
		// Even knowing the MAC (a static ARP entry) does not help.
		nsRun(t, n.vm1.ns, "ip", "neigh", "replace", "42.0.0.4", "lladdr", n.vm4.mac, "dev", "eth0")
		if n.vm1.ping("42.0.0.4", 2) {
			t.Error("vm1 reached vm4 (vni 1338) with a static ARP entry")
		}
		n.vm1.sendUDP(t, "42.0.0.4", 9999, "cross-vni", "", 0)
		if n.vm4.gotUDP("cross-vni", time.Second) {
			t.Error("UDP crossed from vni 1337 to vni 1338")
		}
	})

	n.mustNetctl("sg", "add", "sg-probe")
	n.mustNetctl("sg", "rule", "add", "sg-probe", "--ip-proto", "udp", "--port", "9999", "--cidr", "42.0.0.0/24")
	n.mustNetctl("nic", "sg", "add", "vnic_1", "sg-probe")

	t.Run("spoofed MAC and IP are dropped", func(t *testing.T) {
		n.vm3.sendUDP(t, "42.0.0.1", 9999, "genuine-1", "42.0.0.2", 4000)
		if !n.vm1.gotUDP("genuine-1", 3*time.Second) {
			t.Fatal("control: UDP 9999 from vm3's own address did not arrive")
		}
		nsRun(t, n.vm3.ns, "ip", "addr", "add", "42.0.0.99/24", "dev", "eth0")
		n.vm3.sendUDP(t, "42.0.0.1", 9999, "spoofed-ip", "42.0.0.99", 4000)
		if n.vm1.gotUDP("spoofed-ip", time.Second) {
			t.Error("UDP from an address vm3 does not own arrived")
		}
		nsRun(t, n.vm3.ns, "ip", "addr", "del", "42.0.0.99/24", "dev", "eth0")
		nsRun(t, n.vm3.ns, "ip", "link", "set", "eth0", "address", "52:54:00:12:34:99")
		n.vm3.sendUDP(t, "42.0.0.1", 9999, "spoofed-mac", "42.0.0.2", 4000)
		if n.vm1.gotUDP("spoofed-mac", time.Second) {
			t.Error("UDP from a MAC vm3 does not own arrived")
		}
		// Claiming vm1's own MAC and address is no better.
		nsRun(t, n.vm3.ns, "ip", "link", "set", "eth0", "address", n.vm2.mac)
		n.vm3.sendUDP(t, "42.0.0.1", 9999, "spoofed-both", "42.0.0.2", 4000)
		if n.vm1.gotUDP("spoofed-both", time.Second) {
			t.Error("UDP from another NIC's MAC arrived")
		}
		nsRun(t, n.vm3.ns, "ip", "link", "set", "eth0", "address", n.vm3.mac)
		n.vm3.sendUDP(t, "42.0.0.1", 9999, "genuine-2", "42.0.0.2", 4000)
		if !n.vm1.gotUDP("genuine-2", 3*time.Second) {
			t.Error("control: UDP after restoring the MAC did not arrive")
		}
	})

	t.Run("wrong VNI injected on the underlay", func(t *testing.T) {
		nsRun(t, n.hostB, "python3", "-c", pyRaw, "ulB", n.vxlanInject(1337, "inject-1337"))
		if !n.vm1.gotUDP("inject-1337", 3*time.Second) {
			t.Fatal("control: a well-formed VXLAN packet of vni 1337 from host B was not delivered")
		}
		for _, vni := range []uint32{1338, 1, 0xffffff} {
			p := fmt.Sprintf("inject-%d", vni)
			nsRun(t, n.hostB, "python3", "-c", pyRaw, "ulB", n.vxlanInject(vni, p))
			if n.vm1.gotUDP(p, time.Second) {
				t.Errorf("VXLAN packet with vni %d reached vm1 (vni 1337)", vni)
			}
		}
		// The right VNI, but not from the VTEP of the NIC it claims to
		// be, or claiming to be a NIC that is not behind host B.
		for name, f := range map[string]string{
			"forged-vtep":    n.vxlanForge(1337, "forged-vtep", "192.0.2.99", n.vm3.mac, "42.0.0.2"),
			"forged-local":   n.vxlanForge(1337, "forged-local", "192.0.2.2", n.vm2.mac, "42.0.0.3"),
			"forged-unknown": n.vxlanForge(1337, "forged-unknown", "192.0.2.2", "52:54:00:66:66:66", "42.0.0.66"),
			"forged-ip":      n.vxlanForge(1337, "forged-ip", "192.0.2.2", n.vm3.mac, "42.0.0.4"),
		} {
			nsRun(t, n.hostB, "python3", "-c", pyRaw, "ulB", f)
			if n.vm1.gotUDP(name, time.Second) {
				t.Errorf("%s: forged VXLAN packet reached vm1", name)
			}
		}
	})

	t.Run("security group opens TCP 22 to one CIDR only", func(t *testing.T) {
		if n.vm3.connect("42.0.0.1", 22) {
			t.Fatal("TCP 22 open before any rule (default deny)")
		}
		n.mustNetctl("sg", "add", "sg-ssh")
		n.mustNetctl("sg", "rule", "add", "sg-ssh", "--ip-proto", "tcp", "--port", "22", "--cidr", "42.0.0.2/32")
		n.mustNetctl("nic", "sg", "add", "vnic_1", "sg-ssh")
		if !n.vm3.connect("42.0.0.1", 22, "42.0.0.2") {
			t.Fatalf("TCP 22 from 42.0.0.2 refused\n%s", n.swA.mustOfctl("dump-flows", "br0"))
		}
		if n.vm3.connect("42.0.0.1", 22, "42.0.0.12") {
			t.Error("TCP 22 from 42.0.0.12 (outside the CIDR) accepted")
		}
		for _, port := range []int{23, 2222, 8080} {
			if n.vm3.connect("42.0.0.1", port, "42.0.0.2") {
				t.Errorf("TCP %d, which no rule opens, accepted", port)
			}
		}
		// Idempotent: the same calls again change nothing.
		out := n.mustNetctl("sg", "rule", "add", "sg-ssh", "--ip-proto", "tcp", "--port", "22", "--cidr", "42.0.0.2/32")
		if strings.Contains(out, "switch") {
			t.Errorf("repeating a rule re-programmed switches:\n%s", out)
		}
	})

	t.Run("removing a rule takes effect", func(t *testing.T) {
		n.mustNetctl("sg", "rule", "del", "sg-ssh", "--ip-proto", "tcp", "--port", "22", "--cidr", "42.0.0.2/32")
		if n.vm3.connect("42.0.0.1", 22, "42.0.0.2") {
			t.Error("TCP 22 still accepted after the rule was removed")
		}
	})

	t.Run("replies pass, unsolicited traffic from the same peer does not", func(t *testing.T) {
		n.mustNetctl("sg", "add", "sg-client")
		n.mustNetctl("nic", "sg", "add", "vnic_1", "sg-client")
		n.mustNetctl("sg", "add", "sg-web")
		n.mustNetctl("sg", "rule", "add", "sg-web", "--ip-proto", "tcp", "--port", "8080", "--sg-members", "sg-client")
		n.mustNetctl("nic", "sg", "add", "vnic_3", "sg-web")
		// vm1 opens a connection to vm3:8080, which vm3's group allows;
		// vm3's answers reach vm1, which has no TCP rule, by conntrack.
		if !n.vm1.connect("42.0.0.2", 8080) {
			t.Fatalf("vm1 -> vm3:8080 failed\n%s", n.swA.mustOfctl("dump-flows", "br0"))
		}
		// vm3 opening connections to vm1 is not allowed by anything.
		for _, port := range []int{8080, 2222, 22} {
			if n.vm3.connect("42.0.0.1", port) {
				t.Errorf("vm3 -> vm1:%d (unsolicited) accepted", port)
			}
		}
		if !n.vm1.connect("42.0.0.2", 8080) {
			t.Error("vm1 -> vm3:8080 failed the second time")
		}
		if out, err := n.netctl("sg", "rule", "add", "sg-web", "--ip-proto", "tcp", "--port", "8080", "--sg-members", "nope"); err == nil {
			t.Errorf("rule with unknown sg-members accepted:\n%s", out)
		}
	})

	t.Run("a restarted controller pushes the same flows", func(t *testing.T) {
		out := n.mustNetctl("sync")
		if !strings.Contains(out, "switch hostA:") || !strings.Contains(out, "0 added or changed, 0 deleted") {
			t.Errorf("sync of an unchanged state changed flows:\n%s", out)
		}
		// Wipe host A's flows behind the controller's back: sync restores them.
		n.swA.mustOfctl("del-flows", "br0")
		if n.vm1.ping("42.0.0.2", 1) {
			t.Fatal("ping works with no flows")
		}
		out = n.mustNetctl("sync", "hostA")
		if strings.Contains(out, " 0 added") {
			t.Errorf("sync after del-flows added nothing:\n%s", out)
		}
		if !n.vm1.pingEventually("42.0.0.2") {
			t.Error("no ping after sync")
		}
	})

	t.Run("status", func(t *testing.T) {
		out := n.mustNetctl("status")
		for _, want := range []string{"vni 1337", "vni 1338", "vnic_1", "vnic_4", "sg-web", "allow ip-proto tcp port 8080 sg-members sg-client"} {
			if !strings.Contains(out, want) {
				t.Errorf("status lacks %q:\n%s", want, out)
			}
		}
		dot := n.mustNetctl("status", "--dot")
		if !strings.HasPrefix(dot, "graph netctl {") || !strings.Contains(dot, `"sw:hostA" -- "sw:hostB"`) {
			t.Errorf("status --dot:\n%s", dot)
		}
	})
}
