# kind: filter
# source: bpf_conformance verifier_tests/misaligned_stack_access.data
# error: invalid stack access
# why: an 8-byte store at fp-4 runs past the frame (Linux: "invalid write to
# why: stack R10 off=-4 size=8").
mov %r0, 1
stxdw [%r10-4], %r0
exit
