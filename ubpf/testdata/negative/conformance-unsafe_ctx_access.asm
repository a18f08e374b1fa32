# kind: xdp
# source: bpf_conformance verifier_tests/unsafe_ctx_access.data
# error: invalid bpf_context access
# why: a byte-sized read inside ctx->data: xdp_md fields are read as u32.
mov %r6, %r1
ldxb %r0, [%r6+2]
exit
