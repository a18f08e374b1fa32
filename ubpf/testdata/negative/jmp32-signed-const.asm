# kind: filter
# error: leaks addr
# bug: jmp32-const-bypass
# why: issue 18's bypass: the verifier decides "if r3 s> 0" is never taken
# why: after "if w3 s< 0", so it never sees the pointer return.
mov32 %r3, 0x80000000
jslt32 %r3, 0, +0
jsgt %r3, 0, evil
mov %r0, 0
exit
evil:
mov %r0, %r10
exit
