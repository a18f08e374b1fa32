// ttl_hist: counts packets per TTL in an array map of 256 entries, keyed
// by the TTL byte.
// verdict: accept
// kernel: accept. The key is a u8 widened to u32, always a valid index;
// the lookup is null-checked anyway (arrays can still return NULL for an
// index out of range, and the verifier does not know the key).
#include "corpus.h"

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 256);
	__type(key, __u32);
	__type(value, __u64);
} ttls SEC(".maps");

SEC("filter")
__u64 ttl_hist(void *pkt, __u64 len)
{
	if (len < ETH_HLEN + 20)
		return GOKO_NO_MATCH;
	struct ip4 *ip = pkt + ETH_HLEN;
	__u32 k = ip->ttl;
	__u64 *c = bpf_map_lookup_elem(&ttls, &k);
	if (c)
		__sync_fetch_and_add(c, 1);
	return k < 2;
}
