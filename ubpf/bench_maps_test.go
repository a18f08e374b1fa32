package ubpf_test

import (
	"encoding/binary"
	"fmt"
	"testing"

	"github.com/goko-net/goko/ubpf"
	"github.com/goko-net/goko/ubpf/asm"
)

// BenchmarkMapLookup reports the cost of one bpf_map_lookup_elem from a
// program, per map type and engine: a run does 64 lookups of keys 0..63
// (half of them present), and ns/lookup is the run's time over 64, less
// nothing (the loop's own instructions are included).
func BenchmarkMapLookup(b *testing.B) {
	const lookups = 64
	types := []struct {
		name string
		spec ubpf.MapSpec
		key  func(i int) []byte
	}{
		{"array", ubpf.MapSpec{Type: ubpf.MapArray, KeySize: 4, ValueSize: 8, MaxEntries: 32}, nil},
		{"hash", ubpf.MapSpec{Type: ubpf.MapHash, KeySize: 4, ValueSize: 8, MaxEntries: 4096}, nil},
		{"lru_hash", ubpf.MapSpec{Type: ubpf.MapLRUHash, KeySize: 4, ValueSize: 8, MaxEntries: 4096}, nil},
		{"percpu_hash", ubpf.MapSpec{Type: ubpf.MapPerThreadHash, KeySize: 4, ValueSize: 8, MaxEntries: 4096}, nil},
		{"lpm_trie", ubpf.MapSpec{Type: ubpf.MapLPMTrie, KeySize: 8, ValueSize: 8, MaxEntries: 4096, Flags: ubpf.FlagNoPrealloc}, func(i int) []byte {
			return []byte{32, 0, 0, 0, 10, 0, 0, byte(i)}
		}},
	}
	// the key at r10-8: u32 i (array, hash) or {prefixlen 32, 10.0.0.i}
	prog := `
mov %%r6, 0
mov %%r7, 0
loop:
%s
mov %%r2, %%r10
add %%r2, -8
lddw %%r1, map(0)
call 1
jeq %%r0, 0, miss
add %%r7, 1
miss:
add %%r6, 1
jlt %%r6, %d, loop
mov %%r0, %%r7
exit`
	for _, ty := range types {
		setKey := "stxw [%r10-8], %r6"
		if ty.spec.Type == ubpf.MapLPMTrie {
			setKey = "stw [%r10-8], 32\nmov %r3, %r6\nlsh %r3, 24\nor %r3, 10\nstxw [%r10-4], %r3"
		}
		code, err := asm.Assemble(fmt.Sprintf(prog, setKey, lookups))
		if err != nil {
			b.Fatal(err)
		}
		for _, e := range engines() {
			b.Run(ty.name+"/"+e.String(), func(b *testing.B) {
				spec := ty.spec
				spec.Name = ty.name
				m, err := ubpf.NewMap(spec)
				if err != nil {
					b.Fatal(err)
				}
				for i := 0; i < lookups; i += 2 {
					if spec.Type == ubpf.MapArray {
						break // entries 0..31 exist
					}
					k := binary.LittleEndian.AppendUint32(nil, uint32(i))
					if ty.key != nil {
						k = ty.key(i)
					}
					if err := m.Update(k, make([]byte, 8), 0); err != nil {
						b.Fatal(err)
					}
				}
				p, err := ubpf.Load(code, ubpf.LoadOptions{Maps: []*ubpf.Map{m}, Engine: e, Logger: quiet})
				if err != nil {
					b.Fatal(err)
				}
				th := ubpf.NewThread()
				defer th.Close()
				if r, err := p.Run(th, nil); err != nil || r != lookups/2 {
					b.Fatalf("run: %d %v", r, err)
				}
				b.ReportAllocs()
				b.ResetTimer()
				c0 := cpuTime()
				for i := 0; i < b.N; i++ {
					p.Run(th, nil)
				}
				cpu := cpuTime() - c0
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/lookups, "ns/lookup")
				b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N)/lookups, "cpu-ns/lookup")
			})
		}
	}
}

// BenchmarkHelperExit: 64 calls of a trivial helper (get_smp_processor_id)
// per run: the cost of one call, which the JIT makes by leaving the
// machine code for Go and coming back.
func BenchmarkHelperExit(b *testing.B) {
	code, err := asm.Assemble(`
mov %r6, 0
loop:
call 8
add %r6, 1
jlt %r6, 64, loop
mov %r0, %r6
exit`)
	if err != nil {
		b.Fatal(err)
	}
	for _, e := range engines() {
		b.Run(e.String(), func(b *testing.B) {
			p, err := ubpf.Load(code, ubpf.LoadOptions{Engine: e, Logger: quiet})
			if err != nil {
				b.Fatal(err)
			}
			th := ubpf.NewThread()
			defer th.Close()
			b.ResetTimer()
			c0 := cpuTime()
			for i := 0; i < b.N; i++ {
				p.Run(th, nil)
			}
			b.ReportMetric(float64((cpuTime()-c0).Nanoseconds())/float64(b.N)/64, "cpu-ns/call")
		})
	}
}
