# kind: xdp
# source: bpf_conformance verifier_tests/context_write.data; its harness keeps ctx in r6
# error: cannot write into ctx
# why: XDP programs may read some xdp_md fields but never write the context.
mov %r6, %r1
stw [%r6+0], 0
mov %r0, 0
exit
