# kind: xdp
# error: invalid mem access 'scalar'
# why: the difference of two pointers is a number, not a pointer.
ldxw %r2, [%r1+0]
ldxw %r3, [%r1+4]
sub %r3, %r2
ldxb %r0, [%r3+0]
exit
