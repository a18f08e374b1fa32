# kind: xdp
# source: bpf_conformance verifier_tests/unknown_opcode.data (raw opcode 0x00)
# error: unknown ld opcode
# why: 0x00 is no instruction.
# raw: 0x0000000000000000
# raw: 0x0000000000000095
