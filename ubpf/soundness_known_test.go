package ubpf_test

import "strings"

// knownUnsound names the verifier soundness bugs present today, with the
// verifier mechanism at fault. Each has regression cases named after it
// in testdata/soundness (NAME.asm, NAME-*.asm). Remove an entry when its
// fix lands: its cases then run and must pass, and random programs that
// fail the same way fail the test again.
var knownUnsound = map[string]string{}

// fixedUnsound are the bugs of knownUnsound that have been fixed, kept so
// that knownSignature still names them (a failure attributed to one of
// these is not skipped: it is a regression) and their cases document them.
var fixedUnsound = map[string]string{
	"jmp32-const-bypass":            "verifier_jump.go view32/branch/jump (fixed by 52098f3)",
	"misaligned-stack-fold":         "verifier_step.go stackRead (fixed by 52098f3)",
	"xdp-ctx-confusion":             "verifier_step.go access, ctxAnn per instruction (fixed by 52098f3)",
	"narrow-pointer-store":          "verifier_step.go step, narrow STX (fixed by 52098f3)",
	"alu32-end64-truncation":        "verifier_step.go scalarALU, le64 in the ALU class (fixed by 52098f3)",
	"helper-copies-spilled-pointer": "verifier_jump.go memArg (fixed by 28dff0c)",
	"stale-frame-pointer-panic":     "verifier_step.go access and memArg (fixed by 64393a2)",
	"pkt-range-pruning":             "verifier.go covers, the data+0 range compared whatever is live",
	"stack-misc-covers-spill":       "verifier.go covers, a pointer spill where bytes of a number were explored",
	"decided-branch":                "verifier.go sinksAhead, registers that may hold pointers are sinks",
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
