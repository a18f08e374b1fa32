// global_config: reads a threshold from a const volatile global (.rodata,
// set by the loader) and counts in a global (.bss).
// verdict: accept
// kernel: accept. Globals are single-element array maps accessed through
// direct value addresses (lddw src 2) at constant offsets.
#include "corpus.h"

const volatile __u32 min_len = 100;
__u64 seen;

SEC("filter")
__u64 global_config(void *pkt, __u64 len)
{
	__sync_fetch_and_add(&seen, 1);
	return len >= min_len;
}
