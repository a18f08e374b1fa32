//go:build linux

package ubpf

import (
	"fmt"
	"runtime"
	"unsafe"
)

// jitcall enters JIT code (jit_amd64.s).
//
//go:noescape
func jitcall(t *Thread, pc uintptr)

// jitExec runs the compiled program on t; the counterpart of exec.
func (p *Program) jitExec(t *Thread, r1, r2 uint64) (uint64, error) {
	code := p.jit
	ret, err := p.jitLoop(t, code, r1, r2)
	runtime.KeepAlive(code) // the mapping outlives the run
	return ret, err
}

func (p *Program) jitLoop(t *Thread, code *jitCode, r1, r2 uint64) (uint64, error) {
	j := &t.jit
	j.regs[1], j.regs[2] = r1, r2
	j.regs[10] = regionStack<<32 | stackSize
	j.depth = 0
	j.fp = uintptr(unsafe.Pointer(unsafe.SliceData(t.stack))) + stackSize
	pkt := t.rd[regionPacket]
	j.pktBase = uintptr(unsafe.Pointer(unsafe.SliceData(pkt)))
	j.pktVBase = regionPacket << 32
	n := uint64(len(pkt))
	for k := range j.pktLim {
		size := uint64(1) << k
		if n >= size {
			j.pktLim[k] = n - size + 1
		} else {
			j.pktLim[k] = 0
		}
	}
	remaining := int64(p.runBudget())
	chunk := min(remaining, jitSlice)
	j.budget = chunk
	pc := code.entry
	for {
		jitcall(t, pc)
		pc = code.resume
		e := j.exit
		at := int(e >> 32)
		switch e & 0xff {
		case exitReturn:
			return j.regs[0], nil
		case exitHelper:
			r := &j.regs
			r[0] = p.helpers[uint32(e)>>8](t, r[1], r[2], r[3], r[4], r[5])
			if t.stop {
				if t.err != nil {
					return 0, fmt.Errorf("ubpf: insn %d (%s): %w", at, Disasm(p.raw, at), t.err)
				}
				return t.retVal, nil
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
			// chunk events were taken; the one that went below zero is
			// the next: past the program's budget if nothing is left
			if chunk >= remaining {
				return 0, p.fault(at, "instruction budget exhausted")
			}
			remaining -= chunk + 1
			chunk = min(remaining, jitSlice)
			j.budget = chunk
		case exitMemFault:
			return 0, p.memFault(&j.regs, at)
		case exitDepth:
			return 0, p.fault(at, "call stack too deep")
		default:
			return 0, p.fault(at, fmt.Sprintf("jit: unknown exit %#x", e))
		}
	}
}
