package ubpf

//go:generate go run ./internal/jumpgen/rewrite interp.go

// The interpreter
//
// Verified bytecode is decoded once into []insn: one 16-byte entry per
// instruction slot (an LDDW keeps its two slots, the second never runs, so
// indexes are the original instruction numbers). Each entry has an
// internal opcode that already fixes the operand form (immediate or
// register, 32 or 64 bit, width of a memory access), sign-extended or
// pre-masked immediates, and absolute jump targets. exec runs them with
// one switch (compiled to a jump table), the registers in a local array
// indexed with masked register numbers (no bounds checks), and no call
// per instruction: helpers are the only indirect calls.
//
// Superinstructions (fuse in decode.go) do the work of the commonest
// pairs in one dispatch: mov+add (register copy then add, as in "r2 = r10;
// r2 += -4"), add-immediate then compare-and-jump on the same register
// (loop counters), a load then jeq/jne with an immediate (header field
// tests), and mov-immediate then exit. The fused op sits in the first
// slot; the second slot keeps its plain decoding for jumps that land on
// it.
//
// Memory accesses translate the virtual address through the Thread's
// region tables with a bounds check (defence in depth behind the
// verifier); a failed check stops the run with a *RunError. Taken
// backward jumps (flagged at decode) and local calls count against a
// per-run budget kept in the Thread, so that even a wrongly verified loop
// ends; a taken jump subtracts its flag (0 or 1) and other instructions
// pay nothing for it.

import (
	"encoding/binary"
	"fmt"
	"math/bits"
	"sync/atomic"
	"unsafe"
)

type insn struct {
	op  uint8
	dst uint8
	src uint8
	// back is 1 on a jump to an earlier (or the same) instruction: taken,
	// it counts against the run's budget
	back uint8
	off  int32
	imm  uint64
}

const (
	opInvalid uint8 = iota
	// 64-bit ALU
	opAdd64I
	opAdd64R
	opSub64I
	opSub64R
	opMul64I
	opMul64R
	opDiv64I
	opDiv64R
	opSdiv64I
	opSdiv64R
	opOr64I
	opOr64R
	opAnd64I
	opAnd64R
	opLsh64I
	opLsh64R
	opRsh64I
	opRsh64R
	opMod64I
	opMod64R
	opSmod64I
	opSmod64R
	opXor64I
	opXor64R
	opMov64I
	opMov64R
	opArsh64I
	opArsh64R
	opNeg64
	opMovsx64B
	opMovsx64H
	opMovsx64W
	// 32-bit ALU
	opAdd32I
	opAdd32R
	opSub32I
	opSub32R
	opMul32I
	opMul32R
	opDiv32I
	opDiv32R
	opSdiv32I
	opSdiv32R
	opOr32I
	opOr32R
	opAnd32I
	opAnd32R
	opLsh32I
	opLsh32R
	opRsh32I
	opRsh32R
	opMod32I
	opMod32R
	opSmod32I
	opSmod32R
	opXor32I
	opXor32R
	opMov32I
	opMov32R
	opArsh32I
	opArsh32R
	opNeg32
	opMovsx32B
	opMovsx32H
	// byte order
	opLe16
	opLe32
	opNop
	opBswap16
	opBswap32
	opBswap64
	// jumps
	opJa
	opJeq64I
	opJeq64R
	opJne64I
	opJne64R
	opJgt64I
	opJgt64R
	opJge64I
	opJge64R
	opJlt64I
	opJlt64R
	opJle64I
	opJle64R
	opJsgt64I
	opJsgt64R
	opJsge64I
	opJsge64R
	opJslt64I
	opJslt64R
	opJsle64I
	opJsle64R
	opJset64I
	opJset64R
	opJeq32I
	opJeq32R
	opJne32I
	opJne32R
	opJgt32I
	opJgt32R
	opJge32I
	opJge32R
	opJlt32I
	opJlt32R
	opJle32I
	opJle32R
	opJsgt32I
	opJsgt32R
	opJsge32I
	opJsge32R
	opJslt32I
	opJslt32R
	opJsle32I
	opJsle32R
	opJset32I
	opJset32R
	opCall
	opCallx
	opCallLocal
	opExit
	// memory
	opLdxB
	opLdxH
	opLdxW
	opLdxDW
	opLdxSB
	opLdxSH
	opLdxSW
	opStB
	opStH
	opStW
	opStDW
	opStxB
	opStxH
	opStxW
	opStxDW
	opAtomic32
	opAtomic64
	opLdImm64
	opLdAbsB
	opLdAbsH
	opLdAbsW
	opLdIndB
	opLdIndH
	opLdIndW
	// context fields rewritten by the verifier
	opLdPktData
	opLdPktEnd

	// superinstructions (see fuse in decode.go)
	opMovAdd64RI // dst = src + imm
	opMovAdd64RR // dst = src + r[imm]
	opAdd64IJeq  // dst += imm, then the jcc64 dst, imm in the next slot
	opAdd64IJne
	opAdd64IJlt
	opAdd64IJle
	opAdd64IJgt
	opAdd64IJge
	opLdxBJeq // load, then the jeq/jne64 imm in the next slot
	opLdxBJne
	opLdxHJeq
	opLdxHJne
	opLdxWJeq
	opLdxWJne
	opMovExit  // dst = imm, then exit
	opBpfLoop  // call bpf_loop: off is the resume insn
	opLoopNext // where a bpf_loop callback returns: off is the call site
)

// RunError is a run stopped by a run-time check: the verifier should have
// rejected the program, or a helper failed hard. The run counts as an
// error and as no match.
type RunError struct {
	PC     int    // instruction index
	Insn   string // its disassembly
	Reason string
	// Budget is set when the run used up its instruction budget (a long
	// loop, not a fault): the run ends as no match.
	Budget bool
}

func (e *RunError) Error() string {
	return fmt.Sprintf("ubpf: run stopped at insn %d (%s): %s", e.PC, e.Insn, e.Reason)
}

// DefaultRunBudget is the instruction budget of one run unless
// LoadOptions.RunBudget says otherwise: about a millisecond of the
// interpreter, far more than any filter needs per packet, little enough
// that a program with a huge loop bound cannot hold a datapath thread.
const DefaultRunBudget = 1 << 20

// MaxRunBudget is the largest budget a program may be given.
const MaxRunBudget = 1 << 31

// budgetFault is the error of a run that used up its budget at pc.
func (p *Program) budgetFault(pc int) error {
	return &RunError{PC: pc, Insn: Disasm(p.raw, pc), Budget: true,
		Reason: fmt.Sprintf("instruction budget of %d exhausted (raise it with the program's run budget if the loop is meant to run that long)", p.budget)}
}

func (p *Program) fault(pc int, reason string) error {
	return &RunError{PC: pc, Insn: Disasm(p.raw, pc), Reason: reason}
}

// memFault describes the failed memory access of the instruction at pc,
// recomputing its address from the registers (unchanged by the failure).
func (p *Program) memFault(r *[16]uint64, pc int) error {
	raw := p.raw[pc]
	kind, base := "read", r[raw.Src&15]
	if raw.class() == classST || raw.class() == classSTX {
		kind, base = "write", r[raw.Dst&15]
	}
	a := base + uint64(int64(raw.Off))
	n := sizeBytes(raw.Op)
	reason := fmt.Sprintf("invalid %s of %d bytes at %#x (region %d offset %d)", kind, n, a, a>>32, uint32(a))
	if raw.class() == classSTX && raw.Op&0xe0 == modeATOMIC && a%uint64(n) != 0 {
		reason = fmt.Sprintf("misaligned atomic access at %#x", a)
	}
	return p.fault(pc, reason)
}

// exec runs the decoded program on t. r1 and r2 are the arguments.
func (p *Program) exec(t *Thread, r1, r2 uint64) (uint64, error) {
	insns := p.insns
	var r [16]uint64
	r[1], r[2] = r1, r2
	r[10] = regionStack<<32 | uint64(p.stackSpan)
	t.depth = 0
	t.budget = p.budget // instructions left, charged at backward jumps (taken) and local calls;
	// in memory, not a local: a loop-carried local costs register moves in
	// every instruction
	// ip walks the decoded instructions without bounds checks: the
	// verifier guarantees no function falls off its end, and decode
	// appends two opInvalid sentinels so that even then ip stays inside
	// the array (the first sentinel stops the run); a superinstruction
	// that reads the next slot is only made of a pair that was there.
	// Jumps index insns with a bounds check.
	base := unsafe.Pointer(unsafe.SliceData(insns))
	ip := base
	for {
		in := (*insn)(ip)
		ip = unsafe.Add(ip, unsafe.Sizeof(insn{}))
		switch in.op {
		case opAdd64I:
			r[in.dst&15] += in.imm
		case opAdd64R:
			r[in.dst&15] += r[in.src&15]
		case opSub64I:
			r[in.dst&15] -= in.imm
		case opSub64R:
			r[in.dst&15] -= r[in.src&15]
		case opMul64I:
			r[in.dst&15] *= in.imm
		case opMul64R:
			r[in.dst&15] *= r[in.src&15]
		case opDiv64I: // imm != 0 (a zero divisor is decoded as mov 0)
			r[in.dst&15] /= in.imm
		case opOr64I:
			r[in.dst&15] |= in.imm
		case opOr64R:
			r[in.dst&15] |= r[in.src&15]
		case opAnd64I:
			r[in.dst&15] &= in.imm
		case opAnd64R:
			r[in.dst&15] &= r[in.src&15]
		case opLsh64I:
			r[in.dst&15] <<= in.imm
		case opLsh64R:
			r[in.dst&15] <<= r[in.src&15] & 63
		case opRsh64I:
			r[in.dst&15] >>= in.imm
		case opRsh64R:
			r[in.dst&15] >>= r[in.src&15] & 63
		case opMod64I:
			r[in.dst&15] %= in.imm
		case opXor64I:
			r[in.dst&15] ^= in.imm
		case opXor64R:
			r[in.dst&15] ^= r[in.src&15]
		case opMov64I:
			r[in.dst&15] = in.imm
		case opMov64R:
			r[in.dst&15] = r[in.src&15]
		case opArsh64I:
			r[in.dst&15] = uint64(int64(r[in.dst&15]) >> in.imm)
		case opArsh64R:
			r[in.dst&15] = uint64(int64(r[in.dst&15]) >> (r[in.src&15] & 63))

		case opAdd32I:
			r[in.dst&15] = uint64(uint32(r[in.dst&15]) + uint32(in.imm))
		case opAdd32R:
			r[in.dst&15] = uint64(uint32(r[in.dst&15]) + uint32(r[in.src&15]))
		case opSub32I:
			r[in.dst&15] = uint64(uint32(r[in.dst&15]) - uint32(in.imm))
		case opSub32R:
			r[in.dst&15] = uint64(uint32(r[in.dst&15]) - uint32(r[in.src&15]))
		case opMul32I:
			r[in.dst&15] = uint64(uint32(r[in.dst&15]) * uint32(in.imm))
		case opMul32R:
			r[in.dst&15] = uint64(uint32(r[in.dst&15]) * uint32(r[in.src&15]))
		case opDiv32I:
			r[in.dst&15] = uint64(uint32(r[in.dst&15]) / uint32(in.imm))
		case opOr32I:
			r[in.dst&15] = uint64(uint32(r[in.dst&15]) | uint32(in.imm))
		case opOr32R:
			r[in.dst&15] = uint64(uint32(r[in.dst&15]) | uint32(r[in.src&15]))
		case opAnd32I:
			r[in.dst&15] = uint64(uint32(r[in.dst&15]) & uint32(in.imm))
		case opAnd32R:
			r[in.dst&15] = uint64(uint32(r[in.dst&15]) & uint32(r[in.src&15]))
		case opLsh32I:
			r[in.dst&15] = uint64(uint32(r[in.dst&15]) << in.imm)
		case opLsh32R:
			r[in.dst&15] = uint64(uint32(r[in.dst&15]) << (r[in.src&15] & 31))
		case opRsh32I:
			r[in.dst&15] = uint64(uint32(r[in.dst&15]) >> in.imm)
		case opRsh32R:
			r[in.dst&15] = uint64(uint32(r[in.dst&15]) >> (r[in.src&15] & 31))
		case opMod32I:
			r[in.dst&15] = uint64(uint32(r[in.dst&15]) % uint32(in.imm))
		case opXor32I:
			r[in.dst&15] = uint64(uint32(r[in.dst&15]) ^ uint32(in.imm))
		case opXor32R:
			r[in.dst&15] = uint64(uint32(r[in.dst&15]) ^ uint32(r[in.src&15]))
		case opMov32I:
			r[in.dst&15] = in.imm
		case opMov32R:
			r[in.dst&15] = uint64(uint32(r[in.src&15]))

		case opLe16:
			r[in.dst&15] = uint64(uint16(r[in.dst&15]))
		case opLe32:
			r[in.dst&15] = uint64(uint32(r[in.dst&15]))
		case opNop:
		case opBswap16:
			r[in.dst&15] = uint64(bits.ReverseBytes16(uint16(r[in.dst&15])))
		case opBswap32:
			r[in.dst&15] = uint64(bits.ReverseBytes32(uint32(r[in.dst&15])))

		case opJa:
			if t.budget -= int(in.back); t.budget < 0 {
				goto budgetOut
			}
			ip = unsafe.Pointer(&insns[in.off])
		// BEGIN conditional jumps: generated by go generate (internal/jumpgen); do not edit
		case opJeq64I:
			if r[in.dst&15] == in.imm {
				if t.budget -= int(in.back); t.budget < 0 {
					goto budgetOut
				}
				ip = unsafe.Pointer(&insns[in.off])
			}
		case opJeq64R:
			if r[in.dst&15] == r[in.src&15] {
				if t.budget -= int(in.back); t.budget < 0 {
					goto budgetOut
				}
				ip = unsafe.Pointer(&insns[in.off])
			}
		case opJne64I:
			if r[in.dst&15] != in.imm {
				if t.budget -= int(in.back); t.budget < 0 {
					goto budgetOut
				}
				ip = unsafe.Pointer(&insns[in.off])
			}
		case opJne64R:
			if r[in.dst&15] != r[in.src&15] {
				if t.budget -= int(in.back); t.budget < 0 {
					goto budgetOut
				}
				ip = unsafe.Pointer(&insns[in.off])
			}
		case opJgt64I:
			if r[in.dst&15] > in.imm {
				if t.budget -= int(in.back); t.budget < 0 {
					goto budgetOut
				}
				ip = unsafe.Pointer(&insns[in.off])
			}
		case opJgt64R:
			if r[in.dst&15] > r[in.src&15] {
				if t.budget -= int(in.back); t.budget < 0 {
					goto budgetOut
				}
				ip = unsafe.Pointer(&insns[in.off])
			}
		case opJge64I:
			if r[in.dst&15] >= in.imm {
				if t.budget -= int(in.back); t.budget < 0 {
					goto budgetOut
				}
				ip = unsafe.Pointer(&insns[in.off])
			}
		case opJge64R:
			if r[in.dst&15] >= r[in.src&15] {
				if t.budget -= int(in.back); t.budget < 0 {
					goto budgetOut
				}
				ip = unsafe.Pointer(&insns[in.off])
			}
		case opJlt64I:
			if r[in.dst&15] < in.imm {
				if t.budget -= int(in.back); t.budget < 0 {
					goto budgetOut
				}
				ip = unsafe.Pointer(&insns[in.off])
			}
		case opJlt64R:
			if r[in.dst&15] < r[in.src&15] {
				if t.budget -= int(in.back); t.budget < 0 {
					goto budgetOut
				}
				ip = unsafe.Pointer(&insns[in.off])
			}
		case opJle64I:
			if r[in.dst&15] <= in.imm {
				if t.budget -= int(in.back); t.budget < 0 {
					goto budgetOut
				}
				ip = unsafe.Pointer(&insns[in.off])
			}
		case opJle64R:
			if r[in.dst&15] <= r[in.src&15] {
				if t.budget -= int(in.back); t.budget < 0 {
					goto budgetOut
				}
				ip = unsafe.Pointer(&insns[in.off])
			}
		case opJsgt64I:
			if int64(r[in.dst&15]) > int64(in.imm) {
				if t.budget -= int(in.back); t.budget < 0 {
					goto budgetOut
				}
				ip = unsafe.Pointer(&insns[in.off])
			}
		case opJsgt64R:
			if int64(r[in.dst&15]) > int64(r[in.src&15]) {
				if t.budget -= int(in.back); t.budget < 0 {
					goto budgetOut
				}
				ip = unsafe.Pointer(&insns[in.off])
			}
		case opJsge64I:
			if int64(r[in.dst&15]) >= int64(in.imm) {
				if t.budget -= int(in.back); t.budget < 0 {
					goto budgetOut
				}
				ip = unsafe.Pointer(&insns[in.off])
			}
		case opJsge64R:
			if int64(r[in.dst&15]) >= int64(r[in.src&15]) {
				if t.budget -= int(in.back); t.budget < 0 {
					goto budgetOut
				}
				ip = unsafe.Pointer(&insns[in.off])
			}
		case opJslt64I:
			if int64(r[in.dst&15]) < int64(in.imm) {
				if t.budget -= int(in.back); t.budget < 0 {
					goto budgetOut
				}
				ip = unsafe.Pointer(&insns[in.off])
			}
		case opJslt64R:
			if int64(r[in.dst&15]) < int64(r[in.src&15]) {
				if t.budget -= int(in.back); t.budget < 0 {
					goto budgetOut
				}
				ip = unsafe.Pointer(&insns[in.off])
			}
		case opJsle64I:
			if int64(r[in.dst&15]) <= int64(in.imm) {
				if t.budget -= int(in.back); t.budget < 0 {
					goto budgetOut
				}
				ip = unsafe.Pointer(&insns[in.off])
			}
		case opJsle64R:
			if int64(r[in.dst&15]) <= int64(r[in.src&15]) {
				if t.budget -= int(in.back); t.budget < 0 {
					goto budgetOut
				}
				ip = unsafe.Pointer(&insns[in.off])
			}
		case opJset64I:
			if r[in.dst&15]&in.imm != 0 {
				if t.budget -= int(in.back); t.budget < 0 {
					goto budgetOut
				}
				ip = unsafe.Pointer(&insns[in.off])
			}
		case opJset64R:
			if r[in.dst&15]&r[in.src&15] != 0 {
				if t.budget -= int(in.back); t.budget < 0 {
					goto budgetOut
				}
				ip = unsafe.Pointer(&insns[in.off])
			}
		case opJeq32I:
			if uint32(r[in.dst&15]) == uint32(in.imm) {
				if t.budget -= int(in.back); t.budget < 0 {
					goto budgetOut
				}
				ip = unsafe.Pointer(&insns[in.off])
			}
		case opJeq32R:
			if uint32(r[in.dst&15]) == uint32(r[in.src&15]) {
				if t.budget -= int(in.back); t.budget < 0 {
					goto budgetOut
				}
				ip = unsafe.Pointer(&insns[in.off])
			}
		case opJne32I:
			if uint32(r[in.dst&15]) != uint32(in.imm) {
				if t.budget -= int(in.back); t.budget < 0 {
					goto budgetOut
				}
				ip = unsafe.Pointer(&insns[in.off])
			}
		case opJne32R:
			if uint32(r[in.dst&15]) != uint32(r[in.src&15]) {
				if t.budget -= int(in.back); t.budget < 0 {
					goto budgetOut
				}
				ip = unsafe.Pointer(&insns[in.off])
			}
		case opJgt32I:
			if uint32(r[in.dst&15]) > uint32(in.imm) {
				if t.budget -= int(in.back); t.budget < 0 {
					goto budgetOut
				}
				ip = unsafe.Pointer(&insns[in.off])
			}
		case opJgt32R:
			if uint32(r[in.dst&15]) > uint32(r[in.src&15]) {
				if t.budget -= int(in.back); t.budget < 0 {
					goto budgetOut
				}
				ip = unsafe.Pointer(&insns[in.off])
			}
		case opJge32I:
			if uint32(r[in.dst&15]) >= uint32(in.imm) {
				if t.budget -= int(in.back); t.budget < 0 {
					goto budgetOut
				}
				ip = unsafe.Pointer(&insns[in.off])
			}
		case opJge32R:
			if uint32(r[in.dst&15]) >= uint32(r[in.src&15]) {
				if t.budget -= int(in.back); t.budget < 0 {
					goto budgetOut
				}
				ip = unsafe.Pointer(&insns[in.off])
			}
		case opJlt32I:
			if uint32(r[in.dst&15]) < uint32(in.imm) {
				if t.budget -= int(in.back); t.budget < 0 {
					goto budgetOut
				}
				ip = unsafe.Pointer(&insns[in.off])
			}
		case opJlt32R:
			if uint32(r[in.dst&15]) < uint32(r[in.src&15]) {
				if t.budget -= int(in.back); t.budget < 0 {
					goto budgetOut
				}
				ip = unsafe.Pointer(&insns[in.off])
			}
		case opJle32I:
			if uint32(r[in.dst&15]) <= uint32(in.imm) {
				if t.budget -= int(in.back); t.budget < 0 {
					goto budgetOut
				}
				ip = unsafe.Pointer(&insns[in.off])
			}
		case opJle32R:
			if uint32(r[in.dst&15]) <= uint32(r[in.src&15]) {
				if t.budget -= int(in.back); t.budget < 0 {
					goto budgetOut
				}
				ip = unsafe.Pointer(&insns[in.off])
			}
		case opJsgt32I:
			if int32(r[in.dst&15]) > int32(in.imm) {
				if t.budget -= int(in.back); t.budget < 0 {
					goto budgetOut
				}
				ip = unsafe.Pointer(&insns[in.off])
			}
		case opJsgt32R:
			if int32(r[in.dst&15]) > int32(r[in.src&15]) {
				if t.budget -= int(in.back); t.budget < 0 {
					goto budgetOut
				}
				ip = unsafe.Pointer(&insns[in.off])
			}
		case opJsge32I:
			if int32(r[in.dst&15]) >= int32(in.imm) {
				if t.budget -= int(in.back); t.budget < 0 {
					goto budgetOut
				}
				ip = unsafe.Pointer(&insns[in.off])
			}
		case opJsge32R:
			if int32(r[in.dst&15]) >= int32(r[in.src&15]) {
				if t.budget -= int(in.back); t.budget < 0 {
					goto budgetOut
				}
				ip = unsafe.Pointer(&insns[in.off])
			}
		case opJslt32I:
			if int32(r[in.dst&15]) < int32(in.imm) {
				if t.budget -= int(in.back); t.budget < 0 {
					goto budgetOut
				}
				ip = unsafe.Pointer(&insns[in.off])
			}
		case opJslt32R:
			if int32(r[in.dst&15]) < int32(r[in.src&15]) {
				if t.budget -= int(in.back); t.budget < 0 {
					goto budgetOut
				}
				ip = unsafe.Pointer(&insns[in.off])
			}
		case opJsle32I:
			if int32(r[in.dst&15]) <= int32(in.imm) {
				if t.budget -= int(in.back); t.budget < 0 {
					goto budgetOut
				}
				ip = unsafe.Pointer(&insns[in.off])
			}
		case opJsle32R:
			if int32(r[in.dst&15]) <= int32(r[in.src&15]) {
				if t.budget -= int(in.back); t.budget < 0 {
					goto budgetOut
				}
				ip = unsafe.Pointer(&insns[in.off])
			}
		case opJset32I:
			if uint32(r[in.dst&15])&uint32(in.imm) != 0 {
				if t.budget -= int(in.back); t.budget < 0 {
					goto budgetOut
				}
				ip = unsafe.Pointer(&insns[in.off])
			}
		case opJset32R:
			if uint32(r[in.dst&15])&uint32(r[in.src&15]) != 0 {
				if t.budget -= int(in.back); t.budget < 0 {
					goto budgetOut
				}
				ip = unsafe.Pointer(&insns[in.off])
			}
		// END conditional jumps

		case opCall:
			r[0] = p.helpers[in.off](t, r[1], r[2], r[3], r[4], r[5])
			if t.stop {
				if t.err != nil {
					return 0, fmt.Errorf("ubpf: insn %d (%s): %w", pcOf(ip, base), Disasm(p.raw, pcOf(ip, base)), t.err)
				}
				return t.retVal, nil
			}
		case opCallx:
			id := r[in.dst&15]
			h := p.helperSet.lookup(id)
			if h == nil {
				return 0, p.fault(pcOf(ip, base), fmt.Sprintf("callx to unknown helper %d", id))
			}
			r[0] = h.fn(t, r[1], r[2], r[3], r[4], r[5])
			if t.stop {
				if t.err != nil {
					return 0, fmt.Errorf("ubpf: insn %d (%s): %w", pcOf(ip, base), Disasm(p.raw, pcOf(ip, base)), t.err)
				}
				return t.retVal, nil
			}
		case opCallLocal:
			if t.depth >= MaxCallDepth-1 {
				return 0, p.fault(pcOf(ip, base), "call stack too deep")
			}
			f := &t.frames[t.depth&(MaxCallDepth-1)]
			f.ret = pcOf(ip, base) + 1
			f.saved = [4]uint64{r[6], r[7], r[8], r[9]}
			f.fp = r[10]
			t.depth++
			r[10] -= StackFrameSize
			if t.budget -= int(in.back); t.budget < 0 {
				goto budgetOut
			}
			ip = unsafe.Pointer(&insns[in.off])
		case opBpfLoop:
			enter, r0, fault := t.loopStart(p, r[1], r[2], r[3])
			if fault != "" {
				return 0, p.fault(pcOf(ip, base), fault)
			}
			if !enter {
				r[0] = r0
				break
			}
			if t.budget -= p.loopCall(t, &r, int(in.off), 0); t.budget < 0 {
				goto budgetOut
			}
			ip = unsafe.Pointer(&insns[t.loops[t.depth-1].cb])
		case opLoopNext:
			if again, r0 := t.loopNext(r[0]); !again {
				r[0] = r0
				ip = unsafe.Pointer(&insns[in.off+1])
			} else {
				l := &t.loops[t.depth]
				if t.budget -= p.loopCall(t, &r, pcOf(ip, base), l.i); t.budget < 0 {
					goto budgetOut
				}
				ip = unsafe.Pointer(&insns[l.cb])
			}
		case opExit:
			if t.depth == 0 {
				return r[0], nil
			}
			t.depth--
			f := &t.frames[t.depth&(MaxCallDepth-1)]
			ip = unsafe.Pointer(&insns[f.ret])
			r[6], r[7], r[8], r[9] = f.saved[0], f.saved[1], f.saved[2], f.saved[3]
			r[10] = f.fp

		case opLdxB:
			b := xlate(&t.rd, r[in.src&15]+uint64(int64(in.off)), 1)
			if b == nil {
				goto fault
			}
			r[in.dst&15] = uint64(b[0])
		case opLdxH:
			b := xlate(&t.rd, r[in.src&15]+uint64(int64(in.off)), 2)
			if b == nil {
				goto fault
			}
			r[in.dst&15] = uint64(binary.LittleEndian.Uint16(b))
		case opLdxW:
			b := xlate(&t.rd, r[in.src&15]+uint64(int64(in.off)), 4)
			if b == nil {
				goto fault
			}
			r[in.dst&15] = uint64(binary.LittleEndian.Uint32(b))
		case opLdxDW:
			b := xlate(&t.rd, r[in.src&15]+uint64(int64(in.off)), 8)
			if b == nil {
				goto fault
			}
			r[in.dst&15] = binary.LittleEndian.Uint64(b)
		case opLdxSB:
			b := xlate(&t.rd, r[in.src&15]+uint64(int64(in.off)), 1)
			if b == nil {
				goto fault
			}
			r[in.dst&15] = uint64(int64(int8(b[0])))
		case opLdxSH:
			b := xlate(&t.rd, r[in.src&15]+uint64(int64(in.off)), 2)
			if b == nil {
				goto fault
			}
			r[in.dst&15] = uint64(int64(int16(binary.LittleEndian.Uint16(b))))
		case opLdxSW:
			b := xlate(&t.rd, r[in.src&15]+uint64(int64(in.off)), 4)
			if b == nil {
				goto fault
			}
			r[in.dst&15] = uint64(int64(int32(binary.LittleEndian.Uint32(b))))
		case opStB:
			b := xlate(&t.wr, r[in.dst&15]+uint64(int64(in.off)), 1)
			if b == nil {
				goto fault
			}
			b[0] = byte(in.imm)
		case opStH:
			b := xlate(&t.wr, r[in.dst&15]+uint64(int64(in.off)), 2)
			if b == nil {
				goto fault
			}
			binary.LittleEndian.PutUint16(b, uint16(in.imm))
		case opStW:
			b := xlate(&t.wr, r[in.dst&15]+uint64(int64(in.off)), 4)
			if b == nil {
				goto fault
			}
			binary.LittleEndian.PutUint32(b, uint32(in.imm))
		case opStDW:
			b := xlate(&t.wr, r[in.dst&15]+uint64(int64(in.off)), 8)
			if b == nil {
				goto fault
			}
			binary.LittleEndian.PutUint64(b, in.imm)
		case opStxB:
			b := xlate(&t.wr, r[in.dst&15]+uint64(int64(in.off)), 1)
			if b == nil {
				goto fault
			}
			b[0] = byte(r[in.src&15])
		case opStxH:
			b := xlate(&t.wr, r[in.dst&15]+uint64(int64(in.off)), 2)
			if b == nil {
				goto fault
			}
			binary.LittleEndian.PutUint16(b, uint16(r[in.src&15]))
		case opStxW:
			b := xlate(&t.wr, r[in.dst&15]+uint64(int64(in.off)), 4)
			if b == nil {
				goto fault
			}
			binary.LittleEndian.PutUint32(b, uint32(r[in.src&15]))
		case opStxDW:
			b := xlate(&t.wr, r[in.dst&15]+uint64(int64(in.off)), 8)
			if b == nil {
				goto fault
			}
			binary.LittleEndian.PutUint64(b, r[in.src&15])
		case opAtomic32:
			b := xlate(&t.wr, r[in.dst&15]+uint64(int64(in.off)), 4)
			if b == nil || uintptr(unsafe.Pointer(&b[0]))&3 != 0 {
				goto fault
			}
			atomic32(&r, (*uint32)(unsafe.Pointer(&b[0])), in)
		case opAtomic64:
			b := xlate(&t.wr, r[in.dst&15]+uint64(int64(in.off)), 8)
			if b == nil || uintptr(unsafe.Pointer(&b[0]))&7 != 0 {
				goto fault
			}
			atomic64(&r, (*uint64)(unsafe.Pointer(&b[0])), in)
		case opLdImm64:
			r[in.dst&15] = in.imm
			ip = unsafe.Add(ip, unsafe.Sizeof(insn{}))
		case opLdAbsB, opLdAbsH, opLdAbsW, opLdIndB, opLdIndH, opLdIndW:
			o := in.imm
			if in.op >= opLdIndB {
				o += r[in.src&15]
			}
			n := uint64(1) << ((in.op - opLdAbsB) % 3)
			pkt := t.rd[regionPacket]
			if o+n > uint64(len(pkt)) || o+n < o {
				return 0, nil // out of bounds: Linux ends the program with 0
			}
			switch n {
			case 1:
				r[0] = uint64(pkt[o])
			case 2:
				r[0] = uint64(binary.BigEndian.Uint16(pkt[o:]))
			default:
				r[0] = uint64(binary.BigEndian.Uint32(pkt[o:]))
			}

		case opMovAdd64RI:
			r[in.dst&15] = r[in.src&15] + in.imm
			ip = unsafe.Add(ip, unsafe.Sizeof(insn{}))
		case opMovAdd64RR:
			r[in.dst&15] = r[in.src&15] + r[in.imm&15]
			ip = unsafe.Add(ip, unsafe.Sizeof(insn{}))
		case opAdd64IJeq:
			v := r[in.dst&15] + in.imm
			r[in.dst&15] = v
			j := (*insn)(ip)
			ip = unsafe.Add(ip, unsafe.Sizeof(insn{}))
			if v == j.imm {
				if t.budget -= int(j.back); t.budget < 0 {
					goto budgetOut
				}
				ip = unsafe.Pointer(&insns[j.off])
			}
		case opAdd64IJne:
			v := r[in.dst&15] + in.imm
			r[in.dst&15] = v
			j := (*insn)(ip)
			ip = unsafe.Add(ip, unsafe.Sizeof(insn{}))
			if v != j.imm {
				if t.budget -= int(j.back); t.budget < 0 {
					goto budgetOut
				}
				ip = unsafe.Pointer(&insns[j.off])
			}
		case opAdd64IJlt:
			v := r[in.dst&15] + in.imm
			r[in.dst&15] = v
			j := (*insn)(ip)
			ip = unsafe.Add(ip, unsafe.Sizeof(insn{}))
			if v < j.imm {
				if t.budget -= int(j.back); t.budget < 0 {
					goto budgetOut
				}
				ip = unsafe.Pointer(&insns[j.off])
			}
		case opAdd64IJle:
			v := r[in.dst&15] + in.imm
			r[in.dst&15] = v
			j := (*insn)(ip)
			ip = unsafe.Add(ip, unsafe.Sizeof(insn{}))
			if v <= j.imm {
				if t.budget -= int(j.back); t.budget < 0 {
					goto budgetOut
				}
				ip = unsafe.Pointer(&insns[j.off])
			}
		case opAdd64IJgt:
			v := r[in.dst&15] + in.imm
			r[in.dst&15] = v
			j := (*insn)(ip)
			ip = unsafe.Add(ip, unsafe.Sizeof(insn{}))
			if v > j.imm {
				if t.budget -= int(j.back); t.budget < 0 {
					goto budgetOut
				}
				ip = unsafe.Pointer(&insns[j.off])
			}
		case opAdd64IJge:
			v := r[in.dst&15] + in.imm
			r[in.dst&15] = v
			j := (*insn)(ip)
			ip = unsafe.Add(ip, unsafe.Sizeof(insn{}))
			if v >= j.imm {
				if t.budget -= int(j.back); t.budget < 0 {
					goto budgetOut
				}
				ip = unsafe.Pointer(&insns[j.off])
			}
		case opLdxBJeq, opLdxBJne:
			b := xlate(&t.rd, r[in.src&15]+uint64(int64(in.off)), 1)
			if b == nil {
				goto fault
			}
			r[in.dst&15] = uint64(b[0])
			eq := in.op == opLdxBJeq
			j := (*insn)(ip)
			ip = unsafe.Add(ip, unsafe.Sizeof(insn{}))
			if (r[j.dst&15] == j.imm) == eq {
				if t.budget -= int(j.back); t.budget < 0 {
					goto budgetOut
				}
				ip = unsafe.Pointer(&insns[j.off])
			}
		case opLdxHJeq, opLdxHJne:
			b := xlate(&t.rd, r[in.src&15]+uint64(int64(in.off)), 2)
			if b == nil {
				goto fault
			}
			r[in.dst&15] = uint64(binary.LittleEndian.Uint16(b))
			eq := in.op == opLdxHJeq
			j := (*insn)(ip)
			ip = unsafe.Add(ip, unsafe.Sizeof(insn{}))
			if (r[j.dst&15] == j.imm) == eq {
				if t.budget -= int(j.back); t.budget < 0 {
					goto budgetOut
				}
				ip = unsafe.Pointer(&insns[j.off])
			}
		case opLdxWJeq, opLdxWJne:
			b := xlate(&t.rd, r[in.src&15]+uint64(int64(in.off)), 4)
			if b == nil {
				goto fault
			}
			r[in.dst&15] = uint64(binary.LittleEndian.Uint32(b))
			eq := in.op == opLdxWJeq
			j := (*insn)(ip)
			ip = unsafe.Add(ip, unsafe.Sizeof(insn{}))
			if (r[j.dst&15] == j.imm) == eq {
				if t.budget -= int(j.back); t.budget < 0 {
					goto budgetOut
				}
				ip = unsafe.Pointer(&insns[j.off])
			}
		case opMovExit:
			r[in.dst&15] = in.imm
			if t.depth == 0 {
				return r[0], nil
			}
			t.depth--
			f := &t.frames[t.depth&(MaxCallDepth-1)]
			ip = unsafe.Pointer(&insns[f.ret])
			r[6], r[7], r[8], r[9] = f.saved[0], f.saved[1], f.saved[2], f.saved[3]
			r[10] = f.fp
		case opLdPktData:
			r[in.dst&15] = regionPacket << 32
		case opLdPktEnd:
			r[in.dst&15] = regionPacket<<32 | t.pktLen
		default:
			if !slowALU(&r, in) {
				return 0, p.fault(pcOf(ip, base), fmt.Sprintf("invalid decoded opcode %d", in.op))
			}
		}
	}
budgetOut: // at a taken backward jump or a local call
	return 0, p.budgetFault(pcOf(ip, base))
fault:
	return 0, p.memFault(&r, pcOf(ip, base))
}

func atomic32(r *[16]uint64, m *uint32, in *insn) {
	v := uint32(r[in.src&15])
	var old uint32
	switch in.imm &^ atomicFETCH {
	case atomicADD:
		old = atomic.AddUint32(m, v) - v
	case atomicOR:
		old = atomic.OrUint32(m, v)
	case atomicAND:
		old = atomic.AndUint32(m, v)
	case atomicXOR:
		for {
			old = atomic.LoadUint32(m)
			if atomic.CompareAndSwapUint32(m, old, old^v) {
				break
			}
		}
	case atomicXCHG &^ atomicFETCH:
		old = atomic.SwapUint32(m, v)
	case atomicCMPXCHG &^ atomicFETCH:
		want := uint32(r[0])
		for {
			old = atomic.LoadUint32(m)
			if old != want || atomic.CompareAndSwapUint32(m, old, v) {
				break
			}
		}
		r[0] = uint64(old)
		return
	}
	if in.imm&atomicFETCH != 0 {
		r[in.src&15] = uint64(old)
	}
}

func atomic64(r *[16]uint64, m *uint64, in *insn) {
	v := r[in.src&15]
	var old uint64
	switch in.imm &^ atomicFETCH {
	case atomicADD:
		old = atomic.AddUint64(m, v) - v
	case atomicOR:
		old = atomic.OrUint64(m, v)
	case atomicAND:
		old = atomic.AndUint64(m, v)
	case atomicXOR:
		for {
			old = atomic.LoadUint64(m)
			if atomic.CompareAndSwapUint64(m, old, old^v) {
				break
			}
		}
	case atomicXCHG &^ atomicFETCH:
		old = atomic.SwapUint64(m, v)
	case atomicCMPXCHG &^ atomicFETCH:
		want := r[0]
		for {
			old = atomic.LoadUint64(m)
			if old != want || atomic.CompareAndSwapUint64(m, old, v) {
				break
			}
		}
		r[0] = old
		return
	}
	if in.imm&atomicFETCH != 0 {
		r[in.src&15] = old
	}
}

// pcOf returns the index of the instruction before ip.
func pcOf(ip, base unsafe.Pointer) int {
	return int((uintptr(ip)-uintptr(base))/unsafe.Sizeof(insn{})) - 1
}

// slowALU runs the register-only ops that filters rarely use (signed and
// register division and modulo, sign extension, negation, 32-bit
// arithmetic shifts, 64-bit byte swaps). They live outside exec's switch
// so that exec stays below the compiler's "big function" size, above
// which it stops inlining the address translation of memory accesses.
// It reports whether in was one of them.
func slowALU(r *[16]uint64, in *insn) bool {
	switch in.op {
	case opDiv64R:
		if s := r[in.src&15]; s != 0 {
			r[in.dst&15] /= s
		} else {
			r[in.dst&15] = 0
		}
	case opSdiv64I:
		r[in.dst&15] = uint64(int64(r[in.dst&15]) / int64(in.imm))
	case opSdiv64R:
		if s := int64(r[in.src&15]); s != 0 {
			r[in.dst&15] = uint64(int64(r[in.dst&15]) / s)
		} else {
			r[in.dst&15] = 0
		}
	case opMod64R:
		if s := r[in.src&15]; s != 0 {
			r[in.dst&15] %= s
		}
	case opSmod64I:
		r[in.dst&15] = uint64(int64(r[in.dst&15]) % int64(in.imm))
	case opSmod64R:
		if s := int64(r[in.src&15]); s != 0 {
			r[in.dst&15] = uint64(int64(r[in.dst&15]) % s)
		}
	case opNeg64:
		r[in.dst&15] = -r[in.dst&15]
	case opMovsx64B:
		r[in.dst&15] = uint64(int64(int8(r[in.src&15])))
	case opMovsx64H:
		r[in.dst&15] = uint64(int64(int16(r[in.src&15])))
	case opMovsx64W:
		r[in.dst&15] = uint64(int64(int32(r[in.src&15])))
	case opDiv32R:
		if s := uint32(r[in.src&15]); s != 0 {
			r[in.dst&15] = uint64(uint32(r[in.dst&15]) / s)
		} else {
			r[in.dst&15] = 0
		}
	case opSdiv32I:
		r[in.dst&15] = uint64(uint32(int32(r[in.dst&15]) / int32(in.imm)))
	case opSdiv32R:
		if s := int32(r[in.src&15]); s != 0 {
			r[in.dst&15] = uint64(uint32(int32(r[in.dst&15]) / s))
		} else {
			r[in.dst&15] = 0
		}
	case opMod32R:
		if s := uint32(r[in.src&15]); s != 0 {
			r[in.dst&15] = uint64(uint32(r[in.dst&15]) % s)
		} else {
			r[in.dst&15] = uint64(uint32(r[in.dst&15]))
		}
	case opSmod32I:
		r[in.dst&15] = uint64(uint32(int32(r[in.dst&15]) % int32(in.imm)))
	case opSmod32R:
		if s := int32(r[in.src&15]); s != 0 {
			r[in.dst&15] = uint64(uint32(int32(r[in.dst&15]) % s))
		} else {
			r[in.dst&15] = uint64(uint32(r[in.dst&15]))
		}
	case opArsh32I:
		r[in.dst&15] = uint64(uint32(int32(r[in.dst&15]) >> in.imm))
	case opArsh32R:
		r[in.dst&15] = uint64(uint32(int32(r[in.dst&15]) >> (r[in.src&15] & 31)))
	case opNeg32:
		r[in.dst&15] = uint64(-uint32(r[in.dst&15]))
	case opMovsx32B:
		r[in.dst&15] = uint64(uint32(int32(int8(r[in.src&15]))))
	case opMovsx32H:
		r[in.dst&15] = uint64(uint32(int32(int16(r[in.src&15]))))
	case opBswap64:
		r[in.dst&15] = bits.ReverseBytes64(r[in.dst&15])
	default:
		return false
	}
	return true
}
