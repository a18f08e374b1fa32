package ubpf_test

// The soundness property: a program the verifier accepts as a filter or
// an XDP program never stops at a run-time check, never does what the
// reference interpreter (refvm_test.go) calls a violation, and returns
// what the reference interpreter returns.
//
// TestSoundnessRandom checks it on programs from progen (a fixed range of
// seeds, so CI runs are reproducible), FuzzSoundness lets `go test -fuzz`
// drive the generator, TestSoundnessRegressions replays the minimised
// failures in testdata/soundness, and TestSoundnessMutations mutates the
// accepted programs of the verifier tests and of those regressions.
//
// Failures the current verifier is known to have are listed by name in
// knownUnsound: their regression cases are skipped (saying so), and
// random programs that fail in the same way are recognised by
// knownSignature and counted, not failed. Remove a name when its fix
// lands; its cases then run, and must pass.

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/goko-net/goko/ubpf"
	"github.com/goko-net/goko/ubpf/internal/progen"
)

var (
	soundN    = flag.Int("soundness.n", 50000, "random programs TestSoundnessRandom checks (-short: a tenth)")
	soundSeed = flag.Uint64("soundness.seed", 0, "first seed of TestSoundnessRandom")
	soundDump = flag.String("soundness.dump", "", "directory to write failing random programs to, minimised, as regression cases")
	soundShow = flag.Int64("soundness.show", -1, "TestSoundnessShow: print this seed's program and what checking it finds")
)

// testCase is a program with the maps and packets to run it on.
type testCase struct {
	name     string
	kind     ubpf.Kind
	code     []byte
	maps     []ubpf.MapSpec
	contents [][]progen.MapEntry
	packets  [][]byte
	// maxVerify lowers the verifier's budget (default 200,000 processed
	// instructions: generated programs need far fewer)
	maxVerify int
}

func fromProgen(name string, p *progen.Program) *testCase {
	c := &testCase{name: name, kind: ubpf.Kind(p.Kind), code: p.Bytes(), contents: p.MapContents, packets: p.Packets}
	for _, m := range p.Maps {
		c.maps = append(c.maps, ubpf.MapSpec{Name: m.Name, Type: ubpf.MapType(m.Type), KeySize: m.KeySize,
			ValueSize: m.ValueSize, MaxEntries: m.MaxEntries, Flags: m.Flags})
	}
	return c
}

// finding is one way a case broke the property.
type finding struct {
	Class  string // panic, fault, violation:KIND, result
	PC     int
	Detail string
	Packet int
	Events map[string]bool // what the reference interpreter saw (refVM.events)
}

func (f *finding) String() string {
	return fmt.Sprintf("%s at insn %d on packet %d: %s", f.Class, f.PC, f.Packet, f.Detail)
}

const testIfindex, testRxQueue = 3, 1

// load creates the case's maps, fills them, and loads the program; a
// verifier panic is returned as a finding.
func (c *testCase) load() (p *ubpf.Program, f *finding, err error) {
	var maps []*ubpf.Map
	for i, s := range c.maps {
		m, err := ubpf.NewMap(s)
		if err != nil {
			return nil, nil, fmt.Errorf("map %d: %w", i, err)
		}
		if i < len(c.contents) {
			for _, e := range c.contents[i] {
				if err := m.Update(e.Key, e.Value, ubpf.UpdateAny); err != nil {
					return nil, nil, fmt.Errorf("map %d contents: %w", i, err)
				}
			}
		}
		maps = append(maps, m)
	}
	defer func() {
		if r := recover(); r != nil {
			p, f, err = nil, &finding{Class: "panic", PC: -1, Detail: fmt.Sprint("verifier panic: ", r)}, nil
		}
	}()
	budget := c.maxVerify
	if budget == 0 {
		budget = 200000
	}
	p, err = ubpf.Load(c.code, ubpf.LoadOptions{Kind: c.kind, Maps: maps, Logger: quiet, MaxVerifierInsns: budget})
	return p, nil, err
}

// check loads the case and, if the verifier accepts it, runs it on every
// packet in the VM and in the reference interpreter.
func (c *testCase) check(th *ubpf.Thread) (accepted bool, f *finding) {
	p, f, err := c.load()
	if f != nil || err != nil {
		return false, f
	}
	insns, _ := ubpf.DecodeInsns(c.code)
	ref := newRefVM(insns, c.kind, c.maps, c.contents, th.Slot())
	ref.ifindex, ref.rxq = testIfindex, testRxQueue
	ref.ctxAnn = ubpf.CtxRewrites(p)
	defer func() {
		if f != nil {
			f.Events = ref.events
		}
	}()
	th.IngressIfindex, th.RxQueueIndex = testIfindex, testRxQueue
	synced := true // the models still mirror the VM's maps
	for i, pkt := range c.packets {
		got, panicked, err := runVM(p, th, pkt)
		if panicked != "" {
			return true, &finding{Class: "panic", PC: -1, Detail: "VM panic: " + panicked, Packet: i}
		}
		want := ref.run(pkt)
		if want.viol != nil {
			d := want.viol.Detail
			if err != nil {
				d += " (the VM: " + err.Error() + ")"
			}
			return true, &finding{Class: "violation:" + want.viol.Kind, PC: want.viol.PC, Detail: d, Packet: i}
		}
		var re *ubpf.RunError
		switch {
		case errors.As(err, &re) && strings.Contains(re.Reason, "budget"):
			return true, nil
		case err != nil && strings.Contains(err.Error(), "distinct map values"):
			return true, nil // out of regions: a resource limit
		case err != nil:
			pc := -1
			if re != nil {
				pc = re.PC
			}
			if want.skip != "" {
				return true, nil
			}
			return true, &finding{Class: "fault", PC: pc, Detail: err.Error(), Packet: i}
		}
		if want.skip != "" {
			return true, nil
		}
		synced = synced && !want.nondet
		if synced && got != want.ret {
			return true, &finding{Class: "result", PC: -1, Packet: i,
				Detail: fmt.Sprintf("the VM returned %#x, the reference interpreter %#x", got, want.ret)}
		}
	}
	return true, nil
}

func runVM(p *ubpf.Program, th *ubpf.Thread, pkt []byte) (ret uint64, panicked string, err error) {
	defer func() {
		if r := recover(); r != nil {
			panicked = fmt.Sprint(r)
		}
	}()
	ret, err = p.Run(th, append([]byte(nil), pkt...))
	return ret, "", err
}

// TestSoundnessRandom: at least 50,000 generated programs (5,000 with
// -short), each run on its packets. It reports the time taken, the
// programs generated per second and the fraction accepted.
func TestSoundnessRandom(t *testing.T) {
	n := *soundN
	if testing.Short() {
		n /= 10
	}
	start := time.Now()
	var accepted, known atomic.Int64
	var mu sync.Mutex
	var failures []string
	knownSeen := map[string]int{}
	seeds := make(chan uint64)
	var wg sync.WaitGroup
	for w := 0; w < runtime.GOMAXPROCS(0); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			th := ubpf.NewThread()
			defer th.Close()
			for seed := range seeds {
				p := progen.FromSeed(seed, progen.Config{})
				c := fromProgen(fmt.Sprintf("seed-%d", seed), p)
				ok, f := c.check(th)
				if ok {
					accepted.Add(1)
				}
				if f == nil {
					continue
				}
				name := knownSignature(c, f)
				mu.Lock()
				if _, isKnown := knownUnsound[name]; isKnown {
					known.Add(1)
					knownSeen[name]++
				} else {
					failures = append(failures, fmt.Sprintf("seed %d (%s): %v\n%s", seed, p.Kind, f, p.Asm()))
					if *soundDump != "" {
						dumpCase(t, c, f, seed)
					}
				}
				mu.Unlock()
			}
		}()
	}
	for s := uint64(0); s < uint64(n); s++ {
		seeds <- *soundSeed + s
	}
	close(seeds)
	wg.Wait()
	el := time.Since(start)
	t.Logf("%d programs in %v (%.0f programs/s), %d accepted (%.1f%%), %d failures of known verifier bugs %v",
		n, el.Round(time.Millisecond), float64(n)/el.Seconds(), accepted.Load(),
		100*float64(accepted.Load())/float64(n), known.Load(), knownSeen)
	sort.Strings(failures)
	for i, f := range failures {
		if i == 5 {
			t.Errorf("... and %d more", len(failures)-5)
			break
		}
		t.Errorf("verifier soundness bug (security): %s", f)
	}
}

// FuzzSoundness lets the fuzzer steer the generator: every input is a
// program. Seeds are in testdata/fuzz/FuzzSoundness.
func FuzzSoundness(f *testing.F) {
	f.Add([]byte("goko"))
	th := ubpf.NewThread()
	f.Cleanup(th.Close)
	f.Fuzz(func(t *testing.T, data []byte) {
		p := progen.FromBytes(data, progen.Config{})
		c := fromProgen("fuzz", p)
		// a small verifier budget keeps every input well inside the fuzz
		// engine's time limit (testdata/slow has the cases that showed why)
		c.maxVerify = 50000
		if _, fd := c.check(th); fd != nil {
			if _, ok := knownUnsound[knownSignature(c, fd)]; ok {
				return
			}
			t.Fatalf("verifier soundness bug (security): %v\n%s", fd, p.Asm())
		}
	})
}

// dumpCase minimises a failing case and writes it as a regression file.
func dumpCase(t *testing.T, c *testCase, f *finding, seed uint64) {
	m, mf := minimize(c, f)
	if err := os.MkdirAll(*soundDump, 0o755); err != nil {
		t.Fatal(err)
	}
	name := filepath.Join(*soundDump, fmt.Sprintf("seed-%d.asm", seed))
	if err := os.WriteFile(name, []byte(m.format(mf)), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestSoundnessShow prints one generated program and its verdict, for
// triage: go test -run TestSoundnessShow ./ubpf -args -soundness.show=SEED
func TestSoundnessShow(t *testing.T) {
	if *soundShow < 0 {
		t.Skip("no -soundness.show seed")
	}
	p := progen.FromSeed(uint64(*soundShow), progen.Config{})
	c := fromProgen("show", p)
	th := ubpf.NewThread()
	defer th.Close()
	_, _, err := c.load()
	ok, f := c.check(th)
	t.Logf("%s program, accepted %v (%v)\n%s", p.Kind, ok, err, p.Asm())
	if f != nil {
		t.Logf("finding: %v; events %v; attributed to %q", f, f.Events, knownSignature(c, f))
	}
}
