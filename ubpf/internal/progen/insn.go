package progen

import (
	"encoding/binary"
	"fmt"
	"strings"
)

// Instruction encoding (RFC 9669), repeated here so that the package does
// not depend on ubpf.
const (
	clsLD    = 0x00
	clsLDX   = 0x01
	clsST    = 0x02
	clsSTX   = 0x03
	clsALU   = 0x04
	clsJMP   = 0x05
	clsJMP32 = 0x06
	clsALU64 = 0x07

	szW  = 0x00
	szH  = 0x08
	szB  = 0x10
	szDW = 0x18

	mdIMM    = 0x00
	mdABS    = 0x20
	mdIND    = 0x40
	mdMEM    = 0x60
	mdMEMSX  = 0x80
	mdATOMIC = 0xc0

	srcReg = 0x08
)

// ALU operations.
const (
	opADD  = 0x00
	opSUB  = 0x10
	opMUL  = 0x20
	opDIV  = 0x30
	opOR   = 0x40
	opAND  = 0x50
	opLSH  = 0x60
	opRSH  = 0x70
	opNEG  = 0x80
	opMOD  = 0x90
	opXOR  = 0xa0
	opMOV  = 0xb0
	opARSH = 0xc0
	opEND  = 0xd0
)

// Jump operations.
const (
	jJA   = 0x00
	jEQ   = 0x10
	jGT   = 0x20
	jGE   = 0x30
	jSET  = 0x40
	jNE   = 0x50
	jSGT  = 0x60
	jSGE  = 0x70
	jCALL = 0x80
	jEXIT = 0x90
	jLT   = 0xa0
	jLE   = 0xb0
	jSLT  = 0xc0
	jSLE  = 0xd0
)

// Atomic operations (imm of BPF_STX|BPF_ATOMIC).
const (
	atADD     = 0x00
	atOR      = 0x40
	atAND     = 0x50
	atXOR     = 0xa0
	atFETCH   = 0x01
	atXCHG    = 0xe1
	atCMPXCHG = 0xf1
)

// Helper numbers (Linux's, as goko keeps them).
const (
	hMapLookup   = 1
	hMapUpdate   = 2
	hMapDelete   = 3
	hKtime       = 5
	hPrandom     = 7
	hSmpID       = 8
	hCsumDiff    = 28
	hRingOutput  = 130
	hRingReserve = 131
	hRingSubmit  = 132
	hRingDiscard = 133
	hGokoHash32  = 0x10001
)

// Encode returns the little-endian bytecode of insns.
func Encode(insns []Insn) []byte {
	out := make([]byte, len(insns)*8)
	for i, in := range insns {
		b := out[i*8:]
		b[0] = in.Op
		b[1] = in.Dst&0x0f | in.Src<<4
		binary.LittleEndian.PutUint16(b[2:], uint16(in.Off))
		binary.LittleEndian.PutUint32(b[4:], uint32(in.Imm))
	}
	return out
}

// Decode splits bytecode into instruction slots (a trailing partial slot
// is ignored).
func Decode(code []byte) []Insn {
	out := make([]Insn, len(code)/8)
	for i := range out {
		b := code[i*8:]
		out[i] = Insn{Op: b[0], Dst: b[1] & 0x0f, Src: b[1] >> 4,
			Off: int16(binary.LittleEndian.Uint16(b[2:])), Imm: int32(binary.LittleEndian.Uint32(b[4:]))}
	}
	return out
}

func isLDDW(in Insn) bool { return in.Op == clsLD|mdIMM|szDW }

var aluNames = map[uint8]string{
	opADD: "add", opSUB: "sub", opMUL: "mul", opDIV: "div", opOR: "or", opAND: "and",
	opLSH: "lsh", opRSH: "rsh", opMOD: "mod", opXOR: "xor", opMOV: "mov", opARSH: "arsh",
}

var jmpNames = map[uint8]string{
	jEQ: "jeq", jGT: "jgt", jGE: "jge", jSET: "jset", jNE: "jne", jSGT: "jsgt",
	jSGE: "jsge", jLT: "jlt", jLE: "jle", jSLT: "jslt", jSLE: "jsle",
}

var sizeNames = map[uint8]string{szW: "w", szH: "h", szB: "b", szDW: "dw"}

// Format renders insns in the syntax of ubpf/asm (which assembles it back
// to the same bytecode), with a label on every jump target ("L12:", the
// instruction index) and every local call target ("f12:"). Instructions
// the syntax cannot express are rendered as comments starting with
// "invalid".
func Format(insns []Insn) string {
	labels := map[int]string{}
	for pc := 0; pc < len(insns); pc++ {
		in := insns[pc]
		if isLDDW(in) {
			pc++
			continue
		}
		cls := in.Op & 7
		if cls != clsJMP && cls != clsJMP32 {
			continue
		}
		code := in.Op & 0xf0
		switch {
		case code == jCALL && in.Src == 1 && cls == clsJMP:
			labels[pc+1+int(in.Imm)] = fmt.Sprintf("f%d", pc+1+int(in.Imm))
		case code == jCALL || code == jEXIT:
		case code == jJA && cls == clsJMP32:
			if _, ok := labels[pc+1+int(in.Imm)]; !ok {
				labels[pc+1+int(in.Imm)] = fmt.Sprintf("L%d", pc+1+int(in.Imm))
			}
		default:
			if _, ok := labels[pc+1+int(in.Off)]; !ok {
				labels[pc+1+int(in.Off)] = fmt.Sprintf("L%d", pc+1+int(in.Off))
			}
		}
	}
	target := func(t int) string {
		if l, ok := labels[t]; ok {
			return l
		}
		return fmt.Sprintf("%+d", t)
	}
	var b strings.Builder
	for pc := 0; pc < len(insns); pc++ {
		if l, ok := labels[pc]; ok {
			b.WriteString(l + ":\n")
		}
		in := insns[pc]
		var hi int32
		if isLDDW(in) && pc+1 < len(insns) {
			hi = insns[pc+1].Imm
		}
		b.WriteString(formatInsn(in, hi, pc, target))
		b.WriteByte('\n')
		if isLDDW(in) {
			pc++
		}
	}
	return b.String()
}

func mem(r uint8, off int16) string {
	if off < 0 {
		return fmt.Sprintf("[%%r%d%d]", r, off)
	}
	return fmt.Sprintf("[%%r%d+%d]", r, off)
}

func formatInsn(in Insn, hi int32, pc int, target func(int) string) string {
	cls := in.Op & 7
	code := in.Op & 0xf0
	bad := fmt.Sprintf("# invalid %02x %d %d %d %d", in.Op, in.Dst, in.Src, in.Off, in.Imm)
	switch cls {
	case clsALU, clsALU64:
		sfx := ""
		if cls == clsALU {
			sfx = "32"
		}
		switch code {
		case opNEG:
			return fmt.Sprintf("neg%s %%r%d", sfx, in.Dst)
		case opEND:
			switch {
			case cls == clsALU64:
				return fmt.Sprintf("swap%d %%r%d", in.Imm, in.Dst)
			case in.Op&srcReg != 0:
				return fmt.Sprintf("be%d %%r%d", in.Imm, in.Dst)
			default:
				return fmt.Sprintf("le%d %%r%d", in.Imm, in.Dst)
			}
		}
		name, ok := aluNames[code]
		if !ok {
			return bad
		}
		if (code == opDIV || code == opMOD) && in.Off == 1 {
			name = "s" + name
		}
		if code == opMOV && in.Off != 0 {
			if in.Op&srcReg == 0 {
				return bad
			}
			if cls == clsALU64 {
				return fmt.Sprintf("movsx%d %%r%d, %%r%d", in.Off, in.Dst, in.Src)
			}
			return fmt.Sprintf("movsx%d32 %%r%d, %%r%d", in.Off, in.Dst, in.Src)
		}
		if in.Op&srcReg != 0 {
			return fmt.Sprintf("%s%s %%r%d, %%r%d", name, sfx, in.Dst, in.Src)
		}
		return fmt.Sprintf("%s%s %%r%d, %d", name, sfx, in.Dst, in.Imm)
	case clsJMP, clsJMP32:
		switch code {
		case jJA:
			if cls == clsJMP32 {
				return "jal " + target(pc+1+int(in.Imm))
			}
			return "ja " + target(pc+1+int(in.Off))
		case jEXIT:
			return "exit"
		case jCALL:
			if in.Src == 1 {
				return "call local " + target(pc+1+int(in.Imm))
			}
			return fmt.Sprintf("call %d", in.Imm)
		}
		name, ok := jmpNames[code]
		if !ok {
			return bad
		}
		if cls == clsJMP32 {
			name += "32"
		}
		if in.Op&srcReg != 0 {
			return fmt.Sprintf("%s %%r%d, %%r%d, %s", name, in.Dst, in.Src, target(pc+1+int(in.Off)))
		}
		return fmt.Sprintf("%s %%r%d, %d, %s", name, in.Dst, in.Imm, target(pc+1+int(in.Off)))
	case clsLDX:
		s := ""
		if in.Op&0xe0 == mdMEMSX {
			s = "s"
		}
		return fmt.Sprintf("ldx%s%s %%r%d, %s", s, sizeNames[in.Op&0x18], in.Dst, mem(in.Src, in.Off))
	case clsST:
		return fmt.Sprintf("st%s %s, %d", sizeNames[in.Op&0x18], mem(in.Dst, in.Off), in.Imm)
	case clsSTX:
		if in.Op&0xe0 == mdATOMIC {
			sfx := ""
			if in.Op&0x18 == szW {
				sfx = "32"
			}
			var name string
			switch in.Imm {
			case atXCHG:
				name = "xchg"
			case atCMPXCHG:
				name = "cmpxchg"
			default:
				name = map[int32]string{atADD: "add", atOR: "or", atAND: "and", atXOR: "xor"}[in.Imm&^atFETCH]
				if name == "" {
					return bad
				}
				if in.Imm&atFETCH != 0 {
					name = "fetch_" + name
				}
			}
			return fmt.Sprintf("atomic_%s%s %s, %%r%d", name, sfx, mem(in.Dst, in.Off), in.Src)
		}
		return fmt.Sprintf("stx%s %s, %%r%d", sizeNames[in.Op&0x18], mem(in.Dst, in.Off), in.Src)
	case clsLD:
		if isLDDW(in) {
			switch in.Src {
			case 0:
				return fmt.Sprintf("lddw %%r%d, %#x", in.Dst, uint64(uint32(in.Imm))|uint64(uint32(hi))<<32)
			case 5:
				return fmt.Sprintf("lddw %%r%d, map(%d)", in.Dst, in.Imm)
			case 6:
				return fmt.Sprintf("lddw %%r%d, map_value(%d)+%d", in.Dst, in.Imm, hi)
			}
			return bad
		}
		switch in.Op & 0xe0 {
		case mdABS:
			return fmt.Sprintf("ldabs%s %d", sizeNames[in.Op&0x18], in.Imm)
		case mdIND:
			return fmt.Sprintf("ldind%s %%r%d, %d", sizeNames[in.Op&0x18], in.Src, in.Imm)
		}
	}
	return bad
}
