//go:build linux

package ubpf

import (
	"fmt"
	"runtime"
)

// jitcall enters JIT code (jit_amd64.s).
//
//go:noescape
func jitcall(t *Thread, pc uintptr) (exit, r0 uint64)

// runJIT is Run for a compiled filter on the thread that ran it last,
// in one frame for the common case of a run that never leaves the code.
func (p *Program) runJIT(t *Thread, pkt []byte, st *progStats) (uint64, error) {
	code := p.jit
	t.ndyn = p.dynBase
	t.beginRun(p.stackSpan)
	t.pktLen = uint64(len(pkt))
	t.rd[regionPacket] = pkt
	wr := p.pktWritable
	if wr {
		t.wr[regionPacket] = pkt
	}
	e, r0 := jitcall(t, code.entry)
	if e != exitReturn {
		return p.runJITExits(t, st, code, e)
	}
	runtime.KeepAlive(code) // the mapping outlives the run
	// t.endRun, for a run that called no helper: no ring buffer records,
	// no stop
	t.rd[regionPacket] = nil
	if wr {
		t.wr[regionPacket] = nil
	}
	count(&st.runs, 1, t.ownSlot)
	if r0 == 1 { // IsMatch for KindFilter
		count(&st.matches, 1, t.ownSlot)
	}
	return r0, nil
}

func (p *Program) runJITExits(t *Thread, st *progStats, code *jitCode, e uint64) (uint64, error) {
	r0, err := p.jitExits(t, code, e)
	t.endRun()
	return p.account(t, st, r0, err)
}

// jitExec runs the compiled program on t (runOn's engine call); the
// code's entry sets r1 and r2 for the program's kind itself.
func (p *Program) jitExec(t *Thread, _, _ uint64) (uint64, error) {
	code := p.jit
	e, r0 := jitcall(t, code.entry)
	var err error
	if e != exitReturn {
		r0, err = p.jitExits(t, code, e)
	}
	runtime.KeepAlive(code)
	return r0, err
}

// jitExits serves the exits of a run until it ends: helper calls, budget
// slices, faults.
func (p *Program) jitExits(t *Thread, code *jitCode, e uint64) (uint64, error) {
	defer runtime.KeepAlive(code) // the mapping outlives the run
	j := &t.jit
	remaining := int64(p.budget)
	for {
		at := int(e >> 32)
		switch e & 0xff {
		case exitHelper:
			r := &j.regs
			r[0] = p.helpers[uint32(e)>>8](t, r[1], r[2], r[3], r[4], r[5])
			if t.stop {
				if t.err != nil {
					return 0, fmt.Errorf("ubpf: insn %d (%s): %w", at, Disasm(p.raw, at), t.err)
				}
				return t.retVal, nil
			}
		case exitLookup:
			mi := int(uint32(e) >> 8)
			j.regs[0] = t.mapLookup(p.maps[mi], mi, j.regs[2])
			if t.stop {
				return 0, fmt.Errorf("ubpf: insn %d (%s): %w", at, Disasm(p.raw, at), t.err)
			}
		case exitCallx:
			r := &j.regs
			id := r[p.raw[at].Dst&15]
			h := p.helperSet.lookup(id)
			if h == nil {
				return 0, p.fault(at, fmt.Sprintf("callx to unknown helper %d", id))
			}
			r[0] = h.fn(t, r[1], r[2], r[3], r[4], r[5])
			if t.stop {
				if t.err != nil {
					return 0, fmt.Errorf("ubpf: insn %d (%s): %w", at, Disasm(p.raw, at), t.err)
				}
				return t.retVal, nil
			}
		case exitBudget:
			// the slice's chunk went below zero (rcx, saved in j.budget):
			// what the interpreter's budget would be now
			remaining += j.budget - min(remaining, jitSlice)
			if remaining < 0 {
				return 0, p.budgetFault(at)
			}
			j.budget = min(remaining, jitSlice)
		case exitMemFault:
			return 0, p.memFault(&j.regs, at)
		case exitDepth:
			return 0, p.fault(at, "call stack too deep")
		default:
			return 0, p.fault(at, fmt.Sprintf("jit: unknown exit %#x", e))
		}
		var r0 uint64
		e, r0 = jitcall(t, code.resume)
		if e == exitReturn {
			return r0, nil
		}
	}
}
