# kind: filter
# map: array arr key=4 value=16 entries=1
# packet: zeros 64
# expect: violation:oob
# why: issue 18's misaligned stack read. Two constants are spilled, 0 at
# why: fp-16 and 1 at fp-8; an 8-byte read at fp-12 takes the upper half of
# why: the first and the lower half of the second: 1 << 32. The verifier's
# why: stackRead folds it to bits of the first slot alone (0 >> 32 = 0), so
# why: adding it to a map value pointer looks safe; at run time the access
# why: is 4 GiB past the value.
stdw [%r10-16], 0
stdw [%r10-8], 1
ldxdw %r1, [%r10-12]
lddw %r2, map_value(0)+0
add %r2, %r1
ldxb %r0, [%r2+0]
exit
