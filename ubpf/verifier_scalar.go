package ubpf

// Scalar bounds
//
// The verifier describes what a register may hold on a path by five facts
// at once, each of which contains every value the register can have there:
//
//	tn                the known bits: a bit clear in tn.m is known to be tn.v's
//	[umin, umax]      the value as an unsigned 64-bit number
//	[smin, smax]      the value as a signed 64-bit number
//	[u32min, u32max]  its low 32 bits as an unsigned number
//	[s32min, s32max]  its low 32 bits as a signed number
//
// The value is in the intersection. Every operation here computes each fact
// of its result so that it holds for op(x, y) for every x and y the operands
// admit (soundness); the facts are then tightened against each other by
// sync, in the manner of Linux's reg_bounds_sync. What may flow between the
// 32-bit and the 64-bit facts is the subtle part:
//
//   - 64 to 32: when umin and umax have the same upper half, the low halves
//     of all values lie in [uint32(umin), uint32(umax)]; likewise for the
//     signed range; when the value is in [MinInt32, MaxInt32] it is the sign
//     extension of its low half, so [smin, smax] bounds the low half as a
//     signed 32-bit number.
//   - 32 to 64: only when the 64-bit value is known to be the zero extension
//     (umax <= MaxUint32) or the sign extension (smin >= MinInt32 and smax <=
//     MaxInt32) of its low half do the 32-bit ranges bound it; otherwise a
//     32-bit range moves the 64-bit bounds only to the nearest values whose
//     low half fits.
//
// A 32-bit comparison (JMP32) therefore refines the 32-bit facts and never
// asserts anything about the upper half: that is the bug a constant above
// MaxInt32 compared with "w3 s< 0" used to exploit.
//
// An empty intersection means the path cannot happen; sync reports it, and
// the branch that produced it is not explored.

import (
	"fmt"
	"math"
	"math/bits"
)

// tnum is a partially known number: the bits set in m are unknown, the
// others are those of v (v&m == 0).
type tnum struct{ v, m uint64 }

var tnUnknown = tnum{0, math.MaxUint64}

func tnConst(x uint64) tnum { return tnum{x, 0} }

// tnRange is the smallest tnum holding every number in [lo, hi].
func tnRange(lo, hi uint64) tnum {
	chi := lo ^ hi
	n := bits.Len64(chi)
	if n > 63 {
		return tnUnknown
	}
	d := uint64(1)<<n - 1
	return tnum{lo &^ d, d}
}

func (a tnum) isConst() bool          { return a.m == 0 }
func (a tnum) contains(x uint64) bool { return x&^a.m == a.v }

// within reports whether every number a holds is held by b.
func (a tnum) within(b tnum) bool { return a.m&^b.m == 0 && (a.v^b.v)&^b.m == 0 }

func (a tnum) add(b tnum) tnum {
	sm, sv := a.m+b.m, a.v+b.v
	chi := (sm + sv) ^ sv
	mu := chi | a.m | b.m
	return tnum{sv &^ mu, mu}
}

func (a tnum) sub(b tnum) tnum {
	dv := a.v - b.v
	chi := (dv + a.m) ^ (dv - b.m)
	mu := chi | a.m | b.m
	return tnum{dv &^ mu, mu}
}

func (a tnum) and(b tnum) tnum {
	v := a.v & b.v
	return tnum{v, (a.v | a.m) & (b.v | b.m) &^ v}
}

func (a tnum) or(b tnum) tnum {
	v := a.v | b.v
	return tnum{v, (a.m | b.m) &^ v}
}

func (a tnum) xor(b tnum) tnum {
	mu := a.m | b.m
	return tnum{(a.v ^ b.v) &^ mu, mu}
}

// mul multiplies bit by bit: every bit of a that may be set adds b shifted,
// known or unknown depending on that bit.
func (a tnum) mul(b tnum) tnum {
	acc := tnConst(a.v * b.v)
	part := tnum{0, 0}
	for a.v|a.m != 0 {
		switch {
		case a.v&1 != 0:
			part = part.add(tnum{0, b.m})
		case a.m&1 != 0:
			part = part.add(tnum{0, b.v | b.m})
		}
		a = tnum{a.v >> 1, a.m >> 1}
		b = tnum{b.v << 1, b.m << 1}
	}
	return acc.add(part)
}

func (a tnum) lsh(k uint) tnum { return tnum{a.v << k, a.m << k} }
func (a tnum) rsh(k uint) tnum { return tnum{a.v >> k, a.m >> k} }

// arsh shifts right arithmetically as a width-bit number (32 or 64) and
// zero-extends the 32-bit result.
func (a tnum) arsh(k uint, width int) tnum {
	if width == 32 {
		return tnum{uint64(uint32(int32(uint32(a.v)) >> k)), uint64(uint32(int32(uint32(a.m)) >> k))}
	}
	return tnum{uint64(int64(a.v) >> k), uint64(int64(a.m) >> k)}
}

// intersect is the tnum holding what both hold; ok is false when a known
// bit differs (nothing is held by both).
func (a tnum) intersect(b tnum) (tnum, bool) {
	if (a.v^b.v)&^(a.m|b.m) != 0 {
		return tnum{}, false
	}
	v := a.v | b.v
	mu := a.m & b.m
	return tnum{v &^ mu, mu}, true
}

// low32 is the low half; upper bits known zero.
func (a tnum) low32() tnum { return tnum{a.v & math.MaxUint32, a.m & math.MaxUint32} }

// withLow32 replaces a's low half by l's.
func (a tnum) withLow32(l tnum) tnum {
	const hi = ^uint64(math.MaxUint32)
	return tnum{a.v&hi | l.v&math.MaxUint32, a.m&hi | l.m&math.MaxUint32}
}

func (a tnum) String() string {
	if a.m == 0 {
		return fmt.Sprintf("%#x", a.v)
	}
	return fmt.Sprintf("(%#x; %#x)", a.v, a.m)
}

// scalar is what a scalar register (or a pointer's variable offset) may
// hold; see the file comment.
type scalar struct {
	tn             tnum
	umin, umax     uint64
	smin, smax     int64
	u32min, u32max uint32
	s32min, s32max int32
}

func unknownScalar() scalar {
	return scalar{tn: tnUnknown, umax: math.MaxUint64, smin: math.MinInt64, smax: math.MaxInt64,
		u32max: math.MaxUint32, s32min: math.MinInt32, s32max: math.MaxInt32}
}

func constScalar(x uint64) scalar {
	return scalar{tn: tnConst(x), umin: x, umax: x, smin: int64(x), smax: int64(x),
		u32min: uint32(x), u32max: uint32(x), s32min: int32(x), s32max: int32(x)}
}

// uRange is [lo, hi] unsigned, everything else derived.
func uRange(lo, hi uint64) scalar {
	s := unknownScalar()
	s.umin, s.umax = lo, hi
	s.sync()
	return s
}

// sRange is [lo, hi] signed, everything else derived.
func sRange(lo, hi int64) scalar {
	s := unknownScalar()
	s.smin, s.smax = lo, hi
	s.sync()
	return s
}

// zext32 is the 64-bit value of a 32-bit result: its low half as
// described by l (only the 32-bit facts and tn's low half are read), the
// upper half zero.
func zext32(l scalar) scalar {
	s := scalar{tn: l.tn.low32(), umin: uint64(l.u32min), umax: uint64(l.u32max),
		u32min: l.u32min, u32max: l.u32max, s32min: l.s32min, s32max: l.s32max}
	s.smin, s.smax = int64(s.umin), int64(s.umax)
	s.sync()
	return s
}

func (s *scalar) isConst() bool { return s.umin == s.umax }

// isUnknown reports whether s admits every 64-bit value.
func (s *scalar) isUnknown() bool {
	return s.umin == 0 && s.umax == math.MaxUint64 && s.smin == math.MinInt64 && s.smax == math.MaxInt64
}

// contains reports whether x satisfies every fact of s.
func (s *scalar) contains(x uint64) bool {
	return s.tn.contains(x) && x >= s.umin && x <= s.umax && int64(x) >= s.smin && int64(x) <= s.smax &&
		uint32(x) >= s.u32min && uint32(x) <= s.u32max && int32(x) >= s.s32min && int32(x) <= s.s32max
}

// within reports whether every value s admits is admitted by o (for state
// pruning: o, explored and safe, covers s).
func (s *scalar) within(o *scalar) bool {
	return s.umin >= o.umin && s.umax <= o.umax && s.smin >= o.smin && s.smax <= o.smax &&
		s.u32min >= o.u32min && s.u32max <= o.u32max && s.s32min >= o.s32min && s.s32max <= o.s32max &&
		s.tn.within(o.tn)
}

// intersect narrows s to the values o also admits; false if none.
func (s *scalar) intersect(o *scalar) bool {
	tn, ok := s.tn.intersect(o.tn)
	if !ok {
		return false
	}
	s.tn = tn
	s.umin, s.umax = max(s.umin, o.umin), min(s.umax, o.umax)
	s.smin, s.smax = max(s.smin, o.smin), min(s.smax, o.smax)
	s.u32min, s.u32max = max(s.u32min, o.u32min), min(s.u32max, o.u32max)
	s.s32min, s.s32max = max(s.s32min, o.s32min), min(s.s32max, o.s32max)
	return s.sync()
}

// intersect32 narrows the low half of s to what o's low half admits.
func (s *scalar) intersect32(o *scalar) bool {
	l, ok := s.tn.low32().intersect(o.tn.low32())
	if !ok {
		return false
	}
	s.tn = s.tn.withLow32(l)
	s.u32min, s.u32max = max(s.u32min, o.u32min), min(s.u32max, o.u32max)
	s.s32min, s.s32max = max(s.s32min, o.s32min), min(s.s32max, o.s32max)
	return s.sync()
}

func (s *scalar) empty() bool {
	return s.umin > s.umax || s.smin > s.smax || s.u32min > s.u32max || s.s32min > s.s32max
}

// sync lets the facts of s tighten each other (see the file comment) and
// reports false when they contradict: no value satisfies them all.
func (s *scalar) sync() bool {
	for i := 0; i < 3; i++ {
		old := *s
		s.syncOnce()
		if s.empty() {
			return false
		}
		if *s == old {
			break
		}
	}
	return true
}

func (s *scalar) syncOnce() {
	const sign = uint64(1) << 63
	// known bits bound every range
	s.umin, s.umax = max(s.umin, s.tn.v), min(s.umax, s.tn.v|s.tn.m)
	s.smin, s.smax = max(s.smin, int64(s.tn.v|s.tn.m&sign)), min(s.smax, int64(s.tn.v|s.tn.m&^sign))
	l := s.tn.low32()
	s.u32min, s.u32max = max(s.u32min, uint32(l.v)), min(s.u32max, uint32(l.v|l.m))
	s.s32min = max(s.s32min, int32(uint32(l.v|l.m&(1<<31))))
	s.s32max = min(s.s32max, int32(uint32(l.v|l.m&^(1<<31))))
	if s.empty() {
		return
	}

	// 64 -> 32
	if s.umin>>32 == s.umax>>32 {
		s.u32min, s.u32max = max(s.u32min, uint32(s.umin)), min(s.u32max, uint32(s.umax))
	}
	if uint64(s.smin)>>32 == uint64(s.smax)>>32 {
		s.u32min, s.u32max = max(s.u32min, uint32(s.smin)), min(s.u32max, uint32(s.smax))
	}
	if s.smin >= math.MinInt32 && s.smax <= math.MaxInt32 {
		s.s32min, s.s32max = max(s.s32min, int32(s.smin)), min(s.s32max, int32(s.smax))
	}
	// signed and unsigned views of one width agree where the range does
	// not cross the sign boundary
	if int32(s.u32min) <= int32(s.u32max) {
		s.s32min, s.s32max = max(s.s32min, int32(s.u32min)), min(s.s32max, int32(s.u32max))
	}
	if s.s32min >= 0 || s.s32max < 0 {
		s.u32min, s.u32max = max(s.u32min, uint32(s.s32min)), min(s.u32max, uint32(s.s32max))
	}
	if s.empty() {
		return
	}

	// 32 -> 64
	if s.umax <= math.MaxUint32 {
		s.umin, s.umax = max(s.umin, uint64(s.u32min)), min(s.umax, uint64(s.u32max))
	}
	if s.smin >= math.MinInt32 && s.smax <= math.MaxInt32 {
		s.smin, s.smax = max(s.smin, int64(s.s32min)), min(s.smax, int64(s.s32max))
	}
	// the nearest values at the ends whose low half is in [u32min, u32max]
	if lo := uint32(s.umin); lo < s.u32min {
		s.umin = s.umin&^math.MaxUint32 | uint64(s.u32min)
	} else if lo > s.u32max {
		if s.umin>>32 == math.MaxUint32 {
			s.umin, s.umax = 1, 0 // no larger upper half: empty
			return
		}
		s.umin = (s.umin>>32+1)<<32 | uint64(s.u32min)
	}
	if hi := uint32(s.umax); hi > s.u32max {
		s.umax = s.umax&^math.MaxUint32 | uint64(s.u32max)
	} else if hi < s.u32min {
		if s.umax>>32 == 0 {
			s.umin, s.umax = 1, 0
			return
		}
		s.umax = (s.umax>>32-1)<<32 | uint64(s.u32max)
	}
	if s.empty() {
		return
	}

	// signed and unsigned 64-bit views
	if s.umin>>63 == s.umax>>63 {
		s.smin, s.smax = max(s.smin, int64(s.umin)), min(s.smax, int64(s.umax))
	}
	if (s.smin < 0) == (s.smax < 0) {
		s.umin, s.umax = max(s.umin, uint64(s.smin)), min(s.umax, uint64(s.smax))
	}
	if s.empty() {
		return
	}

	// ranges bound the known bits
	if tn, ok := s.tn.intersect(tnRange(s.umin, s.umax)); ok {
		s.tn = tn
	} else {
		s.umin, s.umax = 1, 0
		return
	}
	if l, ok := s.tn.low32().intersect(tnRange(uint64(s.u32min), uint64(s.u32max))); ok {
		s.tn = s.tn.withLow32(l)
	} else {
		s.umin, s.umax = 1, 0
	}
}

func (s scalar) String() string {
	if s.isConst() {
		return fmt.Sprintf("%d", int64(s.umin))
	}
	out := "scalar("
	sep := ""
	add := func(f string, args ...any) {
		out += sep + fmt.Sprintf(f, args...)
		sep = ","
	}
	if s.umin != 0 || s.umax != math.MaxUint64 {
		add("umin=%d,umax=%d", s.umin, s.umax)
	}
	if (s.smin != math.MinInt64 || s.smax != math.MaxInt64) && !(s.smin == int64(s.umin) && s.smax == int64(s.umax)) {
		add("smin=%d,smax=%d", s.smin, s.smax)
	}
	if s.umax > math.MaxUint32 && (s.u32min != 0 || s.u32max != math.MaxUint32) {
		add("u32min=%d,u32max=%d", s.u32min, s.u32max)
	}
	if s.smin < math.MinInt32 || s.smax > math.MaxInt32 {
		if s.s32min != math.MinInt32 || s.s32max != math.MaxInt32 {
			add("s32min=%d,s32max=%d", s.s32min, s.s32max)
		}
	}
	if s.tn.m != math.MaxUint64 && bits.OnesCount64(s.tn.m) < 64 && s.tn != tnRange(s.umin, s.umax) {
		add("var_off=%s", s.tn)
	}
	return out + ")"
}

// Range arithmetic, for either width. An interval [lo, hi] computed with
// wrapping arithmetic is right when every value in between wrapped the
// same number of times: both ends or neither.

type uword interface{ ~uint32 | ~uint64 }
type sword interface{ ~int32 | ~int64 }

func addU[T uword](amin, amax, bmin, bmax T) (T, T, bool) {
	lo, hi := amin+bmin, amax+bmax
	return lo, hi, (lo < amin) == (hi < amax)
}

func subU[T uword](amin, amax, bmin, bmax T) (T, T, bool) {
	lo, hi := amin-bmax, amax-bmin
	return lo, hi, (amin < bmax) == (amax < bmin)
}

// ovfAdd reports the direction in which x+y overflowed (sum is the
// wrapped result): -1, 0 or +1.
func ovfAdd[T sword](x, y, sum T) int {
	switch {
	case y > 0 && sum < x:
		return 1
	case y < 0 && sum > x:
		return -1
	}
	return 0
}

// ovfSub is ovfAdd for the difference x-y.
func ovfSub[T sword](x, y, diff T) int {
	switch {
	case y < 0 && diff < x:
		return 1
	case y > 0 && diff > x:
		return -1
	}
	return 0
}

func addS[T sword](amin, amax, bmin, bmax T) (T, T, bool) {
	lo, hi := amin+bmin, amax+bmax
	return lo, hi, ovfAdd(amin, bmin, lo) == ovfAdd(amax, bmax, hi)
}

func subS[T sword](amin, amax, bmin, bmax T) (T, T, bool) {
	lo, hi := amin-bmax, amax-bmin
	return lo, hi, ovfSub(amin, bmax, lo) == ovfSub(amax, bmin, hi)
}

// scalarOp computes dst = a op b for an ALU operation on scalars. code is
// the operation (aluADD...), off the instruction's offset (1: signed
// div/mod), width 32 or 64. For 32-bit operations the result is the
// zero-extended 32-bit result, as the machine computes it.
func scalarOp(code uint8, off int16, a, b scalar, width int) scalar {
	if width == 32 {
		return zext32(scalarOp32(code, off, a, b))
	}
	if a.isConst() && b.isConst() && code != aluEND {
		return constScalar(evalALU64(code, off, a.umin, b.umin))
	}
	r := unknownScalar()
	switch code {
	case aluADD:
		r.tn = a.tn.add(b.tn)
		if lo, hi, ok := addU(a.umin, a.umax, b.umin, b.umax); ok {
			r.umin, r.umax = lo, hi
		}
		if lo, hi, ok := addS(a.smin, a.smax, b.smin, b.smax); ok {
			r.smin, r.smax = lo, hi
		}
		if lo, hi, ok := addU(a.u32min, a.u32max, b.u32min, b.u32max); ok {
			r.u32min, r.u32max = lo, hi
		}
		if lo, hi, ok := addS(a.s32min, a.s32max, b.s32min, b.s32max); ok {
			r.s32min, r.s32max = lo, hi
		}
	case aluSUB:
		r.tn = a.tn.sub(b.tn)
		if lo, hi, ok := subU(a.umin, a.umax, b.umin, b.umax); ok {
			r.umin, r.umax = lo, hi
		}
		if lo, hi, ok := subS(a.smin, a.smax, b.smin, b.smax); ok {
			r.smin, r.smax = lo, hi
		}
		if lo, hi, ok := subU(a.u32min, a.u32max, b.u32min, b.u32max); ok {
			r.u32min, r.u32max = lo, hi
		}
		if lo, hi, ok := subS(a.s32min, a.s32max, b.s32min, b.s32max); ok {
			r.s32min, r.s32max = lo, hi
		}
	case aluNEG:
		return scalarOp(aluSUB, 0, constScalar(0), a, 64)
	case aluMUL:
		r.tn = a.tn.mul(b.tn)
		if hi, _ := bits.Mul64(a.umax, b.umax); hi == 0 {
			r.umin, r.umax = a.umin*b.umin, a.umax*b.umax
		}
		if a.umax <= math.MaxUint32 && b.umax <= math.MaxUint32 {
			if hi, _ := bits.Mul32(uint32(a.umax), uint32(b.umax)); hi == 0 {
				r.u32min, r.u32max = uint32(a.umin)*uint32(b.umin), uint32(a.umax)*uint32(b.umax)
			}
		}
	case aluDIV:
		if off == 1 {
			break // signed: only constants, above
		}
		switch {
		case b.isConst() && b.umin == 0:
			return constScalar(0)
		case b.umin > 0:
			r.umin, r.umax = a.umin/b.umax, a.umax/b.umin
		default: // the divisor may be 0 (result 0) or anything larger
			r.umin, r.umax = 0, a.umax
		}
	case aluMOD:
		if off == 1 {
			// signed: |result| < |divisor|, sign of the dividend
			if b.isConst() && b.umin != 0 {
				m := int64(b.umin)
				if m == math.MinInt64 {
					break
				}
				if m < 0 {
					m = -m
				}
				r.smin, r.smax = -(m - 1), m-1
				if a.smin >= 0 {
					r.smin = 0
				} else if a.smax <= 0 {
					r.smax = 0
				}
			}
			break
		}
		switch {
		case b.isConst() && b.umin == 0:
			return a // x % 0 is x
		case b.umin > 0:
			r.umin, r.umax = 0, min(a.umax, b.umax-1)
		default: // x % 0 is x, x % y < y
			r.umin, r.umax = 0, a.umax
		}
	case aluAND:
		r.tn = a.tn.and(b.tn)
		r.umax = min(a.umax, b.umax)
		if a.smin >= 0 || b.smin >= 0 {
			r.smin = 0
		}
	case aluOR:
		r.tn = a.tn.or(b.tn)
		r.umin = max(a.umin, b.umin)
		if a.smax < 0 || b.smax < 0 {
			r.smax = -1
		}
	case aluXOR:
		r.tn = a.tn.xor(b.tn)
	case aluLSH:
		r = shiftLeft(a, b, 64)
	case aluRSH:
		if b.isConst() {
			k := uint(b.umin & 63)
			r.tn = a.tn.rsh(k)
			r.umin, r.umax = a.umin>>k, a.umax>>k
		} else {
			r.umax = a.umax // the amount is masked, a shift never grows the value
		}
	case aluARSH:
		if b.isConst() {
			k := uint(b.umin & 63)
			r.tn = a.tn.arsh(k, 64)
			r.smin, r.smax = a.smin>>k, a.smax>>k
		} else {
			r.smin, r.smax = min(a.smin, 0), max(a.smax, 0)
		}
	}
	if !r.sync() {
		// unreachable for sound operands; stay sound regardless
		return unknownScalar()
	}
	return r
}

// shiftLeft is a << b in the given width (the amount masked to width-1).
func shiftLeft(a, b scalar, width int) scalar {
	r := unknownScalar()
	w := uint64(width)
	if b.umax >= w {
		// the masked amount may be anything
		if b.isConst() {
			b = constScalar(b.umin & (w - 1))
		} else {
			return r
		}
	}
	lo, hi := uint(b.umin), uint(b.umax)
	if width == 64 {
		if b.isConst() {
			r.tn = a.tn.lsh(lo)
		}
		if a.umax <= math.MaxUint64>>hi {
			r.umin, r.umax = a.umin<<lo, a.umax<<hi
		}
		return r
	}
	if b.isConst() {
		r.tn = a.tn.low32().lsh(lo).low32()
	}
	if a.u32max <= math.MaxUint32>>hi {
		r.u32min, r.u32max = a.u32min<<lo, a.u32max<<hi
	}
	return r
}

// scalarOp32 computes the low half of a 32-bit operation's result; its
// upper facts are meaningless (zext32 replaces them).
func scalarOp32(code uint8, off int16, a, b scalar) scalar {
	if a.tn.low32().isConst() && b.tn.low32().isConst() {
		return constScalar(uint64(evalALU32(code, off, uint32(a.tn.v), uint32(b.tn.v))))
	}
	r := unknownScalar()
	la, lb := a.tn.low32(), b.tn.low32()
	switch code {
	case aluADD:
		r.tn = la.add(lb)
		if lo, hi, ok := addU(a.u32min, a.u32max, b.u32min, b.u32max); ok {
			r.u32min, r.u32max = lo, hi
		}
		if lo, hi, ok := addS(a.s32min, a.s32max, b.s32min, b.s32max); ok {
			r.s32min, r.s32max = lo, hi
		}
	case aluSUB:
		r.tn = la.sub(lb)
		if lo, hi, ok := subU(a.u32min, a.u32max, b.u32min, b.u32max); ok {
			r.u32min, r.u32max = lo, hi
		}
		if lo, hi, ok := subS(a.s32min, a.s32max, b.s32min, b.s32max); ok {
			r.s32min, r.s32max = lo, hi
		}
	case aluNEG:
		return scalarOp32(aluSUB, 0, constScalar(0), a)
	case aluMUL:
		r.tn = la.mul(lb)
		if hi, _ := bits.Mul32(a.u32max, b.u32max); hi == 0 {
			r.u32min, r.u32max = a.u32min*b.u32min, a.u32max*b.u32max
		}
	case aluDIV:
		if off == 1 {
			break
		}
		switch {
		case lb.isConst() && lb.v == 0:
			return constScalar(0)
		case b.u32min > 0:
			r.u32min, r.u32max = a.u32min/b.u32max, a.u32max/b.u32min
		default:
			r.u32min, r.u32max = 0, a.u32max
		}
	case aluMOD:
		if off == 1 {
			if lb.isConst() && lb.v != 0 {
				m := int64(int32(uint32(lb.v)))
				if m < 0 {
					m = -m
				}
				r.s32min, r.s32max = int32(-(m - 1)), int32(m-1)
				if a.s32min >= 0 {
					r.s32min = 0
				} else if a.s32max <= 0 {
					r.s32max = 0
				}
			}
			break
		}
		switch {
		case lb.isConst() && lb.v == 0:
			return a // low half unchanged, zext32 clears the upper one
		case b.u32min > 0:
			r.u32min, r.u32max = 0, min(a.u32max, b.u32max-1)
		default:
			r.u32min, r.u32max = 0, a.u32max
		}
	case aluAND:
		r.tn = la.and(lb)
		r.u32max = min(a.u32max, b.u32max)
		if a.s32min >= 0 || b.s32min >= 0 {
			r.s32min = 0
		}
	case aluOR:
		r.tn = la.or(lb)
		r.u32min = max(a.u32min, b.u32min)
		if a.s32max < 0 || b.s32max < 0 {
			r.s32max = -1
		}
	case aluXOR:
		r.tn = la.xor(lb)
	case aluLSH:
		r = shiftLeft(a, b, 32)
	case aluRSH:
		if lb.isConst() {
			k := uint(lb.v & 31)
			r.tn = la.rsh(k)
			r.u32min, r.u32max = a.u32min>>k, a.u32max>>k
		} else {
			r.u32max = a.u32max
		}
	case aluARSH:
		if lb.isConst() {
			k := uint(lb.v & 31)
			r.tn = la.arsh(k, 32)
			r.s32min, r.s32max = a.s32min>>k, a.s32max>>k
		} else {
			r.s32min, r.s32max = min(a.s32min, 0), max(a.s32max, 0)
		}
	}
	// only the low half is meaningful: make the upper facts vacuous so
	// that sync cannot draw conclusions from them
	r.tn = tnum{r.tn.v & math.MaxUint32, r.tn.m | ^uint64(math.MaxUint32)}
	r.umin, r.umax, r.smin, r.smax = 0, math.MaxUint64, math.MinInt64, math.MaxInt64
	if !r.sync() {
		return unknownScalar()
	}
	return r
}

func evalALU32(code uint8, off int16, x, y uint32) uint32 {
	return evalALU[uint32, int32](code, off, x, y, 31)
}

func evalALU64(code uint8, off int16, x, y uint64) uint64 {
	return evalALU[uint64, int64](code, off, x, y, 63)
}

// evalALU computes an ALU operation on constants as the machine does, in
// the width of U (S is its signed twin, shiftMask its bits minus one):
// division by zero gives 0, modulo by zero leaves the dividend, shift
// amounts are masked.
func evalALU[U uword, S sword](code uint8, off int16, x, y U, shiftMask U) U {
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
			return U(S(x) / S(y))
		}
		return x / y
	case aluMOD:
		if y == 0 {
			return x
		}
		if off == 1 {
			return U(S(x) % S(y))
		}
		return x % y
	case aluOR:
		return x | y
	case aluAND:
		return x & y
	case aluXOR:
		return x ^ y
	case aluLSH:
		return x << (y & shiftMask)
	case aluRSH:
		return x >> (y & shiftMask)
	case aluARSH:
		return U(S(x) >> (y & shiftMask))
	case aluNEG:
		return -x
	}
	return 0
}

// signExtend is the value of MOVSX: the low bits bits of a, sign-extended
// to 64 bits.
func signExtend(a scalar, bitsN int) scalar {
	lo := int64(-1) << (bitsN - 1)
	hi := -lo - 1
	if a.smin >= lo && a.smax <= hi {
		return a // already its own sign extension
	}
	if a.tn.m&(1<<bitsN-1) == 0 {
		return constScalar(uint64(int64(a.tn.v<<(64-bitsN)) >> (64 - bitsN)))
	}
	return sRange(lo, hi)
}

// truncate is the value of a zero-extending cast to the low bitsN bits.
func truncate(a scalar, bitsN int) scalar {
	if bitsN == 64 {
		return a
	}
	mask := uint64(1)<<bitsN - 1
	if a.umax <= mask {
		return a
	}
	r := uRange(0, mask)
	r.tn = tnum{a.tn.v & mask, a.tn.m & mask}
	if !r.sync() {
		return uRange(0, mask)
	}
	return r
}

// Comparisons

// condHolds narrows a and b (the operands of a comparison, viewed in the
// given width) to the values for which "a code b" holds, and reports false
// when there are none. code is a jump condition (jmpJEQ...) or notJSET.
func condHolds(code uint8, width int, a, b *scalar) bool {
	if width == 32 {
		return cond32(code, a, b)
	}
	switch code {
	case jmpJEQ:
		if !a.intersect(b) {
			return false
		}
		*b = *a
		return true
	case jmpJNE:
		if a.isConst() && b.isConst() {
			return a.umin != b.umin
		}
		if b.isConst() {
			return a.exclude(b.umin)
		}
		if a.isConst() {
			return b.exclude(a.umin)
		}
		return true
	case jmpJGT, jmpJGE:
		d := uint64(0)
		if code == jmpJGT {
			if b.umin == math.MaxUint64 || a.umax == 0 {
				return false
			}
			d = 1
		}
		a.umin = max(a.umin, b.umin+d)
		b.umax = min(b.umax, a.umax-d)
	case jmpJLT:
		return condHolds(jmpJGT, 64, b, a)
	case jmpJLE:
		return condHolds(jmpJGE, 64, b, a)
	case jmpJSGT, jmpJSGE:
		d := int64(0)
		if code == jmpJSGT {
			if b.smin == math.MaxInt64 || a.smax == math.MinInt64 {
				return false
			}
			d = 1
		}
		a.smin = max(a.smin, b.smin+d)
		b.smax = min(b.smax, a.smax-d)
	case jmpJSLT:
		return condHolds(jmpJSGT, 64, b, a)
	case jmpJSLE:
		return condHolds(jmpJSGE, 64, b, a)
	case jmpJSET:
		return a.setHolds(b, 64)
	case notJSET:
		return a.clearHolds(b, 64)
	}
	return a.sync() && b.sync()
}

func cond32(code uint8, a, b *scalar) bool {
	switch code {
	case jmpJEQ:
		if !a.intersect32(b) || !b.intersect32(a) {
			return false
		}
		return true
	case jmpJNE:
		la, lb := a.tn.low32(), b.tn.low32()
		if la.isConst() && lb.isConst() {
			return la.v != lb.v
		}
		if lb.isConst() {
			return a.exclude32(uint32(lb.v))
		}
		if la.isConst() {
			return b.exclude32(uint32(la.v))
		}
		return true
	case jmpJGT, jmpJGE:
		d := uint32(0)
		if code == jmpJGT {
			if b.u32min == math.MaxUint32 || a.u32max == 0 {
				return false
			}
			d = 1
		}
		a.u32min = max(a.u32min, b.u32min+d)
		b.u32max = min(b.u32max, a.u32max-d)
	case jmpJLT:
		return cond32(jmpJGT, b, a)
	case jmpJLE:
		return cond32(jmpJGE, b, a)
	case jmpJSGT, jmpJSGE:
		d := int32(0)
		if code == jmpJSGT {
			if b.s32min == math.MaxInt32 || a.s32max == math.MinInt32 {
				return false
			}
			d = 1
		}
		a.s32min = max(a.s32min, b.s32min+d)
		b.s32max = min(b.s32max, a.s32max-d)
	case jmpJSLT:
		return cond32(jmpJSGT, b, a)
	case jmpJSLE:
		return cond32(jmpJSGE, b, a)
	case jmpJSET:
		return a.setHolds(b, 32)
	case notJSET:
		return a.clearHolds(b, 32)
	}
	return a.sync() && b.sync()
}

// notJSET is the negation of JSET ("a & b == 0") for condHolds.
const notJSET = 0xff

// exclude removes x from s where that narrows a range end.
func (s *scalar) exclude(x uint64) bool {
	if s.isConst() {
		return s.umin != x
	}
	if s.umin == x {
		s.umin++
	}
	if s.umax == x {
		s.umax--
	}
	if s.smin == int64(x) {
		s.smin++
	}
	if s.smax == int64(x) {
		s.smax--
	}
	return s.sync()
}

func (s *scalar) exclude32(x uint32) bool {
	if s.u32min == s.u32max {
		return s.u32min != x
	}
	if s.u32min == x {
		s.u32min++
	}
	if s.u32max == x {
		s.u32max--
	}
	if s.s32min == int32(x) {
		s.s32min++
	}
	if s.s32max == int32(x) {
		s.s32max--
	}
	return s.sync()
}

// setHolds narrows s to "s & b != 0" in the width.
func (s *scalar) setHolds(b *scalar, width int) bool {
	mask := uint64(math.MaxUint64)
	if width == 32 {
		mask = math.MaxUint32
	}
	bv, bm := b.tn.v&mask, b.tn.m&mask
	if s.tn.v&bv != 0 {
		return true // a known common bit: always set
	}
	if (s.tn.v|s.tn.m)&(bv|bm)&mask == 0 {
		return false // no bit can be in common
	}
	if bm == 0 && bits.OnesCount64(bv) == 1 {
		// a single known bit: it must be set in s
		tn, ok := s.tn.intersect(tnum{bv, ^bv})
		if !ok {
			return false
		}
		s.tn = tn
		return s.sync()
	}
	return true
}

// clearHolds narrows s to "s & b == 0" in the width.
func (s *scalar) clearHolds(b *scalar, width int) bool {
	mask := uint64(math.MaxUint64)
	if width == 32 {
		mask = math.MaxUint32
	}
	bv, bm := b.tn.v&mask, b.tn.m&mask
	if s.tn.v&bv != 0 {
		return false // a known common bit
	}
	if bm == 0 {
		// every bit of b is clear in s
		tn, ok := s.tn.intersect(tnum{0, ^bv})
		if !ok {
			return false
		}
		s.tn = tn
		return s.sync()
	}
	return true
}
