package ubpf

import (
	"fmt"
	"testing"
)

// TestLoopJumps: only the backward jumps that close a cycle are charged
// to the budget; one to a shared block that does not lead back is taken
// at most once per run, and a run of such a program cannot exhaust even a
// budget of one instruction.
func TestLoopJumps(t *testing.T) {
	cases := []struct {
		name    string
		src     string
		charged []int // pcs of the charged jumps
	}{
		{"forward only", "mov %r0, 1\njeq %r1, 0, out\nmov %r0, 2\nout:\nexit", nil},
		{"shared return before its callers", `
mov %r0, 0
ja body
ret:
exit
body:
mov %r0, 1
jeq %r2, 0, ret
mov %r0, 2
ja ret`, nil},
		{"loop", `
mov %r0, 0
loop:
add %r0, 1
jlt %r0, 10, loop
exit`, []int{2}},
		{"loop with an exit block before it", `
mov %r0, 0
ja loop
done:
exit
loop:
add %r0, 1
jgt %r0, 10, done
ja loop`, []int{5}},
		{"nested loops", `
mov %r0, 0
mov %r1, 0
outer:
mov %r2, 0
inner:
add %r2, 1
jlt %r2, 3, inner
add %r1, 1
jlt %r1, 3, outer
mov %r0, %r1
exit`, []int{4, 6}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p, err := Load(mustAsm(t, c.src), LoadOptions{Kind: KindRaw, Logger: quietLog, RunBudget: 100})
			if err != nil {
				t.Fatal(err)
			}
			var got []int
			for pc, in := range p.insns {
				if charged(pc, &in) {
					got = append(got, pc)
				}
			}
			if fmt.Sprint(got) != fmt.Sprint(c.charged) {
				t.Fatalf("charged jumps at %v, want %v", got, c.charged)
			}
			if c.charged != nil {
				return
			}
			for _, e := range []Engine{EngineInterp, EngineJIT} {
				if e == EngineJIT && !jitAvailable {
					continue
				}
				q, err := Load(mustAsm(t, c.src), LoadOptions{Kind: KindRaw, Logger: quietLog, RunBudget: 1, Engine: e})
				if err != nil {
					t.Fatal(err)
				}
				th := NewThread()
				for _, arg := range [][]byte{nil, {1}} {
					if _, err := q.Run(th, arg); err != nil {
						t.Fatalf("%s: a loop-free program exhausted a budget of 1: %v", e, err)
					}
				}
				th.Close()
			}
		})
	}
}
