// syn_rate: drops sources that send more than 100 SYNs per second,
// keeping a (window start, count) pair per source.
// verdict: accept
// kernel: accept. bpf_ktime_get_ns is allowed; the value struct is
// null-checked and updated in place.
#include "corpus.h"

struct win {
	__u64 start, count;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, __u32);
	__type(value, struct win);
} syns SEC(".maps");

SEC("xdp")
int syn_rate(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data, *end = (void *)(long)ctx->data_end;
	struct ip4 *ip = data + ETH_HLEN;
	struct tcp *tcp = data + ETH_HLEN + 20;
	if ((void *)(tcp + 1) > end || ip->proto != IPPROTO_TCP)
		return XDP_PASS;
	if ((tcp->flags & (TCP_SYN | TCP_ACK)) != TCP_SYN)
		return XDP_PASS;
	__u32 src = ip->saddr;
	__u64 now = bpf_ktime_get_ns();
	struct win *w = bpf_map_lookup_elem(&syns, &src);
	if (!w) {
		struct win n = {now, 1};
		bpf_map_update_elem(&syns, &src, &n, BPF_ANY);
		return XDP_PASS;
	}
	if (now - w->start > 1000000000ull) {
		w->start = now;
		w->count = 0;
	}
	w->count++;
	return w->count > 100 ? XDP_DROP : XDP_PASS;
}
