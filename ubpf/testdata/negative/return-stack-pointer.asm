# kind: filter
# error: leaks addr
# why: the frame pointer as the verdict.
mov %r0, %r10
exit
