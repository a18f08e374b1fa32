//go:build linux

package ubpf

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

// unverified builds a program without the verifier (as fuse_test does),
// for the run-time limits a verified program cannot reach, with a run
// budget of budget (0: the default) and the whole stack, for the
// interpreter and the JIT.
func unverified(t *testing.T, src string, kind Kind, budget int) (interp, jit *Program) {
	t.Helper()
	return unverifiedSpan(t, src, kind, budget, stackSize)
}

func unverifiedSpan(t *testing.T, src string, kind Kind, budget, span int) (interp, jit *Program) {
	t.Helper()
	raw, err := DecodeInsns(mustAsm(t, src))
	if err != nil {
		t.Fatal(err)
	}
	mk := func() *Program {
		if budget == 0 {
			budget = DefaultRunBudget
		}
		p := &Program{name: "unverified", raw: raw, kind: kind, logger: quietLog, budget: budget,
			helperSet: HelpersConformance.table(), pktWritable: kind == KindRaw, stackSpan: span}
		plain, err := p.decode(nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		if err := p.setEngine(EngineJIT, plain); err != nil {
			t.Fatal(err)
		}
		return p
	}
	interp, jit = mk(), mk()
	interp.jit, interp.fast = nil, false // the interpreter copy: no code, so no fast path
	if jit.jit == nil {
		t.Fatal("not compiled")
	}
	return interp, jit
}

// runBoth runs both programs on the same memory and returns their
// results, requiring the same outcome.
func runBoth(t *testing.T, interp, jit *Program, mem []byte) (uint64, error) {
	t.Helper()
	th := NewThread()
	defer th.Close()
	r1, e1 := interp.Run(th, append([]byte(nil), mem...))
	r2, e2 := jit.Run(th, append([]byte(nil), mem...))
	if r1 != r2 || (e1 == nil) != (e2 == nil) {
		t.Fatalf("interp %#x %v, jit %#x %v", r1, e1, r2, e2)
	}
	return r2, e2
}

// TestJITBudgetExact: a loop of n taken backward jumps over a body of 2
// instructions (each charged 2) passes with a budget of 2n and fails with
// 2n-1, in both engines, across several of the JIT's budget slices.
func TestJITBudgetExact(t *testing.T) {
	loop := func(n int) string {
		return fmt.Sprintf(`
mov %%r0, 0
l:
add %%r0, 1
jlt %%r0, %d, l
exit`, n+1)
	}
	for _, n := range []int{1, 5, jitSlice/2 - 1, jitSlice / 2, jitSlice/2 + 1, 3*jitSlice + 7} {
		for _, budget := range []int{2 * n, 2*n + 1, 2*n - 1, 2*n - 2} {
			if budget <= 0 {
				continue
			}
			interp, jit := unverified(t, loop(n), KindRaw, budget)
			r, err := runBoth(t, interp, jit, nil)
			if (budget >= 2*n) != (err == nil) {
				t.Fatalf("n %d budget %d: %#x %v", n, budget, r, err)
			}
			var re *RunError
			if err != nil && (!errors.As(err, &re) || !re.Budget) {
				t.Fatalf("n %d budget %d: %v", n, budget, err)
			}
		}
	}
}

// TestJITCallDepth: local calls count against the budget and stop at the
// interpreter's depth, with the same frames.
func TestJITCallDepth(t *testing.T) {
	// recursion: each frame stores its depth in its own stack and sums
	// them on the way back; stops at depth r1 (from memory)
	src := `
ldxdw %r1, [%r1]
mov %r2, 0
call local f
exit
f:
stxdw [%r10-8], %r2
jge %r2, %r1, leaf
add %r2, 1
call local f
ldxdw %r2, [%r10-8]
add %r0, %r2
exit
leaf:
mov %r0, %r2
exit`
	interp, jit := unverified(t, src, KindRaw, 0)
	for depth := uint64(0); depth < 12; depth++ {
		mem := []byte{byte(depth), 0, 0, 0, 0, 0, 0, 0}
		r, err := runBoth(t, interp, jit, mem)
		if depth <= MaxCallDepth-2 {
			if err != nil || r != depth*(depth+1)/2 {
				t.Fatalf("depth %d: %d %v", depth, r, err)
			}
		} else if err == nil || !strings.Contains(err.Error(), "too deep") {
			t.Fatalf("depth %d: want too deep, got %d %v", depth, r, err)
		}
	}
	// the run after a failure inside calls starts at depth 0 again
	th := NewThread()
	defer th.Close()
	jit.Run(th, []byte{20, 0, 0, 0, 0, 0, 0, 0})
	if r, err := jit.Run(th, []byte{3, 0, 0, 0, 0, 0, 0, 0}); r != 6 || err != nil {
		t.Fatalf("after a failed deep run: %d %v", r, err)
	}
	// calls are charged the callee's length (9 here): 3 calls need 27
	for budget := 1; budget < 40; budget++ {
		interp, jit := unverified(t, src, KindRaw, budget)
		_, err := runBoth(t, interp, jit, []byte{2, 0, 0, 0, 0, 0, 0, 0})
		if (budget >= 27) != (err == nil) {
			t.Fatalf("budget %d: %v", budget, err)
		}
	}
}

// TestJITFaultsMatch: out-of-bounds accesses of every width and kind fault
// in both engines, in-bounds ones at the edges do not.
func TestJITFaultsMatch(t *testing.T) {
	for _, op := range []string{"ldxb %r0, [%r1OFF]", "ldxh %r0, [%r1OFF]", "ldxw %r0, [%r1OFF]", "ldxdw %r0, [%r1OFF]",
		"stb [%r1OFF], 1", "sth [%r1OFF], 1", "stw [%r1OFF], 1", "stdw [%r1OFF], 1",
		"stxb [%r1OFF], %r1", "stxdw [%r1OFF], %r1", "atomic_add [%r1OFF], %r1", "atomic_add32 [%r1OFF], %r1", "atomic_cmpxchg [%r1OFF], %r1", "atomic_fetch_or32 [%r1OFF], %r1",
		"ldxdw %r0, [%r10OFF]", "stxw [%r10OFF], %r1"} {
		for _, off := range []int{-4097, -513, -512, -8, -1, 0, 1, 7, 8, 9, 15, 16, 24, 4095, 4096} {
			src := "mov %r0, 0\n" + strings.ReplaceAll(op, "OFF", fmt.Sprintf("%+d", off)) + "\nexit"
			interp, jit := unverified(t, src, KindRaw, 0)
			for _, n := range []int{0, 1, 8, 16, 17} {
				runBoth(t, interp, jit, make([]byte, n))
			}
		}
	}
}

// TestJITStackSpan: a run sees only its stack span; accesses through r10
// (and copies of it) below the span fault in both engines, with and
// without calls.
func TestJITStackSpan(t *testing.T) {
	for _, span := range []int{0, 8, 64, 512, 520, 1024} {
		for _, off := range []int{-1, -8, -64, -72, -512, -520, -1024} {
			for _, src := range []string{
				"mov %r0, 0\nstxdw [%r10OFF], %r0\nldxdw %r0, [%r10OFF]\nexit",
				"mov %r2, %r10\nstdw [%r2OFF], 7\nldxb %r0, [%r2OFF]\nexit",
				// the same in a callee, one frame down
				"call local f\nexit\nf:\nmov %r0, 0\nstxdw [%r10OFF], %r0\nldxdw %r0, [%r10OFF]\nexit",
			} {
				src = strings.ReplaceAll(src, "OFF", fmt.Sprintf("%+d", off))
				interp, jit := unverifiedSpan(t, src, KindRaw, 0, span)
				runBoth(t, interp, jit, make([]byte, 8))
			}
		}
	}
}

// TestJITConcurrent runs one compiled program from several goroutines,
// each with its own Thread, with map updates and atomics, while the GC
// runs.
func TestJITConcurrent(t *testing.T) {
	m, err := NewMap(MapSpec{Name: "h", Type: MapHash, KeySize: 4, ValueSize: 8, MaxEntries: 64})
	if err != nil {
		t.Fatal(err)
	}
	code := mustAsm(t, `
mov %r6, %r1
ldxw %r3, [%r6+0]
stxw [%r10-4], %r3
lddw %r1, map(0)
mov %r2, %r10
add %r2, -4
call 1
jeq %r0, 0, miss
mov %r1, 1
atomic_add [%r0], %r1
mov %r0, 1
exit
miss:
mov %r0, 0
exit`)
	p, err := Load(code, LoadOptions{Kind: KindRaw, Maps: []*Map{m}, Engine: EngineJIT, Logger: quietLog})
	if err != nil {
		t.Fatal(err)
	}
	for k := 0; k < 8; k++ {
		m.Update([]byte{byte(k), 0, 0, 0}, make([]byte, 8), 0)
	}
	const workers, runs = 4, 20000
	var wg sync.WaitGroup
	stop := make(chan struct{})
	go func() {
		for {
			select {
			case <-stop:
				return
			default:
				runtime.GC()
				time.Sleep(time.Millisecond)
			}
		}
	}()
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			th := NewThread()
			defer th.Close()
			for i := 0; i < runs; i++ {
				k := byte((i + w) % 16)
				r, err := p.Run(th, []byte{k, 0, 0, 0})
				if err != nil || (r == 1) != (k < 8) {
					t.Errorf("key %d: %d %v", k, r, err)
					return
				}
			}
		}(w)
	}
	wg.Wait()
	close(stop)
	var total uint64
	m.Iterate(func(_, v []byte) bool {
		for i := 0; i < 8; i++ {
			total += uint64(v[i]) << (8 * i)
		}
		return true
	})
	if total != workers*runs/2 {
		t.Fatalf("counted %d hits, want %d", total, workers*runs/2)
	}
}

// TestJITCodeUnmapped: a program's code mapping goes away once the
// program is garbage.
func TestJITCodeUnmapped(t *testing.T) {
	mapped := func(addr uintptr) bool {
		f, err := os.Open("/proc/self/maps")
		if err != nil {
			t.Skip(err)
		}
		defer f.Close()
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			var lo, hi uintptr
			if _, err := fmt.Sscanf(sc.Text(), "%x-%x", &lo, &hi); err == nil && addr >= lo && addr < hi {
				return true
			}
		}
		return false
	}
	addr := func() uintptr {
		p, err := Load(mustAsm(t, "mov %r0, 7\nexit"), LoadOptions{Engine: EngineJIT, Logger: quietLog})
		if err != nil {
			t.Fatal(err)
		}
		th := NewThread()
		defer th.Close()
		if r, _ := p.Run(th, nil); r != 7 {
			t.Fatal(r)
		}
		if !mapped(p.jit.entry) {
			t.Fatal("code not mapped")
		}
		return p.jit.entry
	}()
	for i := 0; i < 50 && mapped(addr); i++ {
		runtime.GC()
		time.Sleep(10 * time.Millisecond)
	}
	if mapped(addr) {
		t.Fatal("code still mapped after its program was collected")
	}
}

// TestJITFastPath: the runs of a compiled filter on the Thread bound to it
// (Run's fast path, jitrun) zero the stack span themselves, leave no
// packet mapped, count runs and matches, and map the packet for the
// helpers they call.
func TestJITFastPath(t *testing.T) {
	for _, span := range []int{16, 128, 136, 512} {
		_, p := unverifiedSpan(t, fmt.Sprintf(`
ldxdw %%r0, [%%r10-8]
ldxdw %%r3, [%%r10-%d]
or %%r0, %%r3
stdw [%%r10-8], 0x55
stdw [%%r10-%d], 0x66
exit`, span, span), KindFilter, 0, span)
		th := NewThread()
		for i := 0; i < 3; i++ {
			if r, err := p.Run(th, make([]byte, 4)); r != 0 || err != nil {
				t.Fatalf("span %d, run %d: r0=%#x err=%v, want 0: the stack must start zeroed", span, i, r, err)
			}
			if th.fast != p && i > 0 {
				t.Fatalf("span %d, run %d: not on the fast path", span, i)
			}
			if th.rd[regionPacket] != nil || th.wr[regionPacket] != nil {
				t.Fatalf("span %d: the packet is still mapped after a run", span)
			}
		}
		if s := p.Stats(); s.Runs != 3 || s.Matches != 0 {
			t.Fatalf("span %d: stats %+v", span, s)
		}
		th.Close()
	}
	// a helper reads the packet: the key and value of map_update_elem
	m, err := NewMap(MapSpec{Name: "h", Type: MapHash, KeySize: 4, ValueSize: 4, MaxEntries: 4})
	if err != nil {
		t.Fatal(err)
	}
	code := mustAsm(t, `
mov %r0, 0
jlt %r2, 8, out
mov %r2, %r1
mov %r3, %r1
add %r3, 4
lddw %r1, map(0)
mov %r4, 0
call 2
mov %r0, 1
out:
exit`)
	p, err := Load(code, LoadOptions{Kind: KindFilter, Maps: []*Map{m}, Engine: EngineJIT, Logger: quietLog})
	if err != nil {
		t.Fatal(err)
	}
	th := NewThread()
	defer th.Close()
	for i := byte(0); i < 3; i++ {
		pkt := []byte{i, 0, 0, 0, 9, 8, 7, i}
		if r, err := p.Run(th, pkt); r != 1 || err != nil {
			t.Fatalf("run %d: r0=%#x err=%v", i, r, err)
		}
		if v, ok := m.Lookup([]byte{i, 0, 0, 0}); !ok || string(v) != string(pkt[4:]) {
			t.Fatalf("run %d: map value %x %v, want %x", i, v, ok, pkt[4:])
		}
	}
	if th.fast != p || th.rd[regionPacket] != nil {
		t.Fatalf("fast %v, packet mapped %v", th.fast == p, th.rd[regionPacket] != nil)
	}
	if s := p.Stats(); s.Runs != 3 || s.Matches != 3 {
		t.Fatalf("stats %+v", s)
	}
}
