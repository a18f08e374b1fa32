//go:build linux

package ubpf

// Hash map lookups in machine code
//
// map_lookup_elem on a hash map the JIT knows (jit_flow_amd64.go) whose
// values are a static region (Map.direct) and whose keys are 1 to 16
// bytes runs here, without leaving the code: the same hash as keyHash
// (the map's seed is a constant of the code), the same lock-free probe as
// hashMap.lookup (the shard's sequence read before and compared after;
// odd, or changed, and the lookup is left to Go), and the same result,
// region<<32 | entry*stride. The key is read with the checks of any
// memory access. Addresses of the map's Go structures (shards, key words,
// LRU stamps) are constants of the code: the map lives as long as its
// programs, the Go heap does not move objects, and these arrays are never
// reallocated (shard tables are, and are read through the shard).
//
// r1..r5 are zero after a lookup that hashed the key (the verifier lets
// no program read them after a call, and zero leaves nothing of the
// probe, such as the address of a Go structure, in them); r2, the key's
// address, is saved in the Thread first for the exit to Go that a busy
// shard takes.
//
// An empty map (hashMap.cnt) answers a miss before the key is hashed, a
// shard with no published slot (hashShard.used) before its table is
// probed: lookups in an empty or sparse deny list touch no table line.
// The miss of an empty map leaves r1..r5 as they were (the probe has not
// used them yet) and takes the program's next jump on r0 == 0 itself.

import "unsafe"

var (
	offShardSeq  = int32(unsafe.Offsetof(hashShard{}.seq))
	offShardMask = int32(unsafe.Offsetof(hashShard{}.mask))
	offShardUsed = int32(unsafe.Offsetof(hashShard{}.used))
	offShardTab  = int32(unsafe.Offsetof(hashShard{}.tab))
	shardSize    = int32(unsafe.Sizeof(hashShard{}))
)

// hashLookup emits the lookup of the program's map mi, a *hashMap with a
// static region; it reports false when the map's keys are too long.
func (c *jitCompiler) hashLookup(pc, mi int, h *hashMap) (bool, error) {
	ks := h.ksize
	if ks < 1 || ks > 16 || c.p.staticIdx[mi] < 0 {
		return false, nil
	}
	a := &c.a
	after, done, slow, miss, found, empty, none := a.newLabel(), a.newLabel(), a.newLabel(), a.newLabel(), a.newLabel(), a.newLabel(), a.newLabel()
	// the key's real address in r10
	if err := c.access(pc, false, false, ks, 2, 0, func(m mem) { a.lea(tmpA, m) }); err != nil {
		return false, err
	}
	// an empty map: a miss, without hashing (see hashMap.cnt)
	a.movImm(tmpB, uint64(uintptr(unsafe.Pointer(&h.cnt))))
	a.aluMI(aCmp, true, mb(tmpB, 0), 0)
	a.jcc(ccE, none)
	a.store(8, regMem(2), jitReg[2]) // for the exit to Go; r1..r5 are scratch below
	k0, k1, ha, hb := rdi, rsi, r8, r9
	// key words (zero-padded, as keyWord) and the hash's two inputs (as
	// keyHash). A key the program just wrote to its stack (the usual
	// case) is read byte by byte: a wider load spanning the narrower
	// stores that built it could not be forwarded from them and would
	// wait for them to reach the cache.
	word := func(dst xreg, off, n int) {
		if f := c.facts[pc]; f != nil && f[2].kind == fStack && !c.storedWhole(pc, f[2].v+int64(off), n) {
			c.loadBytes(dst, tmpA, off, n)
		} else {
			c.loadTail(dst, tmpA, off, n)
		}
	}
	switch {
	case ks >= 8:
		word(k0, 0, 8)
		a.movRR(true, ha, k0)
		if ks > 8 {
			word(k1, 8, ks-8)
			if ks == 16 {
				a.movRR(true, hb, k1)
			} else { // bytes ks-8..ks-1 = k0 >> 8(ks-8) | k1 << 8(16-ks)
				a.movRR(true, hb, k0)
				a.shiftRI(sShr, true, hb, uint8(8*(ks-8)))
				a.movRR(true, tmpB, k1)
				a.shiftRI(sShl, true, tmpB, uint8(8*(16-ks)))
				a.aluRR(aOr, true, hb, tmpB)
			}
		} else {
			a.movRR(true, hb, k0)
		}
	case ks >= 4: // a = bytes 0..3, b = bytes ks-4..ks-1
		word(k0, 0, ks)
		a.movRR(false, ha, k0)
		a.movRR(true, hb, k0)
		a.shiftRI(sShr, true, hb, uint8(8*(ks-4)))
		a.movRR(false, hb, hb)
	default:
		word(k0, 0, ks)
		a.load(1, ha, mb(tmpA, 0)) // key[0]<<16 | key[n/2]<<8 | key[n-1]
		a.shiftRI(sShl, true, ha, 16)
		a.load(1, tmpB, mb(tmpA, int32(ks/2)))
		a.shiftRI(sShl, true, tmpB, 8)
		a.aluRR(aOr, true, ha, tmpB)
		a.load(1, tmpB, mb(tmpA, int32(ks-1)))
		a.aluRR(aOr, true, ha, tmpB)
		a.movImm(hb, 0)
	}
	// mixHash(a, b, ks, seed): rax = hash
	a.movImm(tmpB, hk1)
	a.movRR(true, rax, ha)
	a.aluRR(aXor, true, rax, tmpB)
	a.movImm(tmpB, h.seed^hk2)
	a.aluRR(aXor, true, tmpB, hb)
	a.unary(uMul, true, tmpB)
	a.aluRR(aXor, true, rax, rdx)
	a.aluRI(aXor, true, rax, int32(ks))
	a.movImm(tmpB, h.seed^hk0)
	a.unary(uMul, true, tmpB)
	a.aluRR(aXor, true, rax, rdx)
	// the shard: r8; its sequence: spill[0], the shard: spill[1]
	a.movRR(false, r8, rax)
	a.aluRI(aAnd, false, r8, hashShards-1)
	a.imulRRI(true, r8, r8, shardSize)
	a.movImm(tmpB, uint64(uintptr(unsafe.Pointer(&h.shards[0]))))
	a.aluRR(aAdd, true, r8, tmpB)
	a.aluMI(aCmp, true, mb(r8, offShardUsed), 0)
	a.jcc(ccE, empty)
	a.load(8, r9, mb(r8, offShardSeq))
	a.testRI(false, r9, 1)
	a.jcc(ccNE, slow) // a writer is at work: let Go wait for it
	a.store(8, mb(ctxReg, offSpill), r9)
	a.store(8, mb(ctxReg, offSpill+8), r8)
	// probe: rax = position, rdx = tag (the hash's upper half), r10 =
	// mask, r11 = table, r9 = probes left, r8 = slot
	a.movRR(true, rdx, rax)
	a.shiftRI(sShr, true, rdx, 32)
	a.load(8, tmpA, mb(r8, offShardMask)) // before the table: see setTable
	a.load(8, tmpB, mb(r8, offShardTab))
	a.movRR(true, rax, rdx)
	a.aluRR(aAnd, true, rax, tmpA)
	a.lea(r9, mb(tmpA, 1))
	loop, next := a.newLabel(), a.newLabel()
	keys := uint64(uintptr(unsafe.Pointer(unsafe.SliceData(h.keys))))
	a.bind(loop)
	a.load(8, r8, mbi(tmpB, rax, 8, 0))
	a.testRR(true, r8, r8)
	a.jcc(ccE, miss)
	a.aluMR(aCmp, false, mbi(tmpB, rax, 8, 4), rdx) // tag
	a.jcc(ccNE, next)
	// the entry's key words: keys + (e)*8*kwords, e = low half - 1
	a.movRR(false, r8, r8)
	a.shiftRI(sShl, true, r8, uint8(3+h.kwords/2))
	a.store(8, mb(ctxReg, offSpill+16), tmpA) // r10 (mask) is needed as scratch
	a.movImm(tmpA, keys-uint64(8*h.kwords))
	a.aluRR(aAdd, true, r8, tmpA)
	a.load(8, tmpA, mb(ctxReg, offSpill+16))
	a.aluMR(aCmp, true, mb(r8, 0), k0)
	a.jcc(ccNE, next)
	if h.kwords == 2 {
		a.aluMR(aCmp, true, mb(r8, 8), k1)
		a.jcc(ccNE, next)
	}
	a.jmp(found)
	a.bind(next)
	a.aluRI(aAdd, true, rax, 1)
	a.aluRR(aAnd, true, rax, tmpA)
	a.aluRI(aSub, true, r9, 1)
	a.jcc(ccNE, loop)
	// miss (or every slot probed): 0 if no writer came meanwhile
	a.bind(miss)
	a.load(8, r8, mb(ctxReg, offSpill+8))
	a.load(8, r9, mb(ctxReg, offSpill))
	a.aluMR(aCmp, true, mb(r8, offShardSeq), r9)
	a.jcc(ccNE, slow)
	a.bind(empty)
	a.aluRR(aXor, false, rax, rax)
	a.jmp(done)
	// an empty map: nothing of the probe is in r1..r5 yet, which keep
	// the program's values (unreadable after a call, as after any helper),
	// and the null goes straight where the program's test of it leads
	a.bind(none)
	a.aluRR(aXor, false, rax, rax)
	a.jmp(c.afterNull(pc, after))
	// found at position rax: the entry from the slot again
	a.bind(found)
	a.load(4, r8, mbi(tmpB, rax, 8, 0))
	a.aluRI(aSub, true, r8, 1)
	a.load(8, tmpA, mb(ctxReg, offSpill+8))
	a.load(8, r9, mb(ctxReg, offSpill))
	a.aluMR(aCmp, true, mb(tmpA, offShardSeq), r9)
	a.jcc(ccNE, slow)
	if h.lru { // stamp the entry with the clock unless it has it
		a.movImm(tmpA, uint64(uintptr(unsafe.Pointer(&h.clock))))
		a.load(8, tmpA, mb(tmpA, 0))
		a.movImm(tmpB, uint64(uintptr(unsafe.Pointer(unsafe.SliceData(h.stamp)))))
		skip := a.newLabel()
		a.aluMR(aCmp, true, mbi(tmpB, r8, 8, 0), tmpA)
		a.jcc(ccE, skip)
		a.store(8, mbi(tmpB, r8, 8, 0), tmpA)
		a.bind(skip)
	}
	a.imulRRI(true, r8, r8, int32(h.stride))
	a.movImm(rax, uint64(regionStatic+c.p.staticIdx[mi])<<32)
	a.aluRR(aOr, true, rax, r8)
	a.bind(done)
	for i := 1; i <= 5; i++ {
		a.aluRR(aXor, false, jitReg[i], jitReg[i])
	}
	a.bind(after)
	c.stubs = append(c.stubs, func() {
		a.bind(slow)
		for i := 1; i <= 5; i++ {
			if i == 2 {
				a.load(8, jitReg[i], regMem(i))
			} else {
				a.aluRR(aXor, false, jitReg[i], jitReg[i])
			}
		}
		c.exitTo(exitLookup, uint64(mi), pc, after)
	})
	return true, nil
}

// afterNull is where r0 = 0 after the call at pc leads: when the next
// instruction is a forward jump on r0 == 0 or r0 != 0 (the program's
// test of a lookup's result), where it goes with r0 = 0; else after.
func (c *jitCompiler) afterNull(pc int, after label) label {
	if pc+1 >= len(c.insns) {
		return after
	}
	in := &c.insns[pc+1]
	t := int(in.off)
	if in.dst&15 != 0 || in.imm != 0 || t <= pc+1 || t >= len(c.insns) || pc+2 >= len(c.insns) {
		return after
	}
	switch in.op {
	case opJeq64I:
		return c.lbl[t]
	case opJne64I:
		return c.lbl[pc+2]
	}
	return after
}

// storedWhole reports whether the n (4 or 8) stack bytes at r10+off were
// written by one store of exactly those bytes, with nothing else writing
// them before pc, on every path to pc: the store and pc are on a straight
// line (no jump lands between them, no call or jump between them). A load
// of the same width is forwarded from that store, so loadTail's single
// load does not wait.
func (c *jitCompiler) storedWhole(pc int, off int64, n int) bool {
	if n != 4 && n != 8 {
		return false
	}
	for j := pc - 1; j >= 0 && pc-j <= 32; j-- {
		if c.landing[j+1] {
			return false
		}
		in := &c.insns[j]
		if isJumpOp(in.op) || in.op == opCall || in.op == opCallx || in.op == opCallLocal || in.op == opExit {
			return false
		}
		if in.op < opStB || in.op > opAtomic64 {
			continue
		}
		size := int64(ldxSize[in.op])
		switch in.op {
		case opAtomic32:
			size = 4
		case opAtomic64:
			size = 8
		}
		var base int64
		switch f := c.facts[j]; {
		case in.dst == 10:
		case f != nil && f[in.dst].kind == fStack:
			base = f[in.dst].v
		case f != nil && f[in.dst].kind == fPkt && f[in.dst].v+int64(in.off) >= 0 &&
			f[in.dst].v+int64(in.off)+size <= 1<<32:
			continue // the packet's region, not the stack
		default:
			return false // it may write anywhere
		}
		lo := base + int64(in.off)
		if lo+size <= off || lo >= off+int64(n) {
			continue
		}
		return lo == off && size == int64(n) && in.op < opAtomic32
	}
	return false
}

// loadBytes loads n bytes (1..8) at base+off into dst, zero-padded,
// one byte at a time; r11 is scratch.
func (c *jitCompiler) loadBytes(dst, base xreg, off, n int) {
	a := &c.a
	a.load(1, dst, mb(base, int32(off+n-1)))
	for j := n - 2; j >= 0; j-- {
		a.shiftRI(sShl, true, dst, 8)
		a.load(1, tmpB, mb(base, int32(off+j)))
		a.aluRR(aOr, true, dst, tmpB)
	}
}

// loadTail loads n bytes (1..8) at base+off into dst, zero-padded, as
// keyTail does; r11 is scratch.
func (c *jitCompiler) loadTail(dst, base xreg, off, n int) {
	a := &c.a
	switch {
	case n == 8:
		a.load(8, dst, mb(base, int32(off)))
	case n >= 4:
		a.load(4, dst, mb(base, int32(off)))
		if n > 4 {
			a.load(4, tmpB, mb(base, int32(off+n-4)))
			a.shiftRI(sShr, true, tmpB, uint8(8*(8-n)))
			a.shiftRI(sShl, true, tmpB, 32)
			a.aluRR(aOr, true, dst, tmpB)
		}
	default:
		a.load(1, dst, mb(base, int32(off+n-1)))
		for j := n - 2; j >= 0; j-- {
			a.shiftRI(sShl, true, dst, 8)
			a.load(1, tmpB, mb(base, int32(off+j)))
			a.aluRR(aOr, true, dst, tmpB)
		}
	}
}
