package netctl

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"sync"

	"github.com/goko-net/goko/openflow"
)

// ofConn is the small OpenFlow 1.3 client netctl needs: flow-mods,
// flow stats and barriers. A goroutine reads everything the switch sends
// (and answers echo requests), so the switch can always write errors
// while we pipeline flow-mods.
type ofConn struct {
	nc  net.Conn
	wmu sync.Mutex
	bw  *bufio.Writer
	xid uint32
	in  chan inbound
}

type inbound struct {
	xid uint32
	msg openflow.Message
	err error
}

// dialOF connects and exchanges HELLOs.
func dialOF(ctx context.Context, network, addr string) (*ofConn, error) {
	var d net.Dialer
	nc, err := d.DialContext(ctx, network, addr)
	if err != nil {
		return nil, err
	}
	if dl, ok := ctx.Deadline(); ok {
		nc.SetDeadline(dl)
	}
	c := &ofConn{nc: nc, bw: bufio.NewWriterSize(nc, 64<<10), in: make(chan inbound, 64)}
	if err := c.send(openflow.NewHello(openflow.Version)); err != nil {
		nc.Close()
		return nil, err
	}
	raw, err := openflow.ReadMessage(nc, nil)
	if err != nil {
		nc.Close()
		return nil, fmt.Errorf("reading the switch's HELLO: %w", err)
	}
	if _, m, err := openflow.Decode(raw); err != nil {
		nc.Close()
		return nil, fmt.Errorf("bad HELLO: %w", err)
	} else if _, ok := m.(*openflow.Hello); !ok {
		nc.Close()
		return nil, fmt.Errorf("switch sent %v before HELLO", m.Type())
	}
	go c.reader()
	return c, nil
}

func (c *ofConn) reader() {
	defer close(c.in)
	var buf []byte
	for {
		raw, err := openflow.ReadMessage(c.nc, buf)
		if err != nil {
			c.in <- inbound{err: err}
			return
		}
		xid, m, err := openflow.Decode(raw)
		if err != nil {
			c.in <- inbound{xid: xid, err: err}
			continue
		}
		if e, ok := m.(*openflow.EchoRequest); ok {
			c.wmu.Lock()
			b, _ := openflow.Append(nil, xid, &openflow.EchoReply{Data: e.Data})
			c.bw.Write(b)
			c.bw.Flush()
			c.wmu.Unlock()
			continue
		}
		c.in <- inbound{xid: xid, msg: m}
	}
}

// send queues m with a fresh xid and flushes.
func (c *ofConn) send(m openflow.Message) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	c.xid++
	b, err := openflow.Append(nil, c.xid, m)
	if err != nil {
		return err
	}
	if _, err := c.bw.Write(b); err != nil {
		return err
	}
	return c.bw.Flush()
}

// waitFor reads until the reply with xid arrives; ERRORs for other xids
// are collected into errs. done reports whether a reply ends the wait.
func (c *ofConn) waitFor(ctx context.Context, xid uint32, errs *[]string, done func(openflow.Message) (bool, error)) error {
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case in, ok := <-c.in:
			if !ok {
				return fmt.Errorf("connection closed")
			}
			if in.err != nil {
				if in.msg == nil && in.xid == 0 {
					return in.err
				}
				continue
			}
			if e, ok := in.msg.(*openflow.ErrorMsg); ok {
				msg := fmt.Sprintf("%v", e.Code)
				if in.xid == xid {
					return fmt.Errorf("switch replied %s", msg)
				}
				*errs = append(*errs, msg)
				continue
			}
			if in.xid != xid {
				continue
			}
			if fin, err := done(in.msg); fin || err != nil {
				return err
			}
		}
	}
}

func (c *ofConn) flowStats(ctx context.Context, req *openflow.FlowStatsRequest, errs *[]string) ([]openflow.FlowStats, error) {
	if err := c.send(&openflow.MultipartRequest{Body: req}); err != nil {
		return nil, err
	}
	var out []openflow.FlowStats
	err := c.waitFor(ctx, c.xid, errs, func(m openflow.Message) (bool, error) {
		r, ok := m.(*openflow.MultipartReply)
		if !ok {
			return true, fmt.Errorf("switch answered flow stats with %v", m.Type())
		}
		fr, ok := r.Body.(*openflow.FlowStatsReply)
		if !ok {
			return true, fmt.Errorf("switch answered flow stats with %v", r.Body.MultipartType())
		}
		out = append(out, fr.Stats...)
		return r.Flags&openflow.MultipartMore == 0, nil
	})
	return out, err
}

func (c *ofConn) barrier(ctx context.Context, errs *[]string) error {
	if err := c.send(&openflow.BarrierRequest{}); err != nil {
		return err
	}
	return c.waitFor(ctx, c.xid, errs, func(m openflow.Message) (bool, error) {
		if _, ok := m.(*openflow.BarrierReply); !ok {
			return true, fmt.Errorf("switch answered a barrier with %v", m.Type())
		}
		return true, nil
	})
}

func (c *ofConn) Close() error { return c.nc.Close() }
