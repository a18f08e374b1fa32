package ubpf_test

import (
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/goko-net/goko/ubpf"
	"github.com/goko-net/goko/ubpf/asm"
)

// Per-engine benchmarks of the fixed cost of a run, a tight ALU loop and a
// packet parse filter. Each reports ns/op (one run) and, where the number
// of instructions a run executes is known, Minsn/s.

func loadEngine(b *testing.B, src string, e ubpf.Engine) *ubpf.Program {
	b.Helper()
	code, err := asm.Assemble(src)
	if err != nil {
		b.Fatal(err)
	}
	p, err := ubpf.Load(code, ubpf.LoadOptions{Logger: quiet, Engine: e})
	if err != nil {
		b.Fatal(err)
	}
	return p
}

func benchEngines(b *testing.B, src string, pkt []byte, want uint64, insns int) {
	for _, e := range engines() {
		b.Run(e.String(), func(b *testing.B) {
			p := loadEngine(b, src, e)
			th := ubpf.NewThread()
			defer th.Close()
			if r, err := p.Run(th, pkt); err != nil || r != want {
				b.Fatalf("run: %#x, %v; want %#x", r, err, want)
			}
			b.ReportAllocs()
			b.ResetTimer()
			c0 := cpuTime()
			for i := 0; i < b.N; i++ {
				p.Run(th, pkt)
			}
			reportCPU(b, c0, insns)
		})
	}
}

// reportCPU adds the CPU time per run (this process's user+system time:
// robust when other work shares the cores) and, given the instructions a
// run executes, instructions per second of wall and of CPU time.
func reportCPU(b *testing.B, c0 time.Duration, insns int) {
	cpu := cpuTime() - c0
	b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N), "cpu-ns/op")
	if insns > 0 {
		b.ReportMetric(float64(insns)*float64(b.N)/b.Elapsed().Seconds()/1e6, "Minsn/s")
		if cpu > 0 {
			b.ReportMetric(float64(insns)*float64(b.N)/cpu.Seconds()/1e6, "Minsn/cpu-s")
		}
	}
}

// BenchmarkEngineReturn1: r0 = 1; exit, the fixed cost of a run.
func BenchmarkEngineReturn1(b *testing.B) {
	benchEngines(b, "mov %r0, 1\nexit", udpPacket([4]byte{10, 1, 2, 3}, 53, nil), 1, 2)
}

// aluLoop runs 1000 iterations of five ALU and jump instructions.
const aluLoop = `
mov %r0, 0
mov %r1, 0
mov %r2, 0
loop:
add %r0, %r1
xor %r0, 0x55
add %r2, %r0
add %r1, 1
jlt %r1, 1000, loop
add %r0, %r2
exit`

const aluLoopInsns = 3 + 5*1000 + 2

func BenchmarkEngineALULoop(b *testing.B) {
	benchEngines(b, aluLoop, nil, 0x9f3c038, aluLoopInsns)
}

// BenchmarkEngineParse: testdata/bench/parse.s on a matching UDP packet.
func BenchmarkEngineParse(b *testing.B) {
	src, err := os.ReadFile("testdata/bench/parse.s")
	if err != nil {
		b.Fatal(err)
	}
	benchEngines(b, string(src), udpPacket([4]byte{10, 1, 2, 3}, 53, []byte("12345678")), 1, 57)
}

// BenchmarkMeasureTime: the cost of MeasureTime (one run in 256 timed) on
// the shortest program, per engine: compare with BenchmarkEngineReturn1.
func BenchmarkMeasureTime(b *testing.B) {
	code, err := asm.Assemble("mov %r0, 1\nexit")
	if err != nil {
		b.Fatal(err)
	}
	pkt := udpPacket([4]byte{10, 1, 2, 3}, 53, nil)
	for _, e := range engines() {
		for _, measure := range []bool{false, true} {
			b.Run(fmt.Sprintf("%s/measure=%v", e, measure), func(b *testing.B) {
				p, err := ubpf.Load(code, ubpf.LoadOptions{Logger: quiet, Engine: e, MeasureTime: measure})
				if err != nil {
					b.Fatal(err)
				}
				th := ubpf.NewThread()
				defer th.Close()
				b.ResetTimer()
				c0 := cpuTime()
				for i := 0; i < b.N; i++ {
					p.Run(th, pkt)
				}
				reportCPU(b, c0, 0)
				if measure && p.Stats().TotalNs == 0 {
					b.Fatal("no time measured")
				}
			})
		}
	}
}
