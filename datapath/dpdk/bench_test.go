package dpdk

import (
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"testing"
	"time"

	"github.com/goko-net/goko/datapath"
)

var benchCounter int

// onLockedThread runs fn on a goroutine locked to its own OS thread, as a
// PMD goroutine would be, optionally registered as a DPDK lcore.
func onLockedThread(b *testing.B, register bool, fn func()) {
	done := make(chan struct{})
	go func() {
		defer close(done)
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		if register {
			if err := RegisterThread(); err != nil {
				b.Error(err)
				return
			}
			defer UnregisterThread()
		} else if id := lcoreID(); id != -1 {
			b.Errorf("unregistered thread has lcore %d", id)
			return
		}
		fn()
	}()
	<-done
}

// BenchmarkNullRxTx is the I/O loop of a PMD over net_null: rx burst,
// zero-copy tx burst of the same packets, release. One op is one burst of
// up to 32 packets; Mpps counts packets transmitted.
//   - registered: Recv, Send, Release on a thread with an lcore id;
//   - unregistered: the same on a thread without one (no mempool cache);
//   - consume: Recv, SendAndRelease on a registered thread.
func BenchmarkNullRxTx(b *testing.B) {
	for _, mode := range []string{"registered", "unregistered", "consume"} {
		b.Run(mode, func(b *testing.B) {
			benchCounter++
			p := openPort(b, fmt.Sprintf("net_null%d,size=64", 10+benchCounter), PortOptions{})
			pkts := make([]datapath.Packet, datapath.BurstSize)
			out := ptrs(pkts)
			var sent int
			var elapsed time.Duration
			b.ReportAllocs()
			onLockedThread(b, mode != "unregistered", func() {
				b.ResetTimer()
				start := time.Now()
				if mode == "consume" {
					for i := 0; i < b.N; i++ {
						n := p.Recv(pkts)
						sent += p.SendAndRelease(out[:n])
					}
				} else {
					for i := 0; i < b.N; i++ {
						n := p.Recv(pkts)
						sent += p.Send(out[:n])
						p.Release(pkts[:n])
					}
				}
				elapsed = time.Since(start)
				b.StopTimer()
			})
			b.ReportMetric(float64(sent)/elapsed.Seconds()/1e6, "Mpps")
		})
	}
}

// BenchmarkRingCopyRx sends Go-memory frames through a net_ring loopback
// (the copy path: packet-outs, or frames from non-DPDK ports) and receives
// them back.
func BenchmarkRingCopyRx(b *testing.B) {
	benchCounter++
	p := openPort(b, fmt.Sprintf("net_ring%d", 10+benchCounter), PortOptions{})
	frames := make([]datapath.Packet, datapath.BurstSize)
	for i := range frames {
		frames[i].Data = testFrame(i, 64, 0x3001)
	}
	in := ptrs(frames)
	pkts := make([]datapath.Packet, datapath.BurstSize)
	var got int
	var elapsed time.Duration
	b.ReportAllocs()
	onLockedThread(b, true, func() {
		b.ResetTimer()
		start := time.Now()
		for i := 0; i < b.N; i++ {
			p.Send(in)
			n := p.Recv(pkts)
			got += n
			p.Release(pkts[:n])
		}
		elapsed = time.Since(start)
		b.StopTimer()
	})
	b.ReportMetric(float64(got)/elapsed.Seconds()/1e6, "Mpps")
}

// vethPair is a benchmark fixture: two DPDK ports on the two ends of a
// veth pair in a namespace of their own. It is built once per kind and
// torn down by TestMain, because af_xdp ports cannot be reopened in one
// process (see TestAfXdpVeth) and the benchmark function runs several
// times.
type vethPair struct {
	x, y *Port
	err  error
}

var vethPairs = map[string]*vethPair{}

func getVethPair(b *testing.B, kind string) *vethPair {
	if vp, ok := vethPairs[kind]; ok {
		return vp
	}
	vp := &vethPair{}
	vethPairs[kind] = vp
	ns, va, vb, err := makeNetns()
	if err != nil {
		vp.err = err
		return vp
	}
	atExit = append(atExit, func() { exec.Command("ip", "netns", "del", ns).Run() })
	var ports [2]*Port
	for i, ifname := range []string{va, vb} {
		benchCounter++
		dev := KernelPortDevargs(ifname, 10+benchCounter) + os.Getenv("GOKO_DPDK_BENCH_AFPACKET_ARGS")
		if kind == "af_xdp" {
			dev = fmt.Sprintf("net_af_xdp%d,iface=%s,start_queue=0,queue_count=1", 10+benchCounter, ifname)
		}
		ports[i], vp.err = testEAL.OpenPort(dev, PortOptions{Netns: ns})
		if vp.err != nil {
			return vp
		}
		p := ports[i]
		atExit = append(atExit, func() { p.Close() })
	}
	vp.x, vp.y = ports[0], ports[1]
	waitLink(b, 2*time.Second, vp.x, vp.y)
	return vp
}

// BenchmarkVeth forwards 64-byte frames from a DPDK port on one end of a
// veth pair to a DPDK port on the other end (both in a namespace the
// benchmark creates), through the kernel: the cost of a kernel-attached
// port. Mpps counts frames received; %lost is the share of accepted frames
// that never arrived.
func BenchmarkVeth(b *testing.B) {
	for _, kind := range []string{"af_packet", "af_xdp"} {
		b.Run(kind, func(b *testing.B) {
			if os.Geteuid() != 0 {
				b.Skip("needs root for network namespaces")
			}
			vp := getVethPair(b, kind)
			if vp.err != nil {
				b.Skip(vp.err)
			}
			x, y := vp.x, vp.y
			frames := make([]datapath.Packet, datapath.BurstSize)
			for i := range frames {
				frames[i].Data = testFrame(i, 60, 0x3002)
			}
			in := ptrs(frames)
			pkts := make([]datapath.Packet, datapath.BurstSize)
			var sent, got int
			var elapsed time.Duration
			b.ReportAllocs()
			onLockedThread(b, true, func() {
				b.ResetTimer()
				start := time.Now()
				for i := 0; i < b.N; i++ {
					sent += x.Send(in)
					for {
						n := y.Recv(pkts)
						got += n
						y.Release(pkts[:n])
						if n < len(pkts) {
							break
						}
					}
				}
				elapsed = time.Since(start)
				b.StopTimer()
			})
			// Drain what is still in flight so the next run starts clean.
			for deadline := time.Now().Add(50 * time.Millisecond); time.Now().Before(deadline); {
				n := y.Recv(pkts)
				y.Release(pkts[:n])
			}
			b.ReportMetric(float64(got)/elapsed.Seconds()/1e6, "Mpps")
			b.ReportMetric(float64(sent-got)/float64(max(sent, 1))*100, "%lost")
		})
	}
}
