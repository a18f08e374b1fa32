# kind: xdp
# source: bpf_conformance verifier_tests/uninitialized_stack_read.data
# error: uninitialised
# why: fp-8 is never written. (Linux accepts this for CAP_PERFMON loaders;
# why: goko rejects it whoever loads it, issue 18 item 3.)
ldxdw %r0, [%r10-8]
exit
