// signed_off: reads a signed 8-bit offset from the packet, checks it with
// "off < 0 || off > 40" on an int, then checks the bytes it reads against
// the length. Built as v3 (the range check is 32-bit: JMP32 s< and s>),
// v2 and v1 (64-bit compares of the sign-extended value).
// verdict: accept
// verdict-v2: accept
// verdict-v1: accept
// kernel: accept in all three builds (for the data_end twin). On v3 the
// JMP32 checks bound the 32-bit subregister to [0, 40]; the value came
// from a sign extension, so Linux's reg_bounds_sync carries the bound to
// the 64-bit register and pkt + off is bounded. issue 12: goko tracks only
// 64-bit bounds and rejects the v3 build ("math between pkt pointer and
// register with unbounded min value").
#include "corpus.h"

SEC("filter")
__u64 signed_off(void *pkt, __u64 len)
{
	if (len < 64)
		return GOKO_NO_MATCH;
	int off = *(__s8 *)(pkt + 20);
	if (off < 0 || off > 40)
		return GOKO_NO_MATCH;
	if (off + 22 > len)
		return GOKO_NO_MATCH;
	return *(__u8 *)(pkt + off + 21) == 0x42;
}
