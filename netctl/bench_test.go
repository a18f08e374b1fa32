package netctl

// Benchmarks of the two ways to run security groups (flows, or one filter
// program per NIC), and of the control plane at cloud scale. They report
// their figures as custom metrics; run them one at a time:
//
//	go test -run XXX -bench RuleChurn -benchtime 1x ./netctl
//	go test -run XXX -bench ControlPlaneScale -benchtime 1x -timeout 60m ./netctl
//	go test -run XXX -bench WantOneHost -benchtime 10x ./netctl
//
// (100 agents and etcd in one process: on a busy two-core machine their
// first load alone can take ten minutes.)

import (
	"context"
	"encoding/binary"
	"fmt"
	"hash/fnv"
	"io"
	"log/slog"
	"net"
	"path/filepath"
	"runtime/debug"
	"sort"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/goko-net/goko/datapath"
	"github.com/goko-net/goko/datapath/memport"
	"github.com/goko-net/goko/ofclient"
	"github.com/goko-net/goko/ofproto"
)

// tcpFrames returns n TCP ACK frames from (mac a, 10.1.0.1) to (mac b,
// 10.1.0.2) port 80, from n source ports.
func tcpFrames(a, b [6]byte, n int) [][]byte {
	var out [][]byte
	for i := 0; i < n; i++ {
		f := make([]byte, 14+20+20)
		copy(f[0:6], b[:])
		copy(f[6:12], a[:])
		f[12], f[13] = 0x08, 0x00
		ip := f[14:34]
		ip[0], ip[8], ip[9] = 0x45, 64, 6
		binary.BigEndian.PutUint16(ip[2:], 40)
		copy(ip[12:16], []byte{10, 1, 0, 1})
		copy(ip[16:20], []byte{10, 1, 0, 2})
		tcp := f[34:]
		binary.BigEndian.PutUint16(tcp[0:], uint16(20000+i))
		binary.BigEndian.PutUint16(tcp[2:], 80)
		tcp[12], tcp[13] = 0x50, 0x10 // ACK
		out = append(out, f)
	}
	return out
}

// churnBridge runs a bridge whose port 1 replays frames and port 2 counts
// what it is sent.
func churnBridge(b *testing.B, frames [][]byte) (sock string, out *memport.Port, stop func()) {
	br := ofproto.New(ofproto.Config{Name: "churn", DatapathID: 1, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	dp := datapath.New(datapath.Config{Name: "churn", Translator: br, Upcaller: br, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	br.SetDatapath(dp)
	in := memport.New("in", memport.WithReplay(frames))
	out = memport.New("out", memport.WithDiscard())
	for i, p := range []*memport.Port{in, out} {
		if _, err := br.AddPort(uint32(i+1), p); err != nil {
			b.Fatal(err)
		}
	}
	tun, err := datapath.NewTunnel(datapath.TunnelConfig{Name: "vx", LocalIP: mustAddr("192.0.2.1"), Underlay: datapath.InternalPortBase,
		Neighbors: datapath.NewNeighbors()})
	if err != nil {
		b.Fatal(err)
	}
	if _, err := br.AddPort(10, tun); err != nil {
		b.Fatal(err)
	}
	sock = filepath.Join(b.TempDir(), "churn.sock")
	ln, err := net.Listen("unix", sock)
	if err != nil {
		b.Fatal(err)
	}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go br.Serve(c)
		}
	}()
	if err := dp.Start(); err != nil {
		b.Fatal(err)
	}
	return sock, out, func() { ln.Close(); br.Close(); dp.Stop() }
}

// rate measures the packets per second port out sends during d.
func rate(out *memport.Port, d time.Duration) float64 {
	start, t0 := out.Stats().TxPackets, time.Now()
	time.Sleep(d)
	return float64(out.Stats().TxPackets-start) / time.Since(t0).Seconds()
}

// benchModes are the two ways to run security groups, as benchmark names
// and Switch.SGMode.
var benchModes = []struct{ name, mode string }{{"flows", ""}, {SGModeProgram, SGModeProgram}}

// churnResult is one run of churn.
type churnResult struct {
	elapsed          time.Duration
	idle, during     float64 // packets per second
	flowMods, writes int
	flows, programs  int
}

// churn applies 1,000 rule changes (each a new tcp rule with its own port
// and source prefix in the receiving NIC's group), one apply each, to a
// switch that forwards frames (nil: no traffic) from one NIC to the
// other as fast as it can.
func churn(b *testing.B, mode string, frames [][]byte) churnResult {
	var res churnResult
	sock, out, stop := churnBridge(b, frames)
	defer stop()
	st := newState()
	must := func(err error) {
		if err != nil {
			b.Fatal(err)
		}
	}
	must(st.AddSwitch(Switch{Name: "a", Target: "unix:" + sock, VTEP: "192.0.2.1", TunnelPort: 10, SGMode: mode}))
	must(st.AddSG("web", false))
	must(st.AddSG("client", false))
	r, _ := NewRule(RuleSpec{Proto: "tcp", Port: "80", CIDR: "10.1.0.0/16"})
	must(st.AddRule("web", r))
	must(st.AddNIC(NIC{ID: "A", MAC: "52:54:00:00:00:01", IPs: []string{"10.1.0.1"}, VNI: 1, Switch: "a", Port: 1, SGs: []string{"client"}}))
	must(st.AddNIC(NIC{ID: "B", MAC: "52:54:00:00:00:02", IPs: []string{"10.1.0.2"}, VNI: 1, Switch: "a", Port: 2, SGs: []string{"web"}}))
	ctx := context.Background()
	c, err := ofclient.Connect(ctx, "unix:"+sock, ofclient.Options{})
	must(err)
	defer c.Close()
	_, installed, err := Apply(ctx, c, "a", st.Want("a"), nil)
	must(err)
	if frames != nil {
		if res.idle = rate(out, time.Second); res.idle == 0 {
			b.Fatal("nothing forwarded")
		}
	}
	start := time.Now()
	tx0 := out.Stats().TxPackets
	for i := 0; i < 1000; i++ {
		r, err := NewRule(RuleSpec{Proto: "tcp", Port: fmt.Sprint(2000 + i), CIDR: fmt.Sprintf("172.%d.%d.0/24", 16+i/256, i%256)})
		must(err)
		must(st.AddRule("web", r))
		sr, now, err := Apply(ctx, c, "a", st.Want("a"), installed)
		must(err)
		installed = now
		res.writes += sr.MapWrites
		res.flowMods += sr.Added + sr.Deleted
	}
	res.elapsed = time.Since(start)
	res.during = float64(out.Stats().TxPackets-tx0) / res.elapsed.Seconds()
	want := st.Want("a")
	res.flows, res.programs = len(want.Flows), len(want.Programs)
	return res
}

// BenchmarkRuleChurn compares the groups as flows and as programs: the
// time to apply 1,000 rule changes without traffic and while one NIC
// sends to the other as fast as the datapath forwards, and the forwarding
// rate before and during the changes. To interleave the two on a shared
// machine, run it several times with -count 1.
func BenchmarkRuleChurn(b *testing.B) {
	for _, bm := range benchModes {
		m := bm.mode
		b.Run(bm.name, func(b *testing.B) {
			quiet := churn(b, m, nil)
			busy := churn(b, m, tcpFrames([6]byte{0x52, 0x54, 0, 0, 0, 1}, [6]byte{0x52, 0x54, 0, 0, 0, 2}, 64))
			b.ReportMetric(float64(quiet.elapsed.Milliseconds()), "ms/1000-changes")
			b.ReportMetric(float64(busy.elapsed.Milliseconds()), "ms/1000-changes-forwarding")
			b.ReportMetric(busy.idle/1e6, "Mpps-before")
			b.ReportMetric(busy.during/1e6, "Mpps-during")
			b.ReportMetric(float64(busy.flows), "flows")
			b.ReportMetric(float64(busy.programs), "programs")
			b.ReportMetric(float64(busy.flowMods), "flow-mods")
			b.ReportMetric(float64(busy.writes), "map-writes")
		})
	}
}

// scaleModel builds 100 hosts, 10,000 NICs in 100 VNIs of 100, and 1,000
// groups of 10 rules. A VNI (a tenant's network) spans 10 hosts, 10 NICs
// on each; a group is 10 NICs of one VNI, one on each of its hosts. Each
// group has the default egress pair and 8 ingress rules: 4 from CIDRs (tcp
// 22, 443, a 100-port range, and tcp 80 from an IPv6 prefix), 3 from the
// group's own members (tcp 5432, udp 5000-5009, icmp echo) and 1 from the
// next group's (tcp 6379).
func scaleModel(b testing.TB, mode string) *State {
	const hosts, vnis, perVNI = 100, 100, 100
	st := newState()
	must := func(err error) {
		if err != nil {
			b.Fatal(err)
		}
	}
	for h := 0; h < hosts; h++ {
		must(st.AddSwitch(Switch{Name: fmt.Sprintf("h%03d", h), Target: "unix:/nowhere", VTEP: fmt.Sprintf("192.0.%d.%d", 2+h/250, 1+h%250),
			TunnelPort: 1000, SGMode: mode}))
	}
	rule := func(spec RuleSpec) Rule {
		r, err := NewRule(spec)
		must(err)
		return r
	}
	groups := vnis * perVNI / 10
	for g := 0; g < groups; g++ {
		id := fmt.Sprintf("g%04d", g)
		next := fmt.Sprintf("g%04d", g/10*10+(g+1)%10) // the next group of the same VNI
		must(st.AddSG(id, false))
		st.SGs[id].Rules = append(st.SGs[id].Rules, []Rule{
			rule(RuleSpec{Proto: "tcp", Port: "22", CIDR: "10.200.0.0/16"}),
			rule(RuleSpec{Proto: "tcp", Port: "443", CIDR: "0.0.0.0/0"}),
			rule(RuleSpec{Proto: "tcp", Port: "8000-8099", CIDR: fmt.Sprintf("10.%d.0.0/16", 100+g%100)}),
			rule(RuleSpec{Proto: "tcp", Port: "80", CIDR: "2001:db8::/32"}),
			rule(RuleSpec{Proto: "tcp", Port: "5432", Members: id}),
			rule(RuleSpec{Proto: "udp", Port: "5000-5009", Members: id}),
			rule(RuleSpec{Proto: "icmp", ICMP: "8", Members: id}),
			rule(RuleSpec{Proto: "tcp", Port: "6379", Members: next}),
		}...)
	}
	// Built directly rather than through AddNIC, whose checks are linear
	// in the model (the model is valid by construction).
	for v := 0; v < vnis; v++ {
		for k := 0; k < perVNI; k++ {
			i := v*perVNI + k
			st.NICs[fmt.Sprintf("n%05d", i)] = &NIC{ID: fmt.Sprintf("n%05d", i), MAC: fmt.Sprintf("52:54:00:%02x:%02x:01", v, k),
				IPs: []string{fmt.Sprintf("10.%d.%d.%d", v/250, v%250, 1+k)}, VNI: uint32(1 + v),
				Switch: fmt.Sprintf("h%03d", 10*(v%10)+k/10), Port: uint32(1 + v/10*10 + k%10),
				SGs: []string{fmt.Sprintf("g%04d", v*10+k%10)}, Zone: uint32(1 + i)}
		}
	}
	st.NextZone = uint32(vnis*perVNI + 1)
	return st
}

// cpuTime is the CPU time the process has used, in user and system mode:
// on a shared machine it says what the work costs, where wall time also
// says how long it waited for a core.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func median(v []int) int {
	s := append([]int(nil), v...)
	sort.Ints(s)
	return s[len(s)/2]
}

func maxOf(v []int) int {
	m := 0
	for _, x := range v {
		m = max(m, x)
	}
	return m
}

// BenchmarkControlPlaneScale: 100 hosts, 10,000 NICs, 1,000 groups of 10
// rules. It measures the time to compute every host's flows (and, in
// program mode, map entries), the flows per host, and with 100 in-process
// agents against an embedded etcd, the time from committing one rule
// change until every agent has applied it (each agent diffs against what
// it last applied; no datapath).
func BenchmarkControlPlaneScale(b *testing.B) {
	// 100 agents' models and wanted states in one process: collect often.
	defer debug.SetGCPercent(debug.SetGCPercent(25))
	for _, bm := range benchModes {
		m := bm.mode
		b.Run(bm.name, func(b *testing.B) {
			st := scaleModel(b, m)
			b.ResetTimer()
			start, cpu0 := time.Now(), cpuTime()
			ix := st.index()
			var flows, entries []int
			for _, name := range st.SwitchNames() {
				flows = append(flows, len(ix.flows(name)))
				n := 0
				for _, maps := range ix.programs(name) {
					n += maps.Entries()
				}
				entries = append(entries, n)
			}
			compute, computeCPU := time.Since(start), cpuTime()-cpu0
			b.StopTimer()
			b.ReportMetric(compute.Seconds()*1000, "ms-compute-all-hosts")
			b.ReportMetric(computeCPU.Seconds()*1000, "ms-cpu-compute-all-hosts")
			b.ReportMetric(float64(median(flows)), "flows/host-median")
			b.ReportMetric(float64(maxOf(flows)), "flows/host-max")
			b.ReportMetric(float64(median(entries)), "map-entries/host-median")

			e := startEtcd(b)
			ctx, cancel := context.WithTimeout(context.Background(), 25*time.Minute)
			defer cancel()
			if err := e.Replace(ctx, st); err != nil {
				b.Fatal(err)
			}
			quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
			var agents []*Agent
			var sims []*simSwitch
			var wg sync.WaitGroup
			actx, acancel := context.WithCancel(ctx)
			for _, name := range st.SwitchNames() {
				sim := &simSwitch{}
				// A long lease: 100 agents and etcd share two cores here, and a
				// late keepalive must not end a term.
				a := NewAgent(AgentConfig{Etcd: e, Switch: name, ID: name, TTL: 30, Logger: quiet, Apply: sim.apply})
				agents, sims = append(agents, a), append(sims, sim)
				wg.Add(1)
				go func() { defer wg.Done(); a.Run(actx) }()
			}
			defer func() { acancel(); wg.Wait() }()
			resp, err := e.Client.Get(ctx, e.Prefix+keyMeta)
			if err != nil {
				b.Fatal(err)
			}
			rev := resp.Header.Revision
			t0 := time.Now()
			waitAll := func(rev int64) {
				for {
					done := 0
					for _, a := range agents {
						if a.AppliedRevision() >= rev {
							done++
						}
					}
					if done == len(agents) {
						return
					}
					if ctx.Err() != nil {
						b.Fatalf("%d of %d agents applied revision %d", done, len(agents), rev)
					}
					time.Sleep(5 * time.Millisecond)
				}
			}
			waitAll(rev)
			b.ReportMetric(time.Since(t0).Seconds(), "s-all-agents-initial")
			// One rule change in a group whose members sit on 10 hosts:
			// every agent sees the event, those 10 recompute and apply.
			var applies0 []int64
			changes0 := 0
			for i, a := range agents {
				applies0 = append(applies0, a.Stats().Applies)
				changes0 += sims[i].changes
			}
			t0, cpu0 = time.Now(), cpuTime()
			_, _, err = e.Update(ctx, func(st *State) error {
				r, _ := NewRule(RuleSpec{Proto: "tcp", Port: "9090", CIDR: "10.250.0.0/16"})
				return st.AddRule("g0001", r)
			})
			if err != nil {
				b.Fatal(err)
			}
			resp, _ = e.Client.Get(ctx, e.Prefix+keyMeta)
			waitAll(resp.Header.Revision)
			b.ReportMetric(time.Since(t0).Seconds()*1000, "ms-all-agents-one-change")
			b.ReportMetric((cpuTime()-cpu0).Seconds()*1000, "ms-cpu-one-change")
			recomputed, changes := 0, -changes0
			for i, a := range agents {
				if a.Stats().Applies > applies0[i] {
					recomputed++
				}
				changes += sims[i].changes
			}
			b.ReportMetric(float64(recomputed), "agents-applied-one-change")
			b.ReportMetric(float64(changes), "switch-changes-one-change")
		})
	}
}

// simSwitch stands for a switch in the control-plane benchmark: it keeps
// the identity of what it was given (flow keys and instructions, map
// entries) and computes the changes Apply would send.
type simSwitch struct {
	flows   map[uint64]uint64 // hashes of key and instructions, to keep 100 of them small
	entries map[uint64]uint64
	changes int
}

func hash64(s string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(s))
	return h.Sum64()
}

func (s *simSwitch) apply(_ context.Context, want Want) error {
	flows := make(map[uint64]uint64, len(want.Flows))
	for i := range want.Flows {
		f := want.Flows[i].clientFlow()
		flows[hash64(f.Key())] = hash64(ofclient.InstructionsKey(f.Instructions))
	}
	entries := map[uint64]uint64{}
	for id, maps := range want.Programs {
		for name, m := range maps {
			for k, v := range m {
				entries[hash64(fmt.Sprint(id, name, k))] = hash64(v)
			}
		}
	}
	for k, v := range flows {
		if s.flows[k] != v {
			s.changes++
		}
	}
	for k, v := range entries {
		if s.entries[k] != v {
			s.changes++
		}
	}
	s.flows, s.entries = flows, entries
	return nil
}

// BenchmarkWantOneHost is what an agent does on a change of its share of
// the model: compute its host's flows and programs (100 NICs of the
// control-plane scale model) from the whole model.
func BenchmarkWantOneHost(b *testing.B) {
	for _, bm := range benchModes {
		m := bm.mode
		b.Run(bm.name, func(b *testing.B) {
			st := scaleModel(b, m)
			b.ReportAllocs()
			b.ResetTimer()
			cpu0 := cpuTime()
			for i := 0; i < b.N; i++ {
				st.Want("h000")
			}
			b.ReportMetric((cpuTime()-cpu0).Seconds()*1000/float64(b.N), "ms-cpu/op")
		})
	}
}
