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
	must := func(kind ubpf.Kind, src string) *ubpf.Program {
		t.Helper()
		code, err := asm.Assemble(src)
		if err != nil {
			t.Fatal(err)
		}
		opts := ubpf.LoadOptions{Kind: kind, Maps: maps, Logger: quiet}
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
