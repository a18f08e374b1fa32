//go:build !linux || !amd64

package ubpf

const jitAvailable = false

// jitCode is never built here.
type jitCode struct{}

func compileJIT(*Program, []insn) (*jitCode, error) { return nil, errNoJIT }

func (p *Program) jitExec(t *Thread, r1, r2 uint64) (uint64, error) { return p.exec(t, r1, r2) }
