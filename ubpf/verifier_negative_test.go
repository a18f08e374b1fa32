package ubpf_test

// The negative corpus (issue 12): unsafe programs in testdata/negative,
// each with the fragment its rejection must contain. It holds every
// bpf_conformance verifier test that names an error (adapted to goko's
// program kinds; "# source:" names the original) and escapes of our own:
// pointer arithmetic tricks, unchecked map value offsets, packet pointers
// compared with the wrong register, JMP32 tricks, variable stack offsets,
// stale frame pointers across calls, reads of uninitialised stack,
// pointers returned or stored into maps.
//
// A case goko accepts today because of a known verifier bug names it
// ("# bug: NAME", an entry of knownUnsound) and is skipped while the entry
// is listed. A case whose "error" is "accept" is one Linux rejects and
// goko accepts on purpose because it is safe in goko's VM; those are
// listed in knownLax with the reason.

import (
	"strings"
	"testing"

	"github.com/goko-net/goko/ubpf"
)

// knownLax: programs Linux rejects that goko accepts by design, safely.
var knownLax = map[string]string{
	"conformance-division_by_zero": "RFC 9669 defines division by zero (x / 0 = 0, x % 0 = x) and the VM implements it",
}

func TestVerifierNegativeCorpus(t *testing.T) {
	th := ubpf.NewThread()
	defer th.Close()
	forCaseFiles(t, "testdata/negative", 40, func(t *testing.T, name string, cf *caseFile) {
		if cf.errMsg == "" || len(cf.why) == 0 {
			t.Fatalf("a negative case says which error it expects and why")
		}
		_, lax := knownLax[name]
		if (cf.errMsg == "accept") != lax {
			t.Fatalf("expects %q but knownLax lists it: %v", cf.errMsg, lax)
		}
		_, f, lerr := cf.load()
		diag, known := knownUnsound[cf.bug]
		switch {
		case f != nil && known:
			t.Skipf("known verifier bug %s: %s (%v)", cf.bug, diag, f)
		case f != nil:
			t.Fatalf("verifier bug (security): %v", f)
		case lerr == nil && lax:
			if _, f := cf.check(th); f != nil {
				t.Fatalf("accepted by design (%s) but fails: %v", knownLax[name], f)
			}
		case lerr == nil && known:
			t.Skipf("accepted because of known verifier bug %s: %s", cf.bug, diag)
		case lerr == nil:
			t.Fatalf("verifier soundness bug (security): accepted; it must be rejected with %q: %s", cf.errMsg, strings.Join(cf.why, " "))
		case lax:
			t.Errorf("rejected (%v): remove it from knownLax", lerr)
		case !strings.Contains(lerr.Error(), cf.errMsg):
			t.Errorf("rejected with %q, want %q", lerr, cf.errMsg)
		default:
			t.Logf("rejected: %v", lerr)
		}
	})
}
