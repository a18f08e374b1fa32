# kind: xdp
# source: bpf_conformance verifier_tests/unreachable_code.data
# error: unreachable insn
# why: the jump skips three lddw that nothing else reaches.
lddw %r0, 0
ja done
lddw %r0, 1
lddw %r0, 2
lddw %r0, 3
done:
exit
