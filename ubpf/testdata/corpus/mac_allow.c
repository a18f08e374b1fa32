// mac_allow: passes frames whose source MAC is in a hash map; the 6-byte
// address is copied into an 8-byte key with its padding zeroed.
// verdict: accept
// kernel: accept. The whole 8-byte key is written before the lookup.
#include "corpus.h"

struct mac_key {
	__u8 addr[6];
	__u16 pad;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 256);
	__type(key, struct mac_key);
	__type(value, __u8);
} macs SEC(".maps");

SEC("xdp")
int mac_allow(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data, *end = (void *)(long)ctx->data_end;
	struct eth *eth = data;
	if ((void *)(eth + 1) > end)
		return XDP_PASS;
	struct mac_key k = {};
	__builtin_memcpy(k.addr, eth->src, 6);
	return bpf_map_lookup_elem(&macs, &k) ? XDP_PASS : XDP_DROP;
}
