# Found by FuzzSoundness (input a82cf92fc57d8571): verifying this 150-instruction
# generated filter takes about 17 s for 200,000 processed instructions
# (the default budget of 1,000,000 would take over a minute). Profile: 80% in
# vstate.clone copying the packet facts (vstate.pkt), which grow with every
# new id a comparison proves a range for and are never trimmed, and 10% in
# the linear pktRange scan: verification time grows quadratically.
# kind: filter
# map: array arr key=4 value=24 entries=6
mov %r6, %r1
mov %r7, %r2
stdw [%r10-40], -128
mov %r1, -1
stxdw [%r10-8], %r1
jsgt32 %r1, 2147483647, L7
ja L8
L7:
stb [%r6+0], 1
L8:
arsh %r1, 53
stxw [%r10-8], %r1
lddw %r1, map(0)
mov %r2, %r10
add %r2, -8
call 1
mov %r9, %r0
jeq %r9, 0, L23
mov32 %r9, 32766
jge %r9, 23, L22
mov %r5, %r0
add %r5, %r9
ldxh %r5, [%r5+0]
L22:
ldxb %r2, [%r0+6]
L23:
mov %r9, 64
mov %r9, 0
L25:
rsh %r9, %r9
sub32 %r9, 1
lddw %r0, 0x180000000
add %r9, %r0
rsh %r0, 39
jeq %r9, %r0, L59
mov %r5, 0
jlt %r7, 15, L35
ldxb %r5, [%r6+14]
L35:
mov %r3, 0
jgt %r5, 15, L43
mov %r0, %r5
add %r0, 4
jsgt %r0, %r7, L43
mov %r1, %r6
add %r1, %r5
ldxw %r3, [%r1+0]
L43:
mov %r2, 0
jle %r7, 39, L46
ldxdw %r2, [%r6+32]
L46:
mov %r1, %r2
stxw [%r10-16], %r1
lddw %r1, map(0)
mov %r2, %r10
add %r2, -16
call 1
jeq %r0, 0, L59
mov %r3, 0
jslt %r7, 22, L57
ldxh %r3, [%r6+20]
L57:
mov %r8, %r3
atomic_add [%r0+0], %r8
L59:
add %r9, 2
jne %r9, 14, L25
mov %r0, 60
add %r0, 52
lddw %r3, 0x7fff
lsh %r3, 63
add %r0, %r9
mul %r9, 512
mov %r5, 255
or %r5, %r9
xor %r3, -2147483648
jgt %r9, 46, L76
mov %r8, %r10
add %r8, -48
add %r8, %r9
sth [%r8+0], 8
L76:
ldabsh 0
mov %r8, 2147483647
movsx16 %r8, %r8
mod %r0, 59
mod %r0, 37
add32 %r9, 39
stdw [%r10-112], 0
atomic_cmpxchg [%r10-112], %r8
ldabsb 36
stw [%r10-32], 0
lddw %r1, map(0)
mov %r2, %r10
add %r2, -32
call 1
jeq %r0, 0, L96
stxb [%r0+5], %r8
ldxw %r3, [%r0+4]
add32 %r3, 1
stxw [%r0+4], %r3
L96:
neg32 %r8
smod32 %r9, %r9
mov %r9, 0
L99:
mov %r5, %r10
add %r5, -16
add %r5, %r9
sth [%r5+0], 17
mov %r0, 0
jlt %r7, 28, L106
ldxh %r0, [%r6+26]
L106:
mov %r3, %r0
add %r9, %r3
mov %r4, 1
sub %r9, %r4
and %r0, %r9
add %r9, 1
jne %r9, 5, L99
stxw [%r10-24], %r8
lddw %r1, map(0)
mov %r2, %r10
add %r2, -24
call 1
jeq %r0, 0, L128
ldxb %r5, [%r0+20]
mov %r4, 8
jsgt32 %r4, 16, L127
jslt32 %r4, 0, L127
mov %r1, %r0
add %r1, %r4
ldxdw %r1, [%r1+0]
L127:
ldxb %r2, [%r0+2]
L128:
mov %r1, 0
mov %r5, 38
jlt %r7, %r5, L132
ldxh %r1, [%r6+36]
L132:
lddw %r3, 0x38
jne32 %r3, -2147483648, L136
mov %r2, 0
L136:
jsge %r3, 0, L138
ja L139
L138:
ldindw %r3, 4
L139:
mov32 %r0, 2
exit
