# kind: filter
# map: array arr key=4 value=8 entries=1
# error: pointer arithmetic on map_ptr prohibited
# why: a map handle is not memory.
lddw %r1, map(0)
add %r1, 8
ldxdw %r0, [%r1+0]
exit
