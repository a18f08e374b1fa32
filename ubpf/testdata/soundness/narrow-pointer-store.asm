# kind: filter
# map: array arr key=4 value=8 entries=1
# packet: zeros 64
# expect: violation:ptr-store
# why: a 4-byte store of r10 into a map value: the low half of the frame
# why: pointer (the stack address) becomes readable by the host and by any
# why: program using the map. step() replaces the stored value of a narrow
# why: STX by an unknown scalar before access() checks for pointers. Found by
# why: TestSoundnessRandom (seed 3388), minimised.
lddw %r1, map_value(0)+0
stxw [%r1+0], %r10
mov %r0, 0
exit
