//go:build linux

package ubpf

// Which registers a run must zero at entry
//
// The entry zeroes the registers a program could read before writing
// them, so that nothing the Go side left in the machine registers leaks
// into a run (the interpreter's registers start at zero). A backward
// liveness pass over the decoded program finds them: a register is live
// at an instruction if some path from it reads the register before
// writing it. The entry zeroes the registers live at instruction 0 (but
// the arguments it sets itself); the others hold whatever Go left, which
// no path reads.
//
// The pass errs towards live: an op it does not know reads every
// register; calls to helpers read r1..r5 and write only r0 (the JIT's
// helpers leave r1..r5 as they were); a local call writes nothing
// itself and flows both into its callee and to the instruction after it
// (what the callee leaves in r0..r5, or restores in r6..r9, may be the
// caller's value from before the call); a jump to the second slot of an
// LDDW (never verified) reads everything. Nothing here relies on the
// verifier.

const allRegs = 1<<10 - 1 // r0..r9

// regForm: the ALU and jump ops whose source is a register.
var regForm = func() [256]bool {
	var m [256]bool
	for _, op := range []uint8{
		opAdd64R, opSub64R, opMul64R, opDiv64R, opSdiv64R, opOr64R, opAnd64R, opLsh64R, opRsh64R,
		opMod64R, opSmod64R, opXor64R, opMov64R, opArsh64R, opMovsx64B, opMovsx64H, opMovsx64W,
		opAdd32R, opSub32R, opMul32R, opDiv32R, opSdiv32R, opOr32R, opAnd32R, opLsh32R, opRsh32R,
		opMod32R, opSmod32R, opXor32R, opMov32R, opArsh32R, opMovsx32B, opMovsx32H,
	} {
		m[op] = true
	}
	for op := opJeq64R; op <= opJset32R; op += 2 {
		m[op] = true
	}
	return m
}()

func regBit(r uint8) uint16 {
	if r < 10 {
		return 1 << r
	}
	return 0 // r10 lives in memory; the entry never zeroes it
}

// jitRegUse returns the registers (bits 0..9) in reads and writes for sure.
func jitRegUse(in *insn) (use, def uint16) {
	op := in.op
	d, s := regBit(in.dst), regBit(in.src)
	switch {
	case op >= opAdd64I && op <= opMovsx32H:
		switch op {
		case opMov64I, opMov32I:
			return 0, d
		case opMov64R, opMov32R, opMovsx64B, opMovsx64H, opMovsx64W, opMovsx32B, opMovsx32H:
			return s, d
		}
		if regForm[op] {
			return d | s, d
		}
		return d, d // immediate forms, neg
	case op >= opLe16 && op <= opBswap64:
		if op == opNop {
			return 0, 0
		}
		return d, d
	case op == opJa:
		return 0, 0
	case op >= opJeq64I && op <= opJset32R:
		if regForm[op] {
			return d | s, 0
		}
		return d, 0
	case op == opCall:
		return 0x3e, 1 // r1..r5; r0
	case op == opCallx:
		return 0x3e | d, 1
	case op == opCallLocal:
		return 0, 0
	case op == opExit:
		return 1, 0
	case op >= opLdxB && op <= opLdxSW:
		return s, d
	case op >= opStB && op <= opStDW:
		return d, 0
	case op >= opStxB && op <= opStxDW:
		return d | s, 0
	case op == opAtomic32 || op == opAtomic64:
		return d | s | 1, 0
	case op == opLdImm64 || op == opLdPktData || op == opLdPktEnd:
		return 0, d
	case op >= opLdAbsB && op <= opLdAbsW:
		return 0, 1
	case op >= opLdIndB && op <= opLdIndW:
		return s, 1
	}
	return allRegs, 0
}

// liveIn returns, per instruction, the registers some path from it may
// read before writing (bits 0..9).
func liveIn(insns []insn) []uint16 {
	n := len(insns)
	live := make([]uint16, n)
	at := func(pc int) uint16 {
		if pc < 0 || pc >= n {
			return 0 // off the end: the code stops there (int3)
		}
		return live[pc]
	}
	for changed := true; changed; {
		changed = false
		for pc := n - 1; pc >= 0; pc-- {
			in := &insns[pc]
			var out uint16
			switch {
			case in.op == opExit:
			case in.op == opJa:
				out = at(int(in.off))
			case isJumpOp(in.op) || in.op == opCallLocal:
				out = at(pc+1) | at(int(in.off))
			case in.op == opLdImm64:
				out = at(pc + 2)
			default:
				out = at(pc + 1)
			}
			use, def := jitRegUse(in)
			if v := use | out&^def; v != live[pc] {
				live[pc] = v
				changed = true
			}
		}
	}
	return live
}
