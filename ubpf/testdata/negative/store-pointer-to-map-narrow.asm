# kind: filter
# map: array arr key=4 value=8 entries=1
# error: pointer stored into map_value
# bug: narrow-pointer-store
# why: the low half of r10 stored with a 4-byte store.
lddw %r1, map_value(0)+0
stxw [%r1+0], %r10
mov %r0, 0
exit
