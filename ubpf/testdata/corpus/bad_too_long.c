// bad_too_long: a loop of two million iterations.
// verdict: reject too complex
// kernel: reject: the verifier follows every iteration (the counter is
// exact) and stops at 1,000,000 processed instructions ("BPF program is
// too large").
#include "corpus.h"

SEC("filter")
__u64 bad_too_long(void *pkt, __u64 len)
{
	__u64 x = len;
	for (__u32 i = 0; i < 2000000; i++) {
		x = x * 31 + i;
		asm volatile("" : "+r"(x));
	}
	return x & 1;
}
