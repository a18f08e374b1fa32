# kind: xdp
# source: bpf_conformance verifier_tests/unsafe_ctx_read.data
# error: invalid bpf_context access
# why: as unsafe_ctx_access: a narrow read of a pointer field.
mov %r6, %r1
ldxb %r0, [%r6+2]
exit
