# kind: filter
# map: queue q key=0 value=8 entries=4
# error: frame
# bug: stale-frame-pointer-panic
# why: issue 18 item 1: as stale-frame-pointer-deref, but the dead frame's
# why: pointer goes to map_pop_elem; today the verifier panics.
stdw [%r10-8], 0
mov %r1, %r10
add %r1, -8
call local f
ldxdw %r2, [%r10-8]
lddw %r1, map(0)
call 88
mov %r0, 0
exit
f:
mov %r3, %r10
add %r3, -8
stxdw [%r1+0], %r3
mov %r0, 0
exit
