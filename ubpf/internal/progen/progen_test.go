package progen

import (
	"bytes"
	"testing"

	"github.com/goko-net/goko/ubpf/asm"
)

// TestDeterministic: a seed and a config fix the program.
func TestDeterministic(t *testing.T) {
	for seed := uint64(0); seed < 50; seed++ {
		a, b := FromSeed(seed, Config{}), FromSeed(seed, Config{})
		if !bytes.Equal(a.Bytes(), b.Bytes()) || len(a.Packets) != len(b.Packets) {
			t.Fatalf("seed %d: two different programs", seed)
		}
	}
	data := []byte("some fuzz input bytes")
	if !bytes.Equal(FromBytes(data, Config{}).Bytes(), FromBytes(data, Config{}).Bytes()) {
		t.Fatal("FromBytes is not deterministic")
	}
}

// TestFormatAssembles: Format's output assembles back to the same code,
// so regression cases can be stored as readable text.
func TestFormatAssembles(t *testing.T) {
	for seed := uint64(0); seed < 2000; seed++ {
		p := FromSeed(seed, Config{})
		src := p.Asm()
		code, err := asm.Assemble(src)
		if err != nil {
			t.Fatalf("seed %d: %v\n%s", seed, err, src)
		}
		if !bytes.Equal(code, p.Bytes()) {
			got, want := Decode(code), p.Insns
			for i := range want {
				if i >= len(got) || got[i] != want[i] {
					t.Fatalf("seed %d: slot %d: assembled %+v, generated %+v\n%s", seed, i, got[i], want[i], src)
				}
			}
			t.Fatalf("seed %d: lengths %d, %d", seed, len(got), len(want))
		}
	}
}

// TestCoverage: over many programs the generator emits every ALU and
// jump operation in both widths and both operand forms, every load and
// store width, and the instruction families the soundness test needs.
func TestCoverage(t *testing.T) {
	seen := map[uint8]bool{}
	movsx, sdiv, gotol, local := false, false, false, false
	atomics := map[int32]bool{}
	kinds := map[Kind]int{}
	for seed := uint64(0); seed < 3000; seed++ {
		p := FromSeed(seed, Config{})
		kinds[p.Kind]++
		if len(p.Insns) > maxGeneratedSlots {
			t.Fatalf("seed %d: %d slots", seed, len(p.Insns))
		}
		for _, in := range p.Insns {
			seen[in.Op] = true
			cls := in.Op & 7
			switch {
			case (cls == clsALU || cls == clsALU64) && in.Op&0xf0 == opMOV && in.Off != 0:
				movsx = true
			case (cls == clsALU || cls == clsALU64) && in.Op&0xf0 == opDIV && in.Off == 1:
				sdiv = true
			case in.Op == clsJMP32|jJA:
				gotol = true
			case in.Op == clsJMP|jCALL && in.Src == 1:
				local = true
			case cls == clsSTX && in.Op&0xe0 == mdATOMIC:
				atomics[in.Imm] = true
			}
		}
	}
	for _, cls := range []uint8{clsALU, clsALU64} {
		for _, op := range []uint8{opADD, opSUB, opMUL, opDIV, opOR, opAND, opLSH, opRSH, opMOD, opXOR, opMOV, opARSH} {
			for _, src := range []uint8{0, srcReg} {
				if !seen[cls|op|src] {
					t.Errorf("never generated alu op %#02x", cls|op|src)
				}
			}
		}
		if !seen[cls|opNEG] || !seen[cls|opEND] {
			t.Errorf("never generated neg or end in class %d", cls)
		}
	}
	for _, cls := range []uint8{clsJMP, clsJMP32} {
		for _, op := range allConds {
			for _, src := range []uint8{0, srcReg} {
				if !seen[cls|op|src] {
					t.Errorf("never generated jump %#02x", cls|op|src)
				}
			}
		}
	}
	for _, sz := range []uint8{szB, szH, szW, szDW} {
		for _, op := range []uint8{clsLDX | mdMEM | sz, clsST | mdMEM | sz, clsSTX | mdMEM | sz} {
			if !seen[op] {
				t.Errorf("never generated memory op %#02x", op)
			}
		}
	}
	for _, op := range []uint8{clsLDX | mdMEMSX | szB, clsLD | mdABS | szW, clsLD | mdIND | szB} {
		if !seen[op] {
			t.Errorf("never generated %#02x", op)
		}
	}
	for _, a := range atomicOps {
		if !atomics[a] {
			t.Errorf("never generated atomic %#x", a)
		}
	}
	if !movsx || !sdiv || !gotol || !local {
		t.Errorf("movsx %v sdiv %v gotol %v local call %v", movsx, sdiv, gotol, local)
	}
	if kinds[Filter] == 0 || kinds[XDP] == 0 {
		t.Errorf("kinds %v", kinds)
	}
}

// TestDisable: disabled families do not appear.
func TestDisable(t *testing.T) {
	for seed := uint64(0); seed < 300; seed++ {
		p := FromSeed(seed, Config{Kind: Filter, Disable: FeatCalls | FeatHelpers | FeatMaps | FeatLdAbs})
		if p.Kind != Filter || len(p.Maps) != 0 {
			t.Fatalf("seed %d: kind %v, %d maps", seed, p.Kind, len(p.Maps))
		}
		for _, in := range p.Insns {
			if in.Op == clsJMP|jCALL || in.Op&0xe7 == clsLD|mdABS || in.Op&0xe7 == clsLD|mdIND {
				t.Fatalf("seed %d: disabled construct %s", seed, formatInsn(in, 0, 0, func(int) string { return "" }))
			}
		}
	}
}

func BenchmarkGenerate(b *testing.B) {
	for i := 0; i < b.N; i++ {
		FromSeed(uint64(i), Config{})
	}
}
