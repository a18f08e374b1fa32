# kind: xdp
# source: bpf_conformance verifier_tests/unknown_helper.data
# error: invalid func unknown#1000000
# why: no helper has that number.
call 1000000
exit
