// lru_counter: counts packets per IPv4 source in an LRU hash, creating
// entries with BPF_NOEXIST and incrementing atomically.
// verdict: accept
// kernel: accept. The key is fully written on the stack, the lookup
// result is null-checked before it is dereferenced, the atomic add is on
// an aligned u64 of the value.
#include "corpus.h"

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 1024);
	__type(key, __u32);
	__type(value, __u64);
} counts SEC(".maps");

SEC("filter")
__u64 lru_counter(void *pkt, __u64 len)
{
	if (len < ETH_HLEN + sizeof(struct ip4))
		return GOKO_NO_MATCH;
	struct ip4 *ip = pkt + ETH_HLEN;
	__u32 src = ip->saddr;
	__u64 *c = bpf_map_lookup_elem(&counts, &src);
	if (!c) {
		__u64 one = 1;
		bpf_map_update_elem(&counts, &src, &one, BPF_NOEXIST);
		return GOKO_NO_MATCH;
	}
	__sync_fetch_and_add(c, 1);
	return *c > 1000;
}
