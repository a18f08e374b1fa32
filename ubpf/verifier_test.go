package ubpf_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/goko-net/goko/ubpf"
	"github.com/goko-net/goko/ubpf/asm"
)

func testMaps(t testing.TB) []*ubpf.Map {
	specs := []ubpf.MapSpec{
		{Name: "hash", Type: ubpf.MapHash, KeySize: 4, ValueSize: 8, MaxEntries: 16},
		{Name: "array", Type: ubpf.MapArray, KeySize: 4, ValueSize: 16, MaxEntries: 4},
		{Name: "rb", Type: ubpf.MapRingBuf, MaxEntries: 4096},
		{Name: ".rodata", Type: ubpf.MapArray, KeySize: 4, ValueSize: 8, MaxEntries: 1, Flags: ubpf.FlagRdonlyProg, Data: []byte("abcdefgh")},
	}
	var ms []*ubpf.Map
	for _, s := range specs {
		m, err := ubpf.NewMap(s)
		if err != nil {
			t.Fatal(err)
		}
		ms = append(ms, m)
	}
	return ms
}

func load(t testing.TB, kind ubpf.Kind, src string) (*ubpf.Program, error) {
	t.Helper()
	code, err := asm.Assemble(src)
	if err != nil {
		t.Fatalf("assemble: %v", err)
	}
	return ubpf.Load(code, ubpf.LoadOptions{Kind: kind, Maps: testMaps(t), Logger: quiet})
}

var verifierAccept = []struct {
	name string
	kind ubpf.Kind
	src  string
}{
	// a bound checked on a copy that differs by a constant (issue 12): r1
	// = r9 + 2 and r9 + 1 share r9's base, so "len >= r1" proves 2 bytes
	// at pkt + base, which covers the byte at pkt + r9
	{"linked-copy-differs-by-constant", ubpf.KindFilter, `
mov %r0, 0
jlt %r2, 20, out
ldxb %r9, [%r1+14]
mov %r6, %r2
mov %r7, %r1
mov %r1, %r9
add %r1, 2
add %r9, 1
jlt %r6, %r1, out
mov %r3, %r7
add %r3, %r9
ldxb %r0, [%r3]
out:
exit`},
	// the same with clang's alu32 code: 32-bit adds that cannot wrap link
	// like 64-bit ones
	{"linked-copy-alu32", ubpf.KindFilter, `
mov %r0, 0
jlt %r2, 20, out
ldxb %r9, [%r1+14]
mov %r6, %r2
mov %r7, %r1
mov32 %r1, %r9
add32 %r1, 2
add32 %r9, 1
jlt %r6, %r1, out
mov %r3, %r7
add %r3, %r9
ldxb %r0, [%r3]
out:
exit`},
	// the low half of r3 is 16 and the length is below 2^32, so "w3 <= w2"
	// proves 16 bytes (the verifier used to give up on the wide constant)
	{"len-check-jmp32-wide-constant", ubpf.KindFilter, `
mov %r0, 0
lddw %r3, 0x100000010
jgt32 %r3, %r2, out
ldxb %r0, [%r1+15]
out:
exit`},
	{"len-check-then-read", ubpf.KindFilter, `
mov %r0, 0
jlt %r2, 14, out
ldxh %r0, [%r1+12]
out:
exit`},
	{"len-check-gt-form", ubpf.KindFilter, `
mov %r0, 0
mov %r3, 20
jgt %r3, %r2, out
ldxw %r0, [%r1+16]
out:
exit`},
	{"variable-offset-vs-len", ubpf.KindFilter, `
mov %r0, 0
jlt %r2, 15, out
ldxb %r3, [%r1+14]
and %r3, 0x3f
mov %r4, %r3
add %r4, 4
jgt %r4, %r2, out
add %r1, %r3
ldxw %r0, [%r1]
out:
exit`},
	{"pkt-plus-len-is-end", ubpf.KindFilter, `
mov %r0, 0
mov %r3, %r1
add %r3, %r2
mov %r4, %r1
add %r4, 8
jgt %r4, %r3, out
ldxdw %r0, [%r1]
out:
exit`},
	{"xdp-data-end", ubpf.KindXDP, `
ldxw %r2, [%r1]
ldxw %r3, [%r1+4]
mov %r0, 1
mov %r4, %r2
add %r4, 14
jgt %r4, %r3, out
ldxh %r5, [%r2+12]
mov %r0, 2
jeq %r5, 8, out
mov %r0, 1
out:
exit`},
	{"xdp-ifindex", ubpf.KindXDP, `
ldxw %r0, [%r1+12]
exit`},
	{"map-lookup-null-checked", ubpf.KindFilter, `
stw [%r10-4], 1
lddw %r1, map(0)
mov %r2, %r10
add %r2, -4
call 1
jeq %r0, 0, out
ldxdw %r1, [%r0]
add %r1, 1
stxdw [%r0], %r1
out:
mov %r0, 0
exit`},
	{"array-value-direct", ubpf.KindFilter, `
lddw %r1, map_value(1)+8
ldxdw %r0, [%r1]
stxdw [%r1], %r0
exit`},
	{"rodata-read", ubpf.KindFilter, `
lddw %r1, map_value(3)+0
ldxb %r0, [%r1+7]
exit`},
	{"bounded-loop-with-branches", ubpf.KindFilter, `
mov %r0, 0
mov %r1, 0
loop:
jset %r1, 1, odd
add %r0, 2
ja next
odd:
add %r0, 1
next:
add %r1, 1
jlt %r1, 100, loop
exit`},
	{"loop-bound-from-packet", ubpf.KindFilter, `
mov %r0, 0
jlt %r2, 1, out
ldxb %r3, [%r1]
jgt %r3, 16, out
mov %r4, 0
loop:
jge %r4, %r3, out
add %r0, %r4
add %r4, 1
ja loop
out:
exit`},
	{"ringbuf-reserve-submit", ubpf.KindFilter, `
lddw %r1, map(2)
mov %r2, 16
mov %r3, 0
call 131
jeq %r0, 0, out
stdw [%r0+8], 7
mov %r1, %r0
mov %r2, 0
call 132
out:
mov %r0, 0
exit`},
	{"bpf2bpf-stack-arg", ubpf.KindFilter, `
stdw [%r10-8], 5
mov %r1, %r10
add %r1, -8
call local f
exit
f:
ldxdw %r0, [%r1]
exit`},
	{"spill-fill-pointer", ubpf.KindFilter, `
stxdw [%r10-8], %r1
mov %r0, 0
jlt %r2, 4, out
ldxdw %r3, [%r10-8]
ldxw %r0, [%r3]
out:
exit`},
	{"atomic-on-map-value", ubpf.KindFilter, `
lddw %r1, map_value(1)+0
mov %r2, 1
atomic_fetch_add [%r1+8], %r2
mov %r0, %r2
exit`},
	{"legacy-ldabs", ubpf.KindFilter, `
ldabsh 12
exit`},
	// packet bounds from JMP32 and signed comparisons with the length
	{"len-check-jmp32", ubpf.KindFilter, `
mov %r0, 0
jlt32 %r2, 14, out
ldxh %r0, [%r1+12]
out:
exit`},
	{"len-check-signed", ubpf.KindFilter, `
mov %r0, 0
jslt %r2, 14, out
ldxh %r0, [%r1+12]
out:
exit`},
	{"len-check-signed-jmp32", ubpf.KindFilter, `
mov %r0, 0
mov %r3, 20
jsgt32 %r3, %r2, out
ldxw %r0, [%r1+16]
out:
exit`},
	{"variable-offset-vs-len-jmp32", ubpf.KindFilter, `
mov %r0, 0
jlt %r2, 15, out
ldxb %r3, [%r1+14]
and %r3, 0x3f
mov %r4, %r3
add %r4, 4
jgt32 %r4, %r2, out
add %r1, %r3
ldxw %r0, [%r1]
out:
exit`},
	{"variable-offset-vs-len-signed", ubpf.KindFilter, `
mov %r0, 0
jlt %r2, 15, out
ldxb %r3, [%r1+14]
and %r3, 0x3f
mov %r4, %r3
add %r4, 4
jsle %r2, %r4, out
add %r1, %r3
ldxw %r0, [%r1]
out:
exit`},
	{"xdp-data-end-signed", ubpf.KindXDP, `
ldxw %r2, [%r1]
ldxw %r3, [%r1+4]
mov %r4, %r2
add %r4, 14
mov %r0, 1
jsgt %r4, %r3, out
ldxh %r0, [%r2+12]
out:
exit`},
	{"xdp-data-end-jmp32", ubpf.KindXDP, `
ldxw %r2, [%r1]
ldxw %r3, [%r1+4]
mov %r4, %r2
add %r4, 14
mov %r0, 1
jle32 %r3, %r4, out
ldxh %r0, [%r2+12]
out:
exit`},
	// a bounded loop filling a stack buffer, then reading all of it: the
	// counter is a known constant on every iteration, so each write is at
	// an exact offset
	{"stack-buffer-loop-fill", ubpf.KindFilter, `
mov %r3, 0
loop:
mov %r4, %r10
add %r4, -16
add %r4, %r3
stb [%r4], 7
add %r3, 1
jlt %r3, 16, loop
ldxdw %r0, [%r10-16]
ldxdw %r5, [%r10-8]
add %r0, %r5
exit`},
	// a write at a variable offset in [0,3] of 8 bytes at fp-16 surely
	// writes fp-13..fp-9
	{"stack-variable-write-covered-bytes", ubpf.KindFilter, `
mov %r0, 0
jlt %r2, 1, out
ldxb %r3, [%r1]
and %r3, 3
mov %r4, %r10
add %r4, -16
add %r4, %r3
mov %r5, 1
stxdw [%r4], %r5
ldxw %r0, [%r10-13]
out:
exit`},
}

func TestVerifierAccepts(t *testing.T) {
	for _, c := range verifierAccept {
		t.Run(c.name, func(t *testing.T) {
			if _, err := load(t, c.kind, c.src); err != nil {
				t.Fatal(err)
			}
		})
	}
}

var verifierReject = []struct {
	name, why string
	kind      ubpf.Kind
	src       string
}{
	{"pkt-no-check", "invalid access to packet", ubpf.KindFilter, `
ldxb %r0, [%r1]
exit`},
	{"pkt-past-check", "invalid access to packet", ubpf.KindFilter, `
mov %r0, 0
jlt %r2, 14, out
ldxw %r0, [%r1+12]
out:
exit`},
	{"pkt-var-unchecked", "invalid access to packet", ubpf.KindFilter, `
mov %r0, 0
jlt %r2, 15, out
ldxb %r3, [%r1+14]
add %r1, %r3
ldxb %r0, [%r1]
out:
exit`},
	{"pkt-write", "cannot write into packet", ubpf.KindFilter, `
mov %r0, 0
jlt %r2, 4, out
stw [%r1], 0
out:
exit`},
	{"xdp-no-check", "invalid access to packet", ubpf.KindXDP, `
ldxw %r2, [%r1]
ldxb %r0, [%r2]
exit`},
	{"xdp-ctx-write", "cannot write into ctx", ubpf.KindXDP, `
stw [%r1+12], 0
mov %r0, 2
exit`},
	{"xdp-ctx-bad-off", "invalid bpf_context access", ubpf.KindXDP, `
ldxw %r0, [%r1+24]
exit`},
	{"xdp-ctx-wide-load", "invalid bpf_context access", ubpf.KindXDP, `
ldxdw %r0, [%r1]
exit`},
	{"map-null-unchecked", "map_value_or_null", ubpf.KindFilter, `
stw [%r10-4], 1
lddw %r1, map(0)
mov %r2, %r10
add %r2, -4
call 1
ldxdw %r0, [%r0]
exit`},
	{"map-value-oob", "invalid access to map value", ubpf.KindFilter, `
lddw %r1, map_value(1)+8
ldxdw %r0, [%r1+8]
exit`},
	{"lddw-r10", "frame pointer is read only", ubpf.KindRaw, `
lddw %r10, 0x3030303030303030
mov %r0, 0
exit`},
	{"atomic-fetch-into-r10", "frame pointer is read only", ubpf.KindRaw, `
stdw [%r10-8], 0
atomic_fetch_add [%r10-8], %r10
mov %r0, 0
exit`},
	{"atomic-xchg-into-r10", "frame pointer is read only", ubpf.KindRaw, `
stdw [%r10-8], 0
atomic_xchg [%r10-8], %r10
mov %r0, 0
exit`},
	{"rodata-write", "read-only", ubpf.KindFilter, `
lddw %r1, map_value(3)+0
stb [%r1], 1
mov %r0, 0
exit`},
	{"key-uninit-stack", "uninitialised", ubpf.KindFilter, `
lddw %r1, map(0)
mov %r2, %r10
add %r2, -4
call 1
mov %r0, 0
exit`},
	{"wrong-map-type", "cannot pass map_type", ubpf.KindFilter, `
stw [%r10-4], 1
lddw %r1, map(2)
mov %r2, %r10
add %r2, -4
call 1
mov %r0, 0
exit`},
	{"stack-oob", "invalid stack access", ubpf.KindFilter, `
stdw [%r10-520], 1
mov %r0, 0
exit`},
	{"stack-uninit", "uninitialised", ubpf.KindFilter, `
ldxw %r0, [%r10-4]
exit`},
	{"scalar-deref", "invalid mem access 'scalar'", ubpf.KindFilter, `
mov %r3, 1000
ldxw %r0, [%r3]
exit`},
	{"uninit-reg", "R4 !read_ok", ubpf.KindFilter, `
mov %r0, %r4
exit`},
	{"no-r0", "R0 !read_ok", ubpf.KindFilter, `
exit`},
	{"return-pointer", "leaks addr", ubpf.KindFilter, `
mov %r0, %r10
exit`},
	{"unreachable", "unreachable insn", ubpf.KindFilter, `
mov %r0, 0
exit
mov %r0, 1
exit`},
	{"infinite-loop", "infinite loop", ubpf.KindFilter, `
mov %r0, 0
loop:
ja loop`},
	{"unbounded-loop", "too complex", ubpf.KindFilter, `
mov %r0, 0
jlt %r2, 8, out
ldxdw %r3, [%r1]
loop:
add %r0, 1
jlt %r0, %r3, loop
out:
exit`},
	{"ringbuf-leak", "unreleased reference", ubpf.KindFilter, `
lddw %r1, map(2)
mov %r2, 16
mov %r3, 0
call 131
mov %r0, 0
exit`},
	{"ringbuf-double-submit", "expected=ringbuf_mem", ubpf.KindFilter, `
lddw %r1, map(2)
mov %r2, 16
mov %r3, 0
call 131
jeq %r0, 0, out
mov %r6, %r0
mov %r1, %r6
mov %r2, 0
call 132
mov %r1, %r6
mov %r2, 0
call 132
out:
mov %r0, 0
exit`},
	{"unknown-helper", "unknown#", ubpf.KindFilter, `
call 9999
exit`},
	{"callx-strict", "callx", ubpf.KindFilter, `
mov %r1, 1
call %r1
exit`},
	{"bad-map-index", "map 9 does not exist", ubpf.KindFilter, `
lddw %r1, map(9)
mov %r0, 0
exit`},
	{"jump-out-of-function", "jump out of function", ubpf.KindFilter, `
call local f
exit
f:
mov %r0, 0
ja -4`},
	{"fallthrough-end", "falls off", ubpf.KindFilter, `
mov %r0, 0`},
	{"len-check-signed-negative-imm", "invalid access to packet", ubpf.KindFilter, `
mov %r0, 0
jslt32 %r2, -2, out
ldxb %r0, [%r1]
out:
exit`},
	{"xdp-data-end-signed-jmp32", "invalid access to packet", ubpf.KindXDP, `
ldxw %r2, [%r1]
ldxw %r3, [%r1+4]
mov %r4, %r2
add %r4, 14
mov %r0, 1
jsgt32 %r4, %r3, out
ldxh %r0, [%r2+12]
out:
exit`},
	{"stack-variable-write-uncovered-byte", "uninitialised", ubpf.KindFilter, `
mov %r0, 0
jlt %r2, 1, out
ldxb %r3, [%r1]
and %r3, 3
mov %r4, %r10
add %r4, -16
add %r4, %r3
mov %r5, 1
stxdw [%r4], %r5
ldxw %r0, [%r10-14]
out:
exit`},
	{"stack-variable-loop-fill", "uninitialised", ubpf.KindFilter, `
mov %r0, 0
jlt %r2, 1, out
ldxb %r3, [%r1]
and %r3, 7
loop:
mov %r4, %r10
add %r4, -16
add %r4, %r3
stb [%r4], 7
add %r3, 1
jlt %r3, 16, loop
ldxdw %r0, [%r10-16]
out:
exit`},
	{"bad-movsx", "movsx", ubpf.KindFilter, `
movsx32 %r0, %r1
mov32 %r0, 0
exit`},
}

func TestVerifierRejects(t *testing.T) {
	for _, c := range verifierReject {
		t.Run(c.name, func(t *testing.T) {
			code, err := asm.Assemble(c.src)
			if err != nil {
				t.Fatal(err)
			}
			if c.name == "bad-movsx" { // 32-bit class movsx32 is not valid
				code[0] = 0xbc
			}
			_, err = ubpf.Load(code, ubpf.LoadOptions{Kind: c.kind, Maps: testMaps(t), Logger: quiet})
			if err == nil {
				t.Fatal("accepted")
			}
			var ve *ubpf.VerifierError
			if !errors.As(err, &ve) {
				t.Fatalf("not a VerifierError: %v", err)
			}
			if !strings.Contains(err.Error(), c.why) {
				t.Fatalf("error %q does not say %q", err, c.why)
			}
			if ve.PC >= 0 && !strings.Contains(err.Error(), fmt.Sprintf("insn %d: ", ve.PC)) {
				t.Fatalf("error does not name the instruction: %v", err)
			}
		})
	}
}

// TestVerifierPruning: 40 independent if/else diamonds are 2^40 paths;
// pruning keeps verification linear.
func TestVerifierPruning(t *testing.T) {
	var b strings.Builder
	b.WriteString("mov %r0, 0\njlt %r2, 40, out\n")
	for i := 0; i < 40; i++ {
		fmt.Fprintf(&b, "ldxb %%r3, [%%r1+%d]\njeq %%r3, 0, z%d\nmov %%r4, 1\nja j%d\nz%d:\nmov %%r4, 2\nj%d:\nadd %%r0, %%r4\n", i, i, i, i, i)
	}
	b.WriteString("out:\nexit\n")
	p, err := load(t, ubpf.KindFilter, b.String())
	if err != nil {
		t.Fatal(err)
	}
	vs := p.VerifierStats()
	if vs.Processed > 20000 || vs.Pruned == 0 {
		t.Fatalf("pruning ineffective: %+v", vs)
	}
}

func TestVerifierErrorNamesInsn(t *testing.T) {
	_, err := load(t, ubpf.KindFilter, "mov %r0, 0\nldxb %r0, [%r1+3]\nexit")
	if err == nil || !strings.Contains(err.Error(), "insn 1: r0 = *(u8 *)(r1 +3): invalid access to packet") {
		t.Fatalf("got %v", err)
	}
}

func mustAsm(t testing.TB, src string) []byte {
	t.Helper()
	code, err := asm.Assemble(src)
	if err != nil {
		t.Fatal(err)
	}
	return code
}
