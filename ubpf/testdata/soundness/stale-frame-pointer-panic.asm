# kind: filter
# map: queue q key=0 value=8 entries=4
# packet: zeros 64
# expect: panic
# why: issue 18 item 1: a callee stores a pointer to its own frame through
# why: the caller's stack pointer argument; the caller reads it back after the
# why: callee returned and passes it to map_pop_elem (helper 88). The
# why: verifier indexes st.frames with the dead frame's number and panics
# why: (index out of range), which kills switchd. It must reject the store
# why: (Linux: a pointer to a callee's stack cannot be stored in the caller's
# why: frame) or at least the later use.
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
