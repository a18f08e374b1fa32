# kind: xdp
# error: invalid access to packet
# why: the check proves 20 bytes after r3 = data + 14; the load goes through
# why: r5 = data + 30, 16 bytes further on.
ldxw %r2, [%r1+0]
ldxw %r4, [%r1+4]
mov %r3, %r2
add %r3, 14
mov %r5, %r2
add %r5, 30
mov %r6, %r3
add %r6, 20
mov %r0, 2
jgt %r6, %r4, out
ldxdw %r0, [%r5+0]
out:
exit
