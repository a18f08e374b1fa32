package datapath

import (
	"net"
	"unsafe"
)

// BurstSize is the number of packets moved per receive or transmit call.
// Every per-packet cost that crosses cgo is amortised over a burst of this size.
const BurstSize = 32

// Packet is a view of one frame. Data aliases memory owned by the port that
// received the packet (a DPDK mbuf's data room, or a memory port's buffer);
// Buf is that port's opaque handle for the frame (an rte_mbuf pointer for
// DPDK ports, nil for frames that live only in Go memory such as
// packet-outs). A Packet stays valid until the receiving port's Release.
//
// Head is how many bytes of the same buffer precede Data[0] and may be
// written, so that a header push can grow Data at the front without a copy.
// Ports that cannot offer headroom leave it 0; the datapath then copies.
type Packet struct {
	Data []byte
	Buf  unsafe.Pointer
	Head int
}

// PortInfo describes a port as the OpenFlow layer reports it.
type PortInfo struct {
	Name    string
	HWAddr  net.HardwareAddr
	MTU     int
	LinkUp  bool
	SpeedMb uint32 // current link speed in Mbit/s, 0 if unknown
}

// PortStats are a port's cumulative counters.
type PortStats struct {
	RxPackets, TxPackets uint64
	RxBytes, TxBytes     uint64
	RxDropped, TxDropped uint64
	RxErrors, TxErrors   uint64
}

// Port is one packet I/O endpoint of the datapath. Recv, Send and Release are
// called only from the datapath thread that polls the port; Info, Stats and
// Close may be called from any goroutine.
//
// Ownership: packets returned by Recv belong to the datapath until it hands
// them back with Release. Send never takes ownership: a port that can
// transmit the caller's buffer without copying (DPDK to DPDK) takes its own
// reference, every other port copies. So one received packet can be sent to
// many ports (flood) and is then released once.
type Port interface {
	Info() PortInfo
	// Recv fills pkts (at most len(pkts), normally BurstSize) and returns
	// how many it filled.
	Recv(pkts []Packet) int
	// Send transmits pkts and returns how many the device accepted; the
	// rest are counted as tx drops.
	Send(pkts []*Packet) int
	// Release returns packets obtained from this port's Recv.
	Release(pkts []Packet)
	Stats() PortStats
	Close() error
}

// MultiQueuePort is a Port with several transmit queues. When a datapath
// runs several pmd threads, pmd i sends on queue i (sharing queue i mod n
// under a lock if the port has only n < pmds queues). A port that is not a
// MultiQueuePort must have a Send that is safe for concurrent use (memory
// ports are). Receiving is never shared: each receive queue is polled by
// one pmd at a time (see the threading model in datapath.go).
type MultiQueuePort interface {
	Port
	TxQueues() int
	SendQueue(q int, pkts []*Packet) int
}

// MultiRxPort is a Port with several receive queues (RSS). The datapath
// gives each queue to one pmd and calls RecvQueue and ReleaseQueue
// instead of Recv and Release; different queues are polled concurrently.
type MultiRxPort interface {
	Port
	RxQueues() int
	RecvQueue(q int, pkts []Packet) int
	ReleaseQueue(q int, pkts []Packet)
}

// HandoffPort is a Port that can take over the datapath's reference to a
// received packet it transmits (DPDK: the mbuf itself goes to the
// device), instead of taking a reference of its own and leaving the
// datapath to release the packet afterwards; for DPDK that saves an
// atomic reference count update and a free per packet. The datapath
// offers a packet only for its last use: one zero-copy output, at the end
// of the burst that received it.
type HandoffPort interface {
	Port
	// SendHandoff transmits pkts on transmit queue q as a MultiQueuePort's
	// SendQueue does (q is 0 for a port with one queue, where it is Send).
	// For each i with own[i] set, the caller gives up its reference to
	// pkts[i] (received from any port) if the port can take it over: the
	// port then transmits or frees the frame, and the caller must not
	// release it. The port clears own[i] for every packet it did not take
	// over, which the caller still releases.
	SendHandoff(q int, pkts []*Packet, own []bool) int
}
