// Package memport provides in-memory datapath ports, with no cgo, for unit
// tests and in-process benchmarks.
//
// A Port is fed either by Inject (one frame at a time, from any goroutine)
// or by Replay (a fixed set of frames returned forever, for benchmarks). What
// the datapath sends to it is either queued for Receive or, with Discard,
// only counted.
package memport

import (
	"net"
	"sync/atomic"
	"time"

	"github.com/goko-net/goko/datapath"
)

// Port is an in-memory datapath.Port.
type Port struct {
	info    datapath.PortInfo
	rx      chan []byte
	tx      chan []byte
	discard bool
	replay  [][]byte
	next    int
	closed  atomic.Bool
	down    atomic.Bool

	rxPackets, rxBytes, txPackets, txBytes, txDropped atomic.Uint64
}

// Option configures a Port.
type Option func(*Port)

// WithHWAddr sets the port's MAC address.
func WithHWAddr(mac net.HardwareAddr) Option { return func(p *Port) { p.info.HWAddr = mac } }

// WithReplay makes Recv return frames round-robin, forever. The datapath may
// modify frames in place, so replayed frames must not be relied on after use.
func WithReplay(frames [][]byte) Option { return func(p *Port) { p.replay = frames } }

// WithDiscard makes the port count transmitted frames and drop them.
func WithDiscard() Option { return func(p *Port) { p.discard = true } }

// WithQueueLen sets the depth of the inject and receive queues (default 4096).
func WithQueueLen(n int) Option {
	return func(p *Port) {
		p.rx = make(chan []byte, n)
		p.tx = make(chan []byte, n)
	}
}

// New returns a port named name.
func New(name string, opts ...Option) *Port {
	p := &Port{
		info: datapath.PortInfo{Name: name, MTU: 1500, LinkUp: true, SpeedMb: 10000,
			HWAddr: net.HardwareAddr{0x02, 0, 0, 0, 0, byte(len(name))}},
	}
	for _, o := range opts {
		o(p)
	}
	if p.rx == nil {
		WithQueueLen(4096)(p)
	}
	return p
}

// Inject queues a copy of frame for the datapath to receive. It reports
// false if the queue is full.
func (p *Port) Inject(frame []byte) bool {
	select {
	case p.rx <- append([]byte(nil), frame...):
		return true
	default:
		return false
	}
}

// Receive returns the next frame the datapath sent, waiting up to timeout.
func (p *Port) Receive(timeout time.Duration) ([]byte, bool) {
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case f := <-p.tx:
		return f, true
	case <-t.C:
		return nil, false
	}
}

// SetLink changes the reported link state.
func (p *Port) SetLink(up bool) { p.down.Store(!up) }

// Info implements datapath.Port.
func (p *Port) Info() datapath.PortInfo {
	info := p.info
	info.LinkUp = !p.down.Load()
	return info
}

// Recv implements datapath.Port.
func (p *Port) Recv(pkts []datapath.Packet) int {
	if p.closed.Load() {
		return 0
	}
	n := 0
	if p.replay != nil {
		for ; n < len(pkts); n++ {
			f := p.replay[p.next]
			p.next++
			if p.next == len(p.replay) {
				p.next = 0
			}
			// field by field: a composite literal would be built in a
			// temporary and copied with loads the CPU cannot forward
			pk := &pkts[n]
			pk.Data, pk.Buf, pk.Head = f, nil, 0
			p.rxBytes.Add(uint64(len(f)))
		}
		p.rxPackets.Add(uint64(n))
		return n
	}
	for n < len(pkts) {
		select {
		case f := <-p.rx:
			pkts[n] = datapath.Packet{Data: f}
			p.rxBytes.Add(uint64(len(f)))
			n++
		default:
			p.rxPackets.Add(uint64(n))
			return n
		}
	}
	p.rxPackets.Add(uint64(n))
	return n
}

// Send implements datapath.Port.
func (p *Port) Send(pkts []*datapath.Packet) int {
	var bytes uint64
	for _, pk := range pkts {
		bytes += uint64(len(pk.Data))
	}
	if p.discard {
		p.txPackets.Add(uint64(len(pkts)))
		p.txBytes.Add(bytes)
		return len(pkts)
	}
	sent := 0
	for _, pk := range pkts {
		select {
		case p.tx <- append([]byte(nil), pk.Data...):
			sent++
			p.txBytes.Add(uint64(len(pk.Data)))
		default:
			p.txDropped.Add(1)
		}
	}
	p.txPackets.Add(uint64(sent))
	return sent
}

// Release implements datapath.Port; memory frames need no release.
func (p *Port) Release([]datapath.Packet) {}

// Stats implements datapath.Port.
func (p *Port) Stats() datapath.PortStats {
	return datapath.PortStats{
		RxPackets: p.rxPackets.Load(), RxBytes: p.rxBytes.Load(),
		TxPackets: p.txPackets.Load(), TxBytes: p.txBytes.Load(), TxDropped: p.txDropped.Load(),
	}
}

// Close implements datapath.Port.
func (p *Port) Close() error {
	p.closed.Store(true)
	return nil
}
