package ofproto

import (
	"bufio"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"testing"
	"time"

	"github.com/goko-net/goko/datapath"
	"github.com/goko-net/goko/openflow"
)

// rawConn serves a bridge on a loopback TCP connection and returns the
// client's end: a real socket, so that a close with unread input behaves as
// it does for a remote controller.
func rawConn(t *testing.T, b *Bridge) net.Conn {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	cli, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	srv, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	go b.Serve(srv)
	t.Cleanup(func() { cli.Close() })
	return cli
}

func newRawBridge(t *testing.T) *Bridge {
	b := New(Config{Name: "br0", DatapathID: 0x1})
	dp := datapath.New(datapath.Config{Name: "br0", Translator: b, Upcaller: b})
	b.SetDatapath(dp)
	t.Cleanup(b.Close)
	return b
}

// TestFatalErrorReachesPeer: a message the switch cannot frame, or a HELLO
// with no common version, ends the session, but only after the ERROR that
// says why has reached the peer; input the peer sent after it does not turn
// the close into a reset that loses the ERROR.
func TestFatalErrorReachesPeer(t *testing.T) {
	hdr := func(version uint8, typ openflow.Type, length uint16, xid uint32) []byte {
		h := make([]byte, 8)
		h[0], h[1] = version, uint8(typ)
		binary.BigEndian.PutUint16(h[2:], length)
		binary.BigEndian.PutUint32(h[4:], xid)
		return h
	}
	junk := make([]byte, 64<<10)
	for i := range junk {
		junk[i] = 0x04
	}
	tests := []struct {
		name     string
		send     []byte
		want     openflow.ErrorCode
		wantXID  uint32
		trailing []byte
	}{
		{"length 0", hdr(4, openflow.TypeEchoRequest, 0, 7), openflow.BRCBadLen, 7, nil},
		{"length 7", hdr(4, openflow.TypeEchoRequest, 7, 8), openflow.BRCBadLen, 8, nil},
		{"length 7, then more input", hdr(4, openflow.TypeEchoRequest, 7, 9), openflow.BRCBadLen, 9, junk},
		{"hello 1.0 only", hdr(1, openflow.TypeHello, 8, 10), openflow.HFCIncompatible, 10, nil},
		{"hello 1.0 only, then more input", hdr(1, openflow.TypeHello, 8, 11), openflow.HFCIncompatible, 11, junk},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b := newRawBridge(t)
			cli := rawConn(t, b)
			cli.SetDeadline(time.Now().Add(5 * time.Second))
			if _, err := cli.Write(append(append([]byte(nil), tc.send...), tc.trailing...)); err != nil {
				t.Fatal(err)
			}
			rd := bufio.NewReader(cli)
			var got *openflow.ErrorMsg
			var gotXID uint32
			for got == nil {
				raw, err := openflow.ReadMessage(rd, nil)
				if err != nil {
					t.Fatalf("connection ended before an ERROR: %v", err)
				}
				xid, m, err := openflow.Decode(raw)
				if err != nil {
					t.Fatal(err)
				}
				if e, ok := m.(*openflow.ErrorMsg); ok {
					got, gotXID = e, xid
				}
			}
			if got.Code != tc.want || gotXID != tc.wantXID {
				t.Errorf("ERROR %v xid %d, want %v xid %d", got.Code, gotXID, tc.want, tc.wantXID)
			}
			// Then the switch hangs up.
			if _, err := io.Copy(io.Discard, rd); err != nil && !errors.Is(err, io.EOF) {
				t.Errorf("after the ERROR: %v, want EOF", err)
			}
		})
	}
}

// shortProbes makes the liveness timers short for one test.
func shortProbes(t *testing.T) {
	oldInterval, oldTimeout := probeInterval, probeTimeout
	probeInterval, probeTimeout = 20*time.Millisecond, 60*time.Millisecond
	t.Cleanup(func() { probeInterval, probeTimeout = oldInterval, oldTimeout })
}

// handshake reads the switch's HELLO and sends ours.
func handshake(t *testing.T, cli net.Conn, rd *bufio.Reader) {
	t.Helper()
	cli.SetDeadline(time.Now().Add(5 * time.Second))
	raw, err := openflow.ReadMessage(rd, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, m, _ := openflow.Decode(raw); m == nil || m.Type() != openflow.TypeHello {
		t.Fatalf("switch opened with %v, want HELLO", m)
	}
	writeMsg(t, cli, 1, openflow.NewHello(openflow.Version))
}

func writeMsg(t *testing.T, w io.Writer, xid uint32, m openflow.Message) {
	t.Helper()
	b, err := openflow.Marshal(xid, m)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write(b); err != nil {
		t.Fatal(err)
	}
}

// TestBusyPeerIsNotIdle: a peer whose request takes longer than the
// inactivity timeout is waiting for the switch, not idle; it gets its
// answer instead of being dropped.
func TestBusyPeerIsNotIdle(t *testing.T) {
	shortProbes(t)
	b := newRawBridge(t)
	cli := rawConn(t, b)
	rd := bufio.NewReader(cli)
	handshake(t, cli, rd)
	// Hold the bridge so that the flow-mod takes 20 timeouts.
	b.modMu.Lock()
	writeMsg(t, cli, 2, addFlow(10, openflow.Match{}, nil))
	writeMsg(t, cli, 3, &openflow.BarrierRequest{})
	time.Sleep(20 * probeTimeout)
	b.modMu.Unlock()
	cli.SetDeadline(time.Now().Add(5 * time.Second))
	for {
		raw, err := openflow.ReadMessage(rd, nil)
		if err != nil {
			t.Fatalf("no barrier reply after a long request: %v", err)
		}
		xid, m, _ := openflow.Decode(raw)
		if e, ok := m.(*openflow.ErrorMsg); ok {
			t.Fatalf("flow-mod failed: %v", e.Code)
		}
		if m != nil && m.Type() == openflow.TypeBarrierReply && xid == 3 {
			break
		}
	}
}

// TestPeerThatDoesNotReadIsDropped: a peer that keeps sending requests but
// never reads the replies is dropped once the switch cannot write for the
// inactivity timeout, although it is never idle.
func TestPeerThatDoesNotReadIsDropped(t *testing.T) {
	shortProbes(t)
	b := newRawBridge(t)
	cli := rawConn(t, b)
	cli.(*net.TCPConn).SetReadBuffer(4096)
	rd := bufio.NewReader(cli)
	handshake(t, cli, rd)
	echo, err := openflow.Marshal(9, &openflow.EchoRequest{Data: make([]byte, 8<<10)})
	if err != nil {
		t.Fatal(err)
	}
	cli.SetDeadline(time.Now().Add(10 * time.Second))
	for {
		if _, err := cli.Write(echo); err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				t.Fatal("switch still accepts requests from a peer that has read nothing for 10s")
			}
			return // the switch hung up
		}
	}
}
