# kind: xdp
# error: leaks addr
# why: the context pointer as the XDP action.
mov %r0, %r1
exit
