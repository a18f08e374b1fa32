// icmp_echo: docs/writing-filters.md's bigping: matches small ICMP echo
// requests, counting both kinds per source in a hash map and reading the
// limit from an array.
// verdict: accept
// kernel: accept. The ICMP offset (14 + ihl*4) is bounded and checked;
// map results are null-checked; a new entry is made from a zeroed struct.
#include "corpus.h"

struct counts {
	__u64 small, big;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, __u32);
	__type(value, struct counts);
} pings SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} config SEC(".maps");

SEC("filter")
__u64 icmp_echo(void *pkt, __u64 len)
{
	if (len < ETH_HLEN + sizeof(struct ip4))
		return GOKO_NO_MATCH;
	struct eth *eth = pkt;
	struct ip4 *ip = pkt + ETH_HLEN;
	if (eth->proto != bpf_htons(ETH_P_IP) || ip->proto != IPPROTO_ICMP)
		return GOKO_NO_MATCH;
	__u64 off = ETH_HLEN + (ip->vihl & 0xf) * 4;
	if (off + sizeof(struct icmp) > len)
		return GOKO_NO_MATCH;
	struct icmp *icmp = pkt + off;
	if (icmp->type != 8)
		return GOKO_NO_MATCH;
	__u32 payload = bpf_ntohs(ip->tot_len) - (ip->vihl & 0xf) * 4 - sizeof(*icmp);
	__u32 max = 1000, zero = 0;
	__u32 *cfg = bpf_map_lookup_elem(&config, &zero);
	if (cfg && *cfg)
		max = *cfg;
	__u32 src = ip->saddr;
	struct counts *c = bpf_map_lookup_elem(&pings, &src);
	if (!c) {
		struct counts fresh = {};
		bpf_map_update_elem(&pings, &src, &fresh, BPF_NOEXIST);
		c = bpf_map_lookup_elem(&pings, &src);
		if (!c)
			return GOKO_NO_MATCH;
	}
	if (payload > max) {
		__sync_fetch_and_add(&c->big, 1);
		return GOKO_NO_MATCH;
	}
	__sync_fetch_and_add(&c->small, 1);
	return GOKO_MATCH;
}
