package ubpf_test

// Regression tests for the security bugs of issue 18: inputs a client can
// send that crashed the daemon, bypassed the verifier or let one program
// observe another's data. Each case failed before its fix.

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/goko-net/goko/ubpf"
	"github.com/goko-net/goko/ubpf/asm"
)

func TestHugeMapDeclarationsAreRefused(t *testing.T) {
	obj := compileC(t, "hugemaps")
	for _, tc := range []struct{ prog, want string }{
		{"percpu", "percpu_hash of 16777216 entries"},
		{"hash", "hash of 16777216 entries"},
		{"two", "more than the load's limit of 1.0 GiB"},
	} {
		t.Run(tc.prog, func(t *testing.T) {
			_, err := ubpf.LoadELFBytes(obj, ubpf.LoadOptions{Program: tc.prog, Logger: quiet})
			if err == nil || !errors.Is(err, ubpf.ErrMapTooLarge) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("load %s: got %v, want ErrMapTooLarge mentioning %q", tc.prog, err, tc.want)
			}
		})
	}
	// the limit is the caller's to raise
	if _, err := ubpf.LoadELFBytes(obj, ubpf.LoadOptions{Program: "two", Logger: quiet, MapMemoryLimit: 2 << 30}); err != nil {
		t.Fatalf("two maps of 600 MiB under a 2 GiB limit: %v", err)
	}
}

func TestHugeMapSpecsAreRefused(t *testing.T) {
	for _, s := range []ubpf.MapSpec{
		{Name: "a", Type: ubpf.MapPerThreadHash, KeySize: 4, ValueSize: 1 << 20, MaxEntries: 1 << 24},
		{Name: "b", Type: ubpf.MapHash, KeySize: 512, ValueSize: 1 << 20, MaxEntries: 1 << 24},
		{Name: "c", Type: ubpf.MapPerThreadArray, KeySize: 4, ValueSize: 1 << 20, MaxEntries: 1 << 10},
		{Name: "d", Type: ubpf.MapLPMTrie, KeySize: 260, ValueSize: 1 << 20, MaxEntries: 1 << 31},
		{Name: "e", Type: ubpf.MapQueue, ValueSize: 1 << 20, MaxEntries: 1 << 24},
		{Name: "f", Type: ubpf.MapCountMin, KeySize: 4, ValueSize: 8, MaxEntries: 1 << 26, Extra: 16},
	} {
		if _, err := ubpf.NewMap(s); !errors.Is(err, ubpf.ErrMapTooLarge) {
			t.Errorf("%s (%s): got %v, want ErrMapTooLarge", s.Name, s.Type, err)
		}
	}
}

// A callee stores a pointer to its own stack frame through a pointer to
// the caller's stack; after the return the caller reads it back and hands
// it to a helper. This panicked the verifier (index out of range) and so
// killed switchd.
func TestStaleFramePointerIsRejected(t *testing.T) {
	q, err := ubpf.NewMap(ubpf.MapSpec{Name: "q", Type: ubpf.MapQueue, ValueSize: 8, MaxEntries: 4})
	if err != nil {
		t.Fatal(err)
	}
	src := `
stdw [%r10-8], 0
mov %r1, %r10
add %r1, -8
call local f
ldxdw %r2, [%r10-8]
lddw %r1, map(0)
call 88
mov %r0, 0
exit
f:
mov %r3, %r10
add %r3, -8
stxdw [%r1], %r3
mov %r0, 0
exit`
	code, err := asm.Assemble(src)
	if err != nil {
		t.Fatal(err)
	}
	for _, kind := range []ubpf.Kind{ubpf.KindFilter, ubpf.KindXDP} {
		_, err = ubpf.Load(code, ubpf.LoadOptions{Kind: kind, Maps: []*ubpf.Map{q}, Logger: quiet})
		var ve *ubpf.VerifierError
		if !errors.As(err, &ve) {
			t.Fatalf("%s: got %v, want a verifier error", kind, err)
		}
		if ve.PC != 12 || !strings.Contains(ve.Reason, "frame") {
			t.Errorf("%s: rejected at insn %d (%s); want insn 12, the store of the callee's frame pointer", kind, ve.PC, ve.Reason)
		}
	}
}

// A run must not observe what an earlier run on the same Thread left
// behind: neither stack bytes nor the regions that run mapped (issue 18,
// item 3). KindRaw programs may dereference any number, with run-time
// checks only, which makes them the probe a verifier bypass would be.
func TestRunsDoNotSeeEarlierRuns(t *testing.T) {
	maps := testMaps(t)
	// The probes (raw) declare the two array maps only: a hash map's values
	// are a static region of every program that declares it (reading them
	// is a lookup away anyway), so regions from 6 on are the probes'
	// dynamic ones, where a mapping left by the writer's run would show.
	probeMaps := []*ubpf.Map{maps[1], maps[3]}
	must := func(kind ubpf.Kind, src string) *ubpf.Program {
		t.Helper()
		code, err := asm.Assemble(src)
		if err != nil {
			t.Fatal(err)
		}
		opts := ubpf.LoadOptions{Kind: kind, Maps: maps, Logger: quiet}
		if kind == ubpf.KindRaw {
			opts.Maps = probeMaps
		}
		if kind == ubpf.KindRaw {
			opts.Helpers = ubpf.HelpersConformance
		}
		p, err := ubpf.Load(code, opts)
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	// the writer leaves a secret on its stack and maps a hash value
	if err := maps[0].Update([]byte{1, 0, 0, 0}, []byte("secret!!"), ubpf.UpdateAny); err != nil {
		t.Fatal(err)
	}
	writer := must(ubpf.KindFilter, `
lddw %r3, 0x1122334455667788
stxdw [%r10-8], %r3
stxdw [%r10-64], %r3
stw [%r10-12], 1
mov %r2, %r10
add %r2, -12
lddw %r1, map(0)
call 1
mov %r0, 0
exit`)
	// the reader (raw: any address, checked at run time) looks at the
	// writer's stack slot and at the address its lookup returned
	// (raw programs see the whole 4096-byte stack region 1 with r10 at its
	// top; the verifier refuses uninitialised reads through r10, not
	// through a number)
	stackProbe := must(ubpf.KindRaw, `
lddw %r1, 0x100000000
ldxdw %r0, [%r1+4088]
ldxdw %r3, [%r1+4032]
or %r0, %r3
exit`)
	th := ubpf.NewThread()
	defer th.Close()
	if _, err := writer.Run(th, make([]byte, 64)); err != nil {
		t.Fatal(err)
	}
	if got, err := stackProbe.Run(th, make([]byte, 8)); err != nil || got != 0 {
		t.Errorf("stack probe after another program: r0=%#x err=%v, want 0: the stack must start zeroed", got, err)
	}
	// every dynamic region index a run may have used (4 and 5 are the
	// static regions of the two array maps, the probe's own)
	for region := uint64(6); region < 80; region++ {
		if _, err := writer.Run(th, make([]byte, 64)); err != nil {
			t.Fatal(err)
		}
		probe := must(ubpf.KindRaw, fmt.Sprintf(`
lddw %%r1, %#x
ldxdw %%r0, [%%r1]
exit`, region<<32))
		got, err := probe.Run(th, make([]byte, 8))
		if err == nil && got != 0 {
			t.Fatalf("region %d of an earlier run is still mapped: read %#x (%q)", region, got, leBytes(got))
		}
	}
}

func leBytes(v uint64) []byte {
	b := make([]byte, 8)
	for i := range b {
		b[i] = byte(v >> (8 * i))
	}
	return b
}

// Programs that must be rejected, each with what the message must say. The
// first group are the verifier bypasses of issue 18 (accepted before the
// fix, then stopped only by run-time checks, or not at all); the rest are
// address leaks Linux refuses unprivileged programs.
var mustReject = []struct {
	name, src, want string
	kind            ubpf.Kind
}{
	// w3 = 0x80000000 is negative as a 32-bit number but positive as a
	// 64-bit one: the 32-bit comparison must not decide the 64-bit one.
	{"jmp32 bypass: uninitialised stack", jmp32Bypass + `
ldxdw %r0, [%r10-8]
exit`, "uninitialised", ubpf.KindFilter},
	{"jmp32 bypass: packet offset 60000", jmp32Bypass + `
ldxdw %r0, [%r1+60000]
exit`, "invalid access to packet", ubpf.KindFilter},
	{"jmp32 bypass: write to the packet", jmp32Bypass + `
stb [%r1], 1
mov %r0, 0
exit`, "cannot write into packet", ubpf.KindFilter},
	{"jmp32 bypass: forged pointer", jmp32Bypass + `
lddw %r1, 0x300000000
ldxb %r0, [%r1]
exit`, "invalid mem access 'scalar'", ubpf.KindFilter},
	{"jmp32 bypass: return r10", jmp32Bypass + `
mov %r0, %r10
exit`, "R0 leaks addr", ubpf.KindFilter},
	// an 8-byte read at fp-12 spans two spilled constants (0 and 1): its
	// value is 1<<32, not the first slot's 0
	{"misaligned read across two spills", `
stdw [%r10-16], 0
stdw [%r10-8], 1
ldxdw %r3, [%r10-12]
jeq %r3, 0, safe
ldxdw %r0, [%r10-24]
exit
safe:
mov %r0, 0
exit`, "uninitialised", ubpf.KindFilter},
	// one load reached with ctx+0 (data) and ctx+4 (data_end)
	{"xdp ctx confusion", `
mov %r2, %r1
ldxw %r3, [%r1+16]
jeq %r3, 0, load
add %r2, 4
load:
ldxw %r4, [%r2]
mov %r0, 2
exit`, "modified ctx ptr", ubpf.KindXDP},
	{"partial spill of a pointer", `
stxw [%r10-8], %r10
ldxdw %r0, [%r10-8]
exit`, "invalid size of register spill", ubpf.KindFilter},
	{"partial fill of a pointer", `
stxdw [%r10-8], %r10
ldxw %r0, [%r10-8]
exit`, "invalid size of register fill", ubpf.KindFilter},
	{"corrupting a spilled pointer", `
stxdw [%r10-8], %r10
stb [%r10-8], 0
ldxdw %r0, [%r10-8]
exit`, "corrupt spilled pointer", ubpf.KindFilter},
	{"pointer stored into a map value in pieces", `
stw [%r10-4], 0
mov %r2, %r10
add %r2, -4
lddw %r1, map(1)
call 1
jeq %r0, 0, out
stxw [%r0], %r10
out:
mov %r0, 0
exit`, "pointer stored into map_value", ubpf.KindFilter},
	{"masking a pointer", `
mov %r0, %r10
and %r0, 0xfff
exit`, "pointer arithmetic with & operator prohibited", ubpf.KindFilter},
	{"32-bit copy of a pointer", `
mov32 %r0, %r10
exit`, "partial copy of pointer", ubpf.KindFilter},
	{"comparing a pointer with a number", `
mov %r0, 0
lddw %r3, 0x100000200
jgt %r10, %r3, out
mov %r0, 1
out:
exit`, "pointer comparison prohibited", ubpf.KindFilter},
	{"a pointer as a helper's number", `
stdw [%r10-8], 0
mov %r1, %r10
add %r1, -8
mov %r2, 8
mov %r3, %r10
call 0x10001
exit`, "leaks addr into helper function", ubpf.KindFilter},
	{"spilled pointer as a map key", `
stxdw [%r10-8], %r10
mov %r2, %r10
add %r2, -8
lddw %r1, map(0)
call 1
mov %r0, 0
exit`, "leaking the fp pointer", ubpf.KindFilter},
}

const jmp32Bypass = `
mov32 %r3, 0x80000000
jslt32 %r3, 0, +0
jsgt %r3, 0, evil
mov %r0, 0
exit
evil:`

func TestVerifierRejectsUnsafe(t *testing.T) {
	for _, tc := range mustReject {
		t.Run(tc.name, func(t *testing.T) {
			_, err := load(t, tc.kind, tc.src)
			var ve *ubpf.VerifierError
			if !errors.As(err, &ve) {
				t.Fatalf("got %v, want a verifier error mentioning %q", err, tc.want)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %q, want it to mention %q", err, tc.want)
			}
		})
	}
}

// A verified loop may still run long; the run budget bounds it (issue 18,
// item 4): the run stops as no match and is counted.
func TestRunBudget(t *testing.T) {
	loop := `
mov %r0, 1
mov %r1, 0
loop:
add %r1, 1
jlt %r1, 20000, loop
exit`
	code, err := asm.Assemble(loop)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		budget    int
		exhausted bool
	}{
		{0, false},       // the default: 40,000 instructions are well within it
		{1 << 16, false}, // enough
		{30_000, true},   // each iteration costs its 2 instructions
		{1_000, true},
	} {
		p, err := ubpf.Load(code, ubpf.LoadOptions{Kind: ubpf.KindFilter, RunBudget: tc.budget, Logger: quiet})
		if err != nil {
			t.Fatal(err)
		}
		th := ubpf.NewThread()
		got, err := p.Run(th, nil)
		th.Close()
		var re *ubpf.RunError
		if tc.exhausted {
			if !errors.As(err, &re) || !re.Budget || got != 0 {
				t.Errorf("budget %d: got r0=%d err=%v, want the budget exhausted", tc.budget, got, err)
			}
			if s := p.Stats(); s.BudgetExhausted != 1 || s.Errors != 1 || s.Matches != 0 {
				t.Errorf("budget %d: stats %+v, want one exhausted run", tc.budget, s)
			}
		} else if err != nil || got != 1 {
			t.Errorf("budget %d: got r0=%d err=%v, want 1", tc.budget, got, err)
		}
	}
	if _, err := ubpf.Load(code, ubpf.LoadOptions{RunBudget: -1}); err == nil {
		t.Error("a negative budget was accepted")
	}
}

// Calls are charged the callee's length: a chain of calls cannot multiply
// the work past the budget.
func TestRunBudgetCountsCalls(t *testing.T) {
	src := `
mov %r6, 0
loop:
call local f
add %r6, 1
jlt %r6, 1000, loop
mov %r0, 1
exit
f:
mov %r0, 0
mov %r1, 1
mov %r2, 2
mov %r3, 3
mov %r4, 4
mov %r5, 5
exit`
	code, err := asm.Assemble(src)
	if err != nil {
		t.Fatal(err)
	}
	// 1000 iterations of a 3-instruction body and a 7-instruction call
	p, err := ubpf.Load(code, ubpf.LoadOptions{Kind: ubpf.KindFilter, RunBudget: 9000, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	th := ubpf.NewThread()
	defer th.Close()
	if _, err := p.Run(th, nil); err == nil {
		t.Fatal("10,000 instructions ran within a budget of 9,000")
	}
}
