# kind: filter
# map: array arr key=4 value=16 entries=1
# error: invalid access to map value
# why: a map value pointer plus a packet byte never compared with the value
# why: size (16).
mov %r0, 0
jlt %r2, 1, out
ldxb %r3, [%r1+0]
lddw %r4, map_value(0)+0
add %r4, %r3
ldxb %r0, [%r4+0]
out:
exit
