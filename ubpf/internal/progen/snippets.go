package progen

// Snippets: each emits a few instructions that make sense given the
// register model, and updates the model.

type choice struct {
	w int
	f func()
}

// pick runs one of cs, chosen by weight.
func (g *gen) pick(cs []choice) {
	total := 0
	for _, c := range cs {
		total += c.w
	}
	if total == 0 {
		return
	}
	x := g.n(total)
	for _, c := range cs {
		if x < c.w {
			c.f()
			return
		}
		x -= c.w
	}
}

// menuItem is a snippet with its weight and the condition under which it
// fits (method expressions, so that choosing allocates nothing).
type menuItem struct {
	w  int
	ok func(*gen) bool
	f  func(*gen)
}

func always(*gen) bool { return true }

var menu []menuItem

func init() {
	menu = []menuItem{
		{20, always, (*gen).aluSeq},
		{4, always, (*gen).constLoad},
		{10, always, (*gen).probe},
		{10, func(g *gen) bool { return g.on(FeatPacket) }, func(g *gen) { g.pktLoad() }},
		{6, func(g *gen) bool { return g.on(FeatPacket) }, (*gen).pktVarLoad},
		{9, func(g *gen) bool { return g.depth < 2 }, (*gen).branch},
		{10, func(g *gen) bool { return g.on(FeatJmp32) }, (*gen).jmpConst},
		{8, func(g *gen) bool { return g.on(FeatStack) }, (*gen).spillFill},
		{3, func(g *gen) bool { return g.on(FeatStack) }, (*gen).staleFill},
		{8, func(g *gen) bool { return g.on(FeatMaps) && len(g.maps) > 0 && !g.noCalls }, (*gen).mapLookup},
		{3, func(g *gen) bool { return g.on(FeatMaps) && len(g.maps) > 0 && !g.noCalls }, (*gen).mapUpdate},
		{3, func(g *gen) bool { return g.on(FeatHelpers) && !g.noCalls }, (*gen).helperMisc},
		{4, func(g *gen) bool { return g.on(FeatAtomics) }, (*gen).atomic},
		{3, func(g *gen) bool { return g.kind == Filter && g.on(FeatLdAbs) && len(g.frames) == 1 && !g.inLoop }, (*gen).ldAbs},
		{4, func(g *gen) bool { return g.on(FeatLoops) && !g.inLoop && g.depth == 0 }, (*gen).loop},
		{4, func(g *gen) bool { return g.on(FeatCalls) && !g.inLoop && len(g.frames) < 4 && g.nfuncs < 5 }, (*gen).localCall},
		{4, func(g *gen) bool { return g.kind == XDP && g.reg(6).k == kCtx }, (*gen).xdpCtx},
		{2, func(g *gen) bool { _, ok := g.mapOf(MapRingBuf); return ok && !g.inLoop && !g.noCalls }, (*gen).ringbuf},
		{3, func(g *gen) bool { return g.on(FeatPointerMix) }, (*gen).ptrCmp},
		{2, func(g *gen) bool { return g.on(FeatPointerMix) }, (*gen).ptrMix},
		{2, func(g *gen) bool { return g.on(FeatTraps) }, (*gen).rangeTrap},
		{10, func(g *gen) bool { return len(g.frames) > 1 }, (*gen).useArg},
	}
}

// snippet emits one snippet chosen from everything that fits here.
func (g *gen) snippet() {
	var ok [32]bool
	total := 0
	for i, m := range menu {
		if m.ok(g) {
			ok[i] = true
			total += m.w
		}
	}
	x := g.n(total)
	for i, m := range menu {
		if !ok[i] {
			continue
		}
		if x < m.w {
			m.f(g)
			return
		}
		x -= m.w
	}
}

func (g *gen) snippets(n int) {
	for ; n > 0 && g.room(10); n-- {
		g.snippet()
	}
}

// snapshot copies every frame's model (the copies are recycled when a
// join consumes them).
func (g *gen) snapshot() []frame {
	var s []frame
	if n := len(g.pool); n > 0 {
		s, g.pool = g.pool[n-1][:0], g.pool[:n-1]
	}
	for _, f := range g.frames {
		s = append(s, *f)
	}
	return s
}

func (g *gen) restore(s []frame) {
	for i := range g.frames {
		*g.frames[i] = s[i]
	}
}

// joinWith merges s into the current model (two paths meet) and
// recycles s.
func (g *gen) joinWith(s []frame) {
	for i := range g.frames {
		g.frames[i].join(&s[i])
	}
	g.pool = append(g.pool, s)
}

// --- arithmetic ---

func (g *gen) aluSeq() {
	for i := 1 + g.n(4); i > 0 && g.room(4); i-- {
		g.aluOne(g.scalarReg())
	}
}

var aluOps = []uint8{opADD, opSUB, opMUL, opDIV, opOR, opAND, opLSH, opRSH, opNEG, opMOD, opXOR, opMOV, opARSH, opEND}

func (g *gen) aluOne(dst uint8) {
	is64 := !g.on(FeatALU32) || g.chance(0.5)
	cls := uint8(clsALU)
	if is64 {
		cls = clsALU64
	}
	a := g.reg(dst)
	op := aluOps[g.n(len(aluOps))]
	switch op {
	case opNEG:
		g.emit(Insn{Op: cls | opNEG, Dst: dst})
		g.unaryModel(dst, a, func(v uint64) uint64 { return evalALU(is64, opNEG, 0, v, 0) })
		return
	case opEND:
		w := []int32{16, 32, 64}[g.n(3)]
		in := Insn{Op: cls | opEND, Dst: dst, Imm: w}
		be := false
		if !is64 && g.chance(0.5) {
			in.Op |= srcReg
			be = true
		}
		g.emit(in)
		g.unaryModel(dst, a, func(v uint64) uint64 { return endian(is64, be, w, v) })
		return
	case opMOV:
		if g.chance(0.35) { // movsx
			src := g.scalarReg()
			offs := []int16{8, 16}
			if is64 {
				offs = append(offs, 32)
			}
			off := offs[g.n(len(offs))]
			g.emit(Insn{Op: cls | opMOV | srcReg, Dst: dst, Src: src, Off: off})
			s := g.reg(src)
			g.unaryModel(dst, s, func(v uint64) uint64 { return movsx(is64, off, v) })
			return
		}
	}
	var off int16
	if (op == opDIV || op == opMOD) && g.chance(0.4) {
		off = 1
	}
	if g.chance(0.5) {
		var imm int32
		switch op {
		case opLSH, opRSH, opARSH:
			w := int32(31)
			if is64 {
				w = 63
			}
			imm = g.small(int(w))
			if g.chance(0.03) {
				imm = w + 1 + g.small(8) // out of range: masked at run time
			}
		default:
			imm = g.imm()
		}
		g.emit(Insn{Op: cls | op, Dst: dst, Off: off, Imm: imm})
		b := uint64(uint32(imm))
		if is64 {
			b = uint64(int64(imm))
		}
		g.aluModel(is64, op, off, dst, known(b))
		return
	}
	src := g.scalarReg()
	g.emit(Insn{Op: cls | op | srcReg, Dst: dst, Src: src, Off: off})
	g.aluModel(is64, op, off, dst, g.reg(src))
}

func (g *gen) unaryModel(dst uint8, a rs, f func(uint64) uint64) {
	if a.k == kScalar && a.known {
		g.set(dst, known(f(a.v)))
	} else {
		g.set(dst, scalar())
	}
}

func endian(is64, be bool, w int32, v uint64) uint64 {
	swap := is64 || be
	switch {
	case !swap && w == 16:
		return uint64(uint16(v))
	case !swap && w == 32:
		return uint64(uint32(v))
	case !swap:
		return v
	case w == 16:
		return uint64(uint16(v)>>8 | uint16(v)<<8)
	case w == 32:
		x := uint32(v)
		return uint64(x>>24 | x>>8&0xff00 | x<<8&0xff0000 | x<<24)
	}
	var r uint64
	for i := 0; i < 8; i++ {
		r = r<<8 | v>>(8*i)&0xff
	}
	return r
}

func movsx(is64 bool, off int16, v uint64) uint64 {
	var x int64
	switch off {
	case 8:
		x = int64(int8(v))
	case 16:
		x = int64(int16(v))
	default:
		x = int64(int32(v))
	}
	if is64 {
		return uint64(x)
	}
	return uint64(uint32(x))
}

func (g *gen) constLoad() {
	r := g.free()
	switch g.n(3) {
	case 0:
		g.lddw(r, g.edge())
	case 1:
		g.movI(false, r, g.imm())
	default:
		g.movI(true, r, g.imm())
	}
}

// --- packet ---

// pktRegs finds the packet start and either the length (filters) or the
// packet end among the registers.
func (g *gen) pktRegs() (base, bound uint8, isLen, ok bool) {
	var bases, lens, ends []uint8
	for r := uint8(0); r <= 9; r++ {
		switch x := g.reg(r); {
		case x.k == kPkt && x.off == 0:
			bases = append(bases, r)
		case x.k == kLen:
			lens = append(lens, r)
		case x.k == kPktEnd:
			ends = append(ends, r)
		}
	}
	if len(bases) == 0 || len(lens)+len(ends) == 0 {
		return 0, 0, false, false
	}
	base = bases[g.n(len(bases))]
	if len(lens) > 0 && (len(ends) == 0 || g.chance(0.7)) {
		return base, lens[g.n(len(lens))], true, true
	}
	return base, ends[g.n(len(ends))], false, true
}

var hdrOffsets = []int{0, 6, 12, 14, 16, 20, 22, 23, 26, 30, 34, 36, 38, 40, 42, 46, 54}

// boundCheck jumps to skip unless n bytes from base are in the packet,
// in one of the many ways compiled code and hand-written code check.
func (g *gen) boundCheck(base, bound uint8, isLen bool, n int, skip int, avoid ...uint8) {
	g.noteBound(n)
	is32 := g.on(FeatJmp32) && g.chance(0.2)
	if isLen {
		switch g.n(7) {
		case 0:
			g.jmpI(is32, jLT, bound, int32(n), skip)
		case 1:
			g.jmpI(is32, jSLT, bound, int32(n), skip)
		case 2:
			g.jmpI(is32, jLE, bound, int32(n-1), skip)
		case 3, 4:
			t := g.free(append(avoid, base, bound)...)
			g.movI(true, t, int32(n))
			g.jmpR(is32, []uint8{jGT, jSGT}[g.n(2)], t, bound, skip)
		case 5:
			ok := g.newLabel()
			g.jmpI(is32, jGE, bound, int32(n), ok)
			g.ja(skip)
			g.bind(ok)
		default:
			t := g.free(append(avoid, base, bound)...)
			g.movI(true, t, int32(n))
			g.jmpR(is32, jLT, bound, t, skip)
		}
		return
	}
	t := g.free(append(avoid, base, bound)...)
	g.movR(t, base)
	g.aluI(true, opADD, t, int32(n))
	switch g.n(5) {
	case 0, 1:
		g.jmpR(is32, jGT, t, bound, skip)
	case 2:
		g.jmpR(is32, jLT, bound, t, skip)
	case 3:
		g.jmpR(false, jSGT, t, bound, skip)
	default:
		ok := g.newLabel()
		g.jmpR(is32, jGE, bound, t, ok)
		g.ja(skip)
		g.bind(ok)
	}
	g.set(t, rs{})
}

// slack returns how many bytes a check proves beyond what an access
// needs: now and then one too few.
func (g *gen) slack() int {
	switch {
	case g.chance(0.02):
		return -1
	case g.chance(0.2):
		return g.n(4)
	}
	return 0
}

// pktLoad loads a packet field into a new register, bounds checked.
func (g *gen) pktLoad() uint8 {
	base, bound, isLen, ok := g.pktRegs()
	dst := g.free(base, bound)
	if !ok || !g.room(8) {
		g.movI(true, dst, g.imm())
		return dst
	}
	size := []int{1, 2, 4, 8}[g.n(4)]
	off := hdrOffsets[g.n(len(hdrOffsets))]
	if g.chance(0.3) {
		off = g.n(80)
	}
	g.movI(true, dst, 0)
	skip := g.newLabel()
	snap := g.snapshot()
	g.boundCheck(base, bound, isLen, off+size+g.slack(), skip, dst)
	g.ldx(size, g.chance(0.15), dst, base, off)
	g.bind(skip)
	g.joinWith(snap)
	g.set(dst, scalar())
	return dst
}

func (g *gen) pktLoadInto(r uint8) {
	x := g.pktLoad()
	if x != r {
		g.movR(r, x)
	}
}

// clamp emits checks after which a is (supposedly) in [0, hi], jumping
// to skip otherwise; it returns the bound actually enforced.
func (g *gen) clamp(a uint8, hi int, skip int) int {
	is32 := g.on(FeatJmp32) && g.chance(0.2)
	if g.chance(0.02) {
		hi++ // one too many
	}
	switch g.n(10) {
	case 0, 1:
		m := maskFor(uint64(hi))
		if m > uint64(hi) {
			m >>= 1
		}
		g.aluI(!is32, opAND, a, int32(m))
		return int(m)
	case 2, 3:
		g.jmpI(is32, jGT, a, int32(hi), skip)
	case 4:
		g.jmpI(is32, jSGT, a, int32(hi), skip)
		g.jmpI(is32, jSLT, a, 0, skip)
	case 5:
		g.jmpI(is32, jGE, a, int32(hi+1), skip)
	case 6:
		ok := g.newLabel()
		g.jmpI(is32, jLE, a, int32(hi), ok)
		g.ja(skip)
		g.bind(ok)
	case 7:
		g.aluI(!is32, opMOD, a, int32(hi+1))
	case 8:
		// a 32-bit check then a 64-bit one, or the other way round
		g.jmpI(true, jGT, a, int32(hi), skip)
		g.jmpI(false, []uint8{jGT, jSGT}[g.n(2)], a, int32(hi), skip)
	default:
		t := g.free(a)
		g.movI(true, t, int32(hi))
		g.jmpR(is32, []uint8{jGT, jSGT}[g.n(2)], a, t, skip)
		if g.chance(0.5) {
			g.jmpI(is32, jSLT, a, 0, skip)
		}
	}
	return hi
}

func (g *gen) pktVarLoad() {
	base, bound, isLen, ok := g.pktRegs()
	if !ok || !g.room(16) {
		return
	}
	skip := g.newLabel()
	a, ok := g.anyScalar(base, bound)
	if !ok || g.chance(0.5) {
		a = g.pktLoad()
	}
	dst := g.free(a, base, bound)
	g.movI(true, dst, 0)
	p, okp := g.freePtr(a, base, bound, dst)
	if !okp {
		return
	}
	snap := g.snapshot()
	hi := []int{3, 15, 40, 60, 255, 1400}[g.n(6)]
	if g.chance(0.9) {
		hi = g.clamp(a, hi, skip)
	}
	size := []int{1, 2, 4}[g.n(3)]
	if isLen {
		extra := g.n(3)
		t := g.free(a, base, bound, dst, p)
		g.movR(t, a)
		g.aluI(true, opADD, t, int32(size+extra+g.slack()))
		is32 := g.on(FeatJmp32) && g.chance(0.2)
		g.jmpR(is32, []uint8{jGT, jSGT}[g.n(2)], t, bound, skip)
		g.movR(p, base)
		g.aluR(true, opADD, p, a)
		g.ldx(size, false, dst, p, extra)
		g.noteBound(hi + size + extra)
	} else {
		g.movR(p, base)
		g.aluR(true, opADD, p, a)
		g.boundCheck(p, bound, false, size+g.slack(), skip, a, dst)
		g.ldx(size, false, dst, p, 0)
		g.noteBound(hi + size)
	}
	g.bind(skip)
	g.joinWith(snap)
	g.set(dst, scalar())
	g.set(p, rs{})
	g.set(a, scalar())
}

// --- control flow ---

func (g *gen) branch() {
	a := g.scalarReg()
	c := allConds[g.n(len(allConds))]
	is32 := g.on(FeatJmp32) && g.chance(0.4)
	lElse, lEnd := g.newLabel(), g.newLabel()
	if g.chance(0.5) {
		imm := g.imm()
		if x := g.reg(a); x.known && g.chance(0.5) {
			imm = int32(x.v) + int32(g.n(3)) - 1
		}
		g.jmpI(is32, c, a, imm, lElse)
	} else {
		g.jmpR(is32, c, a, g.scalarReg(), lElse)
	}
	g.ifElse(lElse, lEnd, func() { g.snippets(1 + g.n(2)) }, g.chance(0.4))
}

// ifElse emits the fall-through body, and an else body at lElse when
// withElse, and joins the models at lEnd. A body that ends in an exit
// does not join.
func (g *gen) ifElse(lElse, lEnd int, body func(), withElse bool) {
	snap := g.snapshot()
	g.depth++
	body()
	g.depth--
	if withElse {
		g.ja(lEnd)
		then := g.snapshot()
		g.restore(snap)
		g.bind(lElse)
		g.depth++
		g.snippets(1 + g.n(2))
		g.depth--
		g.joinWith(then)
		g.bind(lEnd)
		return
	}
	g.bind(lElse)
	g.bind(lEnd)
	g.joinWith(snap)
}

// jmpConst: jumps over constants, the shape of the JMP32 bypass:
//
//	w3 = 0x80000000; if w3 s< 0 goto +0; if r3 s> 0 goto L
func (g *gen) jmpConst() {
	if !g.room(12) {
		return
	}
	x := g.free()
	v := g.edge()
	switch g.n(3) {
	case 0:
		g.lddw(x, v)
	case 1:
		g.movI(false, x, int32(v))
	default:
		g.movI(true, x, int32(v))
	}
	if g.chance(0.3) {
		g.aluOne(x)
	}
	for k := g.n(3); k > 0; k-- {
		c := allConds[g.n(len(allConds))]
		l := g.newLabel()
		imm := g.imm()
		if g.chance(0.4) {
			imm = 0
		}
		snap := g.snapshot()
		g.jmpI(g.chance(0.6), c, x, imm, l)
		if g.chance(0.3) {
			g.movI(true, g.free(x), g.imm()) // something to jump over
		}
		g.bind(l)
		g.joinWith(snap)
	}
	c := allConds[g.n(len(allConds))]
	is32 := g.chance(0.4)
	imm := int32(0)
	if g.chance(0.5) {
		imm = g.imm()
	}
	xr := g.reg(x)
	var b uint64 = uint64(int64(imm))
	taken := xr.known && evalCond(is32, c, xr.v, b)
	trap := g.on(FeatTraps) && (!xr.known || !taken || g.chance(0.1)) && g.chance(0.4)
	lT, lEnd := g.newLabel(), g.newLabel()
	g.jmpI(is32, c, x, imm, lT)
	g.ja(lEnd)
	snap := g.snapshot()
	g.bind(lT)
	if trap {
		g.trap()
	} else {
		g.snippets(1)
	}
	g.bind(lEnd)
	g.joinWith(snap)
}

// rangeTrap: a trap behind a condition on a scalar that the verifier can
// only rule out from the bounds it tracks.
func (g *gen) rangeTrap() {
	if !g.room(14) {
		return
	}
	a := g.scalarReg()
	lT, lEnd := g.newLabel(), g.newLabel()
	snap := g.snapshot()
	hi := []int{0, 1, 7, 8, 15, 255, 0x7fffffff}[g.n(7)]
	if g.chance(0.6) {
		hi = g.clamp(a, hi, lEnd)
	}
	is32 := g.on(FeatJmp32) && g.chance(0.4)
	switch g.n(4) {
	case 0:
		g.jmpI(is32, jGT, a, int32(hi), lT)
	case 1:
		g.jmpI(is32, jSLT, a, 0, lT)
	case 2:
		g.jmpI(is32, jSGT, a, int32(hi), lT)
	default:
		g.jmpI(is32, allConds[g.n(len(allConds))], a, g.imm(), lT)
	}
	g.ja(lEnd)
	g.bind(lT)
	g.trap()
	g.bind(lEnd)
	g.joinWith(snap)
}

// trap emits code that faults, leaks or reads uninitialised memory if it
// runs. The caller puts it where the verifier must prove it never runs.
func (g *gen) trap() {
	f := g.cur()
	var cs []choice
	// read of stack never written
	for off := -512; off < 0; off += 8 {
		if !f.written(off, 8) && f.stack[512+off] == bUnset {
			o := off
			cs = append(cs, choice{3, func() { g.ldx(8, false, g.free(), 10, o) }})
			break
		}
	}
	if base, _, _, ok := g.pktRegs(); ok {
		cs = append(cs, choice{3, func() {
			if g.chance(0.5) {
				g.ldx([]int{1, 4, 8}[g.n(3)], false, g.free(base), base, 30000+g.n(2700))
				return
			}
			p, _ := g.freePtr(base)
			g.movR(p, base)
			g.aluI(true, opADD, p, 60000)
			g.ldx(8, false, p, p, 0)
		}})
		cs = append(cs, choice{1, func() { g.st(1, base, 0, 1) }}) // packets are read-only
	}
	cs = append(cs, choice{3, func() { // return a pointer
		ptrs := []uint8{10}
		for r := uint8(0); r <= 9; r++ {
			if g.reg(r).isPtr() {
				ptrs = append(ptrs, r)
			}
		}
		g.movR(0, ptrs[g.n(len(ptrs))])
		g.exit()
		g.set(0, scalar())
	}})
	if m, ok := g.mapOf(MapArray); ok && g.maps[m].Flags == 0 {
		vs := int(g.maps[m].ValueSize)
		cs = append(cs, choice{2, func() { // store a pointer into a map value
			p, _ := g.freePtr()
			g.ldMapValue(p, m, 0)
			if vs >= 8 {
				g.stx(8, p, 0, 10)
			} else {
				g.stx(4, p, 0, 10)
			}
		}}, choice{2, func() { // past the value
			p, _ := g.freePtr()
			g.ldMapValue(p, m, 0)
			g.ldx(4, false, p, p, vs-2+g.n(3))
		}})
	}
	if s, ok := g.anyScalar(); ok {
		cs = append(cs, choice{1, func() { g.ldx(8, false, g.free(), s, 0) }})
	}
	if g.kind == XDP && g.reg(6).k == kCtx {
		cs = append(cs, choice{1, func() { g.st(4, 6, 0, 0) }})
	}
	g.pick(cs)
}

// --- memory: probes, spills ---

// region describes memory a probe may address: base register setup and
// its size.
type region struct {
	size     int
	writable bool
	readable bool
	setup    func(p uint8) // loads the region's start into p
}

func (g *gen) regions() []region {
	var out []region
	for i, m := range g.maps {
		if m.Type != MapArray && m.Type != MapPerCPUArray {
			continue
		}
		i, vs := i, int(m.ValueSize)
		out = append(out, region{size: vs, readable: true, writable: m.Flags == 0,
			setup: func(p uint8) { g.ldMapValue(p, i, 0) }})
	}
	for r := uint8(0); r <= 9; r++ {
		if x := g.reg(r); x.k == kMapVal && x.off == 0 {
			r, vs := r, int(g.maps[x.m].ValueSize)
			out = append(out, region{size: vs, readable: true, writable: g.maps[x.m].Flags == 0,
				setup: func(p uint8) { g.movR(p, r) }})
		}
	}
	if g.on(FeatStack) {
		s := 8 * (1 + g.n(8))
		if g.chance(0.2) {
			s = 64 + 8*g.n(56)
		}
		out = append(out, region{size: s, writable: true, readable: g.cur().written(-s, s),
			setup: func(p uint8) { g.movR(p, 10); g.aluI(true, opADD, p, int32(-s)) }})
	}
	return out
}

// probe: an access at a variable offset into a map value or the stack,
// the offset clamped (or not) by checks that the verifier must track.
func (g *gen) probe() {
	if !g.room(14) {
		return
	}
	a := g.scalarReg()
	g.probeWith(a, true)
}

// probeMin probes with a (a loop counter below min-8) a region of at
// least min bytes without clamping it: the verifier knows its value on
// every iteration.
func (g *gen) probeMin(a uint8, min int) {
	var big []region
	for _, r := range g.regions() {
		if r.size >= min {
			big = append(big, r)
		}
	}
	if len(big) == 0 || g.chance(0.3) {
		s := (min + 7) &^ 7
		if s > 512 {
			g.probeWith(a, true)
			return
		}
		big = append(big[:0], region{size: s, writable: true, readable: g.cur().written(-s, s),
			setup: func(p uint8) { g.movR(p, 10); g.aluI(true, opADD, p, int32(-s)) }})
	}
	g.probeRegion(a, false, big[g.n(len(big))])
}

func (g *gen) probeWith(a uint8, clamp bool) {
	rg := g.regions()
	if len(rg) == 0 {
		return
	}
	g.probeRegion(a, clamp, rg[g.n(len(rg))])
}

func (g *gen) probeRegion(a uint8, clamp bool, r region) {
	size := []int{1, 2, 4, 8}[g.n(4)]
	for size > r.size {
		size /= 2
	}
	write := !r.readable || (r.writable && g.chance(0.4))
	if write && !r.writable {
		return
	}
	p, ok := g.freePtr(a)
	if !ok {
		return
	}
	skip := g.newLabel()
	snap := g.snapshot()
	if clamp && g.chance(0.92) {
		g.clamp(a, r.size-size, skip)
	}
	r.setup(p)
	g.aluR(true, opADD, p, a)
	if write {
		if g.chance(0.5) {
			g.st(size, p, 0, g.imm())
		} else {
			g.stx(size, p, 0, g.scalarReg(p))
		}
	} else {
		g.ldx(size, g.chance(0.2), g.free(p, a), p, 0)
	}
	g.bind(skip)
	g.joinWith(snap)
	g.set(p, rs{})
	g.set(a, scalar())
}

// stackSlot returns a random 8-aligned slot offset in the current frame.
func (g *gen) stackSlot() int {
	if g.chance(0.9) {
		return -8 * (1 + g.n(16))
	}
	return -8 * (1 + g.n(64))
}

// staleFill reads back, as a number, a slot written before on some
// path: where paths that disagreed on it met (a pointer spilled on one,
// bytes of a number on the other), the verifier must either refuse the
// read or know that it may give back a pointer, whichever path it
// explored first.
func (g *gen) staleFill() {
	f := g.cur()
	var slots [64]int
	n := 0
	for s := 0; s < 64; s++ {
		written := true
		for k := 0; k < 8; k++ {
			written = written && f.stack[s*8+k] != bUnset
		}
		if written {
			slots[n] = s*8 - 512
			n++
		}
	}
	if n == 0 || !g.room(4) {
		return
	}
	dst := g.free()
	g.emit(Insn{Op: clsLDX | mdMEM | szDW, Dst: dst, Src: 10, Off: int16(slots[g.n(n)])})
	g.set(dst, scalar())
}

func (g *gen) spillFill() {
	if !g.room(12) {
		return
	}
	f := g.cur()
	slot := g.stackSlot()
	// what to spill
	var v uint8
	ptrs := []uint8{10}
	for r := uint8(0); r <= 9; r++ {
		if x := g.reg(r); x.isPtr() && x.k != kMapValNull {
			ptrs = append(ptrs, r)
		}
	}
	if g.chance(0.4) {
		v = ptrs[g.n(len(ptrs))]
	} else {
		v = g.scalarReg()
	}
	aligned := g.chance(0.7)
	if aligned {
		if g.chance(0.2) && g.reg(v).isScalar() {
			imm := g.imm()
			g.st(8, 10, slot, imm)
			f.markSpill(slot, known(uint64(int64(imm))))
		} else {
			g.stx(8, 10, slot, v)
			f.markSpill(slot, g.reg(v))
		}
		if g.chance(0.3) && slot-8 >= -512 { // a neighbour, for reads across both
			w := g.scalarReg()
			g.stx(8, 10, slot-8, w)
			f.markSpill(slot-8, g.reg(w))
		}
	} else {
		size := []int{1, 2, 4, 8}[g.n(4)]
		off := slot + g.n(8)
		if off+size > 0 {
			off = -size
		}
		g.stx(size, 10, off, g.scalarReg())
		f.markScalar(off, size)
	}
	if g.chance(0.25) { // overwrite part of it
		size := []int{1, 2, 4}[g.n(3)]
		off := slot + g.n(8-size+1)
		g.st(size, 10, off, g.imm())
		f.markScalar(off, size)
	}
	// fill
	dst := g.free()
	if aligned && g.chance(0.6) && f.stack[512+slot] == bSpill {
		sp := f.spill[(512+slot)/8]
		g.emit(Insn{Op: clsLDX | mdMEM | szDW, Dst: dst, Src: 10, Off: int16(slot)})
		g.set(dst, sp)
		if g.inLoop && sp.isPtr() {
			g.set(dst, rs{}) // keep scalars scalar across iterations
		}
		g.usePtr(dst)
		return
	}
	size := []int{1, 2, 4, 8}[g.n(4)]
	off := slot + g.n(8)
	if g.chance(0.3) {
		off = slot - 4 // straddles two slots
	}
	if off+size > 0 || off < -512 || (!f.written(off, size) && g.chance(0.9)) {
		return
	}
	g.ldx(size, g.chance(0.2), dst, 10, off)
	if g.chance(0.5) {
		g.probeWith(dst, g.chance(0.5))
	}
}

// usePtr dereferences r if it holds a pointer the model knows is safe to
// read.
func (g *gen) usePtr(r uint8) {
	x := g.reg(r)
	switch x.k {
	case kStack:
		fr := g.frames[x.frame]
		if int(x.frame) < len(g.frames) && fr.written(int(x.off), 8) && x.off%8 == 0 {
			g.ldx(8, false, g.free(r), r, 0)
		}
	case kMapVal:
		vs := int32(g.maps[x.m].ValueSize)
		if x.off >= 0 && x.off+4 <= vs {
			g.ldx(4, false, g.free(r), r, 0)
		}
	case kPkt:
		if x.off == 0 {
			g.pktLoad()
		}
	}
}

// --- maps ---

// keyOnStack writes a key of size n at a slot and returns the offset.
func (g *gen) keyOnStack(n int, entries uint32) int {
	off := -8 * (1 + g.n(6))
	if n > 8 {
		off = -16 * (1 + g.n(3))
	}
	k := int32(g.n(int(entries) + 2))
	if g.chance(0.1) {
		k = g.imm()
	}
	switch {
	case n == 4 && g.chance(0.6):
		g.st(4, 10, off, k)
	case n == 8 && g.chance(0.6):
		g.st(8, 10, off, k)
	default:
		g.stx(n, 10, off, g.scalarReg())
	}
	g.cur().markScalar(off, n)
	if g.chance(0.02) { // a key with an unwritten byte
		g.cur().markScalar(off, n)
		return off - 1
	}
	return off
}

// valueOnStack writes n bytes at a fresh area and returns its offset.
func (g *gen) valueOnStack(n int) int {
	off := -64 - 8*g.n(8) - ((n + 7) &^ 7)
	for i := 0; i < n; {
		switch {
		case n-i >= 8:
			g.st(8, 10, off+i, g.imm())
			i += 8
		case n-i >= 4:
			g.st(4, 10, off+i, g.imm())
			i += 4
		default:
			g.st(1, 10, off+i, g.imm())
			i++
		}
	}
	g.cur().markScalar(off, n)
	return off
}

func (g *gen) mapLookup() {
	m, ok := g.mapOf(MapArray, MapHash, MapPerCPUArray, MapPerCPUHash)
	if !ok || !g.room(24) {
		return
	}
	ms := g.maps[m]
	koff := g.keyOnStack(int(ms.KeySize), ms.MaxEntries)
	g.ldMap(1, m)
	g.movR(2, 10)
	g.aluI(true, opADD, 2, int32(koff))
	g.call(hMapLookup)
	g.set(0, rs{k: kMapValNull, m: int8(m)})
	cp := uint8(0)
	if g.chance(0.3) && g.reserved&(1<<9) == 0 && !g.inLoop {
		cp = 9
		g.movR(9, 0)
	}
	skip := g.newLabel()
	switch {
	case g.chance(0.02): // no null check
	case g.chance(0.02):
		g.jmpI(true, jEQ, 0, 0, skip) // a 32-bit null check proves nothing
	case cp != 0 && g.chance(0.3):
		g.jmpI(false, jEQ, cp, 0, skip)
	case g.chance(0.2):
		use := g.newLabel()
		g.jmpI(false, jNE, 0, 0, use)
		g.ja(skip)
		g.bind(use)
	default:
		g.jmpI(false, jEQ, 0, 0, skip)
	}
	snap := g.snapshot()
	val := rs{k: kMapVal, m: int8(m)}
	g.set(0, val)
	if cp != 0 {
		g.set(cp, val)
	}
	g.depth++
	for i := 1 + g.n(3); i > 0 && g.room(10); i-- {
		g.useValue(0, m)
	}
	g.depth--
	g.bind(skip)
	g.joinWith(snap)
}

// useValue reads, updates or probes the map value r points to.
func (g *gen) useValue(r uint8, m int) {
	if g.reg(r).k != kMapVal {
		return
	}
	vs := int(g.maps[m].ValueSize)
	wr := g.maps[m].Flags == 0
	size := []int{1, 2, 4, 8}[g.n(4)]
	for size > vs {
		size /= 2
	}
	off := g.n(vs-size+1) &^ (size - 1)
	if g.chance(0.02) {
		off = vs - size + 1 // one past
	}
	switch g.n(5) {
	case 0:
		g.ldx(size, g.chance(0.2), g.free(r), r, off)
	case 1:
		if wr {
			g.stx(size, r, off, g.scalarReg(r))
		}
	case 2:
		if wr && size >= 4 {
			t := g.free(r)
			g.ldx(size, false, t, r, off)
			g.aluI(size == 8, opADD, t, 1)
			g.stx(size, r, off, t)
		}
	case 3:
		if wr && g.on(FeatAtomics) && vs >= 8 {
			src := g.scalarReg(r)
			g.emit(Insn{Op: clsSTX | mdATOMIC | szDW, Dst: r, Src: src, Off: int16(off &^ 7), Imm: atADD | int32(g.n(2))})
			g.set(src, scalar())
		}
	default:
		a := g.scalarReg(r)
		p, ok := g.freePtr(a, r)
		if !ok {
			return
		}
		skip := g.newLabel()
		snap := g.snapshot()
		if g.chance(0.9) {
			g.clamp(a, vs-size, skip)
		}
		g.movR(p, r)
		g.aluR(true, opADD, p, a)
		g.ldx(size, false, p, p, 0)
		g.bind(skip)
		g.joinWith(snap)
		g.set(a, scalar())
	}
}

func (g *gen) mapUpdate() {
	m, ok := g.mapOf(MapArray, MapHash, MapPerCPUArray, MapPerCPUHash)
	if !ok || g.maps[m].Flags != 0 || !g.room(30) {
		return
	}
	ms := g.maps[m]
	if (ms.Type == MapHash || ms.Type == MapPerCPUHash) && g.chance(0.3) {
		koff := g.keyOnStack(int(ms.KeySize), ms.MaxEntries)
		g.ldMap(1, m)
		g.movR(2, 10)
		g.aluI(true, opADD, 2, int32(koff))
		g.call(hMapDelete)
		return
	}
	koff := g.keyOnStack(int(ms.KeySize), ms.MaxEntries)
	voff := g.valueOnStack(int(ms.ValueSize))
	g.ldMap(1, m)
	g.movR(2, 10)
	g.aluI(true, opADD, 2, int32(koff))
	g.movR(3, 10)
	g.aluI(true, opADD, 3, int32(voff))
	g.movI(true, 4, []int32{0, 0, 1, 2}[g.n(4)])
	g.call(hMapUpdate)
}

// --- helpers, atomics, legacy loads ---

func (g *gen) helperMisc() {
	if !g.room(16) {
		return
	}
	switch g.n(5) {
	case 0:
		g.call(hKtime)
	case 1:
		g.call(hPrandom)
	case 2:
		g.call(hSmpID)
	case 3:
		n := 4 * (1 + g.n(8))
		off := g.valueOnStack(n)
		g.movR(1, 10)
		g.aluI(true, opADD, 1, int32(off))
		g.movI(true, 2, int32(n))
		g.movI(true, 3, 0)
		g.movI(true, 4, 0)
		g.movI(true, 5, g.imm())
		g.call(hCsumDiff)
	default:
		n := 1 + g.n(16)
		off := g.valueOnStack(n)
		g.movR(1, 10)
		g.aluI(true, opADD, 1, int32(off))
		g.movI(true, 2, int32(n))
		g.movI(true, 3, g.imm())
		g.call(hGokoHash32)
	}
	if g.chance(0.5) {
		if r := g.free(0); g.reg(r).k == kNone {
			g.movR(r, 0)
		}
	}
}

var atomicOps = []int32{atADD, atOR, atAND, atXOR, atADD | atFETCH, atOR | atFETCH, atAND | atFETCH, atXOR | atFETCH, atXCHG, atCMPXCHG}

func (g *gen) atomic() {
	if !g.room(10) {
		return
	}
	size := []int{4, 8}[g.n(2)]
	op := atomicOps[g.n(len(atomicOps))]
	var dst uint8
	var off int
	if m, ok := g.mapOf(MapArray, MapPerCPUArray); ok && g.maps[m].Flags == 0 && int(g.maps[m].ValueSize) >= size && g.chance(0.5) {
		p, ok := g.freePtr()
		if !ok {
			return
		}
		vs := int(g.maps[m].ValueSize)
		g.ldMapValue(p, m, (g.n(vs-size+1))&^(size-1))
		dst, off = p, 0
	} else {
		dst = 10
		off = g.stackSlot()
		if !g.cur().written(off, 8) || g.chance(0.3) {
			g.st(8, 10, off, g.imm())
		}
		if size == 4 && g.chance(0.5) {
			off += 4
		}
		g.cur().markScalar(off, size)
	}
	if g.chance(0.02) {
		off += []int{1, 2, 4}[g.n(3)] // misaligned
	}
	src := g.scalarReg(dst)
	if op == atCMPXCHG && !g.reg(0).isScalar() {
		g.movI(true, 0, g.imm())
		if src == 0 {
			src = g.scalarReg(dst, 0)
		}
	}
	g.emit(Insn{Op: clsSTX | mdATOMIC | szOf(size), Dst: dst, Src: src, Off: int16(off), Imm: op})
	switch {
	case op == atCMPXCHG:
		g.set(0, scalar())
	case op&atFETCH != 0:
		g.set(src, scalar())
	}
	if dst != 10 {
		g.set(dst, rs{})
	}
}

func (g *gen) ldAbs() {
	size := []int{1, 2, 4}[g.n(3)]
	if g.chance(0.6) {
		off := int32(hdrOffsets[g.n(len(hdrOffsets))])
		if g.chance(0.2) {
			off = g.imm()
		}
		g.emit(Insn{Op: clsLD | mdABS | szOf(size), Imm: off})
	} else {
		src := g.scalarReg()
		g.emit(Insn{Op: clsLD | mdIND | szOf(size), Src: src, Imm: g.small(40)})
	}
	for r := uint8(1); r <= 5; r++ {
		g.set(r, rs{})
	}
	g.set(0, scalar())
}

// --- loops and calls ---

func (g *gen) loop() {
	if !g.room(30) {
		return
	}
	// the counter lives in a callee-saved register when one is free, so
	// that helper calls in the body keep it; otherwise the body calls none
	i := uint8(255)
	for _, r := range []uint8{9, 8, 7, 6} {
		if g.reserved&(1<<r) == 0 {
			i = r
			break
		}
	}
	noCalls := i == 255
	if noCalls {
		i = g.free()
	}
	start := g.n(3)
	n := 1 + g.n(12)
	if g.chance(0.1) {
		n = 13 + g.n(60)
	}
	step := []int{1, 1, 1, 2, 4}[g.n(5)]
	end := start + n*step
	g.movI(true, i, int32(start))
	head := g.newLabel()
	entry := g.snapshot()
	g.bind(head)
	// r0-r5 are the body's temporaries: a call in the body clobbers them
	// for the next iteration
	for r := uint8(0); r <= 5; r++ {
		if r != i {
			g.set(r, rs{})
		}
	}
	saved, savedCalls := g.reserved, g.noCalls
	g.reserved |= 1 << i
	g.inLoop = true
	g.noCalls = g.noCalls || noCalls
	g.depth++
	for k := 1 + g.n(2); k > 0 && g.room(20); k-- {
		switch g.n(5) {
		case 0:
			g.probeMin(i, end+8)
		case 1:
			g.aluSeq()
		case 2:
			if m, ok := g.mapOf(MapArray); ok && g.room(14) {
				// index a map value by the counter, bounded by the loop
				vs := int(g.maps[m].ValueSize)
				p, ok := g.freePtr(i)
				if ok && end <= vs {
					g.ldMapValue(p, m, 0)
					g.aluR(true, opADD, p, i)
					g.ldx(1, false, p, p, 0)
				} else {
					g.probeMin(i, end+8)
				}
			}
		default:
			g.snippet()
		}
	}
	g.depth--
	g.inLoop = false
	g.reserved, g.noCalls = saved, savedCalls
	is32 := g.on(FeatJmp32) && g.chance(0.2)
	g.aluI(!is32 || g.chance(0.5), opADD, i, int32(step))
	switch g.n(5) {
	case 0:
		g.jmpI(is32, jNE, i, int32(end), head)
	case 1:
		g.jmpI(is32, jLE, i, int32(end-step), head)
	case 2:
		g.jmpI(is32, jSLT, i, int32(end), head)
	default:
		g.jmpI(is32, jLT, i, int32(end), head)
	}
	g.joinWith(entry)
	g.set(i, scalar())
}

// localCall passes a few arguments to a new subprogram and generates it.
func (g *gen) localCall() {
	if !g.room(30) {
		return
	}
	caller := g.cur()
	nargs := g.n(4)
	for a := uint8(1); a <= uint8(nargs); a++ {
		switch g.n(6) {
		case 0, 1:
			if s, ok := g.anyScalar(); ok && s != a {
				g.movR(a, s)
			} else {
				g.movI(true, a, g.imm())
			}
		case 2:
			off := g.stackSlot()
			if g.chance(0.7) && !caller.written(off, 8) {
				g.st(8, 10, off, g.imm())
				caller.markScalar(off, 8)
			}
			g.movR(a, 10)
			g.aluI(true, opADD, a, int32(off))
		case 3:
			if m, ok := g.mapOf(MapArray); ok {
				g.ldMapValue(a, m, 0)
			} else {
				g.movI(true, a, 0)
			}
		case 4:
			if base, bound, _, ok := g.pktRegs(); ok && a < 5 && base != a+1 && bound != a {
				g.movR(a, base)
				a++
				g.movR(a, bound)
			} else {
				g.movI(true, a, 1)
			}
		default:
			if g.kind == XDP && g.reg(6).k == kCtx {
				g.movR(a, 6)
			} else {
				g.movI(false, a, g.imm())
			}
		}
	}
	var args [6]rs
	for a := 1; a <= 5; a++ {
		args[a] = caller.regs[a]
	}
	entry := g.newLabel()
	g.emitJ(Insn{Op: clsJMP | jCALL, Src: 1}, entry, true)
	ret, stale := g.genFunc(entry, args)
	for r := uint8(1); r <= 5; r++ {
		g.set(r, rs{})
	}
	g.set(0, ret)
	if stale != 0 && g.chance(0.7) {
		// read back the callee's frame pointer it stored through an
		// argument, and use it: the frame is gone
		t := g.free()
		g.emit(Insn{Op: clsLDX | mdMEM | szDW, Dst: t, Src: 10, Off: int16(stale)})
		g.ldx(8, false, t, t, 0)
	}
}

// genFunc generates a subprogram called with args; it returns what the
// subprogram returns and, if it stored a pointer to its own frame through
// a caller stack pointer, the caller's offset of that slot.
func (g *gen) genFunc(entry int, args [6]rs) (ret rs, stale int) {
	g.nfuncs++
	saveCode, saveFn := g.code, g.curFn
	saveRes, saveLoop, saveDepth := g.reserved, g.inLoop, g.depth
	g.fns = append(g.fns, fn{entry: entry})
	g.curFn = len(g.fns) - 1
	g.code = nil
	g.bind(entry)
	fr := &frame{}
	for a := 1; a <= 5; a++ {
		fr.regs[a] = args[a]
	}
	fr.regs[10] = rs{k: kStack, frame: int8(len(g.frames))}
	g.frames = append(g.frames, fr)
	g.reserved = 1 << 10
	g.inLoop = false
	g.depth = 1
	for k := 1 + g.n(4); k > 0 && g.room(20); k-- {
		if g.chance(0.08) {
			stale = g.storeFramePtr()
		}
		g.snippet()
	}
	ret = scalar()
	switch {
	case g.chance(0.05):
		// return a pointer: to an argument's memory, or (unsafe) to the
		// callee's own frame
		ptrs := []uint8{10}
		for r := uint8(1); r <= 5; r++ {
			if x := g.reg(r); x.isPtr() && x.k != kMapValNull {
				ptrs = append(ptrs, r)
			}
		}
		r := ptrs[g.n(len(ptrs))]
		g.movR(0, r)
		ret = g.reg(r)
		if ret.k == kStack && int(ret.frame) == len(g.frames)-1 {
			ret = rs{}
		}
	default:
		if s, ok := g.anyScalar(); ok {
			g.movR(0, s)
		} else {
			g.movI(true, 0, g.imm())
		}
		ret = g.reg(0)
	}
	g.exit()
	g.fns[g.curFn].code = g.code
	g.frames = g.frames[:len(g.frames)-1]
	g.code, g.curFn = saveCode, saveFn
	g.reserved, g.inLoop, g.depth = saveRes, saveLoop, saveDepth
	return ret, stale
}

// storeFramePtr stores a pointer to the current (callee) frame through a
// caller's stack pointer argument, as in issue 18's crash.
func (g *gen) storeFramePtr() int {
	for r := uint8(1); r <= 5; r++ {
		x := g.reg(r)
		if x.k == kStack && int(x.frame) < len(g.frames)-1 && x.off%8 == 0 && x.off < 0 {
			t, ok := g.freePtr(r)
			if !ok {
				return 0
			}
			g.st(8, 10, -8, 5)
			g.cur().markScalar(-8, 8)
			g.movR(t, 10)
			g.aluI(true, opADD, t, -8)
			g.stx(8, r, 0, t)
			g.frames[x.frame].markSpill(int(x.off), g.reg(t))
			return int(x.off)
		}
	}
	return 0
}

// useArg dereferences a pointer argument of the current subprogram.
func (g *gen) useArg() {
	for r := uint8(1); r <= 5; r++ {
		x := g.reg(r)
		switch x.k {
		case kStack:
			fr := g.frames[x.frame]
			if int(x.frame) == len(g.frames)-1 {
				continue
			}
			if g.chance(0.5) && fr.written(int(x.off), 8) {
				g.ldx(8, false, g.free(r), r, 0)
			} else if x.off+8 <= 0 {
				g.stx(8, r, 0, g.scalarReg(r))
				fr.markScalar(int(x.off), 8)
			}
			return
		case kMapVal:
			g.useValue(r, int(x.m))
			return
		case kCtx:
			g.ldx(4, false, g.free(r), r, 12)
			return
		}
	}
	g.aluSeq()
}

// --- XDP context, ring buffers, pointer games ---

func (g *gen) xdpCtx() {
	if !g.room(16) {
		return
	}
	if g.chance(0.6) {
		r := g.free()
		off := []int{0, 4, 8, 12, 16, 20}[g.n(6)]
		g.emit(Insn{Op: clsLDX | mdMEM | szW, Dst: r, Src: 6, Off: int16(off)})
		switch off {
		case 0, 8:
			g.set(r, rs{k: kPkt})
		case 4:
			g.set(r, rs{k: kPktEnd})
		default:
			g.set(r, scalar())
		}
		return
	}
	// The same load reached with two different context offsets (data on
	// one path, data_end or ingress_ifindex on the other): the result is
	// only used as a 32-bit number, which is fine for both, so a verifier
	// that rewrites the load for one path only is caught by the value.
	b, ok := g.freePtr()
	if !ok {
		return
	}
	offs := []int32{0, 4, 8, 12, 16, 20}
	o1 := offs[g.n(len(offs))]
	o2 := offs[g.n(len(offs))]
	g.movR(b, 6)
	if o1 != 0 {
		g.aluI(true, opADD, b, o1)
	}
	l := g.newLabel()
	a := g.scalarReg(b)
	g.jmpI(g.chance(0.3), allConds[g.n(len(allConds))], a, g.imm(), l)
	g.movR(b, 6)
	if o2 != 0 {
		g.aluI(true, opADD, b, o2)
	}
	g.bind(l)
	g.emit(Insn{Op: clsLDX | mdMEM | szW, Dst: b, Src: b})
	g.emit(Insn{Op: clsALU | opMOV | srcReg, Dst: b, Src: b}) // w = w: a number
	g.set(b, scalar())
	if g.chance(0.7) {
		s := g.scalarReg(b)
		g.aluR(true, opADD, s, b)
	}
}

func (g *gen) ringbuf() {
	m, ok := g.mapOf(MapRingBuf)
	if !ok || !g.room(24) {
		return
	}
	if g.chance(0.3) {
		n := 1 + g.n(32)
		off := g.valueOnStack(n)
		g.ldMap(1, m)
		g.movR(2, 10)
		g.aluI(true, opADD, 2, int32(off))
		g.movI(true, 3, int32(n))
		g.movI(true, 4, 0)
		g.call(hRingOutput)
		return
	}
	size := 8 * (1 + g.n(8))
	g.ldMap(1, m)
	g.movI(true, 2, int32(size))
	g.movI(true, 3, 0)
	g.call(hRingReserve)
	skip := g.newLabel()
	g.jmpI(false, jEQ, 0, 0, skip)
	p := uint8(0)
	if g.reserved&(1<<9) == 0 && g.chance(0.5) {
		p = 9
		g.movR(9, 0)
	}
	for k := 1 + g.n(3); k > 0; k-- {
		sz := []int{1, 2, 4, 8}[g.n(4)]
		off := g.n(size-sz+1) &^ (sz - 1)
		if g.chance(0.02) {
			off = size - sz + 1
		}
		g.st(sz, p, off, g.imm())
	}
	g.movR(1, p)
	g.movI(true, 2, 0)
	g.call([]int32{hRingSubmit, hRingDiscard}[g.n(2)])
	g.bind(skip)
	g.set(p, rs{})
	g.set(0, scalar())
}

func (g *gen) ptrCmp() {
	if !g.room(16) {
		return
	}
	lEnd := g.newLabel()
	switch g.n(3) {
	case 0:
		base, bound, isLen, ok := g.pktRegs()
		if !ok || isLen {
			return
		}
		p, ok := g.freePtr(base, bound)
		if !ok {
			return
		}
		g.movR(p, base)
		g.aluI(true, opADD, p, g.small(60))
		g.jmpR(g.chance(0.2), allConds[g.n(len(allConds))], p, bound, lEnd)
		g.set(p, rs{})
	case 1:
		p, ok := g.freePtr()
		if !ok {
			return
		}
		g.movR(p, 10)
		g.aluI(true, opADD, p, -int32(8*(1+g.n(8))))
		g.jmpR(g.chance(0.3), allConds[g.n(len(allConds))], p, g.scalarReg(p), lEnd)
		g.set(p, rs{})
	default:
		if m, ok := g.mapOf(MapArray); ok {
			p, ok := g.freePtr()
			if !ok {
				return
			}
			g.ldMapValue(p, m, 0)
			g.jmpI(g.chance(0.3), []uint8{jEQ, jNE}[g.n(2)], p, 0, lEnd)
			g.set(p, rs{})
		}
	}
	g.ifElse(lEnd, lEnd, func() { g.snippets(1) }, false)
}

// ptrMix: pointer arithmetic the verifier must reject or track exactly.
func (g *gen) ptrMix() {
	if !g.room(12) {
		return
	}
	p, ok := g.freePtr()
	if !ok {
		return
	}
	switch g.n(5) {
	case 0: // stack pointer plus an unclamped scalar
		s := g.scalarReg(p)
		g.movR(p, 10)
		g.aluI(true, opADD, p, -8)
		g.aluR(true, opADD, p, s)
		g.ldx(1, false, p, p, 0)
	case 1: // pointer difference: a scalar
		base, bound, isLen, ok := g.pktRegs()
		if ok && !isLen {
			g.movR(p, bound)
			g.aluR(true, opSUB, p, base)
			g.set(p, scalar())
			g.probeWith(p, true)
		}
	case 2: // 32-bit arithmetic on a pointer makes a number
		g.movR(p, 10)
		g.aluI(false, opADD, p, -8)
		if g.chance(0.3) {
			g.ldx(8, false, p, p, 0)
		}
		g.set(p, scalar())
	case 3: // spill a pointer, clobber a byte of it, fill and use
		off := g.stackSlot()
		g.stx(8, 10, off, 10)
		g.st(1, 10, off+g.n(8), 0)
		g.cur().markScalar(off, 8)
		g.emit(Insn{Op: clsLDX | mdMEM | szDW, Dst: p, Src: 10, Off: int16(off)})
		g.set(p, scalar())
		if g.chance(0.3) {
			g.ldx(8, false, p, p, -8)
		}
	default: // pointer masked into a number
		src := []uint8{10, g.packetBase()}[g.n(2)]
		if !g.reg(src).isPtr() {
			src = 10
		}
		g.movR(p, src)
		g.aluI(true, []uint8{opAND, opOR, opXOR, opMUL, opLSH}[g.n(5)], p, g.imm())
		g.set(p, scalar())
	}
}
