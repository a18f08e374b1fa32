# kind: filter
# map: ringbuf rb key=0 value=0 entries=4096
# error: invalid mem access
# why: the record belongs to the consumer once submitted.
lddw %r1, map(0)
mov %r2, 8
mov %r3, 0
call 131
jeq %r0, 0, out
mov %r6, %r0
mov %r1, %r6
mov %r2, 0
call 132
stdw [%r6+0], 1
out:
mov %r0, 0
exit
