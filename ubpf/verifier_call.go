package ubpf

// Calls and exits
//
// A local call pushes a frame (the callee sees the caller's r1-r5, its own
// r10 and an empty stack) and its exit pops it, handing r0 back and
// clobbering r1-r5; a helper call checks each argument against the
// helper's prototype (map, key and value pointers of the map's sizes,
// readable or writable memory with its size, ring buffer records still
// held) and clobbers r1-r5 too; bpf_loop runs a callback as a loop (see
// callLoop). A pointer into a frame never outlives it: it may not be
// returned, nor stored into an older frame (access).

func (s *vstate) dropRef(id uint32) {
	for i, r := range s.refs {
		if r == id {
			s.refs = append(s.refs[:i:i], s.refs[i+1:]...)
			return
		}
	}
}

func (v *verifier) clobber(f *frameState) {
	for r := 1; r <= 5; r++ {
		f.regs[r] = reg{}
	}
	r0 := unknown()
	r0.id = v.newID()
	f.regs[0] = r0
}

func (v *verifier) exit(st *vstate) (int, int, *vstate, bool, error) {
	f := st.cur()
	r0 := f.regs[0]
	if r0.t == tNotInit {
		return 0, 0, nil, false, v.fail("R0 !read_ok: the program must set r0 before exit")
	}
	if len(st.frames) == 1 {
		if len(st.refs) > 0 {
			return 0, 0, nil, false, v.fail("unreleased reference: a ring buffer record reserved on this path is neither submitted nor discarded")
		}
		if !v.raw && r0.t != tScalar {
			return 0, 0, nil, false, v.fail("R0 leaks addr as return value (%s)", r0.t)
		}
		return 0, 0, nil, true, nil
	}
	if r0.t == tPtrStack && int(r0.frame) == len(st.frames)-1 {
		return 0, 0, nil, false, v.fail("cannot return a pointer to the callee's stack")
	}
	if f.loop {
		return v.loopCallbackExit(st, f, r0)
	}
	callsite := f.callsite
	st.frames = st.frames[:len(st.frames)-1]
	c := st.cur()
	for r := 1; r <= 5; r++ {
		c.regs[r] = reg{}
	}
	c.regs[0] = r0
	return callsite + 1, 0, nil, false, nil
}

func (v *verifier) callLocal(st *vstate, pc int, in RawInsn) (int, int, *vstate, bool, error) {
	if len(st.frames) >= MaxCallDepth {
		return 0, 0, nil, false, v.fail("the call stack of %d frames is too deep", len(st.frames)+1)
	}
	caller := st.cur()
	nf := &frameState{callsite: pc}
	for r := 1; r <= 5; r++ {
		nf.regs[r] = caller.regs[r]
	}
	nf.regs[10] = reg{t: tPtrStack, frame: uint8(len(st.frames))}
	st.frames = append(st.frames, nf)
	return pc + 1 + int(in.Imm), 0, nil, false, nil
}

// bpf_loop(nr_loops, callback, ctx, flags) runs callback(i, ctx) for i =
// 0, 1, ... until it returns 1 or nr_loops iterations (at most 2^23) were
// run, and returns the number of iterations. The verifier follows it as
// the loop it is: from the call, the path either skips the loop (no
// iteration) or enters the callback in a new frame with r1 a number below
// nr_loops and r2 the ctx; each return from the callback either leaves the
// loop (after the call, r0 a number) or enters the callback again with the
// caller's state as the callback left it. That re-entry may be cut by a
// covering state recorded at the callback's start even while that state's
// own exploration is unfinished (visit), which is what makes the
// iterations converge; before re-entering, numbers spilled to the callers'
// stacks that the iteration changed are widened to unknown, as Linux widens
// imprecise scalars, so that a counter kept in ctx does not make every
// iteration new.
func (v *verifier) callLoop(st *vstate, pc int) (int, int, *vstate, bool, error) {
	f := st.cur()
	nr, cb, cx, flags := f.regs[1], f.regs[2], f.regs[3], f.regs[4]
	switch {
	case nr.t != tScalar:
		return 0, 0, nil, false, v.fail("R1 type=%s: bpf_loop's nr_loops must be a number", nr.t)
	case cb.t != tFuncPtr:
		return 0, 0, nil, false, v.fail("R2 type=%s: bpf_loop's callback must be the address of a static function", cb.t)
	case cx.t == tNotInit:
		return 0, 0, nil, false, v.fail("R3 !read_ok (bpf_loop's ctx)")
	case cx.t != tPtrStack && !(cx.t == tScalar && cx.isConst() && cx.umin == 0):
		return 0, 0, nil, false, v.fail("R3 type=%s: bpf_loop's ctx must point to the stack or be NULL", cx.t)
	case flags.t != tScalar || !flags.isConst() || flags.umin != 0:
		return 0, 0, nil, false, v.fail("R4: bpf_loop's flags must be 0")
	}
	after := v.afterLoop(st.clone())
	if nr.umax == 0 {
		*st = *after
		return pc + 1, 0, nil, false, nil
	}
	if err := v.enterLoopCallback(st, pc, int(cb.off), nr, cx); err != nil {
		return 0, 0, nil, false, err
	}
	return int(cb.off), pc + 1, after, false, nil
}

// afterLoop is st where bpf_loop returns: r0 the number of iterations run
// (or -E2BIG), r1-r5 clobbered.
func (v *verifier) afterLoop(st *vstate) *vstate {
	v.clobber(st.cur())
	return st
}

// enterLoopCallback pushes the callback's frame for one iteration.
func (v *verifier) enterLoopCallback(st *vstate, site, fn int, nr, cx reg) error {
	if len(st.frames) >= MaxCallDepth {
		return v.fail("the call stack of %d frames is too deep (bpf_loop's callback)", len(st.frames)+1)
	}
	last := uint64(maxLoops - 1)
	if nr.umax > 0 && nr.umax <= maxLoops {
		last = nr.umax - 1
	}
	nf := &frameState{callsite: site, loop: true, loopFn: fn, loopNr: nr, loopCx: cx}
	for _, fr := range st.frames {
		snap := make(map[int]reg, len(fr.spills))
		for k, sp := range fr.spills {
			snap[k] = sp
		}
		nf.entrySpills = append(nf.entrySpills, snap)
	}
	nf.regs[1] = rangeReg(0, last)
	v.fresh(&nf.regs[1])
	nf.regs[2] = cx
	nf.regs[10] = reg{t: tPtrStack, frame: uint8(len(st.frames))}
	st.frames = append(st.frames, nf)
	return nil
}

// loopCallbackExit returns from one iteration of a bpf_loop callback.
func (v *verifier) loopCallbackExit(st *vstate, f *frameState, r0 reg) (int, int, *vstate, bool, error) {
	if r0.t != tScalar || r0.umax > 1 {
		return 0, 0, nil, false, v.fail("bpf_loop's callback must return 0 (go on) or 1 (stop), R0=%s", r0)
	}
	st.frames = st.frames[:len(st.frames)-1]
	again := st.clone()
	for i, fr := range again.frames {
		for k, sp := range fr.spills {
			if was, ok := f.entrySpills[i][k]; sp.t == tScalar && (!ok || was.t != tScalar || was.scalar != sp.scalar) {
				fr.spills[k] = unknown() // changed by the iteration: widen
			}
		}
	}
	again.loopAgain = true
	if err := v.enterLoopCallback(again, f.callsite, f.loopFn, f.loopNr, f.loopCx); err != nil {
		return 0, 0, nil, false, err
	}
	v.afterLoop(st)
	return f.callsite + 1, f.loopFn, again, false, nil
}

// memArg checks that ptr points to size readable (or writable) bytes.
func (v *verifier) memArg(st *vstate, argNo int, ptr reg, size reg, write bool) error {
	if ptr.t == tScalar && ptr.isConst() && ptr.umin == 0 && size.isConst() && size.umin == 0 {
		return nil
	}
	if size.t != tScalar {
		return v.fail("R%d size argument is not a scalar", argNo+1)
	}
	if size.umax > 1<<16 {
		return v.fail("R%d unbounded memory access: size umax=%d (bound the size first)", argNo+1, size.umax)
	}
	if size.umax == 0 {
		return nil
	}
	switch ptr.t {
	case tPtrStack:
		if int(ptr.frame) >= len(st.frames) {
			return v.fail("R%d stack pointer to a returned frame", argNo)
		}
	case tPtrMapValue, tPtrPacket, tPtrMem, tPtrRaw:
	case tScalar:
		if v.raw {
			return nil
		}
		fallthrough
	default:
		return v.fail("R%d type=%s expected=fp, pkt, map_value or mem", argNo, ptr.t)
	}
	if write && ptr.t == tPtrStack {
		// writable stack memory of any size up to umax becomes initialised
		if ptr.smin != ptr.smax {
			return v.fail("R%d variable-offset stack memory argument", argNo)
		}
		lo := ptr.off + ptr.smin
		if lo < -StackFrameSize || lo+int64(size.umax) > 0 {
			return v.fail("invalid indirect access to stack off=%d size=%d", lo, size.umax)
		}
		v.noteStack(ptr.frame, lo)
		fr := st.frames[ptr.frame]
		for a := lo; a < lo+int64(size.umax); a++ {
			i := int(a + StackFrameSize)
			if fr.stack[i] == sSpill {
				s := i &^ 7
				if sp := fr.spills[s/8]; sp.isPtr() {
					return v.fail("R%d helper would overwrite the %s pointer spilled at stack off %d", argNo, sp.t, int64(s)-StackFrameSize)
				}
				for k := 0; k < 8; k++ {
					fr.stack[s+k] = sMisc
				}
				delete(fr.spills, s/8)
			}
			fr.stack[i] = sMisc
		}
		return nil
	}
	if ptr.t != tPtrStack {
		// check the first and the last byte of the largest access
		for _, o := range []int64{0, int64(size.umax) - 1} {
			if _, err := v.access(st, ptr, o, 1, write, nil); err != nil {
				return err
			}
		}
	} else {
		lo, end := ptr.off+ptr.smin, ptr.off+ptr.smax+int64(size.umax)
		if ptr.smin < -maxPtrOff || ptr.smax > maxPtrOff || lo < -StackFrameSize || end > 0 {
			return v.fail("invalid indirect read from stack R%d off %d..%d size %d (frame is %d bytes)", argNo, ptr.off+ptr.smin, ptr.off+ptr.smax, size.umax, StackFrameSize)
		}
		v.noteStack(ptr.frame, lo)
		fr := st.frames[ptr.frame]
		for a := lo; a < end; a++ {
			i := int(a + StackFrameSize)
			switch fr.stack[i] {
			case sInvalid:
				return v.fail("invalid indirect read from stack off %d+%d size %d (uninitialised)", lo, a-lo, size.umax)
			case sSpill:
				if sp := fr.spills[i/8]; sp.isPtr() && !v.raw {
					return v.fail("R%d leaking the %s pointer spilled at stack off %d into helper memory", argNo, sp.t, int64(i&^7)-StackFrameSize)
				}
			}
		}
	}
	return nil
}

func (v *verifier) callHelper(st *vstate, in RawInsn) error {
	h := v.helpers.lookup(uint64(uint32(in.Imm)))
	f := st.cur()
	var m *Map
	var release uint32
	for i, at := range h.args {
		if at == argNone {
			break
		}
		r := f.regs[i+1]
		if r.t == tNotInit {
			return v.fail("R%d !read_ok (argument %d of %s)", i+1, i+1, h.name)
		}
		switch at {
		case argMap:
			if r.t != tConstMap {
				return v.fail("R%d type=%s expected=map_ptr", i+1, r.t)
			}
			m = v.p.maps[r.mapIdx]
			if h.mapTypes != nil {
				ok := false
				for _, t := range h.mapTypes {
					ok = ok || t == m.spec.Type
				}
				if !ok {
					return v.fail("cannot pass map_type %s (%s) into func %s#%d", m.spec.Type, m.spec.Name, h.name, h.id)
				}
			}
			if h.id == 2 && m.spec.Flags&FlagRdonlyProg != 0 {
				return v.fail("map %s is read-only for programs", m.spec.Name)
			}
		case argMapKey:
			if err := v.memArg(st, i+1, r, constReg(uint64(m.spec.KeySize)), false); err != nil {
				return err
			}
		case argMapValue:
			if err := v.memArg(st, i+1, r, constReg(uint64(m.spec.ValueSize)), false); err != nil {
				return err
			}
		case argMapValueIO:
			if err := v.memArg(st, i+1, r, constReg(uint64(m.spec.ValueSize)), m.spec.Type != MapBloomFilter); err != nil {
				return err
			}
		case argMem, argMemOut:
			size := f.regs[i+2]
			if size.t == tNotInit {
				return v.fail("R%d !read_ok (size argument of %s)", i+2, h.name)
			}
			if err := v.memArg(st, i+1, r, size, at == argMemOut); err != nil {
				return err
			}
		case argSize:
			if r.t != tScalar || r.umin == 0 && !v.raw && h.args[i-1] != argNone && h.id != 6 {
				if r.t != tScalar || r.umax == 0 {
					return v.fail("R%d invalid zero-sized read", i+1)
				}
			}
		case argSizeOrZero:
			if r.t != tScalar {
				return v.fail("R%d size is not a scalar", i+1)
			}
		case argAllocSize:
			if !r.isConst() || r.umin == 0 || r.umin > 1<<20 {
				return v.fail("R%d ring buffer reservation size must be a constant in 1..%d", i+1, 1<<20)
			}
			v.allocSize = int64(r.umin)
		case argRingbufMem:
			if r.t != tPtrMem || r.off != 0 || r.smin != 0 || r.smax != 0 {
				return v.fail("R%d type=%s expected=ringbuf_mem (the pointer ringbuf_reserve returned, unmodified)", i+1, r.t)
			}
			found := false
			for _, id := range st.refs {
				found = found || id == r.id
			}
			if !found {
				return v.fail("R%d ring buffer record already released", i+1)
			}
			release = r.id
		case argAnything:
			if r.isPtr() && !v.raw {
				return v.fail("R%d leaks addr into helper function %s", i+1, h.name)
			}
		}
	}
	if release != 0 {
		st.dropRef(release)
		st.forEachReg(func(x *reg) {
			if (x.t == tPtrMem || x.t == tPtrMemOrNull) && x.id == release {
				*x = unknown()
			}
		})
	}
	v.clobber(f)
	switch h.ret {
	case retMapValueOrNull:
		f.regs[0] = reg{t: tPtrMapValueOrNull, mapIdx: f0MapIdx(m, v.p), id: v.newID()}
	case retRingbufMemOrNull:
		id := v.newID()
		size := st.cur().regs[0] // placeholder, replaced below
		_ = size
		f.regs[0] = reg{t: tPtrMemOrNull, id: id, size: int32(v.lastAlloc(st, in))}
		st.refs = append(st.refs, id)
	}
	return nil
}

func f0MapIdx(m *Map, p *Program) int32 {
	for i, x := range p.maps {
		if x == m {
			return int32(i)
		}
	}
	return -1
}

// lastAlloc returns the constant size argument (r2) of a ringbuf_reserve
// call; the verifier checked it before the registers were clobbered.
func (v *verifier) lastAlloc(st *vstate, in RawInsn) int64 {
	return v.allocSize
}
