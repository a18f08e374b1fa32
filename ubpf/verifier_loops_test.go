package ubpf_test

import (
	"fmt"
	"testing"

	"github.com/goko-net/goko/ubpf"
)

// A payload scan with a branch inside the loop that does not leave it
// (issue 12): both sides meet again every iteration, differing only in a
// counter that is merely returned, so the verifier's work must grow with
// the iterations, not double with each.
func TestVerifierLoopWithInnerBranch(t *testing.T) {
	for _, n := range []int{64, 100, 200, 1000} {
		src := fmt.Sprintf(`
mov %%r0, 0
jlt %%r2, %d, out
mov %%r3, 0
mov %%r4, 0
loop:
mov %%r5, %%r1
add %%r5, %%r3
ldxb %%r6, [%%r5]
jne %%r6, 0x78, skip
add %%r4, 1
skip:
add %%r3, 1
jlt %%r3, %d, loop
mov %%r0, %%r4
out:
exit`, n, n)
		p, err := load(t, ubpf.KindFilter, src)
		if err != nil {
			t.Fatalf("%d iterations: %v", n, err)
		}
		st := p.VerifierStats()
		t.Logf("%d iterations: %d insns processed, %d states, %d pruned", n, st.Processed, st.States, st.Pruned)
		if st.Processed > 20*n {
			t.Errorf("%d iterations took %d instructions: more than linear", n, st.Processed)
		}
		pkt := make([]byte, n)
		for i := 0; i < n; i += 3 {
			pkt[i] = 'x'
		}
		th := ubpf.NewThread()
		got, err := p.Run(th, pkt)
		th.Close()
		if want := uint64((n + 2) / 3); err != nil || got != want {
			t.Errorf("%d iterations: run gave %d, %v; want %d", n, got, err, want)
		}
	}
}

// A counter the loop compares (it decides which paths exist) must stay
// precise: here the path on which it reached 5 reads past what the length
// check proved, and the verifier must find it.
func TestVerifierLoopCounterThatMatters(t *testing.T) {
	src := `
mov %r0, 0
jlt %r2, 40, out
mov %r3, 0
mov %r4, 0
loop:
mov %r5, %r1
add %r5, %r3
ldxb %r6, [%r5]
jne %r6, 0x78, skip
add %r4, 1
skip:
add %r3, 1
jlt %r3, 20, loop
jlt %r4, 5, out
ldxb %r0, [%r1+60]
out:
exit`
	if _, err := load(t, ubpf.KindFilter, src); err == nil {
		t.Fatal("accepted a read at offset 60 after proving 40 bytes")
	}
}

// A loop the verifier cannot bound is explained: where, and what to do.
func TestVerifierTooComplexNamesTheLoop(t *testing.T) {
	src := `
mov %r0, 0
ldxb %r3, [%r10-1]
mov %r3, 0
loop:
add %r3, 1
jne %r3, 0, loop
exit`
	_ = src
	code := `
stb [%r10-1], 0
ldxb %r3, [%r10-1]
mov %r0, 0
loop:
add %r0, 1
add %r3, 1
jgt %r3, 2, loop
exit`
	_, err := load(t, ubpf.KindFilter, code)
	if err == nil {
		t.Fatal("an unbounded loop was accepted")
	}
	t.Log(err)
}
