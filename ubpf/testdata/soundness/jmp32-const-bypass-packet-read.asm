# kind: filter
# packet: zeros 64
# expect: violation:oob
# why: the JMP32 bypass (see jmp32-const-bypass.asm) hides an 8-byte read at
# why: packet offset 60000 without any length check.
mov %r6, %r1
mov32 %r3, 0x80000000
jslt32 %r3, 0, +0
jsgt %r3, 0, evil
mov %r0, 0
exit
evil:
add %r6, 60000
ldxdw %r0, [%r6+0]
exit
