# kind: filter
# map: array arr key=4 value=8 entries=4
# map: hash hash key=8 value=8 entries=15
# packet: 0000000000000000000000000000000000000000000000000000000000000000cdd2bf52a8c66a4b020b0e0d030e0d09000000000000000000000000
# expect: violation:ptr-return
# why: found by FuzzSoundness. "jsle %r3, 0" has nothing ahead whose check
# why: depends on a number, so its operands (and r0 that makes r3) were not
# why: precise; but its taken side returns a pointer. The short packet's
# why: path (r0 = 0, r3 = 0x8000) decides the branch (not taken) and leaves
# why: states that then cover the long packet's path, where r0 comes from
# why: the packet, the shift can make r3 <= 0, and the program returns r6,
# why: the packet's address. A register that may hold a pointer now makes
# why: the instruction that reads it a sink (sinksAhead).
mov %r6, %r1
mov %r7, %r2
mov %r0, 0
jge %r7, 54, L5
ja L6
L5:
ldxdw %r0, [%r6+46]
L6:
mov %r4, %r0
or %r4, 65535
mul32 %r0, %r4
ja L10
L10:
ja L11
L11:
ja L12
L12:
ja L13
L13:
lddw %r3, 0x8000
lsh %r3, %r0
jsle %r3, 0, L18
ja L20
L18:
mov %r0, %r6
exit
L20:
exit
