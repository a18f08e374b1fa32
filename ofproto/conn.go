package ofproto

// OpenFlow connections.
//
// Each connection has a reader goroutine that decodes and handles requests
// strictly in order (so a BARRIER_REPLY is sent only after everything before
// it took effect), and a writer goroutine that drains a queue of encoded
// messages. Replies wait for room in the queue; asynchronous messages
// (packet-in, flow-removed, port-status) are dropped when it is full, so a
// slow controller can never stall the datapath.
//
// Liveness. A peer that sends nothing for probeInterval gets an
// ECHO_REQUEST; one that still sends nothing for probeTimeout is dropped.
// The clock runs only while the switch waits for the peer: while one of
// the peer's requests is being handled (a delete of a million flows can
// take seconds) the peer is waiting for us, and the clock restarts when the
// request is done. A peer that does not read is dropped too: the writer
// stuck on one write for probeTimeout means the peer's window stays closed.

import (
	"bufio"
	"encoding/binary"
	"errors"
	"io"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/goko-net/goko/openflow"
)

const connQueueLen = 1024

// Liveness timers (variables so that tests can shorten them).
var (
	probeInterval = 5 * time.Second // idle time before we send an ECHO_REQUEST
	probeTimeout  = 3 * probeInterval
)

// Conn is one OpenFlow session with a controller or a management client.
type Conn struct {
	b    *Bridge
	nc   net.Conn
	log  *slog.Logger
	out  chan []byte
	done chan struct{}
	once sync.Once
	// flushed is closed by the writer when it has flushed everything
	// queued before flushAndClose's marker.
	flushed chan struct{}
	xid     atomic.Uint32
	ready   atomic.Bool // HELLO exchanged
	role    atomic.Uint32
	async   atomic.Pointer[openflow.AsyncConfig]
	lastRx  atomic.Int64 // unix ns of the last message read or request finished
	busy    atomic.Bool  // a request of the peer's is being handled
	// writeStart is the unix ns at which the writer began its current
	// write to the socket, or 0 between writes.
	writeStart atomic.Int64

	asyncDrops atomic.Uint64

	mpPending map[uint32]*mpPending // multipart requests being reassembled; reader goroutine only
	load      *pendingLoad          // filter program being loaded in chunks; reader goroutine only
}

// defaultAsync is the spec's default asynchronous configuration: masters and
// equals get every packet-in, port-status and flow-removed reason; slaves
// only port-status.
var defaultAsync = openflow.AsyncConfig{
	PacketInMask:    [2]uint32{0x7, 0},
	PortStatusMask:  [2]uint32{0x7, 0x7},
	FlowRemovedMask: [2]uint32{0xf, 0},
}

// Serve runs an OpenFlow session on nc until the peer disconnects or the
// bridge closes it. It always closes nc.
func (b *Bridge) Serve(nc net.Conn) {
	c := &Conn{
		b:       b,
		nc:      nc,
		log:     b.log.With("peer", nc.RemoteAddr().String()),
		out:     make(chan []byte, connQueueLen),
		done:    make(chan struct{}),
		flushed: make(chan struct{}),
	}
	a := defaultAsync
	c.async.Store(&a)
	c.role.Store(uint32(openflow.RoleEqual))
	c.lastRx.Store(time.Now().UnixNano())
	b.connMu.Lock()
	b.conns[c] = struct{}{}
	b.connMu.Unlock()
	defer func() {
		b.connMu.Lock()
		delete(b.conns, c)
		b.connMu.Unlock()
	}()

	c.log.Debug("openflow connection")
	go c.writer()
	go c.prober(probeInterval, probeTimeout)
	c.send(openflow.NewHello(openflow.Version))
	err := c.reader() // returns only when the session is over
	if _, ours := openflow.CodeOf(err); ours {
		// The session ends on our side with an ERROR that says why:
		// it must reach the peer before the socket closes.
		c.flushAndClose()
	}
	c.Close()
	if !errors.Is(err, io.EOF) && !errors.Is(err, net.ErrClosed) {
		c.log.Debug("openflow connection closed", "err", err)
	} else {
		c.log.Debug("openflow connection closed")
	}
}

// Close ends the session.
func (c *Conn) Close() {
	c.once.Do(func() {
		close(c.done)
		c.nc.Close()
	})
}

func (c *Conn) reader() error {
	r := bufio.NewReaderSize(c.nc, 64<<10)
	var buf []byte
	for {
		raw, err := openflow.ReadMessage(r, buf)
		if err != nil {
			if code, ok := openflow.CodeOf(err); ok {
				// The framing is lost: report and hang up.
				var xid uint32
				if len(raw) >= openflow.HeaderLen {
					xid = binary.BigEndian.Uint32(raw[4:8])
				}
				c.sendXID(xid, openflow.NewErrorReply(code, raw))
			}
			return err
		}
		buf = raw[:0]
		c.lastRx.Store(time.Now().UnixNano())
		xid, msg, err := openflow.Decode(raw)
		if err != nil {
			c.log.Debug("bad message", "err", err)
			c.sendXID(xid, openflow.ErrorReplyFor(err, raw, openflow.BRCBadType))
			continue
		}
		c.busy.Store(true)
		err = c.handle(xid, msg, raw)
		c.lastRx.Store(time.Now().UnixNano())
		c.busy.Store(false)
		if err != nil {
			return err
		}
	}
}

func (c *Conn) writer() {
	w := bufio.NewWriterSize(c.nc, 64<<10)
	for {
		select {
		case <-c.done:
			return
		case m := <-c.out:
			if m == nil {
				// flushAndClose's marker: everything before it is out.
				w.Flush()
				close(c.flushed)
				return
			}
			c.writeStart.Store(time.Now().UnixNano())
			_, err := w.Write(m)
			// Flush only when nothing else is queued, to batch bursts.
			if err == nil && len(c.out) == 0 {
				err = w.Flush()
			}
			c.writeStart.Store(0)
			if err != nil {
				c.Close()
				return
			}
		}
	}
}

// closeGrace bounds how long a session that ends on an error of ours waits
// for its last messages to leave and for the peer to read them.
const closeGrace = 2 * time.Second

// flushAndClose sends every queued message, then closes the connection
// gracefully: a FIN first, then reading and discarding whatever the peer
// still sends for a moment. Closing a socket with unread input makes the
// kernel send a reset, and a reset can make the peer drop the ERROR it has
// not read yet.
func (c *Conn) flushAndClose() {
	timer := time.NewTimer(closeGrace)
	defer timer.Stop()
	select {
	case c.out <- nil:
	case <-c.done:
		return
	case <-timer.C:
		return
	}
	select {
	case <-c.flushed:
	case <-c.done:
		return
	case <-timer.C:
		return
	}
	if cw, ok := c.nc.(interface{ CloseWrite() error }); ok && cw.CloseWrite() == nil {
		c.nc.SetReadDeadline(time.Now().Add(closeGrace))
		io.Copy(io.Discard, io.LimitReader(c.nc, 1<<20))
	}
	c.Close()
}

// prober sends ECHO_REQUESTs on an idle connection and drops a peer that
// stops answering, as OVS's inactivity probe does.
func (c *Conn) prober(probeInterval, probeTimeout time.Duration) {
	t := time.NewTicker(probeInterval)
	defer t.Stop()
	for {
		select {
		case <-c.done:
			return
		case <-t.C:
			if ws := c.writeStart.Load(); ws != 0 && time.Since(time.Unix(0, ws)) > probeTimeout {
				c.log.Warn("peer does not read, disconnecting", "stuck", time.Since(time.Unix(0, ws)).Round(time.Second))
				c.Close()
				return
			}
			if c.busy.Load() {
				continue // the peer waits for us
			}
			idle := time.Since(time.Unix(0, c.lastRx.Load()))
			if idle > probeTimeout {
				c.log.Warn("no message from peer, disconnecting", "idle", idle.Round(time.Second))
				c.Close()
				return
			}
			if idle >= probeInterval && c.ready.Load() {
				c.sendAsync(&openflow.EchoRequest{})
			}
		}
	}
}

// send queues a message with a fresh xid, waiting for room.
func (c *Conn) send(m openflow.Message) { c.sendXID(c.xid.Add(1), m) }

// sendXID queues a reply, waiting for room.
func (c *Conn) sendXID(xid uint32, m openflow.Message) {
	b, err := openflow.Marshal(xid, m)
	if err != nil {
		c.log.Error("encode reply", "type", m.Type(), "err", err)
		return
	}
	select {
	case c.out <- b:
	case <-c.done:
	}
}

// sendAsync queues an asynchronous message, dropping it if the queue is full.
func (c *Conn) sendAsync(m openflow.Message) {
	b, err := openflow.Marshal(c.xid.Add(1), m)
	if err != nil {
		c.log.Error("encode async message", "type", m.Type(), "err", err)
		return
	}
	c.queueAsync(b)
}

func (c *Conn) queueAsync(b []byte) {
	select {
	case c.out <- b:
	default:
		if c.asyncDrops.Add(1)&1023 == 1 {
			c.log.Warn("controller too slow, dropping asynchronous messages", "dropped", c.asyncDrops.Load())
		}
	}
}

// wants reports whether this connection should receive an asynchronous
// message of the given kind and reason under its role and async config.
func (c *Conn) wants(kind int, reason uint8) bool {
	if !c.ready.Load() {
		return false
	}
	a := c.async.Load()
	idx := 0
	if openflow.ControllerRole(c.role.Load()) == openflow.RoleSlave {
		idx = 1
	}
	var mask uint32
	switch kind {
	case asyncPacketIn:
		mask = a.PacketInMask[idx]
	case asyncPortStatus:
		mask = a.PortStatusMask[idx]
	case asyncFlowRemoved:
		mask = a.FlowRemovedMask[idx]
	}
	return mask&(1<<reason) != 0
}

const (
	asyncPacketIn = iota
	asyncPortStatus
	asyncFlowRemoved
)

// broadcast sends an asynchronous message to every connection that wants
// it. Asynchronous messages carry xid 0; the encoding is shared.
func (b *Bridge) broadcast(kind int, reason uint8, m openflow.Message) {
	var enc []byte
	b.connMu.Lock()
	defer b.connMu.Unlock()
	for c := range b.conns {
		if !c.wants(kind, reason) {
			continue
		}
		if enc == nil {
			var err error
			if enc, err = openflow.Marshal(0, m); err != nil {
				b.log.Error("encode async message", "type", m.Type(), "err", err)
				return
			}
		}
		c.queueAsync(enc)
	}
}
