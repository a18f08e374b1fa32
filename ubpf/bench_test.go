package ubpf_test

import (
	"syscall"
	"testing"
	"time"

	"github.com/goko-net/goko/ubpf"
	"github.com/goko-net/goko/ubpf/asm"
)

func mustLoad(b testing.TB, src string, kind ubpf.Kind) *ubpf.Program {
	b.Helper()
	code, err := asm.Assemble(src)
	if err != nil {
		b.Fatal(err)
	}
	p, err := ubpf.Load(code, ubpf.LoadOptions{Kind: kind, Logger: quiet})
	if err != nil {
		b.Fatal(err)
	}
	return p
}

// tightLoop runs 4 instructions per iteration, 10000 iterations.
const tightLoop = `
mov %r0, 0
mov %r1, 0
loop:
add %r0, %r1
xor %r0, 0x55
add %r1, 1
jlt %r1, 10000, loop
exit`

const tightLoopInsns = 2 + 4*10000 + 1

// BenchmarkTightLoop reports instructions per second of the interpreter.
func BenchmarkTightLoop(b *testing.B) {
	p := mustLoad(b, tightLoop, ubpf.KindFilter)
	th := ubpf.NewThread()
	defer th.Close()
	pkt := make([]byte, 64)
	b.ReportAllocs()
	b.ResetTimer()
	c0 := cpuTime()
	for i := 0; i < b.N; i++ {
		if _, err := p.Run(th, pkt); err != nil {
			b.Fatal(err)
		}
	}
	cpu := cpuTime() - c0
	b.ReportMetric(float64(tightLoopInsns)*float64(b.N)/b.Elapsed().Seconds()/1e6, "Minsn/s")
	if cpu > 0 {
		// per CPU second of this process: robust when the machine is busy
		b.ReportMetric(float64(tightLoopInsns)*float64(b.N)/cpu.Seconds()/1e6, "Minsn/cpu-s")
	}
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// memLoop sums the first 64 bytes of the packet (loads in a loop).
const memLoop = `
mov %r0, 0
jlt %r2, 64, out
mov %r3, 0
loop:
mov %r4, %r1
add %r4, %r3
ldxb %r5, [%r4]
add %r0, %r5
add %r3, 1
jlt %r3, 64, loop
out:
exit`

func BenchmarkMemLoop(b *testing.B) {
	p := mustLoad(b, memLoop, ubpf.KindFilter)
	th := ubpf.NewThread()
	defer th.Close()
	pkt := make([]byte, 64)
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		p.Run(th, pkt)
	}
	b.ReportMetric(float64(3+6*64+1)*float64(b.N)/b.Elapsed().Seconds()/1e6, "Minsn/s")
}

// BenchmarkFilterSimple: an ethertype check, the smallest useful filter.
func BenchmarkFilterSimple(b *testing.B) {
	p := mustLoad(b, `
mov %r0, 0
jlt %r2, 14, out
ldxh %r3, [%r1+12]
jne %r3, 0x8, out
mov %r0, 1
out:
exit`, ubpf.KindFilter)
	th := ubpf.NewThread()
	defer th.Close()
	pkt := udpPacket([4]byte{1, 2, 3, 4}, 53, nil)
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if !p.Match(th, pkt) {
			b.Fatal("no match")
		}
	}
}

func BenchmarkFilterDNSELF(b *testing.B) {
	obj := compileC(b, "filter")
	p, err := ubpf.LoadELFBytes(obj, ubpf.LoadOptions{Logger: quiet})
	if err != nil {
		b.Fatal(err)
	}
	th := ubpf.NewThread()
	defer th.Close()
	pkt := udpPacket([4]byte{1, 2, 3, 4}, 53, []byte{1, 2, 3, 4, 5, 6, 7, 8})
	p.Map(".data").Update([]byte{0, 0, 0, 0}, []byte{255, 255, 255, 255, 255, 255, 255, 127}, 0)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if !p.Match(th, pkt) {
			b.Fatal("no match")
		}
	}
}

func BenchmarkXDPELF(b *testing.B) {
	obj := compileC(b, "xdp")
	p, err := ubpf.LoadELFBytes(obj, ubpf.LoadOptions{Logger: quiet})
	if err != nil {
		b.Fatal(err)
	}
	p.Map("allow").Update([]byte{8, 0, 0, 0, 10, 0, 0, 0}, []byte{1, 0, 0, 0}, 0)
	th := ubpf.NewThread()
	defer th.Close()
	pkt := udpPacket([4]byte{10, 1, 2, 3}, 53, nil)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if !p.Match(th, pkt) {
			b.Fatal("no match")
		}
	}
}

func BenchmarkHashLookupFilter(b *testing.B) {
	m, _ := ubpf.NewMap(ubpf.MapSpec{Name: "h", Type: ubpf.MapHash, KeySize: 4, ValueSize: 8, MaxEntries: 1024})
	m.Update([]byte{1, 2, 3, 4}, make([]byte, 8), 0)
	code, _ := asm.Assemble(`
mov %r0, 0
jlt %r2, 34, out
ldxw %r3, [%r1+26]
stxw [%r10-4], %r3
lddw %r1, map(0)
mov %r2, %r10
add %r2, -4
call 1
jeq %r0, 0, out
mov %r1, 1
atomic_add [%r0], %r1
mov %r0, 1
out:
exit`)
	p, err := ubpf.Load(code, ubpf.LoadOptions{Maps: []*ubpf.Map{m}, Logger: quiet})
	if err != nil {
		b.Fatal(err)
	}
	th := ubpf.NewThread()
	defer th.Close()
	pkt := udpPacket([4]byte{1, 2, 3, 4}, 53, nil)
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if !p.Match(th, pkt) {
			b.Fatal("no match")
		}
	}
}
