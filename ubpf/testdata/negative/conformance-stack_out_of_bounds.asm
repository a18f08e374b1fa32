# kind: xdp
# source: bpf_conformance verifier_tests/stack_out_of_bounds.data
# error: invalid stack access
# why: r10+0 is just past the frame.
stdw [%r10+0], 0
mov %r0, 0
exit
