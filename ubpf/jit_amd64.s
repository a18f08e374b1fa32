//go:build linux

#include "textflag.h"

// func jitcall(t *Thread, pc uintptr) (exit, r0 uint64)
//
// Enters JIT code at pc with the *Thread in R12 (see jit_amd64.go). The
// code uses no stack beyond this CALL's return address and returns here
// with RET, the exit word in R11 and BPF r0 in AX; it clobbers every
// general register but SP. BP is restored by
// the epilogue the assembler adds for the frame; the Go caller of an ABI0
// function reloads R14 and zeroes X15 after the call.
TEXT ·jitcall(SB), NOSPLIT, $8-32
	MOVQ t+0(FP), R12
	MOVQ pc+8(FP), AX
	CALL AX
	MOVQ R11, exit+16(FP)
	MOVQ AX, r0+24(FP)
	RET
