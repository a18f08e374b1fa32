//go:build linux

package ubpf

// The JIT: verified bytecode compiled to amd64 machine code
//
// # How native code runs inside a Go program, and why it is safe
//
// The code of a program lives in its own anonymous mapping, written while
// it is read+write and then switched to read+execute with mprotect: it is
// never writable and executable at once. The mapping belongs to a jitCode
// whose cleanup (runtime.AddCleanup) unmaps it once nothing refers to it;
// a run keeps its jitCode alive until it returns (runtime.KeepAlive), so
// a program swapped out by a reload while a PMD is still inside it is
// unmapped only after that run has ended.
//
// Go enters the code through jitcall or run, assembly trampolines
// (ABI0, jit_amd64.s, NOSPLIT; they save BP, which the code uses): they
// put the *Thread in r12, the packet's address and length in r11 and
// r10, and CALL an address inside the code (run: the entry of the program
// the Thread is bound to, and it counts the run when it returns; every
// other run it hands to Go by a tail jump, never calling Go itself, so no
// Go frame lies below the code's either). The code runs on the
// goroutine's stack but uses none of it beyond the 8-byte return address
// of that CALL: every piece of state lives in the Thread (jitState) or in
// registers. The rules of the Go runtime it relies on:
//
//   - The code never calls Go. Helpers, map operations the code does not
//     do itself, faults, budget slices and the final exit all work the
//     same way, as in wazero's compiler: the code stores r0..r9 and the
//     budget register into the Thread and, when it is to continue, a
//     resume address, then RETs to the trampoline with an exit word (kind,
//     helper or map number, instruction index), which returns it to Go.
//     Go does the work (calls the helper with the Thread, builds the
//     error) and re-enters at a resume stub that reloads the registers and
//     jumps to the resume address. So no Go frame is ever below a native
//     frame, and the Go stack may move or grow freely between entries: the
//     code keeps no pointer to it.
//   - The goroutine is never stopped inside the code. Synchronous
//     preemption happens in Go function prologues, which the code has
//     none of; an asynchronous preemption signal that lands in the code
//     (or in the trampoline, an assembly function) finds a PC that is not
//     an async safe point (runtime.isAsyncSafePoint: not Go code, or
//     assembly) and returns without preempting. The signal handler runs on
//     the signal stack and takes g from TLS, so clobbering r14 (g in
//     ABIInternal) is harmless; Go code that calls an ABI0 function such
//     as jitcall reloads r14 from TLS and zeroes X15 right after the call.
//     Profiling signals unwind the code's PC with unwindSilentErrors and
//     count it as external code.
//   - Because the goroutine cannot stop inside the code, the GC never scans
//     a frame it does not know and never sees the registers the code
//     holds: the *Thread in r12, the packet pointer in rbp and translated
//     addresses in r10/r11. Those objects stay alive anyway (the caller
//     and the Thread's region tables refer to them) and the Go heap does
//     not move objects. The code stores only integers into Go memory
//     (registers, exit words, packet and map bytes), never a pointer, so
//     no write barrier is missed.
//   - Runs stay short between safe points: taken backward jumps and local
//     calls charge the budget in rcx with the same weights as the
//     interpreter (see decode), in slices of jitSlice instructions; at the
//     end of a slice the code exits to Go, which takes the next slice (a
//     preemption point) or fails the run when the program's budget is
//     spent, exactly where the interpreter would.
//
// # Machine state
//
// BPF r0..r9 live in rax, rdi, rsi, rdx, r9, r8, rbx, r13, r14, r15. r10
// (read-only for programs) lives in the Thread, since only calls and
// returns change it; stack accesses through r10 use jitState.fp, its real
// address. r12 holds the *Thread, rcx the budget, rbp the packet's first
// byte, r10 and r11 are scratch. In programs that charge no budget, rcx
// holds minus the packet's virtual base (regionPacket<<32, a constant)
// and rbp the packet's first byte minus its virtual base, so that a
// register holding a packet pointer indexes the packet directly
// ([rbp + reg + off], see pktAt). The code never writes rsp.
//
// # Memory accesses
//
// Every load and store checks its address at run time, whatever the
// verifier proved (defence in depth while the verifier is being fixed),
// against the same regions as the interpreter, and fails where it fails:
//
//   - Through r10, or a register the JIT knows to hold r10 plus a
//     constant (jit_flow_amd64.go), with a constant offset below r10:
//     r10 is only ever the frame pointer the VM set (the code never writes
//     it otherwise), so the access is in the run's stack span iff its
//     offset is above the span's bottom: known at compile time in programs
//     without calls, one compare of r10 with them; then one load of fp
//     and the access.
//   - Through a register the JIT knows to hold the packet's start plus a
//     constant: one compare of the offset of the access's last byte with
//     the packet's length (pktLim[0]), then the access (pktAt); no
//     compare at all when the JIT's own facts prove the
//     packet that long on every path (an earlier access at a known
//     offset, or a branch on the length the entry put in r2: see
//     jit_flow_amd64.go).
//   - Through a register the JIT knows to hold the packet's start plus an
//     offset in a known range (jit_flow_amd64.go), when the facts prove
//     the packet holds every offset of the range: no compare, just the
//     access (pktAt).
//   - Otherwise, first the packet: virtual address minus the packet's
//     virtual base, compared unsigned with pktLim for the access size,
//     then the access. In programs without budget charges rcx holds minus
//     the virtual base, so the subtraction folds into the LEA of the
//     address; otherwise it reads pktVBase from the Thread.
//   - Anything else, and whatever the fast paths above did not accept
//     (out of line): the generic translation of the interpreter: region =
//     address>>32 below numRegions, offset+size at most the region's
//     length in the Thread's read or write table, then the access at the
//     region's base. A failure exits with a fault. (On Run's fast path
//     the packet is not in the tables at all, see run: whatever the
//     packet checks refused faults there, as it would anyway.)
//
// Atomics take the generic path and also check the real address's
// alignment, as the interpreter does. Map lookups the JIT can resolve at
// compile time run in the code (arrays here, hash maps in
// jit_maps_amd64.go); the others exit to Go.

import (
	"fmt"
	"runtime"
	"syscall"
	"unsafe"
)

const jitAvailable = true

// jitSlice is the budget (instructions) between two returns to Go
// (preemption points) in a long run.
const jitSlice = 1 << 18

// BPF register -> machine register (r10 lives in memory).
var jitReg = [10]xreg{rax, rdi, rsi, rdx, r9, r8, rbx, r13, r14, r15}

const (
	ctxReg = r12 // *Thread
	budReg = rcx
	vbReg  = rcx // -pktVBase instead, when there is no budget to charge
	pktReg = rbp
	tmpA   = r10
	tmpB   = r11
)

// offsets from r12 (the *Thread)
var (
	offRd       = int32(unsafe.Offsetof(Thread{}.rd))
	offWr       = int32(unsafe.Offsetof(Thread{}.wr))
	offPktLen   = int32(unsafe.Offsetof(Thread{}.pktLen))
	offJit      = int32(unsafe.Offsetof(Thread{}.jit))
	offRegs     = offJit + int32(unsafe.Offsetof(jitState{}.regs))
	offBudget   = offJit + int32(unsafe.Offsetof(jitState{}.budget))
	offResume   = offJit + int32(unsafe.Offsetof(jitState{}.resume))
	offPktBase  = offJit + int32(unsafe.Offsetof(jitState{}.pktBase))
	offPktVBase = offJit + int32(unsafe.Offsetof(jitState{}.pktVBase))
	offPktLim   = offJit + int32(unsafe.Offsetof(jitState{}.pktLim))
	offFP       = offJit + int32(unsafe.Offsetof(jitState{}.fp))
	offFPTop    = offJit + int32(unsafe.Offsetof(jitState{}.fpTop))
	offDepth    = offJit + int32(unsafe.Offsetof(jitState{}.depth))
	offSpill    = offJit + int32(unsafe.Offsetof(jitState{}.spill))
	offFrames   = offJit + int32(unsafe.Offsetof(jitState{}.frames))
	// fields of a jitFrame
	frRet   = int32(unsafe.Offsetof(jitFrame{}.ret))
	frSaved = int32(unsafe.Offsetof(jitFrame{}.saved))
	frR10   = int32(unsafe.Offsetof(jitFrame{}.r10))
	frFP    = int32(unsafe.Offsetof(jitFrame{}.fp))
)

func regMem(i int) mem { return mb(ctxReg, offRegs+int32(i)*8) }

func init() {
	if unsafe.Sizeof(jitFrame{}) != 64 {
		panic("ubpf: jitFrame must be 64 bytes")
	}
}

// jitCode is a program's machine code: an executable mapping.
type jitCode struct {
	mem    []byte
	entry  uintptr // start of a run
	resume uintptr // re-entry after an exit
	size   int     // bytes of code
}

type jitCompiler struct {
	a     xasm
	p     *Program
	insns []insn
	lbl   []label // per instruction
	// backward-jump targets: the weights of the jumps to each, and the
	// label of the budget charge of each (target, weight)
	backWeights [][]uint8
	back        map[[2]int]label
	calls       bool   // the program has local calls
	landing     []bool // per instruction: a jump or local call lands there
	// charges: the code charges the budget (backward jumps, calls)
	charges bool
	// vbReg: rcx holds -pktVBase (programs that do not charge the budget,
	// which would live there)
	vbReg bool
	// need: what the entry must set up, learnt while compiling the rest;
	// known: the same, from a first pass, so that the entry can come
	// first and fall into the body
	need  entryNeeds
	known *entryNeeds
	facts []*flowState

	stubs []func() // out-of-line code, emitted after the body

	lSave, lReturn, lResume, lEntry label
}

// entryNeeds is what the entry must set up for the rest of the code.
type entryNeeds struct {
	pktLen   bool  // the code reads the packet's length from the Thread
	resumes  bool  // it re-enters after an exit (the resume stub)
	vbUsed   bool  // it reads -pktVBase in rcx
	pktSizes uint8 // 1<<k: packet fast paths of 1<<k bytes use pktLim[k]
}

// compileJIT compiles the decoded, unfused instructions of p, twice: the
// first pass learns what the entry must set up, the second puts the
// entry first, falling into the body.
func compileJIT(p *Program, insns []insn) (*jitCode, error) {
	c := &jitCompiler{p: p, insns: insns}
	if _, _, _, err := c.compile(); err != nil {
		return nil, err
	}
	c2 := &jitCompiler{p: p, insns: insns, known: &c.need}
	code, entry, resume, err := c2.compile()
	if err != nil {
		return nil, err
	}
	if c2.need != c.need {
		return nil, fmt.Errorf("jit: the passes disagree on the entry: %+v, then %+v", c.need, c2.need)
	}
	return mapCode(code, entry, resume)
}

func (c *jitCompiler) compile() (code []byte, entry, resume int, err error) {
	a := &c.a
	n := len(c.insns)
	c.lbl = make([]label, n)
	c.back = map[[2]int]label{}
	c.backWeights = make([][]uint8, n)
	for i := range c.lbl {
		c.lbl[i] = a.newLabel()
	}
	c.landing = make([]bool, n+1)
	c.landing[0] = true
	for pc := 0; pc < n; pc++ {
		in := &c.insns[pc]
		if (isJumpOp(in.op) || in.op == opCallLocal) && in.off >= 0 && int(in.off) < n {
			c.landing[in.off] = true
		}
		if isJumpOp(in.op) && int(in.off) < 0 {
			return nil, 0, 0, fmt.Errorf("insn %d: jump target %d out of range", pc, in.off)
		}
		if charged(pc, in) {
			c.backWeights[in.off] = appendWeight(c.backWeights[in.off], in.back)
		}
		if in.op == opCallLocal {
			c.calls = true
		}
		c.charges = c.charges || in.op == opCallLocal || charged(pc, in)
		if in.op == opLdImm64 {
			pc++
		}
	}
	c.lSave, c.lReturn, c.lResume, c.lEntry = a.newLabel(), a.newLabel(), a.newLabel(), a.newLabel()
	c.vbReg = !c.charges
	c.facts = pktFacts(c.p, c.insns)

	body := a.newLabel()
	if c.known != nil {
		c.emitEntry(body)
	}
	a.bind(body)
	for pc := 0; pc < n; pc++ {
		in := &c.insns[pc]
		for i, w := range c.backWeights[pc] {
			// backward jumps land on a charge of their weight (see decode);
			// the first sits right before the target, which the
			// fallthrough reaches around it
			l := a.newLabel()
			c.back[[2]int{pc, int(w)}] = l
			charge := func() {
				a.bind(l)
				a.aluRI(aSub, true, budReg, int32(w))
				a.jcc(ccL, c.exitStub(exitBudget, 0, pc, c.lbl[pc]))
			}
			if i == 0 {
				a.jmp(c.lbl[pc])
				charge()
			} else {
				c.stubs = append(c.stubs, func() { charge(); a.jmp(c.lbl[pc]) })
			}
		}
		a.bind(c.lbl[pc])
		if c.movAdd(pc) {
			pc++
			a.bind(c.lbl[pc])
			continue
		}
		if err := c.insn(pc, in); err != nil {
			return nil, 0, 0, fmt.Errorf("insn %d (%s): %w", pc, Disasm(c.p.raw, pc), err)
		}
		if in.op == opLdImm64 {
			pc++
			a.bind(c.lbl[pc])
		}
	}
	// a function never falls off its end (verified); if one did, stop
	a.int3()
	for i := 0; i < len(c.stubs); i++ {
		c.stubs[i]()
	}
	c.emitCommon()
	if c.known == nil {
		c.emitEntry(body)
	}
	if a.err != nil {
		return nil, 0, 0, a.err
	}
	code, err = a.finish()
	return code, int(a.labels[c.lEntry]), int(a.labels[c.lResume]), err
}

// stub queues out-of-line code; it returns the label at its start.
func (c *jitCompiler) stub(f func()) label {
	l := c.a.newLabel()
	c.stubs = append(c.stubs, func() { c.a.bind(l); f() })
	return l
}

// exitStub returns the label of out-of-line code that exits to Go with
// kind, arg and pc, to continue at resume (unless resume < 0).
func (c *jitCompiler) exitStub(kind, arg uint64, pc int, resume label) label {
	return c.stub(func() { c.exitTo(kind, arg, pc, resume) })
}

func (c *jitCompiler) exitTo(kind, arg uint64, pc int, resume label) {
	a := &c.a
	if resume >= 0 {
		c.need.resumes = true
		a.leaRIP(tmpA, resume)
		a.store(8, mb(ctxReg, offResume), tmpA)
	}
	a.movImm(tmpB, kind|arg<<8|uint64(uint32(pc))<<32)
	a.jmp(c.lSave)
}

// movAdd compiles the pair at pc "dst = src; dst += x" (a constant or a
// register) as one LEA, unless a jump lands between the two; it reports
// whether it did.
func (c *jitCompiler) movAdd(pc int) bool {
	if pc+1 >= len(c.insns) || c.landing[pc+1] {
		return false
	}
	mv, ad := &c.insns[pc], &c.insns[pc+1]
	if mv.op != opMov64R || mv.dst >= 10 || mv.src >= 10 || ad.dst != mv.dst {
		return false
	}
	d, s := jitReg[mv.dst], jitReg[mv.src]
	switch {
	case ad.op == opAdd64I:
		c.a.lea(d, mb(s, int32(int64(ad.imm))))
	case ad.op == opSub64I && int32(int64(ad.imm)) != -1<<31:
		c.a.lea(d, mb(s, -int32(int64(ad.imm))))
	case ad.op == opAdd64R && ad.src < 10:
		x := jitReg[ad.src]
		if ad.src == mv.dst { // dst += dst: src twice
			x = s
		}
		c.a.lea(d, mbi(s, x, 1, 0))
	default:
		return false
	}
	return true
}

// emitEntry: the start of a run, entered by jitcall with the packet's
// first byte in r11 and its length in r10. r1 and r2 are the arguments of
// the program's kind (as Run gives them to the interpreter); every other
// register some path may read before writing it starts at zero (as in the
// interpreter, and so that nothing of Go's leaks: jit_live_amd64.go), the
// rest (arguments too) keep what Go left, which nothing reads; rcx at the program's first
// budget slice, or minus the packet's virtual base; rbp (see Machine
// state) and the limits of the packet accesses the program makes
// (pktLim[0] for those at known offsets, pktLim[k] for those of 1<<k
// bytes at others) come from the packet, when the code reads them.
// The run's stack span is zeroed here (Thread.beginRun does it for the
// interpreter): a constant number of bytes below the stack's top.
// r10 and its real address are set by Thread.bind, unless the program
// has local calls (a run that faulted in a callee leaves them changed).
func (c *jitCompiler) emitEntry(body label) {
	a := &c.a
	need := c.need
	if c.known != nil {
		need = *c.known
	}
	a.bind(c.lEntry)
	switch {
	case !c.vbReg:
		a.movRR(true, pktReg, tmpB)
	case need.vbUsed: // rbp = the packet minus its virtual base (pktAt)
		a.movImm(vbReg, ^uint64(regionPacket<<32)+1) // -pktVBase (jitState.init)
		a.lea(pktReg, mbi(tmpB, vbReg, 1, 0))
	}
	if need.resumes { // the resume stub reloads rbp
		a.store(8, mb(ctxReg, offPktBase), pktReg)
	}
	if need.pktLen {
		a.store(8, mb(ctxReg, offPktLen), tmpA)
	}
	zero := c.zeroRegs()
	if need.pktSizes&^1 != 0 || c.p.stackSpan > 0 {
		zero |= 1 // rax is the zero of the limits and of the stack span
	}
	for i, r := range jitReg {
		if zero&(1<<i) != 0 {
			a.aluRR(aXor, false, r, r)
		}
	}
	for k := 0; k < 4; k++ {
		if need.pktSizes&(1<<k) == 0 {
			continue
		}
		// pktLim[k] = max(len - size + 1, 0)
		if k == 0 {
			a.store(8, mb(ctxReg, offPktLim), tmpA)
			continue
		}
		a.movRR(true, tmpB, tmpA)
		a.aluRI(aSub, true, tmpB, int32(1<<k)-1)
		a.cmov(ccS, tmpB, rax) // rax is 0
		a.store(8, mb(ctxReg, offPktLim+8*int32(k)), tmpB)
	}
	if span := c.p.stackSpan; span > 0 {
		a.load(8, tmpB, mb(ctxReg, offFPTop))
		if span <= 16*8 {
			for o := 8; o <= span; o += 8 {
				a.store(8, mb(tmpB, -int32(o)), rax)
			}
		} else { // rdi, rcx and rax are set below
			a.lea(rdi, mb(tmpB, -int32(span)))
			a.movImm(rcx, uint64(span/8))
			a.repStosq()
		}
	}
	// the arguments, unless no path reads them
	r1, r2 := jitReg[1], jitReg[2]
	live := c.liveAtEntry()
	switch {
	case live&(1<<1) == 0:
	case c.p.kind == KindXDP:
		a.movImm(r1, regionCtx<<32)
	case c.p.kind == KindRaw: // r1 = len > 0 ? the buffer : 0
		a.aluRR(aXor, false, r1, r1)
		a.movImm(tmpB, regionPacket<<32)
		a.testRR(true, tmpA, tmpA)
		a.cmov(ccNE, r1, tmpB)
	default:
		a.movImm(r1, regionPacket<<32)
	}
	if live&(1<<2) != 0 && c.p.kind != KindXDP {
		a.movRR(true, r2, tmpA)
	}
	switch {
	case c.charges:
		a.movImm(budReg, uint64(min(c.p.budget, jitSlice)))
	case need.vbUsed && c.p.stackSpan > 16*8: // rep stos took rcx
		a.movImm(vbReg, ^uint64(regionPacket<<32)+1)
	}
	if c.calls {
		// r10 at the top of the run's stack span (see Thread.beginRun)
		a.movImm(tmpA, regionStack<<32|uint64(c.p.stackSpan))
		a.store(8, regMem(10), tmpA)
		a.load(8, tmpA, mb(ctxReg, offFPTop))
		a.store(8, mb(ctxReg, offFP), tmpA)
		a.storeImm(8, mb(ctxReg, offDepth), 0)
	}
	if c.known == nil {
		a.jmp(body)
	} // else the body follows
}

// zeroRegs returns the BPF registers (bits 0..9) the entry zeroes: those
// a run may read before writing them (jit_live_amd64.go), but the
// arguments the entry sets for the program's kind.
func (c *jitCompiler) zeroRegs() uint16 {
	args := uint16(1<<1 | 1<<2)
	if c.p.kind == KindXDP {
		args = 1 << 1
	}
	return c.liveAtEntry() &^ args
}

// liveAtEntry returns the registers (bits 0..9) a run may read before
// writing them.
func (c *jitCompiler) liveAtEntry() uint16 {
	if len(c.insns) == 0 {
		return allRegs
	}
	return liveIn(c.insns)[0]
}

// emitCommon: the shared exit and re-entry code.
func (c *jitCompiler) emitCommon() {
	a := &c.a
	// final exit: the exit word (in r11) is 0, r0 in rax
	a.bind(c.lReturn)
	a.aluRR(aXor, false, tmpB, tmpB)
	a.ret()
	// exit to Go: save the registers (the exit word is in r11)
	a.bind(c.lSave)
	for i, r := range jitReg {
		a.store(8, regMem(i), r)
	}
	a.store(8, mb(ctxReg, offBudget), budReg)
	a.ret()
	// re-entry after an exit
	a.bind(c.lResume)
	for i, r := range jitReg {
		a.load(8, r, regMem(i))
	}
	a.load(8, budReg, mb(ctxReg, offBudget))
	a.load(8, pktReg, mb(ctxReg, offPktBase))
	a.jmpM(mb(ctxReg, offResume))
}

// writesDst reports whether op writes its dst register (ALU, byte order,
// loads, LDDW, context rewrites).
func writesDst(op uint8) bool {
	return (op >= opAdd64I && op <= opBswap64 && op != opNop && !isDivMod(op)) ||
		(op >= opLdxB && op <= opLdxSW) || op == opLdImm64 || op == opLdPktData || op == opLdPktEnd
}

func isDivMod(op uint8) bool {
	switch op {
	case opDiv64I, opMod64I, opSdiv64I, opSmod64I, opDiv32I, opMod32I, opSdiv32I, opSmod32I,
		opDiv64R, opMod64R, opSdiv64R, opSmod64R, opDiv32R, opMod32R, opSdiv32R, opSmod32R:
		return true
	}
	return false
}

// reg returns the machine register of BPF register r (0..9).
func (c *jitCompiler) reg(r uint8) (xreg, error) {
	if r > 9 {
		return 0, fmt.Errorf("register r%d not writable", r)
	}
	return jitReg[r], nil
}

// val returns a machine register holding BPF register r's value, loading
// r10 into scratch when r is 10.
func (c *jitCompiler) val(r uint8, scratch xreg) (xreg, error) {
	switch {
	case r < 10:
		return jitReg[r], nil
	case r == 10:
		c.a.load(8, scratch, regMem(10))
		return scratch, nil
	}
	return 0, fmt.Errorf("invalid register r%d", r)
}

func (c *jitCompiler) target(pc int, in *insn) (label, error) {
	t := int(in.off)
	if t < 0 || t >= len(c.insns) {
		return 0, fmt.Errorf("jump target %d out of range", t)
	}
	if charged(pc, in) {
		return c.back[[2]int{t, int(in.back)}], nil
	}
	return c.lbl[t], nil
}

// charged reports whether the jump in at pc charges the budget: a
// backward jump that closes a loop (decode weighs only those; one on no
// cycle is taken at most once per run, as a forward jump).
func charged(pc int, in *insn) bool {
	return isJumpOp(in.op) && int(in.off) <= pc && in.back > 0
}

func appendWeight(ws []uint8, w uint8) []uint8 {
	for _, x := range ws {
		if x == w {
			return ws
		}
	}
	return append(ws, w)
}

var aluOpOf = map[uint8]aluOp{
	opAdd64I: aAdd, opAdd64R: aAdd, opAdd32I: aAdd, opAdd32R: aAdd,
	opSub64I: aSub, opSub64R: aSub, opSub32I: aSub, opSub32R: aSub,
	opOr64I: aOr, opOr64R: aOr, opOr32I: aOr, opOr32R: aOr,
	opAnd64I: aAnd, opAnd64R: aAnd, opAnd32I: aAnd, opAnd32R: aAnd,
	opXor64I: aXor, opXor64R: aXor, opXor32I: aXor, opXor32R: aXor,
}

var shiftOpOf = map[uint8]shiftOp{
	opLsh64I: sShl, opLsh64R: sShl, opLsh32I: sShl, opLsh32R: sShl,
	opRsh64I: sShr, opRsh64R: sShr, opRsh32I: sShr, opRsh32R: sShr,
	opArsh64I: sSar, opArsh64R: sSar, opArsh32I: sSar, opArsh32R: sSar,
}

// jump ops: condition, 64-bit, register form, test (jset)
type jmpInfo struct {
	cc        cond
	w, reg, t bool
}

var jmpOf = func() map[uint8]jmpInfo {
	m := map[uint8]jmpInfo{}
	conds := []struct {
		base uint8
		cc   cond
		test bool
	}{
		{opJeq64I, ccE, false}, {opJne64I, ccNE, false}, {opJgt64I, ccA, false}, {opJge64I, ccAE, false},
		{opJlt64I, ccB, false}, {opJle64I, ccBE, false}, {opJsgt64I, ccG, false}, {opJsge64I, ccGE, false},
		{opJslt64I, ccL, false}, {opJsle64I, ccLE, false}, {opJset64I, ccNE, true},
		{opJeq32I, ccE, false}, {opJne32I, ccNE, false}, {opJgt32I, ccA, false}, {opJge32I, ccAE, false},
		{opJlt32I, ccB, false}, {opJle32I, ccBE, false}, {opJsgt32I, ccG, false}, {opJsge32I, ccGE, false},
		{opJslt32I, ccL, false}, {opJsle32I, ccLE, false}, {opJset32I, ccNE, true},
	}
	for _, x := range conds {
		w := x.base < opJeq32I
		m[x.base] = jmpInfo{cc: x.cc, w: w, t: x.test}
		m[x.base+1] = jmpInfo{cc: x.cc, w: w, reg: true, t: x.test}
	}
	return m
}()

func (c *jitCompiler) insn(pc int, in *insn) error {
	a := &c.a
	var d xreg // the destination, for the ops that write one
	if writesDst(in.op) {
		var err error
		if d, err = c.reg(in.dst); err != nil {
			return err
		}
	}
	switch op := in.op; op {
	case opAdd64I, opSub64I, opOr64I, opAnd64I, opXor64I:
		a.aluRI(aluOpOf[op], true, d, int32(int64(in.imm)))
	case opAdd32I, opSub32I, opOr32I, opAnd32I, opXor32I:
		a.aluRI(aluOpOf[op], false, d, int32(uint32(in.imm)))
	case opAdd64R, opSub64R, opOr64R, opAnd64R, opXor64R, opAdd32R, opSub32R, opOr32R, opAnd32R, opXor32R:
		s, err := c.val(in.src, tmpB)
		if err != nil {
			return err
		}
		a.aluRR(aluOpOf[op], op < opAdd32I, d, s)
	case opMov64I, opMov32I, opLdImm64:
		a.movImm(d, in.imm)
	case opMov64R, opMov32R:
		if in.src == 10 {
			a.load(map[bool]int{true: 8, false: 4}[op == opMov64R], d, regMem(10))
			break
		}
		s, err := c.val(in.src, tmpB)
		if err != nil {
			return err
		}
		a.movRR(op == opMov64R, d, s)
	case opMul64I, opMul32I:
		if op == opMul64I {
			a.imulRRI(true, d, d, int32(int64(in.imm)))
		} else {
			a.imulRRI(false, d, d, int32(uint32(in.imm)))
		}
	case opMul64R, opMul32R:
		s, err := c.val(in.src, tmpB)
		if err != nil {
			return err
		}
		a.imulRR(op == opMul64R, d, s)
	case opDiv64I, opMod64I, opSdiv64I, opSmod64I, opDiv32I, opMod32I, opSdiv32I, opSmod32I,
		opDiv64R, opMod64R, opSdiv64R, opSmod64R, opDiv32R, opMod32R, opSdiv32R, opSmod32R:
		return c.divmod(in) // checks its registers itself
	case opLsh64I, opRsh64I, opArsh64I, opLsh32I, opRsh32I, opArsh32I:
		a.shiftRI(shiftOpOf[op], op < opAdd32I, d, uint8(in.imm))
	case opLsh64R, opRsh64R, opArsh64R, opLsh32R, opRsh32R, opArsh32R:
		if in.src > 10 {
			return fmt.Errorf("invalid register r%d", in.src)
		}
		w := op < opAdd32I
		a.movRR(true, tmpB, budReg) // rcx holds the budget
		if in.src == 10 {
			a.load(4, rcx, regMem(10))
		} else {
			a.movRR(false, rcx, jitReg[in.src])
		}
		a.shiftRCL(shiftOpOf[op], w, d)
		if !w { // a count of 0 must still zero-extend
			a.movRR(false, d, d)
		}
		a.movRR(true, budReg, tmpB)
	case opNeg64, opNeg32:
		a.unary(uNeg, op == opNeg64, d)
	case opMovsx64B, opMovsx64H, opMovsx64W, opMovsx32B, opMovsx32H:
		s, err := c.val(in.src, tmpB)
		if err != nil {
			return err
		}
		switch op {
		case opMovsx64B:
			a.movsx(true, d, s, 8)
		case opMovsx64H:
			a.movsx(true, d, s, 16)
		case opMovsx64W:
			a.movsx(true, d, s, 32)
		case opMovsx32B:
			a.movsx(false, d, s, 8)
		default:
			a.movsx(false, d, s, 16)
		}
	case opLe16, opLe32, opNop, opBswap16, opBswap32, opBswap64:
		if op == opNop {
			break
		}
		switch op {
		case opLe16:
			a.movzx16(d, d)
		case opLe32:
			a.movRR(false, d, d)
		case opBswap16:
			a.bswap(false, d)
			a.shiftRI(sShr, false, d, 16)
		case opBswap32:
			a.bswap(false, d)
		default:
			a.bswap(true, d)
		}
	case opJa:
		l, err := c.target(pc, in)
		if err != nil {
			return err
		}
		a.jmp(l)
	case opCall:
		if pc+1 >= len(c.insns) {
			return fmt.Errorf("call at the end of the program")
		}
		if mi, ok := c.knownLookup(pc); ok {
			return c.mapLookup(pc, mi)
		}
		c.exitTo(exitHelper, uint64(uint32(in.off)), pc, c.lbl[pc+1])
	case opCallx:
		if pc+1 >= len(c.insns) {
			return fmt.Errorf("call at the end of the program")
		}
		if in.dst > 10 {
			return fmt.Errorf("invalid register r%d", in.dst)
		}
		c.exitTo(exitCallx, 0, pc, c.lbl[pc+1])
	case opCallLocal:
		return c.callLocal(pc, in)
	case opExit:
		c.exit()
	case opLdxB, opLdxH, opLdxW, opLdxDW, opLdxSB, opLdxSH, opLdxSW:
		return c.ldx(pc, in)
	case opStB, opStH, opStW, opStDW, opStxB, opStxH, opStxW, opStxDW:
		return c.st(pc, in)
	case opAtomic32, opAtomic64:
		return c.atomic(pc, in)
	case opLdAbsB, opLdAbsH, opLdAbsW, opLdIndB, opLdIndH, opLdIndW:
		return c.ldabs(in)
	case opLdPktData:
		a.movImm(d, regionPacket<<32)
	case opLdPktEnd:
		a.movImm(d, regionPacket<<32)
		a.aluRM(aOr, true, d, mb(ctxReg, offPktLen))
		c.need.pktLen = true
	case opBpfLoop:
		return fmt.Errorf("insn %d: bpf_loop is not compiled yet (the program runs in the interpreter)", pc)
	default:
		if j, ok := jmpOf[op]; ok {
			return c.jcc(pc, in, j)
		}
		return fmt.Errorf("no code for decoded op %d", op)
	}
	return nil
}

func (c *jitCompiler) jcc(pc int, in *insn, j jmpInfo) error {
	a := &c.a
	l, err := c.target(pc, in)
	if err != nil {
		return err
	}
	d, err := c.val(in.dst, tmpA)
	if err != nil {
		return err
	}
	switch {
	case j.reg:
		s, err := c.val(in.src, tmpB)
		if err != nil {
			return err
		}
		if j.t {
			a.testRR(j.w, d, s)
		} else {
			a.aluRR(aCmp, j.w, d, s)
		}
	case j.t:
		if j.w {
			a.testRI(true, d, int32(int64(in.imm)))
		} else {
			a.testRI(false, d, int32(uint32(in.imm)))
		}
	case j.w:
		a.aluRI(aCmp, true, d, int32(int64(in.imm)))
	default:
		a.aluRI(aCmp, false, d, int32(uint32(in.imm)))
	}
	a.jcc(j.cc, l)
	return nil
}

// divmod: division and modulo with the interpreter's rules (x/0 = 0,
// x%0 = x zero-extended to the width, signed x/-1 = -x and x%-1 = 0
// without the CPU's overflow trap).
func (c *jitCompiler) divmod(in *insn) error {
	a := &c.a
	op := in.op
	var w, signed, mod, isImm bool
	switch op {
	case opDiv64I, opMod64I, opSdiv64I, opSmod64I, opDiv32I, opMod32I, opSdiv32I, opSmod32I:
		isImm = true
	}
	switch op {
	case opDiv64I, opMod64I, opSdiv64I, opSmod64I, opDiv64R, opMod64R, opSdiv64R, opSmod64R:
		w = true
	}
	switch op {
	case opSdiv64I, opSmod64I, opSdiv32I, opSmod32I, opSdiv64R, opSmod64R, opSdiv32R, opSmod32R:
		signed = true
	}
	switch op {
	case opMod64I, opSmod64I, opMod32I, opSmod32I, opMod64R, opSmod64R, opMod32R, opSmod32R:
		mod = true
	}
	d, err := c.reg(in.dst)
	if err != nil {
		return err
	}
	imm := in.imm
	if !w {
		imm = uint64(uint32(imm))
	}
	if isImm {
		switch {
		case imm == 0: // decoded away; keep the rule anyway
			if !mod {
				a.aluRR(aXor, false, d, d)
			} else if !w {
				a.movRR(false, d, d)
			}
			return nil
		case signed && ((w && int64(imm) == -1) || (!w && int32(uint32(imm)) == -1)):
			if mod {
				a.aluRR(aXor, false, d, d)
			} else {
				a.unary(uNeg, w, d)
			}
			return nil
		}
		a.movImm(tmpB, imm)
	} else {
		if in.src > 10 {
			return fmt.Errorf("invalid register r%d", in.src)
		}
		if in.src == 10 {
			a.load(map[bool]int{true: 8, false: 4}[w], tmpB, regMem(10))
		} else {
			a.movRR(w, tmpB, jitReg[in.src])
		}
	}
	done := a.newLabel()
	if !isImm {
		a.testRR(w, tmpB, tmpB)
		a.jcc(ccE, c.stub(func() {
			if !mod {
				a.aluRR(aXor, false, d, d)
			} else if !w {
				a.movRR(false, d, d)
			}
			a.jmp(done)
		}))
		if signed {
			a.aluRI(aCmp, w, tmpB, -1)
			a.jcc(ccE, c.stub(func() {
				if mod {
					a.aluRR(aXor, false, d, d)
				} else {
					a.unary(uNeg, w, d)
				}
				a.jmp(done)
			}))
		}
	}
	a.movRR(w, tmpA, d)
	if d != rax {
		a.store(8, mb(ctxReg, offSpill), rax)
	}
	if d != rdx {
		a.store(8, mb(ctxReg, offSpill+8), rdx)
	}
	a.movRR(w, rax, tmpA)
	switch {
	case signed && w:
		a.cqo()
	case signed:
		a.cdq()
	default:
		a.aluRR(aXor, false, rdx, rdx)
	}
	if signed {
		a.unary(uIdiv, w, tmpB)
	} else {
		a.unary(uDiv, w, tmpB)
	}
	if mod {
		a.movRR(w, tmpA, rdx)
	} else {
		a.movRR(w, tmpA, rax)
	}
	if d != rax {
		a.load(8, rax, mb(ctxReg, offSpill))
	}
	if d != rdx {
		a.load(8, rdx, mb(ctxReg, offSpill+8))
	}
	a.movRR(true, d, tmpA)
	a.bind(done)
	return nil
}

// knownLookup reports whether the call at pc is map_lookup_elem on a map
// the JIT knows (r1 holds its handle on every path), and which.
func (c *jitCompiler) knownLookup(pc int) (int, bool) {
	h := c.p.helperSet.lookup(uint64(uint32(c.p.raw[pc].Imm)))
	f := c.facts[pc]
	if h == nil || h.name != "map_lookup_elem" || f == nil || f[1].kind != fConst {
		return 0, false
	}
	mi := uint64(f[1].v) - mapHandleBase
	if mi >= uint64(len(c.p.maps)) {
		return 0, false
	}
	return int(mi), true
}

// mapLookup: map_lookup_elem on the program's map mi. Arrays are looked up
// here: the key (4 bytes at r2, read with the usual checks) indexes the
// map's static region; other maps exit to Go with the map resolved.
func (c *jitCompiler) mapLookup(pc, mi int) error {
	a := &c.a
	m := c.p.maps[mi]
	if h, ok := m.impl.(*hashMap); ok {
		if done, err := c.hashLookup(pc, mi, h); done || err != nil {
			return err
		}
	}
	arr, ok := m.impl.(*arrayMap)
	if !ok || c.p.staticIdx[mi] < 0 {
		c.exitTo(exitLookup, uint64(mi), pc, c.lbl[pc+1])
		return nil
	}
	if err := c.access(pc, false, false, 4, 2, 0, func(m mem) { a.load(4, tmpA, m) }); err != nil {
		return err
	}
	miss, done := a.newLabel(), a.newLabel()
	a.aluRI(aCmp, false, tmpA, int32(arr.n))
	a.jcc(ccAE, miss)
	a.imulRRI(true, rax, tmpA, int32(arr.stride))
	a.movImm(tmpA, uint64(regionStatic+c.p.staticIdx[mi])<<32)
	a.aluRR(aOr, true, rax, tmpA)
	a.jmp(done)
	a.bind(miss)
	a.aluRR(aXor, false, rax, rax)
	a.bind(done)
	return nil
}

// callLocal: a bpf-to-bpf call, with the interpreter's depth limit,
// frame (r6..r9, r10) and budget.
func (c *jitCompiler) callLocal(pc int, in *insn) error {
	a := &c.a
	t := int(in.off)
	if t < 0 || t >= len(c.insns) {
		return fmt.Errorf("call target %d out of range", t)
	}
	a.load(8, tmpA, mb(ctxReg, offDepth))
	a.aluRI(aCmp, true, tmpA, MaxCallDepth-1)
	a.jcc(ccAE, c.exitStub(exitDepth, 0, pc, -1))
	cont := a.newLabel()
	a.aluRI(aSub, true, budReg, int32(in.back))
	a.jcc(ccL, c.exitStub(exitBudget, 0, pc, cont))
	a.bind(cont)
	a.load(8, tmpA, mb(ctxReg, offDepth))
	a.movRR(true, tmpB, tmpA)
	a.aluRI(aAdd, true, tmpA, 1)
	a.store(8, mb(ctxReg, offDepth), tmpA)
	a.shiftRI(sShl, true, tmpB, 6) // frame offset
	f := func(field int32) mem { return mbi(ctxReg, tmpB, 1, offFrames+field) }
	for i := 0; i < 4; i++ {
		a.store(8, f(frSaved+8*int32(i)), jitReg[6+i])
	}
	a.load(8, tmpA, regMem(10))
	a.store(8, f(frR10), tmpA)
	a.aluRI(aSub, true, tmpA, StackFrameSize)
	a.store(8, regMem(10), tmpA)
	a.load(8, tmpA, mb(ctxReg, offFP))
	a.store(8, f(frFP), tmpA)
	a.aluRI(aSub, true, tmpA, StackFrameSize)
	a.store(8, mb(ctxReg, offFP), tmpA)
	a.leaRIP(tmpA, c.lbl[pc+1])
	a.store(8, f(frRet), tmpA)
	a.jmp(c.lbl[t])
	return nil
}

// exit returns from a local call, or ends the run at depth 0.
func (c *jitCompiler) exit() {
	a := &c.a
	if !c.calls { // the final exit, as at lReturn
		a.aluRR(aXor, false, tmpB, tmpB)
		a.ret()
		return
	}
	a.load(8, tmpA, mb(ctxReg, offDepth))
	a.testRR(true, tmpA, tmpA)
	a.jcc(ccE, c.lReturn)
	a.aluRI(aSub, true, tmpA, 1)
	a.store(8, mb(ctxReg, offDepth), tmpA)
	a.shiftRI(sShl, true, tmpA, 6)
	f := func(field int32) mem { return mbi(ctxReg, tmpA, 1, offFrames+field) }
	for i := 0; i < 4; i++ {
		a.load(8, jitReg[6+i], f(frSaved+8*int32(i)))
	}
	a.load(8, tmpB, f(frR10))
	a.store(8, regMem(10), tmpB)
	a.load(8, tmpB, f(frFP))
	a.store(8, mb(ctxReg, offFP), tmpB)
	a.jmpM(f(frRet))
}

var ldxSize = map[uint8]int{opLdxB: 1, opLdxH: 2, opLdxW: 4, opLdxDW: 8, opLdxSB: 1, opLdxSH: 2, opLdxSW: 4,
	opStB: 1, opStH: 2, opStW: 4, opStDW: 8, opStxB: 1, opStxH: 2, opStxW: 4, opStxDW: 8}

func (c *jitCompiler) ldx(pc int, in *insn) error {
	d, err := c.reg(in.dst)
	if err != nil {
		return err
	}
	size := ldxSize[in.op]
	sx := in.op == opLdxSB || in.op == opLdxSH || in.op == opLdxSW
	return c.access(pc, false, false, size, in.src, in.off, func(m mem) {
		if sx {
			c.a.loadSX(size, d, m)
		} else {
			c.a.load(size, d, m)
		}
	})
}

func (c *jitCompiler) st(pc int, in *insn) error {
	size := ldxSize[in.op]
	if in.op >= opStxB {
		if in.src > 10 {
			return fmt.Errorf("invalid register r%d", in.src)
		}
		return c.access(pc, true, false, size, in.dst, in.off, func(m mem) {
			s, _ := c.val(in.src, tmpA)
			c.a.store(size, m, s)
		})
	}
	return c.access(pc, true, false, size, in.dst, in.off, func(m mem) {
		c.a.storeImm(size, m, int32(int64(in.imm)))
	})
}

func (c *jitCompiler) atomic(pc int, in *insn) error {
	a := &c.a
	size := 4
	if in.op == opAtomic64 {
		size = 8
	}
	w := size == 8
	if in.src > 10 {
		return fmt.Errorf("invalid register r%d", in.src)
	}
	op := in.imm
	fetch := op&atomicFETCH != 0
	if in.src == 10 && fetch && op != atomicCMPXCHG {
		return fmt.Errorf("atomic fetch into r10")
	}
	var do func(m mem)
	switch op &^ atomicFETCH {
	case atomicADD:
		do = func(m mem) {
			s, _ := c.val(in.src, tmpA)
			if fetch {
				a.lockXadd(size, m, s)
			} else {
				a.lockALU(aAdd, size, m, s)
			}
		}
	case atomicOR, atomicAND, atomicXOR:
		alu := map[uint64]aluOp{atomicOR: aOr, atomicAND: aAnd, atomicXOR: aXor}[op&^atomicFETCH]
		if !fetch {
			do = func(m mem) {
				s, _ := c.val(in.src, tmpA)
				a.lockALU(alu, size, m, s)
			}
			break
		}
		do = func(m mem) {
			s := jitReg[in.src]
			a.store(8, mb(ctxReg, offSpill+8), s)
			if s != rax {
				a.store(8, mb(ctxReg, offSpill), rax)
			}
			a.load(size, rax, m)
			loop := a.newLabel()
			a.bind(loop)
			a.movRR(w, tmpA, rax)
			a.aluRM(alu, w, tmpA, mb(ctxReg, offSpill+8))
			a.lockCmpxchg(size, m, tmpA)
			a.jcc(ccNE, loop)
			if s != rax {
				a.movRR(w, s, rax)
				a.load(8, rax, mb(ctxReg, offSpill))
			}
		}
	case atomicXCHG &^ atomicFETCH:
		do = func(m mem) { a.xchg(size, m, jitReg[in.src]) }
	case atomicCMPXCHG &^ atomicFETCH:
		do = func(m mem) {
			s, _ := c.val(in.src, tmpA)
			a.lockCmpxchg(size, m, s)
			if !w {
				a.movRR(false, rax, rax)
			}
		}
	default:
		return fmt.Errorf("unknown atomic op %#x", op)
	}
	return c.access(pc, true, true, size, in.dst, in.off, do)
}

// access emits a checked memory access of size bytes at base+off; do
// emits the access itself given the real address (it may use tmpA).
func (c *jitCompiler) access(pc int, write, atomic bool, size int, base uint8, off int32, do func(m mem)) error {
	a := &c.a
	if base > 10 {
		return fmt.Errorf("invalid register r%d", base)
	}
	stackOff, onStack := int64(off), base == 10
	if f := c.facts[pc]; f != nil && base < 10 && f[base].kind == fStack {
		stackOff, onStack = f[base].v+int64(off), true // r10 + a constant
	}
	// Below r10 and above the bottom of the run's stack span: r10 is
	// always the frame pointer the VM set (the code never writes it
	// otherwise), the span's top at depth 0 and StackFrameSize lower per
	// call, so the access is in the span iff r10 is at least the span's
	// virtual base plus -stackOff: known at compile time without calls,
	// one compare with them.
	if onStack && !atomic && stackOff+int64(size) <= 0 && stackOff >= -stackSize &&
		(c.calls || stackOff >= -int64(c.p.stackSpan)) {
		cont := a.newLabel()
		if c.calls { // r10 (all 64 bits: it may have borrowed) >= the lowest
			a.movImm(tmpB, regionStack<<32|uint64(-stackOff))
			a.aluMR(aCmp, true, regMem(10), tmpB)
			a.jcc(ccB, c.stub(func() {
				c.genericAccess(pc, write, atomic, size, base, off, do)
				a.jmp(cont)
			}))
		}
		a.load(8, tmpB, mb(ctxReg, offFP))
		do(mb(tmpB, int32(stackOff)))
		a.bind(cont)
		return nil
	}
	generic := func() { c.genericAccess(pc, write, atomic, size, base, off, do) }
	k, sized := map[int]int32{1: 0, 2: 1, 4: 2, 8: 3}[size]
	if base == 10 || atomic || (write && !c.p.pktWritable) || !sized {
		generic()
		return nil
	}
	if f := c.facts[pc]; f != nil && f[base].kind == fPkt {
		// a known packet offset (see jit_flow_amd64.go): in bounds iff
		// its last byte is below the packet's length (pktLim[0]), else
		// the generic path decides
		if o := f[base].v + int64(off); o >= 0 && o < 1<<31-8 {
			if o+int64(size) <= f[pktMinSlot].v {
				// an earlier access or length check on every path
				// proved the packet that long
				do(c.pktAt(base, off, o))
				return nil
			}
			c.need.pktSizes |= 1
			a.aluMI(aCmp, true, mb(ctxReg, offPktLim), int32(o)+int32(size)-1)
			cont := a.newLabel()
			a.jcc(ccBE, c.stub(func() {
				generic()
				a.jmp(cont)
			}))
			do(c.pktAt(base, off, o))
			a.bind(cont)
			return nil
		}
	}
	if f := c.facts[pc]; f != nil && c.vbReg && f[base].kind == fPktR {
		// a packet offset in a known range (jit_flow_amd64.go): no
		// check when every offset of the range is in the part of the
		// packet the facts proved there
		lo, hi := f[base].v+int64(off), f[base].hi+int64(off)
		if lo >= 0 && (hi+int64(size) <= f[pktMinSlot].v || f[base].rel && int64(off)+int64(size) <= f[base].slack) {
			do(c.pktAt(base, off, 0))
			return nil
		}
	}
	// the packet, else the generic path out of line
	c.need.pktSizes |= 1 << k
	if c.vbReg { // rcx = -pktVBase
		a.lea(tmpB, mbi(jitReg[base], vbReg, 1, off))
	} else {
		c.addr(tmpB, base, off)
		a.aluRM(aSub, true, tmpB, mb(ctxReg, offPktVBase))
	}
	c.need.vbUsed = true
	a.aluRM(aCmp, true, tmpB, mb(ctxReg, offPktLim+8*k))
	cont := a.newLabel()
	a.jcc(ccAE, c.stub(func() {
		generic()
		a.jmp(cont)
	}))
	if c.vbReg {
		do(c.pktAt(base, off, 0))
	} else {
		do(mbi(pktReg, tmpB, 1, 0))
	}
	a.bind(cont)
	return nil
}

// pktAt: the real address of a packet access through BPF register base
// plus off, at packet offset o when the register's offset is known. With
// vbReg, rbp is the packet's first byte minus its virtual base, so the
// register indexes it directly; otherwise rbp is the packet's first byte
// (o must be known).
func (c *jitCompiler) pktAt(base uint8, off int32, o int64) mem {
	if c.vbReg {
		c.need.vbUsed = true
		return mbi(pktReg, jitReg[base], 1, off)
	}
	return mb(pktReg, int32(o))
}

// genericAccess: the access through the Thread's region tables.
func (c *jitCompiler) genericAccess(pc int, write, atomic bool, size int, base uint8, off int32, do func(m mem)) {
	a := &c.a
	c.addr(tmpB, base, off)
	c.translate(pc, write, size)
	if atomic {
		a.lea(tmpB, mb(tmpB, -int32(size)))
		a.testRI(false, tmpB, int32(size-1))
		a.jcc(ccNE, c.exitStub(exitMemFault, 0, pc, -1))
		do(mb(tmpB, 0))
		return
	}
	do(mb(tmpB, -int32(size)))
}

// addr: dst = BPF register base + off (64-bit).
func (c *jitCompiler) addr(dst xreg, base uint8, off int32) {
	if base == 10 {
		c.a.load(8, dst, regMem(10))
		if off != 0 {
			c.a.aluRI(aAdd, true, dst, off)
		}
		return
	}
	c.a.lea(dst, mb(jitReg[base], off))
}

// translate turns the virtual address in tmpB into the real address of
// its last byte plus one (tmpB), or exits with a fault: the region must
// be mapped in the read (or write) table and hold offset+size bytes.
func (c *jitCompiler) translate(pc int, write bool, size int) {
	a := &c.a
	fault := c.exitStub(exitMemFault, 0, pc, -1)
	tab := offRd
	if write {
		tab = offWr
	}
	a.movRR(true, tmpA, tmpB)
	a.shiftRI(sShr, true, tmpA, 32)
	a.aluRI(aCmp, true, tmpA, numRegions)
	a.jcc(ccAE, fault)
	a.lea(tmpA, mbi(tmpA, tmpA, 2, 0)) // *3: a slice header is 3 words
	a.movRR(false, tmpB, tmpB)         // offset
	a.aluRI(aAdd, true, tmpB, int32(size))
	a.aluRM(aCmp, true, tmpB, mbi(ctxReg, tmpA, 8, tab+8)) // len
	a.jcc(ccA, fault)
	a.aluRM(aAdd, true, tmpB, mbi(ctxReg, tmpA, 8, tab)) // base
}

// ldabs: the legacy packet loads (network byte order); out of bounds ends
// the program with r0 = 0.
func (c *jitCompiler) ldabs(in *insn) error {
	a := &c.a
	n := 1 << ((in.op - opLdAbsB) % 3)
	if in.op >= opLdIndB {
		s, err := c.val(in.src, tmpB)
		if err != nil {
			return err
		}
		a.lea(tmpB, mb(s, int32(int64(in.imm))))
	} else {
		a.movImm(tmpB, in.imm)
	}
	out := c.stub(func() {
		a.aluRR(aXor, false, rax, rax)
		a.jmp(c.lReturn)
	})
	a.movRR(true, tmpA, tmpB)
	a.aluRI(aAdd, true, tmpA, int32(n))
	a.jcc(ccB, out) // carry: wrapped
	a.aluRM(aCmp, true, tmpA, mb(ctxReg, offPktLen))
	c.need.pktLen = true
	a.jcc(ccA, out)
	if c.vbReg { // rbp = the packet minus its virtual base (pktAt)
		c.need.vbUsed = true
		a.aluRR(aSub, true, tmpB, vbReg)
	}
	m := mbi(pktReg, tmpB, 1, 0)
	switch n {
	case 1:
		a.load(1, rax, m)
	case 2:
		a.load(2, rax, m)
		a.bswap(false, rax)
		a.shiftRI(sShr, false, rax, 16)
	default:
		a.load(4, rax, m)
		a.bswap(false, rax)
	}
	return nil
}

// mapCode copies code into a fresh mapping and makes it executable.
func mapCode(code []byte, entry, resume int) (*jitCode, error) {
	page := syscall.Getpagesize()
	size := (len(code) + page - 1) &^ (page - 1)
	m, err := syscall.Mmap(-1, 0, size, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_PRIVATE|syscall.MAP_ANON)
	if err != nil {
		return nil, fmt.Errorf("mmap code: %w", err)
	}
	copy(m, code)
	if err := syscall.Mprotect(m, syscall.PROT_READ|syscall.PROT_EXEC); err != nil {
		syscall.Munmap(m)
		return nil, fmt.Errorf("mprotect code: %w", err)
	}
	base := uintptr(unsafe.Pointer(unsafe.SliceData(m)))
	jc := &jitCode{mem: m, entry: base + uintptr(entry), resume: base + uintptr(resume), size: len(code)}
	runtime.AddCleanup(jc, func(m []byte) { syscall.Munmap(m) }, m)
	return jc, nil
}
