package ubpf

import (
	"math"
	"math/bits"
)

// step interprets one instruction on st. It returns the next pc, and for
// a branch whose both sides are feasible the other side's pc and state.
// done reports the end of the path.
func (v *verifier) step(st *vstate, pc int) (next, other int, otherSt *vstate, done bool, err error) {
	in := v.insns[pc]
	f := st.cur()
	switch in.class() {
	case classALU, classALU64:
		return pc + 1, 0, nil, false, v.alu(st, in)
	case classJMP, classJMP32:
		return v.jump(st, pc, in)
	case classLDX:
		src := f.regs[in.Src]
		if src.t == tNotInit {
			return 0, 0, nil, false, v.fail("R%d !read_ok", in.Src)
		}
		size := sizeBytes(in.Op)
		val, err := v.access(st, src, int64(in.Off), size, false, nil)
		if err != nil {
			return 0, 0, nil, false, err
		}
		if src.t == tPtrCtx {
			var kind uint8 = 1
			if v.ctxSeen[pc] == 2 {
				return 0, 0, nil, false, v.fail("same insn cannot be used with different pointers")
			}
			v.ctxSeen[pc] = kind
		} else if v.ctxSeen[pc] == 1 {
			return 0, 0, nil, false, v.fail("same insn cannot be used with different pointers")
		} else {
			v.ctxSeen[pc] = 2
		}
		if in.Op&0xe0 == modeMEMSX && val.t == tScalar {
			switch size {
			case 1:
				val = signedRange(math.MinInt8, math.MaxInt8)
			case 2:
				val = signedRange(math.MinInt16, math.MaxInt16)
			case 4:
				val = signedRange(math.MinInt32, math.MaxInt32)
			}
		}
		if val.t == tScalar && !val.isConst() && val.id == 0 {
			val.id = v.newID()
		}
		f.regs[in.Dst] = val
		return pc + 1, 0, nil, false, nil
	case classST:
		dst := f.regs[in.Dst]
		if dst.t == tNotInit {
			return 0, 0, nil, false, v.fail("R%d !read_ok", in.Dst)
		}
		c := constReg(uint64(int64(in.Imm)))
		_, err := v.access(st, dst, int64(in.Off), sizeBytes(in.Op), true, &c)
		return pc + 1, 0, nil, false, err
	case classSTX:
		dst, src := f.regs[in.Dst], f.regs[in.Src]
		if dst.t == tNotInit {
			return 0, 0, nil, false, v.fail("R%d !read_ok", in.Dst)
		}
		if src.t == tNotInit {
			return 0, 0, nil, false, v.fail("R%d !read_ok", in.Src)
		}
		size := sizeBytes(in.Op)
		if in.Op&0xe0 == modeATOMIC {
			return pc + 1, 0, nil, false, v.atomic(st, in, dst, src, size)
		}
		_, err := v.access(st, dst, int64(in.Off), size, true, &src)
		return pc + 1, 0, nil, false, err
	case classLD:
		if in.isLDDW() {
			nx := v.insns[pc+1]
			switch in.Src {
			case PseudoImm64:
				f.regs[in.Dst] = constReg(uint64(uint32(in.Imm)) | uint64(uint32(nx.Imm))<<32)
			case PseudoMapFD, PseudoMapIdx:
				f.regs[in.Dst] = reg{t: tConstMap, mapIdx: in.Imm}
			case PseudoCodeAddr:
				f.regs[in.Dst] = reg{t: tFuncPtr, off: int64(pc + 1 + int(in.Imm))}
			default:
				f.regs[in.Dst] = reg{t: tPtrMapValue, mapIdx: in.Imm, off: int64(uint32(nx.Imm))}
			}
			return pc + 2, 0, nil, false, nil
		}
		// legacy packet access: r0 = ntoh(packet[imm (+ src)])
		if in.Op&0xe0 == modeIND {
			s := f.regs[in.Src]
			if s.t != tScalar {
				return 0, 0, nil, false, v.fail("R%d is not a scalar (%s)", in.Src, s.t)
			}
		}
		if !v.raw {
			for r := 1; r <= 5; r++ {
				f.regs[r] = reg{}
			}
		}
		sz := sizeBytes(in.Op)
		f.regs[0] = rangeReg(0, 1<<(8*sz)-1)
		f.regs[0].id = v.newID()
		return pc + 1, 0, nil, false, nil
	}
	return 0, 0, nil, false, v.fail("unknown opcode %#02x", in.Op)
}

func (v *verifier) atomic(st *vstate, in RawInsn, dst, src reg, size int) error {
	switch dst.t {
	case tPtrPacket, tPtrCtx:
		return v.fail("atomic access to %s is not allowed", dst.t)
	}
	if src.isPtr() && !v.raw {
		return v.fail("R%d leaks addr into mem", in.Src)
	}
	if in.Imm == atomicCMPXCHG && st.cur().regs[0].t == tNotInit {
		return v.fail("R0 !read_ok")
	}
	if dst.t == tPtrStack || dst.t == tPtrMapValue || dst.t == tPtrMem {
		if dst.umin == dst.umax && (dst.off+int64(in.Off)+int64(dst.umin))%int64(size) != 0 {
			return v.fail("misaligned atomic access off %d size %d", dst.off+int64(in.Off)+int64(dst.umin), size)
		}
	}
	if old, err := v.access(st, dst, int64(in.Off), size, false, nil); err != nil {
		return err
	} else if old.isPtr() && !v.raw {
		return v.fail("atomic operation on a spilled %s pointer prohibited", old.t)
	}
	u := unknown()
	if _, err := v.access(st, dst, int64(in.Off), size, true, &u); err != nil {
		return err
	}
	f := st.cur()
	res := unknown()
	if size == 4 {
		res = rangeReg(0, math.MaxUint32)
	}
	res.id = v.newID()
	if in.Imm == atomicCMPXCHG {
		f.regs[0] = res
	} else if in.Imm&atomicFETCH != 0 {
		f.regs[in.Src] = res
	}
	return nil
}

// access checks a load (write=false) or store of size bytes at ptr+off and
// returns the loaded value. For stores val is the stored value.
func (v *verifier) access(st *vstate, ptr reg, off int64, size int, write bool, val *reg) (reg, error) {
	lo := ptr.off + off + ptr.smin
	hi := ptr.off + off + ptr.smax // last start
	if ptr.isPtr() && ptr.t != tPtrRaw && (ptr.smin < -(1<<29) || ptr.smax > 1<<29) {
		return reg{}, v.fail("%s pointer has unbounded variable offset", ptr.t)
	}
	switch ptr.t {
	case tPtrStack:
		if lo < -StackFrameSize || hi+int64(size) > 0 {
			return reg{}, v.fail("invalid stack access off=%d size=%d (frame is %d bytes)", lo, size, StackFrameSize)
		}
		if int(ptr.frame) >= len(st.frames) {
			return reg{}, v.fail("stack pointer to a returned frame")
		}
		fr := st.frames[ptr.frame]
		v.noteStack(ptr.frame, lo)
		if write && val != nil && val.t == tPtrStack && val.frame > ptr.frame {
			// the pointer would outlive the frame it points to: after the
			// callee returns, its stack is reused by the next call
			return reg{}, v.fail("cannot store a pointer to the stack of frame %d into the stack of frame %d: it would outlive the call", val.frame, ptr.frame)
		}
		if write {
			return reg{}, v.stackWrite(fr, lo, hi, size, val)
		}
		return v.stackRead(fr, lo, hi, size)
	case tPtrMapValue:
		m := v.p.maps[ptr.mapIdx]
		if lo < 0 || hi+int64(size) > int64(m.spec.ValueSize) {
			return reg{}, v.fail("invalid access to map value, value_size=%d off=%d size=%d", m.spec.ValueSize, lo, size)
		}
		if write && m.spec.Flags&FlagRdonlyProg != 0 {
			return reg{}, v.fail("write into map %s forbidden (read-only for programs)", m.spec.Name)
		}
	case tPtrMem:
		if lo < 0 || hi+int64(size) > int64(ptr.size) {
			return reg{}, v.fail("invalid access to memory, mem_size=%d off=%d size=%d", ptr.size, lo, size)
		}
	case tPtrPacket:
		if write && !v.p.pktWritable {
			return reg{}, v.fail("cannot write into packet (packets are read-only for %s programs)", v.kind)
		}
		// the proven range counts from base+var, so only the fixed part
		// matters, and base+var+fixed must not be before the packet
		rng := st.pktRange(ptr.id)
		fixed := ptr.off + off
		if ptr.smin+fixed < 0 || fixed+int64(size) > rng {
			return reg{}, v.fail("invalid access to packet, off=%d size=%d, proven range=%d: check the offset against data_end (or the length argument) first", fixed, size, rng)
		}
	case tPtrCtx:
		if v.kind != KindXDP {
			return reg{}, v.fail("invalid context access")
		}
		if write {
			return reg{}, v.fail("cannot write into ctx")
		}
		if ptr.hasVarOff() || ptr.off != 0 {
			// the field is known from the instruction alone, so that one
			// rewrite of the load serves every path that reaches it
			return reg{}, v.fail("dereference of modified ctx ptr (off=%d): load the field with ctx->field", ptr.off)
		}
		if size != 4 || lo%4 != 0 || lo < 0 || lo > 20 {
			return reg{}, v.fail("invalid bpf_context access off=%d size=%d (struct xdp_md has u32 fields at 0..20)", lo, size)
		}
		switch lo {
		case 0:
			v.ctxAnn[v.pc] = ctxData
			return reg{t: tPtrPacket}, nil
		case 4:
			v.ctxAnn[v.pc] = ctxDataEnd
			return reg{t: tPtrPacketEnd}, nil
		case 8:
			v.ctxAnn[v.pc] = ctxDataMeta
			return reg{t: tPtrPacket}, nil
		}
		return rangeReg(0, math.MaxUint32), nil
	case tPtrRaw:
		// runtime-checked
	case tScalar:
		if !v.raw {
			return reg{}, v.fail("invalid mem access 'scalar'")
		}
	default:
		return reg{}, v.fail("invalid mem access '%s'", ptr.t)
	}
	if write {
		if val != nil && val.isPtr() && ptr.t != tPtrRaw && !v.raw {
			return reg{}, v.fail("pointer stored into %s: only the stack may hold pointers", ptr.t)
		}
		return reg{}, nil
	}
	if size == 8 {
		return unknown(), nil
	}
	return rangeReg(0, 1<<(8*size)-1), nil
}

// stackWrite records a store of size bytes at offsets [lo, hi] (the
// possible starts) of frame fr. An aligned 8-byte store at a known offset
// spills val, keeping its type and bounds; any other store makes the bytes
// it surely covers written-but-unknown. Pointers may only be spilled whole
// (an address cut in pieces would come back as a number), and a spilled
// pointer may only be replaced whole, as Linux requires of unprivileged
// programs.
func (v *verifier) stackWrite(fr *frameState, lo, hi int64, size int, val *reg) error {
	exact := lo == hi
	if val != nil && val.isPtr() && !(exact && size == 8 && lo%8 == 0) {
		return v.fail("invalid size of register spill: a %s pointer must be stored as 8 aligned bytes at a known offset (off %d size %d)", val.t, lo, size)
	}
	for a := lo; a < hi+int64(size); a++ {
		i := int(a + StackFrameSize)
		if fr.stack[i] != sSpill {
			continue
		}
		sp := fr.spills[i/8]
		whole := exact && size == 8 && lo%8 == 0
		if sp.isPtr() && !whole {
			return v.fail("attempt to corrupt spilled pointer on stack (off %d size %d over the %s spilled at %d)", lo, size, sp.t, int64(i&^7)-StackFrameSize)
		}
	}
	if exact && size == 8 && lo%8 == 0 && val != nil {
		i := int(lo + StackFrameSize)
		for k := 0; k < 8; k++ {
			fr.stack[i+k] = sSpill
		}
		if fr.spills == nil {
			fr.spills = map[int]reg{}
		}
		fr.spills[i/8] = *val
		return nil
	}
	for a := lo; a < hi+int64(size); a++ {
		i := int(a + StackFrameSize)
		// a partial write destroys any (scalar) spill it touches
		if fr.stack[i] == sSpill {
			s := i &^ 7
			for k := 0; k < 8; k++ {
				fr.stack[s+k] = sMisc
			}
			delete(fr.spills, s/8)
		}
		// a write at a variable offset initialises only the bytes every
		// possible write covers: [hi, lo+size)
		if exact || (a >= hi && a < lo+int64(size)) {
			fr.stack[i] = sMisc
		}
	}
	return nil
}

// stackRead checks a load of size bytes at offsets [lo, hi] of frame fr
// and returns the value: a spilled register read back whole, the bytes of
// a spilled constant, or an unknown number of that size. Part of a spilled
// pointer is never read as a number.
func (v *verifier) stackRead(fr *frameState, lo, hi int64, size int) (reg, error) {
	for a := lo; a < hi+int64(size); a++ {
		i := int(a + StackFrameSize)
		switch fr.stack[i] {
		case sInvalid:
			return reg{}, v.fail("invalid read from stack off %d+%d size %d (uninitialised)", lo, a-lo, size)
		case sSpill:
			if sp := fr.spills[i/8]; sp.isPtr() && !(lo == hi && size == 8 && lo%8 == 0) {
				return reg{}, v.fail("invalid size of register fill: part of the %s pointer spilled at %d read as a number (off %d size %d)", sp.t, int64(i&^7)-StackFrameSize, lo, size)
			}
		}
	}
	if lo == hi {
		i := int(lo + StackFrameSize)
		if fr.stack[i] == sSpill {
			s := fr.spills[i/8]
			if size == 8 && lo%8 == 0 {
				return s, nil
			}
			// a piece of a spilled constant, when the read stays inside
			// its 8 bytes
			if s.isConst() && i%8+size <= 8 {
				val := s.umin >> (uint(i%8) * 8)
				if size < 8 {
					val &= 1<<(8*size) - 1
				}
				return constReg(val), nil
			}
		}
	}
	if size == 8 {
		return unknown(), nil
	}
	return rangeReg(0, 1<<(8*size)-1), nil
}

// maxPtrOff bounds the constant and the variable offsets of pointers, so
// that offset arithmetic on them never overflows.
const maxPtrOff = 1 << 29

// ptrArith handles ADD/SUB between a pointer and a scalar (64-bit only).
func (v *verifier) ptrArith(ptr, sc reg, sub bool) (reg, error) {
	switch ptr.t {
	case tPtrPacketEnd, tConstMap, tPtrMapValueOrNull, tPtrMemOrNull, tFuncPtr:
		return reg{}, v.fail("pointer arithmetic on %s prohibited", ptr.t)
	case tPtrCtx:
		if !sc.isConst() {
			return reg{}, v.fail("variable ctx pointer arithmetic prohibited")
		}
	}
	if ptr.t == tPtrRaw {
		return ptr, nil // raw memory: checked at run time only
	}
	if sc.isConst() {
		c := int64(sc.umin)
		if sub {
			c = -c
		}
		if c > maxPtrOff || c < -maxPtrOff || ptr.off+c > maxPtrOff || ptr.off+c < -maxPtrOff {
			return reg{}, v.fail("pointer arithmetic on %s with too large constant %d (off %d)", ptr.t, c, ptr.off)
		}
		ptr.off += c
		return ptr, nil
	}
	if sc.smin < -maxPtrOff || sc.smax > maxPtrOff {
		return reg{}, v.fail("math between %s pointer and register with unbounded min value is not allowed (%s): bound it first, e.g. with a comparison or a mask", ptr.t, sc.scalar)
	}
	op := uint8(aluADD)
	if sub {
		op = aluSUB
	}
	if !sub && ptr.t == tPtrPacket && ptr.id == 0 && !ptr.hasVarOff() && sc.id != 0 && sc.id != lenID {
		// data + x: the variable part is the base of x's link, x's offset
		// joins the fixed part, so that comparisons of any register linked
		// to x prove bytes for this pointer (see lenFact)
		ptr.id = sc.id
		ptr.off += sc.off
		ptr.scalar = scalarOp(aluSUB, 0, sc.scalar, constScalar(uint64(sc.off)), 64)
	} else {
		ptr.scalar = scalarOp(op, 0, ptr.scalar, sc.scalar, 64)
		ptr.id = v.newID()
	}
	if ptr.smin < -maxPtrOff || ptr.smax > maxPtrOff || ptr.off < -maxPtrOff || ptr.off > maxPtrOff {
		return reg{}, v.fail("%s pointer offset %d%+d..%+d out of range", ptr.t, ptr.off, ptr.smin, ptr.smax)
	}
	if ptr.t == tPtrPacket && (ptr.smin < 0 || ptr.smax > 0xffff) {
		return reg{}, v.fail("packet pointer offset range [%d,%d] not within [0,65535]", ptr.smin, ptr.smax)
	}
	return ptr, nil
}

func (v *verifier) alu(st *vstate, in RawInsn) error {
	f := st.cur()
	is64 := in.class() == classALU64
	width := 32
	if is64 {
		width = 64
	}
	code := in.Op & 0xf0
	dst := &f.regs[in.Dst]
	var src reg
	switch {
	case code == aluEND || code == aluNEG:
		// unary
	case in.Op&srcX != 0:
		src = f.regs[in.Src]
		if src.t == tNotInit {
			return v.fail("R%d !read_ok", in.Src)
		}
	case is64:
		src = constReg(uint64(int64(in.Imm)))
	default:
		src = constReg(uint64(uint32(in.Imm)))
	}
	if code == aluMOV {
		return v.mov(in, dst, src, is64)
	}
	if dst.t == tNotInit {
		return v.fail("R%d !read_ok", in.Dst)
	}
	if dst.isPtr() || src.isPtr() {
		return v.ptrALU(in, dst, src, is64)
	}
	if code == aluEND {
		*dst = scalarReg(v.endian(dst.scalar, in))
		v.fresh(dst)
		return nil
	}
	r := scalarReg(scalarOp(code, in.Off, dst.scalar, src.scalar, width))
	if (code == aluADD || code == aluSUB) && src.isConst() && dst.id != 0 {
		c := int64(src.umin)
		if !is64 {
			c = int64(int32(uint32(src.umin)))
		}
		if code == aluSUB {
			c = -c
		}
		// a 32-bit add that cannot wrap (alu32 code: w5 = w4; w5 += 2)
		// computes what the 64-bit one does
		exact := is64 || dst.umax <= math.MaxUint32 && (c >= 0 && dst.umax <= math.MaxUint32-uint64(c) || c < 0 && dst.umin >= uint64(-c))
		if exact && scalarLink(dst, c) {
			r.id, r.off = dst.id, dst.off+c
		}
	}
	v.fresh(&r)
	*dst = r
	return nil
}

// scalarLink reports whether x + c may stay linked to x's base. Links hold
// modulo 2^64, which is all propagate needs; offsets stay small. The
// filter's length is different: lenFact reads "len + off" as a plain
// integer, so the link is kept only when len + c cannot go below zero
// (len is at most 65535 and |c| < 2^31, so it cannot overflow).
func scalarLink(x *reg, c int64) bool {
	if c > math.MaxInt32 || c < math.MinInt32 {
		return false
	}
	off := x.off + c
	if off > math.MaxInt32 || off < math.MinInt32 {
		return false
	}
	if x.id == lenID {
		return x.smin+c >= 0 && x.umin <= 0xffff && x.umax <= 0xffff
	}
	return true
}

// mov handles MOV and MOVSX.
func (v *verifier) mov(in RawInsn, dst *reg, src reg, is64 bool) error {
	if in.Off != 0 { // movsx
		if src.t != tScalar {
			if !v.raw {
				return v.fail("R%d sign-extension of a pointer (%s) prohibited", in.Src, src.t)
			}
			src = unknown()
		}
		r := signExtend(src.scalar, int(in.Off))
		if !is64 {
			r = zext32(r)
		}
		*dst = scalarReg(r)
		if r == src.scalar && is64 {
			dst.id, dst.off = src.id, src.off // the value did not change
		}
		v.fresh(dst)
		return nil
	}
	if src.isPtr() && !is64 {
		if !v.raw {
			return v.fail("R%d partial copy of pointer (%s) prohibited", in.Src, src.t)
		}
		*dst = rangeReg(0, math.MaxUint32)
		v.fresh(dst)
		return nil
	}
	if is64 || src.t == tScalar && src.umax <= math.MaxUint32 {
		// the same value: copies share the link
		if src.t == tScalar && !src.isConst() && src.id == 0 {
			src.id = v.newID()
			if in.Op&srcX != 0 {
				v.st.cur().regs[in.Src].id = src.id
			}
		}
		*dst = src
		return nil
	}
	*dst = scalarReg(zext32(src.scalar))
	v.fresh(dst)
	return nil
}

// ptrALU handles ALU operations with a pointer operand. Only what keeps a
// pointer a pointer is allowed (64-bit add and subtract of scalars), and
// the difference of two pointers into one region; everything else would
// turn an address into a number a program could return or store, which is
// what Linux refuses unprivileged programs too.
func (v *verifier) ptrALU(in RawInsn, dst *reg, src reg, is64 bool) error {
	code := in.Op & 0xf0
	if v.raw {
		if dst.t == tPtrRaw && is64 {
			return nil // raw memory pointers stay raw whatever is done to them
		}
		r := unknown()
		if !is64 {
			r = rangeReg(0, math.MaxUint32)
		}
		v.fresh(&r)
		*dst = r
		return nil
	}
	if !is64 {
		return v.fail("R%d 32-bit pointer arithmetic prohibited", in.Dst)
	}
	isData := func(r reg) bool { return r.t == tPtrPacket && r.off == 0 && r.id == 0 && !r.hasVarOff() }
	isLen := func(r reg) bool { return r.t == tScalar && r.id == lenID && r.off == 0 }
	switch {
	case code == aluADD && isData(*dst) && isLen(src), code == aluADD && isLen(*dst) && isData(src):
		*dst = reg{t: tPtrPacketEnd} // data + len
		return nil
	case (code == aluADD || code == aluSUB) && dst.isPtr() && src.t == tScalar:
		r, err := v.ptrArith(*dst, src, code == aluSUB)
		if err != nil {
			return err
		}
		*dst = r
		return nil
	case code == aluADD && dst.t == tScalar && src.isPtr():
		r, err := v.ptrArith(src, *dst, false)
		if err != nil {
			return err
		}
		*dst = r
		return nil
	case code == aluSUB && dst.isPtr() && src.isPtr():
		if !sameRegion(*dst, src) {
			return v.fail("R%d subtraction of pointers into different memory (%s - %s) prohibited", in.Dst, dst.t, src.t)
		}
		r := unknown()
		if !dst.hasVarOff() && !src.hasVarOff() && dst.t == src.t {
			r = constReg(uint64(dst.off - src.off))
		}
		v.fresh(&r)
		*dst = r
		return nil
	}
	op := map[uint8]string{aluMUL: "*", aluDIV: "/", aluOR: "|", aluAND: "&", aluLSH: "<<", aluRSH: ">>",
		aluNEG: "neg", aluMOD: "%", aluXOR: "^", aluARSH: "s>>", aluEND: "byte swap", aluADD: "+", aluSUB: "-"}[code]
	return v.fail("R%d pointer arithmetic with %s operator prohibited (%s %s %s)", in.Dst, op, dst.t, op, src.t)
}

// sameRegion reports whether two pointers point into the same memory, so
// that their difference is an offset, not an address.
func sameRegion(a, b reg) bool {
	pkt := func(t regType) bool { return t == tPtrPacket || t == tPtrPacketEnd }
	switch {
	case pkt(a.t) && pkt(b.t):
		return true
	case a.t != b.t:
		return false
	case a.t == tPtrStack:
		return a.frame == b.frame
	case a.t == tPtrMapValue:
		return a.mapIdx == b.mapIdx && a.id == b.id
	case a.t == tPtrMem:
		return a.id == b.id
	}
	return a.t == tPtrCtx
}

func (v *verifier) fresh(r *reg) {
	if r.t == tScalar && !r.isConst() && r.id == 0 {
		r.id = v.newID()
	}
}

// endian computes a byte swap or a zero-extending cast (to little endian
// on this little-endian machine).
func (v *verifier) endian(a scalar, in RawInsn) scalar {
	w := int(in.Imm)
	isSwap := in.class() == classALU64 || in.Op&srcX != 0
	if a.isConst() {
		x := a.umin
		switch {
		case !isSwap && w == 16:
			x = uint64(uint16(x))
		case !isSwap && w == 32:
			x = uint64(uint32(x))
		case !isSwap:
		case w == 16:
			x = uint64(bits.ReverseBytes16(uint16(x)))
		case w == 32:
			x = uint64(bits.ReverseBytes32(uint32(x)))
		default:
			x = bits.ReverseBytes64(x)
		}
		return constScalar(x)
	}
	if !isSwap {
		return truncate(a, w)
	}
	if w == 64 {
		return unknownScalar()
	}
	return uRange(0, 1<<w-1)
}
