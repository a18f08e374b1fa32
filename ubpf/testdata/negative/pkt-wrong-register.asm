# kind: xdp
# error: pointer comparison prohibited
# why: data + 14 is compared with a number loaded from the context
# why: (ingress_ifindex), not with data_end: nothing is proven.
ldxw %r2, [%r1+0]
ldxw %r4, [%r1+12]
mov %r3, %r2
add %r3, 14
mov %r0, 2
jgt %r3, %r4, out
ldxb %r0, [%r2+13]
out:
exit
