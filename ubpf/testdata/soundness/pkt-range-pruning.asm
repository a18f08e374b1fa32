# kind: xdp
# packet: zeros 0
# expect: violation:oob
# why: the packet range a comparison proves is kept per id in the state
# why: (vstate.pkt), and id 0 (data + constant) is shared by every pointer
# why: loaded from ctx->data later. At the join after "if r8 < r4 goto +0"
# why: the fall-through state (79 bytes proven) is verified first; the taken
# why: state (nothing proven) is then pruned as covered, because covers()
# why: compares packet ranges only through live registers holding packet
# why: pointers, and none is live there. The reloaded data pointer then
# why: reads byte 0 of an empty packet. Found by TestSoundnessRandom (seed
# why: 58534), minimised.
mov %r6, %r1
ldxw %r7, [%r6+0]
ldxw %r8, [%r6+4]
mov %r4, %r7
add %r4, 79
jlt %r8, %r4, +0
ldxw %r4, [%r6+0]
ldxb %r0, [%r4+0]
exit
