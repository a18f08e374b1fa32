package ubpf

import (
	"encoding/binary"
	"fmt"
	"strings"
)

// Instruction classes (RFC 9669 section 3.3).
const (
	classLD    = 0x00
	classLDX   = 0x01
	classST    = 0x02
	classSTX   = 0x03
	classALU   = 0x04
	classJMP   = 0x05
	classJMP32 = 0x06
	classALU64 = 0x07
)

// Load/store size and mode fields.
const (
	sizeW  = 0x00
	sizeH  = 0x08
	sizeB  = 0x10
	sizeDW = 0x18

	modeIMM    = 0x00
	modeABS    = 0x20
	modeIND    = 0x40
	modeMEM    = 0x60
	modeMEMSX  = 0x80
	modeATOMIC = 0xc0
)

// ALU operation codes (upper four bits of the opcode).
const (
	aluADD  = 0x00
	aluSUB  = 0x10
	aluMUL  = 0x20
	aluDIV  = 0x30
	aluOR   = 0x40
	aluAND  = 0x50
	aluLSH  = 0x60
	aluRSH  = 0x70
	aluNEG  = 0x80
	aluMOD  = 0x90
	aluXOR  = 0xa0
	aluMOV  = 0xb0
	aluARSH = 0xc0
	aluEND  = 0xd0
)

// Jump operation codes.
const (
	jmpJA   = 0x00
	jmpJEQ  = 0x10
	jmpJGT  = 0x20
	jmpJGE  = 0x30
	jmpJSET = 0x40
	jmpJNE  = 0x50
	jmpJSGT = 0x60
	jmpJSGE = 0x70
	jmpCALL = 0x80
	jmpEXIT = 0x90
	jmpJLT  = 0xa0
	jmpJLE  = 0xb0
	jmpJSLT = 0xc0
	jmpJSLE = 0xd0
)

const srcX = 0x08 // source operand is a register

// Atomic operations, encoded in the imm field.
const (
	atomicADD     = 0x00
	atomicOR      = 0x40
	atomicAND     = 0x50
	atomicXOR     = 0xa0
	atomicFETCH   = 0x01
	atomicXCHG    = 0xe0 | atomicFETCH
	atomicCMPXCHG = 0xf0 | atomicFETCH
)

// Pseudo source register values of LDDW (RFC 9669 section 5.4).
const (
	PseudoImm64       = 0 // dst = imm64
	PseudoMapFD       = 1 // dst = map_by_fd(imm)
	PseudoMapValue    = 2 // dst = map_val(map_by_fd(imm)) + next_imm
	PseudoVarAddr     = 3 // dst = var_addr(imm)
	PseudoCodeAddr    = 4 // dst = code_addr(imm)
	PseudoMapIdx      = 5 // dst = map_by_idx(imm)
	PseudoMapIdxValue = 6 // dst = map_val(map_by_idx(imm)) + next_imm
)

// Call kinds, encoded in the src field of a CALL instruction.
const (
	callHelper = 0
	callLocal  = 1
	callKfunc  = 2
)

// InsnSize is the size in bytes of one encoded eBPF instruction slot.
const InsnSize = 8

// RawInsn is one decoded 8-byte instruction slot, before verification.
// An LDDW occupies two slots; its second slot has Op 0 and carries the
// upper 32 bits of the constant in Imm.
type RawInsn struct {
	Op  uint8
	Dst uint8
	Src uint8
	Off int16
	Imm int32
}

// DecodeInsns splits little-endian eBPF bytecode into instruction slots.
func DecodeInsns(code []byte) ([]RawInsn, error) {
	if len(code)%InsnSize != 0 {
		return nil, fmt.Errorf("ubpf: bytecode length %d is not a multiple of %d", len(code), InsnSize)
	}
	out := make([]RawInsn, len(code)/InsnSize)
	for i := range out {
		b := code[i*InsnSize:]
		out[i] = RawInsn{
			Op:  b[0],
			Dst: b[1] & 0x0f,
			Src: b[1] >> 4,
			Off: int16(binary.LittleEndian.Uint16(b[2:])),
			Imm: int32(binary.LittleEndian.Uint32(b[4:])),
		}
	}
	return out, nil
}

// EncodeInsns is the inverse of DecodeInsns.
func EncodeInsns(insns []RawInsn) []byte {
	out := make([]byte, len(insns)*InsnSize)
	for i, in := range insns {
		b := out[i*InsnSize:]
		b[0] = in.Op
		b[1] = in.Dst&0x0f | in.Src<<4
		binary.LittleEndian.PutUint16(b[2:], uint16(in.Off))
		binary.LittleEndian.PutUint32(b[4:], uint32(in.Imm))
	}
	return out
}

func (in RawInsn) class() uint8 { return in.Op & 0x07 }

// isLDDW reports whether the slot starts a 16-byte LDDW instruction.
func (in RawInsn) isLDDW() bool { return in.Op == classLD|modeIMM|sizeDW }

func sizeBytes(op uint8) int {
	switch op & 0x18 {
	case sizeW:
		return 4
	case sizeH:
		return 2
	case sizeB:
		return 1
	}
	return 8
}

var sizeNames = map[int]string{1: "u8", 2: "u16", 4: "u32", 8: "u64"}

var aluSyms = map[uint8]string{
	aluADD: "+=", aluSUB: "-=", aluMUL: "*=", aluDIV: "/=", aluOR: "|=",
	aluAND: "&=", aluLSH: "<<=", aluRSH: ">>=", aluMOD: "%=", aluXOR: "^=",
	aluMOV: "=", aluARSH: "s>>=",
}

var jmpSyms = map[uint8]string{
	jmpJEQ: "==", jmpJGT: ">", jmpJGE: ">=", jmpJSET: "&", jmpJNE: "!=",
	jmpJSGT: "s>", jmpJSGE: "s>=", jmpJLT: "<", jmpJLE: "<=", jmpJSLT: "s<", jmpJSLE: "s<=",
}

// Disasm renders the instruction at index i of insns in the kernel
// verifier's syntax ("r0 = *(u32 *)(r1 +4)", "if r2 > 0x5 goto pc+3").
func Disasm(insns []RawInsn, i int) string {
	if i < 0 || i >= len(insns) {
		return "<out of range>"
	}
	in := insns[i]
	if in.isLDDW() {
		var hi int32
		if i+1 < len(insns) {
			hi = insns[i+1].Imm
		}
		v := uint64(uint32(in.Imm)) | uint64(uint32(hi))<<32
		switch in.Src {
		case PseudoMapFD, PseudoMapIdx:
			return fmt.Sprintf("r%d = map[id:%d] ll", in.Dst, in.Imm)
		case PseudoMapValue, PseudoMapIdxValue:
			return fmt.Sprintf("r%d = map[id:%d][0]+%d ll", in.Dst, in.Imm, hi)
		case PseudoImm64:
			return fmt.Sprintf("r%d = %#x ll", in.Dst, v)
		default:
			return fmt.Sprintf("r%d = pseudo%d(%#x) ll", in.Dst, in.Src, v)
		}
	}
	return in.String()
}

// String renders one instruction slot in the kernel verifier's syntax.
func (in RawInsn) String() string {
	cls := in.class()
	switch cls {
	case classALU, classALU64:
		r := "r"
		if cls == classALU {
			r = "w"
		}
		op := in.Op & 0xf0
		switch op {
		case aluNEG:
			return fmt.Sprintf("%s%d = -%s%d", r, in.Dst, r, in.Dst)
		case aluEND:
			switch {
			case cls == classALU64:
				return fmt.Sprintf("r%d = bswap%d r%d", in.Dst, in.Imm, in.Dst)
			case in.Op&srcX != 0:
				return fmt.Sprintf("r%d = be%d r%d", in.Dst, in.Imm, in.Dst)
			default:
				return fmt.Sprintf("r%d = le%d r%d", in.Dst, in.Imm, in.Dst)
			}
		}
		sym, ok := aluSyms[op]
		if !ok {
			return fmt.Sprintf("invalid alu op %#02x", in.Op)
		}
		if (op == aluDIV || op == aluMOD) && in.Off == 1 {
			sym = "s" + sym
		}
		if in.Op&srcX != 0 {
			if op == aluMOV && in.Off != 0 {
				return fmt.Sprintf("%s%d = (s%d)%s%d", r, in.Dst, in.Off, r, in.Src)
			}
			return fmt.Sprintf("%s%d %s %s%d", r, in.Dst, sym, r, in.Src)
		}
		return fmt.Sprintf("%s%d %s %d", r, in.Dst, sym, in.Imm)
	case classJMP, classJMP32:
		op := in.Op & 0xf0
		switch op {
		case jmpJA:
			if cls == classJMP32 {
				return fmt.Sprintf("gotol pc%+d", in.Imm)
			}
			return fmt.Sprintf("goto pc%+d", in.Off)
		case jmpCALL:
			switch {
			case in.Op&srcX != 0:
				return fmt.Sprintf("callx r%d", in.Dst)
			case in.Src == callLocal:
				return fmt.Sprintf("call pc%+d", in.Imm)
			case in.Src == callKfunc:
				return fmt.Sprintf("call kfunc#%d", in.Imm)
			}
			if n := helperName(in.Imm); n != "" {
				return fmt.Sprintf("call %s#%d", n, in.Imm)
			}
			return fmt.Sprintf("call #%d", in.Imm)
		case jmpEXIT:
			return "exit"
		}
		sym, ok := jmpSyms[op]
		if !ok {
			return fmt.Sprintf("invalid jmp op %#02x", in.Op)
		}
		r := "r"
		if cls == classJMP32 {
			r = "w"
		}
		if in.Op&srcX != 0 {
			return fmt.Sprintf("if %s%d %s %s%d goto pc%+d", r, in.Dst, sym, r, in.Src, in.Off)
		}
		return fmt.Sprintf("if %s%d %s %#x goto pc%+d", r, in.Dst, sym, uint32(in.Imm), in.Off)
	case classLDX:
		sz := sizeNames[sizeBytes(in.Op)]
		if in.Op&0xe0 == modeMEMSX {
			sz = "s" + sz[1:]
		}
		return fmt.Sprintf("r%d = *(%s *)(r%d %+d)", in.Dst, sz, in.Src, in.Off)
	case classST:
		return fmt.Sprintf("*(%s *)(r%d %+d) = %d", sizeNames[sizeBytes(in.Op)], in.Dst, in.Off, in.Imm)
	case classSTX:
		sz := sizeNames[sizeBytes(in.Op)]
		if in.Op&0xe0 == modeATOMIC {
			fetch := ""
			if in.Imm&atomicFETCH != 0 {
				fetch = "_fetch"
			}
			switch in.Imm {
			case atomicXCHG:
				return fmt.Sprintf("r%d = atomic_xchg((%s *)(r%d %+d), r%d)", in.Src, sz, in.Dst, in.Off, in.Src)
			case atomicCMPXCHG:
				return fmt.Sprintf("r0 = atomic_cmpxchg((%s *)(r%d %+d), r0, r%d)", sz, in.Dst, in.Off, in.Src)
			}
			name := map[int32]string{atomicADD: "add", atomicOR: "or", atomicAND: "and", atomicXOR: "xor"}[in.Imm&^atomicFETCH]
			if name == "" {
				return fmt.Sprintf("invalid atomic op %#x", in.Imm)
			}
			return fmt.Sprintf("lock%s *(%s *)(r%d %+d) %s r%d", fetch, sz, in.Dst, in.Off, name, in.Src)
		}
		return fmt.Sprintf("*(%s *)(r%d %+d) = r%d", sz, in.Dst, in.Off, in.Src)
	case classLD:
		sz := sizeNames[sizeBytes(in.Op)]
		switch in.Op & 0xe0 {
		case modeABS:
			return fmt.Sprintf("r0 = *(%s *)skb[%d]", sz, in.Imm)
		case modeIND:
			return fmt.Sprintf("r0 = *(%s *)skb[r%d + %d]", sz, in.Src, in.Imm)
		}
		if in.Op == 0 {
			return fmt.Sprintf("(lddw second half %#x)", uint32(in.Imm))
		}
	}
	return fmt.Sprintf("invalid opcode %#02x", in.Op)
}

// DisasmAll renders a whole program, one numbered instruction per line.
func DisasmAll(insns []RawInsn) string {
	var b strings.Builder
	for i := 0; i < len(insns); i++ {
		fmt.Fprintf(&b, "%4d: %s\n", i, Disasm(insns, i))
		if insns[i].isLDDW() {
			i++
		}
	}
	return b.String()
}
