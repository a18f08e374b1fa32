package ofclient

import (
	"context"
	"errors"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/goko-net/goko/openflow"
)

// script is the switch end of a net.Pipe, driven by the test.
type script struct {
	t  *testing.T
	nc net.Conn
}

func (s *script) send(xid uint32, m openflow.Message) {
	b, err := openflow.Marshal(xid, m)
	if err != nil {
		s.t.Error(err)
		return
	}
	if _, err := s.nc.Write(b); err != nil {
		s.t.Errorf("switch write: %v", err)
	}
}

func (s *script) recv() (uint32, openflow.Message) {
	raw, err := openflow.ReadMessage(s.nc, nil)
	if err != nil {
		s.t.Errorf("switch read: %v", err)
		return 0, nil
	}
	xid, m, err := openflow.Decode(raw)
	if err != nil {
		s.t.Errorf("switch decode: %v", err)
	}
	return xid, m
}

// pipe connects a Conn to a scripted switch; run plays the switch's part
// after it has sent hello (and read the client's).
func pipe(t *testing.T, hello openflow.Message, run func(s *script)) (*Conn, chan struct{}, error) {
	t.Helper()
	cn, sn := net.Pipe()
	s := &script{t: t, nc: sn}
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer sn.Close()
		sent := make(chan struct{})
		go func() { s.send(1, hello); close(sent) }()
		if _, m := s.recv(); m == nil || m.Type() != openflow.TypeHello {
			t.Errorf("client did not start with HELLO: %v", m)
			return
		}
		<-sent
		run(s)
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, err := NewConn(ctx, cn)
	t.Cleanup(func() {
		cn.Close()
		<-done
	})
	return c, done, err
}

func TestConnBarrierCollectsErrorsAndAnswersEcho(t *testing.T) {
	echoed := make(chan []byte, 1)
	c, _, err := pipe(t, &openflow.Hello{Version: 4}, func(s *script) {
		xid1, _ := s.recv() // flow mod 1
		xid2, _ := s.recv() // flow mod 2
		bxid, m := s.recv() // barrier
		if _, ok := m.(*openflow.BarrierRequest); !ok {
			t.Errorf("want a barrier, got %v", m)
		}
		s.send(xid2, openflow.NewErrorReply(openflow.BACBadOutPort, []byte{4, 14, 0, 8, 0, 0, 0, byte(xid2)}))
		// A keepalive in the middle: the client must answer it.
		s.send(77, &openflow.EchoRequest{Data: []byte("hi")})
		if xid, m := s.recv(); xid != 77 {
			t.Errorf("echo reply xid %d", xid)
		} else if r, ok := m.(*openflow.EchoReply); ok {
			echoed <- r.Data
		}
		s.send(99, &openflow.PacketIn{BufferID: openflow.NoBuffer}) // unsolicited: ignored
		s.send(bxid, &openflow.BarrierReply{})
		_ = xid1
	})
	if err != nil {
		t.Fatal(err)
	}
	if c.PeerVersion != 4 {
		t.Errorf("peer version %d", c.PeerVersion)
	}
	fm := &openflow.FlowMod{BufferID: openflow.NoBuffer}
	c.Send(fm)
	x2, _ := c.Send(fm)
	errs, err := c.Barrier(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(errs) != 1 || errs[0].Xid != x2 || errs[0].Msg.Code != openflow.BACBadOutPort {
		t.Errorf("errors: %+v", errs)
	}
	if d := <-echoed; string(d) != "hi" {
		t.Errorf("echo reply data %q", d)
	}
}

func TestConnMultipart(t *testing.T) {
	c, _, err := pipe(t, openflow.NewHello(1, 4, 5), func(s *script) {
		xid, _ := s.recv()
		s.send(xid, &openflow.MultipartReply{Flags: openflow.MultipartMore, Body: &openflow.PortStatsReply{Stats: []openflow.PortStats{{PortNo: 1}}}})
		s.send(xid+100, &openflow.EchoReply{}) // a stray reply: skipped
		s.send(xid, &openflow.MultipartReply{Body: &openflow.PortStatsReply{Stats: []openflow.PortStats{{PortNo: 2}}}})
		xid, _ = s.recv()
		s.send(xid, openflow.NewErrorReply(openflow.BRCBadMultipart, nil))
		xid, _ = s.recv()
		s.send(xid, &openflow.MultipartReply{Body: &openflow.DescReply{}})
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	bodies, _, err := c.Multipart(ctx, &openflow.PortStatsRequest{PortNo: openflow.PortAny})
	if err != nil || len(bodies) != 2 || bodies[1].(*openflow.PortStatsReply).Stats[0].PortNo != 2 {
		t.Errorf("port stats: %v %+v", err, bodies)
	}
	_, _, err = c.Multipart(ctx, &openflow.TableStatsRequest{})
	var se *SwitchError
	if !errors.As(err, &se) || se.Msg.Code != openflow.BRCBadMultipart {
		t.Errorf("table stats: want OFPBRC_BAD_MULTIPART, got %v", err)
	}
	_, _, err = c.Multipart(ctx, &openflow.TableStatsRequest{})
	if err == nil || !strings.Contains(err.Error(), "OFPMP_DESC reply") {
		t.Errorf("mismatched reply: %v", err)
	}
}

func TestConnHandshakeFailures(t *testing.T) {
	_, _, err := pipe(t, openflow.NewHello(1, 2), func(*script) {})
	if !errors.Is(err, ErrVersion) {
		t.Errorf("1.0/1.1-only switch: %v", err)
	}
	_, _, err = pipe(t, &openflow.Hello{Version: 1}, func(*script) {})
	if !errors.Is(err, ErrVersion) {
		t.Errorf("1.0 switch without bitmap: %v", err)
	}
	_, _, err = pipe(t, openflow.NewErrorReply(openflow.HFCIncompatible, nil), func(*script) {})
	if err == nil || !strings.Contains(err.Error(), "OFPHFC_INCOMPATIBLE") {
		t.Errorf("hello failed: %v", err)
	}
	_, _, err = pipe(t, &openflow.EchoRequest{}, func(*script) {})
	if err == nil || !strings.Contains(err.Error(), "before HELLO") {
		t.Errorf("no hello: %v", err)
	}
}

func TestConnClosedAndTimeout(t *testing.T) {
	c, done, err := pipe(t, openflow.NewHello(4), func(s *script) {
		s.recv() // the echo request; then hang up
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Echo(context.Background(), nil); err == nil || !strings.Contains(err.Error(), "closed") {
		t.Errorf("echo on a closed connection: %v", err)
	}
	<-done

	c, _, err = pipe(t, openflow.NewHello(4), func(s *script) {
		s.recv()
		time.Sleep(300 * time.Millisecond) // never answers
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if _, err := c.Echo(ctx, nil); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("want a timeout, got %v", err)
	}
}
