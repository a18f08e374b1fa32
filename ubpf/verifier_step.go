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
		if sizeBytes(in.Op) < 8 {
			c = unknown()
		}
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
		val := src
		if size < 8 {
			val = unknown()
		}
		_, err := v.access(st, dst, int64(in.Off), size, true, &val)
		return pc + 1, 0, nil, false, err
	case classLD:
		if in.isLDDW() {
			nx := v.insns[pc+1]
			switch in.Src {
			case PseudoImm64:
				f.regs[in.Dst] = constReg(uint64(uint32(in.Imm)) | uint64(uint32(nx.Imm))<<32)
			case PseudoMapFD, PseudoMapIdx:
				f.regs[in.Dst] = reg{t: tConstMap, mapIdx: in.Imm}
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
	if _, err := v.access(st, dst, int64(in.Off), size, false, nil); err != nil {
		return err
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
			v.stackWrite(fr, lo, hi, size, val)
			return reg{}, nil
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
		if ptr.smin != ptr.smax {
			return reg{}, v.fail("variable ctx access")
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

func (v *verifier) stackWrite(fr *frameState, lo, hi int64, size int, val *reg) {
	exact := lo == hi
	if exact && size == 8 && lo%8 == 0 && val != nil && (val.t != tScalar || val.isConst() || val.id != 0) {
		i := int(lo + StackFrameSize)
		for k := 0; k < 8; k++ {
			fr.stack[i+k] = sSpill
		}
		if fr.spills == nil {
			fr.spills = map[int]reg{}
		}
		fr.spills[i/8] = *val
		return
	}
	for a := lo; a < hi+int64(size); a++ {
		i := int(a + StackFrameSize)
		// a partial write destroys any spill it touches
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
}

func (v *verifier) stackRead(fr *frameState, lo, hi int64, size int) (reg, error) {
	for a := lo; a < hi+int64(size); a++ {
		if fr.stack[int(a+StackFrameSize)] == sInvalid {
			return reg{}, v.fail("invalid read from stack off %d+%d size %d (uninitialised)", lo, a-lo, size)
		}
	}
	if lo == hi {
		i := int(lo + StackFrameSize)
		if fr.stack[i] == sSpill {
			s := fr.spills[i/8]
			if size == 8 && lo%8 == 0 {
				return s, nil
			}
			if s.isConst() {
				shift := uint(i%8) * 8
				val := s.umin >> shift
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

// ptrArith handles ADD/SUB between a pointer and a scalar (64-bit only).
func (v *verifier) ptrArith(ptr, sc reg, sub bool) (reg, error) {
	switch ptr.t {
	case tPtrPacketEnd, tConstMap, tPtrMapValueOrNull, tPtrMemOrNull:
		return reg{}, v.fail("pointer arithmetic on %s prohibited", ptr.t)
	case tPtrCtx:
		if !sc.isConst() {
			return reg{}, v.fail("variable ctx pointer arithmetic prohibited")
		}
	}
	if sc.isConst() {
		c := int64(sc.umin)
		if sub {
			c = -c
		}
		if c > 1<<29 || c < -(1<<29) {
			if ptr.t == tPtrRaw {
				return ptr, nil
			}
			return reg{}, v.fail("pointer arithmetic with too large constant %d", c)
		}
		ptr.off += c
		return ptr, nil
	}
	if ptr.t == tPtrRaw {
		return ptr, nil
	}
	if sc.smin < -(1<<29) || sc.smax > 1<<29 {
		return reg{}, v.fail("math between %s pointer and register with unbounded min value is not allowed", ptr.t)
	}
	if sub {
		ptr.smin, ptr.smax = ptr.smin-sc.smax, ptr.smax-sc.smin
		ptr.id = v.newID()
	} else if ptr.t == tPtrPacket && ptr.id == 0 && ptr.smin == 0 && ptr.smax == 0 && sc.id != 0 {
		// data + x: the variable part is x's base, x's offset is fixed
		ptr.id = sc.id
		ptr.off += sc.off
		ptr.smin, ptr.smax = sc.smin-sc.off, sc.smax-sc.off
	} else {
		ptr.smin, ptr.smax = ptr.smin+sc.smin, ptr.smax+sc.smax
		ptr.id = v.newID()
	}
	ptr.umin, ptr.umax = 0, math.MaxUint64
	if ptr.smin >= 0 {
		ptr.umin, ptr.umax = uint64(ptr.smin), uint64(ptr.smax)
	}
	if ptr.t == tPtrPacket && (ptr.smin < 0 || ptr.smax > 0xffff) {
		return reg{}, v.fail("packet pointer offset range [%d,%d] not within [0,65535]", ptr.smin, ptr.smax)
	}
	return ptr, nil
}

func (v *verifier) alu(st *vstate, in RawInsn) error {
	f := st.cur()
	is64 := in.class() == classALU64
	code := in.Op & 0xf0
	dst := &f.regs[in.Dst]
	var src reg
	if code == aluEND || code == aluNEG {
		// unary
	} else if in.Op&srcX != 0 {
		src = f.regs[in.Src]
		if src.t == tNotInit {
			return v.fail("R%d !read_ok", in.Src)
		}
	} else if is64 {
		src = constReg(uint64(int64(in.Imm)))
	} else {
		src = constReg(uint64(uint32(in.Imm)))
	}
	if code == aluMOV {
		if in.Off != 0 { // movsx
			if src.t != tScalar && !v.raw {
				return v.fail("R%d sign-extension of a pointer", in.Src)
			}
			var r reg
			switch in.Off {
			case 8:
				r = signedRange(math.MinInt8, math.MaxInt8)
				if src.t == tScalar && src.smin >= math.MinInt8 && src.smax <= math.MaxInt8 {
					r = signedRange(src.smin, src.smax)
				}
			case 16:
				r = signedRange(math.MinInt16, math.MaxInt16)
				if src.t == tScalar && src.smin >= math.MinInt16 && src.smax <= math.MaxInt16 {
					r = signedRange(src.smin, src.smax)
				}
			default:
				r = signedRange(math.MinInt32, math.MaxInt32)
				if src.t == tScalar && src.smin >= math.MinInt32 && src.smax <= math.MaxInt32 {
					r = signedRange(src.smin, src.smax)
				}
			}
			if !is64 {
				r = trunc32(r)
			}
			v.fresh(&r)
			*dst = r
			return nil
		}
		if is64 {
			if src.t == tScalar && !src.isConst() && src.id == 0 {
				src.id = v.newID()
				if in.Op&srcX != 0 {
					f.regs[in.Src].id = src.id
				}
			}
			*dst = src
			return nil
		}
		if src.t == tScalar && src.umax <= math.MaxUint32 {
			*dst = src
			return nil
		}
		r := trunc32(src)
		v.fresh(&r)
		*dst = r
		return nil
	}
	if dst.t == tNotInit {
		return v.fail("R%d !read_ok", in.Dst)
	}
	// pointer arithmetic
	if dst.isPtr() || src.isPtr() {
		if dst.t == tPtrPacket && src.t == tScalar && src.id == lenID && src.off == 0 && is64 && code == aluADD && dst.off == 0 && dst.id == 0 && dst.smin == 0 && dst.smax == 0 {
			*dst = reg{t: tPtrPacketEnd} // data + len
			return nil
		}
		if is64 && (code == aluADD || code == aluSUB) {
			switch {
			case dst.isPtr() && src.t == tScalar:
				r, err := v.ptrArith(*dst, src, code == aluSUB)
				if err != nil {
					return err
				}
				*dst = r
				return nil
			case code == aluADD && dst.t == tScalar && src.isPtr():
				if src.t == tPtrPacket && dst.id == lenID && dst.off == 0 && src.off == 0 && src.id == 0 && src.smin == 0 && src.smax == 0 {
					*dst = reg{t: tPtrPacketEnd}
					return nil
				}
				r, err := v.ptrArith(src, *dst, false)
				if err != nil {
					return err
				}
				*dst = r
				return nil
			case code == aluSUB && dst.isPtr() && src.isPtr():
				r := unknown()
				v.fresh(&r)
				*dst = r
				return nil
			}
		}
		if dst.t == tPtrRaw && v.raw && is64 {
			return nil // raw memory pointers stay raw whatever is done to them
		}
		// anything else turns pointers into unknown numbers
		r := unknown()
		if !is64 {
			r = rangeReg(0, math.MaxUint32)
		}
		v.fresh(&r)
		*dst = r
		return nil
	}
	r := v.scalarALU(code, in.Off, *dst, src, is64)
	*dst = r
	return nil
}

func (v *verifier) fresh(r *reg) {
	if r.t == tScalar && !r.isConst() && r.id == 0 {
		r.id = v.newID()
	}
}

func trunc32(r reg) reg {
	if r.t == tScalar && r.umax <= math.MaxUint32 {
		return r
	}
	if r.t == tScalar && r.isConst() {
		return constReg(uint64(uint32(r.umin)))
	}
	return rangeReg(0, math.MaxUint32)
}

// scalarALU computes the bounds of dst op src.
func (v *verifier) scalarALU(code uint8, off int16, a, b reg, is64 bool) reg {
	if !is64 {
		a, b = trunc32(a), trunc32(b)
		if off == 1 && (code == aluDIV || code == aluMOD) {
			// signed 32-bit: exact only for constants
			if a.isConst() && b.isConst() {
				x, y := int32(a.umin), int32(b.umin)
				var res int32
				switch {
				case code == aluDIV && y == 0:
					res = 0
				case code == aluDIV:
					res = x / y
				case y == 0:
					res = x
				default:
					res = x % y
				}
				return constReg(uint64(uint32(res)))
			}
			r := rangeReg(0, math.MaxUint32)
			v.fresh(&r)
			return r
		}
		if code == aluARSH {
			if a.isConst() && b.isConst() {
				return constReg(uint64(uint32(int32(a.umin) >> (b.umin & 31))))
			}
			r := rangeReg(0, math.MaxUint32)
			v.fresh(&r)
			return r
		}
		if code == aluNEG {
			if a.isConst() {
				return constReg(uint64(-uint32(a.umin)))
			}
			r := rangeReg(0, math.MaxUint32)
			v.fresh(&r)
			return r
		}
		if code == aluEND {
			return v.endian(a, false)
		}
		if code == aluLSH || code == aluRSH {
			b.umin, b.umax = b.umin&31, b.umax&31
			if !b.isConst() {
				b = rangeReg(0, 31)
			}
		}
		r := v.scalarALU(code, off, a, b, true)
		if r.umax > math.MaxUint32 || r.umin > r.umax {
			if r.isConst() {
				return constReg(uint64(uint32(r.umin)))
			}
			r = rangeReg(0, math.MaxUint32)
			v.fresh(&r)
			return r
		}
		if code == aluMOD && b.isConst() && b.umin == 0 {
			return a
		}
		r.smin, r.smax = int64(r.umin), int64(r.umax)
		return r
	}
	if a.isConst() && b.isConst() {
		return constReg(evalALU64(code, off, a.umin, b.umin))
	}
	var r reg
	switch code {
	case aluADD:
		r = unknown()
		if s, c := bits.Add64(a.umax, b.umax, 0); c == 0 {
			r.umin, r.umax = a.umin+b.umin, s
		}
		if lo, ok1 := addS(a.smin, b.smin); ok1 {
			if hi, ok2 := addS(a.smax, b.smax); ok2 {
				r.smin, r.smax = lo, hi
			}
		}
		r.sync()
		if b.isConst() && a.id != 0 {
			// keep the link to a's base when nothing can wrap
			c := int64(b.umin)
			_, carry := bits.Add64(a.umax, b.umin, 0)
			if a.id == lenID {
				if c >= 0 || a.umin >= uint64(-c) {
					r.id, r.off = a.id, a.off+c
				}
			} else if carry == 0 && a.umax < 1<<62 && c < 1<<30 && c > -(1<<30) && (c >= 0 || a.umin >= uint64(-c)) {
				r.id, r.off = a.id, a.off+c
			}
		}
	case aluSUB:
		r = unknown()
		if a.umin >= b.umax {
			r.umin, r.umax = a.umin-b.umax, a.umax-b.umin
		}
		if lo, ok1 := subS(a.smin, b.smax); ok1 {
			if hi, ok2 := subS(a.smax, b.smin); ok2 {
				r.smin, r.smax = lo, hi
			}
		}
		r.sync()
		if b.isConst() && a.id != 0 {
			c := -int64(b.umin)
			if a.id == lenID {
				if c >= 0 || a.umin >= uint64(-c) {
					r.id, r.off = a.id, a.off+c
				}
			} else if c < 1<<30 && c > -(1<<30) && a.umin >= b.umin && a.umax < 1<<62 {
				r.id, r.off = a.id, a.off+c
			}
		}
	case aluMUL:
		r = unknown()
		if hi, lo := bits.Mul64(a.umax, b.umax); hi == 0 {
			r.umin, r.umax = a.umin*b.umin, lo
		}
		r.sync()
	case aluDIV:
		if off == 1 {
			r = unknown()
			break
		}
		if b.isConst() {
			if b.umin == 0 {
				return constReg(0)
			}
			r = rangeReg(a.umin/b.umin, a.umax/b.umin)
		} else {
			r = rangeReg(0, a.umax)
		}
	case aluMOD:
		if off == 1 {
			r = unknown()
			if b.isConst() && b.umin != 0 {
				m := int64(b.umin)
				if m < 0 {
					m = -m
				}
				if m > 0 {
					r = signedRange(-(m - 1), m-1)
				}
			}
			break
		}
		if b.isConst() && b.umin == 0 {
			return a
		}
		hi := a.umax
		if b.umax != 0 && b.umax-1 < hi && b.umin != 0 {
			hi = b.umax - 1
		}
		r = rangeReg(0, hi)
	case aluAND:
		hi := min(a.umax, b.umax)
		if int64(a.umax) < 0 && int64(b.umax) < 0 {
			hi = math.MaxUint64
		}
		r = rangeReg(0, hi)
	case aluOR, aluXOR:
		m := a.umax | b.umax
		hi := uint64(math.MaxUint64)
		if m != math.MaxUint64 {
			hi = 1<<bits.Len64(m) - 1
		}
		lo := uint64(0)
		if code == aluOR {
			lo = max(a.umin, b.umin)
		}
		r = rangeReg(lo, hi)
	case aluLSH:
		if b.isConst() {
			s := b.umin & 63
			if a.umax <= math.MaxUint64>>s {
				r = rangeReg(a.umin<<s, a.umax<<s)
				break
			}
		}
		r = unknown()
	case aluRSH:
		if b.isConst() {
			s := b.umin & 63
			r = rangeReg(a.umin>>s, a.umax>>s)
		} else {
			r = rangeReg(0, a.umax)
		}
	case aluARSH:
		if b.isConst() {
			s := b.umin & 63
			r = signedRange(a.smin>>s, a.smax>>s)
		} else {
			r = signedRange(min(a.smin, 0), max(a.smax, 0))
		}
	case aluNEG:
		r = unknown()
		if a.smin != math.MinInt64 {
			r = signedRange(-a.smax, -a.smin)
		}
	case aluEND:
		return v.endian(a, true)
	default:
		r = unknown()
	}
	if !r.sync() {
		r = unknown()
	}
	v.fresh(&r)
	return r
}

func (v *verifier) endian(a reg, _ bool) reg {
	in := v.insns[v.pc]
	w := uint(in.Imm)
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
		return constReg(x)
	}
	var r reg
	switch {
	case !isSwap && w == 64:
		return a
	case w == 16:
		r = rangeReg(0, math.MaxUint16)
		if !isSwap && a.umax <= math.MaxUint16 {
			return a
		}
	case w == 32:
		r = rangeReg(0, math.MaxUint32)
		if !isSwap && a.umax <= math.MaxUint32 {
			return a
		}
	default:
		r = unknown()
	}
	v.fresh(&r)
	return r
}

func addS(a, b int64) (int64, bool) {
	s := a + b
	return s, (s > a) == (b > 0) || b == 0
}

func subS(a, b int64) (int64, bool) {
	s := a - b
	return s, (s < a) == (b > 0) || b == 0
}

func evalALU64(code uint8, off int16, x, y uint64) uint64 {
	switch code {
	case aluADD:
		return x + y
	case aluSUB:
		return x - y
	case aluMUL:
		return x * y
	case aluDIV:
		if y == 0 {
			return 0
		}
		if off == 1 {
			return uint64(int64(x) / int64(y))
		}
		return x / y
	case aluMOD:
		if y == 0 {
			return x
		}
		if off == 1 {
			return uint64(int64(x) % int64(y))
		}
		return x % y
	case aluOR:
		return x | y
	case aluAND:
		return x & y
	case aluXOR:
		return x ^ y
	case aluLSH:
		return x << (y & 63)
	case aluRSH:
		return x >> (y & 63)
	case aluARSH:
		return uint64(int64(x) >> (y & 63))
	case aluNEG:
		return -x
	}
	return 0
}
