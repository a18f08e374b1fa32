# kind: filter
# packet: zeros 64
# expect: violation:ptr-return
# why: issue 18's JMP32 bypass. w3 = 0x80000000 zero-extends: r3 = 2147483648.
# why: "if w3 s< 0 goto +0" is taken (the low half is negative as a signed
# why: 32-bit number) and the verifier copies that signed 32-bit bound into
# why: r3's 64-bit bounds, so r3 would be negative, which contradicts its
# why: unsigned value; the state is infeasible but jump() keeps following it,
# why: and "if r3 s> 0" then looks never taken. At run time r3 = 2^31 > 0, so
# why: the unverified code runs and returns r10: an address leak.
mov32 %r3, 0x80000000
jslt32 %r3, 0, +0
jsgt %r3, 0, evil
mov %r0, 0
exit
evil:
mov %r0, %r10
exit
