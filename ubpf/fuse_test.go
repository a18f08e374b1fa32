package ubpf

import (
	"errors"
	"io"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/goko-net/goko/ubpf/asm"
)

var quietLog = slog.New(slog.NewTextHandler(io.Discard, nil))

// loadBoth loads code with and without superinstructions.
func loadBoth(t *testing.T, code []byte, opts LoadOptions) (fused, plain *Program, err error) {
	t.Helper()
	opts.Engine = EngineInterp
	fused, err = Load(code, opts)
	if err != nil {
		return nil, nil, err
	}
	fuseInsns = false
	defer func() { fuseInsns = true }()
	plain, err = Load(code, opts)
	if err != nil {
		t.Fatalf("loads fused but not plain: %v", err)
	}
	return fused, plain, nil
}

// sameRun runs both programs on copies of mem and requires the same
// result, error and memory.
func sameRun(t *testing.T, fused, plain *Program, mem []byte) {
	t.Helper()
	th := NewThread()
	defer th.Close()
	m1, m2 := append([]byte(nil), mem...), append([]byte(nil), mem...)
	r1, e1 := fused.Run(th, m1)
	r2, e2 := plain.Run(th, m2)
	if r1 != r2 || (e1 == nil) != (e2 == nil) || string(m1) != string(m2) {
		t.Fatalf("fused: %#x, %v; plain: %#x, %v\n%s", r1, e1, r2, e2, plain.Disasm())
	}
	if e1 != nil && e1.Error() != e2.Error() {
		t.Fatalf("fused error %q, plain error %q", e1, e2)
	}
}

func mustAsm(t *testing.T, src string) []byte {
	t.Helper()
	code, err := asm.Assemble(src)
	if err != nil {
		t.Fatal(err)
	}
	return code
}

// TestFusedOps exercises every superinstruction, including jumps into the
// second instruction of a fused pair and a loop stopped by the budget.
func TestFusedOps(t *testing.T) {
	mem := []byte{0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 9, 8, 7, 6, 5, 4, 3, 2}
	cases := map[string]string{
		"movadd-ri": `
mov %r3, %r1
add %r3, 3
ldxb %r0, [%r3]
exit`,
		"movadd-rr-self": `
mov %r2, 5
mov %r4, %r2
add %r4, %r4
mov %r0, %r4
exit`,
		"movadd-rr": `
mov %r2, 5
mov %r5, 7
mov %r4, %r2
add %r4, %r5
mov %r0, %r4
exit`,
		"jump-into-pair": `
mov %r2, 1
mov %r4, 100
jeq %r2, 1, second
mov %r4, %r2
second:
add %r4, 5
mov %r0, %r4
exit`,
		"add-jcc-loops": `
mov %r0, 0
mov %r1, 0
l1:
add %r0, 3
add %r1, 1
jlt %r1, 10, l1
l2:
add %r1, 1
jne %r1, 20, l2
l3:
add %r1, -1
jgt %r1, 5, l3
l4:
add %r1, 2
jle %r1, 30, l4
l5:
add %r1, 1
jge %r1, 40, out5
ja l5
out5:
add %r1, 1
jeq %r1, 41, eq
mov %r0, 999
exit
eq:
add %r0, %r1
exit`,
		"add-jcc-into-jump": `
mov %r0, 0
mov %r1, 7
jeq %r1, 7, j
add %r1, 1
j:
jeq %r1, 8, out
mov %r0, 1
out:
exit`,
		"ldx-jcc": `
mov %r0, 0
ldxb %r2, [%r1+1]
jne %r2, 0x22, bad
ldxh %r2, [%r1+2]
jeq %r2, 0x4433, okh
ja bad
okh:
ldxw %r2, [%r1+4]
jne %r2, 0x88776655, bad
ldxw %r2, [%r1+8]
jeq %r2, 1, bad
ldxb %r2, [%r1+8]
jeq %r2, 9, good
bad:
mov %r0, 1
exit
good:
mov %r0, 2
exit`,
		"ldx-jcc-fault": `
ldxw %r2, [%r1+100]
jeq %r2, 1, out
out:
mov %r0, 1
exit`,
		"mov-exit-call": `
mov %r1, 5
call local f
add %r0, 1
exit
f:
mov %r0, 41
exit`,
		"mov32-exit": `
mov32 %r0, -1
exit`,
	}
	for name, src := range cases {
		t.Run(name, func(t *testing.T) {
			fused, plain, err := loadBoth(t, mustAsm(t, src), LoadOptions{Kind: KindRaw, Logger: quietLog})
			if err != nil {
				t.Fatal(err)
			}
			if name != "mov32-exit" && name != "mov-exit-call" && fusedCount(fused) == 0 {
				t.Fatalf("nothing fused:\n%s", fused.Disasm())
			}
			sameRun(t, fused, plain, mem)
		})
	}
}

// TestFusedBudget: the budget stops a fused loop at its jump (the
// verifier would reject the loop, so it is decoded directly).
func TestFusedBudget(t *testing.T) {
	raw, err := DecodeInsns(mustAsm(t, `
mov %r0, 0
l:
add %r0, 1
jne %r0, 0, l
exit`))
	if err != nil {
		t.Fatal(err)
	}
	p := &Program{raw: raw}
	if _, err := p.decode(nil, nil); err != nil {
		t.Fatal(err)
	}
	if fusedCount(p) != 1 {
		t.Fatal("add+jne not fused")
	}
	th := NewThread()
	defer th.Close()
	_, err = p.exec(th, 0, 0)
	var re *RunError
	if !errors.As(err, &re) || re.PC != 2 || !strings.Contains(re.Reason, "budget") {
		t.Fatalf("budget: %v", err)
	}
}

func fusedCount(p *Program) int {
	n := 0
	for _, in := range p.insns {
		if in.op >= opMovAdd64RI && in.op <= opMovExit {
			n++
		}
	}
	return n
}

// TestFusedConformance runs the conformance cases with and without
// superinstructions.
func TestFusedConformance(t *testing.T) {
	files, _ := filepath.Glob("testdata/conformance/*.data")
	for _, f := range files {
		text, _ := os.ReadFile(f)
		src, mem := confAsmMem(string(text))
		code, err := asm.Assemble(src)
		if err != nil {
			continue
		}
		fused, plain, err := loadBoth(t, code, LoadOptions{Kind: KindRaw, Helpers: HelpersConformance, Logger: quietLog})
		if err != nil {
			continue
		}
		sameRun(t, fused, plain, mem)
	}
}

func confAsmMem(text string) (string, []byte) {
	var src strings.Builder
	var mem []byte
	sec := ""
	for _, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		if strings.HasPrefix(line, "--") {
			sec = strings.TrimSpace(strings.TrimPrefix(line, "--"))
			continue
		}
		switch sec {
		case "asm":
			src.WriteString(line + "\n")
		case "mem":
			for _, f := range strings.Fields(line) {
				var b byte
				for _, c := range f {
					b = b<<4 | byte(strings.IndexRune("0123456789abcdef", c|0x20))
				}
				mem = append(mem, b)
			}
		}
	}
	return src.String(), mem
}

// TestFusedRandom compares fused and plain runs of random straight-line
// and looping programs built from the fused pairs' ingredients.
func TestFusedRandom(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	mem := make([]byte, 64)
	for i := range mem {
		mem[i] = byte(rng.IntN(4))
	}
	accepted, nfused := 0, 0
	for iter := 0; iter < 3000; iter++ {
		n := 4 + rng.IntN(24)
		var raw []RawInsn
		// r1 = mem, r2 = len; r3..r9 scalars
		for r := uint8(3); r <= 9; r++ {
			raw = append(raw, RawInsn{Op: classALU64 | aluMOV, Dst: r, Imm: int32(rng.IntN(8))})
		}
		body := len(raw)
		for i := 0; i < n; i++ {
			d, s := uint8(3+rng.IntN(7)), uint8(3+rng.IntN(7))
			imm := int32(rng.IntN(8)) - 2
			jcc := []uint8{jmpJEQ, jmpJNE, jmpJLT, jmpJLE, jmpJGT, jmpJGE}[rng.IntN(6)]
			left := n - i // forward room
			off := int16(rng.IntN(left))
			if rng.IntN(6) == 0 && len(raw) > body {
				off = -int16(1 + rng.IntN(len(raw)-body)) // backward: the budget ends it
			}
			switch rng.IntN(7) {
			case 0:
				raw = append(raw, RawInsn{Op: classALU64 | aluMOV | srcX, Dst: d, Src: s})
			case 1:
				raw = append(raw, RawInsn{Op: classALU64 | aluADD, Dst: d, Imm: imm})
			case 2:
				raw = append(raw, RawInsn{Op: classALU64 | aluADD | srcX, Dst: d, Src: s})
			case 3:
				raw = append(raw, RawInsn{Op: classJMP | jcc, Dst: d, Imm: imm, Off: off})
			case 4:
				sz := []uint8{sizeB, sizeH, sizeW}[rng.IntN(3)]
				raw = append(raw, RawInsn{Op: classLDX | modeMEM | sz, Dst: d, Src: 1, Off: int16(rng.IntN(40))})
			case 5:
				raw = append(raw, RawInsn{Op: classALU64 | aluMOV, Dst: 0, Imm: imm}, RawInsn{Op: classJMP | jmpEXIT})
			default:
				raw = append(raw, RawInsn{Op: classALU64 | aluXOR | srcX, Dst: d, Src: s})
			}
		}
		raw = append(raw, RawInsn{Op: classALU64 | aluMOV | srcX, Dst: 0, Src: 3}, RawInsn{Op: classJMP | jmpEXIT})
		// clamp jump targets into the program
		for i := range raw {
			if raw[i].class() == classJMP && raw[i].Op&0xf0 != jmpEXIT {
				if tgt := i + 1 + int(raw[i].Off); tgt >= len(raw) || tgt < 0 {
					raw[i].Off = int16(len(raw) - 2 - i - 1)
				}
			}
		}
		code := EncodeInsns(raw)
		fused, plain, err := loadBoth(t, code, LoadOptions{Kind: KindRaw, Logger: quietLog, MaxVerifierInsns: 100000})
		if err != nil {
			continue
		}
		accepted++
		nfused += fusedCount(fused)
		sameRun(t, fused, plain, mem)
	}
	if accepted < 500 || nfused < 500 {
		t.Fatalf("only %d programs accepted, %d fused ops", accepted, nfused)
	}
	t.Logf("%d programs, %d fused ops", accepted, nfused)
}
