# kind: xdp
# source: bpf_conformance verifier_tests/uninitialized_register.data
# error: R7 !read_ok
# why: r7 is read before it is set.
mov %r0, %r7
exit
