# kind: xdp
# error: invalid bpf_context access
# why: half of ctx->data.
ldxh %r0, [%r1+0]
exit
