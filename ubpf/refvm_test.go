package ubpf_test

// The reference interpreter
//
// refVM runs a program the way the instruction set (RFC 9669) and goko's
// ABI define it, slowly and simply, while keeping shadow state the real
// VM does not have:
//
//   - every value remembers whether it is a pointer and into which object
//     (a stack frame of a given call, the packet, the XDP context, one
//     map value, one ring buffer record, a map handle), so every access
//     is checked against that object's bounds, not against a whole
//     region: an array map's region holds all its elements, and the
//     stack region all eight frames;
//   - numbers computed from a pointer by anything other than adding or
//     subtracting a number, or subtracting two pointers into one object,
//     are marked as laundered addresses;
//   - every stack byte has a "written in this run" bit, cleared for a
//     callee's frame when it is called, and every 8 bytes of a pointer
//     spill are tagged so that a fill gets the pointer back;
//   - every register has an "initialised" bit (r1-r5 die at calls, r6-r9
//     start dead in a callee).
//
// It is only an oracle: it tells the soundness test what an accepted
// program must never do (a violation), and what it should return. The
// address layout (region << 32 | offset, the map handle values, r10 of
// each frame, the order dynamic regions are handed out) is the VM's, taken
// from export_test.go, so that pointer comparisons and so the whole run
// follow the same path in both. Its maps are models kept in step with the
// VM's real maps across runs: arrays, hash maps with the VM's slab and
// free-list order, per-thread variants seen from one thread slot, and the
// ring buffer's reservation arithmetic.
//
// What counts as a violation (each one something Linux's verifier
// rejects, and goko's must too):
//   - an access outside the object its pointer points into, through a
//     number, through a laundered address, through a pointer to a frame
//     that has returned, or through a pointer that may not be
//     dereferenced (packet end, map handle);
//   - a read of stack bytes not written in this run, or of a register
//     never set;
//   - a write to the packet, to the context, to a read-only map;
//   - a pointer stored anywhere but the stack, or returned from the
//     program;
//   - helper arguments of the wrong kind, a ring buffer record used
//     after it was released or still held at exit, a call chain deeper
//     than the VM's, a misaligned atomic access, a context access other
//     than an aligned 32-bit load of a field of struct xdp_md.
//
// Laundered addresses (ptr & mask, 32-bit arithmetic on a pointer) are
// not violations by themselves: goko's verifier deliberately turns them
// into unknown numbers, as Linux does for privileged programs, and the
// VM's addresses are virtual (region << 32 | offset) so they reveal no
// host memory. Dereferencing one is a violation.

import (
	"encoding/binary"
	"fmt"
	"math/bits"

	"github.com/goko-net/goko/ubpf"
	"github.com/goko-net/goko/ubpf/internal/progen"
)

// VM address layout mirrored from the real VM.
var (
	lay          = ubpf.VMLayout
	regionStack  = lay.RegionStack
	regionCtx    = lay.RegionCtx
	regionPacket = lay.RegionPacket
	regionStatic = lay.RegionStatic
)

// refMaxSteps bounds a reference run; loops the verifier accepted end
// long before (the VM's own budget counts 8M back-edges).
const refMaxSteps = 1 << 22

type objKind uint8

const (
	oStack objKind = iota + 1
	oCtx
	oPkt
	oPktEnd
	oMapValue
	oRingRec
	oMapHandle
	oFunc // a function's address, for bpf_loop
)

var objNames = map[objKind]string{oStack: "stack", oCtx: "ctx", oPkt: "packet", oPktEnd: "packet end",
	oMapValue: "map value", oRingRec: "ring buffer record", oMapHandle: "map handle", oFunc: "function"}

// obj is the memory a pointer points into: addresses [lo, hi).
type obj struct {
	kind    objKind
	lo, hi  uint64
	ro      bool
	frame   int    // oStack: call depth of the frame
	gen     uint32 // oStack: which call of that depth
	rec     int    // oRingRec: reservation number
	mapIdx  int
	noDeref bool
	reload  bool // oPkt: from a ctx->data load after the first of the run
}

// val is a register or stack value with its shadow state.
type val struct {
	v     uint64
	p     *obj // a pointer into p
	init  bool
	leak  bool // a number computed from an address
	konst bool // computed from immediates only (a verifier knows it exactly)
}

func num(v uint64) val { return val{v: v, init: true} }

func konst(v uint64) val { return val{v: v, init: true, konst: true} }

// violation is something an accepted program did that the verifier must
// have ruled out.
type violation struct {
	PC     int
	Kind   string // short class, part of a failure's signature
	Detail string
}

func (v *violation) Error() string { return fmt.Sprintf("insn %d: %s: %s", v.PC, v.Kind, v.Detail) }

type refSkip string

type refResult struct {
	ret    uint64
	viol   *violation
	skip   string // no verdict: budget, unsupported helper, resources
	nondet bool   // the result depends on time, randomness or stale memory
}

// refMap models one map.
type refMap struct {
	spec   ubpf.MapSpec
	stride int
	static int // index of its static region, or -1
	// arrays: one slot's elements; hash maps: the value slab
	data []byte
	keys map[string]int
	free []int
	// ring buffer
	prod, size uint64
}

func newRefMap(s ubpf.MapSpec, static int) *refMap {
	m := &refMap{spec: s, stride: (int(s.ValueSize) + 7) &^ 7, static: static}
	switch s.Type {
	case ubpf.MapArray, ubpf.MapPerThreadArray:
		m.data = make([]byte, m.stride*int(s.MaxEntries))
		copy(m.data, s.Data)
	case ubpf.MapHash, ubpf.MapPerThreadHash:
		m.data = make([]byte, m.stride*int(s.MaxEntries))
		m.keys = map[string]int{}
		for i := int(s.MaxEntries) - 1; i >= 0; i-- {
			m.free = append(m.free, i)
		}
	case ubpf.MapRingBuf:
		m.size = uint64(s.MaxEntries)
	}
	return m
}

func (m *refMap) value(e int) []byte {
	return m.data[e*m.stride : e*m.stride+int(m.spec.ValueSize)]
}

// update is Map.Update's semantics (for one thread slot); it returns the
// helper's result.
func (m *refMap) update(key, v []byte, flags uint64) uint64 {
	if flags > 2 {
		return neg(22)
	}
	switch m.spec.Type {
	case ubpf.MapArray, ubpf.MapPerThreadArray:
		i := binary.LittleEndian.Uint32(key)
		if uint64(i) >= uint64(m.spec.MaxEntries) {
			return neg(7)
		}
		if flags == 1 {
			return neg(17)
		}
		copy(m.value(int(i)), v)
		return 0
	case ubpf.MapHash, ubpf.MapPerThreadHash:
		if e, ok := m.keys[string(key)]; ok {
			if flags == 1 {
				return neg(17)
			}
			copy(m.value(e), v)
			return 0
		}
		if flags == 2 {
			return neg(2)
		}
		if len(m.free) == 0 {
			return neg(7)
		}
		e := m.free[len(m.free)-1]
		m.free = m.free[:len(m.free)-1]
		m.keys[string(key)] = e
		copy(m.value(e), v)
		return 0
	}
	return neg(95)
}

func (m *refMap) delete(key []byte) uint64 {
	switch m.spec.Type {
	case ubpf.MapHash, ubpf.MapPerThreadHash:
		e, ok := m.keys[string(key)]
		if !ok {
			return neg(2)
		}
		delete(m.keys, string(key))
		m.free = append(m.free, e)
		return 0
	case ubpf.MapArray, ubpf.MapPerThreadArray:
		return neg(22)
	}
	return neg(95)
}

// reserve is the ring buffer's reservation arithmetic (nothing consumes
// records in the test, so the consumer position stays 0).
func (m *refMap) reserve(n uint64) bool {
	total := 8 + (n+7)&^7
	if n == 0 || n > 1<<28 || total > m.size/2 {
		return false
	}
	pos := m.prod % m.size
	pad := uint64(0)
	if pos+total > m.size {
		pad = m.size - pos
	}
	if m.prod+pad+total > m.size {
		return false
	}
	m.prod += pad + total
	return true
}

func neg(e uint64) uint64 { return -e }

// dynRegion is a region handed out during a run (map value, ring record).
type dynRegion struct {
	mem      []byte
	ident    [2]int // map, entry (hash values) or -1, reservation
	writable bool
	ring     bool
	live     bool
}

type refFrame struct {
	ret   int
	saved [4]val
	fp    val
}

type refVM struct {
	insns   []ubpf.RawInsn
	kind    ubpf.Kind
	maps    []*refMap
	dynBase uint64
	slot    uint64
	ifindex uint32
	rxq     uint32

	// per run
	pc       int
	pkt      []byte
	ctx      [24]byte
	stack    [4096]byte
	written  [4096]bool
	tag      [4096]int32 // 0 none, -1 laundered address, else 8*(tag id)+byte+1
	tags     []val
	gens     [8]uint32
	depth    int
	frames   [8]refFrame
	regs     [11]val
	dyn      []dynRegion
	nres     int
	held     map[int]bool // reservation number -> not yet released
	nextRes  int
	nondet   bool
	steps    int
	ctxObj   *obj
	pktObj   *obj
	stackObj [8]*obj

	// what a known verifier bug needs, seen in the runs so far
	events    map[string]bool
	ctxAnn    []uint8   // the VM's context rewrites (ubpf.CtxRewrites)
	dataLoads int       // ctx->data loads in this run
	spillK    [512]bool // per 8-byte stack slot: holds an aligned spill of a number
	spillC    [512]bool // ... of a number computed from immediates only
	loops     [8]refLoop
}

// refLoop is a bpf_loop in progress at one call depth.
type refLoop struct {
	i, nr uint64
	cb    int
	cx    val
}

// Events the soundness test attributes failures to known bugs by (see
// soundness_known_test.go).
const (
	evJmp32SignedConst = "jmp32 signed comparison of a constant with bit 31 set"
	evMisalignedFill   = "stack read across the slot boundary of a spilled number"
	evCtxRewrite       = "context load rewritten for another field"
	evNarrowPtrStore   = "narrow store of a pointer"
	evEnd64Alu32       = "le64 or be64 in the 32-bit ALU class on a value with upper bits set"
	evHelperPtrCopy    = "helper copies stack bytes of a spilled pointer"
	evPktReloadOOB     = "packet access out of bounds through a reloaded ctx->data"
)

func (r *refVM) event(e string) {
	if r.events == nil {
		r.events = map[string]bool{}
	}
	r.events[e] = true
}

func newRefVM(insns []ubpf.RawInsn, kind ubpf.Kind, specs []ubpf.MapSpec, contents [][]progen.MapEntry, slot int) *refVM {
	r := &refVM{insns: insns, kind: kind, slot: uint64(slot)}
	static := 0
	for i, s := range specs {
		si := -1
		if s.Type == ubpf.MapArray || s.Type == ubpf.MapPerThreadArray {
			si = static
			static++
		}
		m := newRefMap(s, si)
		if i < len(contents) {
			for _, e := range contents[i] {
				m.update(e.Key, e.Value, 0)
			}
		}
		r.maps = append(r.maps, m)
	}
	r.dynBase = regionStatic + uint64(static)
	return r
}

func (r *refVM) fail(kind, format string, args ...any) {
	panic(&violation{PC: r.pc, Kind: kind, Detail: fmt.Sprintf(format, args...)})
}

func (r *refVM) skip(why string) { panic(refSkip(why)) }

// run runs the program on pkt (the VM's maps must be in the state the
// models are in).
func (r *refVM) run(pkt []byte) (res refResult) {
	r.pkt = append(r.pkt[:0], pkt...)
	r.written = [4096]bool{}
	r.tag = [4096]int32{}
	r.spillK = [512]bool{}
	r.spillC = [512]bool{}
	r.tags = r.tags[:0]
	r.pc, r.depth, r.nres, r.nondet, r.steps, r.nextRes, r.dataLoads = 0, 0, 0, false, 0, 0, 0
	r.dyn = r.dyn[:0]
	r.held = map[int]bool{}
	r.regs = [11]val{}
	for i := range r.gens {
		r.gens[i]++
	}
	r.ctxObj = &obj{kind: oCtx, lo: regionCtx << 32, hi: regionCtx<<32 + 24, ro: true}
	r.pktObj = &obj{kind: oPkt, lo: regionPacket << 32, hi: regionPacket<<32 + uint64(len(pkt)), ro: true}
	r.stackObj = [8]*obj{}
	binary.LittleEndian.PutUint32(r.ctx[12:], r.ifindex)
	binary.LittleEndian.PutUint32(r.ctx[16:], r.rxq)
	r.regs[10] = r.framePtr(0)
	switch r.kind {
	case ubpf.KindXDP:
		r.regs[1] = val{v: regionCtx << 32, p: r.ctxObj, init: true}
	default:
		r.regs[1] = val{v: regionPacket << 32, p: r.pktObj, init: true}
		r.regs[2] = num(uint64(len(pkt)))
	}
	defer func() {
		if e := recover(); e != nil {
			switch x := e.(type) {
			case *violation:
				res = refResult{viol: x, nondet: r.nondet}
			case refSkip:
				res = refResult{skip: string(x), nondet: r.nondet}
			default:
				panic(e)
			}
		}
	}()
	ret := r.exec()
	return refResult{ret: ret, nondet: r.nondet}
}

func (r *refVM) framePtr(d int) val {
	top := regionStack<<32 | lay.StackSize
	fp := top - uint64(d)*lay.FrameSize
	o := &obj{kind: oStack, lo: fp - lay.FrameSize, hi: fp, frame: d, gen: r.gens[d]}
	r.stackObj[d] = o
	return val{v: fp, p: o, init: true}
}

func (r *refVM) get(reg uint8) val {
	v := r.regs[reg]
	if !v.init {
		r.fail("uninit-reg", "R%d read before it was set", reg)
	}
	return v
}

func (r *refVM) exec() uint64 {
	n := len(r.insns)
	for {
		if r.pc < 0 || r.pc >= n {
			r.fail("fell-off", "execution left the program")
		}
		if r.steps++; r.steps > refMaxSteps {
			r.skip("step budget")
		}
		in := r.insns[r.pc]
		cls := in.Op & 7
		switch cls {
		case 0x04, 0x07:
			r.alu(in, cls == 0x07)
		case 0x05, 0x06:
			done, ret := r.jmp(in, cls == 0x06)
			if done {
				return ret
			}
			continue
		case 0x01:
			base := r.get(in.Src)
			size := memSize(in.Op)
			a := base.v + uint64(int64(in.Off))
			var v val
			if base.p != nil && base.p.kind == oCtx {
				v = r.ctxLoad(base, a, size)
			} else {
				v = r.load(base, a, size)
			}
			if in.Op&0xe0 == 0x80 && v.p == nil {
				switch size {
				case 1:
					v.v = uint64(int64(int8(v.v)))
				case 2:
					v.v = uint64(int64(int16(v.v)))
				case 4:
					v.v = uint64(int64(int32(v.v)))
				}
			}
			r.regs[in.Dst] = v
		case 0x02:
			base := r.get(in.Dst)
			r.store(base, base.v+uint64(int64(in.Off)), memSize(in.Op), konst(uint64(int64(in.Imm))))
		case 0x03:
			base := r.get(in.Dst)
			src := r.get(in.Src)
			if in.Op&0xe0 == 0xc0 {
				r.atomic(in, base, src)
			} else {
				r.store(base, base.v+uint64(int64(in.Off)), memSize(in.Op), src)
			}
		case 0x00:
			if in.Op == 0x18 {
				r.lddw(in)
				r.pc += 2
				continue
			}
			if done := r.ldAbs(in); done {
				return 0
			}
		}
		r.pc++
	}
}

func memSize(op uint8) int {
	return [4]int{4, 2, 1, 8}[op>>3&3]
}

func (r *refVM) lddw(in ubpf.RawInsn) {
	hi := r.insns[r.pc+1].Imm
	switch in.Src {
	case 0:
		r.regs[in.Dst] = konst(uint64(uint32(in.Imm)) | uint64(uint32(hi))<<32)
	case 1, 5:
		o := &obj{kind: oMapHandle, lo: lay.MapHandleBase + uint64(in.Imm), mapIdx: int(in.Imm), noDeref: true}
		o.hi = o.lo + 1
		r.regs[in.Dst] = val{v: o.lo, p: o, init: true}
	case 2, 6:
		m := r.maps[in.Imm]
		base := (regionStatic + uint64(m.static)) << 32
		o := &obj{kind: oMapValue, lo: base, hi: base + uint64(m.spec.ValueSize), ro: m.spec.Flags&ubpf.FlagRdonlyProg != 0, mapIdx: int(in.Imm)}
		r.regs[in.Dst] = val{v: base + uint64(uint32(hi)), p: o, init: true}
	case 4:
		t := r.pc + 1 + int(in.Imm)
		o := &obj{kind: oFunc, lo: uint64(t), hi: uint64(t) + 1, noDeref: true}
		r.regs[in.Dst] = val{v: uint64(t), p: o, init: true}
	default:
		r.fail("bad-lddw", "lddw src %d", in.Src)
	}
}

// loopStart runs bpf_loop(nr, callback, ctx, flags) at r.pc.
func (r *refVM) loopStart() {
	nr, cb, cx, flags := r.get(1), r.get(2), r.get(3), r.get(4)
	if cb.p == nil || cb.p.kind != oFunc {
		r.fail("bad-helper-arg", "bpf_loop's callback is not a function address")
	}
	if cx.p != nil && cx.p.kind != oStack || cx.p == nil && cx.v != 0 || flags.p != nil || flags.v != 0 {
		r.fail("bad-helper-arg", "bpf_loop's ctx must point to the stack or be NULL, and its flags be 0")
	}
	switch {
	case nr.v > 1<<23:
		r.regs[0] = num(uint64(1<<64 - 7)) // -E2BIG
	case nr.v == 0:
		r.regs[0] = num(0)
	default:
		r.loops[r.depth] = refLoop{nr: nr.v, cb: int(cb.v), cx: cx}
		r.loopCall(r.pc, 0)
		return
	}
	for i := 1; i <= 5; i++ {
		r.regs[i] = val{}
	}
	r.pc++
}

// loopCall enters the callback of the loop at the current depth for
// iteration i; the return lands on the marker -1-site.
func (r *refVM) loopCall(site int, i uint64) {
	l := &r.loops[r.depth]
	in := ubpf.RawInsn{Imm: int32(l.cb - site - 1)}
	r.pc = site
	r.callLocal(in)
	r.frames[r.depth-1].ret = -1 - site
	r.regs[1], r.regs[2] = num(i), l.cx
	for i := 3; i <= 5; i++ {
		r.regs[i] = val{}
	}
}

// loopReturn continues the loop whose callback returned r0.
func (r *refVM) loopReturn(site int, r0 val) {
	if r0.p != nil || r0.v > 1 {
		r.fail("bad-callback-return", "bpf_loop's callback returned %#x (want 0 or 1)", r0.v)
	}
	l := &r.loops[r.depth]
	l.i++
	if r0.v != 0 || l.i >= l.nr {
		r.regs[0] = num(l.i)
		r.pc = site + 1
		return
	}
	r.loopCall(site, l.i)
}

// ldAbs runs a legacy packet load; it reports whether it ended the
// program (out of bounds: return 0).
func (r *refVM) ldAbs(in ubpf.RawInsn) bool {
	o := uint64(int64(in.Imm))
	if in.Op&0xe0 == 0x40 {
		o += r.get(in.Src).v
	}
	n := uint64(memSize(in.Op))
	for i := 1; i <= 5; i++ {
		r.regs[i] = val{}
	}
	if o+n > uint64(len(r.pkt)) || o+n < o {
		return true
	}
	var v uint64
	for i := uint64(0); i < n; i++ {
		v = v<<8 | uint64(r.pkt[o+i])
	}
	r.regs[0] = num(v)
	return false
}

// --- ALU ---

func (r *refVM) alu(in ubpf.RawInsn, is64 bool) {
	code := in.Op & 0xf0
	isReg := in.Op&0x08 != 0
	d := r.regs[in.Dst]
	var s val
	switch {
	case code == 0xd0 || code == 0x80: // unary
	case isReg:
		s = r.get(in.Src)
	case is64:
		s = konst(uint64(int64(in.Imm)))
	default:
		s = konst(uint64(uint32(in.Imm)))
	}
	if code != 0xb0 {
		d = r.get(in.Dst)
	} else {
		d = val{} // a move ignores what dst held
	}
	// pointers: only 64-bit add and sub keep them
	if d.p != nil || s.p != nil {
		switch {
		case code == 0xb0 && is64 && in.Off == 0:
			r.regs[in.Dst] = s
			return
		case is64 && code == 0x00 && d.p != nil && s.p == nil:
			d.v += s.v
			d.leak = d.leak || s.leak
			r.regs[in.Dst] = d
			return
		case is64 && code == 0x00 && d.p == nil && s.p != nil:
			s.v += d.v
			s.leak = s.leak || d.leak
			r.regs[in.Dst] = s
			return
		case is64 && code == 0x10 && d.p != nil && s.p == nil:
			d.v -= s.v
			d.leak = d.leak || s.leak
			r.regs[in.Dst] = d
			return
		case is64 && code == 0x10 && d.p != nil && s.p != nil:
			same := d.p == s.p || (d.p.kind == s.p.kind && d.p.lo == s.p.lo)
			r.regs[in.Dst] = val{v: d.v - s.v, init: true, leak: !same || d.leak || s.leak}
			return
		}
		// anything else launders the address into a number
		res := aluValue(in, is64, d.v, s.v)
		r.regs[in.Dst] = val{v: res, init: true, leak: true}
		return
	}
	if code == 0xd0 && !is64 && in.Imm == 64 && d.v>>32 != 0 {
		r.event(evEnd64Alu32)
	}
	res := aluValue(in, is64, d.v, s.v)
	leak := s.leak || (code != 0xb0 && d.leak)
	k := s.konst || code == 0xd0 || code == 0x80
	if code != 0xb0 {
		k = k && d.konst
	}
	r.regs[in.Dst] = val{v: res, init: true, leak: leak, konst: k}
}

// aluValue is RFC 9669's arithmetic.
func aluValue(in ubpf.RawInsn, is64 bool, a, b uint64) uint64 {
	code := in.Op & 0xf0
	signed := in.Off == 1
	if code == 0xd0 {
		w := in.Imm
		switch {
		case is64 || in.Op&0x08 != 0: // bswap, or to big endian
			switch w {
			case 16:
				return uint64(bits.ReverseBytes16(uint16(a)))
			case 32:
				return uint64(bits.ReverseBytes32(uint32(a)))
			}
			return bits.ReverseBytes64(a)
		case w == 16:
			return uint64(uint16(a))
		case w == 32:
			return uint64(uint32(a))
		}
		return a
	}
	if code == 0xb0 && in.Off != 0 { // movsx
		var x int64
		switch in.Off {
		case 8:
			x = int64(int8(b))
		case 16:
			x = int64(int16(b))
		default:
			x = int64(int32(b))
		}
		if is64 {
			return uint64(x)
		}
		return uint64(uint32(x))
	}
	if !is64 {
		x, y := uint32(a), uint32(b)
		var z uint32
		switch code {
		case 0x00:
			z = x + y
		case 0x10:
			z = x - y
		case 0x20:
			z = x * y
		case 0x30:
			switch {
			case y == 0:
				z = 0
			case signed:
				z = uint32(int32(x) / int32(y))
			default:
				z = x / y
			}
		case 0x40:
			z = x | y
		case 0x50:
			z = x & y
		case 0x60:
			z = x << (y & 31)
		case 0x70:
			z = x >> (y & 31)
		case 0x80:
			z = -x
		case 0x90:
			switch {
			case y == 0:
				z = x
			case signed:
				z = uint32(int32(x) % int32(y))
			default:
				z = x % y
			}
		case 0xa0:
			z = x ^ y
		case 0xb0:
			z = y
		case 0xc0:
			z = uint32(int32(x) >> (y & 31))
		}
		return uint64(z)
	}
	switch code {
	case 0x00:
		return a + b
	case 0x10:
		return a - b
	case 0x20:
		return a * b
	case 0x30:
		switch {
		case b == 0:
			return 0
		case signed:
			return uint64(int64(a) / int64(b))
		}
		return a / b
	case 0x40:
		return a | b
	case 0x50:
		return a & b
	case 0x60:
		return a << (b & 63)
	case 0x70:
		return a >> (b & 63)
	case 0x80:
		return -a
	case 0x90:
		switch {
		case b == 0:
			return a
		case signed:
			return uint64(int64(a) % int64(b))
		}
		return a % b
	case 0xa0:
		return a ^ b
	case 0xb0:
		return b
	case 0xc0:
		return uint64(int64(a) >> (b & 63))
	}
	return 0
}

// --- jumps and calls ---

func cond(code uint8, is32 bool, a, b uint64) bool {
	if is32 {
		a, b = uint64(uint32(a)), uint64(uint32(b))
		switch code {
		case 0x60:
			return int32(a) > int32(b)
		case 0x70:
			return int32(a) >= int32(b)
		case 0xc0:
			return int32(a) < int32(b)
		case 0xd0:
			return int32(a) <= int32(b)
		}
	}
	switch code {
	case 0x10:
		return a == b
	case 0x20:
		return a > b
	case 0x30:
		return a >= b
	case 0x40:
		return a&b != 0
	case 0x50:
		return a != b
	case 0x60:
		return int64(a) > int64(b)
	case 0x70:
		return int64(a) >= int64(b)
	case 0xa0:
		return a < b
	case 0xb0:
		return a <= b
	case 0xc0:
		return int64(a) < int64(b)
	case 0xd0:
		return int64(a) <= int64(b)
	}
	return false
}

// jmp runs a jump, call or exit; it sets r.pc, and reports the end of
// the program with r0.
func (r *refVM) jmp(in ubpf.RawInsn, is32 bool) (bool, uint64) {
	code := in.Op & 0xf0
	switch code {
	case 0x00:
		if is32 {
			r.pc += 1 + int(in.Imm)
		} else {
			r.pc += 1 + int(in.Off)
		}
		return false, 0
	case 0x90:
		return r.exit()
	case 0x80:
		if in.Src == 1 {
			r.callLocal(in)
			return false, 0
		}
		if in.Op&0x08 != 0 {
			r.skip("callx")
		}
		if in.Imm == 181 {
			r.loopStart()
			return false, 0
		}
		r.callHelper(in.Imm)
		r.pc++
		return false, 0
	}
	a := r.get(in.Dst)
	var b val
	switch {
	case in.Op&0x08 != 0:
		b = r.get(in.Src)
	case is32:
		b = num(uint64(uint32(in.Imm)))
	default:
		b = num(uint64(int64(in.Imm)))
	}
	if is32 && code >= 0x60 && code != 0xa0 && code != 0xb0 {
		for _, x := range []val{a, b} {
			if x.konst && x.v>>32 == 0 && x.v&0x80000000 != 0 {
				r.event(evJmp32SignedConst)
			}
		}
	}
	if cond(code, is32, a.v, b.v) {
		r.pc += 1 + int(in.Off)
	} else {
		r.pc++
	}
	return false, 0
}

func (r *refVM) exit() (bool, uint64) {
	r0 := r.get(0)
	if r.depth == 0 {
		if r0.p != nil {
			r.fail("ptr-return", "the program returns a pointer into %s", objNames[r0.p.kind])
		}
		for id, held := range r.held {
			if held {
				r.fail("unreleased-ref", "ring buffer record %d still reserved at exit", id)
			}
		}
		return true, r0.v
	}
	if r0.p != nil && r0.p.kind == oStack && r0.p.frame == r.depth {
		r.fail("ptr-return", "a subprogram returns a pointer to its own frame")
	}
	r.depth--
	f := &r.frames[r.depth]
	for i := 0; i < 4; i++ {
		r.regs[6+i] = f.saved[i]
	}
	r.regs[10] = f.fp
	for i := 1; i <= 5; i++ {
		r.regs[i] = val{}
	}
	if f.ret < 0 {
		r.loopReturn(-1-f.ret, r0)
		return false, 0
	}
	r.pc = f.ret
	return false, 0
}

func (r *refVM) callLocal(in ubpf.RawInsn) {
	if uint64(r.depth) >= lay.MaxCallDepth-1 {
		r.fail("call-depth", "call chain deeper than %d frames", lay.MaxCallDepth)
	}
	f := &r.frames[r.depth]
	f.ret = r.pc + 1
	for i := 0; i < 4; i++ {
		f.saved[i] = r.regs[6+i]
	}
	f.fp = r.regs[10]
	r.depth++
	// the callee's frame starts unwritten
	r.gens[r.depth]++
	top := lay.StackSize - uint64(r.depth)*lay.FrameSize
	for i := top - lay.FrameSize; i < top; i++ {
		r.written[i] = false
		r.tag[i] = 0
		r.spillK[i/8] = false
		r.spillC[i/8] = false
	}
	r.regs[10] = r.framePtr(r.depth)
	for i := 6; i <= 9; i++ {
		r.regs[i] = val{}
	}
	r.regs[0] = val{}
	r.pc += 1 + int(in.Imm)
}

// --- memory ---

// check validates an access of n bytes at address a through base and
// returns the backing bytes.
func (r *refVM) check(base val, a uint64, n int, write bool) []byte {
	if base.p == nil {
		if base.leak {
			r.fail("leaked-deref", "access through a number computed from an address (%#x)", a)
		}
		r.fail("scalar-deref", "access through a number (%#x)", a)
	}
	o := base.p
	if o.noDeref {
		r.fail("bad-deref", "access through a %s pointer", objNames[o.kind])
	}
	if o.kind == oStack && (o.frame > r.depth || r.gens[o.frame] != o.gen) {
		r.fail("stale-stack", "access through a pointer to a frame that has returned")
	}
	if o.kind == oRingRec && !r.held[o.rec] {
		r.fail("use-after-release", "access to a ring buffer record after submit or discard")
	}
	if a < o.lo || a+uint64(n) > o.hi || a+uint64(n) < a {
		if o.reload {
			r.event(evPktReloadOOB)
		}
		r.fail("oob", "%s of %d bytes at offset %d of a %s of %d bytes", rw(write), n, int64(a-o.lo), objNames[o.kind], o.hi-o.lo)
	}
	if write && (o.ro || o.kind == oCtx) {
		r.fail("readonly-write", "write into the %s", objNames[o.kind])
	}
	mem := r.backing(a)
	off := a & 0xffffffff
	if mem == nil || off+uint64(n) > uint64(len(mem)) {
		r.fail("oob", "no backing memory at %#x", a)
	}
	if o.kind == oRingRec && !write {
		r.nondet = true // records hold what earlier records left there
	}
	return mem[off : off+uint64(n)]
}

func rw(write bool) string {
	if write {
		return "write"
	}
	return "read"
}

func (r *refVM) backing(a uint64) []byte {
	reg := a >> 32
	switch {
	case reg == regionStack:
		return r.stack[:]
	case reg == regionPacket:
		return r.pkt
	case reg == regionCtx:
		return r.ctx[:]
	case reg >= regionStatic && reg < r.dynBase:
		si := int(reg - regionStatic)
		for _, m := range r.maps {
			if m.static == si {
				return m.data
			}
		}
	case reg >= r.dynBase && reg-r.dynBase < uint64(len(r.dyn)):
		d := r.dyn[reg-r.dynBase]
		if d.live {
			return d.mem
		}
	}
	return nil
}

func (r *refVM) load(base val, a uint64, n int) val {
	b := r.check(base, a, n, false)
	var v uint64
	for i := n - 1; i >= 0; i-- {
		v = v<<8 | uint64(b[i])
	}
	if base.p.kind != oStack {
		return num(v)
	}
	off := a & 0xffffffff
	for i := uint64(0); i < uint64(n); i++ {
		if !r.written[off+i] {
			r.fail("uninit-stack", "read of %d bytes at fp%+d: byte %d never written in this run",
				n, int64(a)-int64(base.p.hi), i)
		}
	}
	if off%8+uint64(n) > 8 && r.spillK[off/8] {
		r.event(evMisalignedFill)
	}
	if n == 8 && off%8 == 0 && r.spillC[off/8] {
		return konst(v)
	}
	// a whole pointer spill comes back as the pointer
	t0 := r.tag[off]
	if n == 8 && t0 > 0 && (t0-1)%8 == 0 {
		whole := true
		for i := int32(1); i < 8; i++ {
			whole = whole && r.tag[off+uint64(i)] == t0+i
		}
		if whole {
			p := r.tags[(t0-1)/8]
			if p.v == v {
				return p
			}
		}
	}
	res := num(v)
	for i := uint64(0); i < uint64(n); i++ {
		res.leak = res.leak || r.tag[off+i] != 0
	}
	return res
}

func (r *refVM) store(base val, a uint64, n int, v val) {
	b := r.check(base, a, n, true)
	if v.p != nil && n < 8 {
		r.event(evNarrowPtrStore)
	}
	if v.p != nil && base.p.kind != oStack {
		r.fail("ptr-store", "pointer into %s stored into a %s", objNames[v.p.kind], objNames[base.p.kind])
	}
	for i := 0; i < n; i++ {
		b[i] = byte(v.v >> (8 * i))
	}
	if base.p.kind != oStack {
		return
	}
	off := a & 0xffffffff
	for s := off / 8; s <= (off+uint64(n)-1)/8; s++ {
		r.spillK[s], r.spillC[s] = false, false
	}
	if n == 8 && off%8 == 0 && v.p == nil {
		// the verifier keeps a spilled number (and folds it, even into
		// reads that run past the slot, when it knows it exactly)
		r.spillK[off/8] = true
		r.spillC[off/8] = v.konst
	}
	var t int32
	switch {
	case v.p != nil && n == 8:
		r.tags = append(r.tags, v)
		t = int32(len(r.tags)-1)*8 + 1
	case v.p != nil || v.leak:
		t = -1
	}
	for i := uint64(0); i < uint64(n); i++ {
		r.written[off+i] = true
		switch {
		case t > 0:
			r.tag[off+i] = t + int32(i)
		default:
			r.tag[off+i] = t
		}
	}
}

func (r *refVM) atomic(in ubpf.RawInsn, base, src val) {
	n := memSize(in.Op)
	a := base.v + uint64(int64(in.Off))
	if src.p != nil {
		r.fail("ptr-store", "atomic operation with a pointer operand")
	}
	if base.p != nil && (base.p.kind == oPkt || base.p.kind == oCtx) {
		r.fail("readonly-write", "atomic operation on the %s", objNames[base.p.kind])
	}
	old := r.load(base, a, n)
	if a%uint64(n) != 0 {
		r.fail("misaligned-atomic", "atomic access of %d bytes at %#x", n, a)
	}
	mask := ^uint64(0)
	if n == 4 {
		mask = 0xffffffff
	}
	sv := src.v & mask
	var nv uint64
	switch in.Imm &^ 1 {
	case 0x00:
		nv = old.v + sv
	case 0x40:
		nv = old.v | sv
	case 0x50:
		nv = old.v & sv
	case 0xa0:
		nv = old.v ^ sv
	case 0xe0:
		nv = sv
	case 0xf0:
		r0 := r.get(0)
		nv = old.v
		if old.v == r0.v&mask {
			nv = sv
		}
		r.store(base, a, n, val{v: nv & mask, init: true, leak: old.leak || src.leak})
		r.regs[0] = val{v: old.v, init: true, leak: old.leak}
		return
	}
	r.store(base, a, n, val{v: nv & mask, init: true, leak: old.leak || src.leak})
	if in.Imm&1 != 0 {
		r.regs[in.Src] = val{v: old.v, init: true, leak: old.leak}
	}
}

// ctxLoad reads a field of struct xdp_md.
func (r *refVM) ctxLoad(base val, a uint64, n int) val {
	r.check(base, a, n, false)
	off := a - r.ctxObj.lo
	if n != 4 || off%4 != 0 {
		r.fail("ctx-access", "ctx load of %d bytes at offset %d", n, off)
	}
	if r.ctxAnn != nil {
		want := uint8(0)
		switch off {
		case 0, 8:
			want = 1
		case 4:
			want = 2
		}
		if r.ctxAnn[r.pc] != want {
			r.event(evCtxRewrite)
		}
	}
	switch off {
	case 0, 8:
		r.dataLoads++
		if r.dataLoads > 1 {
			o := *r.pktObj
			o.reload = true
			return val{v: regionPacket << 32, p: &o, init: true}
		}
		return val{v: regionPacket << 32, p: r.pktObj, init: true}
	case 4:
		o := &obj{kind: oPktEnd, lo: r.pktObj.lo, hi: r.pktObj.hi, noDeref: true}
		return val{v: r.pktObj.hi, p: o, init: true}
	case 12:
		return num(uint64(r.ifindex))
	case 16:
		return num(uint64(r.rxq))
	}
	return num(0)
}

// readArg checks that n bytes at v may be read by a helper and returns
// them.
func (r *refVM) readArg(v val, n uint64, what string) []byte {
	if n == 0 {
		return nil
	}
	if v.p == nil {
		r.fail("helper-arg", "%s is not a pointer (%#x)", what, v.v)
	}
	if n > 1<<20 {
		r.fail("helper-arg", "%s size %d", what, n)
	}
	b := r.check(v, v.v, int(n), false)
	if v.p.kind == oStack {
		off := v.v & 0xffffffff
		for i := uint64(0); i < n; i++ {
			if !r.written[off+i] {
				r.fail("uninit-stack", "helper reads %s: byte %d never written in this run", what, i)
			}
		}
	}
	return b
}

// storeArg is readArg for memory a helper stores somewhere the program
// does not own (a map key or value, a ring buffer record): it must not
// hold a pointer.
func (r *refVM) storeArg(v val, n uint64, what string) []byte {
	b := r.readArg(v, n, what)
	if v.p != nil && v.p.kind == oStack {
		off := v.v & 0xffffffff
		for i := uint64(0); i < n; i++ {
			if r.tag[off+i] > 0 {
				r.event(evHelperPtrCopy)
				r.fail("ptr-store", "helper copies %s holding a spilled pointer out of the stack", what)
			}
		}
	}
	return b
}

// --- helpers ---

var refHelperArgs = map[int32]int{1: 2, 2: 4, 3: 2, 5: 0, 7: 0, 8: 0, 28: 5, 42: 0, 118: 0, 125: 0, 130: 4,
	131: 3, 132: 2, 133: 2, 160: 0, 0x10001: 3, 0x10002: 3}

func (r *refVM) mapArg(v val, types ...ubpf.MapType) *refMap {
	if v.p == nil || v.p.kind != oMapHandle {
		r.fail("helper-arg", "map argument is not a map (%#x)", v.v)
	}
	m := r.maps[v.p.mapIdx]
	for _, t := range types {
		if m.spec.Type == t {
			return m
		}
	}
	r.fail("helper-arg", "map of type %s passed to a helper that does not take it", m.spec.Type)
	return nil
}

// addRegion is Thread.addRegion: reuse one of the last 8 identical
// mappings, or map a new region.
func (r *refVM) addRegion(mem []byte, ident [2]int, writable, ring bool) uint64 {
	lo := max(0, len(r.dyn)-8)
	for i := len(r.dyn) - 1; i >= lo; i-- {
		d := r.dyn[i]
		if d.live && !ring && !d.ring && d.ident == ident && d.writable == writable && len(d.mem) == len(mem) {
			return (r.dynBase + uint64(i)) << 32
		}
	}
	if r.dynBase+uint64(len(r.dyn)) >= lay.NumRegions {
		return 0
	}
	r.dyn = append(r.dyn, dynRegion{mem: mem, ident: ident, writable: writable, ring: ring, live: true})
	return (r.dynBase + uint64(len(r.dyn)-1)) << 32
}

func (r *refVM) callHelper(id int32) {
	nargs, ok := refHelperArgs[id]
	if !ok {
		r.skip(fmt.Sprintf("helper %d not modelled", id))
	}
	var a [6]val
	for i := 1; i <= nargs; i++ {
		a[i] = r.get(uint8(i))
	}
	ret := num(0)
	switch id {
	case 1: // map_lookup_elem
		m := r.mapArg(a[1], ubpf.MapArray, ubpf.MapPerThreadArray, ubpf.MapHash, ubpf.MapPerThreadHash)
		key := r.readArg(a[2], uint64(m.spec.KeySize), "key")
		ro := m.spec.Flags&ubpf.FlagRdonlyProg != 0
		if m.static >= 0 {
			i := binary.LittleEndian.Uint32(key)
			if uint64(i) < uint64(m.spec.MaxEntries) {
				base := (regionStatic+uint64(m.static))<<32 | uint64(int(i)*m.stride)
				o := &obj{kind: oMapValue, lo: base, hi: base + uint64(m.spec.ValueSize), ro: ro, mapIdx: a[1].p.mapIdx}
				ret = val{v: base, p: o, init: true}
			}
		} else if e, ok := m.keys[string(key)]; ok {
			addr := r.addRegion(m.value(e), [2]int{a[1].p.mapIdx, e}, !ro, false)
			if addr == 0 {
				r.skip("out of dynamic regions")
			}
			o := &obj{kind: oMapValue, lo: addr, hi: addr + uint64(m.spec.ValueSize), ro: ro, mapIdx: a[1].p.mapIdx}
			ret = val{v: addr, p: o, init: true}
		}
	case 2: // map_update_elem
		m := r.mapArg(a[1], ubpf.MapArray, ubpf.MapPerThreadArray, ubpf.MapHash, ubpf.MapPerThreadHash)
		if m.spec.Flags&ubpf.FlagRdonlyProg != 0 {
			r.fail("readonly-write", "map_update_elem on a read-only map")
		}
		key := append([]byte(nil), r.storeArg(a[2], uint64(m.spec.KeySize), "key")...)
		v := append([]byte(nil), r.storeArg(a[3], uint64(m.spec.ValueSize), "value")...)
		ret = num(m.update(key, v, a[4].v))
	case 3: // map_delete_elem
		m := r.mapArg(a[1], ubpf.MapHash, ubpf.MapPerThreadHash)
		ret = num(m.delete(r.readArg(a[2], uint64(m.spec.KeySize), "key")))
	case 5, 7, 118, 125, 160: // time, randomness
		r.nondet = true
	case 8:
		ret = num(r.slot)
	case 28: // csum_diff
		if a[2].v%4 != 0 || a[4].v%4 != 0 || a[2].v > 512 || a[4].v > 512 {
			ret = num(neg(22))
			break
		}
		from := r.readArg(a[1], a[2].v, "from")
		to := r.readArg(a[3], a[4].v, "to")
		sum := uint64(uint32(a[5].v))
		for i := 0; i+4 <= len(from); i += 4 {
			sum += uint64(^binary.LittleEndian.Uint32(from[i:]))
		}
		for i := 0; i+4 <= len(to); i += 4 {
			sum += uint64(binary.LittleEndian.Uint32(to[i:]))
		}
		for sum>>32 != 0 {
			sum = sum&0xffffffff + sum>>32
		}
		ret = num(sum)
	case 130: // ringbuf_output
		m := r.mapArg(a[1], ubpf.MapRingBuf)
		r.storeArg(a[2], a[3].v, "data")
		if !m.reserve(a[3].v) {
			ret = num(neg(11))
		}
	case 131: // ringbuf_reserve
		m := r.mapArg(a[1], ubpf.MapRingBuf)
		if r.nres >= 16 || !m.reserve(a[2].v) {
			break
		}
		id := r.nextRes
		r.nextRes++
		addr := r.addRegion(make([]byte, a[2].v), [2]int{-1, id}, true, true)
		if addr == 0 {
			break
		}
		r.nres++
		r.held[id] = true
		o := &obj{kind: oRingRec, lo: addr, hi: addr + a[2].v, rec: id}
		ret = val{v: addr, p: o, init: true}
	case 132, 133: // ringbuf_submit, ringbuf_discard
		p := a[1]
		if p.p == nil || p.p.kind != oRingRec || p.v != p.p.lo || !r.held[p.p.rec] {
			r.fail("helper-arg", "ringbuf submit/discard of something not a held record")
		}
		r.held[p.p.rec] = false
		r.nres--
		r.dyn[(p.v>>32)-r.dynBase].live = false
	case 0x10001, 0x10002: // goko_hash32/64
		if a[2].v == 0 {
			ret = num(ubpf.Hash64(nil, a[3].v))
		} else {
			ret = num(ubpf.Hash64(r.readArg(a[1], a[2].v, "data"), a[3].v))
		}
		if id == 0x10001 {
			ret.v = uint64(uint32(ret.v))
		}
	}
	for i := 1; i <= 5; i++ {
		r.regs[i] = val{}
	}
	r.regs[0] = ret
}
