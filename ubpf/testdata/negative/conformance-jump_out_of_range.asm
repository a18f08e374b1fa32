# kind: filter
# source: bpf_conformance verifier_tests/jump_out_of_range.data (raw ja +32767)
# error: jump out of range
# why: the branch target is outside the program.
# raw: 0x000000007fff0005
# raw: 0x0000000000000095
