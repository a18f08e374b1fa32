# kind: filter
# packet: zeros 64
# expect: violation:stale-stack
# why: as stale-frame-pointer-panic.asm, but the caller dereferences the
# why: dead frame's pointer itself: it reads what the next call left there.
stdw [%r10-8], 0
mov %r1, %r10
add %r1, -8
call local f
ldxdw %r2, [%r10-8]
ldxdw %r0, [%r2+0]
exit
f:
stdw [%r10-8], 5
mov %r3, %r10
add %r3, -8
stxdw [%r1+0], %r3
mov %r0, 0
exit
