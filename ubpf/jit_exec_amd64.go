//go:build linux

package ubpf

import (
	"fmt"
	"runtime"
	"unsafe"
)

// jitcall enters JIT code (jit_amd64.s) at pc, with the run's packet.
//
//go:noescape
func jitcall(t *Thread, pc uintptr, pkt unsafe.Pointer, n uint64) (exit, r0 uint64)

// run is Run (jit_amd64.s): the fast path of a compiled filter on the
// Thread bound to it, or a tail jump to runSlow or runExited.
//
// The fast path hands the packet to the code in registers, without
// mapping it in the Thread's region tables: the code checks packet
// accesses against the packet's length itself, and its generic (table)
// path sees the packet only for what the packet check refused, which
// faults either way (see fastEligible for the one exception). The packet
// is mapped only when the code exits to Go (runJITExits), where helpers
// may read it, and unmapped with the rest of the run's regions.
//
//go:noescape
func run(p *Program, t *Thread, pkt []byte) (r0 uint64, err error)

// match is Match (jit_amd64.s): run's fast path with the match as its
// result, or a tail jump to matchSlow or matchExited.
//
//go:noescape
func match(p *Program, t *Thread, pkt []byte) bool

// runSlow, runExited, matchSlow and matchExited are reached from run and
// match by tail jumps in assembly, which Go's tools do not read: this
// reference keeps them (and what they call) visibly used.
var _ = [...]any{runSlow, runExited, matchSlow, matchExited}

// bindFast lets the runs of p on t take run's fast path: p is t's bound program,
// compiled, and eligible (Program.fast).
func (p *Program) bindFast(t *Thread) {
	t.jit.entry = p.jit.entry
	t.jit.st = uintptr(unsafe.Pointer(&p.stats[t.slot&(ThreadSlots-1)]))
	t.fast = p
}

// runJITExits finishes a fast run that left the code: it maps what a
// run started by runOn would have mapped (the packet, the first dynamic
// region), serves the exits and ends the run as runOn does.
func (p *Program) runJITExits(t *Thread, pkt []byte, e uint64) (uint64, error) {
	t.ndyn = p.dynBase
	t.rd[regionPacket] = pkt
	if p.pktWritable {
		t.wr[regionPacket] = pkt
	}
	r0, err := p.jitExits(t, p.jit, e)
	t.endRun()
	return p.account(t, &p.stats[t.slot&(ThreadSlots-1)], r0, err)
}

// jitExec runs the compiled program on t (runOn's engine call, with the
// packet mapped); the code's entry sets r1 and r2 for the program's kind
// itself.
func (p *Program) jitExec(t *Thread, pkt []byte, _, _ uint64) (uint64, error) {
	code := p.jit
	e, r0 := jitcall(t, code.entry, unsafe.Pointer(unsafe.SliceData(pkt)), uint64(len(pkt)))
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
		e, r0 = jitcall(t, code.resume, nil, 0)
		if e == exitReturn {
			return r0, nil
		}
	}
}
