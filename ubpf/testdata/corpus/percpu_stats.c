// percpu_stats: per-CPU packet and byte counters indexed by IP protocol
// class (TCP, UDP, ICMP, other).
// verdict: accept
// kernel: accept. The index is one of four constants, the lookup result
// is null-checked, the value is a per-CPU struct of two u64.
#include "corpus.h"

struct stat {
	__u64 packets, bytes;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, struct stat);
} stats SEC(".maps");

SEC("xdp")
int percpu_stats(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data, *end = (void *)(long)ctx->data_end;
	struct ip4 *ip = data + ETH_HLEN;
	__u32 k = 3;
	if ((void *)(ip + 1) <= end) {
		if (ip->proto == IPPROTO_TCP)
			k = 0;
		else if (ip->proto == IPPROTO_UDP)
			k = 1;
		else if (ip->proto == IPPROTO_ICMP)
			k = 2;
	}
	struct stat *s = bpf_map_lookup_elem(&stats, &k);
	if (s) {
		s->packets++;
		s->bytes += end - data;
	}
	return XDP_PASS;
}
