package ubpf

import (
	"fmt"
)

type regType uint8

const (
	tNotInit regType = iota
	tScalar
	tPtrCtx
	tPtrStack
	tPtrPacket
	tPtrPacketEnd
	tPtrMapValue
	tPtrMapValueOrNull
	tConstMap
	tPtrMem
	tPtrMemOrNull
	tPtrRaw
	tFuncPtr // a static function's address (lddw src 4): off is its first insn
)

var regTypeNames = [...]string{
	tNotInit: "uninit", tScalar: "scalar", tPtrCtx: "ctx", tPtrStack: "fp",
	tPtrPacket: "pkt", tPtrPacketEnd: "pkt_end", tPtrMapValue: "map_value",
	tPtrMapValueOrNull: "map_value_or_null", tConstMap: "map_ptr", tPtrMem: "mem",
	tPtrMemOrNull: "mem_or_null", tPtrRaw: "raw_mem", tFuncPtr: "func",
}

func (t regType) String() string { return regTypeNames[t] }

// reg is the abstract value of a register or spilled stack slot.
//
// For scalars, the embedded scalar bounds the value (see
// verifier_scalar.go); id links registers whose values differ by a known
// constant: value = base(id) + off, modulo 2^64 (and, for the filter's
// length, lenID, as plain integers: see scalarLink).
//
// For pointers, off is the constant offset from the region's base and the
// scalar bounds the variable offset added to it. Packet pointers with a
// variable part carry the id of that part; the state's packet ranges say
// how many bytes beyond base+var are known to be inside the packet.
type reg struct {
	t      regType
	frame  uint8
	id     uint32
	mapIdx int32
	size   int32 // tPtrMem: size of the memory
	off    int64
	scalar
}

func unknown() reg { return reg{t: tScalar, scalar: unknownScalar()} }

func constReg(v uint64) reg { return reg{t: tScalar, scalar: constScalar(v)} }

func rangeReg(lo, hi uint64) reg { return reg{t: tScalar, scalar: uRange(lo, hi)} }

func signedRange(lo, hi int64) reg { return reg{t: tScalar, scalar: sRange(lo, hi)} }

func scalarReg(s scalar) reg { return reg{t: tScalar, scalar: s} }

func (r *reg) isConst() bool { return r.t == tScalar && r.umin == r.umax }

func (r *reg) isPtr() bool { return r.t != tNotInit && r.t != tScalar }

// hasVarOff reports whether a pointer has a variable part.
func (r *reg) hasVarOff() bool { return !(r.umin == 0 && r.umax == 0) }

func (r reg) String() string {
	switch r.t {
	case tNotInit:
		return "uninit"
	case tScalar:
		return r.scalar.String()
	}
	s := fmt.Sprintf("%s(off=%d", r.t, r.off)
	if r.hasVarOff() {
		s += fmt.Sprintf(",var=%s", r.scalar)
	}
	if r.t == tPtrStack {
		s += fmt.Sprintf(",frame=%d", r.frame)
	}
	if r.t == tPtrMapValue || r.t == tPtrMapValueOrNull || r.t == tConstMap {
		s += fmt.Sprintf(",map=%d", r.mapIdx)
	}
	return s + ")"
}

// stack bytes
const (
	sInvalid uint8 = iota // never written
	sMisc                 // written, value unknown
	sSpill                // part of an 8-byte register spill
)

type frameState struct {
	regs     [11]reg
	stack    [StackFrameSize]uint8 // per byte, index = 512+offset
	spills   map[int]reg           // slot index (offset/8 + 64) -> spilled register
	callsite int
	// a bpf_loop callback's frame: what the next iteration is entered
	// with (callsite is the call of bpf_loop)
	loop           bool
	loopFn         int
	loopNr, loopCx reg
	entrySpills    []map[int]reg // the callers' spills when the iteration began
}

func (f *frameState) clone() *frameState {
	c := *f
	if f.spills != nil {
		c.spills = make(map[int]reg, len(f.spills))
		for k, v := range f.spills {
			c.spills[k] = v
		}
	}
	return &c
}

type pktFact struct {
	id  uint32
	rng int64
}

type vstate struct {
	frames []*frameState
	pkt    []pktFact // proven packet ranges per variable-offset id
	refs   []uint32  // unreleased ring buffer reservations
	// loopAgain marks a path that enters a bpf_loop callback for another
	// iteration: it may be cut by a covering state still being explored
	// (see callLoop)
	loopAgain bool
}

func (s *vstate) cur() *frameState { return s.frames[len(s.frames)-1] }

func (s *vstate) clone() *vstate {
	c := &vstate{frames: make([]*frameState, len(s.frames))}
	for i, f := range s.frames {
		c.frames[i] = f.clone()
	}
	if len(s.pkt) > 16 {
		s.dropDeadPktFacts()
	}
	c.pkt = append([]pktFact(nil), s.pkt...)
	c.refs = append([]uint32(nil), s.refs...)
	c.loopAgain = s.loopAgain
	return c
}

// dropDeadPktFacts forgets the packet ranges of ids no register or spilled
// register holds any more: nothing can refer to them again (a new pointer
// or scalar gets a new id), and a long loop would otherwise make every
// copy of the state longer. Facts about data + 0 (id 0) always stay.
func (s *vstate) dropDeadPktFacts() {
	live := map[uint32]bool{0: true}
	s.forEachReg(func(r *reg) {
		if r.id != 0 {
			live[r.id] = true
		}
	})
	kept := s.pkt[:0]
	for _, f := range s.pkt {
		if live[f.id] {
			kept = append(kept, f)
		}
	}
	s.pkt = kept
}

func (s *vstate) pktRange(id uint32) int64 {
	for _, f := range s.pkt {
		if f.id == id {
			return f.rng
		}
	}
	return 0
}

func (s *vstate) setPktRange(id uint32, r int64) {
	for i, f := range s.pkt {
		if f.id == id {
			if r > f.rng {
				s.pkt[i].rng = r
			}
			return
		}
	}
	if r > 0 {
		s.pkt = append(s.pkt, pktFact{id, r})
	}
}

// forEachReg calls fn on every register and spilled register of the state.
func (s *vstate) forEachReg(fn func(r *reg)) {
	for _, f := range s.frames {
		for i := range f.regs {
			fn(&f.regs[i])
		}
		for k, v := range f.spills {
			vv := v
			fn(&vv)
			f.spills[k] = vv
		}
	}
}
