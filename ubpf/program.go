package ubpf

import (
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync/atomic"
	"time"
)

// Kind is how a program is called and what its result means.
type Kind int

// Program kinds.
const (
	// KindAuto picks KindXDP for ELF programs in an "xdp" section and
	// KindFilter otherwise.
	KindAuto Kind = iota
	// KindFilter is an Oko filter: uint64 f(void *pkt, uint64 len), r1 =
	// the packet (read-only), r2 = its length; 1 means match.
	KindFilter
	// KindXDP is an XDP program: r1 = struct xdp_md *ctx; XDP_PASS (2)
	// means match.
	KindXDP
	// KindRaw runs any bytecode on a plain memory buffer (r1 = memory, r2
	// = length), as the bpf_conformance suite does: memory accesses
	// through r1 or scalars are checked at run time only. 1 means match.
	KindRaw
)

// String returns the kind's name.
func (k Kind) String() string {
	switch k {
	case KindFilter:
		return "filter"
	case KindXDP:
		return "xdp"
	case KindRaw:
		return "raw"
	}
	return "auto"
}

// XDP return codes.
const (
	XDPAborted  = 0
	XDPDrop     = 1
	XDPPass     = 2
	XDPTx       = 3
	XDPRedirect = 4
)

// LoadOptions configure Load and LoadELF.
type LoadOptions struct {
	// Program selects the program of an ELF object by function name or,
	// failing that, by section name. Empty: the first program.
	Program string
	// Name names a program loaded from raw bytecode.
	Name string
	// Kind of program; KindAuto by default.
	Kind Kind
	// Logger receives trace_printk output and run errors (rate-limited).
	// Nil: slog.Default().
	Logger *slog.Logger
	// Maps are the maps raw bytecode refers to: LDDW with src 1 or 5 and
	// imm i means Maps[i].
	Maps []*Map
	// ReuseMaps hands maps of an earlier program to an ELF load: a map
	// declared with the same name and an identical declaration is reused
	// (keeping its contents) instead of created. Maps whose declaration
	// changed are created anew.
	ReuseMaps map[string]*Map
	// Helpers selects the helper set (HelpersLinux by default).
	Helpers HelperSet
	// PacketWritable lets programs store into the packet; the caller then
	// lets the program modify the buffer it passes to Run.
	PacketWritable bool
	// MaxVerifierInsns lowers the verifier's budget of processed
	// instructions (default and maximum MaxVerifierInsns).
	MaxVerifierInsns int
	// RunBudget is the most instructions one run may execute (loop
	// iterations count the loop's length, calls the callee's, at most 255
	// each); a run that exhausts it stops as no match, counted in
	// Stats.BudgetExhausted. Zero means DefaultRunBudget; at most
	// MaxRunBudget.
	RunBudget int
	// MapMemoryLimit bounds the memory the maps created by this load may
	// take together (maps handed over through ReuseMaps do not count).
	// Zero means DefaultMapMemoryLimit.
	MapMemoryLimit uint64
	// MeasureTime estimates the programs' total run time (Stats.TotalNs)
	// by timing one run in 256.
	MeasureTime bool
	// Engine selects the JIT or the interpreter (EngineAuto by default).
	Engine Engine
}

// progStats are a program's counters of one thread slot. They are plain
// words: a Thread that owns its slot is their only writer and stores with
// plain moves (see count); Stats reads them with atomic loads.
type progStats struct {
	runs, matches, errors, exhausted uint64
	// ns is the time of the timed runs, timed their number (MeasureTime
	// times one run in timeEvery)
	ns, timed uint64
	_         [16]byte
}

// timeEvery: with MeasureTime, one run in timeEvery is timed.
const timeEvery = 256

// Stats are a program's counters, summed over all threads.
type Stats struct {
	Runs    uint64 // completed runs
	Matches uint64 // runs whose result means match
	Errors  uint64 // runs stopped by a run-time check or the budget (counted as no match)
	// TotalNs is the total run time with LoadOptions.MeasureTime: one run
	// in 256 is timed (two clock reads cost more than a short run), and
	// TotalNs is the mean time of the timed runs times Runs. An estimate,
	// exact when every run takes as long.
	TotalNs uint64
	// BudgetExhausted counts the runs (among Errors) that used up their
	// instruction budget.
	BudgetExhausted uint64
}

// Program is a verified program ready to run. Run may be called from any
// number of goroutines at once, each with its own Thread.
type Program struct {
	name, section string
	kind          Kind
	raw           []RawInsn
	insns         []insn

	maps      []*Map
	static    []*Map // maps with a static region, in region order
	staticIdx []int  // per map: index in static, or -1
	dynBase   int

	helperSet helperTable
	helpers   []HelperFunc
	jit       *jitCode // nil: interpreted
	fast      bool     // runs may take run's fast path (see fastEligible)

	logger      *slog.Logger
	printkLimit rateLimit
	errLimit    rateLimit
	pktWritable bool
	measure     bool
	vstats      VerifierStats
	maxVerify   int
	// stackSpan is how many bytes at the top of the Thread's stack a run
	// may address: the deepest stack access the verifier found, over the
	// whole call chain (every frame is StackFrameSize bytes below its
	// caller's), rounded up to 8. Runs see only that span, zeroed.
	stackSpan int
	budget    int // instructions per run (RunBudget)
	// callbacks are the functions whose address the program takes (for
	// bpf_loop); funcWeight[pc] is the budget charge of calling the
	// callback starting at pc, 0 where none starts
	callbacks  []int
	funcWeight []uint8

	stats [ThreadSlots]progStats
}

// Load verifies raw little-endian bytecode and prepares it to run.
func Load(code []byte, opts LoadOptions) (*Program, error) {
	insns, err := DecodeInsns(code)
	if err != nil {
		return nil, err
	}
	if opts.Kind == KindAuto {
		opts.Kind = KindFilter
	}
	name := opts.Name
	if name == "" {
		name = "prog"
	}
	return newProgram(name, "", insns, opts.Maps, opts, nil)
}

func newProgram(name, section string, insns []RawInsn, maps []*Map, opts LoadOptions, lines []*SourceLine) (p *Program, err error) {
	// The last line of defence: whatever a client sends, a bug in the
	// verifier or the decoder must refuse the program, not end the daemon.
	defer func() {
		if r := recover(); r != nil {
			p, err = nil, fmt.Errorf("ubpf: program %s: internal error while verifying (please report it with the program): %v", name, r)
		}
	}()
	p = &Program{name: name, section: section, kind: opts.Kind, raw: insns, maps: maps,
		helperSet: opts.Helpers.table(), logger: opts.Logger, pktWritable: opts.PacketWritable || opts.Kind == KindRaw,
		measure: opts.MeasureTime, maxVerify: MaxVerifierInsns, budget: DefaultRunBudget}
	if opts.RunBudget < 0 || opts.RunBudget > MaxRunBudget {
		return nil, fmt.Errorf("ubpf: program %s: run budget %d not in 1..%d", name, opts.RunBudget, MaxRunBudget)
	}
	if opts.RunBudget > 0 {
		p.budget = opts.RunBudget
	}
	if opts.MaxVerifierInsns > 0 && opts.MaxVerifierInsns < MaxVerifierInsns {
		p.maxVerify = opts.MaxVerifierInsns
	}
	if p.logger == nil {
		p.logger = slog.Default()
	}
	p.staticIdx = make([]int, len(maps))
	// static regions: every array map (direct value loads need one), then
	// hash maps while regions are left (the others map each value a
	// lookup returns as a dynamic region instead)
	for i := range maps {
		p.staticIdx[i] = -1
	}
	for pass := 0; pass < 2; pass++ {
		for i, m := range maps {
			if m.direct == nil || m.isArray() != (pass == 0) {
				continue
			}
			if len(p.static) >= maxStaticMaps {
				if pass == 0 {
					return nil, fmt.Errorf("ubpf: program %s: more than %d array maps", name, maxStaticMaps)
				}
				break
			}
			p.staticIdx[i] = len(p.static)
			p.static = append(p.static, m)
		}
	}
	p.dynBase = regionStatic + len(p.static)
	ld, ctx, err := p.verify()
	if err != nil {
		var ve *VerifierError
		if errors.As(err, &ve) && ve.PC >= 0 && ve.PC < len(lines) {
			ve.Source = lines[ve.PC]
		}
		return nil, fmt.Errorf("ubpf: program %s: %w", name, err)
	}
	plain, err := p.decode(ld, ctx)
	if err != nil {
		return nil, fmt.Errorf("ubpf: program %s: %w", name, err)
	}
	if err := p.setEngine(opts.Engine, plain); err != nil {
		return nil, fmt.Errorf("ubpf: program %s: %w", name, err)
	}
	return p, nil
}

// Name returns the program's name (its function name for ELF programs).
func (p *Program) Name() string { return p.name }

// Section returns the ELF section the program came from.
func (p *Program) Section() string { return p.section }

// Kind returns the program's kind.
func (p *Program) Kind() Kind { return p.kind }

// InsnCount returns the number of instruction slots (LDDW counts two).
func (p *Program) InsnCount() int { return len(p.raw) }

// Insns returns a copy of the program's instructions.
func (p *Program) Insns() []RawInsn { return append([]RawInsn(nil), p.raw...) }

// Disasm returns the program's disassembly, one instruction per line.
func (p *Program) Disasm() string { return DisasmAll(p.raw) }

// Maps returns the program's maps, in the order LDDW instructions index
// them.
func (p *Program) Maps() []*Map { return append([]*Map(nil), p.maps...) }

// Map returns the program's map called name, or nil.
func (p *Program) Map(name string) *Map {
	for _, m := range p.maps {
		if m.spec.Name == name {
			return m
		}
	}
	return nil
}

// RunBudget returns the program's instruction budget per run.
func (p *Program) RunBudget() int { return p.budget }

// VerifierStats returns what verifying the program took.
func (p *Program) VerifierStats() VerifierStats { return p.vstats }

// Stats returns the program's counters.
func (p *Program) Stats() Stats {
	var s Stats
	var ns, timed uint64
	for i := range p.stats {
		st := &p.stats[i]
		s.Runs += atomic.LoadUint64(&st.runs)
		s.Matches += atomic.LoadUint64(&st.matches)
		s.Errors += atomic.LoadUint64(&st.errors)
		s.BudgetExhausted += atomic.LoadUint64(&st.exhausted)
		ns += atomic.LoadUint64(&st.ns)
		timed += atomic.LoadUint64(&st.timed)
	}
	if timed > 0 {
		s.TotalNs = uint64(float64(ns) / float64(timed) * float64(s.Runs))
	}
	return s
}

// IsMatch reports whether result means match for the program's kind:
// XDP_PASS for XDP programs, 1 otherwise.
func (p *Program) IsMatch(result uint64) bool {
	if p.kind == KindXDP {
		return result == XDPPass
	}
	return result == 1
}

// Run runs the program on pkt with the thread t and returns r0. A run
// stopped by a run-time check returns 0 and a *RunError (or a helper's
// error); it is counted as an error and logged (rate-limited). Run does
// not allocate.
//
// Run is one call, inlined into the caller, of run (jit_amd64.s on
// linux/amd64), whose fast path enters the code of a compiled filter
// on the Thread it is bound to without a Go frame in between.
func (p *Program) Run(t *Thread, pkt []byte) (uint64, error) {
	return run(p, t, pkt)
}

// runSlow is Run for every run that does not take run's fast path.
func runSlow(p *Program, t *Thread, pkt []byte) (uint64, error) {
	return p.runFull(t, pkt, &p.stats[t.slot&(ThreadSlots-1)])
}

// runExited is Run for a fast run whose code exited to Go with the exit
// word it left in t.jit.exit.
func runExited(p *Program, t *Thread, pkt []byte) (uint64, error) {
	return p.runJITExits(t, pkt, t.jit.exit)
}

// matchSlow and matchExited are Match's runSlow and runExited.
func matchSlow(p *Program, t *Thread, pkt []byte) bool {
	r, err := runSlow(p, t, pkt)
	return err == nil && p.IsMatch(r)
}

func matchExited(p *Program, t *Thread, pkt []byte) bool {
	r, err := runExited(p, t, pkt)
	return err == nil && p.IsMatch(r)
}

// timeNext reports whether t's next run of p is one of the timed ones.
func (p *Program) timeNext(t *Thread) bool {
	return atomic.LoadUint64(&p.stats[t.slot&(ThreadSlots-1)].runs)%timeEvery == 0
}

// runFull is Run for every case but the fast path's: the interpreter, binding a
// program's maps to the thread, XDP and raw arguments, timed and traced
// runs.
func (p *Program) runFull(t *Thread, pkt []byte, st *progStats) (uint64, error) {
	timed := p.measure && p.timeNext(t)
	var start time.Duration
	if timed {
		start = time.Since(epoch) // the monotonic clock only: one read
	}
	if t.prog != p {
		t.bind(p)
	}
	if p.fast && t.trace == nil {
		p.bindFast(t) // the next untimed run takes the fast path
	}
	var r1, r2 uint64
	switch p.kind {
	case KindXDP:
		t.fillXDPContext()
		r1 = regionCtx << 32
	case KindRaw:
		if len(pkt) > 0 {
			r1 = regionPacket << 32
		}
		r2 = uint64(len(pkt))
	default:
		r1, r2 = regionPacket<<32, uint64(len(pkt))
	}
	ret, err := p.runOn(t, pkt, r1, r2)
	if timed {
		count(&st.ns, uint64(time.Since(epoch)-start), t.ownSlot)
		count(&st.timed, 1, t.ownSlot)
	}
	return p.account(t, st, ret, err)
}

// runOn maps the stack and pkt as the run's packet, runs the engine and
// unmaps them.
func (p *Program) runOn(t *Thread, pkt []byte, r1, r2 uint64) (uint64, error) {
	t.ndyn = p.dynBase
	t.beginRun(p.stackSpan)
	t.pktLen = uint64(len(pkt))
	t.rd[regionPacket] = pkt
	if p.pktWritable {
		t.wr[regionPacket] = pkt
	}
	var ret uint64
	var err error
	switch {
	case t.trace != nil:
		ret, err = p.step(t, r1, r2) // RunTraced (trace.go), in the interpreter
	case p.jit != nil:
		ret, err = p.jitExec(t, pkt, r1, r2)
	default:
		ret, err = p.exec(t, r1, r2)
	}
	t.endRun()
	return ret, err
}

// account counts a finished run.
func (p *Program) account(t *Thread, st *progStats, ret uint64, err error) (uint64, error) {
	count(&st.runs, 1, t.ownSlot)
	if err != nil {
		return 0, p.runFailed(t, st, err)
	}
	if p.IsMatch(ret) {
		count(&st.matches, 1, t.ownSlot)
	}
	return ret, nil
}

func (p *Program) runFailed(t *Thread, st *progStats, err error) error {
	count(&st.errors, 1, t.ownSlot)
	if re, ok := err.(*RunError); ok && re.Budget {
		count(&st.exhausted, 1, t.ownSlot)
	}
	if p.errLimit.allow(10) {
		p.logger.Warn("bpf program run failed (counted as no match)", "prog", p.name, "err", err)
	}
	return err
}

// count adds n to a counter of a thread slot. A Thread that owns its slot
// is the counter's only writer: a plain load and store do (readers load
// atomically; an aligned word is never torn), where an atomic store
// (XCHG) or add (LOCK XADD) would cost more than a short run. Threads
// sharing a slot, and race-detector builds, add atomically.
func count(c *uint64, n uint64, own bool) {
	if own && !raceEnabled {
		*c += n
	} else {
		atomic.AddUint64(c, n)
	}
}

// Match runs the program on pkt with the thread t, as Run does, and
// reports whether it matched: it ran to the end and returned what
// IsMatch takes for a match. A run-time fault is no match (Run counts and
// logs it). Match inlines into its caller, as Run does: a switch running
// a filter per packet pays for no Go frame between itself and the code.
func (p *Program) Match(t *Thread, pkt []byte) bool {
	return match(p, t, pkt)
}

// CompatibleMaps returns, by name, the maps of old whose declarations are
// identical to those of the same name in specs: what LoadOptions.ReuseMaps
// wants when reloading a program.
func (p *Program) CompatibleMaps(specs []MapSpec) map[string]*Map {
	out := map[string]*Map{}
	for _, s := range specs {
		if m := p.Map(s.Name); m != nil && m.spec.Compatible(&s) {
			out[s.Name] = m
		}
	}
	return out
}

// String describes the program.
func (p *Program) String() string {
	var names []string
	for _, m := range p.maps {
		names = append(names, m.spec.Name)
	}
	return fmt.Sprintf("%s(%s, %d insns, maps [%s])", p.name, p.kind, len(p.raw), strings.Join(names, " "))
}
