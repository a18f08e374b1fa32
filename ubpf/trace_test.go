package ubpf

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// sameTraced runs p on copies of mem with exec (Run) and with step
// (RunTraced) and requires the same result, error and memory.
func sameTraced(t *testing.T, p *Program, mem []byte) *Trace {
	t.Helper()
	th := NewThread()
	defer th.Close()
	m1, m2 := append([]byte(nil), mem...), append([]byte(nil), mem...)
	r1, e1 := p.Run(th, m1)
	r2, tr, e2 := p.RunTraced(th, m2)
	if r1 != r2 || (e1 == nil) != (e2 == nil) || !bytes.Equal(m1, m2) {
		t.Fatalf("exec: %#x, %v; step: %#x, %v\n%s", r1, e1, r2, e2, p.Disasm())
	}
	if e1 != nil && e1.Error() != e2.Error() {
		t.Fatalf("exec error %q, step error %q\n%s", e1, e2, p.Disasm())
	}
	if tr.Insns == 0 {
		t.Fatal("a traced run counted no instruction")
	}
	return tr
}

// TestTracedConformance: step agrees with exec on every conformance case
// (results, faults and their messages).
func TestTracedConformance(t *testing.T) {
	files, _ := filepath.Glob("testdata/conformance/*.data")
	if len(files) == 0 {
		t.Skip("no conformance files")
	}
	n := 0
	for _, f := range files {
		text, _ := os.ReadFile(f)
		src, mem := confAsmMem(string(text))
		p, err := Load(mustAsm(t, src), LoadOptions{Kind: KindRaw, Helpers: HelpersConformance, Logger: quietLog})
		if err != nil {
			continue
		}
		t.Run(filepath.Base(f), func(t *testing.T) { sameTraced(t, p, mem) })
		n++
	}
	if n < 100 {
		t.Fatalf("only %d conformance programs loaded", n)
	}
}

// TestTraceCounts: the count is exact on programs whose path is known.
func TestTraceCounts(t *testing.T) {
	for _, tc := range []struct {
		src  string
		want uint64
	}{
		{"mov %r0, 1\nexit", 2},
		{"lddw %r0, 0x100000001\nadd %r0, 1\nexit", 3},
		// 10 iterations of a 3-instruction loop, plus setup and exit.
		{"mov %r0, 0\nmov %r3, 10\nadd %r0, 2\nsub %r3, 1\njne %r3, 0, -3\nexit", 2 + 10*3 + 1},
		// a local call: call, callee's two instructions, exit.
		{"call local f\nexit\nf:\nmov %r0, 7\nexit", 4},
		// a forward jump skips two instructions.
		{"mov %r0, 1\nja +2\nmov %r0, 2\nmov %r0, 3\nexit", 3},
	} {
		p, err := Load(mustAsm(t, tc.src), LoadOptions{Kind: KindRaw, Logger: quietLog})
		if err != nil {
			t.Fatalf("%q: %v", tc.src, err)
		}
		if tr := sameTraced(t, p, nil); tr.Insns != tc.want {
			t.Errorf("%q: %d instructions, want %d", tc.src, tr.Insns, tc.want)
		}
	}
}

// TestTracedRandom compares exec and step on random programs that use
// every ALU operation in both widths and operand forms, every
// conditional jump, byte swaps, sign extension and stack memory.
func TestTracedRandom(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 11))
	aluCodes := []uint8{aluADD, aluSUB, aluMUL, aluDIV, aluOR, aluAND, aluLSH, aluRSH, aluNEG, aluMOD, aluXOR, aluMOV, aluARSH, aluEND}
	jmpCodes := []uint8{jmpJEQ, jmpJGT, jmpJGE, jmpJSET, jmpJNE, jmpJSGT, jmpJSGE, jmpJLT, jmpJLE, jmpJSLT, jmpJSLE}
	mem := make([]byte, 64)
	for i := range mem {
		mem[i] = byte(rng.Uint32())
	}
	accepted := 0
	for iter := 0; iter < 4000; iter++ {
		var raw []RawInsn
		for r := uint8(3); r <= 9; r++ {
			raw = append(raw, RawInsn{Op: classALU64 | aluMOV, Dst: r, Imm: int32(rng.Uint32()) >> rng.IntN(32)})
		}
		body := len(raw)
		n := 4 + rng.IntN(24)
		for i := 0; i < n; i++ {
			d, s := uint8(3+rng.IntN(7)), uint8(3+rng.IntN(7))
			imm := int32(rng.Uint32()) >> rng.IntN(32)
			cls := []uint8{classALU, classALU64}[rng.IntN(2)]
			switch rng.IntN(6) {
			case 0, 1, 2:
				code := aluCodes[rng.IntN(len(aluCodes))]
				in := RawInsn{Op: cls | code, Dst: d, Imm: imm}
				switch {
				case code == aluEND:
					in.Imm = []int32{16, 32, 64}[rng.IntN(3)]
					if rng.IntN(2) == 0 {
						in.Op |= srcX
					}
				case code == aluNEG:
				case rng.IntN(2) == 0:
					in.Op |= srcX
					in.Src = s
					if code == aluMOV && rng.IntN(3) == 0 {
						in.Off = []int16{8, 16, 32}[rng.IntN(3)] // movsx
						if cls == classALU && in.Off == 32 {
							in.Off = 16
						}
					}
				}
				if (code == aluDIV || code == aluMOD) && rng.IntN(2) == 0 {
					in.Off = 1 // signed
				}
				if in.Op&srcX == 0 && (code == aluLSH || code == aluRSH || code == aluARSH) {
					in.Imm &= 31
				}
				raw = append(raw, in)
			case 3:
				left := n - i
				off := int16(rng.IntN(left))
				if rng.IntN(6) == 0 && len(raw) > body {
					off = -int16(1 + rng.IntN(len(raw)-body)) // backward: the budget ends it
				}
				jc := []uint8{classJMP, classJMP32}[rng.IntN(2)]
				in := RawInsn{Op: jc | jmpCodes[rng.IntN(len(jmpCodes))], Dst: d, Imm: imm, Off: off}
				if rng.IntN(2) == 0 {
					in.Op |= srcX
					in.Src = s
				}
				raw = append(raw, in)
			case 4:
				// store then load back through the stack
				sz := []uint8{sizeB, sizeH, sizeW, sizeDW}[rng.IntN(4)]
				slot := -8 * int16(1+rng.IntN(8))
				mode := uint8(modeMEM)
				if sz != sizeDW && rng.IntN(2) == 0 {
					mode = modeMEMSX
				}
				raw = append(raw, RawInsn{Op: classSTX | modeMEM | sizeDW, Dst: 10, Src: s, Off: slot},
					RawInsn{Op: classLDX | mode | sz, Dst: d, Src: 10, Off: slot})
			default:
				sz := []uint8{sizeB, sizeH, sizeW, sizeDW}[rng.IntN(4)]
				raw = append(raw, RawInsn{Op: classLDX | modeMEM | sz, Dst: d, Src: 1, Off: int16(rng.IntN(40))})
			}
		}
		raw = append(raw, RawInsn{Op: classALU64 | aluMOV | srcX, Dst: 0, Src: 3}, RawInsn{Op: classJMP | jmpEXIT})
		for i := range raw {
			if c := raw[i].class(); (c == classJMP || c == classJMP32) && raw[i].Op&0xf0 != jmpEXIT {
				if tgt := i + 1 + int(raw[i].Off); tgt >= len(raw) || tgt < 0 {
					raw[i].Off = int16(len(raw) - 2 - i - 1)
				}
			}
		}
		p, err := Load(EncodeInsns(raw), LoadOptions{Kind: KindRaw, Logger: quietLog, MaxVerifierInsns: 100000})
		if err != nil {
			continue
		}
		accepted++
		sameTraced(t, p, mem)
	}
	if accepted < 500 {
		t.Fatalf("only %d random programs accepted", accepted)
	}
	t.Logf("%d programs", accepted)
}

// TestTracedFilterMaps: a traced run of a C filter gives the verdicts of
// untraced runs, leaves its maps in the same state, and lists the map
// calls it made with their keys and values.
func TestTracedFilterMaps(t *testing.T) {
	clang, err := exec.LookPath("clang")
	if err != nil {
		t.Skip("clang not installed")
	}
	if _, err := os.Stat("/usr/include/bpf/bpf_helpers.h"); err != nil {
		t.Skip("libbpf-dev not installed")
	}
	obj := filepath.Join(t.TempDir(), "filter.o")
	if out, err := exec.Command(clang, "-O2", "-g", "-target", "bpf", "-I/usr/include/x86_64-linux-gnu",
		"-c", "testdata/filter.c", "-o", obj).CombinedOutput(); err != nil {
		t.Fatalf("clang: %v\n%s", err, out)
	}
	b, _ := os.ReadFile(obj)
	plain, err1 := LoadELFBytes(b, LoadOptions{Logger: quietLog})
	traced, err2 := LoadELFBytes(b, LoadOptions{Logger: quietLog})
	if err1 != nil || err2 != nil {
		t.Fatal(err1, err2)
	}
	th := NewThread()
	defer th.Close()
	pkt := func(src byte, dport uint16) []byte {
		p := make([]byte, 14+20+8+8)
		binary.BigEndian.PutUint16(p[12:], 0x0800)
		p[14], p[14+9] = 0x45, 17
		binary.BigEndian.PutUint16(p[16:], 36)
		copy(p[14+12:], []byte{192, 168, 1, src})
		binary.BigEndian.PutUint16(p[14+22:], dport)
		return p
	}
	var last *Trace
	for i, pk := range [][]byte{pkt(7, 53), pkt(7, 53), pkt(8, 80), pkt(9, 53), pkt(7, 53)[:20]} {
		r1, e1 := plain.Run(th, pk)
		r2, tr, e2 := traced.RunTraced(th, pk)
		if r1 != r2 || e1 != nil || e2 != nil {
			t.Fatalf("packet %d: plain %d %v, traced %d %v", i, r1, e1, r2, e2)
		}
		last = tr
		if i == 1 {
			// The second DNS packet from .7: the stats array is read, the
			// source's counter found (1 so far) and not created again.
			want := []MapOp{{Map: "stats", Op: "lookup", Key: []byte{0, 0, 0, 0}}, {Map: "per_src", Op: "lookup", Key: []byte{192, 168, 1, 7}}}
			if len(tr.MapOps) < 2 {
				t.Fatalf("map calls: %+v", tr.MapOps)
			}
			for j, w := range want {
				got := tr.MapOps[j]
				if got.Map != w.Map || got.Op != w.Op || !bytes.Equal(got.Key, w.Key) || got.Value == nil {
					t.Errorf("map call %d: %+v, want %s %s %x", j, got, w.Op, w.Map, w.Key)
				}
			}
			if v := tr.MapOps[1].Value; binary.LittleEndian.Uint64(v) != 1 {
				t.Errorf("per_src value seen %x, want 1", v)
			}
		}
	}
	if last.Insns == 0 || len(last.MapOps) != 1 {
		t.Errorf("truncated packet: %+v", last)
	}
	for _, m := range plain.Maps() {
		dump := func(p *Program) string {
			var kv []string
			p.Map(m.Name()).Iterate(func(k, v []byte) bool { kv = append(kv, fmt.Sprintf("%x=%x", k, v)); return true })
			sort.Strings(kv)
			return strings.Join(kv, " ")
		}
		if a, b := dump(plain), dump(traced); a != b {
			t.Errorf("map %s differs:\nplain  %s\ntraced %s", m.Name(), a, b)
		}
	}
}
