package ubpf

import (
	"fmt"
	"slices"
)

// ctx field loads the verifier found (per instruction), rewritten at decode.
const (
	ctxNone uint8 = iota
	ctxData
	ctxDataEnd
	ctxDataMeta
)

var aluOps64 = map[uint8][2]uint8{ // code -> {imm form, reg form}
	aluADD: {opAdd64I, opAdd64R}, aluSUB: {opSub64I, opSub64R}, aluMUL: {opMul64I, opMul64R},
	aluDIV: {opDiv64I, opDiv64R}, aluOR: {opOr64I, opOr64R}, aluAND: {opAnd64I, opAnd64R},
	aluLSH: {opLsh64I, opLsh64R}, aluRSH: {opRsh64I, opRsh64R}, aluMOD: {opMod64I, opMod64R},
	aluXOR: {opXor64I, opXor64R}, aluMOV: {opMov64I, opMov64R}, aluARSH: {opArsh64I, opArsh64R},
}

var aluOps32 = map[uint8][2]uint8{
	aluADD: {opAdd32I, opAdd32R}, aluSUB: {opSub32I, opSub32R}, aluMUL: {opMul32I, opMul32R},
	aluDIV: {opDiv32I, opDiv32R}, aluOR: {opOr32I, opOr32R}, aluAND: {opAnd32I, opAnd32R},
	aluLSH: {opLsh32I, opLsh32R}, aluRSH: {opRsh32I, opRsh32R}, aluMOD: {opMod32I, opMod32R},
	aluXOR: {opXor32I, opXor32R}, aluMOV: {opMov32I, opMov32R}, aluARSH: {opArsh32I, opArsh32R},
}

var jmpOps = map[uint8][4]uint8{ // code -> {64 imm, 64 reg, 32 imm, 32 reg}
	jmpJEQ: {opJeq64I, opJeq64R, opJeq32I, opJeq32R}, jmpJNE: {opJne64I, opJne64R, opJne32I, opJne32R},
	jmpJGT: {opJgt64I, opJgt64R, opJgt32I, opJgt32R}, jmpJGE: {opJge64I, opJge64R, opJge32I, opJge32R},
	jmpJLT: {opJlt64I, opJlt64R, opJlt32I, opJlt32R}, jmpJLE: {opJle64I, opJle64R, opJle32I, opJle32R},
	jmpJSGT: {opJsgt64I, opJsgt64R, opJsgt32I, opJsgt32R}, jmpJSGE: {opJsge64I, opJsge64R, opJsge32I, opJsge32R},
	jmpJSLT: {opJslt64I, opJslt64R, opJslt32I, opJslt32R}, jmpJSLE: {opJsle64I, opJsle64R, opJsle32I, opJsle32R},
	jmpJSET: {opJset64I, opJset64R, opJset32I, opJset32R},
}

// decode turns verified raw instructions into the interpreter's form.
// ldImm holds the resolved 64-bit value of every LDDW (map handles and
// addresses included); ctx the rewritten context loads; helper the
// index into p.helpers of every helper call. It returns the decoded
// instructions before fusion (what the JIT compiles).
func (p *Program) decode(ldImm map[int]uint64, ctx []uint8) ([]insn, error) {
	raw := p.raw
	out := make([]insn, len(raw))
	helperIdx := map[int32]int32{}
	for pc := 0; pc < len(raw); pc++ {
		in := raw[pc]
		d := insn{dst: in.Dst, src: in.Src}
		cls := in.class()
		code := in.Op & 0xf0
		isReg := in.Op&srcX != 0
		switch cls {
		case classALU64, classALU:
			is64 := cls == classALU64
			switch {
			case code == aluNEG:
				d.op = opNeg32
				if is64 {
					d.op = opNeg64
				}
			case code == aluEND:
				switch {
				case !is64 && !isReg && in.Imm == 16:
					d.op = opLe16
				case !is64 && !isReg && in.Imm == 32:
					d.op = opLe32
				case !is64 && !isReg && in.Imm == 64:
					d.op = opNop
				case in.Imm == 16:
					d.op = opBswap16
				case in.Imm == 32:
					d.op = opBswap32
				default:
					d.op = opBswap64
				}
			case code == aluMOV && isReg && in.Off != 0:
				switch {
				case in.Off == 8 && is64:
					d.op = opMovsx64B
				case in.Off == 16 && is64:
					d.op = opMovsx64H
				case in.Off == 32 && is64:
					d.op = opMovsx64W
				case in.Off == 8:
					d.op = opMovsx32B
				default:
					d.op = opMovsx32H
				}
			default:
				tab := aluOps32
				if is64 {
					tab = aluOps64
				}
				forms := tab[code]
				signed := (code == aluDIV || code == aluMOD) && in.Off == 1
				if isReg {
					d.op = forms[1]
				} else {
					d.op = forms[0]
					if is64 {
						d.imm = uint64(int64(in.Imm))
					} else {
						d.imm = uint64(uint32(in.Imm))
					}
				}
				if signed {
					d.op += opSdiv64I - opDiv64I // signed forms follow the unsigned ones
				}
				if !isReg {
					switch code {
					case aluLSH, aluRSH, aluARSH:
						if is64 {
							d.imm &= 63
						} else {
							d.imm &= 31
						}
					case aluDIV:
						if in.Imm == 0 { // x / 0 = 0
							d.op, d.imm = opMov64I, 0
						}
					case aluMOD:
						if in.Imm == 0 { // x % 0 = x (zero-extended for ALU)
							if is64 {
								d.op = opNop
							} else {
								d.op, d.src = opMov32R, in.Dst
							}
						}
					}
				}
			}
		case classJMP, classJMP32:
			switch code {
			case jmpJA:
				d.op = opJa
				if cls == classJMP32 {
					d.off = int32(pc + 1 + int(in.Imm))
				} else {
					d.off = int32(pc + 1 + int(in.Off))
				}
			case jmpEXIT:
				d.op = opExit
			case jmpCALL:
				switch {
				case isReg:
					d.op = opCallx
				case in.Src == callLocal:
					d.op = opCallLocal
					d.off = int32(pc + 1 + int(in.Imm))
				case in.Imm == helperLoop && p.helperSet.lookup(helperLoop) != nil:
					d.op = opBpfLoop // off: its resume insn, below
				default:
					h := p.helperSet.lookup(uint64(uint32(in.Imm)))
					if h == nil {
						return nil, fmt.Errorf("insn %d: unknown helper %d", pc, in.Imm)
					}
					idx, ok := helperIdx[in.Imm]
					if !ok {
						idx = int32(len(p.helpers))
						helperIdx[in.Imm] = idx
						p.helpers = append(p.helpers, h.fn)
					}
					d.op, d.off = opCall, idx
				}
			default:
				forms := jmpOps[code]
				k := 0
				if isReg {
					k = 1
				}
				if cls == classJMP32 {
					k += 2
				}
				d.op = forms[k]
				d.off = int32(pc + 1 + int(in.Off))
				if cls == classJMP32 {
					d.imm = uint64(uint32(in.Imm))
				} else {
					d.imm = uint64(int64(in.Imm))
				}
			}
		case classLDX:
			d.off = int32(in.Off)
			sx := in.Op&0xe0 == modeMEMSX
			switch sizeBytes(in.Op) {
			case 1:
				d.op = opLdxB
				if sx {
					d.op = opLdxSB
				}
			case 2:
				d.op = opLdxH
				if sx {
					d.op = opLdxSH
				}
			case 4:
				d.op = opLdxW
				if sx {
					d.op = opLdxSW
				}
			default:
				d.op = opLdxDW
			}
			if pc < len(ctx) {
				switch ctx[pc] {
				case ctxData, ctxDataMeta:
					d = insn{op: opLdPktData, dst: in.Dst}
				case ctxDataEnd:
					d = insn{op: opLdPktEnd, dst: in.Dst}
				}
			}
		case classST:
			d.off = int32(in.Off)
			d.imm = uint64(int64(in.Imm))
			d.op = [...]uint8{1: opStB, 2: opStH, 4: opStW, 8: opStDW}[sizeBytes(in.Op)]
		case classSTX:
			d.off = int32(in.Off)
			if in.Op&0xe0 == modeATOMIC {
				d.op = opAtomic32
				if sizeBytes(in.Op) == 8 {
					d.op = opAtomic64
				}
				d.imm = uint64(uint32(in.Imm))
			} else {
				d.op = [...]uint8{1: opStxB, 2: opStxH, 4: opStxW, 8: opStxDW}[sizeBytes(in.Op)]
			}
		case classLD:
			if in.isLDDW() {
				d.op, d.imm = opLdImm64, ldImm[pc]
				out[pc] = d
				pc++ // the second slot stays opInvalid; it is never executed
				continue
			}
			base := opLdAbsB
			if in.Op&0xe0 == modeIND {
				base = opLdIndB
			}
			d.op = base + [...]uint8{1: 0, 2: 1, 4: 2}[sizeBytes(in.Op)]
			d.imm = uint64(int64(in.Imm))
		}
		out[pc] = d
	}
	// Weigh backward jumps that close a loop, and local calls: taken,
	// they cost the run's budget what the loop body or the callee may
	// execute before the next such charge, so the budget counts
	// instructions (bodies longer than 255 count as 255; see RunBudget).
	// A backward jump on no cycle (compilers put a shared return block
	// before the code that jumps to it) is taken at most once per run,
	// like a forward jump, and is not charged either: a program whose
	// jumps form no cycle runs at most once through each instruction.
	funcEnd := make([]int, len(out)) // per function start: where it ends
	starts := append([]int{0}, p.callbacks...)
	for pc := range out {
		if out[pc].op == opCallLocal {
			starts = append(starts, int(out[pc].off))
		}
	}
	slices.Sort(starts)
	starts = slices.Compact(starts)
	for i, st := range starts {
		end := len(out)
		if i+1 < len(starts) {
			end = starts[i+1]
		}
		funcEnd[st] = end
	}
	weight := func(n int) uint8 { return uint8(min(max(n, 1), 255)) }
	p.funcWeight = make([]uint8, len(out))
	for _, cb := range p.callbacks {
		p.funcWeight[cb] = weight(funcEnd[cb] - cb)
	}
	cyclic := loopJumps(out)
	for pc := range out {
		d := &out[pc]
		switch {
		case isJumpOp(d.op) && int(d.off) <= pc && cyclic[pc]:
			d.back = weight(pc - int(d.off) + 1)
		case d.op == opCallLocal:
			d.back = weight(funcEnd[d.off] - int(d.off))
		}
	}
	plain := append([]insn(nil), out...)
	if fuseInsns {
		fuse(out)
	}
	// two sentinels: ip stays inside the array even if a function fell
	// off its end (the first one stops the run)
	p.insns = append(out, insn{op: opInvalid}, insn{op: opInvalid})
	// bpf_loop: a callback returns to its loop's resume insn, after the
	// sentinels, which decides whether to call it again
	for pc := range out {
		if p.insns[pc].op == opBpfLoop {
			p.insns[pc].off = int32(len(p.insns))
			p.insns = append(p.insns, insn{op: opLoopNext, off: int32(pc)})
		}
	}
	return plain, nil
}

// loopJumps reports, per instruction, whether it is a jump whose edge to
// its target lies on a cycle of the control-flow graph (edges: fallthrough,
// jump targets; a call falls through, its callee is charged on its own;
// exit and the second slot of an LDDW have none). It finds the strongly
// connected components (Tarjan's algorithm, iterative): an edge lies on a
// cycle when both ends are in one component.
func loopJumps(insns []insn) []bool {
	n := len(insns)
	succ := func(pc int, buf *[2]int) []int {
		in := &insns[pc]
		out := buf[:0]
		switch {
		case in.op == opExit || in.op == opInvalid:
		case in.op == opJa:
			out = append(out, int(in.off))
		case isJumpOp(in.op):
			out = append(out, pc+1, int(in.off))
		case in.op == opLdImm64:
			out = append(out, pc+2)
		default:
			out = append(out, pc+1)
		}
		k := 0
		for _, t := range out {
			if t >= 0 && t < n {
				out[k] = t
				k++
			}
		}
		return out[:k]
	}
	const unseen = -1
	index, low, comp := make([]int, n), make([]int, n), make([]int, n)
	for i := range index {
		index[i], comp[i] = unseen, unseen
	}
	onStack := make([]bool, n)
	var stack []int
	type frame struct{ pc, next int }
	var call []frame
	next, comps := 0, 0
	var buf [2]int
	for root := 0; root < n; root++ {
		if index[root] != unseen {
			continue
		}
		call = append(call, frame{root, 0})
		index[root], low[root] = next, next
		next++
		stack = append(stack, root)
		onStack[root] = true
		for len(call) > 0 {
			f := &call[len(call)-1]
			ss := succ(f.pc, &buf)
			if f.next < len(ss) {
				t := ss[f.next]
				f.next++
				switch {
				case index[t] == unseen:
					index[t], low[t] = next, next
					next++
					stack = append(stack, t)
					onStack[t] = true
					call = append(call, frame{t, 0})
				case onStack[t]:
					low[f.pc] = min(low[f.pc], index[t])
				}
				continue
			}
			pc := f.pc
			call = call[:len(call)-1]
			if len(call) > 0 {
				parent := call[len(call)-1].pc
				low[parent] = min(low[parent], low[pc])
			}
			if low[pc] == index[pc] {
				for {
					w := stack[len(stack)-1]
					stack = stack[:len(stack)-1]
					onStack[w] = false
					comp[w] = comps
					if w == pc {
						break
					}
				}
				comps++
			}
		}
	}
	cyclic := make([]bool, n)
	for pc := range insns {
		if t := int(insns[pc].off); isJumpOp(insns[pc].op) && t >= 0 && t < n && comp[t] == comp[pc] {
			cyclic[pc] = true // t == pc included: a jump to itself
		}
	}
	return cyclic
}

// isJumpOp reports whether op is JA or a conditional jump (off = target).
func isJumpOp(op uint8) bool {
	return op == opJa || (op >= opJeq64I && op <= opJset32R)
}

// fuseInsns enables superinstructions (tests turn it off to compare).
var fuseInsns = true

// Superinstructions for the commonest pairs. The fused op replaces the
// first instruction of the pair and does the work of both; the second
// slot keeps its own decoding, so a jump to it still runs just that
// instruction. Fused ops that finish with a jump or an exit read that
// second instruction from its slot at run time; the second instruction of
// those pairs (a conditional jump, an exit) is never itself the first of a
// pair, so that slot always holds the plain op.
var (
	fuseAddJ = map[uint8]uint8{ // add64 imm + jcc64 imm, same register
		opJeq64I: opAdd64IJeq, opJne64I: opAdd64IJne, opJlt64I: opAdd64IJlt,
		opJle64I: opAdd64IJle, opJgt64I: opAdd64IJgt, opJge64I: opAdd64IJge,
	}
	fuseLdxJ = map[[2]uint8]uint8{ // load + jeq/jne imm
		{opLdxB, opJeq64I}: opLdxBJeq, {opLdxB, opJne64I}: opLdxBJne,
		{opLdxH, opJeq64I}: opLdxHJeq, {opLdxH, opJne64I}: opLdxHJne,
		{opLdxW, opJeq64I}: opLdxWJeq, {opLdxW, opJne64I}: opLdxWJne,
	}
)

func fuse(out []insn) {
	for pc := 0; pc+1 < len(out); pc++ {
		a, b := &out[pc], out[pc+1]
		switch {
		case a.op == opMov64R && b.op == opAdd64I && b.dst == a.dst:
			// dst = src; dst += imm
			a.op, a.imm = opMovAdd64RI, b.imm
		case a.op == opMov64R && b.op == opAdd64R && b.dst == a.dst:
			// dst = src; dst += src2 (src2 == dst reads the moved value)
			src2 := b.src
			if src2 == a.dst {
				src2 = a.src
			}
			a.op, a.imm = opMovAdd64RR, uint64(src2)
		case a.op == opAdd64I && fuseAddJ[b.op] != 0 && b.dst == a.dst:
			a.op = fuseAddJ[b.op]
		case fuseLdxJ[[2]uint8{a.op, b.op}] != 0:
			a.op = fuseLdxJ[[2]uint8{a.op, b.op}]
		case (a.op == opMov64I || a.op == opMov32I) && b.op == opExit:
			a.op = opMovExit
		}
	}
}
