# kind: filter
# packet: zeros 64
# expect: violation:readonly-write
# why: the JMP32 bypass (see jmp32-const-bypass.asm) hides a store into the
# why: filter's packet, which is read-only.
mov %r6, %r1
mov32 %r3, 0x80000000
jslt32 %r3, 0, +0
jsgt %r3, 0, evil
mov %r0, 0
exit
evil:
stw [%r6+0], 0x41414141
mov %r0, 0
exit
