//go:build linux

#include "go_asm.h"
#include "textflag.h"

// runEnter is the head of run and match: the checks that send a run to
// Go (to the label slow) and the call of the code, after which AX holds
// r0, R11 the exit word and R10 the counters of t's slot (t in R12).
#define runEnter \
	MOVQ p+0(FP), AX \
	MOVQ t+8(FP), R12 \
	CMPQ Thread_fast(R12), AX \
	JNE slow \
	CMPB Program_measure(AX), $0 \
	JEQ enter \
	MOVQ (Thread_jit+jitState_st)(R12), R10 \
	TESTQ $(const_timeEvery-1), progStats_runs(R10) \
	JEQ slow \
enter: \
	PUSHQ BP \
	MOVQ pkt_base+16(FP), R11 \
	MOVQ pkt_len+24(FP), R10 \
	CALL (Thread_jit+jitState_entry)(R12) \
	POPQ BP \
	MOVQ (Thread_jit+jitState_st)(R12), R10

// runCount counts a run that returned (r0 in AX) in t's slot (R10), and
// returns.
#define runCount \
	CMPB Thread_ownSlot(R12), $0 \
	JEQ shared \
	INCQ progStats_runs(R10) \
	CMPQ AX, $1 \
	JNE done \
	INCQ progStats_matches(R10) \
done: \
	RET \
shared: \
	LOCK \
	INCQ progStats_runs(R10) \
	CMPQ AX, $1 \
	JNE done \
	LOCK \
	INCQ progStats_matches(R10) \
	RET

// func jitcall(t *Thread, pc uintptr, pkt unsafe.Pointer, n uint64) (exit, r0 uint64)
//
// Enters JIT code at pc with the *Thread in R12, the packet's first byte
// in R11 and its length in R10 (see jit_amd64.go; the resume stub ignores
// both). The code uses no stack beyond this CALL's return address and
// returns here with RET, the exit word in R11 and BPF r0 in AX; it
// clobbers every general register but SP. BP is restored by the epilogue
// the assembler adds for the frame; the Go caller of an ABI0 function
// reloads R14 and zeroes X15 after the call.
TEXT ·jitcall(SB), NOSPLIT, $8-48
	MOVQ t+0(FP), R12
	MOVQ pc+8(FP), AX
	MOVQ pkt+16(FP), R11
	MOVQ n+24(FP), R10
	CALL AX
	MOVQ R11, exit+32(FP)
	MOVQ AX, r0+40(FP)
	RET

// func run(p *Program, t *Thread, pkt []byte) (r0 uint64, err error)
//
// Run (inlined into its callers, so that they call this directly): when
// t is bound to p (Thread.fast) and the run is not one of the timed ones
// (p.measure, and the runs counter of t's slot a multiple of timeEvery,
// as timeNext), it enters the code at t.jit.entry and counts a run that
// returns (exit word 0) in the program's counters of t's slot (t.jit.st):
// with plain increments when t owns the slot (see count), else locked
// ones. Every other run, and a run that exits to Go, continues in Go by a
// tail jump to runSlow or runExited, whose arguments and results are
// run's: they return to run's caller. NOFRAME: BP, which the code uses,
// is pushed around the code's CALL (the assembler tracks the push for the
// unwinder and for the FP offsets).
TEXT ·run(SB), NOSPLIT|NOFRAME, $0-64
	runEnter
	TESTQ R11, R11
	JNE exited
	MOVQ AX, r0+40(FP)
	MOVQ $0, err_itable+48(FP)
	MOVQ $0, err_data+56(FP)
	runCount
exited:
	MOVQ R11, (Thread_jit+jitState_exit)(R12)
	JMP ·runExited(SB)
slow:
	JMP ·runSlow(SB)

// func match(p *Program, t *Thread, pkt []byte) bool
//
// Match (inlined into its callers): run with the match as its result. The
// fast path runs only filters (see fastEligible), whose match is r0 = 1.
// Every other run continues in Go by a tail jump to matchSlow or
// matchExited, whose arguments and result are match's.
TEXT ·match(SB), NOSPLIT|NOFRAME, $0-41
	runEnter
	TESTQ R11, R11
	JNE exited
	CMPQ AX, $1
	SETEQ ret+40(FP)
	runCount
exited:
	MOVQ R11, (Thread_jit+jitState_exit)(R12)
	JMP ·matchExited(SB)
slow:
	JMP ·matchSlow(SB)
