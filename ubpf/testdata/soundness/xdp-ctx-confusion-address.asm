# kind: xdp
# packet: zeros 64
# expect: result
# why: as xdp-ctx-confusion.asm, but the path that reads ingress_ifindex (a
# why: 32-bit number, so r2 >> 32 = 0 for the verifier) gets the packet
# why: pointer from the rewritten load: the program returns address bits
# why: (the packet's region number, 3).
mov %r6, %r1
mov %r2, %r6
add %r2, 12
ldxw %r3, [%r6+16]
jeq %r3, 1, use
mov %r2, %r6
use:
ldxw %r2, [%r2+0]
rsh %r2, 32
mov %r0, %r2
exit
