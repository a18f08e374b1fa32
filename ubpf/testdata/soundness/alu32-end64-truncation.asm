# kind: filter
# map: array arr key=4 value=16 entries=1
# packet: zeros 64
# expect: violation:oob
# why: le64 in the 32-bit ALU class is a no-op at run time (r0 stays
# why: 0xfffffffffffffffe), but the verifier truncates the operand of every
# why: 32-bit-class op to 32 bits first, so it believes r0 = 0xfffffffe and
# why: r0 >> 32 = 0; at run time it is 0xffffffff, 4 GiB past the map value.
# why: Found by TestSoundnessRandom (seed 6942), reduced.
mov %r0, -2
le64 %r0
rsh %r0, 32
lddw %r1, map_value(0)+0
add %r1, %r0
ldxb %r0, [%r1+0]
exit
