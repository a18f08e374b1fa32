//go:build linux

package ubpf

import (
	"strings"
	"testing"

	"golang.org/x/arch/x86/x86asm"
)

// TestJITEncoder checks the encoder against x86asm's decoder, in Intel
// syntax, for every form the JIT emits and the registers that need
// special encodings (r12/rsp bases need a SIB byte, rbp/r13 bases a
// displacement, sil/dil a REX prefix).
func TestJITEncoder(t *testing.T) {
	cases := []struct {
		emit func(a *xasm)
		want string
	}{
		{func(a *xasm) { a.movRR(true, rax, r15) }, "mov rax, r15"},
		{func(a *xasm) { a.movRR(false, r9, rsi) }, "mov r9d, esi"},
		{func(a *xasm) { a.movImm(rbx, 0) }, "xor ebx, ebx"},
		{func(a *xasm) { a.movImm(r13, 0xffffffff) }, "mov r13d, -0x1"},
		{func(a *xasm) { a.movImm(rdi, 0xffffffffffffff80) }, "mov rdi, -0x80"},
		{func(a *xasm) { a.movImm(r14, 0x300000000) }, "mov r14, 0x300000000"},
		{func(a *xasm) { a.load(8, rax, mb(r12, 8)) }, "mov rax, qword ptr [r12+0x8]"},
		{func(a *xasm) { a.load(8, rax, mb(r12, 0)) }, "mov rax, qword ptr [r12]"},
		{func(a *xasm) { a.load(4, rcx, mb(r13, 0)) }, "mov ecx, dword ptr [r13]"},
		{func(a *xasm) { a.load(2, rsi, mb(rbp, 0)) }, "movzx esi, word ptr [rbp]"},
		{func(a *xasm) { a.load(1, r8, mbi(rbp, r11, 1, 0)) }, "movzx r8d, byte ptr [rbp+r11]"},
		{func(a *xasm) { a.load(8, r11, mbi(r12, r10, 8, 0x6010)) }, "mov r11, qword ptr [r12+8*r10+0x6010]"},
		{func(a *xasm) { a.loadSX(1, rdx, mb(r11, -1)) }, "movsx rdx, byte ptr [r11-0x1]"},
		{func(a *xasm) { a.loadSX(2, rdx, mb(r11, -300)) }, "movsx rdx, word ptr [r11-0x12c]"},
		{func(a *xasm) { a.loadSX(4, r15, mb(rsp, 4)) }, "movsxd r15, dword ptr [rsp+0x4]"},
		{func(a *xasm) { a.store(1, mb(r11, -8), rsi) }, "mov byte ptr [r11-0x8], sil"},
		{func(a *xasm) { a.store(1, mb(r11, -8), rdi) }, "mov byte ptr [r11-0x8], dil"},
		{func(a *xasm) { a.store(1, mb(r11, -8), rbx) }, "mov byte ptr [r11-0x8], bl"},
		{func(a *xasm) { a.store(2, mb(r11, 2), r9) }, "mov word ptr [r11+0x2], r9w"},
		{func(a *xasm) { a.store(4, mb(r11, 2), r9) }, "mov dword ptr [r11+0x2], r9d"},
		{func(a *xasm) { a.store(8, mbi(rbp, r11, 1, 0), rax) }, "mov qword ptr [rbp+r11], rax"},
		{func(a *xasm) { a.storeImm(1, mb(r11, 0), -1) }, "mov byte ptr [r11], 0xff"},
		{func(a *xasm) { a.storeImm(2, mb(r11, 0), 0x1234) }, "mov word ptr [r11], 0x1234"},
		{func(a *xasm) { a.storeImm(4, mb(r11, 0), 7) }, "mov dword ptr [r11], 0x7"},
		{func(a *xasm) { a.storeImm(8, mb(r12, 0x100), -2) }, "mov qword ptr [r12+0x100], -0x2"},
		{func(a *xasm) { a.lea(r11, mb(rdi, 12)) }, "lea r11, ptr [rdi+0xc]"},
		{func(a *xasm) { a.lea(r10, mbi(r10, r10, 2, 0)) }, "lea r10, ptr [r10+2*r10]"},
		{func(a *xasm) { a.aluRR(aAdd, true, rax, rdi) }, "add rax, rdi"},
		{func(a *xasm) { a.aluRR(aSub, false, r8, r15) }, "sub r8d, r15d"},
		{func(a *xasm) { a.aluRR(aCmp, true, rdx, r9) }, "cmp rdx, r9"},
		{func(a *xasm) { a.aluRI(aAnd, true, rbx, -16) }, "and rbx, -0x10"},
		{func(a *xasm) { a.aluRI(aXor, false, r14, 0x12345) }, "xor r14d, 0x12345"},
		{func(a *xasm) { a.aluRI(aCmp, true, rcx, 1024) }, "cmp rcx, 0x400"},
		{func(a *xasm) { a.aluRM(aSub, true, r11, mb(r12, 0x6100)) }, "sub r11, qword ptr [r12+0x6100]"},
		{func(a *xasm) { a.aluRM(aOr, true, rsi, mb(r12, 0x10)) }, "or rsi, qword ptr [r12+0x10]"},
		{func(a *xasm) { a.testRR(true, r11, r11) }, "test r11, r11"},
		{func(a *xasm) { a.testRI(false, rax, 0x80) }, "test eax, 0x80"},
		{func(a *xasm) { a.imulRR(true, rax, r13) }, "imul rax, r13"},
		{func(a *xasm) { a.imulRRI(false, rdx, rdx, 3) }, "imul edx, edx, 0x3"},
		{func(a *xasm) { a.imulRRI(true, rdx, rdx, 300) }, "imul rdx, rdx, 0x12c"},
		{func(a *xasm) { a.shiftRI(sShl, true, r9, 3) }, "shl r9, 0x3"},
		{func(a *xasm) { a.shiftRI(sSar, false, rdi, 31) }, "sar edi, 0x1f"},
		{func(a *xasm) { a.shiftRCL(sShr, true, r15) }, "shr r15, cl"},
		{func(a *xasm) { a.unary(uNeg, true, rbx) }, "neg rbx"},
		{func(a *xasm) { a.unary(uDiv, false, r11) }, "div r11d"},
		{func(a *xasm) { a.unary(uMul, true, r11) }, "mul r11"},
		{func(a *xasm) { a.unary(uIdiv, true, r11) }, "idiv r11"},
		{func(a *xasm) { a.cqo() }, "cqo"},
		{func(a *xasm) { a.cdq() }, "cdq"},
		{func(a *xasm) { a.movzx16(r8, rsi) }, "movzx r8d, si"},
		{func(a *xasm) { a.movsx(true, rax, rsi, 8) }, "movsx rax, sil"},
		{func(a *xasm) { a.movsx(false, rax, r14, 16) }, "movsx eax, r14w"},
		{func(a *xasm) { a.movsx(true, rax, r14, 32) }, "movsxd rax, r14d"},
		{func(a *xasm) { a.bswap(false, r13) }, "bswap r13d"},
		{func(a *xasm) { a.cmov(ccNE, rdi, r10) }, "cmovnz rdi, r10"},
		{func(a *xasm) { a.bswap(true, rdx) }, "bswap rdx"},
		{func(a *xasm) { a.jmpM(mbi(r12, r10, 1, 0x6300)) }, "jmp qword ptr [r12+r10+0x6300]"},
		{func(a *xasm) { a.lockALU(aAdd, 8, mb(r11, 0), rdi) }, "lock add qword ptr [r11], rdi"},
		{func(a *xasm) { a.lockALU(aXor, 4, mb(r11, 0), r10) }, "lock xor dword ptr [r11], r10d"},
		{func(a *xasm) { a.lockXadd(4, mb(r11, 0), rsi) }, "lock xadd dword ptr [r11], esi"},
		{func(a *xasm) { a.lockCmpxchg(8, mb(r11, 0), r10) }, "lock cmpxchg qword ptr [r11], r10"},
		{func(a *xasm) { a.xchg(8, mb(r11, 0), rbx) }, "xchg qword ptr [r11], rbx"},
		{func(a *xasm) { a.ret() }, "ret"},
	}
	for _, c := range cases {
		var a xasm
		c.emit(&a)
		code, err := a.finish()
		if err != nil {
			t.Fatalf("%s: %v", c.want, err)
		}
		inst, err := x86asm.Decode(code, 64)
		if err != nil {
			t.Errorf("%s: decode % x: %v", c.want, code, err)
			continue
		}
		got := strings.ToLower(x86asm.IntelSyntax(inst, 0, nil))
		if got != c.want || inst.Len != len(code) {
			t.Errorf("% x decodes as %q (%d of %d bytes), want %q", code, got, inst.Len, len(code), c.want)
		}
	}
}

// TestJITEncoderBranches: labels bound before and after their branches.
func TestJITEncoderBranches(t *testing.T) {
	var a xasm
	top, end := a.newLabel(), a.newLabel()
	a.bind(top)
	a.jcc(ccL, end)
	a.jmp(top)
	a.leaRIP(r10, end)
	a.bind(end)
	a.ret()
	code, err := a.finish()
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for pc := 0; pc < len(code); {
		inst, err := x86asm.Decode(code[pc:], 64)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, strings.ToLower(x86asm.IntelSyntax(inst, uint64(pc), nil)))
		pc += inst.Len
	}
	want := []string{"jl .+0xc", "jmp 0x0", "lea r10, ptr [rip]", "ret"}
	if strings.Join(got, "; ") != strings.Join(want, "; ") {
		t.Fatalf("got %q\nwant %q", got, want)
	}
}
