# kind: filter
# map: array arr key=4 value=16 entries=1
# error: invalid access to map value
# why: the index is checked against 16 but an 8-byte load at index 9..15
# why: runs past the value.
mov %r0, 0
jlt %r2, 1, out
ldxb %r3, [%r1+0]
jgt %r3, 9, out
lddw %r4, map_value(0)+0
add %r4, %r3
ldxdw %r0, [%r4+0]
out:
exit
