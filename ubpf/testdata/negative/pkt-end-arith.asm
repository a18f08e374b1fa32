# kind: xdp
# error: pointer arithmetic on pkt_end prohibited
# why: data_end - 8 is not a way to address the packet's last bytes.
ldxw %r2, [%r1+4]
add %r2, -8
ldxdw %r0, [%r2+0]
exit
