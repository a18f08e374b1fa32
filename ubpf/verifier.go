package ubpf

// The verifier
//
// Every program is verified before it can run. Verification is in two
// passes, modelled on Linux's:
//
//  1. Structure (checkStructure): every opcode is known and well formed,
//     registers are r0..r10 and r10 is never written, LDDW has its second
//     slot, jumps land on instruction starts inside their own function,
//     local calls target function starts, no function falls off its end,
//     and (except in KindRaw) every instruction is reachable.
//
//  2. Abstract interpretation (run): a depth-first walk over every path of
//     the program, keeping for each register (and each 8-byte stack slot
//     a register was spilled to) its type — scalar, or pointer to stack,
//     context, packet, packet end, map value (or null), ring buffer record
//     (or null), map — and for scalars their unsigned and signed bounds.
//     Every memory access is checked against its pointer's region (stack:
//     within the frame's 512 bytes and initialised for reads; map values:
//     within the value; packet: within the range proven by comparisons;
//     context: only the fields of struct xdp_md), every helper call against
//     the helper's prototype, and unreleased ring buffer reservations at
//     exit. Comparisons narrow bounds on each branch and prune branches
//     that cannot be taken, which is how loops end: a back-edge is only
//     followed while its condition can still hold.
//
// Packet bounds. For XDP programs, as in Linux: comparing a packet pointer
// p = data + x + c with data_end proves that the c bytes after data + x
// (for every pointer sharing x) are in the packet. For Oko filters r2 is
// the packet length, tracked as a scalar linked to the packet: comparing a
// scalar s = x + c (or a constant c) with the length proves the same fact
// about data + x, so `if (off + 4 > len) return 0; v = *(u32 *)(pkt + off)`
// verifies; data + len is also a packet-end pointer, so XDP-style
// comparisons work too. Signed and 32-bit comparisons prove the same facts
// when the operands' bounds show that the signed or 32-bit view of each is
// its value (lenFact, ptrBranch). Adding a negative constant to the length keeps the
// link only when the length is known to be large enough not to wrap.
//
// Pruning. At jump targets the current state is compared with the states
// already explored there. If an explored, fully verified state is at
// least as general (every register that is live at that instruction
// covers the current one, stack slots likewise, ids map consistently,
// packet ranges are at most the current ones), the current path is safe
// and is cut. If the covering state is still being explored, the path has
// come back to an equivalent state inside its own loop: the loop could run
// forever, and the program is rejected. Otherwise the state is recorded.
// At most 1,000,000 instructions are processed in total.
//
// KindRaw (the bpf_conformance mode) runs the same analysis with one
// relaxation: r1 points to memory of unknown size and any scalar may be
// dereferenced; those accesses are checked at run time only. Structure,
// uninitialised registers and stack, jumps, calls and helpers are still
// checked, and unreachable code is allowed.
//
// The interpreter re-checks every memory access at run time regardless,
// so a verifier bug can stop a run but not corrupt memory.

import (
	"fmt"
	"math"
	"strings"
	"time"
)

// MaxVerifierInsns is the number of instructions the verifier processes
// at most over all paths, as in Linux.
const MaxVerifierInsns = 1_000_000

// A recorded state that keeps failing to cover the states that reach its
// instruction is dropped after evictAfter misses (plus evictAfter per hit),
// so that loops whose states all differ (a counter) keep the comparison
// cost per visit small. Dropping a state never affects soundness: states
// are only used to cut paths already proven safe.
const evictAfter = 16

// VerifierError is a rejected program: the instruction and the reason,
// like the last lines of the kernel's verifier log.
type VerifierError struct {
	PC     int
	Insn   string
	Reason string
	// Source is the C line of the instruction, when the object was built
	// with -g.
	Source *SourceLine
	// Trace is the path that led to the failure: its last instructions,
	// each with the register it set, like the kernel's log level 2.
	Trace string
}

func (e *VerifierError) Error() string {
	if e.PC < 0 {
		return "verifier: " + e.Reason
	}
	s := fmt.Sprintf("verifier: insn %d: %s: %s", e.PC, e.Insn, e.Reason)
	if e.Source != nil {
		s += fmt.Sprintf(" (at %s)", e.Source)
	}
	return s
}

// VerifierStats reports the work of a successful verification.
type VerifierStats struct {
	Processed  int // instructions processed over all paths
	States     int // states recorded at prune points
	Pruned     int // paths cut by pruning
	MaxStates  int // most states recorded at one instruction
	PeakStates int // deepest pending-branch stack
	Duration   time.Duration
}

type checkpoint struct {
	st       *vstate
	parent   *checkpoint
	branches int // paths below this state still being explored
	hits     int
	misses   int
}

type pending struct {
	st     *vstate
	pc     int
	parent *checkpoint
	from   int // the branch that pushed it
}

// A path records its state at a prune point only when it has gone
// through at least minInsnsBetweenStates instructions and
// minJumpsBetweenStates jumps since it last did (as Linux does): every
// state is still compared, but short stretches need not each leave a
// copy, which is most of the verifier's memory and time on long loops.
const (
	minInsnsBetweenStates = 8
	minJumpsBetweenStates = 2
)

type verifier struct {
	p       *Program
	insns   []RawInsn
	n       int
	kind    Kind
	raw     bool
	helpers helperTable

	funcStart []bool
	funcOf    []int
	prune     []bool
	live      []uint16 // registers live at entry of each insn
	// needed: registers whose scalar value may matter for safety on some
	// path from the insn (see precision)
	needed []uint16

	explored map[int][]*checkpoint
	visits   map[int]int // states recorded per prune point, for messages
	stack    []pending
	nextID   uint32
	stats    VerifierStats

	ctxAnn  []uint8
	ctxSeen []uint8 // 1: ctx pointer, 2: other, per LDX insn

	pc        int
	st        *vstate
	allocSize int64

	trace    [traceLen]traceEntry // the current path's last instructions
	traceN   int
	pathFrom int // the branch the current path was pushed at (-1: the start)

	exact bool // covers compares numbers no check depends on too (sameState)

	callbacks []int // first insns of functions whose address is taken (lddw src 4)

	// stackLow is, per frame depth, the lowest stack offset (from that
	// frame's r10) any access reaches; 0 if none.
	stackLow [MaxCallDepth]int64
}

// noteStack records an access of bytes [lo, ...) of the frame at depth.
func (v *verifier) noteStack(depth uint8, lo int64) {
	if int(depth) < len(v.stackLow) && lo < v.stackLow[depth] {
		v.stackLow[depth] = lo
	}
}

// stackSpan is the Program's stackSpan: the bytes below the main frame's
// r10 that runs may address. Raw programs (the conformance suite, whose
// accesses through scalars are only checked at run time) get all of it.
func (v *verifier) stackSpan() int {
	if v.raw {
		return stackSize
	}
	var span int64
	for d, lo := range v.stackLow {
		if lo < 0 {
			span = max(span, int64(d)*StackFrameSize-lo)
		}
	}
	return int(span+7) &^ 7
}

const lenID = 1 // the id of the Oko filter's packet length

func (v *verifier) newID() uint32 {
	v.nextID++
	return v.nextID
}

func (v *verifier) fail(format string, args ...any) error {
	return &VerifierError{PC: v.pc, Insn: Disasm(v.insns, v.pc), Reason: fmt.Sprintf(format, args...), Trace: v.formatTrace()}
}

// traceLen is how many instructions of the failing path Trace shows.
const traceLen = 16

// traceEntry is one instruction of the current path and the register it
// set (dst < 0: none).
type traceEntry struct {
	pc       int
	dst, src int8 // registers to show, -1: none
	val, sv  reg
}

// record notes the instruction just interpreted on the current path.
func (v *verifier) record(st *vstate, pc int) {
	in := v.insns[pc]
	e := traceEntry{pc: pc, dst: -1, src: -1}
	switch in.class() {
	case classALU, classALU64, classLDX, classLD:
		e.dst = int8(in.Dst)
	case classJMP, classJMP32:
		switch in.Op & 0xf0 {
		case jmpCALL:
			e.dst = 0
		case jmpJA, jmpEXIT:
		default: // the operands as narrowed on the path taken
			e.dst = int8(in.Dst)
			if in.Op&srcX != 0 && in.Src != in.Dst {
				e.src = int8(in.Src)
			}
		}
	}
	if len(st.frames) > 0 {
		if e.dst >= 0 {
			e.val = st.cur().regs[e.dst]
		}
		if e.src >= 0 {
			e.sv = st.cur().regs[e.src]
		}
	}
	v.trace[v.traceN%traceLen] = e
	v.traceN++
}

// formatTrace shows the path that reached the current instruction: where
// it branched off, its last instructions with what each computed, and
// the registers the current instruction reads.
func (v *verifier) formatTrace() string {
	if v.insns == nil || v.st == nil {
		return ""
	}
	var b strings.Builder
	n := min(v.traceN, traceLen)
	if v.pathFrom >= 0 {
		fmt.Fprintf(&b, "path from the branch at insn %d:\n", v.pathFrom)
	}
	if v.traceN > traceLen {
		fmt.Fprintf(&b, "  ... %d earlier insns\n", v.traceN-traceLen)
	}
	for i := v.traceN - n; i < v.traceN; i++ {
		e := v.trace[i%traceLen]
		fmt.Fprintf(&b, "  %4d: %s", e.pc, Disasm(v.insns, e.pc))
		if e.dst >= 0 {
			fmt.Fprintf(&b, "    ; R%d=%s", e.dst, e.val)
		}
		if e.src >= 0 {
			fmt.Fprintf(&b, " R%d=%s", e.src, e.sv)
		}
		b.WriteByte('\n')
	}
	in := v.insns[v.pc]
	fmt.Fprintf(&b, "  %4d: %s", v.pc, Disasm(v.insns, v.pc))
	if len(v.st.frames) > 0 {
		f := v.st.cur()
		sep := "    ; "
		show := []uint8{in.Dst, in.Src}
		if in.class() == classJMP && in.Op&0xf0 == jmpCALL {
			show = nil // a call reads its arguments
			for r := uint8(1); r <= 5; r++ {
				if f.regs[r].t != tNotInit {
					show = append(show, r)
				}
			}
		}
		for i, r := range show {
			if in.Src == in.Dst && i == 1 && len(show) == 2 {
				break
			}
			if r <= 10 {
				fmt.Fprintf(&b, "%sR%d=%s", sep, r, f.regs[r])
				sep = " "
			}
		}
	}
	b.WriteByte('\n')
	return b.String()
}

// verify checks p.raw and returns the LDDW constants and context rewrites.
func (p *Program) verify() (map[int]uint64, []uint8, error) {
	v := &verifier{p: p, insns: p.raw, n: len(p.raw), kind: p.kind, raw: p.kind == KindRaw,
		helpers: p.helperSet, explored: map[int][]*checkpoint{}, visits: map[int]int{}, nextID: lenID}
	v.ctxAnn = make([]uint8, v.n)
	v.ctxSeen = make([]uint8, v.n)
	ld, err := v.checkStructure()
	if err != nil {
		return nil, nil, err
	}
	start := time.Now()
	uses := v.regUses()
	v.liveness(uses)
	v.precision(uses)
	if err := v.run(); err != nil {
		return nil, nil, err
	}
	v.stats.Duration = time.Since(start)
	p.vstats = v.stats
	p.stackSpan = v.stackSpan()
	p.callbacks = v.callbacks
	return ld, v.ctxAnn, nil
}

func (v *verifier) errAt(pc int, format string, args ...any) error {
	v.pc = pc
	return v.fail(format, args...)
}

// checkStructure is pass 1.
func (v *verifier) checkStructure() (map[int]uint64, error) {
	n := v.n
	if n == 0 {
		return nil, &VerifierError{PC: -1, Reason: "empty program"}
	}
	if n > 1<<20 {
		return nil, &VerifierError{PC: -1, Reason: fmt.Sprintf("program too large (%d insns)", n)}
	}
	second := make([]bool, n) // second slots of LDDW
	ld := map[int]uint64{}
	v.funcStart = make([]bool, n)
	v.funcStart[0] = true
	for pc := 0; pc < n; pc++ {
		in := v.insns[pc]
		if err := v.checkInsn(pc, in); err != nil {
			return nil, err
		}
		if in.isLDDW() {
			if pc+1 >= n {
				return nil, v.errAt(pc, "incomplete lddw")
			}
			nx := v.insns[pc+1]
			if nx.Op != 0 || nx.Dst != 0 || nx.Src != 0 || nx.Off != 0 {
				return nil, v.errAt(pc, "invalid second half of lddw")
			}
			second[pc+1] = true
			val, err := v.ldImm(pc, in, nx)
			if err != nil {
				return nil, err
			}
			ld[pc] = val
			if in.Src == PseudoCodeAddr {
				v.funcStart[val] = true
				v.callbacks = append(v.callbacks, int(val))
			}
			pc++
			continue
		}
		if in.class() == classJMP && in.Op&0xf0 == jmpCALL && in.Src == callLocal && in.Op&srcX == 0 {
			t := pc + 1 + int(in.Imm)
			if t < 0 || t >= n {
				return nil, v.errAt(pc, "call to out-of-range target %d", t)
			}
			v.funcStart[t] = true
		}
	}
	// function membership
	v.funcOf = make([]int, n)
	f := -1
	for pc := 0; pc < n; pc++ {
		if v.funcStart[pc] {
			if second[pc] {
				return nil, v.errAt(pc-1, "call into the middle of lddw")
			}
			f = pc
			if pc > 0 && !second[pc-1] {
				last := v.insns[pc-1]
				if !isTerminator(last) {
					return nil, v.errAt(pc-1, "function falls through into the next one")
				}
			}
		}
		v.funcOf[pc] = f
	}
	if !isTerminator(v.insns[n-1]) || second[n-1] && !isTerminator(v.insns[n-2]) {
		last := n - 1
		if second[last] {
			last--
		}
		return nil, v.errAt(last, "last instruction is not exit or jump: program falls off its end")
	}
	// jump targets
	v.prune = make([]bool, n)
	reach := make([]bool, n)
	for pc := 0; pc < n; pc++ {
		if second[pc] {
			continue
		}
		in := v.insns[pc]
		cls := in.class()
		if cls != classJMP && cls != classJMP32 {
			continue
		}
		code := in.Op & 0xf0
		if code == jmpEXIT || code == jmpCALL {
			if code == jmpCALL && in.Src == callLocal && in.Op&srcX == 0 {
				v.prune[pc+1+int(in.Imm)] = true
				if pc+1 < n {
					v.prune[pc+1] = true
				}
			}
			continue
		}
		off := int(in.Off)
		if cls == classJMP32 && code == jmpJA {
			off = int(in.Imm)
		}
		t := pc + 1 + off
		if t < 0 || t >= n {
			return nil, v.errAt(pc, "jump out of range to %d", t)
		}
		if second[t] {
			return nil, v.errAt(pc, "jump into the middle of lddw at %d", t)
		}
		if v.funcOf[t] != v.funcOf[pc] {
			return nil, v.errAt(pc, "jump out of function to %d", t)
		}
		v.prune[t] = true
		if code != jmpJA && pc+1 < n {
			v.prune[pc+1] = true
		}
	}
	for _, t := range v.callbacks {
		v.prune[t] = true
	}
	// reachability from every function start that is itself reachable
	var walk func(int)
	work := []int{0}
	reach[0] = true
	walk = func(pc int) {
		if pc >= 0 && pc < n && !reach[pc] {
			reach[pc] = true
			work = append(work, pc)
		}
	}
	for len(work) > 0 {
		pc := work[len(work)-1]
		work = work[:len(work)-1]
		for _, s := range v.succs(pc) {
			walk(s)
		}
		in := v.insns[pc]
		if in.class() == classJMP && in.Op == classJMP|jmpCALL && in.Src == callLocal {
			walk(pc + 1 + int(in.Imm))
		}
		if in.isLDDW() && in.Src == PseudoCodeAddr {
			walk(pc + 1 + int(in.Imm))
		}
	}
	if !v.raw {
		for pc := 0; pc < n; pc++ {
			if !reach[pc] && !second[pc] {
				return nil, v.errAt(pc, "unreachable insn")
			}
		}
	}
	return ld, nil
}

func isTerminator(in RawInsn) bool {
	cls := in.class()
	if cls != classJMP && cls != classJMP32 {
		return false
	}
	code := in.Op & 0xf0
	return code == jmpEXIT && cls == classJMP || code == jmpJA
}

// succs returns the intra-function successors of pc.
func (v *verifier) succs(pc int) []int {
	in := v.insns[pc]
	if in.isLDDW() {
		return []int{pc + 2}
	}
	cls := in.class()
	if cls != classJMP && cls != classJMP32 {
		return []int{pc + 1}
	}
	switch in.Op & 0xf0 {
	case jmpEXIT:
		return nil
	case jmpCALL:
		return []int{pc + 1}
	case jmpJA:
		if cls == classJMP32 {
			return []int{pc + 1 + int(in.Imm)}
		}
		return []int{pc + 1 + int(in.Off)}
	}
	return []int{pc + 1, pc + 1 + int(in.Off)}
}

func (v *verifier) checkInsn(pc int, in RawInsn) error {
	bad := func(why string) error { return v.errAt(pc, "invalid instruction: %s", why) }
	if in.Dst > 10 {
		return v.errAt(pc, "R%d is invalid", in.Dst)
	}
	cls := in.class()
	code := in.Op & 0xf0
	usesSrc := false
	switch cls {
	case classALU, classALU64:
		if code > aluEND {
			return bad(fmt.Sprintf("unknown alu op %#02x", in.Op))
		}
		if code == aluEND {
			if in.Imm != 16 && in.Imm != 32 && in.Imm != 64 {
				return bad("byte swap width must be 16, 32 or 64")
			}
			if cls == classALU64 && in.Op&srcX != 0 {
				return bad("bswap with source bit set")
			}
		} else if in.Op&srcX != 0 {
			usesSrc = true
		}
		if code == aluNEG && in.Op&srcX != 0 {
			return bad("neg with source register")
		}
		switch {
		case code == aluDIV || code == aluMOD:
			if in.Off != 0 && in.Off != 1 {
				return bad("div/mod offset must be 0 or 1")
			}
		case code == aluMOV && in.Off != 0:
			if in.Op&srcX == 0 || !(in.Off == 8 || in.Off == 16 || (in.Off == 32 && cls == classALU64)) {
				return bad("movsx needs a source register and offset 8, 16 or 32 (64-bit only)")
			}
		case in.Off != 0 && !v.raw:
			return bad("nonzero offset on alu op")
		}
		if in.Dst == 10 {
			return v.errAt(pc, "frame pointer is read only")
		}
	case classJMP, classJMP32:
		switch code {
		case jmpCALL:
			if cls == classJMP32 {
				return bad("call in jmp32 class")
			}
			if in.Op&srcX != 0 {
				if !v.raw {
					return bad("callx is only supported in raw mode")
				}
				return nil
			}
			switch in.Src {
			case callHelper:
				if v.helpers.lookup(uint64(uint32(in.Imm))) == nil {
					return v.errAt(pc, "invalid func unknown#%d", in.Imm)
				}
			case callLocal:
			case callKfunc:
				return v.errAt(pc, "calling kernel functions (kfunc %d) is not supported", in.Imm)
			default:
				return bad("unknown call kind")
			}
			return nil
		case jmpEXIT:
			if cls == classJMP32 || in.Op&srcX != 0 {
				return bad("exit must be BPF_JMP|BPF_EXIT")
			}
			return nil
		case jmpJA:
			if in.Op&srcX != 0 {
				return bad("ja with source bit")
			}
			return nil
		case 0xe0, 0xf0:
			return bad(fmt.Sprintf("unknown jump op %#02x", in.Op))
		}
		if in.Op&srcX != 0 {
			usesSrc = true
		}
	case classLDX:
		mode := in.Op & 0xe0
		if mode != modeMEM && !(mode == modeMEMSX && sizeBytes(in.Op) != 8) {
			return bad(fmt.Sprintf("unknown ldx mode %#02x", in.Op))
		}
		if in.Dst == 10 {
			return v.errAt(pc, "frame pointer is read only")
		}
		usesSrc = true
	case classST:
		if in.Op&0xe0 != modeMEM {
			return bad(fmt.Sprintf("unknown st mode %#02x", in.Op))
		}
	case classSTX:
		mode := in.Op & 0xe0
		switch mode {
		case modeMEM:
		case modeATOMIC:
			if sz := sizeBytes(in.Op); sz != 4 && sz != 8 {
				return bad("atomic operations must be 32 or 64 bit")
			}
			switch in.Imm {
			case atomicADD, atomicOR, atomicAND, atomicXOR,
				atomicADD | atomicFETCH, atomicOR | atomicFETCH, atomicAND | atomicFETCH, atomicXOR | atomicFETCH,
				atomicXCHG, atomicCMPXCHG:
			default:
				return bad(fmt.Sprintf("unknown atomic op %#x", in.Imm))
			}
			if in.Imm&atomicFETCH != 0 && in.Imm != atomicCMPXCHG && in.Src == 10 {
				return v.errAt(pc, "frame pointer is read only") // the old value goes to src
			}
		default:
			return bad(fmt.Sprintf("unknown stx mode %#02x", in.Op))
		}
		usesSrc = true
	case classLD:
		mode := in.Op & 0xe0
		switch {
		case in.isLDDW():
			if in.Dst == 10 {
				return v.errAt(pc, "frame pointer is read only")
			}
		case (mode == modeABS || mode == modeIND) && sizeBytes(in.Op) != 8:
			if mode == modeIND {
				usesSrc = true
			}
		default:
			return bad(fmt.Sprintf("unknown ld opcode %#02x", in.Op))
		}
	}
	if usesSrc && in.Src > 10 {
		return v.errAt(pc, "R%d is invalid", in.Src)
	}
	return nil
}

// ldImm resolves an LDDW to the 64-bit value the interpreter loads.
func (v *verifier) ldImm(pc int, in, nx RawInsn) (uint64, error) {
	lo, hi := uint64(uint32(in.Imm)), uint64(uint32(nx.Imm))
	switch in.Src {
	case PseudoImm64:
		return lo | hi<<32, nil
	case PseudoMapFD, PseudoMapIdx:
		if int(in.Imm) < 0 || int(in.Imm) >= len(v.p.maps) {
			return 0, v.errAt(pc, "map %d does not exist (program has %d maps)", in.Imm, len(v.p.maps))
		}
		return mapHandleBase + uint64(in.Imm), nil
	case PseudoMapValue, PseudoMapIdxValue:
		if int(in.Imm) < 0 || int(in.Imm) >= len(v.p.maps) {
			return 0, v.errAt(pc, "map %d does not exist (program has %d maps)", in.Imm, len(v.p.maps))
		}
		si := v.p.staticIdx[in.Imm]
		m := v.p.maps[in.Imm]
		if si < 0 || !m.isArray() {
			return 0, v.errAt(pc, "direct value access to map %s of type %s is not supported", m.spec.Name, m.spec.Type)
		}
		if uint64(nx.Imm) >= uint64(m.spec.ValueSize) {
			return 0, v.errAt(pc, "direct value offset %d outside value of map %s (size %d)", nx.Imm, m.spec.Name, m.spec.ValueSize)
		}
		return uint64(regionStatic+si)<<32 | hi, nil
	case PseudoVarAddr:
		return 0, v.errAt(pc, "platform variables (lddw src 3) are not supported")
	case PseudoCodeAddr:
		// a static function's address, for bpf_loop's callback
		t := pc + 1 + int(in.Imm)
		if t < 0 || t >= v.n || nx.Imm != 0 {
			return 0, v.errAt(pc, "code address of out-of-range insn %d", t)
		}
		return uint64(t), nil
	}
	return 0, v.errAt(pc, "invalid lddw pseudo source %d", in.Src)
}

// regUse is what one instruction reads and writes, for the two backward
// analyses below.
type regUse struct {
	use, def uint16
	// ALU: the registers whose values make the result (dst unless MOV,
	// and src when it is a register)
	from     uint16
	alu      bool
	condJump bool // use is the operands
	exit     bool
}

func (v *verifier) regUses() []regUse {
	out := make([]regUse, v.n)
	for pc := range out {
		in := v.insns[pc]
		d, s := uint16(1)<<in.Dst, uint16(1)<<in.Src
		u := &out[pc]
		switch in.class() {
		case classALU, classALU64:
			code := in.Op & 0xf0
			u.alu, u.def = true, d
			if code != aluMOV {
				u.from |= d
			}
			if in.Op&srcX != 0 && code != aluEND && code != aluNEG {
				u.from |= s
			}
			u.use = u.from
		case classJMP, classJMP32:
			switch in.Op & 0xf0 {
			case jmpEXIT:
				u.use, u.exit = 1, true
			case jmpCALL:
				u.use, u.def = 0x3e, 0x3f // r1..r5 in, r0..r5 clobbered
				if in.Op&srcX != 0 {
					u.use |= d
				}
			case jmpJA:
			default:
				u.use, u.condJump = d, true
				if in.Op&srcX != 0 {
					u.use |= s
				}
			}
		case classLDX:
			u.use, u.def = s, d
		case classST:
			u.use = d
		case classSTX:
			u.use = d | s
			if in.Op&0xe0 == modeATOMIC {
				if in.Imm == atomicCMPXCHG {
					u.use |= 1
					u.def = 1
				} else if in.Imm&atomicFETCH != 0 {
					u.def = s
				}
			}
		case classLD:
			if in.isLDDW() {
				u.def = d
			} else {
				u.use, u.def = 0x40, 0x3f // r6, the implicit context in Linux
				if in.Op&0xe0 == modeIND {
					u.use |= s
				}
			}
		}
	}
	return out
}

// backward solves a backward dataflow problem over the instructions:
// at[pc] = transfer(pc, union of at[s] over pc's successors).
func (v *verifier) backward(transfer func(pc int, out uint16) uint16) []uint16 {
	at := make([]uint16, v.n)
	for changed := true; changed; {
		changed = false
		for pc := v.n - 1; pc >= 0; pc-- {
			var out uint16
			for _, s := range v.succs(pc) {
				if s < v.n {
					out |= at[s]
				}
			}
			if in := transfer(pc, out); in != at[pc] {
				at[pc] = in
				changed = true
			}
		}
	}
	return at
}

// liveness computes, per instruction, the registers live at its entry.
func (v *verifier) liveness(uses []regUse) {
	v.live = v.backward(func(pc int, out uint16) uint16 {
		u := uses[pc]
		return u.use | out&^u.def | 1<<10
	})
}

// precision computes, per instruction, the registers whose values (not
// only their types) may decide a check on some path from it: addresses of
// memory accesses, operands of conditional jumps with a check ahead (they
// decide which paths exist), arguments of calls, values stored to memory
// (they may be loaded back into any of these), the return value of
// subprograms, and whatever flows into those. A number that is only
// carried around, counted and returned as a verdict is not needed: two
// states that differ only in such numbers are equally safe, which is what
// lets a loop that counts matches verify in time linear in its iterations
// (Linux reaches the same through its precision marks).
func (v *verifier) precision(uses []regUse) {
	sinkAfter := v.sinksAhead()
	v.needed = v.backward(func(pc int, out uint16) uint16 {
		u := uses[pc]
		switch {
		case u.alu:
			in := out &^ u.def
			if out&u.def != 0 {
				in |= u.from
			}
			return in
		case u.condJump:
			if sinkAfter[pc] {
				return out | u.use
			}
			return out
		case u.exit:
			if v.funcOf[pc] != 0 {
				return 1 // returned to a caller that may use it anywhere
			}
			return 0 // the verdict: any number will do
		}
		return u.use | out&^u.def
	})
}

// sinksAhead reports, per instruction, whether a path from it (within
// its function) reaches an instruction that may reject, or whose checks
// may depend on the value of a number: a memory access, a call, a
// subprogram's return, a back edge (a loop, whose termination is
// checked), and any instruction that touches a register not known to
// hold a number (pointer arithmetic and comparisons, reading an
// uninitialised register, returning a pointer). A branch with none of
// these ahead on either side leads only to number crunching that cannot
// fail and to exits with a number, so which side is taken cannot
// matter: a state that never explored one side (its operands decided
// it) still covers one that would.
//
// The type-dependent sinks matter as much as the value-dependent ones: a
// branch whose untaken side returns a pointer was once left imprecise,
// so a state that had decided the branch covered one that had not, and
// the verifier accepted a program returning a packet pointer (found by
// FuzzSoundness, kept in testdata/fuzz/FuzzSoundness).
func (v *verifier) sinksAhead() []bool {
	n := v.n
	num := v.numberRegs()
	sink := make([]bool, n)
	for pc := 0; pc < n; pc++ {
		in := v.insns[pc]
		d, s := uint16(1)<<in.Dst, uint16(1)<<in.Src
		isNum := func(regs uint16) bool { return num[pc]&regs == regs }
		switch in.class() {
		case classLDX, classST, classSTX:
			sink[pc] = true
		case classLD:
			sink[pc] = !in.isLDDW()
		case classALU, classALU64:
			code := in.Op & 0xf0
			switch {
			case code == aluMOV && in.Op&srcX == 0:
			case code == aluMOV:
				sink[pc] = !isNum(s)
			case in.Op&srcX != 0 && code != aluEND && code != aluNEG:
				sink[pc] = !isNum(d | s)
			default:
				sink[pc] = !isNum(d)
			}
		case classJMP, classJMP32:
			switch in.Op & 0xf0 {
			case jmpCALL:
				sink[pc] = true
			case jmpEXIT:
				sink[pc] = v.funcOf[pc] != 0 || !isNum(1)
			case jmpJA:
			default:
				if in.Op&srcX != 0 {
					d |= s
				}
				sink[pc] = !isNum(d)
			}
		}
		for _, t := range v.succs(pc) {
			if t <= pc {
				sink[pc] = true
			}
		}
	}
	ahead := make([]bool, n)
	for changed := true; changed; {
		changed = false
		for pc := n - 1; pc >= 0; pc-- {
			if ahead[pc] {
				continue
			}
			for _, s := range v.succs(pc) {
				if s < n && (sink[s] || ahead[s]) {
					ahead[pc], changed = true, true
					break
				}
			}
		}
	}
	return ahead
}

// numberRegs computes, per instruction, the registers that hold an
// initialised number (not a pointer) at its entry on every path: a
// forward must-analysis, starting from nothing known at each function's
// entry. Only what cannot be a pointer counts: immediates, results of
// arithmetic on numbers, loads narrower than a pointer (a spilled
// pointer refills only whole).
func (v *verifier) numberRegs() []uint16 {
	n := v.n
	at := make([]uint16, n)
	for pc := range at {
		if !v.funcStart[pc] {
			at[pc] = 0xffff
		}
	}
	for changed := true; changed; {
		changed = false
		for pc := 0; pc < n; pc++ {
			out := v.numberTransfer(pc, at[pc])
			for _, s := range v.succs(pc) {
				if s < n && at[s]&out != at[s] {
					at[s] &= out
					changed = true
				}
			}
		}
	}
	return at
}

func (v *verifier) numberTransfer(pc int, num uint16) uint16 {
	in := v.insns[pc]
	d, s := uint16(1)<<in.Dst, uint16(1)<<in.Src
	set := func(isNum bool) uint16 {
		if isNum {
			return num | d
		}
		return num &^ d
	}
	switch in.class() {
	case classALU, classALU64:
		code := in.Op & 0xf0
		switch {
		case code == aluMOV && in.Op&srcX == 0:
			return set(true)
		case code == aluMOV:
			return set(num&s != 0)
		case in.Op&srcX != 0 && code != aluEND && code != aluNEG:
			return set(num&(d|s) == d|s)
		default:
			return set(num&d != 0)
		}
	case classLDX:
		return set(sizeBytes(in.Op) < 8)
	case classLD:
		if in.isLDDW() {
			return set(in.Src == PseudoImm64)
		}
		return num &^ 0x3f
	case classSTX:
		if in.Op&0xe0 == modeATOMIC {
			if in.Imm == atomicCMPXCHG {
				return num &^ 1
			} else if in.Imm&atomicFETCH != 0 {
				return num &^ s
			}
		}
	case classJMP, classJMP32:
		if in.Op&0xf0 == jmpCALL {
			return num &^ 0x3f
		}
	}
	return num
}

// initial state of the program's main function.
func (v *verifier) initState() *vstate {
	f := &frameState{}
	f.regs[10] = reg{t: tPtrStack}
	switch v.kind {
	case KindXDP:
		f.regs[1] = reg{t: tPtrCtx}
	case KindRaw:
		f.regs[1] = reg{t: tPtrRaw}
		f.regs[2] = rangeReg(0, math.MaxUint32)
		f.regs[2].id = v.newID()
	default:
		f.regs[1] = reg{t: tPtrPacket}
		f.regs[2] = rangeReg(0, 0xffff)
		f.regs[2].id = lenID
	}
	return &vstate{frames: []*frameState{f}}
}

func (v *verifier) run() error {
	v.stack = append(v.stack, pending{st: v.initState(), pc: 0, from: -1})
	for len(v.stack) > 0 {
		top := v.stack[len(v.stack)-1]
		v.stack = v.stack[:len(v.stack)-1]
		v.traceN, v.pathFrom = 0, top.from
		if err := v.walk(top.st, top.pc, top.parent); err != nil {
			return err
		}
	}
	return nil
}

// finish marks a path below cp as done.
func finish(cp *checkpoint) {
	for cp != nil {
		cp.branches--
		if cp.branches > 0 {
			return
		}
		cp = cp.parent
	}
}

// walk follows one path until it exits, is pruned or forks (the other
// side is pushed).
func (v *verifier) walk(st *vstate, pc int, parent *checkpoint) error {
	v.st = st
	// a path from the stack starts with a recorded state worth having
	insns, jumps := minInsnsBetweenStates, minJumpsBetweenStates
	for {
		v.pc = pc
		v.stats.Processed++
		if v.stats.Processed > v.p.maxVerify {
			return v.tooComplex()
		}
		if v.prune[pc] {
			jumps++
			add := insns >= minInsnsBetweenStates && jumps >= minJumpsBetweenStates
			pruned, err := v.visit(st, pc, &parent, add)
			if err != nil {
				return err
			}
			if pruned {
				finish(parent)
				return nil
			}
			if add {
				insns, jumps = 0, 0
			}
		}
		insns++
		next, other, otherSt, done, err := v.step(st, pc)
		if err != nil {
			return err
		}
		v.record(st, pc)
		if done {
			finish(parent)
			return nil
		}
		if otherSt != nil {
			if parent != nil {
				parent.branches++
			}
			v.stack = append(v.stack, pending{st: otherSt, pc: other, parent: parent, from: pc})
			v.stats.PeakStates = max(v.stats.PeakStates, len(v.stack))
		}
		pc = next
	}
}

// visit compares the state reaching prune point pc with the states
// recorded there. A finished state at least as general as st proves st
// safe: pruned. An unfinished one equal to st means the path came back to
// where it was without any progress: an infinite loop. Otherwise st is
// recorded and becomes the parent of what follows.
func (v *verifier) visit(st *vstate, pc int, parent **checkpoint, add bool) (bool, error) {
	cps := v.explored[pc]
	kept := cps[:0]
	pruned := false
	for _, cp := range cps {
		switch {
		case pruned:
		case (cp.branches == 0 || st.loopAgain) && v.covers(cp.st, st, pc):
			// A finished state proves st safe. So does one still being
			// explored, for another iteration of a bpf_loop callback:
			// every run from st is a run from it, whose exploration
			// completes (or fails); what an unfinished state cannot
			// prove is termination, which bpf_loop's bound and the run
			// budget give.
			cp.hits++
			v.stats.Pruned++
			pruned = true
		case cp.branches > 0 && v.sameState(cp.st, st, pc):
			return false, v.fail("infinite loop detected: the loop at insn %d comes back to the same state (nothing it tracks changes between iterations)", pc)
		default:
			cp.misses++
			if cp.misses > evictAfter*(cp.hits+1) {
				continue
			}
		}
		kept = append(kept, cp)
	}
	for i := len(kept); i < len(cps); i++ {
		cps[i] = nil
	}
	v.explored[pc] = kept
	st.loopAgain = false
	if pruned || !add {
		return pruned, nil
	}
	cp := &checkpoint{st: st.clone(), parent: *parent, branches: 1}
	v.explored[pc] = append(kept, cp)
	v.stats.States++
	v.stats.MaxStates = max(v.stats.MaxStates, len(kept)+1)
	v.visits[pc]++
	*parent = cp
	return false, nil
}

// tooComplex explains a program that exhausted the verifier's budget: the
// prune point visited most often is almost always the head of the loop the
// verifier could not bound.
func (v *verifier) tooComplex() error {
	head, n := -1, 0
	for pc, c := range v.visits {
		if c > n {
			head, n = pc, c
		}
	}
	msg := fmt.Sprintf("program too complex: more than %d instructions processed", v.p.maxVerify)
	if head < 0 {
		return v.fail("%s", msg)
	}
	// the error names the loop head (and its source line), the trace the
	// path on which the budget ran out
	err := v.fail("%s; the verifier went through insn %d (%s) %d times in different states, "+
		"%d of them still recorded: it is most likely the head of a loop whose iterations it cannot tell apart as safe. "+
		"Bound the loop with a constant (for (i = 0; i < N && ...; i++)), keep values the loop carries out of branches it does not need them in, "+
		"or compare pointers with data_end rather than offsets with the length (see docs/writing-filters.md, \"Loops\")",
		msg, head, Disasm(v.insns, head), n, len(v.explored[head]))
	ve := err.(*VerifierError)
	ve.PC, ve.Insn = head, Disasm(v.insns, head)
	return ve
}

// sameState reports whether a and b are equal at pc in everything live,
// numbers no check depends on included: the loop that led from one to the
// other changed nothing, so it would go round forever.
func (v *verifier) sameState(a, b *vstate, pc int) bool {
	v.exact = true
	defer func() { v.exact = false }()
	return v.covers(a, b, pc) && v.covers(b, a, pc)
}

// covers reports whether old (explored) is at least as general as cur at pc.
func (v *verifier) covers(old, cur *vstate, pc int) bool {
	if len(old.frames) != len(cur.frames) || len(old.refs) != len(cur.refs) {
		return false
	}
	// facts about data + 0 hold for any packet pointer loaded later (from
	// ctx->data, or r1 + 0 in a filter), live register or not
	if cur.pktRange(0) < old.pktRange(0) {
		return false
	}
	idmap := idMap{}
	for fi := range old.frames {
		of, cf := old.frames[fi], cur.frames[fi]
		if of.callsite != cf.callsite {
			return false
		}
		var live, needed uint16
		if fi == len(old.frames)-1 {
			live, needed = v.live[pc], v.needed[pc]
		} else {
			at := old.frames[fi+1].callsite + 1
			live, needed = v.live[at]&^0x3f, v.needed[at]&^0x3f
		}
		for r := 0; r < 11; r++ {
			if live&(1<<r) == 0 {
				continue
			}
			o, c := &of.regs[r], &cf.regs[r]
			if needed&(1<<r) == 0 && o.t == tScalar && c.t == tScalar && !v.exact {
				continue // any number is as safe as any other here
			}
			if !v.regCovers(o, c, old, cur, &idmap) {
				return false
			}
		}
		for i := range of.stack {
			o, c := of.stack[i], cf.stack[i]
			if o == sInvalid {
				continue
			}
			if c == sInvalid {
				return false
			}
			if o != sSpill && c == sSpill && i%8 == 0 && cf.spills[i/8].t != tScalar {
				// old read these bytes back as a number; cur would read
				// back a pointer
				return false
			}
			if o == sSpill && i%8 == 0 {
				slot := i / 8
				os := of.spills[slot]
				if c != sSpill {
					if os.t == tScalar && os.isUnknown() && os.id == 0 {
						continue
					}
					return false
				}
				cs := cf.spills[slot]
				if !v.regCovers(&os, &cs, old, cur, &idmap) {
					return false
				}
			}
		}
	}
	for i, r := range old.refs {
		if m, ok := idmap.get(r); ok && m != cur.refs[i] {
			return false
		}
	}
	return true
}

// idMap maps ids of an explored state to ids of the current one.
type idMap struct{ pairs [][2]uint32 }

func (m *idMap) get(o uint32) (uint32, bool) {
	for _, p := range m.pairs {
		if p[0] == o {
			return p[1], true
		}
	}
	return 0, false
}

func (v *verifier) mapID(idmap *idMap, o, c uint32) bool {
	if o == 0 {
		return true
	}
	if o == lenID || c == lenID {
		return o == c
	}
	if m, ok := idmap.get(o); ok {
		return m == c
	}
	idmap.pairs = append(idmap.pairs, [2]uint32{o, c})
	return true
}

func (v *verifier) regCovers(o, c *reg, old, cur *vstate, idmap *idMap) bool {
	if o.t == tNotInit {
		return true
	}
	if c.t == tNotInit {
		return false
	}
	if o.t == tScalar {
		if c.t != tScalar {
			return false // a pointer where a number was proven safe may leak
		}
		if o.id == 0 && o.isUnknown() && o.tn == tnUnknown {
			return true // fully unknown: any number fits
		}
		if !c.scalar.within(&o.scalar) {
			return false
		}
		if o.id != 0 {
			if c.id == 0 || c.off != o.off || !v.mapID(idmap, o.id, c.id) {
				return false
			}
			if r := old.pktRange(o.id); r > 0 && cur.pktRange(c.id) < r {
				return false
			}
		}
		return true
	}
	if o.t != c.t || o.off != c.off || o.frame != c.frame || o.mapIdx != c.mapIdx || o.size != c.size {
		return false
	}
	if !c.scalar.within(&o.scalar) {
		return false
	}
	switch o.t {
	case tPtrPacket:
		if o.id == 0 {
			if c.id != 0 {
				return false
			}
		} else if c.id == 0 || !v.mapID(idmap, o.id, c.id) {
			return false
		}
		if cur.pktRange(c.id) < old.pktRange(o.id) {
			return false
		}
	case tPtrMapValueOrNull, tPtrMemOrNull, tPtrMem:
		if !v.mapID(idmap, o.id, c.id) {
			return false
		}
	}
	return true
}
