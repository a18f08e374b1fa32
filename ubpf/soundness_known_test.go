package ubpf_test

import "strings"

// knownUnsound names the verifier soundness bugs present today, with the
// verifier mechanism at fault. Each has regression cases named after it
// in testdata/soundness (NAME.asm, NAME-*.asm). Remove an entry when its
// fix lands: its cases then run and must pass, and random programs that
// fail the same way fail the test again.
var knownUnsound = map[string]string{
	"jmp32-const-bypass": "verifier_jump.go view32 marks a constant exact in the signed 32-bit view and branch() " +
		"copies the 32-bit signed bounds into the 64-bit ones, which contradict; jump() ignores branch() reporting " +
		"the side infeasible and feasible() used the 32-bit view only, so a reachable path is dropped as dead",
	"misaligned-stack-fold": "verifier_step.go stackRead folds a read that starts inside a slot holding a spilled " +
		"constant to bits of that constant alone, even when the read runs into the next slot",
	"xdp-ctx-confusion": "verifier_step.go access (tPtrCtx) records one rewrite per instruction in ctxAnn; the last " +
		"path verified wins, so on another path the VM loads data or data_end where the program read another field",
	"alu32-end64-truncation": "verifier_step.go scalarALU truncates the operand of every 32-bit-class op to 32 bits " +
		"before endian(), but le64 (and be64) in the ALU class keep all 64 bits at run time (decode.go: opNop, opBswap64)",
	"stale-frame-pointer-panic": "verifier_step.go access (tPtrStack write) lets a callee store a pointer to its own " +
		"frame into its caller's frame; after the return verifier_jump.go memArg indexes st.frames with the dead " +
		"frame's number unchecked (the write path for argMapValueIO) and panics: index out of range",
	"helper-copies-spilled-pointer": "verifier_jump.go memArg (reads) checks only that the stack bytes a helper " +
		"reads are initialised; a pointer spill counts, so map_update_elem or ringbuf_output copy an address into a map",
	"pkt-range-pruning": "verifier.go covers() compares packet ranges (vstate.pkt, per id) only through live " +
		"registers holding packet pointers, but a pointer loaded from ctx->data later has id 0 and inherits the " +
		"state's range: a state that proved nothing is pruned against one that proved a range",
	"narrow-pointer-store": "verifier_step.go step (classSTX) replaces the stored value by unknown() for stores " +
		"narrower than 8 bytes before access() checks it, so part of a pointer can be stored into a map value",
}

// knownFor returns the known bug a regression case (NAME or NAME-detail)
// is a case of.
func knownFor(caseName string) (bug, diag string, ok bool) {
	for k, d := range knownUnsound {
		if (caseName == k || strings.HasPrefix(caseName, k+"-")) && len(k) > len(bug) {
			bug, diag, ok = k, d, true
		}
	}
	return bug, diag, ok
}

// knownSignature attributes a failure to a known bug by what the reference
// interpreter saw before it (the construct the bug needs), or returns "".
// A failure with several such constructs is attributed to one that is
// still listed, so that a fix of one bug does not hide behind another.
func knownSignature(c *testCase, f *finding) string {
	var names []string
	if f.Class == "panic" && strings.Contains(f.Detail, "verifier panic: runtime error: index out of range") {
		names = append(names, "stale-frame-pointer-panic")
	}
	if f.Events[evJmp32SignedConst] {
		names = append(names, "jmp32-const-bypass")
	}
	if f.Events[evMisalignedFill] {
		names = append(names, "misaligned-stack-fold")
	}
	if f.Events[evCtxRewrite] {
		names = append(names, "xdp-ctx-confusion")
	}
	if f.Events[evPktReloadOOB] {
		names = append(names, "pkt-range-pruning")
	}
	if f.Events[evEnd64Alu32] {
		names = append(names, "alu32-end64-truncation")
	}
	if f.Class == "violation:ptr-store" && f.Events[evHelperPtrCopy] {
		names = append(names, "helper-copies-spilled-pointer")
	}
	if f.Class == "violation:ptr-store" && f.Events[evNarrowPtrStore] {
		names = append(names, "narrow-pointer-store")
	}
	for _, n := range names {
		if _, ok := knownUnsound[n]; ok {
			return n
		}
	}
	if len(names) > 0 {
		return names[0]
	}
	return ""
}
