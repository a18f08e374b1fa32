# kind: filter
# packet: zeros 64
# expect: violation:ptr-return
# why: a stack slot written as plain bytes on one path and holding a
# why: spilled pointer on the other. The explored state (bytes of unknown
# why: value) must not cover the one with the pointer: refilled as eight
# why: bytes, the slot gives back the address, which the program returns.
mov %r6, %r1
jge %r2, 54, spill
stw [%r10-8], 1
stw [%r10-4], 1
ja join
spill:
stxdw [%r10-8], %r6
join:
mov %r3, 1
mov %r3, 1
mov %r3, 1
mov %r3, 1
mov %r3, 1
mov %r3, 1
mov %r3, 1
mov %r3, 1
mov %r3, 1
mov %r3, 1
ja j1
j1:
ja j2
j2:
ja j3
j3:
ldxdw %r0, [%r10-8]
exit
