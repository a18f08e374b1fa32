# kind: xdp
# error: variable ctx
# why: context fields are rewritten per instruction, so their offset must be
# why: a constant.
ldxw %r2, [%r1+16]
and %r2, 4
add %r1, %r2
ldxw %r0, [%r1+0]
exit
