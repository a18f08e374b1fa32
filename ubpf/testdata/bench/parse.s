# A 62-instruction Ethernet/IPv4/UDP parse filter: optional VLAN tag, IPv4
# version, header length, fragments, protocol, TTL, total length, source
# 10/8, destination not zero, multicast or the source, UDP ports and
# length; matches UDP to ports 53, 5353 and 123. 57 instructions run on a
# matching packet without VLAN tag (BenchmarkEngineParse).
mov %r0, 0
jlt %r2, 42, out
ldxh %r3, [%r1+12]
mov %r4, 14
jne %r3, 0x81, novlan
jlt %r2, 46, out
ldxh %r3, [%r1+16]
mov %r4, 18
novlan:
jne %r3, 0x8, out
mov %r5, %r1
add %r5, %r4
ldxb %r6, [%r5]
mov %r7, %r6
rsh %r7, 4
jne %r7, 4, out
and %r6, 0xf
jlt %r6, 5, out
lsh %r6, 2
ldxh %r7, [%r5+6]
and %r7, 0xff3f
jne %r7, 0, out
ldxb %r7, [%r5+9]
jne %r7, 17, out
ldxb %r7, [%r5+8]
jeq %r7, 0, out
ldxh %r8, [%r5+2]
be16 %r8
jlt %r8, 28, out
ldxw %r8, [%r5+12]
mov %r9, %r8
and %r9, 0xff
jne %r9, 10, out
ldxw %r9, [%r5+16]
jeq %r9, 0, out
jeq %r9, %r8, out
mov %r3, %r9
and %r3, 0xf0
jeq %r3, 0xe0, out
mov %r3, %r4
add %r3, %r6
mov %r7, %r3
add %r7, 8
jgt %r7, %r2, out
mov %r5, %r1
add %r5, %r3
ldxh %r7, [%r5+2]
be16 %r7
jeq %r7, 0, out
ldxh %r8, [%r5]
be16 %r8
jeq %r8, 0, out
ldxh %r9, [%r5+4]
be16 %r9
jlt %r9, 8, out
mov %r8, %r2
sub %r8, %r3
jgt %r9, %r8, out
jeq %r7, 53, match
jeq %r7, 5353, match
jne %r7, 123, out
match:
mov %r0, 1
out:
exit
