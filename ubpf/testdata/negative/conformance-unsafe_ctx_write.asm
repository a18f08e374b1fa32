# kind: xdp
# source: bpf_conformance verifier_tests/unsafe_ctx_write.data
# error: cannot write into ctx
# why: a store into xdp_md.
mov %r6, %r1
stw [%r6+0], 0
mov %r0, 0
exit
