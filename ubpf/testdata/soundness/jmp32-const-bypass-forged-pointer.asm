# kind: filter
# map: array arr key=4 value=8 entries=1
# packet: zeros 64
# expect: violation:scalar-deref
# why: the JMP32 bypass (see jmp32-const-bypass.asm) hides a load through a
# why: number made to look like the address of the stack region (region 1,
# why: offset 4088): a forged pointer.
mov32 %r3, 0x80000000
jslt32 %r3, 0, +0
jsgt %r3, 0, evil
mov %r0, 0
exit
evil:
lddw %r1, 0x100000ff8
ldxdw %r0, [%r1+0]
exit
