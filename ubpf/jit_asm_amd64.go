//go:build linux

package ubpf

// A small x86-64 encoder for the JIT (jit_amd64.go): the instructions it
// needs and nothing else. Operands are registers or memory references
// [base + index*scale + disp32]; branches always take 32-bit
// displacements to labels, patched when the code is finished.

import (
	"encoding/binary"
	"fmt"
)

type xreg uint8

const (
	rax xreg = iota
	rcx
	rdx
	rbx
	rsp
	rbp
	rsi
	rdi
	r8
	r9
	r10
	r11
	r12
	r13
	r14
	r15
	noReg xreg = 0xff
)

var xregNames = [16]string{"rax", "rcx", "rdx", "rbx", "rsp", "rbp", "rsi", "rdi", "r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15"}

func (r xreg) String() string {
	if r < 16 {
		return xregNames[r]
	}
	return "noreg"
}

// mem is a memory operand [base + index*scale + disp].
type mem struct {
	base  xreg
	index xreg // noReg: none
	scale uint8
	disp  int32
}

func mb(base xreg, disp int32) mem { return mem{base: base, index: noReg, scale: 1, disp: disp} }
func mbi(base, index xreg, scale uint8, disp int32) mem {
	return mem{base: base, index: index, scale: scale, disp: disp}
}

// Condition codes (the low nibble of Jcc/SETcc/CMOVcc).
type cond uint8

const (
	ccO  cond = 0x0
	ccB  cond = 0x2 // unsigned <
	ccAE cond = 0x3 // unsigned >=
	ccE  cond = 0x4
	ccNE cond = 0x5
	ccBE cond = 0x6 // unsigned <=
	ccA  cond = 0x7 // unsigned >
	ccS  cond = 0x8
	ccL  cond = 0xc // signed <
	ccGE cond = 0xd
	ccLE cond = 0xe
	ccG  cond = 0xf
)

// ALU operations of the 0x01..0x3b family: the /digit of 0x81 and the
// base opcode (op r/m, r) of the two-operand forms.
type aluOp uint8

const (
	aAdd aluOp = 0
	aOr  aluOp = 1
	aAnd aluOp = 4
	aSub aluOp = 5
	aXor aluOp = 6
	aCmp aluOp = 7
)

// shift operations: the /digit of 0xc1 and 0xd3.
type shiftOp uint8

const (
	sRol shiftOp = 0
	sShl shiftOp = 4
	sShr shiftOp = 5
	sSar shiftOp = 7
)

type label int32

type fixup struct {
	at int32 // offset of the rel32 field
	l  label
}

type xasm struct {
	b      []byte
	labels []int32 // code offset, or -1 while unbound
	fix    []fixup
	err    error
}

func (a *xasm) newLabel() label {
	a.labels = append(a.labels, -1)
	return label(len(a.labels) - 1)
}

func (a *xasm) bind(l label) {
	if a.labels[l] >= 0 {
		a.fail("label %d bound twice", l)
	}
	a.labels[l] = int32(len(a.b))
}

func (a *xasm) fail(format string, args ...any) {
	if a.err == nil {
		a.err = fmt.Errorf("jit: "+format, args...)
	}
}

// finish patches every branch and returns the code.
func (a *xasm) finish() ([]byte, error) {
	for _, f := range a.fix {
		to := a.labels[f.l]
		if to < 0 {
			a.fail("label %d never bound", f.l)
			break
		}
		binary.LittleEndian.PutUint32(a.b[f.at:], uint32(to-(f.at+4)))
	}
	return a.b, a.err
}

func (a *xasm) byte1(b ...byte) { a.b = append(a.b, b...) }
func (a *xasm) imm32(v int32)   { a.b = binary.LittleEndian.AppendUint32(a.b, uint32(v)) }
func (a *xasm) imm16(v int16)   { a.b = binary.LittleEndian.AppendUint16(a.b, uint16(v)) }
func (a *xasm) imm64(v uint64)  { a.b = binary.LittleEndian.AppendUint64(a.b, v) }

func (a *xasm) rel32(l label) {
	a.fix = append(a.fix, fixup{at: int32(len(a.b)), l: l})
	a.imm32(0)
}

// rex emits a REX prefix when one is needed. force: an 8-bit operand in
// spl/bpl/sil/dil.
func (a *xasm) rex(w bool, r, x, b xreg, force bool) {
	v := byte(0x40)
	if w {
		v |= 8
	}
	if r != noReg && r&8 != 0 {
		v |= 4
	}
	if x != noReg && x&8 != 0 {
		v |= 2
	}
	if b != noReg && b&8 != 0 {
		v |= 1
	}
	if v != 0x40 || force {
		a.byte1(v)
	}
}

// modrmMem emits ModRM (with reg field r) and SIB/displacement for m.
func (a *xasm) modrmMem(r byte, m mem) {
	r = (r & 7) << 3
	b := byte(m.base & 7)
	var mod byte
	switch {
	case m.disp == 0 && b != 5:
		mod = 0
	case m.disp >= -128 && m.disp <= 127:
		mod = 0x40
	default:
		mod = 0x80
	}
	if m.index == noReg && b != 4 {
		a.byte1(mod | r | b)
	} else {
		idx := byte(4) // none
		if m.index != noReg {
			if m.index == rsp {
				a.fail("rsp as index")
			}
			idx = byte(m.index & 7)
		}
		var ss byte
		switch m.scale {
		case 1:
		case 2:
			ss = 1
		case 4:
			ss = 2
		case 8:
			ss = 3
		default:
			a.fail("scale %d", m.scale)
		}
		a.byte1(mod|r|4, ss<<6|idx<<3|b)
	}
	switch mod {
	case 0x40:
		a.byte1(byte(int8(m.disp)))
	case 0x80:
		a.imm32(m.disp)
	}
}

// opRR emits opcode with ModRM register-direct: reg field r, r/m field rm.
func (a *xasm) opRR(pfx byte, w bool, op []byte, r, rm xreg, byteRegs bool) {
	if pfx != 0 {
		a.byte1(pfx)
	}
	force := byteRegs && ((r >= 4 && r < 8) || (rm >= 4 && rm < 8))
	a.rex(w, r, noReg, rm, force)
	a.byte1(op...)
	a.byte1(0xc0 | byte(r&7)<<3 | byte(rm&7))
}

// opRM emits opcode with a memory operand: reg field r (a register or a
// /digit), r/m m.
func (a *xasm) opRM(pfx byte, w bool, op []byte, r xreg, m mem, byteReg bool) {
	if pfx != 0 {
		a.byte1(pfx)
	}
	force := byteReg && r >= 4 && r < 8
	a.rex(w, r, m.index, m.base, force)
	a.byte1(op...)
	a.modrmMem(byte(r), m)
}

// opDigitR emits opcode /digit with a register operand.
func (a *xasm) opDigitR(pfx byte, w bool, op []byte, digit byte, rm xreg) {
	if pfx != 0 {
		a.byte1(pfx)
	}
	a.rex(w, noReg, noReg, rm, false)
	a.byte1(op...)
	a.byte1(0xc0 | (digit&7)<<3 | byte(rm&7))
}

func (a *xasm) opDigitM(pfx byte, w bool, op []byte, digit byte, m mem) {
	if pfx != 0 {
		a.byte1(pfx)
	}
	a.rex(w, noReg, m.index, m.base, false)
	a.byte1(op...)
	a.modrmMem(digit, m)
}

func fitsInt8(v int64) bool  { return v >= -128 && v <= 127 }
func fitsInt32(v int64) bool { return v >= -1<<31 && v < 1<<31 }

// movRR: dst = src (w: 64-bit, else 32-bit with zero extension).
func (a *xasm) movRR(w bool, dst, src xreg) { a.opRR(0, w, []byte{0x89}, src, dst, false) }

// movImm sets dst to the 64-bit value v with the shortest encoding.
func (a *xasm) movImm(dst xreg, v uint64) {
	switch {
	case v == 0:
		a.aluRR(aXor, false, dst, dst)
	case v <= 0xffffffff: // mov r32, imm32 zero-extends
		a.rex(false, noReg, noReg, dst, false)
		a.byte1(0xb8 + byte(dst&7))
		a.imm32(int32(uint32(v)))
	case fitsInt32(int64(v)): // mov r/m64, simm32
		a.opDigitR(0, true, []byte{0xc7}, 0, dst)
		a.imm32(int32(int64(v)))
	default:
		a.rex(true, noReg, noReg, dst, false)
		a.byte1(0xb8 + byte(dst&7))
		a.imm64(v)
	}
}

// load: dst = size bytes at m, zero-extended (size 1, 2, 4, 8).
func (a *xasm) load(size int, dst xreg, m mem) {
	switch size {
	case 1:
		a.opRM(0, false, []byte{0x0f, 0xb6}, dst, m, false)
	case 2:
		a.opRM(0, false, []byte{0x0f, 0xb7}, dst, m, false)
	case 4:
		a.opRM(0, false, []byte{0x8b}, dst, m, false)
	default:
		a.opRM(0, true, []byte{0x8b}, dst, m, false)
	}
}

// loadSX: dst = size bytes at m, sign-extended to 64 bits (size 1, 2, 4).
func (a *xasm) loadSX(size int, dst xreg, m mem) {
	switch size {
	case 1:
		a.opRM(0, true, []byte{0x0f, 0xbe}, dst, m, false)
	case 2:
		a.opRM(0, true, []byte{0x0f, 0xbf}, dst, m, false)
	default:
		a.opRM(0, true, []byte{0x63}, dst, m, false)
	}
}

// store: size bytes of src to m.
func (a *xasm) store(size int, m mem, src xreg) {
	switch size {
	case 1:
		a.opRM(0, false, []byte{0x88}, src, m, true)
	case 2:
		a.opRM(0x66, false, []byte{0x89}, src, m, false)
	case 4:
		a.opRM(0, false, []byte{0x89}, src, m, false)
	default:
		a.opRM(0, true, []byte{0x89}, src, m, false)
	}
}

// storeImm: size bytes of imm (sign-extended for 8) to m.
func (a *xasm) storeImm(size int, m mem, imm int32) {
	switch size {
	case 1:
		a.opDigitM(0, false, []byte{0xc6}, 0, m)
		a.byte1(byte(imm))
	case 2:
		a.opDigitM(0x66, false, []byte{0xc7}, 0, m)
		a.imm16(int16(imm))
	case 4:
		a.opDigitM(0, false, []byte{0xc7}, 0, m)
		a.imm32(imm)
	default:
		a.opDigitM(0, true, []byte{0xc7}, 0, m)
		a.imm32(imm)
	}
}

func (a *xasm) lea(dst xreg, m mem) { a.opRM(0, true, []byte{0x8d}, dst, m, false) }

// leaRIP: dst = address of label l.
func (a *xasm) leaRIP(dst xreg, l label) {
	a.rex(true, dst, noReg, noReg, false)
	a.byte1(0x8d, 0x05|byte(dst&7)<<3)
	a.rel32(l)
}

// aluRR: dst op= src.
func (a *xasm) aluRR(op aluOp, w bool, dst, src xreg) {
	a.opRR(0, w, []byte{byte(op)<<3 | 1}, src, dst, false)
}

// aluRM: dst op= [m].
func (a *xasm) aluRM(op aluOp, w bool, dst xreg, m mem) {
	a.opRM(0, w, []byte{byte(op)<<3 | 3}, dst, m, false)
}

// aluMR: [m] op= src (size 4 or 8; for the lock-prefixed atomics).
func (a *xasm) aluMR(op aluOp, w bool, m mem, src xreg) {
	a.opRM(0, w, []byte{byte(op)<<3 | 1}, src, m, false)
}

// aluRI: dst op= imm (sign-extended to 64 bits when w).
func (a *xasm) aluRI(op aluOp, w bool, dst xreg, imm int32) {
	if fitsInt8(int64(imm)) {
		a.opDigitR(0, w, []byte{0x83}, byte(op), dst)
		a.byte1(byte(int8(imm)))
		return
	}
	a.opDigitR(0, w, []byte{0x81}, byte(op), dst)
	a.imm32(imm)
}

// aluMI: [m] op= imm.
func (a *xasm) aluMI(op aluOp, w bool, m mem, imm int32) {
	if fitsInt8(int64(imm)) {
		a.opDigitM(0, w, []byte{0x83}, byte(op), m)
		a.byte1(byte(int8(imm)))
		return
	}
	a.opDigitM(0, w, []byte{0x81}, byte(op), m)
	a.imm32(imm)
}

func (a *xasm) testRR(w bool, x, y xreg) { a.opRR(0, w, []byte{0x85}, y, x, false) }

func (a *xasm) testRI(w bool, x xreg, imm int32) {
	a.opDigitR(0, w, []byte{0xf7}, 0, x)
	a.imm32(imm)
}

// imulRR: dst *= src (low bits: the same for signed and unsigned).
func (a *xasm) imulRR(w bool, dst, src xreg) { a.opRR(0, w, []byte{0x0f, 0xaf}, dst, src, false) }

// imulRRI: dst = src * imm.
func (a *xasm) imulRRI(w bool, dst, src xreg, imm int32) {
	if fitsInt8(int64(imm)) {
		a.opRR(0, w, []byte{0x6b}, dst, src, false)
		a.byte1(byte(int8(imm)))
		return
	}
	a.opRR(0, w, []byte{0x69}, dst, src, false)
	a.imm32(imm)
}

func (a *xasm) shiftRI(op shiftOp, w bool, dst xreg, n uint8) {
	if n == 0 {
		if !w { // a 32-bit shift by 0 still zero-extends in BPF
			a.movRR(false, dst, dst)
		}
		return
	}
	a.opDigitR(0, w, []byte{0xc1}, byte(op), dst)
	a.byte1(n)
}

// shiftRCL: dst op= cl (the count masked to 5 or 6 bits by the CPU).
func (a *xasm) shiftRCL(op shiftOp, w bool, dst xreg) {
	a.opDigitR(0, w, []byte{0xd3}, byte(op), dst)
}

// unary F7 /digit ops.
const (
	uNeg  = 3
	uMul  = 4 // rdx:rax = rax * operand, unsigned
	uDiv  = 6
	uIdiv = 7
)

func (a *xasm) unary(digit byte, w bool, r xreg) { a.opDigitR(0, w, []byte{0xf7}, digit, r) }

func (a *xasm) cqo() { a.byte1(0x48, 0x99) }
func (a *xasm) cdq() { a.byte1(0x99) }

// movzx16: dst = zero-extended low 16 bits of src.
func (a *xasm) movzx16(dst, src xreg) { a.opRR(0, false, []byte{0x0f, 0xb7}, dst, src, false) }

// movsx: dst = src's low from bits sign-extended (to 64 bits when w).
func (a *xasm) movsx(w bool, dst, src xreg, from int) {
	switch from {
	case 8:
		a.opRR(0, w, []byte{0x0f, 0xbe}, dst, src, true)
	case 16:
		a.opRR(0, w, []byte{0x0f, 0xbf}, dst, src, false)
	default:
		a.opRR(0, true, []byte{0x63}, dst, src, false)
	}
}

// cmov: if c, dst = src (64-bit).
func (a *xasm) cmov(c cond, dst, src xreg) {
	a.opRR(0, true, []byte{0x0f, 0x40 | byte(c)}, dst, src, false)
}

func (a *xasm) bswap(w bool, r xreg) {
	a.rex(w, noReg, noReg, r, false)
	a.byte1(0x0f, 0xc8+byte(r&7))
}

func (a *xasm) jcc(c cond, l label) {
	a.byte1(0x0f, 0x80|byte(c))
	a.rel32(l)
}

func (a *xasm) jmp(l label) {
	a.byte1(0xe9)
	a.rel32(l)
}

// jmpM jumps to the address stored at m.
func (a *xasm) jmpM(m mem) { a.opDigitM(0, false, []byte{0xff}, 4, m) }

func (a *xasm) ret() { a.byte1(0xc3) }

// repStosq stores rax at rdi, rcx times (rdi and rcx advance to the end).
func (a *xasm) repStosq() { a.byte1(0xf3, 0x48, 0xab) }

// lock-prefixed read-modify-writes of [m] (size 4 or 8).
func (a *xasm) lockALU(op aluOp, size int, m mem, src xreg) {
	a.byte1(0xf0)
	a.aluMR(op, size == 8, m, src)
}

func (a *xasm) lockXadd(size int, m mem, src xreg) {
	a.byte1(0xf0)
	a.opRM(0, size == 8, []byte{0x0f, 0xc1}, src, m, false)
}

func (a *xasm) lockCmpxchg(size int, m mem, src xreg) {
	a.byte1(0xf0)
	a.opRM(0, size == 8, []byte{0x0f, 0xb1}, src, m, false)
}

// xchg [m], src (implicitly locked).
func (a *xasm) xchg(size int, m mem, src xreg) { a.opRM(0, size == 8, []byte{0x87}, src, m, false) }

func (a *xasm) int3() { a.byte1(0xcc) }
