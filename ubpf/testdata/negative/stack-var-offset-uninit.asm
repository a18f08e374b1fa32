# kind: filter
# error: uninitialised
# why: a read at fp-16 + [0, 7] of which only fp-16..fp-9 was written: the
# why: 8-byte read can include fp-8..fp-2.
stdw [%r10-16], 7
mov %r0, 0
jlt %r2, 1, out
ldxb %r3, [%r1+0]
and %r3, 7
mov %r4, %r10
add %r4, -16
add %r4, %r3
ldxdw %r0, [%r4+0]
out:
exit
