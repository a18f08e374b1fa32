# kind: filter
# error: invalid stack access
# why: r10 - 8 plus a value up to 15: the write can land past the frame.
mov %r0, 0
jlt %r2, 1, out
ldxb %r3, [%r1+0]
and %r3, 15
mov %r4, %r10
add %r4, -8
add %r4, %r3
stb [%r4+0], 1
out:
exit
