# kind: xdp
# source: bpf_conformance verifier_tests/scalar_dereference.data
# error: invalid mem access 'scalar'
# why: a number used as the base of a load.
mov %r1, 0
ldxdw %r0, [%r1+0]
exit
