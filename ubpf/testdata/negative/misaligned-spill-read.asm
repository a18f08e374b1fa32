# kind: filter
# map: array arr key=4 value=16 entries=1
# error: map_value
# bug: misaligned-stack-fold
# why: issue 18's misaligned stack read: a read across two spilled
# why: constants used as a map value offset.
stdw [%r10-16], 0
stdw [%r10-8], 1
ldxdw %r1, [%r10-12]
lddw %r2, map_value(0)+0
add %r2, %r1
ldxb %r0, [%r2+0]
exit
