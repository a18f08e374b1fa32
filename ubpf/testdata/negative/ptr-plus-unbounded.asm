# kind: filter
# error: unbounded
# why: a stack pointer plus a number the verifier knows nothing about.
call 5
mov %r2, %r10
add %r2, %r0
ldxb %r0, [%r2-1]
exit
