package ubpf

import (
	"testing"

	"github.com/goko-net/goko/ubpf/asm"
)

// The stack a run may address is what the verifier saw the program and
// its callees reach, each callee frame StackFrameSize below its caller.
func TestStackSpan(t *testing.T) {
	for _, tc := range []struct {
		name string
		src  string
		want int
	}{
		{"no stack", "mov %r0, 1\nexit", 0},
		{"one slot", "stdw [%r10-8], 1\nmov %r0, 0\nexit", 8},
		{"odd size rounds up", "stb [%r10-13], 1\nmov %r0, 0\nexit", 16},
		{"pointers computed but not dereferenced reach nothing", `
stw [%r10-4], 0
mov %r2, %r10
add %r2, -40
mov %r1, %r10
add %r1, -4
mov %r3, 0
mov %r0, 0
exit`, 8},
		{"callee frame", `
stdw [%r10-16], 1
call local f
mov %r0, 0
exit
f:
stdw [%r10-8], 2
mov %r0, 0
exit`, StackFrameSize + 8},
		{"callee writes through the caller's pointer", `
mov %r1, %r10
add %r1, -32
call local f
mov %r0, 0
exit
f:
stdw [%r1], 2
mov %r0, 0
exit`, 32},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, err := asm.Assemble(tc.src)
			if err != nil {
				t.Fatal(err)
			}
			p, err := Load(code, LoadOptions{Kind: KindFilter})
			if err != nil {
				t.Fatal(err)
			}
			if p.stackSpan != tc.want {
				t.Fatalf("stackSpan = %d, want %d", p.stackSpan, tc.want)
			}
			th := NewThread()
			defer th.Close()
			if _, err := p.Run(th, make([]byte, 64)); err != nil {
				t.Fatal(err)
			}
		})
	}
}
