package ubpf_test

// Targeted mutations of programs the verifier accepts: each mutant
// differs by one small edit of the kind that turns a safe program into an
// unsafe one (a comparison flipped, a constant changed, an offset widened
// by one, JMP swapped for JMP32, a 64-bit operation made 32-bit). Every
// mutant the verifier still accepts must keep the soundness property.

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/goko-net/goko/ubpf"
	"github.com/goko-net/goko/ubpf/asm"
	"github.com/goko-net/goko/ubpf/internal/progen"
)

var negatedCond = map[uint8]uint8{0x10: 0x50, 0x50: 0x10, 0x20: 0xb0, 0xb0: 0x20, 0x30: 0xa0, 0xa0: 0x30,
	0x60: 0xd0, 0xd0: 0x60, 0x70: 0xc0, 0xc0: 0x70}

// signedTwin swaps an unsigned comparison and its signed twin.
var signedTwin = map[uint8]uint8{0x20: 0x60, 0x60: 0x20, 0x30: 0x70, 0x70: 0x30, 0xa0: 0xc0, 0xc0: 0xa0,
	0xb0: 0xd0, 0xd0: 0xb0}

// mutants returns the single-edit variants of code.
func mutants(code []byte) [][]byte {
	insns := progen.Decode(code)
	var out [][]byte
	add := func(i int, in progen.Insn) {
		m := append([]progen.Insn(nil), insns...)
		m[i] = in
		out = append(out, progen.Encode(m))
	}
	for i := 0; i < len(insns); i++ {
		in := insns[i]
		cls := in.Op & 7
		op := in.Op & 0xf0
		if in.Op == 0x18 { // lddw: change the constant's low half
			if in.Src == 0 {
				for _, d := range []int32{1, -1} {
					x := in
					x.Imm += d
					add(i, x)
				}
			}
			i++
			continue
		}
		switch cls {
		case 0x05, 0x06:
			if op == 0x00 || op == 0x80 || op == 0x90 {
				continue
			}
			if n, ok := negatedCond[op]; ok {
				x := in
				x.Op = in.Op&^0xf0 | n
				add(i, x)
			}
			if n, ok := signedTwin[op]; ok {
				x := in
				x.Op = in.Op&^0xf0 | n
				add(i, x)
			}
			x := in
			x.Op ^= 0x05 ^ 0x06 // JMP <-> JMP32
			add(i, x)
			if in.Op&0x08 == 0 {
				for _, d := range []int32{1, -1} {
					x := in
					x.Imm += d
					add(i, x)
				}
				x := in
				x.Imm = int32(-0x80000000)
				add(i, x)
			}
		case 0x04, 0x07:
			if op == 0xd0 || op == 0x80 {
				continue
			}
			if op != 0xb0 || in.Off == 0 || cls == 0x04 {
				x := in
				x.Op ^= 0x04 ^ 0x07 // ALU64 <-> ALU32
				if !(op == 0xb0 && in.Off == 32 && x.Op&7 == 0x04) {
					add(i, x)
				}
			}
			if in.Op&0x08 == 0 {
				for _, d := range []int32{1, -1} {
					x := in
					x.Imm += d
					add(i, x)
				}
			}
		case 0x01, 0x02, 0x03:
			for _, d := range []int16{1, -1} {
				x := in
				x.Off += d
				add(i, x)
			}
			if cls == 0x01 && in.Op&0x18 != 0x18 {
				x := in
				x.Op = in.Op&^0x18 | 0x18 // wider load
				add(i, x)
			}
		}
	}
	return out
}

// mutationPackets are the packets every mutant runs on.
func mutationPackets() [][]byte {
	rnd := make([]byte, 100)
	for i := range rnd {
		rnd[i] = byte(i*37 + 11)
	}
	return [][]byte{nil, make([]byte, 14), make([]byte, 34), udpPacket([4]byte{10, 0, 0, 1}, 53, []byte("0123456789abcdef")),
		rnd, make([]byte, 1500)}
}

// mutationBases returns accepted programs to mutate: the verifier tests'
// accepted programs and the corpus of clang-built filters.
func mutationBases(t *testing.T) []*testCase {
	var out []*testCase
	for _, c := range verifierAccept {
		code, err := asm.Assemble(c.src)
		if err != nil {
			t.Fatal(err)
		}
		tc := &testCase{name: "verifier_test/" + c.name, kind: c.kind, code: code}
		for _, m := range testMaps(t) {
			tc.maps = append(tc.maps, m.Spec())
			tc.contents = append(tc.contents, nil)
		}
		tc.contents[3] = []progen.MapEntry{{Key: []byte{0, 0, 0, 0}, Value: []byte("abcdefgh")}}
		out = append(out, tc)
	}
	objs, _ := filepath.Glob("testdata/corpus/*.o")
	for _, o := range objs {
		obj, err := os.ReadFile(o)
		if err != nil {
			t.Fatal(err)
		}
		p, err := ubpf.LoadELFBytes(obj, ubpf.LoadOptions{Logger: quiet})
		if err != nil {
			continue // rejected (see corpus_test.go)
		}
		tc := &testCase{name: "corpus/" + filepath.Base(o), kind: p.Kind(), code: ubpf.EncodeInsns(p.Insns())}
		for _, m := range p.Maps() {
			s := m.Spec()
			if s.Type != ubpf.MapArray && s.Type != ubpf.MapPerThreadArray && s.Type != ubpf.MapHash &&
				s.Type != ubpf.MapPerThreadHash && s.Type != ubpf.MapRingBuf {
				tc = nil // the reference interpreter models only these
				break
			}
			if s.Type == ubpf.MapHash || s.Type == ubpf.MapPerThreadHash {
				s.MaxEntries = min(s.MaxEntries, 64) // the verifier does not care; allocation does
			}
			var entries []progen.MapEntry
			m.Iterate(func(k, v []byte) bool {
				entries = append(entries, progen.MapEntry{Key: append([]byte(nil), k...), Value: append([]byte(nil), v[:s.ValueSize]...)})
				return true
			})
			tc.maps = append(tc.maps, s)
			tc.contents = append(tc.contents, entries)
		}
		if tc != nil {
			out = append(out, tc)
		}
	}
	return out
}

// maxMutantsPerBase keeps big corpus programs (hundreds of mutants, some
// slow to verify) from dominating the test's time.
const maxMutantsPerBase = 60

// TestSoundnessMutations checks the single-edit mutants of the accepted
// programs of verifier_test.go and of testdata/corpus (all of them for
// small programs, an even sample of maxMutantsPerBase for big ones).
func TestSoundnessMutations(t *testing.T) {
	th := ubpf.NewThread()
	defer th.Close()
	pkts := mutationPackets()
	total, accepted, known := 0, 0, map[string]int{}
	var failures []string
	for _, base := range mutationBases(t) {
		base.packets = pkts
		if ok, f := base.check(th); !ok || f != nil {
			if f != nil && knownUnsoundFor(base, f) == "" {
				t.Errorf("%s: the unmutated program fails: %v", base.name, f)
			}
			continue
		}
		all := mutants(base.code)
		for i, code := range all {
			if len(all) > maxMutantsPerBase && i%((len(all)+maxMutantsPerBase-1)/maxMutantsPerBase) != 0 {
				continue // an even sample of the big programs' mutants
			}
			m := base.clone()
			m.name = fmt.Sprintf("%s#%d", base.name, i)
			m.code = code
			m.maxVerify = 50000 // a mutant that needs more is rejected, soon
			total++
			ok, f := m.check(th)
			if ok {
				accepted++
			}
			if f == nil {
				continue
			}
			if k := knownUnsoundFor(m, f); k != "" {
				known[k]++
				continue
			}
			failures = append(failures, fmt.Sprintf("%s: %v\n%s", m.name, f, progen.Format(progen.Decode(code))))
		}
	}
	t.Logf("%d mutants, %d accepted, failures of known verifier bugs: %v", total, accepted, known)
	for i, f := range failures {
		if i == 5 {
			t.Errorf("... and %d more", len(failures)-5)
			break
		}
		t.Errorf("verifier soundness bug (security): %s", f)
	}
	if total < 500 {
		t.Errorf("only %d mutants", total)
	}
}

// knownUnsoundFor returns the listed known bug a failure is attributed
// to, or "".
func knownUnsoundFor(c *testCase, f *finding) string {
	k := knownSignature(c, f)
	if _, ok := knownUnsound[k]; ok {
		return k
	}
	return ""
}
