package ubpf

// Test hooks for package ubpf_test.

// VMLayout is the run-time address layout that the soundness test's
// reference interpreter (refvm_test.go) mirrors, so that pointer values,
// and so every comparison and result, agree with the VM's.
var VMLayout = struct {
	RegionStack, RegionCtx, RegionPacket, RegionStatic, NumRegions uint64
	MapHandleBase, StackSize, FrameSize, MaxCallDepth              uint64
}{regionStack, regionCtx, regionPacket, regionStatic, numRegions,
	mapHandleBase, stackSize, StackFrameSize, MaxCallDepth}

// CtxRewrites returns, per instruction, how the VM runs a context load
// after the verifier's rewrite: 1 as ctx->data, 2 as ctx->data_end, 0 as
// a plain load.
func CtxRewrites(p *Program) []uint8 {
	out := make([]uint8, len(p.raw))
	for pc := range out {
		switch p.insns[pc].op {
		case opLdPktData:
			out[pc] = 1
		case opLdPktEnd:
			out[pc] = 2
		}
	}
	return out
}
