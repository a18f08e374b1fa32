// Command churn is the controller of bench/ovs-compare.sh's flow-churn
// scenarios: it adds and deletes OpenFlow 1.3 flows that match none of the
// benchmark's traffic, at a steady rate, as a controller doing MAC learning
// or security-group updates would.
//
// Flow i is "priority=100,ip,in_port=1,nw_dst=192.168.(i/256).(i%256)
// actions=drop": above the benchmark's rules, in the same table and for
// the same input port, so a switch has to decide that it does not affect
// the traffic. Each tick adds flow i and deletes flow i-live (strict), so
// -live flows exist at any time; every flow-mod is followed by a barrier,
// which the tool does not wait for (it keeps the rate; replies are
// counted). It runs until SIGTERM or SIGINT, or for -duration, and then
// prints one line:
//
//	churn: flowmods=N seconds=S rate=R barriers_answered=B errors=E
package main

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/goko-net/goko/openflow"
)

func main() {
	target := flag.String("target", "", "switch to connect to: tcp:HOST:PORT or unix:PATH")
	rate := flag.Float64("rate", 1000, "flow-mods per second (adds and deletes together)")
	live := flag.Int("live", 100, "churn flows present at any time")
	duration := flag.Duration("duration", 0, "stop after this long (0: at SIGTERM)")
	flag.Parse()
	if err := run(*target, *rate, *live, *duration); err != nil {
		fmt.Fprintln(os.Stderr, "churn:", err)
		os.Exit(1)
	}
}

func dial(target string) (net.Conn, error) {
	switch {
	case strings.HasPrefix(target, "tcp:"):
		return net.Dial("tcp", strings.TrimPrefix(target, "tcp:"))
	case strings.HasPrefix(target, "unix:"):
		return net.Dial("unix", strings.TrimPrefix(target, "unix:"))
	}
	return nil, fmt.Errorf("target %q: want tcp:HOST:PORT or unix:PATH", target)
}

// conn is an OpenFlow connection whose writes are serialised, so the
// reader can answer echo requests.
type conn struct {
	nc  net.Conn
	mu  sync.Mutex
	w   *bufio.Writer
	xid uint32
}

func (c *conn) send(m openflow.Message, flush bool) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.xid++
	b, err := openflow.Marshal(c.xid, m)
	if err != nil {
		return err
	}
	if _, err := c.w.Write(b); err != nil {
		return err
	}
	if flush {
		return c.w.Flush()
	}
	return nil
}

func run(target string, rate float64, live int, duration time.Duration) error {
	if rate <= 0 || live < 1 || live > 65535 {
		return errors.New("want -rate > 0 and 1 <= -live <= 65535")
	}
	nc, err := dial(target)
	if err != nil {
		return err
	}
	defer nc.Close()
	c := &conn{nc: nc, w: bufio.NewWriter(nc)}
	if err := c.send(openflow.NewHello(openflow.Version), true); err != nil {
		return err
	}
	rd := bufio.NewReader(nc)
	raw, err := openflow.ReadMessage(rd, nil)
	if err != nil {
		return fmt.Errorf("hello: %w", err)
	}
	if _, m, err := openflow.Decode(raw); err != nil || m.Type() != openflow.TypeHello {
		return fmt.Errorf("expected HELLO, got %v (%v)", m, err)
	}

	var barriers, errs atomic.Uint64
	readErr := make(chan error, 1)
	go func() {
		for {
			raw, err := openflow.ReadMessage(rd, nil)
			if err != nil {
				readErr <- err
				return
			}
			_, m, err := openflow.Decode(raw)
			if err != nil {
				continue
			}
			switch m := m.(type) {
			case *openflow.BarrierReply:
				barriers.Add(1)
			case *openflow.ErrorMsg:
				if errs.Add(1) == 1 {
					fmt.Fprintf(os.Stderr, "churn: first error from the switch: %v\n", m.Code)
				}
			case *openflow.EchoRequest:
				c.send(&openflow.EchoReply{Data: m.Data}, true)
			}
		}
	}()

	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGTERM, syscall.SIGINT)
	var deadline <-chan time.Time
	if duration > 0 {
		deadline = time.After(duration)
	}
	interval := time.Duration(float64(time.Second) / rate)
	start := time.Now()
	next := start
	var mods uint64
	for i := 0; ; i++ {
		select {
		case <-stop:
			return report(mods, start, &barriers, &errs)
		case <-deadline:
			return report(mods, start, &barriers, &errs)
		case err := <-readErr:
			if errors.Is(err, io.EOF) {
				err = errors.New("switch closed the connection")
			}
			return err
		default:
		}
		// Alternate: add flow n, delete flow n-live.
		n := i / 2
		var fm *openflow.FlowMod
		if i%2 == 0 {
			fm = flowMod(openflow.FlowAdd, n)
		} else if n >= live {
			fm = flowMod(openflow.FlowDeleteStrict, n-live)
		} else {
			continue
		}
		if err := c.send(fm, false); err != nil {
			return err
		}
		if err := c.send(&openflow.BarrierRequest{}, true); err != nil {
			return err
		}
		mods++
		next = next.Add(interval)
		if d := time.Until(next); d > 0 {
			time.Sleep(d)
		}
	}
}

func flowMod(cmd openflow.FlowModCommand, n int) *openflow.FlowMod {
	n %= 65536
	return &openflow.FlowMod{
		Command:  cmd,
		Priority: 100,
		BufferID: openflow.NoBuffer,
		OutPort:  openflow.PortAny,
		OutGroup: openflow.GroupAny,
		Match: openflow.NewMatch(openflow.OXMInPortVal(1), openflow.OXMEthTypeVal(0x0800),
			openflow.OXMUint(openflow.OXMIPv4Dst, 0xc0a80000|uint64(n))),
	}
}

func report(mods uint64, start time.Time, barriers, errs *atomic.Uint64) error {
	s := time.Since(start).Seconds()
	fmt.Printf("churn: flowmods=%d seconds=%.2f rate=%.1f barriers_answered=%d errors=%d\n",
		mods, s, float64(mods)/s, barriers.Load(), errs.Load())
	return nil
}
