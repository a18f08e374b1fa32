package progen

// The generator
//
// Programs are built from snippets (an ALU sequence, a bounds-checked
// packet load, a map lookup, a loop, a call...) chosen at random and
// emitted one after the other into a label-resolving builder. To make
// programs the verifier accepts, the generator keeps a rough model of what
// each register and stack byte holds (scalar, known constant, packet,
// stack, map value pointer...): snippets pick operands of the right kind,
// initialise what they read, and check bounds before they access memory.
// The model is deliberately simple (branches join to "scalar" or "unknown",
// loops keep their scalars scalar) and it does not need to be right: the
// verifier decides, and the run decides whether the verifier was right.
//
// Each snippet also has tricky variants, taken with small probabilities:
// off-by-one bounds checks, JMP32 instead of JMP, misaligned spills,
// missing null checks, unbounded pointer arithmetic, and traps (code that
// faults or leaks if it runs) behind conditions the verifier has to prove
// false.

import (
	"encoding/binary"
	"math/bits"
	"math/rand/v2"
)

type rk uint8

const (
	kNone       rk = iota // not initialised, or of no usable type
	kScalar               // a number (known when rs.known)
	kPkt                  // packet pointer, off bytes past the start
	kPktEnd               // packet end
	kCtx                  // XDP context
	kStack                // pointer into frame rs.frame, off from its r10
	kMapVal               // non-null pointer into a value of map rs.m, off
	kMapValNull           // map lookup result before its null check
	kMapPtr               // map handle
	kLen                  // the filter's length argument
)

// rs is the generator's idea of a register's contents.
type rs struct {
	k     rk
	known bool
	m     int8
	frame int8
	off   int32
	v     uint64
}

func scalar() rs            { return rs{k: kScalar} }
func known(v uint64) rs     { return rs{k: kScalar, known: true, v: v} }
func (r rs) isScalar() bool { return r.k == kScalar || r.k == kLen }
func (r rs) isPtr() bool    { return r.k >= kPkt && r.k != kLen }

// byte states of the stack model
const (
	bUnset  uint8 = iota // never written
	bScalar              // written, holds part of a number
	bSpill               // part of an aligned 8-byte spill (spill[slot])
)

type frame struct {
	regs  [11]rs
	stack [512]uint8 // index = 512 + offset from r10
	spill [64]rs     // per 8-byte slot: what an aligned 8-byte spill holds
}

func (f *frame) written(off, n int) bool {
	if off < -512 || off+n > 0 {
		return false
	}
	for i := off; i < off+n; i++ {
		if f.stack[512+i] == bUnset {
			return false
		}
	}
	return true
}

func (f *frame) markScalar(off, n int) {
	for i := off; i < off+n; i++ {
		if i < -512 || i >= 0 {
			continue
		}
		if f.stack[512+i] == bSpill {
			s := (512 + i) &^ 7
			for k := 0; k < 8; k++ {
				f.stack[s+k] = bScalar
			}
			f.spill[s/8] = rs{}
		}
		f.stack[512+i] = bScalar
	}
}

func (f *frame) markSpill(off int, v rs) {
	s := 512 + off
	for k := 0; k < 8; k++ {
		f.stack[s+k] = bSpill
	}
	f.spill[s/8] = v
}

// join merges the model of two paths: what differs becomes a plain
// scalar (if both are numbers) or unusable.
func joinRS(a, b rs) rs {
	if a == b {
		return a
	}
	if a.isScalar() && b.isScalar() {
		return scalar()
	}
	return rs{}
}

func (f *frame) join(o *frame) {
	for i := range f.regs {
		f.regs[i] = joinRS(f.regs[i], o.regs[i])
	}
	for i := range f.stack {
		a, b := f.stack[i], o.stack[i]
		switch {
		case a == b:
		case a == bUnset || b == bUnset:
			f.stack[i] = bUnset
		default:
			f.stack[i] = bScalar
		}
	}
	for s := range f.spill {
		if f.stack[s*8] == bSpill && f.spill[s] != o.spill[s] {
			v := joinRS(f.spill[s], o.spill[s])
			if v.k == kNone {
				for k := 0; k < 8; k++ {
					f.stack[s*8+k] = bScalar
				}
			}
			f.spill[s] = v
		}
	}
}

// item is one instruction slot of the builder; jmp is a label for jumps
// (resolved into Off, or Imm for calls and JMP32 JA).
type item struct {
	in    Insn
	jmp   int
	inImm bool
}

type fn struct {
	entry int // label
	code  []item
}

type gen struct {
	r     *rand.Rand
	cfg   Config
	kind  Kind
	code  []item
	lpos  []int // label -> position in its function's code
	lfn   []int // label -> function index (0 = main)
	fns   []fn
	curFn int

	maps     []MapSpec
	contents [][]MapEntry
	frames   []*frame // call chain being generated; last is current
	budget   int
	depth    int  // nesting of branches and loops
	inLoop   bool // generating a loop body
	reserved uint16
	noCalls  bool // a loop body whose counter a call would clobber
	pool     [][]frame
	bounds   []int // packet lengths the program's checks compare with
	nfuncs   int
}

func newGen(r *rand.Rand, cfg Config) *gen {
	g := &gen{r: r, cfg: cfg, kind: cfg.Kind, budget: cfg.MaxInsns}
	if g.kind != Filter && g.kind != XDP {
		g.kind = Filter
		if r.IntN(2) == 0 {
			g.kind = XDP
		}
	}
	return g
}

func (g *gen) on(f Feature) bool { return g.cfg.Disable&f == 0 }

func (g *gen) cur() *frame { return g.frames[len(g.frames)-1] }

func (g *gen) reg(r uint8) rs { return g.cur().regs[r] }

func (g *gen) set(r uint8, v rs) { g.cur().regs[r] = v }

func (g *gen) chance(p float64) bool { return g.r.Float64() < p }

func (g *gen) n(k int) int { return g.r.IntN(k) }

func (g *gen) newLabel() int {
	g.lpos = append(g.lpos, -1)
	g.lfn = append(g.lfn, g.curFn)
	return len(g.lpos) - 1
}

func (g *gen) bind(l int) {
	g.lpos[l] = len(g.code)
	g.lfn[l] = g.curFn
}

func (g *gen) emit(in Insn) {
	g.code = append(g.code, item{in: in, jmp: -1})
	g.budget--
}

func (g *gen) emitJ(in Insn, l int, inImm bool) {
	g.code = append(g.code, item{in: in, jmp: l, inImm: inImm})
	g.budget--
}

// room reports whether n more slots fit (keeping some for the epilogue).
func (g *gen) room(n int) bool { return g.budget-n > 8 }

// --- low-level emitters; they update the register model where the
// effect is plain ---

func (g *gen) movI(is64 bool, dst uint8, imm int32) {
	cls := uint8(clsALU64)
	v := uint64(int64(imm))
	if !is64 {
		cls, v = clsALU, uint64(uint32(imm))
	}
	g.emit(Insn{Op: cls | opMOV, Dst: dst, Imm: imm})
	g.set(dst, known(v))
}

func (g *gen) movR(dst, src uint8) {
	g.emit(Insn{Op: clsALU64 | opMOV | srcReg, Dst: dst, Src: src})
	g.set(dst, g.reg(src))
}

func (g *gen) lddw(dst uint8, v uint64) {
	g.emit(Insn{Op: clsLD | mdIMM | szDW, Dst: dst, Imm: int32(uint32(v))})
	g.emit(Insn{Imm: int32(uint32(v >> 32))})
	g.set(dst, known(v))
}

func (g *gen) ldMap(dst uint8, m int) {
	g.emit(Insn{Op: clsLD | mdIMM | szDW, Dst: dst, Src: 5, Imm: int32(m)})
	g.emit(Insn{})
	g.set(dst, rs{k: kMapPtr, m: int8(m)})
}

func (g *gen) ldMapValue(dst uint8, m int, off int) {
	g.emit(Insn{Op: clsLD | mdIMM | szDW, Dst: dst, Src: 6, Imm: int32(m)})
	g.emit(Insn{Imm: int32(off)})
	g.set(dst, rs{k: kMapVal, m: int8(m), off: int32(off)})
}

// aluI emits dst op= imm and updates the model.
func (g *gen) aluI(is64 bool, op uint8, dst uint8, imm int32) {
	cls := uint8(clsALU)
	if is64 {
		cls = clsALU64
	}
	g.emit(Insn{Op: cls | op, Dst: dst, Imm: imm})
	b := uint64(uint32(imm))
	if is64 {
		b = uint64(int64(imm))
	}
	g.aluModel(is64, op, 0, dst, known(b))
}

func (g *gen) aluR(is64 bool, op uint8, dst, src uint8) {
	cls := uint8(clsALU)
	if is64 {
		cls = clsALU64
	}
	g.emit(Insn{Op: cls | op | srcReg, Dst: dst, Src: src})
	g.aluModel(is64, op, 0, dst, g.reg(src))
}

func (g *gen) aluModel(is64 bool, op uint8, off int16, dst uint8, b rs) {
	a := g.reg(dst)
	switch {
	case a.isPtr() && is64 && (op == opADD || op == opSUB) && b.k == kScalar && b.known:
		c := int64(b.v)
		if op == opSUB {
			c = -c
		}
		if c > 1<<20 || c < -(1<<20) {
			a = rs{}
		} else {
			a.off += int32(c)
		}
		g.set(dst, a)
	case a.k == kPkt && is64 && op == opADD && b.k == kLen:
		g.set(dst, rs{k: kPktEnd})
	case a.isPtr() && is64 && op == opADD && b.isScalar():
		a.k = kNone // a pointer with a variable offset: the snippet knows
		g.set(dst, a)
	case a.k == kScalar && a.known && b.k == kScalar && b.known:
		g.set(dst, known(evalALU(is64, op, off, a.v, b.v)))
	default:
		g.set(dst, scalar())
	}
}

func (g *gen) jmpI(is32 bool, op uint8, dst uint8, imm int32, l int) {
	cls := uint8(clsJMP)
	if is32 {
		cls = clsJMP32
	}
	g.emitJ(Insn{Op: cls | op, Dst: dst, Imm: imm}, l, false)
}

func (g *gen) jmpR(is32 bool, op uint8, dst, src uint8, l int) {
	cls := uint8(clsJMP)
	if is32 {
		cls = clsJMP32
	}
	g.emitJ(Insn{Op: cls | op | srcReg, Dst: dst, Src: src}, l, false)
}

func (g *gen) ja(l int) {
	if g.chance(0.05) {
		g.emitJ(Insn{Op: clsJMP32 | jJA}, l, true) // gotol
		return
	}
	g.emitJ(Insn{Op: clsJMP | jJA}, l, false)
}

func (g *gen) ldx(size int, sx bool, dst, src uint8, off int) {
	mode := uint8(mdMEM)
	if sx && size < 8 {
		mode = mdMEMSX
	}
	g.emit(Insn{Op: clsLDX | mode | szOf(size), Dst: dst, Src: src, Off: int16(off)})
	g.set(dst, scalar())
}

func (g *gen) st(size int, dst uint8, off int, imm int32) {
	g.emit(Insn{Op: clsST | mdMEM | szOf(size), Dst: dst, Off: int16(off), Imm: imm})
}

func (g *gen) stx(size int, dst uint8, off int, src uint8) {
	g.emit(Insn{Op: clsSTX | mdMEM | szOf(size), Dst: dst, Src: src, Off: int16(off)})
}

func (g *gen) call(h int32) {
	g.emit(Insn{Op: clsJMP | jCALL, Imm: h})
	for r := uint8(1); r <= 5; r++ {
		g.set(r, rs{})
	}
	g.set(0, scalar())
}

func (g *gen) exit() { g.emit(Insn{Op: clsJMP | jEXIT}) }

func szOf(size int) uint8 {
	switch size {
	case 1:
		return szB
	case 2:
		return szH
	case 4:
		return szW
	}
	return szDW
}

// evalALU computes an ALU operation as the VM does.
func evalALU(is64 bool, op uint8, off int16, a, b uint64) uint64 {
	if !is64 {
		x, y := uint32(a), uint32(b)
		var r uint32
		switch op {
		case opADD:
			r = x + y
		case opSUB:
			r = x - y
		case opMUL:
			r = x * y
		case opDIV:
			switch {
			case y == 0:
				r = 0
			case off == 1:
				if int32(y) == -1 {
					r = uint32(-int32(x))
				} else {
					r = uint32(int32(x) / int32(y))
				}
			default:
				r = x / y
			}
		case opMOD:
			switch {
			case y == 0:
				r = x
			case off == 1:
				if int32(y) == -1 {
					r = 0
				} else {
					r = uint32(int32(x) % int32(y))
				}
			default:
				r = x % y
			}
		case opOR:
			r = x | y
		case opAND:
			r = x & y
		case opXOR:
			r = x ^ y
		case opLSH:
			r = x << (y & 31)
		case opRSH:
			r = x >> (y & 31)
		case opARSH:
			r = uint32(int32(x) >> (y & 31))
		case opMOV:
			r = y
		case opNEG:
			r = -x
		}
		return uint64(r)
	}
	switch op {
	case opADD:
		return a + b
	case opSUB:
		return a - b
	case opMUL:
		return a * b
	case opDIV:
		switch {
		case b == 0:
			return 0
		case off == 1:
			if int64(b) == -1 {
				return -a
			}
			return uint64(int64(a) / int64(b))
		}
		return a / b
	case opMOD:
		switch {
		case b == 0:
			return a
		case off == 1:
			if int64(b) == -1 {
				return 0
			}
			return uint64(int64(a) % int64(b))
		}
		return a % b
	case opOR:
		return a | b
	case opAND:
		return a & b
	case opXOR:
		return a ^ b
	case opLSH:
		return a << (b & 63)
	case opRSH:
		return a >> (b & 63)
	case opARSH:
		return uint64(int64(a) >> (b & 63))
	case opMOV:
		return b
	case opNEG:
		return -a
	}
	return 0
}

// evalCond evaluates a conditional jump on known operands.
func evalCond(is32 bool, op uint8, a, b uint64) bool {
	if is32 {
		a, b = uint64(uint32(a)), uint64(uint32(b))
		switch op {
		case jSGT:
			return int32(a) > int32(b)
		case jSGE:
			return int32(a) >= int32(b)
		case jSLT:
			return int32(a) < int32(b)
		case jSLE:
			return int32(a) <= int32(b)
		}
	}
	switch op {
	case jEQ:
		return a == b
	case jNE:
		return a != b
	case jGT:
		return a > b
	case jGE:
		return a >= b
	case jLT:
		return a < b
	case jLE:
		return a <= b
	case jSET:
		return a&b != 0
	case jSGT:
		return int64(a) > int64(b)
	case jSGE:
		return int64(a) >= int64(b)
	case jSLT:
		return int64(a) < int64(b)
	case jSLE:
		return int64(a) <= int64(b)
	}
	return false
}

var allConds = []uint8{jEQ, jNE, jGT, jGE, jLT, jLE, jSET, jSGT, jSGE, jSLT, jSLE}

// Edge constants: where signed, unsigned, 32- and 64-bit views disagree.
var edges = []uint64{
	0, 1, 2, 3, 4, 7, 8, 14, 15, 16, 20, 31, 32, 34, 63, 64, 127, 128, 255, 256, 511, 512,
	1500, 4095, 4096, 0x7fff, 0x8000, 0xffff, 0x10000, 60000,
	0x7fffffff, 0x80000000, 0x80000001, 0xfffffffe, 0xffffffff,
	1 << 32, 1<<32 + 1, 0x1_7fff_ffff, 0x1_8000_0000, 0x1_ffff_ffff,
	1 << 62, 1<<63 - 1, 1 << 63, 1<<63 + 1,
	^uint64(0), ^uint64(0) - 1, 0xffff_ffff_8000_0000, 0xffff_ffff_7fff_ffff,
	0xffff_ffff_0000_0000, 0x8000_0000_7fff_ffff, 0x7fff_ffff_8000_0000,
	^uint64(0) - 0x7f, ^uint64(0) - 0x7fff,
}

// edge returns an edge constant, sometimes nudged by a small amount.
func (g *gen) edge() uint64 {
	v := edges[g.n(len(edges))]
	switch g.n(6) {
	case 0:
		v += uint64(g.n(3)) - 1
	case 1:
		v = uint64(g.n(64))
	}
	return v
}

// imm returns an immediate: an edge constant as int32 (0x80000000 and
// 0xffffffff become negative, as in the encoding).
func (g *gen) imm() int32 {
	if g.chance(0.3) {
		return int32(g.n(64))
	}
	return int32(uint32(g.edge()))
}

// small returns a small non-negative immediate.
func (g *gen) small(max int) int32 { return int32(g.n(max + 1)) }

func (g *gen) program() *Program {
	g.makeMaps()
	main := &frame{}
	main.regs[10] = rs{k: kStack, frame: 0}
	g.frames = []*frame{main}
	g.fns = []fn{{entry: g.newLabel()}}
	g.bind(g.fns[0].entry)
	g.prologue()
	for g.room(12) {
		g.snippet()
		if g.chance(0.04) {
			break
		}
	}
	g.epilogue()
	g.fns[0].code = g.code
	return &Program{Kind: g.kind, Insns: g.link(), Maps: g.maps, MapContents: g.contents, Packets: g.packets()}
}

// link lays out main then the subprograms and resolves labels.
func (g *gen) link() []Insn {
	base := make([]int, len(g.fns))
	n := 0
	for i, f := range g.fns {
		base[i] = n
		n += len(f.code)
	}
	out := make([]Insn, 0, n)
	for _, f := range g.fns {
		for _, it := range f.code {
			in := it.in
			if it.jmp >= 0 {
				t := base[g.lfn[it.jmp]] + g.lpos[it.jmp]
				rel := t - len(out) - 1
				if it.inImm {
					in.Imm = int32(rel)
				} else {
					in.Off = int16(rel)
				}
			}
			out = append(out, in)
		}
	}
	return out
}

func (g *gen) prologue() {
	f := g.cur()
	switch g.kind {
	case Filter:
		f.regs[1] = rs{k: kPkt}
		f.regs[2] = rs{k: kLen}
		if g.chance(0.9) {
			g.movR(6, 1)
			g.movR(7, 2)
		} else {
			// keep the arguments where they are for a while
			g.movR(7, 2)
			g.movR(6, 1)
		}
		g.reserved = 1<<6 | 1<<7 | 1<<10
		if g.chance(0.3) {
			g.movR(8, 6)
			g.aluR(true, opADD, 8, 7) // packet end
			g.reserved |= 1 << 8
		}
	case XDP:
		f.regs[1] = rs{k: kCtx}
		g.movR(6, 1)
		g.emit(Insn{Op: clsLDX | mdMEM | szW, Dst: 7, Src: 6, Off: 0})
		g.set(7, rs{k: kPkt})
		g.emit(Insn{Op: clsLDX | mdMEM | szW, Dst: 8, Src: 6, Off: 4})
		g.set(8, rs{k: kPktEnd})
		g.reserved = 1<<6 | 1<<7 | 1<<8 | 1<<10
	}
	// initialise a few stack slots, as compiled code often does
	for i := g.n(4); i > 0; i-- {
		off := -8 * (1 + g.n(8))
		if g.chance(0.5) {
			g.st(8, 10, off, g.imm())
		} else {
			r := g.scalarReg()
			g.stx(8, 10, off, r)
			g.cur().markSpill(off, g.reg(r))
			continue
		}
		g.cur().markScalar(off, 8)
	}
}

func (g *gen) epilogue() {
	if g.chance(0.7) {
		if r, ok := g.anyScalar(); ok && r != 0 {
			g.movR(0, r)
		} else if !ok || r != 0 {
			g.movI(true, 0, g.small(4))
		}
	} else {
		g.movI(g.chance(0.5), 0, g.small(4))
	}
	g.exit()
}

// packetBase returns the register holding the packet start.
func (g *gen) packetBase() uint8 {
	if g.kind == XDP {
		return 7
	}
	return 6
}

// free returns a register the current snippet may overwrite. In loop
// bodies, registers that hold scalars at the loop head stay scalars.
func (g *gen) free(avoid ...uint8) uint8 {
	var cands []uint8
	for r := uint8(0); r <= 9; r++ {
		if g.reserved&(1<<r) != 0 {
			continue
		}
		skip := false
		for _, a := range avoid {
			skip = skip || a == r
		}
		if skip {
			continue
		}
		cands = append(cands, r)
	}
	// prefer registers holding nothing useful
	var empty []uint8
	for _, r := range cands {
		if g.reg(r).k == kNone {
			empty = append(empty, r)
		}
	}
	if len(empty) > 0 && g.chance(0.7) {
		return empty[g.n(len(empty))]
	}
	if len(cands) == 0 {
		return 0
	}
	return cands[g.n(len(cands))]
}

// freePtr returns a register for a pointer temporary: in a loop body only
// one that holds no scalar, so the next iteration reads what it expects.
func (g *gen) freePtr(avoid ...uint8) (uint8, bool) {
	for tries := 0; tries < 8; tries++ {
		r := g.free(avoid...)
		if !g.inLoop || !g.reg(r).isScalar() {
			return r, true
		}
	}
	return 0, false
}

// anyScalar returns a register holding a scalar.
func (g *gen) anyScalar(avoid ...uint8) (uint8, bool) {
	var cands []uint8
	for r := uint8(0); r <= 9; r++ {
		if !g.reg(r).isScalar() || g.reg(r).k == kLen {
			continue
		}
		skip := false
		for _, a := range avoid {
			skip = skip || a == r
		}
		if !skip {
			cands = append(cands, r)
		}
	}
	if len(cands) == 0 {
		return 0, false
	}
	return cands[g.n(len(cands))], true
}

// scalarReg returns a register holding a scalar, making one if needed.
func (g *gen) scalarReg(avoid ...uint8) uint8 {
	if r, ok := g.anyScalar(avoid...); ok && g.chance(0.8) {
		return r
	}
	r := g.free(avoid...)
	g.makeScalar(r)
	return r
}

// makeScalar loads a new number into r: a constant or packet data.
func (g *gen) makeScalar(r uint8) {
	switch g.n(5) {
	case 0:
		g.lddw(r, g.edge())
	case 1:
		g.movI(false, r, g.imm())
	case 2:
		if g.on(FeatPacket) && g.room(6) {
			g.pktLoadInto(r)
			return
		}
		fallthrough
	default:
		g.movI(true, r, g.imm())
	}
}

// --- maps ---

func (g *gen) makeMaps() {
	if !g.on(FeatMaps) {
		return
	}
	vs := []uint32{4, 8, 12, 16, 24, 32, 48, 64}
	add := func(s MapSpec) {
		g.maps = append(g.maps, s)
		g.contents = append(g.contents, nil)
	}
	add(MapSpec{Name: "arr", Type: MapArray, KeySize: 4, ValueSize: vs[g.n(len(vs))], MaxEntries: uint32(1 + g.n(8))})
	if g.chance(0.6) {
		ks := []uint32{4, 8}[g.n(2)]
		add(MapSpec{Name: "hash", Type: MapHash, KeySize: ks, ValueSize: vs[1+g.n(len(vs)-1)], MaxEntries: uint32(4 + g.n(13))})
	}
	if g.chance(0.3) {
		add(MapSpec{Name: "pcpu_arr", Type: MapPerCPUArray, KeySize: 4, ValueSize: vs[1+g.n(len(vs)-1)], MaxEntries: uint32(1 + g.n(4))})
	}
	if g.chance(0.25) {
		add(MapSpec{Name: "pcpu_hash", Type: MapPerCPUHash, KeySize: 4, ValueSize: vs[1+g.n(len(vs)-1)], MaxEntries: uint32(4 + g.n(8))})
	}
	if g.on(FeatRingBuf) && g.chance(0.25) {
		add(MapSpec{Name: "rb", Type: MapRingBuf, MaxEntries: ringBufBytes})
	}
	if g.chance(0.2) {
		add(MapSpec{Name: "ro", Type: MapArray, KeySize: 4, ValueSize: 8, MaxEntries: 1, Flags: FlagRdonlyProg})
	}
	for i, m := range g.maps {
		g.contents[i] = g.fillMap(m)
	}
}

// value returns map value bytes: small numbers mostly (they are used as
// offsets and loop bounds), edge constants and random bytes.
func (g *gen) value(n int) []byte {
	b := make([]byte, n)
	for i := 0; i+8 <= n; i += 8 {
		var v uint64
		switch g.n(4) {
		case 0:
			v = g.edge()
		case 1:
			v = g.r.Uint64()
		default:
			v = uint64(g.n(80))
		}
		binary.LittleEndian.PutUint64(b[i:], v)
	}
	if n%8 != 0 {
		for i := n &^ 7; i < n; i++ {
			b[i] = byte(g.n(256))
		}
	}
	return b
}

func (g *gen) fillMap(m MapSpec) []MapEntry {
	var out []MapEntry
	switch m.Type {
	case MapArray, MapPerCPUArray:
		for i := uint32(0); i < m.MaxEntries; i++ {
			if g.chance(0.8) {
				k := binary.LittleEndian.AppendUint32(nil, i)
				out = append(out, MapEntry{Key: k, Value: g.value(int(m.ValueSize))})
			}
		}
	case MapHash, MapPerCPUHash:
		n := g.n(int(m.MaxEntries) + 1)
		seen := map[uint64]bool{}
		for i := 0; i < n; i++ {
			k := uint64(g.n(6))
			if g.chance(0.3) {
				k = g.edge()
			}
			if m.KeySize == 4 {
				k = uint64(uint32(k))
			}
			if seen[k] {
				continue
			}
			seen[k] = true
			key := make([]byte, m.KeySize)
			if m.KeySize == 4 {
				binary.LittleEndian.PutUint32(key, uint32(k))
			} else {
				binary.LittleEndian.PutUint64(key, k)
			}
			out = append(out, MapEntry{Key: key, Value: g.value(int(m.ValueSize))})
		}
	}
	return out
}

// mapOf returns the index of a random map whose type is in types.
func (g *gen) mapOf(types ...MapType) (int, bool) {
	var c []int
	for i, m := range g.maps {
		for _, t := range types {
			if m.Type == t {
				c = append(c, i)
			}
		}
	}
	if len(c) == 0 {
		return 0, false
	}
	return c[g.n(len(c))], true
}

// --- packets ---

func (g *gen) packets() [][]byte {
	lens := []int{0, 1, 13, 14, 15, 20, 33, 34, 35, 42, 54, 60, 64, 100, 128, 256, 1500}
	var out [][]byte
	for i := 0; i < g.cfg.Packets; i++ {
		var n int
		switch {
		case len(g.bounds) > 0 && g.chance(0.5):
			n = g.bounds[g.n(len(g.bounds))] + g.n(3) - 1
		case g.chance(0.6):
			n = lens[g.n(len(lens))]
		default:
			n = g.n(1501)
		}
		n = max(0, min(n, 1500))
		out = append(out, g.packet(n))
	}
	return out
}

func (g *gen) packet(n int) []byte {
	p := make([]byte, n)
	for i := 0; i < n; i += 8 {
		var w [8]byte
		binary.LittleEndian.PutUint64(w[:], g.r.Uint64())
		switch g.n(4) {
		case 0: // edge bytes
			for k := range w {
				w[k] = []byte{0, 0xff, 0x80, 0x7f}[w[k]&3]
			}
		case 1: // small numbers
			for k := range w {
				w[k] &= 15
			}
		}
		copy(p[i:], w[:])
	}
	if n >= 34 && g.chance(0.6) {
		// Ethernet, IPv4, TCP or UDP
		p[12], p[13] = 0x08, 0x00
		p[14] = 0x45
		if g.chance(0.3) {
			p[14] = 0x40 | byte(5+g.n(11))
		}
		binary.BigEndian.PutUint16(p[16:], uint16(n-14))
		p[23] = []byte{6, 17, 1}[g.n(3)]
	}
	return p
}

// noteBound records a packet length a check compares with, so that
// packets of that length and one either side get generated.
func (g *gen) noteBound(n int) {
	if n >= 0 && n <= 1500 && len(g.bounds) < 32 {
		g.bounds = append(g.bounds, n)
	}
}

// clz is used to make masks from bounds.
func maskFor(n uint64) uint64 {
	if n == 0 {
		return 0
	}
	return 1<<bits.Len64(n) - 1
}
