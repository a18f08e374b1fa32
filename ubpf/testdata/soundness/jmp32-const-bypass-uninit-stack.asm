# kind: filter
# packet: zeros 64
# expect: violation:uninit-stack
# why: the JMP32 bypass (see jmp32-const-bypass.asm) hides a read of a stack
# why: slot this run never wrote: the VM returns what an earlier run of any
# why: program left there (issue 18 item 3).
mov32 %r3, 0x80000000
jslt32 %r3, 0, +0
jsgt %r3, 0, evil
mov %r0, 0
exit
evil:
ldxdw %r0, [%r10-256]
exit
