package ubpf

import (
	"fmt"
	"unsafe"
)

// Engine selects how a program's instructions are executed.
type Engine int

// Engines.
const (
	// EngineAuto compiles to machine code where the JIT exists (linux on
	// amd64) and interprets elsewhere; a program the JIT cannot compile
	// is interpreted (and a warning logged).
	EngineAuto Engine = iota
	// EngineInterp always interprets.
	EngineInterp
	// EngineJIT always compiles; loading fails where the JIT does not
	// exist or cannot compile the program.
	EngineJIT
)

// String returns the engine's name as the command-line flags spell it.
func (e Engine) String() string {
	switch e {
	case EngineInterp:
		return "interp"
	case EngineJIT:
		return "jit"
	}
	return "auto"
}

// ParseEngine parses "auto", "jit" or "interp".
func ParseEngine(s string) (Engine, error) {
	switch s {
	case "auto", "":
		return EngineAuto, nil
	case "jit":
		return EngineJIT, nil
	case "interp", "interpreter":
		return EngineInterp, nil
	}
	return 0, fmt.Errorf("unknown VM engine %q (want jit, interp or auto)", s)
}

// JITAvailable reports whether this build has the JIT (linux on amd64).
func JITAvailable() bool { return jitAvailable }

// Engine returns the engine that runs the program: EngineJIT or
// EngineInterp.
func (p *Program) Engine() Engine {
	if p.jit != nil {
		return EngineJIT
	}
	return EngineInterp
}

// setEngine compiles plain (the decoded, unfused instructions) to machine
// code unless the interpreter was asked for.
func (p *Program) setEngine(e Engine, plain []insn) error {
	if e == EngineInterp || (e == EngineAuto && !jitAvailable) {
		return nil
	}
	code, err := compileJIT(p, plain)
	if err != nil {
		if e == EngineJIT {
			return fmt.Errorf("jit: %w", err)
		}
		p.logger.Warn("bpf program interpreted: jit failed", "prog", p.name, "err", err)
		return nil
	}
	p.jit = code
	p.fast = fastEligible(p, plain)
	return nil
}

// fastEligible reports whether p's runs may take run's fast path, which leaves the
// packet out of the region tables (see run): filters only (the other
// kinds set up a context or raw arguments), and not when an atomic may
// legitimately reach a writable packet through the tables.
func fastEligible(p *Program, plain []insn) bool {
	if p.kind != KindFilter {
		return false
	}
	if p.pktWritable {
		for i := range plain {
			if op := plain[i].op; op == opAtomic32 || op == opAtomic64 {
				return false
			}
		}
	}
	return true
}

// exit kinds (the low byte of the exit word the code returns)
const (
	exitReturn = iota
	exitHelper
	exitCallx
	exitBudget
	exitMemFault
	exitDepth
	exitLookup // map_lookup_elem of the map numbered arg
)

// jitState is the part of a Thread that the JIT's machine code reads and
// writes, at fixed offsets from the Thread (see jit_amd64.go). It exists
// on every platform so that Thread has one layout.
type jitState struct {
	// First the fields of every run (see Thread): entry is the code's
	// entry and st the address of the progStats of the program
	// Thread.fast names, for run (jit_amd64.s): integers, valid while
	// Thread.fast (which keeps the program alive) is set.
	entry, st uintptr
	// pktVBase is the packet's virtual address; pktLim[k] the number of
	// offsets at which an access of 1<<k bytes fits in the packet (len -
	// size + 1, or 0). The code sets pktLim at entry from the packet's
	// length.
	pktVBase uint64
	// fp is the real address r10 points to; fpTop its value at depth 0
	// (the end of the Thread's stack, the top of every run's span).
	fp     uintptr
	pktLim [4]uint64
	// spill is scratch for inline map lookups
	spill [4]uint64
	// regs are r0..r9 while the code is out (exits to Go); regs[10] is
	// r10, which always lives here. 16 entries, as the interpreter's
	// register file, so that memFault reads both alike.
	regs [16]uint64
	// budget is rcx while the code is out: taken backward jumps and
	// local calls left in the current slice.
	budget int64
	// resume is where the resume stub continues after an exit.
	resume uintptr
	// exit is the exit word of a fast run that left the code (run, in
	// jit_amd64.s, for runExited)
	exit uint64
	// pktBase is the packet's first byte (rbp in the code), for the
	// resume stub
	pktBase uintptr
	fpTop   uintptr
	depth   uint64
	// frames of local calls
	frames [MaxCallDepth]jitFrame
}

func (j *jitState) init(stack []byte) {
	j.fpTop = uintptr(unsafe.Pointer(unsafe.SliceData(stack))) + uintptr(len(stack))
	j.pktVBase = regionPacket << 32
}

// bind sets r10 and its real address for runs of a program with a stack
// span of span bytes: the code of a program without local calls never
// changes them, so its entry need not (one with calls resets them).
func (j *jitState) bind(span int) {
	j.regs[10] = regionStack<<32 | uint64(span)
	j.fp = j.fpTop
}

// jitFrame is one local call's saved state (64 bytes: the code indexes
// frames by depth<<6).
type jitFrame struct {
	ret   uintptr   // code address to return to
	saved [4]uint64 // r6..r9
	r10   uint64
	fp    uintptr
	_     uint64
}
