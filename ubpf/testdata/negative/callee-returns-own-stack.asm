# kind: filter
# error: callee's stack
# why: the frame is gone once the callee returns.
call local f
ldxdw %r0, [%r0+0]
exit
f:
stdw [%r10-8], 1
mov %r0, %r10
add %r0, -8
exit
