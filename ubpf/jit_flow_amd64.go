//go:build linux

package ubpf

// Pointers and constants the JIT can prove by itself
//
// A forward dataflow over the decoded program finds, before each
// instruction, which registers hold on every path a known constant (a
// map handle from LDDW, say), the packet's virtual base plus a constant
// (r1 of a filter at entry, copies of it, constants added to it; the data
// pointer of XDP), or r10 plus a constant (stack pointers).
//
//   - An access through a packet pointer has a known packet offset: its
//     check is one compare of that constant with the run's limit for the
//     access size, and the access uses rbp plus the constant.
//   - An access through a stack pointer inside the current frame is an
//     access through r10 (see the file comment of jit_amd64.go).
//   - A map lookup whose map is known is done inline (arrays) or exits
//     to Go with the map already resolved.
//
// Besides, a lower bound of the packet's length (slot pktMinSlot) holds on
// every path: an access at a known packet offset that completed (by the
// fast path or the generic one) proves the packet holds its bytes, and so
// does a branch on the length as the filter's entry set it (r2 and its
// copies, kind fLen) against a constant. An access at a known offset
// below that bound needs no check: the packet does not change length
// during a run (no helper resizes it).
//
// In programs without backward jumps, scalars also get unsigned ranges
// within [0, 1<<32) (byte, half and word loads, and with a mask, shifts
// and adds by constants, sums; joins take the hull), and so do packet
// pointers plus such scalars (fPktR). An access through such a pointer
// whose every offset lies in the part of the packet the length bound
// proved needs no check either. Each range also names the value it is
// (the instruction that made it) plus an exact constant, which copies and
// constant adds keep; a 64-bit unsigned compare of a named range with the
// length in r2 bounds on that way every value of the same name, and the
// packet pointers made from them, by the length (relBranch): an access
// through such a pointer that stays within that slack needs no check. (With loops, a join would widen a range
// once per round: there ranges are only kept where both paths agree.)
//
// This relies on nothing the verifier concluded: the facts follow from
// the instructions alone (after any call nothing is known of r0..r5:
// inline hash lookups zero r1..r5; a local call restores r6..r9 and r10;
// a callee starts knowing nothing).

const (
	fUnknown uint8 = iota
	fConst         // value = v
	fPkt           // value = packet virtual base + v
	fStack         // value = r10 + v
	fLen           // value = the packet's length + v
	fRange         // v <= value <= hi (unsigned), hi < 1<<32
	fPktR          // value = packet virtual base + x, v <= x <= hi < 1<<32
)

// pktMinSlot is the slot of flowState that holds no register (r10 lives
// in memory) but a bound: the packet is at least v bytes long (kind
// fUnknown, so that nothing takes it for a register's fact).
const pktMinSlot = 10

type fact struct {
	kind uint8
	v    int64
	hi   int64 // fRange, fPktR
	// fRange, fPktR in loop-free programs: id (not 0) names the value
	// (the packet offset, for fPktR) that instruction id-1 produced, and
	// this one is that value plus d, exactly; with rel, this value (the
	// offset) plus slack is at most the packet's length
	id    int32
	d     int64
	slack int64
	rel   bool
}

const rangeMax = 1<<32 - 1

// scalarRange: the bounds of a scalar known to lie in [0, rangeMax].
func scalarRange(f fact) (lo, hi int64, ok bool) { return bounds(f, fConst, fRange) }

// pktRange: the bounds of the packet offset of a packet pointer.
func pktRange(f fact) (lo, hi int64, ok bool) { return bounds(f, fPkt, fPktR) }

// bounds: f's value (exact kind) or range (ranged kind) within
// [0, rangeMax].
func bounds(f fact, exact, ranged uint8) (lo, hi int64, ok bool) {
	switch {
	case f.kind == exact && f.v >= 0 && f.v <= rangeMax:
		return f.v, f.v, true
	case f.kind == ranged:
		return f.v, f.hi, true
	}
	return 0, 0, false
}

// mkRange: kind (fRange or fPktR) over [lo, hi], or unknown when the
// bounds leave [0, rangeMax].
func mkRange(kind uint8, lo, hi int64) fact {
	if lo < 0 || hi > rangeMax || lo > hi {
		return fact{}
	}
	return fact{kind: kind, v: lo, hi: hi}
}

// hull joins two range facts of the same sort.
func hull(a, b fact) (fact, bool) {
	if alo, ahi, ok := scalarRange(a); ok {
		if blo, bhi, ok := scalarRange(b); ok {
			return mkRange(fRange, min(alo, blo), max(ahi, bhi)), true
		}
	}
	if alo, ahi, ok := pktRange(a); ok {
		if blo, bhi, ok := pktRange(b); ok {
			return mkRange(fPktR, min(alo, blo), max(ahi, bhi)), true
		}
	}
	return fact{}, false
}

type flowState [11]fact

// joinFacts joins the facts b of one more path into a. Ranges widen to
// their hull only when ranges is set (loop-free programs: a loop could
// widen them one step per round).
func joinFacts(a, b flowState, ranges bool) (flowState, bool) {
	changed := false
	if b[pktMinSlot].v < a[pktMinSlot].v {
		a[pktMinSlot].v = b[pktMinSlot].v
		changed = true
	}
	for i := range a[:pktMinSlot] {
		if a[i] != b[i] && a[i].kind != fUnknown {
			j, ok := hull(a[i], b[i])
			if !ok || !ranges {
				j = fact{}
			}
			if j != a[i] {
				a[i] = j
				changed = true
			}
		}
	}
	return a, changed
}

// pktFacts returns, per instruction, the facts that hold before it (nil
// entries: unreachable from the entry or a callee, never compiled anyway).
func pktFacts(p *Program, insns []insn) []*flowState {
	n := len(insns)
	in := make([]*flowState, n)
	var work []int
	ranges := true
	for pc := range insns {
		if charged(pc, &insns[pc]) {
			ranges = false // a loop (see loopJumps)
		}
	}
	push := func(pc int, s flowState) {
		if pc < 0 || pc >= n {
			return
		}
		if in[pc] == nil {
			c := s
			in[pc] = &c
			work = append(work, pc)
			return
		}
		if j, changed := joinFacts(*in[pc], s, ranges); changed {
			*in[pc] = j
			work = append(work, pc)
		}
	}
	var entry flowState
	if p.kind == KindFilter {
		entry[1] = fact{kind: fPkt}
		entry[2] = fact{kind: fLen}
	}
	push(0, entry)
	for pc := range insns {
		if insns[pc].op == opCallLocal {
			push(int(insns[pc].off), flowState{})
		}
	}
	for len(work) > 0 {
		pc := work[len(work)-1]
		work = work[:len(work)-1]
		s := *in[pc]
		ins := &insns[pc]
		next := pc + 1
		d := ins.dst & 15
		set := func(f fact) {
			if d < 10 {
				s[d] = f
			}
		}
		// fresh names a range the instruction makes (unless it keeps
		// the name pktPlus gave it)
		fresh := func(f fact) fact {
			if ranges && f.kind != fUnknown && f.id == 0 {
				f.id = int32(pc + 1)
			}
			return f
		}
		get := func(r uint8) fact {
			if r < 10 {
				return s[r]
			}
			return fact{}
		}
		switch ins.op {
		case opMov64I, opMov32I:
			set(fact{kind: fConst, v: int64(ins.imm)})
		case opLdImm64:
			set(fact{kind: fConst, v: int64(ins.imm)})
			next = pc + 2
		case opMov64R:
			switch {
			case ins.src < 10:
				set(s[ins.src])
			case ins.src == 10:
				set(fact{kind: fStack})
			default:
				set(fact{})
			}
		case opAdd64I, opSub64I:
			v := int64(ins.imm)
			if ins.op == opSub64I {
				v = -v
			}
			if d < 10 {
				s[d] = addConst(s[d], v)
			}
		case opAdd64R:
			if d < 10 && ins.src < 10 {
				a, b := s[d], s[ins.src]
				alo, ahi, aScalar := scalarRange(a)
				blo, bhi, bScalar := scalarRange(b)
				plo, phi, aPkt := pktRange(a)
				qlo, qhi, bPkt := pktRange(b)
				switch {
				case (a.kind == fRange || a.kind == fPktR) && b.kind == fConst:
					s[d] = addConst(a, b.v)
				case a.kind == fConst && (b.kind == fRange || b.kind == fPktR):
					s[d] = addConst(b, a.v)
				case a.kind != fUnknown && b.kind == fConst:
					s[d].v += b.v
				case a.kind == fConst && b.kind != fUnknown:
					s[d] = fact{kind: b.kind, v: a.v + b.v}
				case aScalar && bScalar:
					s[d] = fresh(mkRange(fRange, alo+blo, ahi+bhi))
				case aPkt && bScalar:
					s[d] = fresh(pktPlus(a, b, mkRange(fPktR, plo+blo, phi+bhi)))
				case aScalar && bPkt:
					s[d] = fresh(pktPlus(b, a, mkRange(fPktR, alo+qlo, ahi+qhi)))
				default:
					s[d] = fact{}
				}
			} else {
				set(fact{})
			}
		case opAnd64I:
			// within [0, the mask] when it is not negative, and never
			// above the value
			_, h, ok := scalarRange(get(d))
			if m := int64(ins.imm); m >= 0 && m <= rangeMax {
				if !ok || h > m {
					h = m
				}
				ok = true
			}
			if ok {
				set(fresh(mkRange(fRange, 0, h)))
			} else {
				set(fact{})
			}
		case opLsh64I, opRsh64I:
			k := ins.imm & 63
			if lo, hi, ok := scalarRange(get(d)); ok && k < 32 {
				if ins.op == opLsh64I {
					set(fresh(mkRange(fRange, lo<<k, hi<<k)))
				} else {
					set(fresh(mkRange(fRange, lo>>k, hi>>k)))
				}
			} else {
				set(fact{})
			}
		case opLdPktData:
			set(fact{kind: fPkt})
		case opJa:
			push(int(ins.off), s)
			continue
		case opExit:
			continue
		case opCall, opCallx:
			// r1..r5 are clobbered (the verifier lets nothing read
			// them after a call; inline hash lookups zero them)
			for r := 0; r <= 5; r++ {
				s[r] = fact{}
			}
		case opCallLocal:
			for r := 0; r <= 5; r++ {
				s[r] = fact{}
			}
		case opAtomic32, opAtomic64:
			if ins.imm == atomicCMPXCHG {
				s[0] = fact{}
			} else if ins.imm&atomicFETCH != 0 && ins.src < 10 {
				s[ins.src] = fact{}
			}
		case opLdAbsB, opLdAbsH, opLdAbsW, opLdIndB, opLdIndH, opLdIndW:
			s[0] = fact{}
		case opStB, opStH, opStW, opStDW, opStxB, opStxH, opStxW, opStxDW:
			s.accessed(ins.dst, ins.off, ldxSize[ins.op])
		default:
			if ins.op >= opLdxB && ins.op <= opLdxSW {
				s.accessed(ins.src, ins.off, ldxSize[ins.op])
				switch ins.op { // zero-extended
				case opLdxB:
					set(fresh(mkRange(fRange, 0, 0xff)))
				case opLdxH:
					set(fresh(mkRange(fRange, 0, 0xffff)))
				case opLdxW:
					set(fresh(mkRange(fRange, 0, rangeMax)))
				default:
					set(fact{})
				}
				break
			}
			if isJumpOp(ins.op) {
				taken := s
				lenBranch(ins, &taken, &s)
				if ranges {
					relBranch(ins, &taken, &s)
				}
				push(int(ins.off), taken)
			} else {
				set(fact{}) // every other op writes dst with something else
			}
		}
		push(next, s)
	}
	return in
}

// accessed records that an access of size bytes at base+off completed:
// when base holds a known packet offset, the packet holds those bytes.
func (s *flowState) accessed(base uint8, off int32, size int) {
	if base >= 10 || s[base].kind != fPkt {
		return
	}
	if o := s[base].v + int64(off); o >= 0 && o < 1<<31 {
		s[pktMinSlot].v = max(s[pktMinSlot].v, o+int64(size))
	}
}

// lenBranch refines the length bound on both ways of a conditional jump
// that compares (64 bits, unsigned) the packet's length, as the entry set
// it, with a constant: an immediate, or a register known to hold one, on
// either side.
func lenBranch(ins *insn, taken, fall *flowState) {
	isLen := func(r uint8) bool { return r < 10 && fall[r] == fact{kind: fLen} }
	isConst := func(r uint8) bool { return r < 10 && fall[r].kind == fConst }
	op, k := ins.op, int64(0)
	switch {
	case !regForm[op] && isLen(ins.dst): // len op imm
		k = int64(ins.imm)
	case regForm[op] && isLen(ins.dst) && isConst(ins.src): // len op k
		op, k = op-1, fall[ins.src].v
	case regForm[op] && isConst(ins.dst) && isLen(ins.src): // k op len: len op' k
		op, k = lenMirror[op-1], fall[ins.dst].v
	default:
		return
	}
	if k < 0 || k > 1<<24 {
		return
	}
	raise := func(s *flowState, min int64) { s[pktMinSlot].v = max(s[pktMinSlot].v, min) }
	switch op {
	case opJlt64I, opJne64I: // not taken: len >= k, len == k
		raise(fall, k)
	case opJle64I:
		raise(fall, k+1)
	case opJge64I, opJeq64I:
		raise(taken, k)
	case opJgt64I:
		raise(taken, k+1)
	}
}

// lenMirror: the jump of len op' k for k op len (64-bit, immediate form).
var lenMirror = map[uint8]uint8{
	opJgt64I: opJlt64I, opJge64I: opJle64I, opJlt64I: opJgt64I, opJle64I: opJge64I,
	opJeq64I: opJeq64I, opJne64I: opJne64I,
}

// addConst: f plus the constant c (wrapping for exact facts; ranges must
// stay in [0, rangeMax]).
func addConst(f fact, c int64) fact {
	switch f.kind {
	case fUnknown:
		return f
	case fRange, fPktR:
		g := mkRange(f.kind, f.v+c, f.hi+c)
		if g.kind != fUnknown {
			g.id, g.d, g.slack, g.rel = f.id, f.d+c, f.slack-c, f.rel
		}
		return g
	}
	f.v += c
	return f
}

// pktPlus: the packet pointer p (an exact offset) plus the scalar x, in
// range r: the offset is x's value plus p's, so it keeps x's name and
// relation to the length.
func pktPlus(p, x, r fact) fact {
	if r.kind == fUnknown || p.kind != fPkt || x.kind != fRange || x.id == 0 {
		return r
	}
	r.id, r.d, r.slack, r.rel = x.id, x.d+p.v, x.slack-p.v, x.rel
	return r
}

// relBranch: a conditional jump that compares (64 bits, unsigned) a
// named range with the packet's length, as the entry set it, bounds on
// the way where it is at most the length every value of the same name:
// x + (dx - d) + plus <= len for each y = x's value + d.
func relBranch(ins *insn, taken, fall *flowState) {
	if !regForm[ins.op] || ins.dst >= 10 || ins.src >= 10 {
		return
	}
	isLen := func(r uint8) bool { return fall[r] == fact{kind: fLen} }
	var x uint8 // the range's register
	var to *flowState
	plus := int64(0)
	switch {
	case isLen(ins.src): // x op len
		x = ins.dst
		switch ins.op {
		case opJgt64R: // not taken: x <= len
			to = fall
		case opJle64R:
			to = taken
		case opJge64R: // not taken: x < len
			to, plus = fall, 1
		case opJlt64R:
			to, plus = taken, 1
		}
	case isLen(ins.dst): // len op x
		x = ins.src
		switch ins.op {
		case opJlt64R: // not taken: len >= x
			to = fall
		case opJge64R:
			to = taken
		case opJle64R: // not taken: len > x
			to, plus = fall, 1
		case opJgt64R:
			to, plus = taken, 1
		}
	}
	if to == nil {
		return
	}
	fx := to[x]
	if fx.kind != fRange || fx.id == 0 {
		return
	}
	for r := range to[:pktMinSlot] {
		f := &to[r]
		if (f.kind == fRange || f.kind == fPktR) && f.id == fx.id {
			if sl := fx.d - f.d + plus; !f.rel || sl > f.slack {
				f.slack, f.rel = sl, true
			}
		}
	}
}
