# kind: filter
# error: invalid mem access 'pkt_end'
# why: pkt + len is the end of the packet, not a pointer into it: reading
# why: there is one byte too far.
mov %r3, %r1
add %r3, %r2
ldxb %r0, [%r3+0]
exit
