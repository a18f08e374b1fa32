# kind: filter
# map: array arr key=4 value=8 entries=1
# error: leaks addr
# why: a map value's address as the verdict.
lddw %r0, map_value(0)+0
exit
