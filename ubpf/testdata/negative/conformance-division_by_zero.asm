# kind: filter
# source: bpf_conformance verifier_tests/division_by_zero.data
# error: accept
# why: Linux rejects a division by an immediate 0 ("div by zero"); goko
# why: accepts it on purpose: RFC 9669 defines x / 0 = 0 and the VM does so,
# why: so the program is safe (a difference, not a soundness gap).
mov %r0, 1
div %r0, 0
exit
