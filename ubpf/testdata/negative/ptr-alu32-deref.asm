# kind: filter
# error: 32-bit pointer arithmetic prohibited
# why: 32-bit arithmetic on a pointer keeps only its low half: a number.
mov %r2, %r10
add32 %r2, -8
stdw [%r10-8], 1
ldxdw %r0, [%r2+0]
exit
