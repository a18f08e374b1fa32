//go:build linux

#include "go_asm.h"
#include "textflag.h"

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

// func jitrun(t *Thread, pkt unsafe.Pointer, n uint64) (exit, r0 uint64)
//
// jitcall at the entry of the program t is bound to (t.jit.entry), for
// runJIT: a run that returns (exit word 0) is counted here, in the
// program's counters of t's slot (t.jit.st): with plain increments when t
// owns the slot (see count), else locked ones.
TEXT ·jitrun(SB), NOSPLIT, $8-40
	MOVQ t+0(FP), R12
	MOVQ pkt+8(FP), R11
	MOVQ n+16(FP), R10
	CALL (Thread_jit+jitState_entry)(R12)
	MOVQ R11, exit+24(FP)
	MOVQ AX, r0+32(FP)
	TESTQ R11, R11
	JNE done
	MOVQ (Thread_jit+jitState_st)(R12), R10
	CMPB Thread_ownSlot(R12), $0
	JEQ shared
	INCQ progStats_runs(R10)
	CMPQ AX, $1
	JNE done
	INCQ progStats_matches(R10)
done:
	RET
shared:
	LOCK
	INCQ progStats_runs(R10)
	CMPQ AX, $1
	JNE done
	LOCK
	INCQ progStats_matches(R10)
	RET
