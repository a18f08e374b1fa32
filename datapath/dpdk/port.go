package dpdk

/*
#include <stdlib.h>
#include "goko_dpdk.h"

// The burst helpers take their queue as an integer: cgo checks every
// pointer argument for Go pointers (cgocheck), a span lookup per call
// that the queues, in C memory, never need.
static inline uint16_t goko_rx_q(uintptr_t q, uint16_t n) { return goko_rx((struct goko_rxq *)q, n); }
static inline uint16_t goko_tx_q(uintptr_t q, uint16_t n, int consume) { return goko_tx((struct goko_txq *)q, n, consume); }
static inline void goko_release_q(uintptr_t q, uint16_t n) { goko_release((struct goko_rxq *)q, n); }
*/
import "C"

import (
	"errors"
	"fmt"
	"net"
	"os"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"unsafe"

	"github.com/goko-net/goko/datapath"
)

// Defaults for PortOptions' zero fields.
const (
	DefaultRxDesc = 1024
	DefaultTxDesc = 1024
)

// PortOptions configures an ethdev port. The zero value gives one rx and
// one tx queue of 1024 descriptors each, the device's MTU, promiscuous on.
type PortOptions struct {
	// Name is what Info reports; default the DPDK device name (the
	// devargs up to the first comma, e.g. "net_af_packet0").
	Name string
	// RxQueues and TxQueues are the number of queues (default 1).
	// Recv/Send/Release use queue 0; RecvQueue/SendQueue/ReleaseQueue
	// the others, each from its own thread.
	RxQueues, TxQueues int
	// RxDesc and TxDesc are descriptors per queue (default 1024),
	// adjusted to the device's limits.
	RxDesc, TxDesc int
	// MTU, if not 0, is set on the device before it starts.
	MTU int
	// NoPromiscuous leaves promiscuous mode off.
	NoPromiscuous bool
	// Netns, if set, is a network namespace (a name under /var/run/netns
	// or a path such as /proc/<pid>/ns/net) in which the device is probed
	// and started: the kernel interfaces and sockets of af_packet, af_xdp
	// and tap ports are then looked up or created there.
	Netns string
}

// Port is an ethdev port. It implements datapath.Port.
type Port struct {
	eal     *EAL
	id      uint16
	name    string
	devargs string
	netns   string // PortOptions.Netns
	xdpIf   string // af_xdp: the kernel interface to detach XDP from on close
	rx      []*rxQueue
	tx      []*txQueue
	closed  atomic.Bool
	mu      sync.Mutex // serialises Info, Stats and close
}

var (
	_ datapath.MultiQueuePort = (*Port)(nil)
	_ datapath.MultiRxPort    = (*Port)(nil)
)

// rxQueue and txQueue are padded so that the busy counters of queues
// polled by different threads do not share a cache line.
type rxQueue struct {
	c    *C.struct_goko_rxq
	busy atomic.Int32
	_    [64 - 12]byte
}

type txQueue struct {
	c    *C.struct_goko_txq
	room uintptr // data room of a copy-path mbuf
	busy atomic.Int32
	_    [64 - 20]byte
}

var pciAddr = regexp.MustCompile(`^([0-9a-fA-F]{4}:)?[0-9a-fA-F]{2}:[0-9a-fA-F]{2}\.[0-7]$`)

// kernelIfaceKeys lists, per driver name prefix, the devargs keys that
// name an existing kernel interface.
var kernelIfaceKeys = []struct {
	prefix string
	keys   []string
}{
	{"net_af_packet", []string{"iface"}},
	{"eth_af_packet", []string{"iface"}},
	{"net_af_xdp", []string{"iface"}},
	{"eth_af_xdp", []string{"iface"}},
	{"net_pcap", []string{"iface", "rx_iface", "rx_iface_in", "tx_iface"}},
	{"eth_pcap", []string{"iface", "rx_iface", "rx_iface_in", "tx_iface"}},
}

// checkKernelIfaces fails clearly when devargs names a kernel interface
// that does not exist (the PMD itself only logs an ioctl failure).
func checkKernelIfaces(name, devargs string) error {
	for _, k := range kernelIfaceKeys {
		if !strings.HasPrefix(name, k.prefix) {
			continue
		}
		for _, kv := range strings.Split(devargs, ",")[1:] {
			key, val, ok := strings.Cut(strings.TrimSpace(kv), "=")
			if !ok {
				continue
			}
			for _, want := range k.keys {
				if key != want {
					continue
				}
				if _, err := net.InterfaceByName(val); err != nil {
					return fmt.Errorf("dpdk: open %q: kernel interface %q does not exist", devargs, val)
				}
			}
		}
	}
	return nil
}

var setupStages = [...]string{
	1: "rte_eth_dev_info_get",
	2: "rte_eth_dev_configure",
	3: "rte_eth_dev_adjust_nb_rx_tx_desc",
	4: "rte_eth_dev_set_mtu",
	5: "rte_eth_rx_queue_setup",
	6: "rte_eth_tx_queue_setup",
	7: "rte_eth_dev_start",
}

// OpenPort probes the device devargs names (any DPDK devargs: a vdev such
// as "net_af_packet0,iface=veth1" or "net_null0", or a PCI address such as
// "0000:00:04.0"), configures its queues on the EAL's pool, starts it and
// turns promiscuous mode on. Closing the port detaches the device again.
func (e *EAL) OpenPort(devargs string, opts PortOptions) (*Port, error) {
	devargs = strings.TrimSpace(devargs)
	name, _, _ := strings.Cut(devargs, ",")
	if name == "" {
		return nil, fmt.Errorf("dpdk: open %q: empty device name", devargs)
	}
	if pciAddr.MatchString(name) && !e.cfg.PCI {
		return nil, fmt.Errorf("dpdk: open %q: PCI device but EAL runs with --no-pci (set EALConfig.PCI)", devargs)
	}
	if opts.RxQueues == 0 {
		opts.RxQueues = 1
	}
	if opts.TxQueues == 0 {
		opts.TxQueues = 1
	}
	if opts.RxDesc == 0 {
		opts.RxDesc = DefaultRxDesc
	}
	if opts.TxDesc == 0 {
		opts.TxDesc = DefaultTxDesc
	}
	if opts.RxQueues < 0 || opts.RxQueues > 1024 || opts.TxQueues < 0 || opts.TxQueues > 1024 ||
		opts.RxDesc < 0 || opts.RxDesc > 0xffff || opts.TxDesc < 0 || opts.TxDesc > 0xffff ||
		opts.MTU < 0 || opts.MTU > 0xffff {
		return nil, fmt.Errorf("dpdk: open %q: invalid options %+v", devargs, opts)
	}

	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return nil, fmt.Errorf("dpdk: open %q: EAL is closed", devargs)
	}
	var id C.uint16_t
	open := func() error {
		if err := checkKernelIfaces(name, devargs); err != nil {
			return err
		}
		cdev, cname := C.CString(devargs), C.CString(name)
		defer C.free(unsafe.Pointer(cdev))
		defer C.free(unsafe.Pointer(cname))
		ret := C.goko_port_probe(cdev, cname, &id)
		if ret < 0 {
			hint := "see the DPDK log on stderr"
			switch ret {
			case -C.ENODEV:
				hint = "probed, but it created no ethdev port"
			case -C.EFAULT:
				hint = "no bus or loaded driver recognises the device name"
			}
			return fmt.Errorf("dpdk: open %q: probe failed: %s (%s)", devargs, errnoString(int(-ret)), hint)
		}
		if _, open := e.ports[uint16(id)]; open {
			return fmt.Errorf("dpdk: open %q: device %q is already open", devargs, name)
		}
		var stage C.int
		promisc := C.int(1)
		if opts.NoPromiscuous {
			promisc = 0
		}
		ret = C.goko_port_setup(id, C.uint16_t(opts.RxQueues), C.uint16_t(opts.TxQueues),
			C.uint16_t(opts.RxDesc), C.uint16_t(opts.TxDesc), e.pool, promisc, C.int(opts.MTU), &stage)
		if ret < 0 {
			C.goko_port_close(id, 1)
			hint := ""
			if strings.Contains(name, "af_xdp") && setupStages[stage] == "rte_eth_rx_queue_setup" {
				hint = " (af_xdp: the interface queue may still be bound by an AF_XDP socket, e.g. of an " +
					"af_xdp port closed earlier in this process, which DPDK 22.11 leaks; see the DPDK log)"
			}
			return fmt.Errorf("dpdk: open %q: %s: %s%s", devargs, setupStages[stage], errnoString(int(-ret)), hint)
		}
		return nil
	}
	var err error
	if opts.Netns != "" {
		err = inNetns(opts.Netns, open)
	} else {
		e.onMain(func() { err = open() })
	}
	if err != nil {
		return nil, err
	}

	p := &Port{eal: e, id: uint16(id), name: opts.Name, devargs: devargs, netns: opts.Netns}
	if strings.HasPrefix(name, "net_af_xdp") || strings.HasPrefix(name, "eth_af_xdp") {
		p.xdpIf = devargValue(devargs, "iface")
	}
	if p.name == "" {
		p.name = name
	}
	for q := 0; q < opts.RxQueues; q++ {
		c := C.goko_rxq_new(id, C.uint16_t(q), C.SOCKET_ID_ANY)
		if c == nil {
			p.freeQueues()
			C.goko_port_close(id, 1)
			return nil, fmt.Errorf("dpdk: open %q: out of DPDK memory for queue state", devargs)
		}
		p.rx = append(p.rx, &rxQueue{c: c})
	}
	for q := 0; q < opts.TxQueues; q++ {
		c := C.goko_txq_new(id, C.uint16_t(q), C.SOCKET_ID_ANY, e.pool)
		if c == nil {
			p.freeQueues()
			C.goko_port_close(id, 1)
			return nil, fmt.Errorf("dpdk: open %q: out of DPDK memory for queue state", devargs)
		}
		p.tx = append(p.tx, &txQueue{c: c, room: uintptr(C.goko_stash_room(c))})
	}
	e.ports[p.id] = p
	return p, nil
}

// TxQueues returns the number of transmit queues (datapath.MultiQueuePort).
func (p *Port) TxQueues() int { return len(p.tx) }

// RxQueues returns the number of receive queues (datapath.MultiRxPort).
func (p *Port) RxQueues() int { return len(p.rx) }

// ID returns the DPDK port id.
func (p *Port) ID() uint16 { return p.id }

// Info reports the port's name, MAC address, MTU and link state.
func (p *Port) Info() datapath.PortInfo {
	p.mu.Lock()
	defer p.mu.Unlock()
	info := datapath.PortInfo{Name: p.name}
	if p.closed.Load() {
		return info
	}
	var (
		mac   [6]C.uint8_t
		mtu   C.uint16_t
		up    C.int
		speed C.uint32_t
	)
	C.goko_port_info(C.uint16_t(p.id), &mac[0], &mtu, &up, &speed, nil, 0)
	info.HWAddr = make(net.HardwareAddr, 6)
	for i := range mac {
		info.HWAddr[i] = byte(mac[i])
	}
	info.MTU = int(mtu)
	info.LinkUp = up != 0
	info.SpeedMb = uint32(speed)
	return info
}

// Stats returns the device counters (rte_eth_stats_get) plus the port's own
// drops: RxDropped = imissed + rx_nombuf + chains too long to linearize;
// TxDropped = packets Send could not queue (device full, too large for an
// mbuf, pool empty); RxErrors = ierrors; TxErrors = oerrors.
func (p *Port) Stats() datapath.PortStats {
	p.mu.Lock()
	defer p.mu.Unlock()
	var s datapath.PortStats
	if p.closed.Load() {
		return s
	}
	var out [8]C.uint64_t
	if C.goko_port_stats(C.uint16_t(p.id), &out[0]) == 0 {
		s.RxPackets, s.TxPackets = uint64(out[0]), uint64(out[1])
		s.RxBytes, s.TxBytes = uint64(out[2]), uint64(out[3])
		s.RxDropped = uint64(out[4]) + uint64(out[7])
		s.RxErrors, s.TxErrors = uint64(out[5]), uint64(out[6])
	}
	for _, q := range p.rx {
		s.RxDropped += atomic.LoadUint64((*uint64)(unsafe.Pointer(&q.c.drops)))
	}
	for _, q := range p.tx {
		s.TxDropped += atomic.LoadUint64((*uint64)(unsafe.Pointer(&q.c.drops)))
	}
	return s
}

// Close stops and closes the port and detaches its device. It waits for a
// Recv or Send running on another thread to return; later calls return 0.
// Packets received from the port stay valid and must still be released.
func (p *Port) Close() error {
	p.eal.mu.Lock()
	defer p.eal.mu.Unlock()
	if p.eal.closed {
		return nil
	}
	return p.closeLocked()
}

// closeLocked closes p; the caller holds p.eal.mu.
func (p *Port) closeLocked() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed.Swap(true) {
		return nil
	}
	for _, q := range p.rx {
		for q.busy.Load() != 0 {
			runtime.Gosched()
		}
	}
	for _, q := range p.tx {
		for q.busy.Load() != 0 {
			runtime.Gosched()
		}
	}
	delete(p.eal.ports, p.id)
	var ret C.int
	p.eal.onMain(func() { ret = C.goko_port_close(C.uint16_t(p.id), 1) })
	p.freeQueues()
	var err error
	if ret < 0 {
		err = fmt.Errorf("dpdk: close %q: %s", p.devargs, errnoString(int(-ret)))
	}
	if p.xdpIf != "" {
		detach := func() error {
			cif := C.CString(p.xdpIf)
			defer C.free(unsafe.Pointer(cif))
			if r := C.goko_xdp_detach(cif); r < 0 {
				return fmt.Errorf("dpdk: close %q: detaching XDP from %s: %s", p.devargs, p.xdpIf, errnoString(int(-r)))
			}
			return nil
		}
		if p.netns != "" {
			err = errors.Join(err, inNetns(p.netns, detach))
		} else {
			err = errors.Join(err, detach())
		}
	}
	return err
}

// devargValue returns the value of key in a devargs string, or "".
func devargValue(devargs, key string) string {
	for _, kv := range strings.Split(devargs, ",")[1:] {
		if k, v, ok := strings.Cut(strings.TrimSpace(kv), "="); ok && k == key {
			return v
		}
	}
	return ""
}

// freeQueues frees the tx queue state (and the stash mbufs in it). The rx
// queue state stays until EAL.Close, because Release uses its scratch
// array and packets may be released after their port closed.
func (p *Port) freeQueues() {
	for _, q := range p.rx {
		p.eal.deadRx = append(p.eal.deadRx, q.c)
	}
	for _, q := range p.tx {
		C.goko_txq_free(q.c)
		q.c = nil
	}
}

// Recv receives up to len(pkts) (at most MaxBurst) packets from rx queue 0.
func (p *Port) Recv(pkts []datapath.Packet) int { return p.RecvQueue(0, pkts) }

// Send transmits pkts on tx queue 0; see SendQueue.
func (p *Port) Send(pkts []*datapath.Packet) int { return p.SendQueue(0, pkts) }

// Release frees packets received from this port; see ReleaseQueue.
func (p *Port) Release(pkts []datapath.Packet) { p.ReleaseQueue(0, pkts) }

// qarg passes a queue (C memory) to the burst helpers as an integer,
// which cgo does not check for Go pointers.
func qarg(q unsafe.Pointer) C.uintptr_t { return C.uintptr_t(uintptr(q)) }

// RecvQueue receives up to len(pkts) (at most MaxBurst) packets from rx
// queue q into pkts and returns how many it filled. Each packet's Data is
// the mbuf's data (data_off, data_len) and Buf the rte_mbuf pointer; it is
// valid until Release.
func (p *Port) RecvQueue(q int, pkts []datapath.Packet) int {
	rq := p.rx[q]
	n := len(pkts)
	if n > MaxBurst {
		n = MaxBurst
	}
	if n == 0 {
		return 0
	}
	rq.busy.Add(1)
	if p.closed.Load() {
		rq.busy.Add(-1)
		return 0
	}
	c := rq.c
	got := int(C.goko_rx_q(qarg(unsafe.Pointer(c)), C.uint16_t(n)))
	rq.busy.Add(-1)
	for i := 0; i < got; i++ {
		pkts[i].Data = unsafe.Slice((*byte)(c.addr[i]), int(c.len[i]))
		pkts[i].Buf = unsafe.Pointer(c.mbufs[i])
		// data_off is the headroom: a field read, not a cgo call.
		pkts[i].Head = int(c.mbufs[i].data_off)
	}
	return got
}

// SendQueue transmits pkts on tx queue q and returns how many the device
// accepted; the rest are counted in TxDropped. It never takes ownership:
//   - a packet whose Buf is one of this EAL's mbufs and whose Data lies
//     inside that mbuf's buffer (possibly re-sliced, e.g. after a header
//     push into the headroom or a pop) is sent without copying, with a
//     reference of its own;
//   - any other packet (Buf == nil, or Data elsewhere) is copied into a
//     fresh mbuf;
//   - nil packets, empty ones and ones larger than the mbuf data room
//     (copy path) or 65535 bytes are dropped.
//
// Bytes of a packet sent zero-copy must not be changed until the device
// is done with them, which for asynchronous devices (net_ring, physical
// NICs) is after SendQueue returns: send a copy (Buf == nil) instead if
// the datapath modifies the packet again for another port.
func (p *Port) SendQueue(q int, pkts []*datapath.Packet) int {
	return p.sendQueue(q, pkts, false, nil)
}

// SendAndRelease is Send followed by Release of the same packets (on
// whichever port received them), in one cgo call per burst: each DPDK
// packet's reference passes to the device instead of being duplicated and
// dropped, which saves two atomic refcount operations per packet. Use it
// for a packet's last output. Each packet must appear once; they are
// cleared.
func (p *Port) SendAndRelease(pkts []*datapath.Packet) int {
	return p.sendQueue(0, pkts, true, nil)
}

// SendHandoff is SendQueue, except that for each pkts[i] with own[i] set
// (the caller's last use of a packet it received from a port of this
// EAL) the caller's reference passes to the device, as with
// SendAndRelease, and the caller must not release that packet. A packet
// the port cannot take over that way (not one of this EAL's mbufs, or its
// Data not inside its mbuf, or the port closed) is sent as SendQueue
// sends it and its own[i] is cleared: the caller still releases it. It
// implements datapath.HandoffPort.
func (p *Port) SendHandoff(q int, pkts []*datapath.Packet, own []bool) int {
	if len(own) < len(pkts) {
		own = nil // misuse: hand nothing over
	}
	return p.sendQueue(q, pkts, false, own)
}

// sendQueue sends pkts on queue q. With consume every packet's reference
// is handed over (SendAndRelease); otherwise own, if not nil, says which
// may be (SendHandoff).
func (p *Port) sendQueue(q int, pkts []*datapath.Packet, consume bool, own []bool) int {
	tq := p.tx[q]
	sent := 0
	for len(pkts) > 0 {
		n := len(pkts)
		if n > MaxBurst {
			n = MaxBurst
		}
		tq.busy.Add(1)
		if p.closed.Load() {
			tq.busy.Add(-1)
			if consume {
				releaseAll(pkts)
			}
			clear(own)
			return sent
		}
		var o []bool
		if own != nil {
			o, own = own[:n], own[n:]
		}
		sent += tq.send(pkts[:n], consume, o)
		tq.busy.Add(-1)
		pkts = pkts[n:]
	}
	return sent
}

// releaseAll frees the DPDK packets of pkts, for SendAndRelease on a
// closed port (rare: one cgo call per packet).
func releaseAll(pkts []*datapath.Packet) {
	for _, pk := range pkts {
		if pk != nil && uintptr(pk.Buf) >= mbufLo && uintptr(pk.Buf) < mbufHi {
			C.rte_pktmbuf_free((*C.struct_rte_mbuf)(pk.Buf))
		}
		if pk != nil {
			*pk = datapath.Packet{}
		}
	}
}

// send fills the C slots for one burst and transmits it (one cgo call,
// plus one to refill the copy stash if a burst copies more than it holds).
// With consume, every packet's reference is handed over (SendAndRelease);
// with own (nil, or len(pkts) long), those of the zero-copy packets it
// marks, and it is cleared for the others.
func (tq *txQueue) send(pkts []*datapath.Packet, consume bool, own []bool) int {
	c := tq.c
	lo, hi := mbufLo, mbufHi
	for i, pk := range pkts {
		if pk == nil {
			c.kind[i] = C.GOKO_TX_DROP
			if own != nil {
				own[i] = false
			}
			continue
		}
		b := uintptr(pk.Buf)
		ours := b >= lo && b < hi
		if len(pk.Data) == 0 || len(pk.Data) > 0xffff {
			c.kind[i] = C.GOKO_TX_DROP
		} else if ok := tq.slot(i, pk, ours); !ok {
			c.kind[i] = C.GOKO_TX_DROP
		}
		if own != nil && own[i] {
			if c.kind[i] == C.GOKO_TX_ZC {
				c.kind[i] = C.GOKO_TX_ZC_OWN
			} else {
				own[i] = false
			}
		}
		if consume {
			if ours && c.kind[i] != C.GOKO_TX_ZC {
				c.free[c.nfree] = (*C.struct_rte_mbuf)(pk.Buf)
				c.nfree++
			}
			*pk = datapath.Packet{}
		}
	}
	ci := C.int(0)
	if consume {
		ci = 1
	}
	return int(C.goko_tx_q(qarg(unsafe.Pointer(c)), C.uint16_t(len(pkts)), ci))
}

// slot fills tx slot i for pk: zero copy if its Data lies in its mbuf,
// else a copy into a stash mbuf. It reports false if pk must be dropped.
func (tq *txQueue) slot(i int, pk *datapath.Packet, ours bool) bool {
	c := tq.c
	d := uintptr(unsafe.Pointer(unsafe.SliceData(pk.Data)))
	l := uintptr(len(pk.Data))
	if ours {
		m := (*C.struct_rte_mbuf)(pk.Buf)
		start := uintptr(m.buf_addr)
		if d >= start && d+l <= start+uintptr(m.buf_len) {
			c.kind[i] = C.GOKO_TX_ZC
			c.mbufs[i] = m
			c.off[i] = C.uint32_t(d - start)
			c.len[i] = C.uint16_t(l)
			return true
		}
	}
	if l > tq.room {
		return false
	}
	if c.stash_n == 0 {
		C.goko_stash_refill(c)
		if c.stash_n == 0 {
			return false
		}
	}
	c.stash_n--
	j := c.stash_n
	copy(unsafe.Slice((*byte)(c.stash_data[j]), l), pk.Data)
	c.kind[i] = C.GOKO_TX_COPY
	c.mbufs[i] = c.stash[j]
	c.len[i] = C.uint16_t(l)
	return true
}

// ReleaseQueue frees packets received from rx queue q of this port (one
// cgo call per MaxBurst packets) and clears them. Packets whose Buf is nil
// or not one of this EAL's mbufs are skipped.
func (p *Port) ReleaseQueue(q int, pkts []datapath.Packet) {
	c := p.rx[q].c
	lo, hi := mbufLo, mbufHi
	k := 0
	for i := range pkts {
		b := pkts[i].Buf
		pkts[i] = datapath.Packet{}
		if uintptr(b) < lo || uintptr(b) >= hi {
			continue
		}
		c.rel[k] = (*C.struct_rte_mbuf)(b)
		k++
		if k == MaxBurst {
			C.goko_release_q(qarg(unsafe.Pointer(c)), C.uint16_t(k))
			k = 0
		}
	}
	if k > 0 {
		C.goko_release_q(qarg(unsafe.Pointer(c)), C.uint16_t(k))
	}
}

// KernelPortDevargs returns the devargs that attach a DPDK port, named
// net_af_packet<idx>, to the existing kernel interface ifname through an
// AF_PACKET (PACKET_MMAP) socket with one queue pair.
func KernelPortDevargs(ifname string, idx int) string {
	return fmt.Sprintf("net_af_packet%d,iface=%s,qpairs=1", idx, ifname)
}

// inNetns runs fn on a thread that has entered the network namespace ns,
// then moves the thread back (or, if that fails, lets it die).
func inNetns(ns string, fn func() error) error {
	path := ns
	if !strings.Contains(ns, "/") {
		path = "/var/run/netns/" + ns
	}
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		orig, err := os.Open("/proc/thread-self/ns/net")
		if err != nil {
			runtime.UnlockOSThread()
			errc <- fmt.Errorf("dpdk: netns: %w", err)
			return
		}
		defer orig.Close()
		target, err := os.Open(path)
		if err != nil {
			runtime.UnlockOSThread()
			errc <- fmt.Errorf("dpdk: netns %q: %w", ns, err)
			return
		}
		defer target.Close()
		if err := setns(target); err != nil {
			runtime.UnlockOSThread()
			errc <- fmt.Errorf("dpdk: entering netns %q: %w", ns, err)
			return
		}
		ferr := fn()
		if err := setns(orig); err != nil {
			// Stay locked: the thread exits with this goroutine.
			errc <- errors.Join(ferr, fmt.Errorf("dpdk: leaving netns %q: %w", ns, err))
			return
		}
		runtime.UnlockOSThread()
		errc <- ferr
	}()
	return <-errc
}

func setns(f *os.File) error {
	if ret := C.goko_setns(C.int(f.Fd())); ret < 0 {
		return syscall.Errno(-ret)
	}
	return nil
}
