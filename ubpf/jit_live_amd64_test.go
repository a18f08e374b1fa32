//go:build linux

package ubpf

import (
	"fmt"
	"strings"
	"testing"
)

// decodePlain decodes src without the verifier, as the JIT sees it.
func decodePlain(t *testing.T, src string, kind Kind) (*Program, []insn) {
	t.Helper()
	raw, err := DecodeInsns(mustAsm(t, src))
	if err != nil {
		t.Fatal(err)
	}
	p := &Program{name: "live", raw: raw, kind: kind, logger: quietLog, budget: DefaultRunBudget,
		helperSet: HelpersConformance.table(), stackSpan: stackSize}
	plain, err := p.decode(nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	return p, plain
}

func regList(m uint16) string {
	var s []string
	for r := 0; r < 10; r++ {
		if m&(1<<r) != 0 {
			s = append(s, fmt.Sprintf("r%d", r))
		}
	}
	return strings.Join(s, " ")
}

// TestJITZeroRegs: the registers the entry zeroes are exactly those a
// path may read before writing, less the arguments of the kind.
func TestJITZeroRegs(t *testing.T) {
	for _, tc := range []struct {
		name string
		kind Kind
		src  string
		want string
	}{
		{"return1", KindFilter, "mov %r0, 1\nexit", ""},
		{"exit reads r0", KindFilter, "exit", "r0"},
		{"r0 from r3", KindFilter, "mov %r0, %r3\nexit", "r3"},
		{"mov32 from r4", KindFilter, "mov32 %r0, %r4\nexit", "r4"},
		{"add reads dst", KindFilter, "add %r0, 1\nexit", "r0"},
		{"add reg reads both", KindFilter, "mov %r0, 0\nadd %r0, %r6\nexit", "r6"},
		{"neg reads dst", KindFilter, "neg %r7\nmov %r0, %r7\nexit", "r7"},
		{"be16 reads dst", KindFilter, "be16 %r8\nmov %r0, 0\nexit", "r8"},
		{"movsx reads src only", KindFilter, "movsx8 %r0, %r9\nexit", "r9"},
		{"args are set", KindFilter, "mov %r0, %r1\nadd %r0, %r2\nexit", ""},
		{"xdp r2 is not an arg", KindXDP, "mov %r0, %r1\nadd %r0, %r2\nexit", "r2"},
		{"raw args", KindRaw, "mov %r0, %r2\nexit", ""},
		{"written on one path only", KindFilter, `
jeq %r2, 0, skip
mov %r3, 1
skip:
mov %r0, %r3
exit`, "r3"},
		{"written on every path", KindFilter, `
mov %r0, 0
jeq %r2, 0, a
mov %r3, 1
ja b
a:
mov %r3, 2
b:
add %r0, %r3
exit`, ""},
		{"read in a loop before written later", KindFilter, `
mov %r0, 0
loop:
add %r0, %r4
mov %r4, 1
jlt %r0, 10, loop
exit`, "r4"},
		{"jump reg form", KindFilter, "mov %r0, 0\njeq %r0, %r5, out\nout:\nexit", "r5"},
		{"jump imm form", KindFilter, "mov %r0, 0\njeq %r6, 1, out\nout:\nexit", "r6"},
		{"load base", KindFilter, "ldxb %r0, [%r3+0]\nexit", "r3"},
		{"store base and value", KindFilter, "stxb [%r4+0], %r5\nmov %r0, 0\nexit", "r4 r5"},
		{"store imm base", KindFilter, "stb [%r4+0], 1\nmov %r0, 0\nexit", "r4"},
		{"stack store value", KindFilter, "stxdw [%r10-8], %r6\nmov %r0, 0\nexit", "r6"},
		{"atomic reads r0 too", KindFilter, "atomic_add [%r10-8], %r3\nexit", "r0 r3"},
		{"helper reads r1..r5, writes r0", KindFilter, "call 1\nexit", "r3 r4 r5"},
		{"callx reads its register", KindFilter, "call %r8\nexit", "r3 r4 r5 r8"},
		{"ldabs writes r0", KindFilter, "ldabsb 0\nexit", ""},
		{"ldind reads its base", KindFilter, "ldindb %r7, 0\nexit", "r7"},
		{"lddw writes", KindFilter, "lddw %r0, 0x100000000\nexit", ""},
		// the call writes nothing itself: r0 counts as read by the exit
		{"local call: callee reads", KindFilter, `
call local f
exit
f:
mov %r0, %r6
exit`, "r0 r6"},
		{"local call: caller reads after", KindFilter, `
mov %r0, 0
call local f
add %r0, %r3
exit
f:
mov %r0, 1
exit`, "r3"},
		{"local call: written in callee still counts as read", KindFilter, `
call local f
mov %r0, %r7
exit
f:
mov %r7, 1
mov %r0, 1
exit`, "r7"},
		{"unreachable read", KindFilter, "mov %r0, 0\nexit\nmov %r0, %r9\nexit", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, plain := decodePlain(t, tc.src, tc.kind)
			c := &jitCompiler{p: p, insns: plain}
			if got := regList(c.zeroRegs()); got != tc.want {
				t.Errorf("zeroed %q, want %q", got, tc.want)
			}
		})
	}
}

// TestJITUnwrittenRegsZero: registers read before any write read 0 in
// the JIT as in the interpreter, whatever the Go side left in them.
func TestJITUnwrittenRegsZero(t *testing.T) {
	for r := 0; r <= 9; r++ {
		if r == 1 || r == 2 {
			continue
		}
		src := fmt.Sprintf("mov %%r0, 7\nadd %%r0, %%r%d\nexit", r)
		if r == 0 {
			src = "add %r0, 7\nexit"
		}
		interp, jit := unverified(t, src, KindFilter, 0)
		interp.fast = false // interp has no code
		for i := 0; i < 100; i++ {
			if got, err := runBoth(t, interp, jit, []byte{1, 2, 3}); err != nil || got != 7 {
				t.Fatalf("r%d: %#x, %v; want 7", r, got, err)
			}
		}
	}
}

// TestJITPacketBound: the packet length bound the JIT's flow facts derive
// (jit_flow_amd64.go) right after the last load or store of each program
// (each is followed by "mov %r4, 0", which no jump targets), and, for
// every packet length around it, the same outcome in both engines (an
// access the bound wrongly spared from its check would read past the
// packet where the interpreter faults).
func TestJITPacketBound(t *testing.T) {
	for _, tc := range []struct {
		name string
		src  string
		want int64
	}{
		{"none", "mov %r0, 0\nexit", 0},
		{"access", "ldxh %r0, [%r1+12]\nmov %r4, 0\nexit", 14},
		{"access via copy and add", "mov %r3, %r1\nadd %r3, 20\nldxw %r0, [%r3+2]\nmov %r4, 0\nexit", 26},
		{"store", "stb [%r1+5], 1\nmov %r4, 0\nmov %r0, 0\nexit", 6},
		{"larger of two", "ldxw %r0, [%r1+10]\nldxb %r0, [%r1+2]\nmov %r4, 0\nexit", 14},
		{"jlt falls through", "mov %r0, 0\njlt %r2, 42, out\nldxb %r0, [%r1+3]\nmov %r4, 0\nout:\nexit", 42},
		{"at the bound", "mov %r0, 0\njlt %r2, 42, out\nldxb %r0, [%r1+41]\nmov %r4, 0\nout:\nexit", 42},
		{"just past the bound", "mov %r0, 0\njlt %r2, 42, out\nldxh %r0, [%r1+41]\nmov %r4, 0\nout:\nexit", 43},
		{"just past an access", "ldxh %r0, [%r1+12]\nldxb %r0, [%r1+14]\nmov %r4, 0\nexit", 15},
		{"jlt taken: no bound", "mov %r0, 0\njlt %r2, 42, ok\nexit\nok:\nldxb %r0, [%r1+3]\nmov %r4, 0\nexit", 4},
		{"jle falls through", "mov %r0, 0\njle %r2, 42, out\nldxb %r0, [%r1+3]\nmov %r4, 0\nout:\nexit", 43},
		{"jge taken", "mov %r0, 0\njge %r2, 30, ok\nexit\nok:\nldxb %r0, [%r1+3]\nmov %r4, 0\nexit", 30},
		{"jge falls through: no bound", "mov %r0, 0\njge %r2, 30, out\nldxb %r0, [%r1+3]\nmov %r4, 0\nout:\nexit", 4},
		{"jgt taken", "mov %r0, 0\njgt %r2, 30, ok\nexit\nok:\nldxb %r0, [%r1+3]\nmov %r4, 0\nexit", 31},
		{"jgt falls through: no bound", "mov %r0, 0\njgt %r2, 30, out\nldxb %r0, [%r1+3]\nmov %r4, 0\nout:\nexit", 4},
		{"jeq taken", "mov %r0, 0\njeq %r2, 9, ok\nexit\nok:\nldxb %r0, [%r1+3]\nmov %r4, 0\nexit", 9},
		{"jeq falls through: no bound", "mov %r0, 0\njeq %r2, 9, out\nldxb %r0, [%r1+3]\nmov %r4, 0\nout:\nexit", 4},
		{"jne falls through", "mov %r0, 0\njne %r2, 9, out\nldxb %r0, [%r1+3]\nmov %r4, 0\nout:\nexit", 9},
		{"constant register jgt len", "mov %r0, 0\nmov %r4, 34\njgt %r4, %r2, out\nldxb %r0, [%r1+3]\nmov %r4, 0\nout:\nexit", 34},
		{"constant register jge len", "mov %r0, 0\nmov %r4, 34\njge %r4, %r2, out\nldxb %r0, [%r1+3]\nmov %r4, 0\nout:\nexit", 35},
		{"constant register jlt len taken", "mov %r0, 0\nmov %r4, 34\njlt %r4, %r2, ok\nexit\nok:\nldxb %r0, [%r1+3]\nmov %r4, 0\nexit", 35},
		{"constant register jgt len taken: no bound", "mov %r0, 0\nmov %r4, 34\njgt %r4, %r2, ok\nexit\nok:\nldxb %r0, [%r1+3]\nmov %r4, 0\nexit", 4},
		{"len jlt constant register", "mov %r0, 0\nmov %r4, 34\njlt %r2, %r4, out\nldxb %r0, [%r1+3]\nmov %r4, 0\nout:\nexit", 34},
		{"len jle constant register", "mov %r0, 0\nmov %r4, 34\njle %r2, %r4, out\nldxb %r0, [%r1+3]\nmov %r4, 0\nout:\nexit", 35},
		{"constant register jeq len taken", "mov %r0, 0\nmov %r4, 34\njeq %r4, %r2, ok\nexit\nok:\nldxb %r0, [%r1+3]\nmov %r4, 0\nexit", 34},
		{"constant register jset len: no bound", "mov %r0, 0\nmov %r4, 34\njset %r4, %r2, ok\nexit\nok:\nldxb %r0, [%r1+3]\nmov %r4, 0\nexit", 4},
		{"constant register jgt32 len: no bound", "mov %r0, 0\nmov %r4, 34\njgt32 %r4, %r2, out\nldxb %r0, [%r1+3]\nmov %r4, 0\nout:\nexit", 4},
		{"length copy", "mov %r0, 0\nmov %r5, %r2\njlt %r5, 20, out\nldxb %r0, [%r1+3]\nmov %r4, 0\nout:\nexit", 20},
		{"length changed", "mov %r0, 0\nadd %r2, 8\njlt %r2, 20, out\nldxb %r0, [%r1+3]\nmov %r4, 0\nout:\nexit", 4},
		{"length minus then plus", "mov %r0, 0\nsub %r2, 8\nadd %r2, 8\njlt %r2, 20, out\nldxb %r0, [%r1+3]\nmov %r4, 0\nout:\nexit", 20},
		{"32-bit copy: no bound", "mov %r0, 0\nmov32 %r2, %r2\njlt %r2, 20, out\nldxb %r0, [%r1+3]\nmov %r4, 0\nout:\nexit", 4},
		{"32-bit compare: no bound", "mov %r0, 0\njlt32 %r2, 20, out\nldxb %r0, [%r1+3]\nmov %r4, 0\nout:\nexit", 4},
		{"signed compare: no bound", "mov %r0, 0\njslt %r2, 20, out\nldxb %r0, [%r1+3]\nmov %r4, 0\nout:\nexit", 4},
		{"negative constant: no bound", "mov %r0, 0\njlt %r2, -1, out\nldxb %r0, [%r1+3]\nmov %r4, 0\nout:\nexit", 4},
		{"join keeps the smaller", `
mov %r0, 0
jeq %r3, 0, b
ldxb %r0, [%r1+30]
ja c
b:
ldxb %r0, [%r1+10]
c:
ldxb %r0, [%r1+1]
mov %r4, 0
exit`, 11},
		{"kept across a helper call", "ldxb %r6, [%r1+15]\ncall 2\nldxb %r0, [%r1+0]\nmov %r4, 0\nexit", 16},
		{"length lost at a helper call", "mov %r6, %r1\nmov %r0, 0\ncall 2\njlt %r2, 20, out\nldxb %r0, [%r6+3]\nmov %r4, 0\nout:\nexit", 4},
		{"negative offset: no bound", "mov %r3, %r1\nadd %r3, 4\nldxb %r0, [%r3-6]\nmov %r4, 0\nexit", 0},
		{"unknown pointer: no bound", "mov %r3, %r1\nadd %r3, %r2\nldxb %r0, [%r3-1]\nmov %r4, 0\nexit", 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, plain := decodePlain(t, tc.src, KindFilter)
			facts := pktFacts(p, plain)
			at := len(p.raw) - 1
			for i, in := range p.raw {
				if c := in.class(); c == classLDX || c == classST || c == classSTX {
					at = i + 1
				}
			}
			if f := facts[at]; f == nil {
				t.Fatal("unreachable")
			} else if got := f[pktMinSlot].v; got != tc.want {
				t.Errorf("bound %d, want %d", got, tc.want)
			}
			interp, jit := unverified(t, tc.src, KindFilter, 0)
			interp.fast = false // interp has no code
			for n := 0; n <= 48; n++ {
				pkt := make([]byte, n)
				for i := range pkt {
					pkt[i] = byte(i + 1)
				}
				runBoth(t, interp, jit, pkt)
			}
		})
	}
}

// TestJITPacketRanges: packet pointers whose offset lies in a known range
// (jit_flow_amd64.go) go unchecked when the whole range is below the
// length bound; both engines agree at every length, whatever the bytes
// that choose the offset.
func TestJITPacketRanges(t *testing.T) {
	const vlan = `
mov %r0, 0
jlt %r2, 42, out
ldxh %r3, [%r1+12]
mov %r4, 14
jne %r3, 0x81, novlan
mov %r4, 18
novlan:
mov %r5, %r1
add %r5, %r4
`
	const ihl = `
mov %r0, 0
jlt %r2, 64, out
ldxb %r3, [%r1+0]
and %r3, 0xf
lsh %r3, 2
mov %r5, %r1
add %r5, %r3
`
	// r5 = the packet + r3, with r3 + 8 compared with the length
	rel := func(cmp string) string {
		return `
mov %r0, 0
ldxb %r3, [%r1+0]
and %r3, 0x3f
mov %r7, %r3
add %r7, 8
` + cmp + `
mov %r5, %r1
add %r5, %r3
`
	}
	for _, tc := range []struct {
		name      string
		src       string
		lo, hi    int64 // the range of r5 at the access
		unchecked bool
	}{
		{"jgt len falls through", rel("jgt %r7, %r2, out") + "ldxh %r0, [%r5+6]\nout:\nexit", 0, 63, true},
		{"jgt len past the slack", rel("jgt %r7, %r2, out") + "ldxh %r0, [%r5+7]\nout:\nexit", 0, 63, false},
		{"jgt len below the start", rel("jgt %r7, %r2, out") + "ldxb %r0, [%r5-1]\nout:\nexit", 0, 63, false},
		{"jge len falls through", rel("jge %r7, %r2, out") + "ldxh %r0, [%r5+7]\nout:\nexit", 0, 63, true},
		{"jge len past the slack", rel("jge %r7, %r2, out") + "ldxh %r0, [%r5+8]\nout:\nexit", 0, 63, false},
		{"jle len taken", rel("jle %r7, %r2, ok\nexit\nok:") + "ldxh %r0, [%r5+6]\nout:\nexit", 0, 63, true},
		{"jle len falls through: no relation", rel("jle %r7, %r2, out") + "ldxb %r0, [%r5+0]\nout:\nexit", 0, 63, false},
		{"jlt len taken", rel("jlt %r7, %r2, ok\nexit\nok:") + "ldxh %r0, [%r5+7]\nout:\nexit", 0, 63, true},
		{"jgt len taken: no relation", rel("jgt %r7, %r2, ok\nexit\nok:") + "ldxb %r0, [%r5+0]\nout:\nexit", 0, 63, false},
		{"len jlt falls through", rel("jlt %r2, %r7, out") + "ldxh %r0, [%r5+6]\nout:\nexit", 0, 63, true},
		{"len jlt past the slack", rel("jlt %r2, %r7, out") + "ldxh %r0, [%r5+7]\nout:\nexit", 0, 63, false},
		{"len jle falls through", rel("jle %r2, %r7, out") + "ldxh %r0, [%r5+7]\nout:\nexit", 0, 63, true},
		{"len jge taken", rel("jge %r2, %r7, ok\nexit\nok:") + "ldxh %r0, [%r5+6]\nout:\nexit", 0, 63, true},
		{"len jgt taken", rel("jgt %r2, %r7, ok\nexit\nok:") + "ldxh %r0, [%r5+7]\nout:\nexit", 0, 63, true},
		{"len jgt falls through: no relation", rel("jgt %r2, %r7, out") + "ldxb %r0, [%r5+0]\nout:\nexit", 0, 63, false},
		{"32-bit compare: no relation", rel("jgt32 %r7, %r2, out") + "ldxb %r0, [%r5+0]\nout:\nexit", 0, 63, false},
		{"signed compare: no relation", rel("jsgt %r7, %r2, out") + "ldxb %r0, [%r5+0]\nout:\nexit", 0, 63, false},
		{"moved after the compare", rel("jgt %r7, %r2, out\nadd %r3, 1") + "ldxh %r0, [%r5+5]\nout:\nexit", 1, 64, true},
		{"moved past the slack", rel("jgt %r7, %r2, out\nadd %r3, 1") + "ldxh %r0, [%r5+6]\nout:\nexit", 1, 64, false},
		{"another value", `
mov %r0, 0
ldxb %r3, [%r1+0]
ldxb %r7, [%r1+0]
add %r7, 8
jgt %r7, %r2, out
mov %r5, %r1
add %r5, %r3
ldxb %r0, [%r5+0]
out:
exit`, 0, 255, false},
		{"a join drops the relation", `
mov %r0, 0
ldxb %r3, [%r1+0]
and %r3, 0x3f
mov %r7, %r3
add %r7, 8
jeq %r3, 1, skip
jgt %r7, %r2, out
skip:
mov %r5, %r1
add %r5, %r3
ldxb %r0, [%r5+0]
out:
exit`, 0, 63, false},
		{"vlan at the bound", vlan + "ldxw %r0, [%r5+20]\nout:\nexit", 14, 18, true},
		{"vlan past the bound", vlan + "ldxw %r0, [%r5+21]\nout:\nexit", 14, 18, false},
		{"vlan below the start", vlan + "ldxw %r0, [%r5-15]\nout:\nexit", 14, 18, false},
		{"vlan at the start", vlan + "ldxw %r0, [%r5-14]\nout:\nexit", 14, 18, true},
		{"ihl at the bound", ihl + "ldxw %r0, [%r5+0]\nout:\nexit", 0, 60, true},
		{"ihl past the bound", ihl + "ldxw %r0, [%r5+1]\nout:\nexit", 0, 60, false},
		{"ihl then add", ihl + "add %r5, 2\nldxh %r0, [%r5+0]\nout:\nexit", 2, 62, true},
		{"ihl then sub past the start", ihl + "sub %r5, 1\nldxb %r0, [%r5+0]\nout:\nexit", 0, 0, false},
		{"and with a negative mask keeps the range", ihl + "and %r3, -1\nmov %r5, %r1\nadd %r5, %r3\nldxb %r0, [%r5+0]\nout:\nexit", 0, 60, true},
		{"rsh", "mov %r0, 0\njlt %r2, 20, out\nldxb %r3, [%r1+0]\nrsh %r3, 4\nmov %r5, %r1\nadd %r5, %r3\nldxw %r0, [%r5+1]\nout:\nexit", 0, 15, true},
		{"a word is too wide", "mov %r0, 0\njlt %r2, 20, out\nldxw %r3, [%r1+0]\nmov %r5, %r1\nadd %r5, %r3\nldxb %r0, [%r5+0]\nout:\nexit", 0, rangeMax, false},
		{"32-bit ops lose the range", ihl + "add32 %r3, 0\nmov %r5, %r1\nadd %r5, %r3\nldxb %r0, [%r5+0]\nout:\nexit", 0, 0, false},
		{"a loop drops joined ranges", `
mov %r0, 0
jlt %r2, 64, out
mov %r4, 0
loop:
mov %r5, %r1
add %r5, %r4
ldxb %r0, [%r5+0]
add %r4, 1
jlt %r4, 3, loop
out:
exit`, 0, 0, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, plain := decodePlain(t, tc.src, KindFilter)
			facts := pktFacts(p, plain)
			at := -1
			for i, in := range p.raw {
				if in.class() == classLDX && in.Src == 5 {
					at = i
				}
			}
			f := facts[at]
			if f == nil {
				t.Fatal("unreachable")
			}
			if tc.hi == 0 {
				if f[5].kind == fPktR {
					t.Errorf("r5 = packet + [%d, %d], want unknown", f[5].v, f[5].hi)
				}
			} else if f[5].kind != fPktR || f[5].v != tc.lo || f[5].hi != tc.hi {
				t.Errorf("r5 %+v, want packet + [%d, %d]", f[5], tc.lo, tc.hi)
			}
			off, size := int64(p.raw[at].Off), int64(sizeBytes(p.raw[at].Op))
			got := f[5].kind == fPktR && f[5].v+off >= 0 &&
				(f[5].hi+off+size <= f[pktMinSlot].v || f[5].rel && off+size <= f[5].slack)
			if got != tc.unchecked {
				t.Errorf("unchecked %v, want %v (bound %d)", got, tc.unchecked, f[pktMinSlot].v)
			}
			interp, jit := unverified(t, tc.src, KindFilter, 0)
			interp.fast = false // interp has no code
			for n := 0; n <= 80; n++ {
				for _, fill := range []func(i int) byte{
					func(i int) byte { return byte(i + 1) },
					func(i int) byte { return map[int]byte{0: 0xff, 12: 0x81, 13: 0}[i] },
					func(i int) byte { return map[int]byte{0: 0x10}[i] },
				} {
					pkt := make([]byte, n)
					for i := range pkt {
						pkt[i] = fill(i)
					}
					runBoth(t, interp, jit, pkt)
				}
			}
		})
	}
}

// TestJITMovAdd: "dst = src; dst += x" compiled as one LEA gives the
// interpreter's results, in each form and with a jump landing on the add.
func TestJITMovAdd(t *testing.T) {
	for _, src := range []string{
		"mov %r6, %r2\nadd %r6, 7\nmov %r0, %r6\nexit",
		"mov %r6, %r2\nadd %r6, -9\nmov %r0, %r6\nexit",
		"mov %r6, %r2\nsub %r6, 5\nmov %r0, %r6\nexit",
		"mov %r6, %r2\nsub %r6, -2147483648\nmov %r0, %r6\nexit",
		"mov %r6, %r2\nadd %r6, 2147483647\nmov %r0, %r6\nexit",
		"mov %r3, 40\nmov %r7, %r2\nadd %r7, %r3\nmov %r0, %r7\nexit",
		"mov %r7, %r2\nadd %r7, %r7\nmov %r0, %r7\nexit",
		"mov %r2, %r2\nadd %r2, %r2\nmov %r0, %r2\nexit",
		"mov %r0, %r1\nadd %r0, %r2\nsub %r0, %r1\nexit",
		"mov %r8, %r2\nadd %r8, 1\nadd %r8, %r8\nmov %r0, %r8\nexit",
		"mov %r6, 3\njeq %r2, 5, add\nmov %r6, %r2\nadd:\nadd %r6, 100\nmov %r0, %r6\nexit",
		"mov %r6, %r2\nadd32 %r6, -1\nmov %r0, %r6\nexit",
	} {
		interp, jit := unverified(t, src, KindFilter, 0)
		interp.fast = false // interp has no code
		for n := 0; n < 12; n++ {
			runBoth(t, interp, jit, make([]byte, n))
		}
	}
}
