package ubpf_test

import (
	"testing"

	"github.com/goko-net/goko/ubpf"
	"github.com/goko-net/goko/ubpf/asm"
)

// bpf_loop (helper 181) runs a callback with (index, ctx) until it returns
// 1 or nr_loops iterations ran, and returns the number of iterations; more
// than 2^23 fail with -E2BIG before any. The callback here adds its index
// to a counter in the caller's stack and stops at index 9.
func TestBPFLoop(t *testing.T) {
	src := `
stdw [%r10-8], 0
mov %r1, %r6
lddw %r2, func(cb)
mov %r3, %r10
add %r3, -8
mov %r4, 0
call 181
ldxdw %r1, [%r10-8]
lsh %r0, 32
or %r0, %r1
exit
cb:
ldxdw %r3, [%r2]
add %r3, %r1
stxdw [%r2], %r3
mov %r0, 0
jne %r1, 9, out
mov %r0, 1
out:
exit`
	for _, tc := range []struct {
		nr         int32
		iters, sum uint64
	}{
		{0, 0, 0},
		{1, 1, 0},
		{5, 5, 10},
		{100, 10, 45},              // the callback stops at index 9
		{1<<23 + 1, 0xfffffff9, 0}, // -E2BIG (its low 32 bits shifted up), before any iteration
	} {
		code := loopProgram(t, src, tc.nr)
		for _, engine := range []ubpf.Engine{ubpf.EngineInterp, ubpf.EngineAuto} {
			p, err := ubpf.Load(code, ubpf.LoadOptions{Kind: ubpf.KindFilter, Engine: engine, Logger: quiet})
			if err != nil {
				t.Fatalf("nr %d: %v", tc.nr, err)
			}
			th := ubpf.NewThread()
			got, err := p.Run(th, make([]byte, 64))
			th.Close()
			if err != nil || got>>32 != tc.iters || got&0xffffffff != tc.sum {
				t.Errorf("nr %d (%s): got iterations %d sum %d (%v), want %d and %d", tc.nr, p.Engine(), got>>32, got&0xffffffff, err, tc.iters, tc.sum)
			}
			th = ubpf.NewThread()
			traced, _, err := p.RunTraced(th, make([]byte, 64))
			th.Close()
			if err != nil || traced != got {
				t.Errorf("nr %d traced: got %#x (%v), want %#x", tc.nr, traced, err, got)
			}
		}
	}
}

// loopProgram assembles src with r6 = nr prepended.
func loopProgram(t *testing.T, src string, nr int32) []byte {
	t.Helper()
	code, err := asm.Assemble("mov %r6, " + itoa(nr) + "\n" + src)
	if err != nil {
		t.Fatal(err)
	}
	return code
}

func itoa(n int32) string {
	if n == 0 {
		return "0"
	}
	s := ""
	neg := n < 0
	if neg {
		n = -n
	}
	for n > 0 {
		s = string(rune('0'+n%10)) + s
		n /= 10
	}
	if neg {
		s = "-" + s
	}
	return s
}
