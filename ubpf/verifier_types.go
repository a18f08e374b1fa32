package ubpf

import (
	"fmt"
	"math"
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
)

var regTypeNames = [...]string{
	tNotInit: "uninit", tScalar: "scalar", tPtrCtx: "ctx", tPtrStack: "fp",
	tPtrPacket: "pkt", tPtrPacketEnd: "pkt_end", tPtrMapValue: "map_value",
	tPtrMapValueOrNull: "map_value_or_null", tConstMap: "map_ptr", tPtrMem: "mem",
	tPtrMemOrNull: "mem_or_null", tPtrRaw: "raw_mem",
}

func (t regType) String() string { return regTypeNames[t] }

// reg is the abstract value of a register or spilled stack slot.
//
// For scalars, [umin,umax] and [smin,smax] bound the value; id links
// copies of one unknown value (and the packet-range facts about it), with
// off the constant added since (value = base(id) + off).
//
// For pointers, off is the constant offset from the region's base and the
// ranges bound the variable offset added to it. Packet pointers with a
// variable part carry the id of that part; the state's packet ranges say
// how many bytes beyond base+var are known to be inside the packet.
type reg struct {
	t      regType
	frame  uint8
	id     uint32
	mapIdx int32
	size   int32 // tPtrMem: size of the memory
	off    int64
	umin   uint64
	umax   uint64
	smin   int64
	smax   int64
}

func unknown() reg {
	return reg{t: tScalar, umax: math.MaxUint64, smin: math.MinInt64, smax: math.MaxInt64}
}

func constReg(v uint64) reg {
	return reg{t: tScalar, umin: v, umax: v, smin: int64(v), smax: int64(v)}
}

func rangeReg(lo, hi uint64) reg {
	r := reg{t: tScalar, umin: lo, umax: hi, smin: math.MinInt64, smax: math.MaxInt64}
	r.sync()
	return r
}

func signedRange(lo, hi int64) reg {
	r := reg{t: tScalar, umin: 0, umax: math.MaxUint64, smin: lo, smax: hi}
	r.sync()
	return r
}

func (r *reg) isConst() bool { return r.t == tScalar && r.umin == r.umax }

func (r *reg) isPtr() bool { return r.t != tNotInit && r.t != tScalar }

// sync tightens the unsigned and signed bounds against each other. It
// returns false when they contradict (an infeasible branch).
func (r *reg) sync() bool {
	if r.umax <= math.MaxInt64 {
		r.smin = max(r.smin, int64(r.umin))
		r.smax = min(r.smax, int64(r.umax))
	} else if r.umin > math.MaxInt64 {
		// all values negative as signed
		r.smin = max(r.smin, int64(r.umin))
		r.smax = min(r.smax, int64(r.umax))
	}
	if r.smin >= 0 {
		r.umin = max(r.umin, uint64(r.smin))
		r.umax = min(r.umax, uint64(r.smax))
	} else if r.smax < 0 {
		r.umin = max(r.umin, uint64(r.smin))
		r.umax = min(r.umax, uint64(r.smax))
	}
	return r.umin <= r.umax && r.smin <= r.smax
}

func (r reg) String() string {
	switch r.t {
	case tNotInit:
		return "uninit"
	case tScalar:
		if r.isConst() {
			return fmt.Sprintf("%d", int64(r.umin))
		}
		return fmt.Sprintf("scalar(umin=%d,umax=%d,smin=%d,smax=%d)", r.umin, r.umax, r.smin, r.smax)
	}
	s := fmt.Sprintf("%s(off=%d", r.t, r.off)
	if r.umin != 0 || r.umax != 0 {
		s += fmt.Sprintf(",var=[%d,%d]", r.smin, r.smax)
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
}

func (s *vstate) cur() *frameState { return s.frames[len(s.frames)-1] }

func (s *vstate) clone() *vstate {
	c := &vstate{frames: make([]*frameState, len(s.frames))}
	for i, f := range s.frames {
		c.frames[i] = f.clone()
	}
	c.pkt = append([]pktFact(nil), s.pkt...)
	c.refs = append([]uint32(nil), s.refs...)
	return c
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
