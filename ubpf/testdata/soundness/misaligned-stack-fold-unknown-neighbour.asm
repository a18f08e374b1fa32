# kind: filter
# map: array arr key=4 value=48 entries=1
# packet: zeros 64
# expect: violation:oob
# why: the fold also takes bytes of a neighbouring slot that holds an
# why: unknown number (the packet length): 0 is spilled at fp-64, len at
# why: fp-56, and an 8-byte read at fp-61 is 0 for the verifier but len << 24
# why: at run time. Found by TestSoundnessRandom (seed 385874), minimised.
mov32 %r8, 0
stxdw [%r10-56], %r2
stxdw [%r10-64], %r8
ldxdw %r3, [%r10-61]
lddw %r1, map_value(0)+0
add %r1, %r3
ldxb %r0, [%r1+0]
exit
