# kind: filter
# error: invalid access to packet
# why: the length check compares a constant with a copy of a packet byte,
# why: not with the length argument.
mov %r0, 0
jlt %r2, 1, out
ldxb %r3, [%r1+0]
jlt %r3, 40, out
ldxb %r0, [%r1+39]
out:
exit
