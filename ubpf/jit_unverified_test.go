//go:build linux

package ubpf

import (
	"bytes"
	"fmt"
	"testing"

	"github.com/goko-net/goko/ubpf/internal/progen"
)

// The JIT leaves out packet checks that its own facts prove redundant
// (jit_flow_amd64.go), and its checks are what stops a program the
// verifier wrongly accepted. The differential fuzzers run only verified
// programs, in which no check ever fires; this one runs programs the
// verifier never saw: generated filters (progen) with their length
// compares and access offsets nudged so that some accesses fall outside
// the packet. Whatever the code does, the JIT must do what the
// interpreter (which checks every access) does: the same r0, the same
// fault or none, the same packet, and never touch memory outside the
// run's regions (a wild access would crash the test).

// unverifiedPair builds p's code for both engines without the verifier;
// ok is false when the code does not decode or compile.
func unverifiedPair(raw []RawInsn, kind Kind) (interp, jit *Program, ok bool) {
	mk := func() *Program {
		p := &Program{name: "unverified", raw: raw, kind: kind, logger: quietLog, budget: 100000,
			helperSet: HelpersConformance.table(), stackSpan: stackSize}
		plain, err := p.decode(nil, nil)
		if err != nil {
			return nil
		}
		if err := p.setEngine(EngineJIT, plain); err != nil || p.jit == nil {
			return nil
		}
		return p
	}
	interp, jit = mk(), mk()
	if interp == nil || jit == nil {
		return nil, nil, false
	}
	interp.jit, interp.fast = nil, false
	return interp, jit, true
}

// nudge perturbs the code with the fuzzer's bytes: pairs (index, delta)
// move a conditional jump's immediate or an access's offset by delta in
// -4..3. Calls and map or function references are refused (helpers take
// their arguments on the verifier's word).
func nudge(raw []RawInsn, muts []byte) bool {
	for i := range raw {
		op := raw[i].Op
		if op == 0x85 || op == 0x8d || (op == 0x18 && raw[i].Src != 0) {
			return false
		}
	}
	for j := 0; j+1 < len(muts); j += 2 {
		in := &raw[int(muts[j])%len(raw)]
		d := int32(muts[j+1]%8) - 4
		switch class := in.Op & 7; {
		case (class == 5 || class == 6) && in.Op&0xf0 != 0 && in.Op&0xf0 < 0x80 || class == 5 && in.Op&0xf0 >= 0xa0:
			in.Imm += d // a conditional jump (not ja, call, exit)
		case class == 1 || class == 2 || class == 3:
			in.Off += int16(d)
		}
	}
	return true
}

// unverifiedGen: filters without maps, calls or helpers (whose arguments
// a helper takes on the verifier's word), traps included.
var unverifiedGen = progen.Config{Kind: progen.Filter,
	Disable: progen.FeatMaps | progen.FeatCalls | progen.FeatHelpers | progen.FeatRingBuf}

func FuzzJITUnverified(f *testing.F) {
	for i := byte(0); i < 16; i++ {
		f.Add([]byte{2, i, 1, i * 3, 6}, []byte{i, i * 7, i * 13, 0xff - i})
	}
	f.Fuzz(func(t *testing.T, muts, gen []byte) {
		skipNoJIT(t)
		g := progen.FromBytes(gen, unverifiedGen)
		if len(g.Maps) > 0 {
			return
		}
		raw, err := DecodeInsns(g.Bytes())
		if err != nil || len(raw) == 0 || !nudge(raw, muts) {
			return
		}
		interp, jit, ok := unverifiedPair(raw, KindFilter)
		if !ok {
			return
		}
		pkts := append([][]byte(nil), g.Packets...)
		for _, n := range []int{0, 1, 13, 14, 33, 34, 41, 42, 54, 60, 64, 100, 128, 200, 256, 300} {
			pkts = append(pkts, fill(n, 0x45, 0), fill(n, 0xff, 0), fill(n, 0, 37))
		}
		th := NewThread()
		defer th.Close()
		for _, pkt := range pkts {
			a, b := append([]byte(nil), pkt...), append([]byte(nil), pkt...)
			r1, e1 := interp.Run(th, a)
			r2, e2 := jit.Run(th, b)
			if r1 != r2 || (e1 == nil) != (e2 == nil) || !bytes.Equal(a, b) {
				t.Fatalf("packet of %d bytes: interpreter %#x %v, JIT %#x %v\n%s", len(pkt), r1, e1, r2, e2, disasmAll(raw))
			}
		}
	})
}

// TestJITUnverifiedSeeds runs the fuzzer's seeds and a few hundred
// generated programs in every test run.
func TestJITUnverifiedSeeds(t *testing.T) {
	skipNoJIT(t)
	compiled := 0
	for seed := uint64(1); seed <= 400; seed++ {
		g := progen.FromSeed(seed, unverifiedGen)
		if len(g.Maps) > 0 {
			continue
		}
		raw, err := DecodeInsns(g.Bytes())
		if err != nil || !nudge(raw, []byte{byte(seed), byte(seed >> 3), byte(seed * 7), byte(seed * 5)}) {
			continue
		}
		interp, jit, ok := unverifiedPair(raw, KindFilter)
		if !ok {
			continue
		}
		compiled++
		th := NewThread()
		for n := 0; n <= 64*3; n++ {
			pkt := fill(n/3, []byte{0x45, 0xff, 0}[n%3], []int{0, 0, 37}[n%3])
			a, b := append([]byte(nil), pkt...), append([]byte(nil), pkt...)
			r1, e1 := interp.Run(th, a)
			r2, e2 := jit.Run(th, b)
			if r1 != r2 || (e1 == nil) != (e2 == nil) || !bytes.Equal(a, b) {
				t.Fatalf("seed %d, packet %x: interpreter %#x %v, JIT %#x %v\n%s", seed, pkt, r1, e1, r2, e2, disasmAll(raw))
			}
		}
		th.Close()
	}
	if compiled == 0 {
		t.Fatal("no generated program compiled: the test tests nothing")
	}
	t.Logf("%d unverified programs agree on packets of 0..64 bytes", compiled)
}

// disasmAll lists a program, one numbered instruction a line.
func disasmAll(raw []RawInsn) string {
	var b bytes.Buffer
	for i := range raw {
		fmt.Fprintf(&b, "%3d: %s\n", i, Disasm(raw, i))
	}
	return b.String()
}

// fill returns n bytes: b, plus i*step at byte i.
func fill(n int, b byte, step int) []byte {
	p := make([]byte, n)
	for i := range p {
		p[i] = b + byte(i*step)
	}
	return p
}
