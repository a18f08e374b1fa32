package ubpf

import (
	"encoding/binary"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/goko-net/goko/ubpf/asm"
)

func skipNoJIT(t testing.TB) {
	if !JITAvailable() {
		t.Skip("no JIT on this platform")
	}
}

// diffPackets is a spread of frames: IPv4 UDP/TCP/ICMP, fragments, IPv6,
// ARP, options, odd lengths and every truncation of a UDP frame.
func diffPackets() [][]byte {
	eth := func(typ uint16, payload []byte) []byte {
		p := make([]byte, 14, 14+len(payload))
		copy(p, []byte{2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2})
		binary.BigEndian.PutUint16(p[12:], typ)
		return append(p, payload...)
	}
	ipv4 := func(proto byte, src, dst [4]byte, frag uint16, ihl int, l4 []byte) []byte {
		ip := make([]byte, ihl*4, ihl*4+len(l4))
		ip[0] = 0x40 | byte(ihl)
		binary.BigEndian.PutUint16(ip[2:], uint16(len(ip)+len(l4)))
		binary.BigEndian.PutUint16(ip[6:], frag)
		ip[8], ip[9] = 64, proto
		copy(ip[12:], src[:])
		copy(ip[16:], dst[:])
		return eth(0x0800, append(ip, l4...))
	}
	l4 := func(sport, dport uint16, flags byte, n int) []byte {
		b := make([]byte, n)
		binary.BigEndian.PutUint16(b, sport)
		binary.BigEndian.PutUint16(b[2:], dport)
		if n > 13 {
			b[13] = flags
		}
		for i := 8; i < n; i++ {
			if i != 13 {
				b[i] = byte(i * 7)
			}
		}
		return b
	}
	var out [][]byte
	srcs := [][4]byte{{10, 0, 0, 1}, {10, 1, 2, 3}, {192, 168, 1, 7}, {1, 2, 3, 4}}
	for i, s := range srcs {
		d := [4]byte{10, 1, byte(i), 9}
		out = append(out,
			ipv4(17, s, d, 0, 5, l4(1234, 53, 0, 16)),
			ipv4(17, s, d, 0, 5, l4(5353, uint16(8000+i), 0, 40)),
			ipv4(6, s, d, 0, 5, l4(40000, 22, 0x02, 20)),
			ipv4(6, s, d, 0, 5, l4(40001, 80, 0x10, 40)),
			ipv4(6, s, d, 0, 6, l4(40002, 443, 0x12, 24)),
			ipv4(1, s, d, 0, 5, []byte{8, 0, 0, 0, 0, 1, 0, 1}),
			ipv4(17, s, d, 0x2001, 5, l4(1, 2, 0, 8)),
			ipv4(17, s, d, 0x0004, 5, l4(1, 2, 0, 8)),
		)
	}
	ip6 := make([]byte, 40)
	ip6[0], ip6[6], ip6[7] = 0x60, 17, 64
	binary.BigEndian.PutUint16(ip6[4:], 16)
	ip6[8], ip6[24] = 0xfe, 0x20
	out = append(out, eth(0x86dd, append(ip6, l4(1000, 53, 0, 16)...)), eth(0x0806, make([]byte, 28)),
		eth(0x8100, append([]byte{0, 5, 8, 0}, ipv4(17, srcs[0], srcs[1], 0, 5, l4(1, 53, 0, 8))[14:]...)))
	udp := ipv4(17, srcs[1], srcs[2], 0, 5, l4(1234, 53, 0, 24))
	for n := 0; n <= len(udp); n++ {
		out = append(out, append([]byte(nil), udp[:n]...))
	}
	return out
}

// TestJITDiffConformance compares the engines on every conformance case,
// with its memory and with shorter, longer and altered copies of it.
func TestJITDiffConformance(t *testing.T) {
	skipNoJIT(t)
	files, _ := filepath.Glob("testdata/conformance/*.data")
	if len(files) == 0 {
		t.Skip("no conformance files")
	}
	n := 0
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		src, mem := confAsmMem(string(b))
		code, err := asm.Assemble(src)
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		mems := [][]byte{mem, nil, make([]byte, 64)}
		if len(mem) > 0 {
			alt := append([]byte(nil), mem...)
			for i := range alt {
				alt[i] ^= byte(0x5a + i)
			}
			mems = append(mems, mem[:len(mem)-1], mem[:len(mem)/2], append(append([]byte(nil), mem...), 1, 2, 3, 4, 5, 6, 7, 8), alt)
		}
		d := &diffProg{kind: KindRaw, helpers: HelpersConformance, code: code}
		t.Run(filepath.Base(f), func(t *testing.T) {
			if diffCheck(t, d, mems) {
				n++
			}
		})
	}
	t.Logf("%d conformance programs compared", n)
}

// compileExample builds examples/bpf/NAME.c as its Makefile does, or skips.
func compileExample(t testing.TB, name string) []byte {
	t.Helper()
	clang, err := exec.LookPath("clang")
	if err != nil {
		t.Skip("clang not installed")
	}
	if _, err := os.Stat("/usr/include/bpf/bpf_helpers.h"); err != nil {
		t.Skip("libbpf headers (libbpf-dev) not installed")
	}
	arch := map[string]string{"amd64": "x86_64", "arm64": "aarch64"}[runtime.GOARCH]
	out := filepath.Join(t.TempDir(), name+".o")
	cmd := exec.Command(clang, "-O2", "-g", "-Wall", "-target", "bpf", "-I/usr/include/"+arch+"-linux-gnu",
		"-Iinclude", "-c", filepath.Join("..", "examples", "bpf", name+".c"), "-o", out)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("clang: %v\n%s", err, b)
	}
	obj, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	return obj
}

// fillFromPackets puts entries into every hash, LRU and LPM map whose keys
// are slices of the packets at header offsets (addresses, ports), so that
// lookups hit as well as miss.
func fillFromPackets(pkts [][]byte) func(ms []*Map) {
	return func(ms []*Map) {
		for _, m := range ms {
			switch m.spec.Type {
			case MapHash, MapLRUHash, MapLPMTrie:
			default:
				continue
			}
			ks := int(m.spec.KeySize)
			val := make([]byte, m.spec.ValueSize)
			for i := range val {
				val[i] = byte(i + 1)
			}
			for i, p := range pkts {
				if i%3 != 0 {
					continue
				}
				for _, off := range []int{26, 30, 34, 36, 23} {
					if off+ks > len(p) || m.spec.Type == MapLPMTrie && off+ks-4 > len(p) {
						continue
					}
					key := append([]byte(nil), p[off:off+ks]...)
					if m.spec.Type == MapLPMTrie {
						key = binary.LittleEndian.AppendUint32(nil, uint32(8*(ks-4)-8))
						key = append(key, p[off:off+ks-4]...)
					}
					m.Update(key, val, UpdateAny)
				}
			}
		}
	}
}

// TestJITDiffExamples compares the engines on every examples/bpf program,
// with maps empty and filled, over the packet spread run several times.
func TestJITDiffExamples(t *testing.T) {
	skipNoJIT(t)
	names, _ := filepath.Glob("../examples/bpf/*.c")
	if len(names) == 0 {
		t.Skip("no examples")
	}
	pkts := diffPackets()
	var all [][]byte
	for r := 0; r < 3; r++ {
		all = append(all, pkts...)
	}
	for _, f := range names {
		name := strings.TrimSuffix(filepath.Base(f), ".c")
		t.Run(name, func(t *testing.T) {
			obj := compileExample(t, name)
			for _, fill := range []bool{false, true} {
				d := &diffProg{elf: obj}
				if fill {
					d.fill = fillFromPackets(pkts)
				}
				if !diffCheck(t, d, all) {
					t.Fatal("does not load")
				}
			}
		})
	}
}

// FuzzJITDiff loads random bytecode as every kind (filters with and
// without a writable packet) and, where it verifies,
// runs it under both engines on a spread of packets: results, errors,
// packets and maps must agree.
func FuzzJITDiff(f *testing.F) {
	f.Add([]byte{0xb7, 0, 0, 0, 1, 0, 0, 0, 0x95, 0, 0, 0, 0, 0, 0, 0})
	files, _ := filepath.Glob("testdata/conformance/*.data")
	for _, file := range files {
		b, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		src, _ := confAsmMem(string(b))
		if code, err := asm.Assemble(src); err == nil {
			f.Add(code)
		}
	}
	pkts := [][]byte{nil, {1}, make([]byte, 14), diffPackets()[0], diffPackets()[2]}
	f.Fuzz(func(t *testing.T, code []byte) {
		skipNoJIT(t)
		code = code[:len(code)&^7]
		if len(code) > 8*4096 {
			return
		}
		// a filter both with a read-only packet and with a writable one
		// (atomics on the packet keep it off Run's fast path)
		for i, kind := range []Kind{KindFilter, KindFilter, KindXDP, KindRaw} {
			d := &diffProg{kind: kind, code: code, maxInsns: 50000, specs: diffMapSpecs, writable: i == 1 || kind == KindRaw,
				fill: func(ms []*Map) {
					ms[0].Update([]byte{1, 0, 0, 0}, []byte{1, 2, 3, 4, 5, 6, 7, 8}, 0)
					ms[0].Update([]byte{0, 0, 0, 0}, []byte{8, 7, 6, 5, 4, 3, 2, 1}, 0)
				}}
			if kind == KindRaw {
				d.helpers = HelpersConformance
			}
			diffCheck(t, d, pkts)
		}
	})
}

// diffMapSpecs are the maps fuzzed programs may refer to (LDDW map(i)).
var diffMapSpecs = []MapSpec{
	{Name: "hash", Type: MapHash, KeySize: 4, ValueSize: 8, MaxEntries: 16},
	{Name: "array", Type: MapArray, KeySize: 4, ValueSize: 16, MaxEntries: 4},
	{Name: "rb", Type: MapRingBuf, MaxEntries: 4096},
	{Name: ".rodata", Type: MapArray, KeySize: 4, ValueSize: 8, MaxEntries: 1, Flags: FlagRdonlyProg, Data: []byte("abcdefgh")},
	{Name: "lru", Type: MapLRUHash, KeySize: 8, ValueSize: 8, MaxEntries: 4},
	{Name: "pta", Type: MapPerThreadArray, KeySize: 4, ValueSize: 8, MaxEntries: 2},
	{Name: "lpm", Type: MapLPMTrie, KeySize: 8, ValueSize: 8, MaxEntries: 8},
	{Name: "queue", Type: MapQueue, ValueSize: 8, MaxEntries: 4},
}

// TestJITDiffHashLookups compares the engines' map_lookup_elem on hash
// maps of every key size from 1 to 20 bytes (the JIT looks keys of up to
// 16 bytes up itself), with keys read from the packet and from the stack,
// present and absent, and values read back and written through the
// returned pointer.
func TestJITDiffHashLookups(t *testing.T) {
	skipNoJIT(t)
	for _, typ := range []MapType{MapHash, MapLRUHash, MapPerThreadHash} {
		for ks := 1; ks <= 20; ks++ {
			for _, fromStack := range []bool{false, true} {
				keyPtr := "mov %r2, %r1"
				if fromStack { // copy the key to r10-24 byte by byte
					keyPtr = ""
					for i := 0; i < ks; i++ {
						keyPtr += fmt.Sprintf("ldxb %%r3, [%%r1+%d]\nstxb [%%r10%+d], %%r3\n", i, i-24)
					}
					keyPtr += "mov %r2, %r10\nadd %r2, -24"
				}
				src := fmt.Sprintf(`
jlt %%r2, %d, short
%s
lddw %%r1, map(0)
call 1
jeq %%r0, 0, miss
ldxdw %%r3, [%%r0]
add %%r3, 1
stxdw [%%r0], %%r3
mov %%r0, %%r3
exit
miss:
mov %%r0, 0xdead
exit
short:
mov %%r0, 1
exit`, ks, keyPtr)
				code, err := asm.Assemble(src)
				if err != nil {
					t.Fatal(err)
				}
				var pkts [][]byte
				for i := 0; i < 40; i++ {
					p := make([]byte, 24)
					for j := range p {
						p[j] = byte(i*7 + j*(i%3+1))
					}
					pkts = append(pkts, p, p) // twice: the second sees the first's write
				}
				pkts = append(pkts, make([]byte, ks-1))
				d := &diffProg{kind: KindRaw, code: code, writable: true,
					specs: []MapSpec{{Name: "h", Type: typ, KeySize: uint32(ks), ValueSize: 8, MaxEntries: 64}},
					fill: func(ms []*Map) {
						for i := 0; i < 40; i += 2 { // half of the packets' keys
							ms[0].Update(pkts[2*i][:ks], binary.LittleEndian.AppendUint64(nil, uint64(i)<<8), 0)
						}
					}}
				t.Run(fmt.Sprintf("%s/key%d/stack=%v", typ, ks, fromStack), func(t *testing.T) {
					if !diffCheck(t, d, pkts) {
						t.Fatal("does not load")
					}
				})
			}
		}
	}
}

// TestJITDiffEmptyLookups compares the engines on lookups in maps that
// are empty (the JIT's miss before hashing, which takes the program's
// next test of r0 itself) or that became empty again, with the result
// tested by jeq, by jne, by a 32-bit jeq (not taken over) and not at all.
func TestJITDiffEmptyLookups(t *testing.T) {
	skipNoJIT(t)
	tests := map[string]string{
		"jeq":   "jeq %r0, 0, miss\nldxdw %r0, [%r0]\nexit",
		"jne":   "jne %r0, 0, hit\nja miss\nhit:\nldxdw %r0, [%r0]\nexit",
		"jeq32": "jeq32 %r0, 0, miss\nmov %r0, 1\nexit",
		"none":  "mov %r6, %r0\nmov %r0, 7\njeq %r6, 0, miss\nexit",
	}
	for name, test := range tests {
		for _, refill := range []bool{false, true} {
			src := fmt.Sprintf(`
jlt %%r2, 4, miss
ldxw %%r3, [%%r1]
stxw [%%r10-4], %%r3
mov %%r2, %%r10
add %%r2, -4
lddw %%r1, map(0)
call 1
%s
miss:
mov %%r0, 0xdead
exit`, test)
			code, err := asm.Assemble(src)
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			pkts := [][]byte{{1, 2, 3, 4}, {5, 6, 7, 8}, {1, 2, 3}}
			d := &diffProg{kind: KindRaw, code: code,
				specs: []MapSpec{{Name: "h", Type: MapHash, KeySize: 4, ValueSize: 8, MaxEntries: 8}}}
			if refill { // an entry added and deleted: empty again
				d.fill = func(ms []*Map) {
					ms[0].Update([]byte{1, 2, 3, 4}, make([]byte, 8), 0)
					ms[0].Delete([]byte{1, 2, 3, 4})
				}
			}
			t.Run(fmt.Sprintf("%s/refill=%v", name, refill), func(t *testing.T) {
				if !diffCheck(t, d, pkts) {
					t.Fatal("does not load")
				}
			})
		}
	}
}
