# kind: filter
# map: array arr key=4 value=8 entries=1
# error: leaks addr into mem
# why: an atomic exchange stores its operand too.
lddw %r1, map_value(0)+0
mov %r2, %r10
atomic_xchg [%r1+0], %r2
mov %r0, 0
exit
