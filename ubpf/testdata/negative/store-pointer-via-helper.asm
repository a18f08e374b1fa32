# kind: filter
# map: array arr key=4 value=8 entries=1
# error: pointer
# bug: helper-copies-spilled-pointer
# why: map_update_elem copies a stack slot that holds a spilled pointer into
# why: the map value: the same leak as storing it directly.
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
