# kind: filter
# map: array arr key=4 value=8 entries=1
# packet: zeros 64
# expect: violation:ptr-store
# why: r10 is spilled to fp-8 and map_update_elem copies that slot into the
# why: map value: the address reaches memory the host and other programs
# why: read, which a direct store of the pointer is rejected for. memArg
# why: checks only that the stack bytes a helper reads are initialised, and
# why: a pointer spill counts as initialised. (Linux rejects it for
# why: unprivileged loaders; issue 18 asks that no pointer reach a map.)
stxdw [%r10-8], %r10
stw [%r10-12], 0
lddw %r1, map(0)
mov %r2, %r10
add %r2, -12
mov %r3, %r10
add %r3, -8
mov %r4, 0
call 2
mov %r0, 0
exit
