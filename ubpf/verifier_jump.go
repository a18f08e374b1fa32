package ubpf

// Conditional jumps
//
// A comparison of two numbers narrows both (scalar.condHolds) on each side
// and a side whose narrowed facts are empty is not explored; the registers
// linked to a narrowed one follow (propagate). For filters, comparisons
// with the length argument prove packet bytes (lenFact); comparisons of
// packet pointers with the packet's end do too (ptrBranch). Comparisons
// that could leak an address are refused (checkCompare).

import (
	"math"
)

// negate returns the jump condition that holds when code does not.
func negate(code uint8) uint8 {
	switch code {
	case jmpJEQ:
		return jmpJNE
	case jmpJNE:
		return jmpJEQ
	case jmpJGT:
		return jmpJLE
	case jmpJLE:
		return jmpJGT
	case jmpJGE:
		return jmpJLT
	case jmpJLT:
		return jmpJGE
	case jmpJSGT:
		return jmpJSLE
	case jmpJSLE:
		return jmpJSGT
	case jmpJSGE:
		return jmpJSLT
	case jmpJSLT:
		return jmpJSGE
	}
	return 0xff // !JSET
}

// swapCond returns the condition with its operands exchanged.
func swapCond(code uint8) uint8 {
	switch code {
	case jmpJGT:
		return jmpJLT
	case jmpJLT:
		return jmpJGT
	case jmpJGE:
		return jmpJLE
	case jmpJLE:
		return jmpJGE
	case jmpJSGT:
		return jmpJSLT
	case jmpJSLT:
		return jmpJSGT
	case jmpJSGE:
		return jmpJSLE
	case jmpJSLE:
		return jmpJSGE
	}
	return code
}

// unsignedCond maps a signed comparison to its unsigned form.
func unsignedCond(code uint8) uint8 {
	switch code {
	case jmpJSGT:
		return jmpJGT
	case jmpJSGE:
		return jmpJGE
	case jmpJSLT:
		return jmpJLT
	case jmpJSLE:
		return jmpJLE
	}
	return code
}

func isSigned(code uint8) bool {
	switch code {
	case jmpJSGT, jmpJSGE, jmpJSLT, jmpJSLE:
		return true
	}
	return false
}

// operands returns the two operands of a conditional jump: dst, and src
// or the immediate (sign-extended to 64 bits, or as a 32-bit number for
// JMP32).
func operands(f *frameState, in RawInsn) (a, b reg, srcReg bool) {
	a = f.regs[in.Dst]
	switch {
	case in.Op&srcX != 0:
		return a, f.regs[in.Src], true
	case in.class() == classJMP32:
		return a, constReg(uint64(uint32(in.Imm))), false
	}
	return a, constReg(uint64(int64(in.Imm))), false
}

func jumpWidth(in RawInsn) int {
	if in.class() == classJMP32 {
		return 32
	}
	return 64
}

// branch computes the state where "dst code src" holds (taken=true) or
// not, and whether that is feasible. With clone false it narrows st in
// place (st is then garbage if the branch is infeasible).
func (v *verifier) branch(st *vstate, in RawInsn, taken bool, clone bool) (*vstate, bool) {
	code := in.Op & 0xf0
	if !taken {
		code = negate(code)
	}
	width := jumpWidth(in)
	a, b, srcReg := operands(st.cur(), in)
	if a.isPtr() || b.isPtr() {
		return v.ptrBranch(st, in, code, a, b, srcReg, clone)
	}
	na, nb := a, b
	if !condHolds(code, width, &na.scalar, &nb.scalar) {
		return nil, false
	}
	ns := st
	if clone {
		ns = st.clone()
	}
	nf := ns.cur()
	nf.regs[in.Dst] = na
	if !v.propagate(ns, na) {
		return nil, false
	}
	if srcReg {
		if in.Src == in.Dst {
			if !nf.regs[in.Dst].scalar.intersect(&nb.scalar) {
				return nil, false
			}
		} else {
			nf.regs[in.Src] = nb
		}
		if !v.propagate(ns, nf.regs[in.Src]) {
			return nil, false
		}
	}
	if v.kind == KindFilter {
		v.lenFact(ns, code, a, b, width == 32)
		// whatever narrowed the length (an equality, a "!=" at a bound)
		// proves its lower bound's worth of packet from data + 0
		for _, r := range []reg{nf.regs[in.Dst], nb} {
			if r.t == tScalar && r.id == lenID && int64(r.umin)-r.off > 0 && r.umax <= 0xffff {
				ns.setPktRange(0, int64(r.umin)-r.off)
			}
		}
	}
	return ns, true
}

// propagate narrows every scalar linked to r (same id: x = r + (x.off -
// r.off) modulo 2^64) to what r's bounds imply; false if some linked
// register then admits no value (the branch cannot be taken).
func (v *verifier) propagate(st *vstate, r reg) bool {
	if r.t != tScalar || r.id == 0 {
		return true
	}
	ok := true
	st.forEachReg(func(x *reg) {
		if x.t != tScalar || x.id != r.id || !ok {
			return
		}
		shifted := r.scalar
		if d := x.off - r.off; d != 0 {
			shifted = scalarOp(aluADD, 0, r.scalar, constScalar(uint64(d)), 64)
		}
		ok = x.scalar.intersect(&shifted)
	})
	return ok
}

// lenFact records packet bounds proven by comparing a scalar with the
// filter's length argument. a and b are the operands' full 64-bit values
// before the comparison. A signed or 32-bit (JMP32) comparison proves the
// same as the unsigned 64-bit one when both values are within the range
// where the views agree: [0, 2^63) for signed, [0, 2^32) for 32-bit
// unsigned and [0, 2^31) for 32-bit signed.
func (v *verifier) lenFact(st *vstate, code uint8, a, b reg, is32 bool) {
	if b.id == lenID && a.id != lenID {
		a, b = b, a
		code = swapCond(code)
	}
	if a.id != lenID || b.id == lenID || a.t != tScalar || b.t != tScalar {
		return
	}
	lim := uint64(math.MaxUint64)
	switch {
	case is32 && isSigned(code):
		lim = math.MaxInt32
	case is32:
		lim = math.MaxUint32
	case isSigned(code):
		lim = math.MaxInt64
	}
	if a.umax > lim || b.umax > lim {
		return
	}
	code = unsignedCond(code)
	// holds: len+a.off  code  x, with x = base(b.id) + b.off (or a constant)
	var xid uint32
	var xoff int64
	switch {
	case b.isConst():
		if b.umin > 1<<20 {
			return
		}
		xid, xoff = 0, int64(b.umin)
	case b.id != 0:
		xid, xoff = b.id, b.off
	default:
		return
	}
	var rng int64
	switch code {
	case jmpJGE: // len + e >= x  ->  x - e <= len
		rng = xoff - a.off
	case jmpJGT: // len + e > x  ->  x - e + 1 <= len
		rng = xoff - a.off + 1
	default:
		return
	}
	if rng > 0 {
		st.setPktRange(xid, rng)
	}
}

// ptrBranch handles comparisons involving pointers.
func (v *verifier) ptrBranch(st *vstate, in RawInsn, code uint8, a, b reg, srcReg bool, clone bool) (*vstate, bool) {
	ns := st
	if clone {
		ns = st.clone()
	}
	is32 := in.class() == classJMP32
	// null checks
	nullable := func(r reg) bool { return r.t == tPtrMapValueOrNull || r.t == tPtrMemOrNull }
	isZero := func(r reg) bool { return r.t == tScalar && r.isConst() && r.umin == 0 }
	if !is32 && (code == jmpJEQ || code == jmpJNE) {
		var p reg
		switch {
		case nullable(a) && isZero(b):
			p = a
		case nullable(b) && isZero(a):
			p = b
		}
		if p.t != tNotInit {
			isNull := code == jmpJEQ
			ns.forEachReg(func(x *reg) {
				if x.t == p.t && x.id == p.id {
					if isNull {
						*x = constReg(0)
					} else if x.t == tPtrMapValueOrNull {
						x.t = tPtrMapValue
					} else {
						x.t = tPtrMem
					}
				}
			})
			if isNull && p.t == tPtrMemOrNull {
				ns.dropRef(p.id)
			}
			return ns, true
		}
		// a non-null pointer is never equal to 0
		if (a.isPtr() && !nullable(a) && a.t != tPtrRaw && isZero(b)) || (b.isPtr() && !nullable(b) && b.t != tPtrRaw && isZero(a)) {
			return ns, code == jmpJNE
		}
	}
	// packet pointer against packet end
	if b.t == tPtrPacket && a.t == tPtrPacketEnd {
		a, b = b, a
		code = swapCond(code)
	}
	if a.t == tPtrPacket && b.t == tPtrPacketEnd {
		// Both are addresses regionPacket<<32 | offset with offsets below
		// 2^32 (a packet pointer's fixed and variable parts are bounded by
		// 2^29 each, checked below for 32-bit), so both are below 2^63: a
		// signed comparison is the unsigned one. Their high halves are the
		// same, so a 32-bit unsigned comparison is too when a's offset is
		// in [0, 2^32); a 32-bit signed one would need the packet length
		// below 2^31, which is not tracked, so it proves nothing.
		if is32 && (isSigned(code) || a.off+a.smin < 0 || a.off+a.smax >= 1<<32) {
			return ns, true
		}
		code = unsignedCond(code)
		var rng int64
		switch code {
		case jmpJLE: // a <= end
			rng = a.off
		case jmpJLT: // a < end
			rng = a.off + 1
		default:
			return ns, true
		}
		if a.smin >= 0 && rng > 0 {
			ns.setPktRange(a.id, rng)
		}
	}
	return ns, true
}

// jump interprets JMP/JMP32 instructions.
func (v *verifier) jump(st *vstate, pc int, in RawInsn) (next, other int, otherSt *vstate, done bool, err error) {
	cls := in.class()
	code := in.Op & 0xf0
	f := st.cur()
	switch code {
	case jmpJA:
		if cls == classJMP32 {
			return pc + 1 + int(in.Imm), 0, nil, false, nil
		}
		return pc + 1 + int(in.Off), 0, nil, false, nil
	case jmpEXIT:
		return v.exit(st)
	case jmpCALL:
		if in.Op&srcX != 0 {
			if f.regs[in.Dst].t == tNotInit {
				return 0, 0, nil, false, v.fail("R%d !read_ok", in.Dst)
			}
			v.clobber(f)
			return pc + 1, 0, nil, false, nil
		}
		if in.Src == callLocal {
			return v.callLocal(st, pc, in)
		}
		if in.Imm == helperLoop && v.helpers.lookup(helperLoop) != nil {
			return v.callLoop(st, pc)
		}
		return pc + 1, 0, nil, false, v.callHelper(st, in)
	}
	if f.regs[in.Dst].t == tNotInit {
		return 0, 0, nil, false, v.fail("R%d !read_ok", in.Dst)
	}
	if in.Op&srcX != 0 && f.regs[in.Src].t == tNotInit {
		return 0, 0, nil, false, v.fail("R%d !read_ok", in.Src)
	}
	target := pc + 1 + int(in.Off)
	a, b, _ := operands(f, in)
	if err := v.checkCompare(in, a, b); err != nil {
		return 0, 0, nil, false, err
	}
	tst, tok := v.branch(st, in, true, true)
	if !tok {
		// only the fall-through can happen: narrow st in place
		if _, fok := v.branch(st, in, false, false); !fok {
			return 0, 0, nil, true, nil // neither side: a dead path
		}
		return pc + 1, 0, nil, false, nil
	}
	if _, fok := v.branch(st, in, false, false); !fok {
		*st = *tst // st was narrowed in part: the taken side replaces it
		return target, 0, nil, false, nil
	}
	return pc + 1, target, tst, false, nil
}

// checkCompare refuses comparisons that would let a program learn an
// address bit by bit: a pointer may be compared with 0 (a null check, or
// a pointer known not to be null), a packet pointer with another packet
// pointer or the packet's end, and a pointer with another pointer into the
// same memory. JMP32 sees only half an address, so it is refused on
// pointers except packet pointers against the end, whose offsets fit in 32
// bits. Raw programs may do anything.
func (v *verifier) checkCompare(in RawInsn, a, b reg) error {
	if v.raw || !a.isPtr() && !b.isPtr() {
		return nil
	}
	pkt := func(r reg) bool { return r.t == tPtrPacket || r.t == tPtrPacketEnd }
	isZero := func(r reg) bool { return r.t == tScalar && r.isConst() && r.umin == 0 }
	code := in.Op & 0xf0
	switch {
	case pkt(a) && pkt(b):
		return nil
	case in.class() == classJMP32:
	case (code == jmpJEQ || code == jmpJNE) && (a.isPtr() && isZero(b) || b.isPtr() && isZero(a)):
		return nil
	case a.isPtr() && b.isPtr() && sameRegion(a, b):
		return nil
	}
	return v.fail("R%d pointer comparison prohibited (%s with %s)", in.Dst, a.t, b.t)
}
