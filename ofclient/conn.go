package ofclient

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"time"

	"github.com/goko-net/goko/openflow"
)

// Client side of an OpenFlow 1.3 connection.
//
// Design: one goroutine reads and decodes every message the switch sends
// and queues it; the caller's goroutine writes requests and takes replies
// from the queue, matching them by xid. Reading in the background keeps
// the switch able to write (errors, echo requests) while we pipeline
// thousands of flow mods without reading, so neither side can block the
// other. The reader answers ECHO_REQUEST itself so that a long command is
// never dropped by the switch's keepalive.

// Conn is an OpenFlow 1.3 connection to a switch, after the HELLO
// exchange. Its methods are not safe for concurrent use, except Close.
type Conn struct {
	nc  net.Conn
	wmu sync.Mutex // guards bw (the reader writes echo replies)
	bw  *bufio.Writer
	xid uint32 // the last xid used

	mu      sync.Mutex
	queue   []inbound
	readErr error
	wake    chan struct{} // signalled (cap 1) when queue or readErr changes
	done    chan struct{} // closed when the reader stops

	// stray holds ERROR messages that arrived while waiting for another
	// reply; Barrier returns them.
	stray []*SwitchError

	// PeerVersion is the version in the switch's HELLO header.
	PeerVersion uint8
}

type inbound struct {
	xid uint32
	msg openflow.Message
	err error // decoding error of this message
}

// ErrVersion is returned by the handshake when the switch does not speak
// OpenFlow 1.3.
var ErrVersion = errors.New("switch does not support OpenFlow 1.3")

// NewConn performs the HELLO exchange on an established connection (for
// example one end of a net.Pipe) and starts the reader. It sends HELLO
// with xid 1 and an OpenFlow 1.3 version bitmap, like ovs-ofctl.
func NewConn(ctx context.Context, nc net.Conn) (*Conn, error) {
	c := &Conn{nc: nc, bw: bufio.NewWriterSize(nc, 64<<10), wake: make(chan struct{}, 1), done: make(chan struct{})}
	if dl, ok := ctx.Deadline(); ok {
		nc.SetDeadline(dl)
		defer nc.SetDeadline(time.Time{})
	}
	// Send our HELLO and read the switch's concurrently: over an
	// unbuffered net.Pipe, writing first would wait for a reader.
	werr := make(chan error, 1)
	go func() {
		_, err := c.send(openflow.NewHello(openflow.Version))
		if err == nil {
			err = c.flush()
		}
		werr <- err
	}()
	raw, err := openflow.ReadMessage(nc, nil)
	if err != nil {
		return nil, fmt.Errorf("reading the switch's HELLO: %w", err)
	}
	if err := <-werr; err != nil {
		return nil, fmt.Errorf("sending HELLO: %w", err)
	}
	_, m, err := openflow.Decode(raw)
	if err != nil {
		return nil, fmt.Errorf("bad HELLO from the switch: %w", err)
	}
	switch m := m.(type) {
	case *openflow.Hello:
		c.PeerVersion = m.Version
		if _, ok := m.Negotiate(); !ok {
			return nil, fmt.Errorf("%w (its HELLO offers version 0x%02x)", ErrVersion, m.Version)
		}
	case *openflow.ErrorMsg:
		return nil, fmt.Errorf("switch refused the connection: %s", ErrorName(m))
	default:
		return nil, fmt.Errorf("switch sent %v before HELLO", m.Type())
	}
	go c.reader()
	return c, nil
}

// SetWriteDeadline bounds every later write to the switch (a switch that
// stops reading would otherwise block a long add-flows forever).
func (c *Conn) SetWriteDeadline(t time.Time) error { return c.nc.SetWriteDeadline(t) }

// Close closes the connection.
func (c *Conn) Close() error {
	err := c.nc.Close()
	<-c.done
	return err
}

func (c *Conn) reader() {
	defer close(c.done)
	r := bufio.NewReaderSize(c.nc, 64<<10)
	var buf []byte
	for {
		raw, err := openflow.ReadMessage(r, buf)
		if err != nil {
			c.push(inbound{}, err)
			return
		}
		buf = raw[:0]
		xid, m, derr := openflow.Decode(raw)
		if echo, ok := m.(*openflow.EchoRequest); ok {
			c.wmu.Lock()
			b, err := openflow.Append(nil, xid, &openflow.EchoReply{Data: echo.Data})
			if err == nil {
				c.bw.Write(b)
				c.bw.Flush()
			}
			c.wmu.Unlock()
			continue
		}
		c.push(inbound{xid: xid, msg: m, err: derr}, nil)
	}
}

func (c *Conn) push(in inbound, readErr error) {
	c.mu.Lock()
	if readErr != nil {
		c.readErr = readErr
	} else {
		c.queue = append(c.queue, in)
	}
	c.mu.Unlock()
	select {
	case c.wake <- struct{}{}:
	default:
	}
}

// next returns the next message from the switch.
func (c *Conn) next(ctx context.Context) (inbound, error) {
	for {
		c.mu.Lock()
		if len(c.queue) > 0 {
			in := c.queue[0]
			c.queue[0] = inbound{}
			c.queue = c.queue[1:]
			c.mu.Unlock()
			return in, nil
		}
		err := c.readErr
		c.mu.Unlock()
		if err != nil {
			if errors.Is(err, net.ErrClosed) || errors.Is(err, io.EOF) {
				return inbound{}, errors.New("switch closed the connection")
			}
			return inbound{}, fmt.Errorf("reading from the switch: %w", err)
		}
		select {
		case <-c.wake:
		case <-ctx.Done():
			return inbound{}, fmt.Errorf("waiting for the switch: %w", ctx.Err())
		}
	}
}

// send appends m with a new xid to the write buffer.
func (c *Conn) send(m openflow.Message) (uint32, error) {
	c.xid++
	return c.xid, c.sendXID(c.xid, m)
}

func (c *Conn) sendXID(xid uint32, m openflow.Message) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	b, err := openflow.Append(nil, xid, m)
	if err != nil {
		return fmt.Errorf("encoding %v: %w", m.Type(), err)
	}
	_, err = c.bw.Write(b)
	return err
}

func (c *Conn) flush() error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	return c.bw.Flush()
}

// SkipXID makes the next request use an xid one higher than it would
// otherwise. ofctl uses it to number its requests as ovs-ofctl does
// (ovs-ofctl sends extra requests on extra connections), so that printed
// "(xid=0x5)" headers agree.
func (c *Conn) SkipXID() { c.xid++ }

// Send queues m with a fresh xid without waiting for a reply; Flush,
// Barrier or any request sends it. Replies to it (typically ERRORs) are
// collected by Barrier.
func (c *Conn) Send(m openflow.Message) (xid uint32, err error) { return c.send(m) }

// Flush writes queued messages to the switch.
func (c *Conn) Flush() error { return c.flush() }

// Request sends m and waits for the reply with its xid. An ERROR reply
// is returned as a *SwitchError. Messages with other xids that arrive
// meanwhile are dropped, except ERRORs, which Barrier reports later.
func (c *Conn) Request(ctx context.Context, m openflow.Message) (openflow.Message, uint32, error) {
	xid, err := c.send(m)
	if err != nil {
		return nil, xid, err
	}
	if err := c.flush(); err != nil {
		return nil, xid, fmt.Errorf("writing to the switch: %w", err)
	}
	for {
		in, err := c.next(ctx)
		if err != nil {
			return nil, xid, err
		}
		if in.xid != xid {
			c.keepStray(in)
			continue
		}
		if in.err != nil {
			return nil, xid, fmt.Errorf("bad reply to %v: %w", m.Type(), in.err)
		}
		if e, ok := in.msg.(*openflow.ErrorMsg); ok {
			return nil, xid, &SwitchError{Xid: xid, Msg: e}
		}
		return in.msg, xid, nil
	}
}

func (c *Conn) keepStray(in inbound) {
	if e, ok := in.msg.(*openflow.ErrorMsg); ok {
		c.stray = append(c.stray, &SwitchError{Xid: in.xid, Msg: e})
	}
}

// Multipart sends a multipart request with body and gathers the bodies of
// all its replies (following the MORE flag), in order.
func (c *Conn) Multipart(ctx context.Context, body openflow.MultipartBody) ([]openflow.MultipartBody, uint32, error) {
	xid, err := c.send(&openflow.MultipartRequest{Body: body})
	if err != nil {
		return nil, xid, err
	}
	if err := c.flush(); err != nil {
		return nil, xid, fmt.Errorf("writing to the switch: %w", err)
	}
	var out []openflow.MultipartBody
	for {
		in, err := c.next(ctx)
		if err != nil {
			return nil, xid, err
		}
		if in.xid != xid {
			c.keepStray(in)
			continue
		}
		if in.err != nil {
			return nil, xid, fmt.Errorf("bad %v reply: %w", body.MultipartType(), in.err)
		}
		switch m := in.msg.(type) {
		case *openflow.ErrorMsg:
			return nil, xid, &SwitchError{Xid: xid, Msg: m}
		case *openflow.MultipartReply:
			if m.Body.MultipartType() != body.MultipartType() {
				return nil, xid, fmt.Errorf("switch answered a %v request with a %v reply", body.MultipartType(), m.Body.MultipartType())
			}
			out = append(out, m.Body)
			if m.Flags&openflow.MultipartMore == 0 {
				return out, xid, nil
			}
		default:
			return nil, xid, fmt.Errorf("switch answered a %v request with %v", body.MultipartType(), in.msg.Type())
		}
	}
}

// Barrier sends a BARRIER_REQUEST and waits for its reply, so that every
// message sent before it has been processed. It returns the ERRORs the
// switch sent for earlier messages (those Send queued, and strays seen
// by Request), in the order received.
func (c *Conn) Barrier(ctx context.Context) ([]*SwitchError, error) {
	_, xid, err := c.Request(ctx, &openflow.BarrierRequest{})
	errs := c.stray
	c.stray = nil
	if err != nil {
		var se *SwitchError
		if errors.As(err, &se) && se.Xid == xid {
			return errs, fmt.Errorf("switch rejected the barrier request: %s", ErrorName(se.Msg))
		}
		return errs, err
	}
	return errs, nil
}

// Echo sends an ECHO_REQUEST with data and waits for the reply, returning
// the round-trip time.
func (c *Conn) Echo(ctx context.Context, data []byte) (time.Duration, error) {
	start := time.Now()
	m, _, err := c.Request(ctx, &openflow.EchoRequest{Data: data})
	if err != nil {
		return 0, err
	}
	if _, ok := m.(*openflow.EchoReply); !ok {
		return 0, fmt.Errorf("switch answered ECHO_REQUEST with %v", m.Type())
	}
	return time.Since(start), nil
}

// Receive returns the next message from the switch, whatever its xid
// (monitor uses it for asynchronous messages). A message that does not
// decode is returned with its error and a nil msg.
func (c *Conn) Receive(ctx context.Context) (xid uint32, msg openflow.Message, err error) {
	if err := c.flush(); err != nil {
		return 0, nil, fmt.Errorf("writing to the switch: %w", err)
	}
	in, err := c.next(ctx)
	if err != nil {
		return 0, nil, err
	}
	return in.xid, in.msg, in.err
}
