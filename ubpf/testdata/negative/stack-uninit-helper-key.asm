# kind: filter
# map: hash h key=8 value=8 entries=4
# error: uninitialised
# why: half of an 8-byte key is never written.
stw [%r10-8], 1
lddw %r1, map(0)
mov %r2, %r10
add %r2, -8
call 1
mov %r0, 0
exit
