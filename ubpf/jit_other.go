//go:build !linux || !amd64

package ubpf

import (
	"errors"
	"unsafe"
)

const jitAvailable = false

// errNoJIT: this platform has no JIT.
var errNoJIT = errors.New("no JIT on this platform")

// jitCode is never built here.
type jitCode struct{}

func compileJIT(*Program, []insn) (*jitCode, error) { return nil, errNoJIT }

// jitExec is never called here (p.jit is always nil).
func (p *Program) jitExec(t *Thread, _ []byte, r1, r2 uint64) (uint64, error) {
	return p.exec(t, r1, r2)
}

// run is Run: every run takes runSlow here.
func run(p *Program, t *Thread, pkt []byte) (uint64, error) {
	return runSlow(p, t, pkt)
}

// match is Match: every run takes matchSlow here.
func match(p *Program, t *Thread, pkt []byte) bool {
	return matchSlow(p, t, pkt)
}

// runJITExits is never called here.
func (p *Program) runJITExits(t *Thread, pkt []byte, _ uint64) (uint64, error) {
	return p.runFull(t, pkt, &p.stats[t.slot&(ThreadSlots-1)])
}

// bindFast is never called here (Program.fast is always false).
func (p *Program) bindFast(*Thread) {}
