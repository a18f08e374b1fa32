// Package bpftest runs the example filter programs of examples/bpf through
// goko's VM: each example is compiled with clang exactly as the Makefile
// compiles it, loaded with ubpf.LoadELFBytes, run on crafted packets, and
// its verdicts and map contents are checked through the host map API.
//
// (The tests live in a subdirectory because Go refuses a package directory
// that holds C files without using cgo.)
package bpftest

import (
	"bytes"
	"encoding/binary"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/goko-net/goko/ubpf"
)

// compile builds ../NAME.c with the Makefile's flags and returns the
// object, or skips the test when clang or libbpf's headers are missing.
func compile(t testing.TB, name string) []byte {
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
	cmd := exec.Command(clang, "-O2", "-g", "-Wall", "-Werror", "-target", "bpf",
		"-I/usr/include/"+arch+"-linux-gnu", "-I../../../ubpf/include",
		"-c", filepath.Join("..", name+".c"), "-o", out)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("clang: %v\n%s", err, b)
	}
	obj, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	return obj
}

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// step is one thing a test does to a loaded program, in order: run it on
// pkt (n times, default once) and expect the verdict want, or call do.
type step struct {
	name string
	pkt  []byte
	want bool
	n    int
	do   func(t *testing.T, p *ubpf.Program)
}

// pass and drop are packet steps expecting match and no match.
func pass(name string, pkt []byte) step { return step{name: name, pkt: pkt, want: true} }
func drop(name string, pkt []byte) step { return step{name: name, pkt: pkt, want: false} }
func passN(name string, n int, pkt []byte) step {
	return step{name: name, pkt: pkt, want: true, n: n}
}
func do(name string, f func(t *testing.T, p *ubpf.Program)) step { return step{name: name, do: f} }

// update writes one map entry.
func update(m string, key, val []byte) func(*testing.T, *ubpf.Program) {
	return func(t *testing.T, p *ubpf.Program) {
		t.Helper()
		if err := mustMap(t, p, m).Update(key, val, ubpf.UpdateAny); err != nil {
			t.Fatalf("update %s: %v", m, err)
		}
	}
}

func sleep(d time.Duration) func(*testing.T, *ubpf.Program) {
	return func(*testing.T, *ubpf.Program) { time.Sleep(d) }
}

func mustMap(t *testing.T, p *ubpf.Program, name string) *ubpf.Map {
	t.Helper()
	m := p.Map(name)
	if m == nil {
		t.Fatalf("program %s has no map %q", p.Name(), name)
	}
	return m
}

// lookup returns the value under key, failing the test if there is none.
func lookup(t *testing.T, p *ubpf.Program, m string, key []byte) []byte {
	t.Helper()
	v, ok := mustMap(t, p, m).Lookup(key)
	if !ok {
		t.Fatalf("map %s has no key %x", m, key)
	}
	return v
}

// absent checks that a map has no value under key.
func absent(m string, key []byte) func(*testing.T, *ubpf.Program) {
	return func(t *testing.T, p *ubpf.Program) {
		t.Helper()
		if v, ok := mustMap(t, p, m).Lookup(key); ok {
			t.Fatalf("map %s has %x = %x, want no entry", m, key, v)
		}
	}
}

// u64s checks the 8-byte little-endian fields of a map value from offset
// off on.
func u64s(m string, key []byte, off int, want ...uint64) func(*testing.T, *ubpf.Program) {
	return func(t *testing.T, p *ubpf.Program) {
		t.Helper()
		v := lookup(t, p, m, key)
		for i, w := range want {
			if got := u64At(v, off+8*i); got != w {
				t.Fatalf("map %s[%x]: u64 at %d = %d, want %d (value %x)", m, key, off+8*i, got, w, v)
			}
		}
	}
}

// perThreadSum adds up the per-thread values of an 8-byte per-thread map.
func perThreadSum(t *testing.T, p *ubpf.Program, m string, key []byte) uint64 {
	t.Helper()
	v := lookup(t, p, m, key)
	var s uint64
	for i := 0; i+8 <= len(v); i += 8 {
		s += u64At(v, i)
	}
	return s
}

// example is one example program and what its test does.
type example struct {
	file  string
	kind  ubpf.Kind
	steps []step
}

// engines are the VM engines this build has (the JIT on linux/amd64).
func engines() []ubpf.Engine {
	if ubpf.JITAvailable() {
		return []ubpf.Engine{ubpf.EngineInterp, ubpf.EngineJIT}
	}
	return []ubpf.Engine{ubpf.EngineInterp}
}

func TestExamples(t *testing.T) {
	for _, ex := range examples {
		for _, e := range engines() {
			t.Run(ex.file+"/"+e.String(), func(t *testing.T) {
				t.Parallel()
				runExample(t, ex, e)
			})
		}
	}
}

func runExample(t *testing.T, ex example, e ubpf.Engine) {
	obj := compile(t, ex.file)
	p, err := ubpf.LoadELFBytes(obj, ubpf.LoadOptions{Logger: quiet, Engine: e})
	if err != nil {
		t.Fatalf("load: %v", err)
	}
	if want := ex.kind; want != ubpf.KindAuto && p.Kind() != want {
		t.Fatalf("kind %v, want %v", p.Kind(), want)
	}
	th := ubpf.NewThread()
	defer th.Close()
	runs, matches := uint64(0), uint64(0)
	for i, s := range ex.steps {
		if s.do != nil {
			// Steps may run the program themselves: count those runs.
			before := p.Stats()
			s.do(t, p)
			after := p.Stats()
			runs += after.Runs - before.Runs
			matches += after.Matches - before.Matches
			continue
		}
		n := max(s.n, 1)
		for j := 0; j < n; j++ {
			r, err := p.Run(th, s.pkt)
			if err != nil {
				t.Fatalf("step %d (%s): run error: %v", i, s.name, err)
			}
			runs++
			if got := p.IsMatch(r); got != s.want {
				t.Fatalf("step %d (%s), packet %d of %d: match = %v (r0 %#x), want %v\npacket %x",
					i, s.name, j+1, n, got, r, s.want, s.pkt)
			} else if got {
				matches++
			}
		}
	}
	if st := p.Stats(); st.Runs != runs || st.Matches != matches || st.Errors != 0 {
		t.Errorf("program counters %+v, want %d runs, %d matches, no errors", st, runs, matches)
	}
}

const (
	in1   = "10.0.0.1" // inside hosts
	in2   = "10.0.0.2"
	out1  = "192.0.2.1" // outside hosts
	out2  = "192.0.2.2"
	out3  = "198.51.100.7"
	inNet = "10.0.0.0/24"
)

var examples = []example{
	{file: "ratelimit", kind: ubpf.KindFilter, steps: []step{
		pass("not IPv4", arpRequest()),
		passN("default burst of 10", 10, icmpEcho(out1, in1, 56)),
		drop("11th packet within the second", icmpEcho(out1, in1, 56)),
		pass("another source has its own bucket", icmpEcho(out2, in1, 56)),
		do("bucket of out1: 1 limited, 10 passed", func(t *testing.T, p *ubpf.Program) {
			v := lookup(t, p, "buckets", a4(out1))
			if passed, limited := u64At(v, 16), u64At(v, 24); passed != 10 || limited != 1 {
				t.Fatalf("bucket %x: passed %d limited %d, want 10 and 1", v, passed, limited)
			}
			if tokens := u64At(v, 0); tokens >= 1e9 {
				t.Fatalf("bucket has %d ns-tokens left, want < 1 token", tokens)
			}
		}),
		do("config: 20/s, burst 3", update("config", le32(0), cat(le64(20), le64(3)))),
		passN("burst of 3", 3, udp4(out3, in1, 1, 2, nil)),
		drop("4th", udp4(out3, in1, 1, 2, nil)),
		do("wait 120 ms: 2.4 tokens at 20/s", sleep(120*time.Millisecond)),
		passN("refilled", 2, udp4(out3, in1, 1, 2, nil)),
		do("refill is bounded by time and burst", func(t *testing.T, p *ubpf.Program) {
			// A slow machine may have slept longer: at most the burst
			// (3) in all, and the program must say no before that.
			th := ubpf.NewThread()
			defer th.Close()
			extra := 0
			for extra < 5 && p.Match(th, udp4(out3, in1, 1, 2, nil)) {
				extra++
			}
			if extra > 1 {
				t.Fatalf("%d more packets passed after the refill, want at most 1", extra)
			}
		}),
	}},

	{file: "firewall", kind: ubpf.KindFilter, steps: []step{
		pass("empty blocklists", tcp4(out1, in1, tcpSeg{sport: 4000, dport: 22, flags: syn})),
		pass("not IPv4", arpRequest()),
		do("block source out1", update("deny_src", a4(out1), le64(0))),
		do("block tcp/22", update("deny_port", []byte{protoTCP, 0, 0, 22}, le64(0))),
		drop("blocked source, any port", udp4(out1, in1, 53, 53, nil)),
		drop("blocked source, icmp", icmpEcho(out1, in1, 8)),
		drop("tcp/22 from another source", tcp4(out2, in1, tcpSeg{sport: 4000, dport: 22, flags: syn})),
		drop("tcp/22 again", tcp4(out3, in1, tcpSeg{sport: 4001, dport: 22, flags: ack})),
		pass("udp/22 is not tcp/22", udp4(out2, in1, 4000, 22, nil)),
		pass("tcp/80", tcp4(out2, in1, tcpSeg{sport: 4000, dport: 80, flags: syn})),
		pass("icmp from another source", icmpEcho(out2, in1, 8)),
		pass("later fragment has no ports", ipv4(out2, in1, protoTCP, ip4opts{frag: 100}, make([]byte, 40))),
		pass("truncated before the ports", ipv4(out2, in1, protoTCP, ip4opts{}, []byte{0, 1})),
		do("hit counters", func(t *testing.T, p *ubpf.Program) {
			u64s("deny_src", a4(out1), 0, 2)(t, p)
			u64s("deny_port", []byte{protoTCP, 0, 0, 22}, 0, 2)(t, p)
		}),
		do("unblock out1", func(t *testing.T, p *ubpf.Program) {
			if err := mustMap(t, p, "deny_src").Delete(a4(out1)); err != nil {
				t.Fatal(err)
			}
		}),
		pass("out1 again", udp4(out1, in1, 53, 53, nil)),
	}},

	{file: "conntrack", kind: ubpf.KindFilter, steps: []step{
		do("inside is 10.0.0.0/24", update("inside", lpm4(inNet), le32(1))),
		pass("not TCP", icmpEcho(out1, in1, 8)),
		drop("outside SYN to the inside", tcp4(out1, in1, tcpSeg{sport: 5555, dport: 22, flags: syn})),
		drop("outside data without a connection", tcp4(out1, in1, tcpSeg{sport: 80, dport: 40000, flags: ack | psh})),
		drop("inside data without a connection", tcp4(in1, out1, tcpSeg{sport: 40000, dport: 80, flags: ack | psh})),
		pass("inside SYN opens", tcp4(in1, out1, tcpSeg{sport: 40000, dport: 80, flags: syn})),
		do("SYN_SENT", connState(in1, out1, 40000, 80, 1)),
		drop("outside ACK before SYN+ACK", tcp4(out1, in1, tcpSeg{sport: 80, dport: 40000, flags: ack})),
		drop("SYN+ACK from another port", tcp4(out1, in1, tcpSeg{sport: 81, dport: 40000, flags: syn | ack})),
		drop("SYN+ACK from another host", tcp4(out2, in1, tcpSeg{sport: 80, dport: 40000, flags: syn | ack})),
		pass("SYN+ACK reply", tcp4(out1, in1, tcpSeg{sport: 80, dport: 40000, flags: syn | ack})),
		do("SYN_RECV", connState(in1, out1, 40000, 80, 2)),
		pass("inside ACK", tcp4(in1, out1, tcpSeg{sport: 40000, dport: 80, flags: ack})),
		do("ESTABLISHED", connState(in1, out1, 40000, 80, 3)),
		passN("reply data", 3, tcp4(out1, in1, tcpSeg{sport: 80, dport: 40000, flags: ack | psh, payload: []byte("hello")})),
		pass("request data", tcp4(in1, out1, tcpSeg{sport: 40000, dport: 80, flags: ack | psh, payload: []byte("GET")})),
		drop("outside SYN on the same ports", tcp4(out1, in1, tcpSeg{sport: 80, dport: 40000, flags: syn})),
		do("packet counts", func(t *testing.T, p *ubpf.Program) {
			u64s("conns", connKey(in1, out1, 40000, 80), 16, 3, 4)(t, p) // out: SYN, ACK, data; in: SYN+ACK, 3 data
		}),
		pass("inside FIN", tcp4(in1, out1, tcpSeg{sport: 40000, dport: 80, flags: fin | ack})),
		do("CLOSING", connState(in1, out1, 40000, 80, 4)),
		pass("outside FIN+ACK", tcp4(out1, in1, tcpSeg{sport: 80, dport: 40000, flags: fin | ack})),
		pass("outside RST of the connection", tcp4(out1, in1, tcpSeg{sport: 80, dport: 40000, flags: rst})),
		do("RST removed it", absent("conns", connKey(in1, out1, 40000, 80))),
		drop("late reply", tcp4(out1, in1, tcpSeg{sport: 80, dport: 40000, flags: ack})),
		drop("RST of an unknown connection", tcp4(out1, in2, tcpSeg{sport: 80, dport: 40001, flags: rst})),
		drop("truncated TCP header", ipv4(out1, in1, protoTCP, ip4opts{}, make([]byte, 10))),
		do("stats", func(t *testing.T, p *ubpf.Program) {
			// out allowed: SYN, ACK, data, FIN; out untracked: 1;
			// in allowed: SYN+ACK, 3 data, FIN+ACK, RST; in blocked: 8.
			for i, want := range []uint64{4, 1, 6, 8} {
				u64s("stats", le32(uint32(i)), 0, want)(t, p)
			}
		}),
	}},

	{file: "synflood", kind: ubpf.KindFilter, steps: []step{
		drop("not TCP", udp4(out1, in1, 1, 2, nil)),
		drop("SYN+ACK is not counted", tcp4(out1, in1, tcpSeg{sport: 1, dport: 2, flags: syn | ack})),
		do("threshold 5 SYNs per second", update("config", le32(0), le64(5))),
		do("the 6th SYN in a second matches", func(t *testing.T, p *ubpf.Program) {
			th := ubpf.NewThread()
			defer th.Close()
			// A burst could straddle a second boundary (the count starts
			// over); retry from fresh sources.
			for _, src := range []string{out1, out2, out3} {
				var got []bool
				for i := 0; i < 6; i++ {
					got = append(got, p.Match(th, tcp4(src, in1, tcpSeg{sport: uint16(1000 + i), dport: 80, flags: syn})))
				}
				if !slicesEqual(got, []bool{false, false, false, false, false, true}) {
					t.Logf("%s: verdicts %v; retrying", src, got)
					continue
				}
				v := lookup(t, p, "offenders", a4(src))
				if est, dropped := u64At(v, 0), u64At(v, 16); est != 6 || dropped != 1 {
					t.Fatalf("offender %s: estimate %d dropped %d, want 6 and 1", src, est, dropped)
				}
				if est := binary.LittleEndian.Uint64(lookupSketch(t, p, src, u64At(v, 8))); est != 6 {
					t.Fatalf("sketch estimate %d, want 6", est)
				}
				return
			}
			t.Fatal("no source was detected after 6 SYNs")
		}),
		drop("a quiet source", tcp4(in2, out1, tcpSeg{sport: 1, dport: 2, flags: syn})),
		do("quiet source not an offender", absent("offenders", a4(in2))),
	}},

	{file: "heavyhitter", kind: ubpf.KindFilter, steps: []step{
		do("threshold 1000 bytes", update("config", le32(0), le64(1000))),
		passN("out1: 12 x 100 bytes", 12, udp4(out1, in1, 1, 2, make([]byte, 100-42))),
		passN("out2: 3 x 100 bytes", 3, udp4(out2, in1, 1, 2, make([]byte, 100-42))),
		pass("not IPv4", arpRequest()),
		do("hitters holds out1 only", func(t *testing.T, p *ubpf.Program) {
			v := lookup(t, p, "hitters", a4(out1))
			if got := u64At(v, 0); got < 1200 {
				t.Fatalf("hitters[out1] = %d, want >= 1200", got)
			}
			absent("hitters", a4(out2))(t, p)
		}),
		do("the controller's view of the sketch", func(t *testing.T, p *ubpf.Program) {
			// What a controller does with dump-map's output: compute the
			// estimate from the raw counters.
			cms := map[uint32]uint64{}
			mustMap(t, p, "cms").Iterate(func(k, v []byte) bool {
				cms[u32At(k, 0)] = u64At(v, 0)
				return true
			})
			for src, want := range map[string]uint64{out1: 1200, out2: 300, out3: 0} {
				if got := hhEstimate(cms, a4(src)); got < want || got > 1500 {
					t.Errorf("estimate of %s = %d, want %d (at most 1500, all bytes)", src, got, want)
				}
			}
			var row0 uint64
			for i := uint32(0); i < 256; i++ {
				row0 += cms[i]
			}
			if row0 != 1500 {
				t.Errorf("row 0 sums to %d, want 1500 (every byte counted once per row)", row0)
			}
		}),
	}},

	{file: "ddos", kind: ubpf.KindFilter, steps: []step{
		pass("empty blocklist", udp4(out1, in1, 1, 2, nil)),
		do("block 10.1.0.0/16", update("blocklist", lpm4("10.1.0.0/16"), make([]byte, 24))),
		do("except 10.1.2.0/24", update("blocklist", lpm4("10.1.2.0/24"), cat(le32(1), make([]byte, 20)))),
		do("block 192.0.2.128/25", update("blocklist", lpm4("192.0.2.128/25"), make([]byte, 24))),
		drop("10.1.5.5 is in the /16", udp4("10.1.5.5", in1, 1, 2, nil)),
		drop("10.1.255.1 too", icmpEcho("10.1.255.1", in1, 56)),
		pass("10.1.2.3 is in the exception", udp4("10.1.2.3", in1, 1, 2, nil)),
		pass("10.2.0.1 is not listed", udp4("10.2.0.1", in1, 1, 2, nil)),
		pass("192.0.2.1 is below the /25", udp4(out1, in1, 1, 2, nil)),
		drop("192.0.2.200 is in the /25", udp4("192.0.2.200", in1, 1, 2, nil)),
		pass("not IPv4", arpRequest()),
		do("per-prefix counters", func(t *testing.T, p *ubpf.Program) {
			udpLen, icmpLen := uint64(42), uint64(14+20+8+56)
			u64s("blocklist", lpm4("10.1.0.0/16"), 8, 2, udpLen+icmpLen)(t, p)
			u64s("blocklist", lpm4("10.1.2.0/24"), 8, 1, udpLen)(t, p)
			u64s("blocklist", lpm4("192.0.2.128/25"), 8, 1, udpLen)(t, p)
			if passed, dropped := perThreadSum(t, p, "totals", le32(0)), perThreadSum(t, p, "totals", le32(1)); passed != 4 || dropped != 3 {
				t.Fatalf("totals: passed %d dropped %d, want 4 and 3 (ARP is not counted)", passed, dropped)
			}
		}),
	}},

	{file: "p0f", kind: ubpf.KindFilter, steps: []step{
		pass("Linux SYN", tcp4(out1, in1, tcpSeg{sport: 40000, dport: 80, flags: syn, window: 64240,
			opts: cat(optMSS(1460), optSACKOK(), optTS(), optNOP(), optWS(7))})),
		pass("Windows SYN, 3 hops away", ipv4(out2, in1, protoTCP, ip4opts{ttl: 125, df: true}, tcpSeg{sport: 50000, dport: 443, flags: syn, window: 64240,
			opts: cat(optMSS(1460), optNOP(), optWS(8), optNOP(), optNOP(), optSACKOK())}.bytes())),
		pass("macOS SYN", tcp4(out3, in1, tcpSeg{sport: 60000, dport: 22, flags: syn, window: 65535,
			opts: cat(optMSS(1460), optNOP(), optWS(6), optNOP(), optNOP(), optTS(), optSACKOK(), optEOL())})),
		pass("SYN without options", ipv4(in2, in1, protoTCP, ip4opts{ttl: 250}, tcpSeg{sport: 1, dport: 2, flags: syn, window: 1024}.bytes())),
		drop("not a SYN", tcp4(out1, in1, tcpSeg{sport: 40000, dport: 80, flags: ack})),
		drop("SYN+ACK", tcp4(out1, in1, tcpSeg{sport: 80, dport: 40000, flags: syn | ack})),
		drop("not TCP", udp4(out1, in1, 1, 2, nil)),
		do("fingerprints", func(t *testing.T, p *ubpf.Program) {
			for _, c := range []struct {
				src                    string
				os, ttl, df, ws, nopts uint8
				window, mss            uint16
				layout                 uint64
			}{
				{out1, 1, 64, 1, 7, 5, 64240, 1460, 0x24813},
				{out2, 2, 128, 1, 8, 6, 64240, 1460, 0x213114},
				{out3, 3, 64, 1, 6, 8, 65535, 1460, 0x21311840},
				{in2, 0, 255, 0, 0xff, 0, 1024, 0, 0},
			} {
				v := lookup(t, p, "fingerprints", a4(c.src))
				got := []uint64{uint64(v[0]), uint64(v[1]), uint64(v[2]), uint64(v[3]), uint64(v[8]), uint64(u16At(v, 4)), uint64(u16At(v, 6)), u64At(v, 16)}
				want := []uint64{uint64(c.os), uint64(c.ttl), uint64(c.df), uint64(c.ws), uint64(c.nopts), uint64(c.window), uint64(c.mss), c.layout}
				if !slicesEqual(got, want) {
					t.Errorf("%s: fingerprint os,ttl,df,ws,n_opts,window,mss,layout = %x, want %x", c.src, got, want)
				}
			}
			for cls, want := range []uint64{1, 1, 1, 1} {
				u64s("per_os", le32(uint32(cls)), 0, want)(t, p)
			}
		}),
		do("match Linux only", update("match_os", le32(0), le32(1<<1))),
		drop("Windows SYN now", ipv4(out2, in1, protoTCP, ip4opts{ttl: 128, df: true}, tcpSeg{sport: 50001, dport: 443, flags: syn,
			opts: cat(optMSS(1460), optNOP(), optWS(8), optNOP(), optNOP(), optSACKOK())}.bytes())),
		pass("Linux SYN still", tcp4(out1, in1, tcpSeg{sport: 40001, dport: 80, flags: syn,
			opts: cat(optMSS(1460), optSACKOK(), optTS(), optNOP(), optWS(7))})),
		drop("option length 0 stops the walk (unknown OS)", tcp4(out1, in1, tcpSeg{sport: 1, dport: 2, flags: syn, opts: []byte{2, 0, 5, 0}})),
		drop("option longer than the header", tcp4(out1, in1, tcpSeg{sport: 1, dport: 2, flags: syn, opts: []byte{1, 8, 200, 0}})),
		drop("40 bytes of NOPs", tcp4(out1, in1, tcpSeg{sport: 1, dport: 2, flags: syn, opts: bytes.Repeat([]byte{1}, 40)})),
		drop("header claims options the packet lacks", func() []byte {
			p := tcp4(out1, in1, tcpSeg{sport: 1, dport: 2, flags: syn, opts: optMSS(1460)})
			p[14+20+12] = 15 << 4 // doff 60 bytes
			return p
		}()),
	}},

	{file: "portknock", kind: ubpf.KindFilter, steps: []step{
		pass("not IPv4", arpRequest()),
		drop("closed", icmpEcho(out1, in1, 56)),
		drop("knock 1", udp4(out1, in1, 5000, 7000, nil)),
		drop("knock 2", udp4(out1, in1, 5000, 8000, nil)),
		drop("still closed between knocks", tcp4(out1, in1, tcpSeg{sport: 5000, dport: 22, flags: syn})),
		drop("knock 3", udp4(out1, in1, 5000, 9000, nil)),
		pass("open", icmpEcho(out1, in1, 56)),
		pass("open for tcp too", tcp4(out1, in1, tcpSeg{sport: 5000, dport: 22, flags: syn})),
		pass("knock ports are not swallowed once open", udp4(out1, in1, 5000, 7000, nil)),
		drop("another source is still shut out", icmpEcho(out2, in1, 56)),
		drop("out2 knocks 7000", udp4(out2, in1, 5000, 7000, nil)),
		drop("out2 knocks 9000: wrong order, starts over", udp4(out2, in1, 5000, 9000, nil)),
		drop("out2 knocks 8000", udp4(out2, in1, 5000, 8000, nil)),
		drop("out2 is not open", icmpEcho(out2, in1, 56)),
		do("gate states", func(t *testing.T, p *ubpf.Program) {
			if v := lookup(t, p, "gate", a4(out1)); u32At(v, 0) != 3 {
				t.Fatalf("out1 stage %d, want 3 (open)", u32At(v, 0))
			}
			if v := lookup(t, p, "gate", a4(out2)); u32At(v, 0) != 0 {
				t.Fatalf("out2 stage %d, want 0", u32At(v, 0))
			}
		}),
		do("protect tcp/22 only, open 1 s, knocks 1111 2222 3333", update("config", le32(0),
			cat(le16(1111), le16(2222), le16(3333), le16(22), le32(5), le32(1)))),
		pass("out3: other ports are not guarded", tcp4(out3, in1, tcpSeg{sport: 5000, dport: 80, flags: syn})),
		drop("out3: tcp/22 is", tcp4(out3, in1, tcpSeg{sport: 5000, dport: 22, flags: syn})),
		pass("old knock ports are just unguarded ports now", udp4(out3, in1, 5000, 7000, nil)),
		drop("knock 1111", udp4(out3, in1, 5000, 1111, nil)),
		drop("knock 2222", udp4(out3, in1, 5000, 2222, nil)),
		drop("knock 3333", udp4(out3, in1, 5000, 3333, nil)),
		pass("tcp/22 open", tcp4(out3, in1, tcpSeg{sport: 5000, dport: 22, flags: syn})),
		do("wait for the gate to close", sleep(1100*time.Millisecond)),
		drop("tcp/22 closed again", tcp4(out3, in1, tcpSeg{sport: 5000, dport: 22, flags: syn})),
	}},

	{file: "xdp_proto", kind: ubpf.KindXDP, steps: []step{
		pass("tcp", tcp4(out1, in1, tcpSeg{sport: 1, dport: 2, flags: syn})),
		passN("udp", 2, udp4(out1, in1, 1, 2, nil)),
		pass("udp in a VLAN", vlanTag(udp4(out1, in1, 1, 2, nil), 100)),
		pass("udp in two VLANs", vlanTag(vlanTag(udp4(out1, in1, 1, 2, nil), 100), 200)),
		pass("icmpv6", ipv6("2001:db8::1", "2001:db8::2", protoICMPv6, make([]byte, 8))),
		pass("ARP", arpRequest()),
		drop("truncated IPv4 header", ether(ethIPv4, make([]byte, 10))),
		drop("runt frame", []byte{1, 2, 3}),
		do("drop udp", update("drop_proto", le32(protoUDP), le32(1))),
		drop("udp now", udp4(out1, in1, 1, 2, nil)),
		drop("in a VLAN too", vlanTag(udp4(out1, in1, 1, 2, nil), 100)),
		pass("tcp still", tcp4(out1, in1, tcpSeg{sport: 1, dport: 2, flags: ack})),
		do("per-protocol counters", func(t *testing.T, p *ubpf.Program) {
			for proto, want := range map[uint32]uint64{protoTCP: 2, protoUDP: 6, protoICMPv6: 1, protoICMP: 0} {
				if got := perThreadSum(t, p, "rxcnt", le32(proto)); got != want {
					t.Errorf("rxcnt[%d] = %d, want %d", proto, got, want)
				}
			}
		}),
	}},
}

// connKey is conntrack's struct conn_key.
func connKey(inside, outside string, inPort, outPort uint16) []byte {
	k := cat(a4(inside), a4(outside))
	k = binary.BigEndian.AppendUint16(k, inPort)
	return binary.BigEndian.AppendUint16(k, outPort)
}

func connState(inside, outside string, inPort, outPort uint16, state uint32) func(*testing.T, *ubpf.Program) {
	return func(t *testing.T, p *ubpf.Program) {
		t.Helper()
		v := lookup(t, p, "conns", connKey(inside, outside, inPort, outPort))
		if got := u32At(v, 0); got != state {
			t.Fatalf("connection state %d, want %d", got, state)
		}
	}
}

// lookupSketch asks synflood's count-min sketch for {src, second}.
func lookupSketch(t *testing.T, p *ubpf.Program, src string, second uint64) []byte {
	return lookup(t, p, "syn_sketch", cat(a4(src), le32(uint32(second))))
}

// hhEstimate is heavyhitter.c's estimate, computed from the raw counters
// as a controller would (see the comment at the top of heavyhitter.c).
func hhEstimate(cms map[uint32]uint64, src []byte) uint64 {
	seeds := []uint32{0x00000000, 0x5bd1e995, 0x1b873593, 0xcc9e2d51}
	x := binary.LittleEndian.Uint32(src)
	est := ^uint64(0)
	for r, s := range seeds {
		idx := uint32(r)*256 + ((x^s)*0x9e3779b1)>>24
		est = min(est, cms[idx])
	}
	return est
}

func slicesEqual[T comparable](a, b []T) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// TestExamplesConcurrent runs programs on several threads at once, as the
// datapath does: the counters the examples keep with atomic adds must
// come out exact. (Examples that also update state with plain stores, such
// as conntrack's timestamps, race by design, as they would in the kernel;
// they are left out so that the test stays clean under -race.)
func TestExamplesConcurrent(t *testing.T) {
	const goroutines, perG = 8, 2000
	cases := []struct {
		file  string
		setup func(t *testing.T, p *ubpf.Program)
		pkt   []byte
		check func(t *testing.T, p *ubpf.Program)
	}{
		{"firewall", update("deny_port", []byte{protoUDP, 0, 0, 53}, le64(0)), udp4(out1, in1, 1, 53, nil),
			u64s("deny_port", []byte{protoUDP, 0, 0, 53}, 0, goroutines*perG)},
		{"ddos", update("blocklist", lpm4("192.0.2.0/24"), make([]byte, 24)), udp4(out1, in1, 1, 2, nil),
			u64s("blocklist", lpm4("192.0.2.0/24"), 8, goroutines*perG, goroutines*perG*42)},
		{"heavyhitter", update("config", le32(0), le64(1000)), udp4(out1, in1, 1, 2, nil),
			func(t *testing.T, p *ubpf.Program) {
				var row0 uint64
				mustMap(t, p, "cms").Iterate(func(k, v []byte) bool {
					if u32At(k, 0) < 256 {
						row0 += u64At(v, 0)
					}
					return true
				})
				if want := uint64(goroutines * perG * 42); row0 != want {
					t.Fatalf("row 0 of the sketch sums to %d, want %d", row0, want)
				}
			}},
	}
	for _, c := range cases {
		t.Run(c.file, func(t *testing.T) {
			p, err := ubpf.LoadELFBytes(compile(t, c.file), ubpf.LoadOptions{Logger: quiet})
			if err != nil {
				t.Fatal(err)
			}
			c.setup(t, p)
			var wg sync.WaitGroup
			for g := 0; g < goroutines; g++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					th := ubpf.NewThread()
					defer th.Close()
					for i := 0; i < perG; i++ {
						if _, err := p.Run(th, c.pkt); err != nil {
							t.Error(err)
							return
						}
					}
				}()
			}
			wg.Wait()
			c.check(t, p)
		})
	}
}
