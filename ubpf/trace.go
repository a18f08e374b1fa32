package ubpf

// Traced runs
//
// A traced run (RunTraced) is a normal Run - same setup, same helpers,
// same effects on maps, same counters - except that the program executes
// in step, an instruction-at-a-time interpreter of the raw instructions,
// instead of exec. step counts every instruction it executes and records
// every map lookup, update and delete the program makes, with the keys and
// values, which is what `ofctl trace` shows for a filter. exec keeps no
// per-instruction hook: the only cost of tracing outside traced runs is
// Run's check of Thread.trace, once per run.
//
// step is a second implementation of the instruction set, so it must agree
// with exec on everything: results, memory, faults and their messages, the
// budget of backward jumps and calls. It shares with exec what is not
// instruction semantics - the Thread's region tables and their bounds
// checks (xlate), helpers, atomics, call frames, LDDW values, context
// loads and the budget weights of jumps and calls as decoded - and
// trace_test.go checks it against exec on the conformance corpus, random
// programs and a C filter.

import (
	"encoding/binary"
	"fmt"
	"math/bits"
	"unsafe"
)

// Trace is what a traced run did.
type Trace struct {
	Insns     uint64  // instructions executed (an LDDW counts once)
	MapOps    []MapOp // the map helper calls, in order
	Truncated bool    // more than MaxTraceMapOps map calls: the rest are not listed
}

// MaxTraceMapOps bounds the map calls a trace lists.
const MaxTraceMapOps = 256

// MapOp is one map helper call of a traced run.
type MapOp struct {
	Map    string
	Op     string // "lookup", "update" or "delete"
	Key    []byte
	Value  []byte // lookup: the value found, as the program first sees it (nil: no entry); update: the value written
	Flags  uint64 // update: BPF_ANY, BPF_NOEXIST or BPF_EXIST
	Result int64  // update, delete: the helper's return (0 or -errno)
}

// RunTraced runs the program on pkt as Run does, with the tracing
// interpreter, and returns r0, what the run did, and Run's error.
func (p *Program) RunTraced(t *Thread, pkt []byte) (uint64, *Trace, error) {
	tr := &Trace{}
	t.trace, t.fast = tr, nil
	defer func() { t.trace = nil }()
	ret, err := p.Run(t, pkt)
	return ret, tr, err
}

// recordMapCall notes a call of helper id before it runs, when it is a
// map lookup, update or delete; done completes the record with the
// helper's return value.
func (p *Program) recordMapCall(t *Thread, id int32, r *[16]uint64) (done func(ret uint64)) {
	tr := t.trace
	h := p.helperSet.lookup(uint64(uint32(id)))
	m := t.mapArg(r[1])
	if h == nil || m == nil {
		return nil
	}
	var opName string
	switch h.name {
	case "map_lookup_elem":
		opName = "lookup"
	case "map_update_elem":
		opName = "update"
	case "map_delete_elem":
		opName = "delete"
	default:
		return nil
	}
	if len(tr.MapOps) >= MaxTraceMapOps {
		tr.Truncated = true
		return nil
	}
	op := MapOp{Map: m.Name(), Op: opName, Key: append([]byte(nil), t.Mem(r[2], uint64(m.spec.KeySize))...)}
	if opName == "update" {
		op.Value = append([]byte(nil), t.Mem(r[3], uint64(m.spec.ValueSize))...)
		op.Flags = r[4]
	}
	return func(ret uint64) {
		if opName == "lookup" {
			if ret != 0 {
				op.Value = append([]byte(nil), t.Mem(ret, uint64(m.spec.ValueSize))...)
			}
		} else {
			op.Result = int64(ret)
		}
		tr.MapOps = append(tr.MapOps, op)
	}
}

// step runs the program like exec, one raw instruction at a time,
// counting into t.trace.
func (p *Program) step(t *Thread, r1, r2 uint64) (uint64, error) {
	tr := t.trace
	var r [16]uint64
	r[1], r[2] = r1, r2
	r[10] = regionStack<<32 | uint64(p.stackSpan)
	t.depth = 0
	t.budget = p.budget
	pc := 0
	for {
		if pc >= len(p.raw) && pc < len(p.insns) && p.insns[pc].op == opLoopNext {
			// a bpf_loop callback returned (see exec's opLoopNext)
			site := int(p.insns[pc].off)
			if again, r0 := t.loopNext(r[0]); !again {
				r[0] = r0
				pc = site + 1
			} else {
				l := &t.loops[t.depth]
				if t.budget -= p.loopCall(t, &r, pc, l.i); t.budget < 0 {
					return 0, p.budgetOut(site)
				}
				pc = l.cb
			}
			continue
		}
		if pc < 0 || pc >= len(p.raw) {
			return 0, p.fault(pc, fmt.Sprintf("invalid decoded opcode %d", opInvalid))
		}
		in, d := p.raw[pc], &p.insns[pc]
		tr.Insns++
		next := pc + 1
		isReg := in.Op&srcX != 0
		dst := &r[in.Dst&15]
		switch cls := in.class(); cls {
		case classALU, classALU64:
			stepALU(in, cls == classALU64, dst, &r)
		case classJMP, classJMP32:
			code := in.Op & 0xf0
			switch code {
			case jmpEXIT:
				if t.depth == 0 {
					return r[0], nil
				}
				t.depth--
				f := &t.frames[t.depth&(MaxCallDepth-1)]
				next = f.ret
				r[6], r[7], r[8], r[9] = f.saved[0], f.saved[1], f.saved[2], f.saved[3]
				r[10] = f.fp
			case jmpCALL:
				switch {
				case isReg:
					id := *dst
					h := p.helperSet.lookup(id)
					if h == nil {
						return 0, p.fault(pc, fmt.Sprintf("callx to unknown helper %d", id))
					}
					r[0] = h.fn(t, r[1], r[2], r[3], r[4], r[5])
				case in.Src == callLocal:
					if t.depth >= MaxCallDepth-1 {
						return 0, p.fault(pc, "call stack too deep")
					}
					f := &t.frames[t.depth&(MaxCallDepth-1)]
					f.ret = pc + 1
					f.saved = [4]uint64{r[6], r[7], r[8], r[9]}
					f.fp = r[10]
					t.depth++
					r[10] -= StackFrameSize
					if t.budget -= int(d.back); t.budget < 0 {
						return 0, p.budgetOut(pc)
					}
					next = pc + 1 + int(in.Imm)
				case d.op == opBpfLoop:
					enter, r0, fault := t.loopStart(p, r[1], r[2], r[3])
					if fault != "" {
						return 0, p.fault(pc, fault)
					}
					if !enter {
						r[0] = r0
						break
					}
					if t.budget -= p.loopCall(t, &r, int(d.off), 0); t.budget < 0 {
						return 0, p.budgetOut(pc)
					}
					next = t.loops[t.depth-1].cb
				default:
					done := p.recordMapCall(t, in.Imm, &r)
					r[0] = p.helpers[d.off](t, r[1], r[2], r[3], r[4], r[5])
					if done != nil {
						done(r[0])
					}
				}
				if t.stop {
					if t.err != nil {
						return 0, fmt.Errorf("ubpf: insn %d (%s): %w", pc, Disasm(p.raw, pc), t.err)
					}
					return t.retVal, nil
				}
			default:
				taken, target := true, pc+1+int(in.Off)
				if code != jmpJA {
					taken = jumpTaken(in, cls == classJMP32, *dst, &r)
				} else if cls == classJMP32 {
					target = pc + 1 + int(in.Imm)
				}
				if taken {
					// The decoded jump carries the weight exec charges
					// (the second slot of a fused pair keeps its own).
					if t.budget -= int(d.back); t.budget < 0 {
						return 0, p.budgetOut(pc)
					}
					next = target
				}
			}
		case classLDX:
			switch d.op {
			case opLdPktData:
				*dst = regionPacket << 32
			case opLdPktEnd:
				*dst = regionPacket<<32 | t.pktLen
			default:
				n := uint64(sizeBytes(in.Op))
				b := xlate(&t.rd, r[in.Src&15]+uint64(int64(in.Off)), n)
				if b == nil {
					return 0, p.memFault(&r, pc)
				}
				*dst = loadLE(b, in.Op&0xe0 == modeMEMSX)
			}
		case classST, classSTX:
			n := uint64(sizeBytes(in.Op))
			b := xlate(&t.wr, *dst+uint64(int64(in.Off)), n)
			if b == nil {
				return 0, p.memFault(&r, pc)
			}
			switch {
			case cls == classST:
				storeLE(b, uint64(int64(in.Imm)))
			case in.Op&0xe0 != modeATOMIC:
				storeLE(b, r[in.Src&15])
			case uintptr(unsafe.Pointer(&b[0]))&uintptr(n-1) != 0:
				return 0, p.memFault(&r, pc)
			case n == 4:
				atomic32(&r, (*uint32)(unsafe.Pointer(&b[0])), d)
			default:
				atomic64(&r, (*uint64)(unsafe.Pointer(&b[0])), d)
			}
		case classLD:
			if in.isLDDW() {
				*dst = d.imm // resolved at load (map handles, addresses)
				next = pc + 2
				break
			}
			o := uint64(int64(in.Imm))
			if in.Op&0xe0 == modeIND {
				o += r[in.Src&15]
			}
			n := uint64(sizeBytes(in.Op))
			pkt := t.rd[regionPacket]
			if o+n > uint64(len(pkt)) || o+n < o {
				return 0, nil // out of bounds: Linux ends the program with 0
			}
			r[0] = 0
			for _, c := range pkt[o : o+n] {
				r[0] = r[0]<<8 | uint64(c) // network order
			}
		}
		pc = next
	}
}

// budgetOut is the error of a run that used up its budget at pc, as
// exec reports it.
func (p *Program) budgetOut(pc int) error {
	return &RunError{PC: pc, Insn: Disasm(p.raw, pc), Budget: true,
		Reason: fmt.Sprintf("instruction budget of %d exhausted (raise it with the program's run budget if the loop is meant to run that long)", p.budget)}
}

// stepALU executes an ALU or ALU64 instruction.
func stepALU(in RawInsn, is64 bool, dst *uint64, r *[16]uint64) {
	isReg := in.Op&srcX != 0
	src := uint64(uint32(in.Imm))
	switch {
	case isReg:
		src = r[in.Src&15]
	case is64:
		src = uint64(int64(in.Imm))
	}
	a := *dst
	if !is64 {
		a, src = uint64(uint32(a)), uint64(uint32(src))
	}
	signed := in.Off == 1
	var v uint64
	switch in.Op & 0xf0 {
	case aluADD:
		v = a + src
	case aluSUB:
		v = a - src
	case aluMUL:
		v = a * src
	case aluDIV:
		switch {
		case src == 0:
			v = 0
		case signed && is64:
			v = uint64(int64(a) / int64(src))
		case signed:
			v = uint64(uint32(int32(a) / int32(src)))
		default:
			v = a / src
		}
	case aluMOD:
		switch {
		case src == 0:
			v = a
		case signed && is64:
			v = uint64(int64(a) % int64(src))
		case signed:
			v = uint64(uint32(int32(a) % int32(src)))
		default:
			v = a % src
		}
	case aluOR:
		v = a | src
	case aluAND:
		v = a & src
	case aluXOR:
		v = a ^ src
	case aluLSH, aluRSH, aluARSH:
		sh := src & 63
		if !is64 {
			sh = src & 31
		}
		switch {
		case in.Op&0xf0 == aluLSH:
			v = a << sh
		case in.Op&0xf0 == aluRSH:
			v = a >> sh
		case is64:
			v = uint64(int64(a) >> sh)
		default:
			v = uint64(uint32(int32(a) >> sh))
		}
	case aluNEG:
		v = -a
	case aluMOV:
		v = src
		if isReg && in.Off != 0 { // movsx
			switch {
			case in.Off == 8:
				v = uint64(int64(int8(r[in.Src&15])))
			case in.Off == 16 || !is64:
				v = uint64(int64(int16(r[in.Src&15])))
			default:
				v = uint64(int64(int32(r[in.Src&15])))
			}
		}
	case aluEND:
		v = *dst
		switch {
		case !is64 && !isReg: // to little-endian: truncate
			switch in.Imm {
			case 16:
				v = uint64(uint16(v))
			case 32:
				v = uint64(uint32(v))
			}
		case in.Imm == 16:
			v = uint64(bits.ReverseBytes16(uint16(v)))
		case in.Imm == 32:
			v = uint64(bits.ReverseBytes32(uint32(v)))
		default:
			v = bits.ReverseBytes64(v)
		}
		*dst = v
		return
	}
	if !is64 {
		v = uint64(uint32(v))
	}
	*dst = v
}

// jumpTaken evaluates a conditional jump.
func jumpTaken(in RawInsn, is32 bool, a uint64, r *[16]uint64) bool {
	b := uint64(int64(in.Imm))
	if in.Op&srcX != 0 {
		b = r[in.Src&15]
	}
	if is32 {
		a, b = uint64(uint32(a)), uint64(uint32(b))
	}
	sa, sb := int64(a), int64(b)
	if is32 {
		sa, sb = int64(int32(a)), int64(int32(b))
	}
	switch in.Op & 0xf0 {
	case jmpJEQ:
		return a == b
	case jmpJNE:
		return a != b
	case jmpJGT:
		return a > b
	case jmpJGE:
		return a >= b
	case jmpJLT:
		return a < b
	case jmpJLE:
		return a <= b
	case jmpJSET:
		return a&b != 0
	case jmpJSGT:
		return sa > sb
	case jmpJSGE:
		return sa >= sb
	case jmpJSLT:
		return sa < sb
	case jmpJSLE:
		return sa <= sb
	}
	return false
}

func loadLE(b []byte, signExtend bool) uint64 {
	switch len(b) {
	case 1:
		if signExtend {
			return uint64(int64(int8(b[0])))
		}
		return uint64(b[0])
	case 2:
		v := binary.LittleEndian.Uint16(b)
		if signExtend {
			return uint64(int64(int16(v)))
		}
		return uint64(v)
	case 4:
		v := binary.LittleEndian.Uint32(b)
		if signExtend {
			return uint64(int64(int32(v)))
		}
		return uint64(v)
	}
	return binary.LittleEndian.Uint64(b)
}

func storeLE(b []byte, v uint64) {
	switch len(b) {
	case 1:
		b[0] = byte(v)
	case 2:
		binary.LittleEndian.PutUint16(b, uint16(v))
	case 4:
		binary.LittleEndian.PutUint32(b, uint32(v))
	default:
		binary.LittleEndian.PutUint64(b, v)
	}
}
