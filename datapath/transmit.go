package datapath

// Transmission.
//
// Every output, native or encapsulated (tunnel.go), goes through enqueue:
// a pmd gathers the packets for each port of the port set in its own
// txQueue and sends them a burst at a time, when the queue is full and
// after each received burst (flushTx). Nothing is shared but the device:
// with several pmds, a multi-queue port gets one transmit queue per pmd,
// or, when it has fewer queues than pmds, a lock per queue (vport.txLocks).
// Send copies or references the frames before it returns, so the arena
// (arena.go) can be reset once flushTx is done.
//
// Handoff. A received packet is referenced by the burst (p.rel, released
// after the burst) and by every zero-copy output of it. At the end of a
// burst, a packet queued exactly once, as received (its own buffer), is
// offered to a HandoffPort for that last use: the device then gets the
// datapath's reference instead of a new one, and the packet is left out
// of the release. An output flushed mid-burst (a full queue) never hands
// off, because later outputs of the same packet may follow; an output
// at the end then may, since the earlier one took its own reference.

import (
	"sync"
	"unsafe"
)

// txQueue is one port's packets waiting to be sent by this pmd.
type txQueue struct {
	vp   *vport
	hp   HandoffPort // vp.port, if it is one
	pkts [BurstSize]*Packet
	n    int
	own  [BurstSize]bool // SendHandoff's argument
	idx  [BurstSize]int8 // the received packet each handed-off slot is
}

// flushTx sends every queued packet and folds the tunnel counts. n is how
// many packets of p.pkts the burst received: the last uses of those are
// handed off where the port allows (see above), and p.handed says which.
func (p *pmd) flushTx(n int) {
	p.flushTunnelTx()
	if n > 0 {
		clear(p.refs[:n])
		for i := range p.tx {
			q := &p.tx[i]
			if q.hp == nil {
				continue
			}
			for j, pk := range q.pkts[:q.n] {
				k := p.burstIndex(pk, n)
				q.idx[j] = int8(k)
				if k >= 0 {
					p.refs[k]++
				}
			}
		}
	}
	for i := range p.tx {
		q := &p.tx[i]
		if q.n == 0 {
			continue
		}
		if n == 0 || q.hp == nil || !p.markHandoffs(q) {
			p.flushQueue(q, nil)
			continue
		}
		own, idx := q.own[:q.n], q.idx[:q.n]
		p.flushQueue(q, own)
		for j, o := range own {
			if o {
				p.handed[idx[j]] = true
				p.nHanded++
			}
		}
		clear(own)
	}
}

// markHandoffs sets q.own for the queued packets whose last use this is
// (see above) and reports whether there is any. q.idx holds each queued
// packet's index in the burst (-1: not a received packet).
func (p *pmd) markHandoffs(q *txQueue) bool {
	any := false
	for j, pk := range q.pkts[:q.n] {
		i := q.idx[j]
		if i < 0 || p.refs[i] != 1 || pk.Buf == nil || pk.Buf != p.rel[i].Buf {
			continue
		}
		q.own[j] = true
		any = true
	}
	return any
}

// burstIndex returns i if pk is &p.pkts[i] with i < n, else -1.
func (p *pmd) burstIndex(pk *Packet, n int) int {
	const size = unsafe.Sizeof(Packet{})
	off := uintptr(unsafe.Pointer(pk)) - uintptr(unsafe.Pointer(&p.pkts[0]))
	if i := off / size; i < uintptr(n) && off%size == 0 {
		return int(i)
	}
	return -1
}

// flushQueue sends q's packets on this pmd's transmit queue of the port,
// handing off those own marks when own is not nil (q.hp is then set).
func (p *pmd) flushQueue(q *txQueue, own []bool) {
	qi := 0
	var lock *sync.Mutex
	mq, multi := q.vp.port.(MultiQueuePort)
	if multi = multi && p.dp.cfg.PMDs > 1; multi {
		qi = p.idx
		if locks := q.vp.txLocks; locks != nil {
			qi = p.idx % len(locks)
			lock = &locks[qi]
			lock.Lock()
		}
	}
	switch {
	case own != nil:
		q.hp.SendHandoff(qi, q.pkts[:q.n], own)
	case multi:
		mq.SendQueue(qi, q.pkts[:q.n])
	default:
		q.vp.port.Send(q.pkts[:q.n])
	}
	if lock != nil {
		lock.Unlock()
	}
	clear(q.pkts[:q.n])
	q.n = 0
}

// enqueue adds pkt to q, one of p.tx, flushing q when full. It is small
// enough to inline into every output path (keep it so: it runs per
// packet).
func (p *pmd) enqueue(q *txQueue, pkt *Packet) {
	if q.n == BurstSize {
		p.flushQueue(q, nil)
	}
	q.pkts[q.n] = pkt
	q.n++
}
