package datapath

import "unsafe"

// arena holds packet copies made while a burst is processed (outputs that
// must not see later rewrites, group buckets, frames that need headroom).
// It is reset after the burst's transmissions, which copy Go memory into
// the devices, so nothing is allocated per packet in the steady state.
type arena struct {
	buf  []byte
	off  int
	pkts []Packet
	n    int
}

const (
	arenaBytes   = 256 << 10
	arenaPackets = 256
	pushHeadroom = 64 // room left in front of a copy for header pushes
)

func (a *arena) init() {
	a.buf = make([]byte, arenaBytes)
	a.pkts = make([]Packet, arenaPackets)
}

// clone copies pkt with head bytes of headroom.
func (a *arena) clone(pkt *Packet, head int) *Packet {
	need := head + len(pkt.Data)
	if a.off+need > len(a.buf) || a.n == len(a.pkts) {
		// Exhausted mid-burst: queued packets still point into the old
		// memory, so take fresh memory rather than reuse it.
		a.buf = make([]byte, max(arenaBytes, need))
		a.pkts = make([]Packet, arenaPackets)
		a.off, a.n = 0, 0
	}
	d := a.buf[a.off+head : a.off+need : a.off+need]
	copy(d, pkt.Data)
	a.off += need
	c := &a.pkts[a.n]
	a.n++
	c.Data, c.Buf, c.Head = d, nil, head // field by field, see flowCache.filtersPass
	return c
}

func (a *arena) reset() { a.off, a.n = 0, 0 }

// prepend grows pkt.Data by n bytes at the front, into its headroom, or
// into a copy with headroom when it has too little. The new bytes are
// uninitialised.
func (p *pmd) prepend(pkt *Packet, n int) {
	if pkt.Head < n {
		*pkt = *p.arena.clone(pkt, pushHeadroom)
	}
	base := unsafe.Add(unsafe.Pointer(unsafe.SliceData(pkt.Data)), -n)
	pkt.Data = unsafe.Slice((*byte)(base), len(pkt.Data)+n)
	pkt.Head -= n
}
