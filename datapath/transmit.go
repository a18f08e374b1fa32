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

// txQueue is one port's packets waiting to be sent by this pmd.
type txQueue struct {
	vp   *vport
	pkts [BurstSize]*Packet
	n    int
}

// flushTx sends every queued packet and folds the tunnel counts.
func (p *pmd) flushTx() {
	p.flushTunnelTx()
	for i := range p.tx {
		if p.tx[i].n > 0 {
			p.flushQueue(&p.tx[i])
		}
	}
}

// flushQueue sends q's packets on this pmd's transmit queue of the port.
func (p *pmd) flushQueue(q *txQueue) {
	if mq, ok := q.vp.port.(MultiQueuePort); ok && p.dp.cfg.PMDs > 1 {
		if locks := q.vp.txLocks; locks != nil {
			l := &locks[p.idx%len(locks)]
			l.Lock()
			mq.SendQueue(p.idx%len(locks), q.pkts[:q.n])
			l.Unlock()
		} else {
			mq.SendQueue(p.idx, q.pkts[:q.n])
		}
	} else {
		q.vp.port.Send(q.pkts[:q.n])
	}
	clear(q.pkts[:q.n])
	q.n = 0
}

// enqueue adds pkt to q, one of p.tx, flushing q when full. It is small
// enough to inline into every output path (keep it so: it runs per
// packet).
func (p *pmd) enqueue(q *txQueue, pkt *Packet) {
	if q.n == BurstSize {
		p.flushQueue(q)
	}
	q.pkts[q.n] = pkt
	q.n++
}
