// lpm_allow: passes IPv4 packets whose source is in an LPM trie.
// verdict: accept
// kernel: accept. The LPM key (prefix length and address) is fully
// written on the stack; the result is null-checked.
#include "corpus.h"

struct lpm_key {
	__u32 prefixlen;
	__u32 addr;
};

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, 256);
	__type(key, struct lpm_key);
	__type(value, __u32);
	__uint(map_flags, BPF_F_NO_PREALLOC);
} allow SEC(".maps");

SEC("xdp")
int lpm_allow(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data, *end = (void *)(long)ctx->data_end;
	struct eth *eth = data;
	struct ip4 *ip = data + ETH_HLEN;
	if ((void *)(ip + 1) > end || eth->proto != bpf_htons(ETH_P_IP))
		return XDP_PASS;
	struct lpm_key k = {32, ip->saddr};
	__u32 *v = bpf_map_lookup_elem(&allow, &k);
	return v && *v ? XDP_PASS : XDP_DROP;
}
