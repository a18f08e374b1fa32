//go:build !linux || !amd64

package ubpf

import "errors"

const jitAvailable = false

// errNoJIT: this platform has no JIT.
var errNoJIT = errors.New("no JIT on this platform")

// jitCode is never built here.
type jitCode struct{}

func compileJIT(*Program, []insn) (*jitCode, error) { return nil, errNoJIT }

// jitExec is never called here (p.jit is always nil).
func (p *Program) jitExec(t *Thread, r1, r2 uint64) (uint64, error) { return p.exec(t, r1, r2) }

// runJIT is never called here (p.jit is always nil).
func (p *Program) runJIT(t *Thread, pkt []byte, st *progStats) (uint64, error) {
	return p.runFull(t, pkt, st)
}
