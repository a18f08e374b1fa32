package ubpf

import (
	"math"
	"math/rand/v2"
	"testing"
)

// The scalar domain's soundness, checked exhaustively on samples: an
// abstract value built from a set of concrete numbers (then loosened at
// random, so that sync's deductions are exercised too) must, after any
// operation, admit the result of the operation on every pair of those
// numbers; a comparison must keep every pair for which it holds and may
// report "impossible" only when no pair satisfies it.

// interesting returns numbers near the edges where wrapping and sign
// changes happen.
func interesting(r *rand.Rand) uint64 {
	edges := []uint64{0, 1, 2, 7, 8, 31, 32, 63, 64, 0xff, 0x100, 0xffff, 0x7fffffff, 0x80000000, 0xffffffff,
		1 << 32, 1<<32 + 1, math.MaxInt64, 1 << 63, math.MaxUint64, math.MaxUint64 - 1}
	switch r.IntN(4) {
	case 0:
		return edges[r.IntN(len(edges))]
	case 1:
		e := edges[r.IntN(len(edges))]
		return e + uint64(r.IntN(9)) - 4
	case 2:
		return uint64(r.IntN(100))
	}
	return r.Uint64() >> r.IntN(64)
}

// sampleSet returns 1 to 4 numbers, often close to each other.
func sampleSet(r *rand.Rand) []uint64 {
	n := 1 + r.IntN(4)
	base := interesting(r)
	out := []uint64{base}
	for len(out) < n {
		if r.IntN(2) == 0 {
			out = append(out, base+uint64(r.IntN(64))-32)
		} else {
			out = append(out, interesting(r))
		}
	}
	return out
}

// abstractOf is the tightest scalar admitting xs, loosened at random.
func abstractOf(r *rand.Rand, xs []uint64) scalar {
	s := constScalar(xs[0])
	for _, x := range xs[1:] {
		s.umin, s.umax = min(s.umin, x), max(s.umax, x)
		s.smin, s.smax = min(s.smin, int64(x)), max(s.smax, int64(x))
		s.u32min, s.u32max = min(s.u32min, uint32(x)), max(s.u32max, uint32(x))
		s.s32min, s.s32max = min(s.s32min, int32(x)), max(s.s32max, int32(x))
		diff := s.tn.v ^ x
		s.tn = tnum{s.tn.v &^ diff &^ s.tn.m, s.tn.m | diff}
	}
	u := unknownScalar()
	if r.IntN(3) == 0 {
		s.tn = u.tn
	}
	if r.IntN(3) == 0 {
		s.umin, s.umax = u.umin, u.umax
	}
	if r.IntN(3) == 0 {
		s.smin, s.smax = u.smin, u.smax
	}
	if r.IntN(3) == 0 {
		s.u32min, s.u32max = u.u32min, u.u32max
	}
	if r.IntN(3) == 0 {
		s.s32min, s.s32max = u.s32min, u.s32max
	}
	if !s.sync() {
		panic("sync of a non-empty abstraction reported empty")
	}
	return s
}

func mustContain(t *testing.T, what string, s scalar, x uint64, a, b scalar, xa, xb uint64) {
	t.Helper()
	if !s.contains(x) {
		t.Fatalf("%s: result %#x (from %#x, %#x) not in %+v\na=%+v\nb=%+v", what, x, xa, xb, s, a, b)
	}
}

func TestScalarSyncSound(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 200000; i++ {
		xs := sampleSet(r)
		s := abstractOf(r, xs)
		for _, x := range xs {
			if !s.contains(x) {
				t.Fatalf("sync lost %#x: %+v (from %v)", x, s, xs)
			}
		}
	}
}

func TestScalarOpsSound(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	ops := []uint8{aluADD, aluSUB, aluMUL, aluDIV, aluOR, aluAND, aluLSH, aluRSH, aluNEG, aluMOD, aluXOR, aluARSH}
	names := map[uint8]string{aluADD: "add", aluSUB: "sub", aluMUL: "mul", aluDIV: "div", aluOR: "or", aluAND: "and",
		aluLSH: "lsh", aluRSH: "rsh", aluNEG: "neg", aluMOD: "mod", aluXOR: "xor", aluARSH: "arsh"}
	n := 300000
	if testing.Short() {
		n = 50000
	}
	for i := 0; i < n; i++ {
		xa, xb := sampleSet(r), sampleSet(r)
		if r.IntN(3) == 0 { // shift amounts are usually small
			for j := range xb {
				xb[j] &= 127
			}
		}
		a, b := abstractOf(r, xa), abstractOf(r, xb)
		code := ops[r.IntN(len(ops))]
		var off int16
		if (code == aluDIV || code == aluMOD) && r.IntN(2) == 0 {
			off = 1
		}
		for _, width := range []int{64, 32} {
			res := scalarOp(code, off, a, b, width)
			for _, x := range xa {
				for _, y := range xb {
					var want uint64
					if width == 64 {
						want = evalALU64(code, off, x, y)
					} else {
						want = uint64(evalALU32(code, off, uint32(x), uint32(y)))
					}
					mustContain(t, names[code]+map[int]string{64: "64", 32: "32"}[width], res, want, a, b, x, y)
				}
			}
		}
	}
}

func TestScalarCastsSound(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	for i := 0; i < 100000; i++ {
		xs := sampleSet(r)
		a := abstractOf(r, xs)
		for _, n := range []int{8, 16, 32} {
			sx := signExtend(a, n)
			tr := truncate(a, n)
			z := zext32(signExtend(a, n))
			for _, x := range xs {
				want := uint64(int64(x<<(64-n)) >> (64 - n))
				mustContain(t, "movsx", sx, want, a, a, x, uint64(n))
				mustContain(t, "truncate", tr, x&(1<<n-1), a, a, x, uint64(n))
				mustContain(t, "movsx32", z, uint64(uint32(want)), a, a, x, uint64(n))
			}
		}
		z := zext32(a)
		for _, x := range xs {
			mustContain(t, "zext32", z, uint64(uint32(x)), a, a, x, 0)
		}
	}
}

func holds(code uint8, width int, x, y uint64) bool {
	if width == 32 {
		x, y = uint64(uint32(x)), uint64(uint32(y))
		switch code {
		case jmpJSGT:
			return int32(x) > int32(y)
		case jmpJSGE:
			return int32(x) >= int32(y)
		case jmpJSLT:
			return int32(x) < int32(y)
		case jmpJSLE:
			return int32(x) <= int32(y)
		}
	}
	switch code {
	case jmpJEQ:
		return x == y
	case jmpJNE:
		return x != y
	case jmpJGT:
		return x > y
	case jmpJGE:
		return x >= y
	case jmpJLT:
		return x < y
	case jmpJLE:
		return x <= y
	case jmpJSGT:
		return int64(x) > int64(y)
	case jmpJSGE:
		return int64(x) >= int64(y)
	case jmpJSLT:
		return int64(x) < int64(y)
	case jmpJSLE:
		return int64(x) <= int64(y)
	case jmpJSET:
		return x&y != 0
	case notJSET:
		return x&y == 0
	}
	panic("unknown condition")
}

func TestScalarCompareSound(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	codes := []uint8{jmpJEQ, jmpJNE, jmpJGT, jmpJGE, jmpJLT, jmpJLE, jmpJSGT, jmpJSGE, jmpJSLT, jmpJSLE, jmpJSET, notJSET}
	for i := 0; i < 300000; i++ {
		xa, xb := sampleSet(r), sampleSet(r)
		if r.IntN(2) == 0 {
			xb = xb[:1] // comparisons with a constant are the common case
		}
		a, b := abstractOf(r, xa), abstractOf(r, xb)
		code := codes[r.IntN(len(codes))]
		for _, width := range []int{64, 32} {
			na, nb := a, b
			ok := condHolds(code, width, &na, &nb)
			for _, x := range xa {
				for _, y := range xb {
					if !holds(code, width, x, y) {
						continue
					}
					if !ok {
						t.Fatalf("cond %#x width %d: reported impossible, but holds for %#x, %#x\na=%+v\nb=%+v", code, width, x, y, a, b)
					}
					if !na.contains(x) || !nb.contains(y) {
						t.Fatalf("cond %#x width %d: lost %#x, %#x\na=%+v -> %+v\nb=%+v -> %+v", code, width, x, y, a, na, b, nb)
					}
				}
			}
		}
	}
}

// The bypass of issue 18: a 32-bit signed comparison of 0x80000000 with 0
// says nothing about the 64-bit value, which is positive.
func TestScalarJMP32DoesNotLeakIntoUpperHalf(t *testing.T) {
	a, zero := constScalar(0x80000000), constScalar(0)
	ta, tz := a, zero
	if !condHolds(jmpJSLT, 32, &ta, &tz) {
		t.Fatal("w3 s< 0 must hold for w3 = 0x80000000")
	}
	if ta.smin <= 0 {
		t.Fatalf("after w3 s< 0 the 64-bit value may be %d: %+v", ta.smin, ta)
	}
	fa, fz := a, zero
	if condHolds(jmpJSGE, 32, &fa, &fz) {
		t.Fatal("w3 s>= 0 cannot hold for w3 = 0x80000000")
	}
	// and the 64-bit comparison that follows is decided the other way
	pa, pz := ta, constScalar(0)
	if !condHolds(jmpJSGT, 64, &pa, &pz) {
		t.Fatal("r3 s> 0 must be possible")
	}
	qa, qz := ta, constScalar(0)
	if condHolds(jmpJSLE, 64, &qa, &qz) {
		t.Fatal("r3 s<= 0 must be impossible")
	}
}

// A signed 32-bit bound on a sign-extended byte bounds the 64-bit value:
// what clang -mcpu=v3 emits for "int off = *(s8 *)p; if (off < 0 || off
// > 40)" (issue 12).
func TestScalarSignedByteBoundedByJMP32(t *testing.T) {
	a := sRange(-128, 127)
	lo := constScalar(0)
	if !condHolds(jmpJSGE, 32, &a, &lo) {
		t.Fatal("infeasible")
	}
	hi := constScalar(40)
	if !condHolds(jmpJSLE, 32, &a, &hi) {
		t.Fatal("infeasible")
	}
	if a.umin != 0 || a.umax != 40 || a.smin != 0 || a.smax != 40 {
		t.Fatalf("want [0, 40] in 64 bits, got %+v", a)
	}
}
