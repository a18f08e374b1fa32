# kind: filter
# map: array arr key=4 value=8 entries=1
# error: pointer stored into map_value
# why: the host and other programs read map values: no addresses in them.
lddw %r1, map_value(0)+0
stxdw [%r1+0], %r10
mov %r0, 0
exit
