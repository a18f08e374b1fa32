# kind: filter
# map: array arr key=4 value=16 entries=1
# packet: zeros 64
# expect: violation:oob
# why: a 4-byte read at fp-9 of two spilled constants (1 at fp-16, 7 at
# why: fp-8) is byte 7 of the first and bytes 0-2 of the second: 0x700. The
# why: verifier folds it from the first slot only (1 >> 56 = 0). Found by
# why: TestSoundnessRandom (seed 848), minimised.
lddw %r5, 7
stxdw [%r10-8], %r5
stdw [%r10-16], 1
ldxw %r0, [%r10-9]
lddw %r2, map_value(0)+0
add %r2, %r0
stw [%r2+0], 50
exit
