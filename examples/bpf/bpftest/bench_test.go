package bpftest

import (
	"syscall"
	"testing"
	"time"

	"github.com/goko-net/goko/ubpf"
)

// BenchmarkExamples runs every example program per engine on one packet
// of its test, after the test's steps before that packet (map setup), as
// a datapath would: ns/op is one run. The firewall runs on a UDP packet
// with its maps empty (nothing blocked), as in bench/ovs-compare.sh.
// cpu-ns/op is the process's CPU time per run, robust when other work
// shares the cores.
func BenchmarkExamples(b *testing.B) {
	for _, ex := range examples {
		pkt, setup := benchPacket(ex)
		if ex.file == "firewall" {
			pkt, setup = udp4(out1, in1, 1234, 53, nil), nil
		}
		for _, e := range engines() {
			b.Run(ex.file+"/"+e.String(), func(b *testing.B) {
				p, err := ubpf.LoadELFBytes(compile(b, ex.file), ubpf.LoadOptions{Logger: quiet, Engine: e})
				if err != nil {
					b.Fatal(err)
				}
				t := &testing.T{}
				for _, s := range setup {
					s.do(t, p)
				}
				th := ubpf.NewThread()
				defer th.Close()
				if _, err := p.Run(th, pkt); err != nil {
					b.Fatal(err)
				}
				benchRuns(b, p, th, pkt)
			})
		}
	}
}

// benchRuns times b.N runs of p on pkt with th, reporting cpu-ns/op too.
func benchRuns(b *testing.B, p *ubpf.Program, th *ubpf.Thread, pkt []byte) {
	b.ReportAllocs()
	b.ResetTimer()
	c0 := cpuTime()
	for i := 0; i < b.N; i++ {
		p.Run(th, pkt)
	}
	b.ReportMetric(float64((cpuTime()-c0).Nanoseconds())/float64(b.N), "cpu-ns/op")
}

// benchPacket returns the first packet of an example's steps and the map
// updates before it.
func benchPacket(ex example) ([]byte, []step) {
	var setup []step
	for _, s := range ex.steps {
		if s.pkt != nil {
			return s.pkt, setup
		}
		setup = append(setup, s)
	}
	return nil, setup
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkFirewallDenyLists runs the firewall on the packet of
// BenchmarkExamples with deny lists that are not empty but do not block
// it (1000 source addresses in 198.18/16, 100 TCP ports): both lookups hash the key and
// probe a table, where empty maps answer at once.
func BenchmarkFirewallDenyLists(b *testing.B) {
	pkt := udp4(out1, in1, 1234, 53, nil)
	for _, e := range engines() {
		b.Run(e.String(), func(b *testing.B) {
			p, err := ubpf.LoadELFBytes(compile(b, "firewall"), ubpf.LoadOptions{Logger: quiet, Engine: e})
			if err != nil {
				b.Fatal(err)
			}
			src, port := p.Map("deny_src"), p.Map("deny_port")
			for i := 0; i < 1000; i++ {
				if err := src.Update([]byte{198, 18, byte(i >> 8), byte(i)}, make([]byte, 8), 0); err != nil {
					b.Fatal(err)
				}
			}
			for i := 0; i < 100; i++ { // TCP ports 1000..1099: the packet is UDP to 53
				if err := port.Update([]byte{6, 0, byte((1000 + i) >> 8), byte(1000 + i)}, make([]byte, 8), 0); err != nil {
					b.Fatal(err)
				}
			}
			th := ubpf.NewThread()
			defer th.Close()
			if r, err := p.Run(th, pkt); err != nil || r != 1 {
				b.Fatalf("run: %d, %v; want a match", r, err)
			}
			benchRuns(b, p, th, pkt)
		})
	}
}
