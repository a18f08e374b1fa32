# kind: xdp
# error: leaks addr
# why: ctx->data as the XDP action.
ldxw %r0, [%r1+0]
exit
