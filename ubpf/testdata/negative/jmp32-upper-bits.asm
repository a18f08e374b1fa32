# kind: filter
# error: unbounded
# why: "if w1 > 7" bounds the low half only; r1 has bit 32 set, so r10 - 16
# why: + r1 is 4 GiB past the frame.
mov %r0, 0
jlt %r2, 1, out
ldxb %r1, [%r1+0]
lddw %r3, 0x100000000
or %r1, %r3
jgt32 %r1, 7, out
mov %r4, %r10
add %r4, -16
add %r4, %r1
stb [%r4+0], 1
out:
exit
