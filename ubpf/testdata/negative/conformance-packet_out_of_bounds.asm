# kind: xdp
# source: bpf_conformance verifier_tests/packet_out_of_bounds.data; its harness proves one byte at data (done here)
# error: invalid access to packet
# why: one byte is proven, eight are read.
ldxw %r2, [%r1+0]
ldxw %r3, [%r1+4]
mov %r0, 2
mov %r4, %r2
add %r4, 1
jgt %r4, %r3, out
ldxdw %r0, [%r2+0]
out:
exit
