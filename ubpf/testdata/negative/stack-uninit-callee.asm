# kind: filter
# error: uninitialised
# why: a callee's frame starts unwritten: what the previous callee left at
# why: fp-8 is not this call's.
call local f
call local g
exit
f:
stdw [%r10-8], 42
mov %r0, 0
exit
g:
ldxdw %r0, [%r10-8]
exit
