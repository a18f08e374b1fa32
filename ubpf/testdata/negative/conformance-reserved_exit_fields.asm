# kind: filter
# source: bpf_conformance verifier_tests/reserved_exit_fields.data (raw exit with dst_reg = 1)
# error: R0 !read_ok
# why: BPF_EXIT reserves its register fields (Linux: "BPF_EXIT uses reserved
# why: fields"). goko rejects the program because r0 is never set (the mov
# why: writes r1); it does not check exit's reserved dst field, which
# why: verifier.go checkInsn could (structure, not safety).
# raw: 0x00000000000001b7
# raw: 0x0000000000000195
