# kind: xdp
# packet: zeros 64
# expect: result
# why: issue 18's context confusion. One load is reached with ctx+16
# why: (rx_queue_index) on one path and ctx+0 (data) on the other. The
# why: verifier records one rewrite per instruction (ctxAnn), from the path it
# why: checked last, so the VM runs the load as "ctx->data" on both paths:
# why: on the rx_queue_index path the program gets the low half of the packet
# why: address (0) instead of the queue number (1 in the test).
mov %r6, %r1
mov %r2, %r6
add %r2, 16
ldxw %r3, [%r6+12]
jeq %r3, 3, use
mov %r2, %r6
use:
ldxw %r2, [%r2+0]
mov32 %r0, %r2
exit
