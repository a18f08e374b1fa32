# kind: filter
# error: pointer arithmetic with & operator prohibited
# why: masking a pointer ("align it down") makes it a number in goko.
stdw [%r10-16], 1
mov %r2, %r10
add %r2, -12
and %r2, -8
ldxdw %r0, [%r2+0]
exit
