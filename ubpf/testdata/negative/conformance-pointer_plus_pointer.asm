# kind: xdp
# source: bpf_conformance verifier_tests/pointer_plus_pointer.data
# error: accept
# why: Linux rejects "R6 pointer += pointer" whoever loads it; goko turns
# why: the sum into an unknown number (as it does for any arithmetic on a
# why: pointer other than adding or subtracting a number) and accepts the
# why: program, which never uses it: listed in knownLax.
mov %r6, %r1
add %r6, %r10
mov %r0, 0
exit
