package dpdk

import (
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/goko-net/goko/datapath"
)

// dstRoute routes on the destination /24 to datapath port 2, as the 256
// rules of bench/ovs-compare.sh do (the datapath adds in_port).
type dstRoute struct{ stats datapath.FlowStats }

func (t *dstRoute) Translate(m *datapath.Miss, mf *datapath.Translation) {
	mf.Mask.EthType = 0xffff
	mf.Mask.NwDst = 0xffffff00
	mf.Actions = []datapath.Action{{Kind: datapath.ActOutput, Port: 2}}
	mf.Stats = []*datapath.FlowStats{&t.stats}
}

// udpPcap writes a capture of n 64-byte UDP frames of flows distinct
// 5-tuples (frame i is flow i mod flows) over 256 destination /24s, as
// bench/genpcap does, and returns its path.
func udpPcap(tb testing.TB, n, flows int) string {
	b := []byte{0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0, 0, 1, 0, 0, 0}
	for i := 0; i < n; i++ {
		fl := i % flows
		f := make([]byte, 60)
		copy(f, []byte{2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 0x08, 0x00, 0x45, 0, 0, 46, 0, 0, 0, 0, 64, 17})
		copy(f[26:34], []byte{10, 0, byte(fl >> 8), byte(fl), 10, 1, byte(fl % 256), byte(fl / 256)})
		binary.BigEndian.PutUint16(f[34:], uint16(1024+fl))
		binary.BigEndian.PutUint16(f[36:], 53)
		binary.BigEndian.PutUint16(f[38:], 26)
		rec := make([]byte, 16)
		binary.LittleEndian.PutUint32(rec[8:], uint32(len(f)))
		binary.LittleEndian.PutUint32(rec[12:], uint32(len(f)))
		b = append(append(b, rec...), f...)
	}
	// not in tb.TempDir(): the sub-benchmark's name in it has a '=',
	// which ends a devargs value
	dir, err := os.MkdirTemp("", "goko-pcap")
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { os.RemoveAll(dir) })
	path := filepath.Join(dir, "udp.pcap")
	if err := os.WriteFile(path, b, 0o644); err != nil {
		tb.Fatal(err)
	}
	return path
}

// BenchmarkForwardPcap is bench/ovs-compare.sh's goko side in process,
// without the OpenFlow layer: a pmd thread forwards a net_pcap capture
// replayed forever (64-byte UDP) to a net_null sink, on 256 megaflows of
// a destination /24 each, as the 256 rules give them. flows=1000 is
// scenario (b) (EMC hits), flows=10000 scenario (a). cpu-ns/pkt is the
// process's CPU time per forwarded packet (the pmd thread is nearly all of
// it), the figure to compare on a shared machine.
func BenchmarkForwardPcap(b *testing.B) {
	for _, flows := range []int{1000, 10000} {
		b.Run(fmt.Sprintf("flows=%d", flows), func(b *testing.B) {
			benchCounter++
			// 10000 packets: the port keeps the whole capture in mbufs
			// of the test pool (DefaultMbufs)
			src := openPort(b, fmt.Sprintf("net_pcap%d,rx_pcap=%s,infinite_rx=1", 10+benchCounter, udpPcap(b, 10000, flows)), PortOptions{})
			benchCounter++
			sink := openPort(b, fmt.Sprintf("net_null%d,no-rx=1", 10+benchCounter), PortOptions{})
			dp := datapath.New(datapath.Config{Name: "fwd", Translator: &dstRoute{},
				ThreadInit: RegisterThread, ThreadExit: UnregisterThread})
			dp.AddPort(1, src)
			dp.AddPort(2, sink)
			if err := dp.Start(); err != nil {
				b.Fatal(err)
			}
			defer dp.Stop()
			time.Sleep(300 * time.Millisecond) // warm up: megaflows, EMC
			var ru0, ru1 syscall.Rusage
			syscall.Getrusage(syscall.RUSAGE_SELF, &ru0)
			start, t0 := sink.Stats().TxPackets, time.Now()
			b.ResetTimer()
			for sink.Stats().TxPackets-start < uint64(b.N) {
				time.Sleep(time.Millisecond)
			}
			b.StopTimer()
			el, pkts := time.Since(t0), sink.Stats().TxPackets-start
			syscall.Getrusage(syscall.RUSAGE_SELF, &ru1)
			cpu := ru1.Utime.Nano() + ru1.Stime.Nano() - ru0.Utime.Nano() - ru0.Stime.Nano()
			b.ReportMetric(float64(cpu)/float64(pkts), "cpu-ns/pkt")
			b.ReportMetric(float64(pkts)/el.Seconds()/1e6, "Mpps")
		})
	}
}
