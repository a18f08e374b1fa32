# kind: filter
# map: hash h key=4 value=8 entries=4
# error: invalid access to map value
# why: one byte before a looked-up value.
stw [%r10-4], 0
lddw %r1, map(0)
mov %r2, %r10
add %r2, -4
call 1
jeq %r0, 0, out
ldxb %r0, [%r0-1]
out:
mov %r0, 0
exit
