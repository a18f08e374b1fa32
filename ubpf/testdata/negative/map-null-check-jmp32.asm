# kind: filter
# map: hash h key=4 value=8 entries=4
# error: map_value_or_null
# why: "if w0 == 0" tests the low half only: a 32-bit compare is no null
# why: check (a value at region << 32 | 0 has a zero low half).
stw [%r10-4], 0
lddw %r1, map(0)
mov %r2, %r10
add %r2, -4
call 1
jeq32 %r0, 0, out
ldxdw %r0, [%r0+0]
exit
out:
mov %r0, 0
exit
