package ubpf_test

// Regression cases of the soundness property: their file format, the
// minimiser that produces them from failing random programs, and the
// test that replays them.
//
// A case file (testdata/soundness/NAME.asm) is ubpf/asm source with a
// header of "# key: value" lines:
//
//	# kind: filter | xdp
//	# map: TYPE NAME key=4 value=16 entries=4 [flags=128]
//	# entry: MAPINDEX KEYHEX VALUEHEX
//	# packet: HEX | zeros N
//	# expect: CLASS (panic, fault, result, violation:KIND) or reject
//	# why: what goes wrong and why (any number of lines)
//	# error: FRAGMENT (negative corpus: the rejection must say this)
//	# bug: NAME (negative corpus: the knownUnsound entry it is a case of)
//	# raw: 0x0000000000000095 (instead of asm: one instruction per line,
//	#      as a little-endian 64-bit word, bpf_conformance's "-- raw")
//
// Every packet is run in order, with map state carried over, as in the
// random test.

import (
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/goko-net/goko/ubpf"
	"github.com/goko-net/goko/ubpf/asm"
	"github.com/goko-net/goko/ubpf/internal/progen"
)

var mapTypeByName = map[string]ubpf.MapType{
	"hash": ubpf.MapHash, "array": ubpf.MapArray, "percpu_hash": ubpf.MapPerThreadHash,
	"percpu_array": ubpf.MapPerThreadArray, "ringbuf": ubpf.MapRingBuf, "queue": ubpf.MapQueue,
	"stack": ubpf.MapStack, "lru_hash": ubpf.MapLRUHash,
}

type caseFile struct {
	*testCase
	expect string
	why    []string
	src    string
	errMsg string   // negative corpus: a fragment of the expected rejection
	bug    string   // negative corpus: the knownUnsound entry it is a case of
	raw    []uint64 // instructions given as little-endian words
}

func parseCaseFile(name, text string) (*caseFile, error) {
	cf := &caseFile{testCase: &testCase{name: name, kind: ubpf.KindFilter}}
	var src strings.Builder
	for _, line := range strings.Split(text, "\n") {
		key, v, isHdr := "", "", false
		if rest, ok := strings.CutPrefix(line, "# "); ok {
			if k, vv, ok := strings.Cut(rest, ":"); ok && !strings.Contains(k, " ") {
				key, v, isHdr = k, strings.TrimSpace(vv), true
			}
		}
		if !isHdr {
			src.WriteString(line + "\n")
			continue
		}
		switch key {
		case "kind":
			switch v {
			case "filter":
				cf.kind = ubpf.KindFilter
			case "xdp":
				cf.kind = ubpf.KindXDP
			default:
				return nil, fmt.Errorf("%s: kind %q", name, v)
			}
		case "map":
			f := strings.Fields(v)
			if len(f) < 2 {
				return nil, fmt.Errorf("%s: map %q", name, v)
			}
			t, ok := mapTypeByName[f[0]]
			if !ok {
				return nil, fmt.Errorf("%s: map type %q", name, f[0])
			}
			s := ubpf.MapSpec{Name: f[1], Type: t}
			for _, kv := range f[2:] {
				k, n, _ := strings.Cut(kv, "=")
				x, err := strconv.ParseUint(n, 0, 32)
				if err != nil {
					return nil, fmt.Errorf("%s: map field %q", name, kv)
				}
				switch k {
				case "key":
					s.KeySize = uint32(x)
				case "value":
					s.ValueSize = uint32(x)
				case "entries":
					s.MaxEntries = uint32(x)
				case "flags":
					s.Flags = uint32(x)
				}
			}
			cf.maps = append(cf.maps, s)
			cf.contents = append(cf.contents, nil)
		case "entry":
			f := strings.Fields(v)
			if len(f) != 3 {
				return nil, fmt.Errorf("%s: entry %q", name, v)
			}
			i, err := strconv.Atoi(f[0])
			k, err1 := hex.DecodeString(f[1])
			val, err2 := hex.DecodeString(f[2])
			if err != nil || err1 != nil || err2 != nil || i < 0 || i >= len(cf.contents) {
				return nil, fmt.Errorf("%s: entry %q", name, v)
			}
			cf.contents[i] = append(cf.contents[i], progen.MapEntry{Key: k, Value: val})
		case "packet":
			if n, ok := strings.CutPrefix(v, "zeros "); ok {
				x, err := strconv.Atoi(n)
				if err != nil {
					return nil, fmt.Errorf("%s: packet %q", name, v)
				}
				cf.packets = append(cf.packets, make([]byte, x))
				continue
			}
			b, err := hex.DecodeString(strings.ReplaceAll(v, " ", ""))
			if err != nil {
				return nil, fmt.Errorf("%s: packet: %v", name, err)
			}
			cf.packets = append(cf.packets, b)
		case "expect":
			cf.expect = v
		case "error":
			cf.errMsg = v
		case "bug":
			cf.bug = v
		case "raw":
			x, err := strconv.ParseUint(v, 0, 64)
			if err != nil {
				return nil, fmt.Errorf("%s: raw %q", name, v)
			}
			cf.raw = append(cf.raw, x)
		case "why":
			cf.why = append(cf.why, v)
		}
	}
	cf.src = src.String()
	if len(cf.raw) > 0 {
		for _, w := range cf.raw {
			cf.code = binary.LittleEndian.AppendUint64(cf.code, w)
		}
	} else {
		code, err := asm.Assemble(cf.src)
		if err != nil {
			return nil, fmt.Errorf("%s: %v", name, err)
		}
		cf.code = code
	}
	if len(cf.packets) == 0 {
		cf.packets = [][]byte{make([]byte, 64)}
	}
	return cf, nil
}

// format writes the case as a case file.
func (c *testCase) format(f *finding) string {
	var b strings.Builder
	fmt.Fprintf(&b, "# kind: %s\n", c.kind)
	for i, m := range c.maps {
		tn := ""
		for n, t := range mapTypeByName {
			if t == m.Type {
				tn = n
			}
		}
		fmt.Fprintf(&b, "# map: %s %s key=%d value=%d entries=%d", tn, m.Name, m.KeySize, m.ValueSize, m.MaxEntries)
		if m.Flags != 0 {
			fmt.Fprintf(&b, " flags=%d", m.Flags)
		}
		b.WriteString("\n")
		for _, e := range c.contents[i] {
			fmt.Fprintf(&b, "# entry: %d %x %x\n", i, e.Key, e.Value)
		}
	}
	for _, p := range c.packets {
		if allZero(p) {
			fmt.Fprintf(&b, "# packet: zeros %d\n", len(p))
		} else {
			fmt.Fprintf(&b, "# packet: %x\n", p)
		}
	}
	if f != nil {
		fmt.Fprintf(&b, "# expect: %s\n# why: TODO (found: %s)\n", f.Class, f)
	}
	b.WriteString(progen.Format(progen.Decode(c.code)))
	return b.String()
}

func allZero(b []byte) bool {
	for _, x := range b {
		if x != 0 {
			return false
		}
	}
	return true
}

func (c *testCase) clone() *testCase {
	d := *c
	d.code = append([]byte(nil), c.code...)
	d.packets = append([][]byte(nil), c.packets...)
	d.contents = make([][]progen.MapEntry, len(c.contents))
	for i := range c.contents {
		d.contents[i] = append([]progen.MapEntry(nil), c.contents[i]...)
	}
	return &d
}

// sameFailure reports whether c fails the way f did.
func sameFailure(c *testCase, f *finding, th *ubpf.Thread) (*finding, bool) {
	ok, g := c.check(th)
	return g, ok && g != nil && g.Class == f.Class
}

// minimize shrinks a failing case: fewer packets, instructions replaced
// by no-ops and then deleted, fewer map entries, shorter and zeroed
// packets; every step keeps the failure's class.
func minimize(c *testCase, f *finding) (*testCase, *finding) {
	th := ubpf.NewThread()
	defer th.Close()
	best, bf := c.clone(), f
	try := func(d *testCase) bool {
		if g, ok := sameFailure(d, f, th); ok {
			best, bf = d, g
			return true
		}
		return false
	}
	// packets: the failing one alone, else the prefix up to it
	if f.Packet < len(best.packets) {
		d := best.clone()
		d.packets = [][]byte{best.packets[f.Packet]}
		if !try(d) {
			d := best.clone()
			d.packets = best.packets[:f.Packet+1]
			try(d)
		}
	}
	// instructions to no-ops
	nop := []byte{0x05, 0, 0, 0, 0, 0, 0, 0}
	for changed := true; changed; {
		changed = false
		for i := 0; i < len(best.code)/8; i++ {
			slot := best.code[i*8 : i*8+8]
			if slot[0] == 0x05 && slot[2] == 0 && slot[3] == 0 || slot[0] == 0x95 {
				continue
			}
			d := best.clone()
			copy(d.code[i*8:], nop)
			if slot[0] == 0x18 && i+1 < len(best.code)/8 {
				copy(d.code[i*8+8:], nop)
			}
			if try(d) {
				changed = true
			}
		}
	}
	// delete the no-ops
	for i := len(best.code)/8 - 1; i >= 0; i-- {
		s := best.code[i*8 : i*8+8]
		if s[0] != 0x05 || s[2] != 0 || s[3] != 0 {
			continue
		}
		if d := deleteInsn(best, i); d != nil {
			try(d)
		}
	}
	// map entries
	for m := range best.contents {
		for i := len(best.contents[m]) - 1; i >= 0; i-- {
			d := best.clone()
			d.contents[m] = append(d.contents[m][:i:i], d.contents[m][i+1:]...)
			try(d)
		}
	}
	// packets: shorter, then zeroed in chunks
	for pi := range best.packets {
		for _, n := range []int{0, 1, 14, 34, 42, 64, 128} {
			if n >= len(best.packets[pi]) {
				break
			}
			d := best.clone()
			d.packets[pi] = best.packets[pi][:n]
			if try(d) {
				break
			}
		}
		for lo := 0; lo < len(best.packets[pi]); lo += 16 {
			d := best.clone()
			p := append([]byte(nil), best.packets[pi]...)
			clear(p[lo:min(lo+16, len(p))])
			d.packets[pi] = p
			try(d)
		}
	}
	return best, bf
}

// deleteInsn removes instruction slot k (a no-op), fixing jump and call
// offsets across it.
func deleteInsn(c *testCase, k int) *testCase {
	insns := progen.Decode(c.code)
	var out []progen.Insn
	for j, in := range insns {
		if j == k {
			continue
		}
		cls := in.Op & 7
		code := in.Op & 0xf0
		isLD := j > 0 && insns[j-1].Op == 0x18
		if !isLD && (cls == 0x05 || cls == 0x06) && code != 0x90 && !(code == 0x80 && in.Src != 1) {
			useImm := code == 0x80 || (cls == 0x06 && code == 0x00)
			rel := int(in.Off)
			if useImm {
				rel = int(in.Imm)
			}
			t := j + 1 + rel
			nj, nt := j, t
			if j > k {
				nj--
			}
			if t > k {
				nt--
			}
			rel = nt - nj - 1
			if useImm {
				in.Imm = int32(rel)
			} else {
				if rel < -32768 || rel > 32767 {
					return nil
				}
				in.Off = int16(rel)
			}
		}
		out = append(out, in)
	}
	d := c.clone()
	d.code = progen.Encode(out)
	return d
}

// TestSoundnessRegressions replays every case in testdata/soundness: a
// case that the verifier accepts must not fail. Cases of known verifier
// bugs are skipped, named, until their fix lands.
func TestSoundnessRegressions(t *testing.T) {
	for k := range knownUnsound {
		if _, ok := fixedUnsound[k]; ok {
			t.Errorf("%s is listed as known and as fixed", k)
		}
	}
	th := ubpf.NewThread()
	defer th.Close()
	forCaseFiles(t, "testdata/soundness", 1, func(t *testing.T, name string, cf *caseFile) {
		if len(cf.why) == 0 || cf.expect == "" {
			t.Fatalf("%s: the case must say what it expects and why", name)
		}
		accepted, f := cf.check(th)
		if bug, diag, known := knownFor(name); known {
			if f != nil && f.Class != cf.expect {
				t.Errorf("known bug %s: expected %s, got %v", bug, cf.expect, f)
			}
			if f == nil {
				t.Errorf("%s (bug %s) is listed in knownUnsound (%s) but passes now (accepted=%v): remove it from the list", name, bug, diag, accepted)
				return
			}
			t.Skipf("known verifier bug %s: %s (%v)", bug, diag, f)
		}
		if f != nil {
			t.Fatalf("verifier soundness bug (security): %v\nwhy: %s", f, strings.Join(cf.why, " "))
		}
		for k, how := range fixedUnsound {
			if name == k || strings.HasPrefix(name, k+"-") {
				t.Logf("a case of fixed bug %s (%s); accepted: %v", k, how, accepted)
			}
		}
		if cf.expect == "reject" && accepted {
			t.Fatalf("accepted; the case must be rejected: %s", strings.Join(cf.why, " "))
		}
	})
}

// forCaseFiles runs fn as a subtest on every case file of dir (at least
// min of them).
func forCaseFiles(t *testing.T, dir string, min int, fn func(t *testing.T, name string, cf *caseFile)) {
	files, err := filepath.Glob(filepath.Join(dir, "*.asm"))
	if err != nil || len(files) < min {
		t.Fatalf("%s: %d cases (%v)", dir, len(files), err)
	}
	for _, file := range files {
		name := strings.TrimSuffix(filepath.Base(file), ".asm")
		t.Run(name, func(t *testing.T) {
			text, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			cf, err := parseCaseFile(name, string(text))
			if err != nil {
				t.Fatal(err)
			}
			fn(t, name, cf)
		})
	}
}
