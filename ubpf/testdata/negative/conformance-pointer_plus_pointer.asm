# kind: xdp
# source: bpf_conformance verifier_tests/pointer_plus_pointer.data
# error: pointer arithmetic with + operator prohibited
# why: Linux rejects "R6 pointer += pointer" whoever loads it.
mov %r6, %r1
add %r6, %r10
mov %r0, 0
exit
